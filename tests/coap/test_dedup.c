/* test_dedup.c - message deduplication (src/coap/dedup.c, RFC 7252 4.5):
 * per peer, bounded, with a fake clock. */
#include "coap/coap_test_util.h"

static int calls;

/* Bytes of the payload of "big": with its header about 500 bytes, so two
 * such replies fill most of a peer's 1280 bytes of reply area. */
#define T_BIG_PAYLOAD 480

/* Peer number n of up to 65536 (t_peer has 255): 10.0.hi.lo. */
static coaps_peer peer16(uint16_t n)
{
    coaps_peer p = t_peer(0);
    p.addr[0] = 10;
    p.addr[2] = (uint8_t)(n >> 8);
    p.addr[3] = (uint8_t)n;
    return p;
}

static coaps_status counter_post(void *user, const coaps_coap_request *req,
                                 coaps_coap_response *resp)
{
    (void)user;
    (void)req;
    calls++;
    char b[16];
    int n = snprintf(b, sizeof b, "n=%d", calls);
    return coaps_coap_response_set_payload(resp, b, (size_t)n);
}

/* A POST whose reply is T_BIG_PAYLOAD bytes of payload, the call count
 * first (so each reply differs). */
static coaps_status big_post(void *user, const coaps_coap_request *req, coaps_coap_response *resp)
{
    (void)user;
    (void)req;
    calls++;
    char b[T_BIG_PAYLOAD];
    memset(b, 'x', sizeof b);
    snprintf(b, 16, "n=%d;", calls);
    return coaps_coap_response_set_payload(resp, b, sizeof b);
}

static coaps_coap_endpoint *server(const coaps_coap_config *c, void **mem)
{
    coaps_coap_endpoint *ep = t_endpoint(c, mem);
    coaps_coap_resource_def d;
    coaps_coap_resource_def_init(&d, "c");
    d.handler[COAPS_COAP_POST] = counter_post;
    assert_int_equal(coaps_coap_resource_add(ep, &d, NULL), COAPS_OK);
    coaps_coap_resource_def_init(&d, "big");
    d.handler[COAPS_COAP_POST] = big_post;
    assert_int_equal(coaps_coap_resource_add(ep, &d, NULL), COAPS_OK);
    calls = 0;
    return ep;
}

/* Feed a CON POST /c with mid from p at now. */
static void post(coaps_coap_endpoint *ep, const coaps_peer *p, uint16_t mid, uint64_t now)
{
    coaps_coap_msg m;
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_POST, mid, "c");
    t_feed(ep, p, &m, now);
}

/* A duplicate CON gets the very same bytes, the handler runs once. */
static void duplicate_con_replays_cached_response(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = server(NULL, &mem);
    coaps_peer p = t_peer(1);
    coaps_coap_msg m;
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_POST, 77, "c");
    struct t_dgram first, again;
    t_feed(ep, &p, &m, 0);
    t_pop(ep, &first);
    t_feed(ep, &p, &m, 10000);
    t_pop(ep, &again);
    assert_int_equal(calls, 1);
    assert_int_equal(first.len, again.len);
    assert_memory_equal(first.buf, again.buf, first.len);
    assert_int_equal(coaps_coap_get_stats(ep)->rx_duplicates, 1);
    /* same MID from another peer is a new message */
    coaps_peer q = t_peer(2);
    t_feed(ep, &q, &m, 10000);
    t_pop(ep, &again);
    assert_int_equal(calls, 2);
    t_payload_is(&again.m, "n=2");
    free(mem);
}

/* After EXCHANGE_LIFETIME the MID is new again. */
static void entry_expires_after_exchange_lifetime(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = server(NULL, &mem);
    coaps_peer p = t_peer(1);
    coaps_coap_msg m;
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_POST, 5, "c");
    t_feed(ep, &p, &m, 1000);
    t_feed(ep, &p, &m, 1000 + 246999);
    assert_int_equal(calls, 1);
    t_feed(ep, &p, &m, 1000 + 247000);
    assert_int_equal(calls, 2);
    assert_int_equal(t_drain(ep), 3);
    free(mem);
}

/* A duplicate NON is dropped silently within NON_LIFETIME. */
static void duplicate_non_is_dropped(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = server(NULL, &mem);
    coaps_peer p = t_peer(1);
    coaps_coap_msg m;
    t_req(&m, COAPS_COAP_NON, COAPS_COAP_POST, 9, "c");
    t_feed(ep, &p, &m, 0);
    assert_int_equal(t_drain(ep), 1);
    t_feed(ep, &p, &m, 144999);
    t_none(ep);
    assert_int_equal(calls, 1);
    t_feed(ep, &p, &m, 145000);
    assert_int_equal(calls, 2);
    free(mem);
}

/* RFC 7252 4.5 at load: a duplicate 2 s later is answered from the cache
 * with the very same bytes, and the handler ran once, although 1,000
 * other peers sent 2,000 distinct messages in between (the old global
 * cache kept 128 entries in all, and forgot it after 128 of them). */
static void duplicate_after_2s_survives_other_peers_traffic(void **state)
{
    (void)state;
    coaps_coap_config c;
    coaps_coap_config_default(&c);
    c.dedup_peers = 1024;
    void *mem;
    coaps_coap_endpoint *ep = server(&c, &mem);
    coaps_peer p = t_peer(1);
    struct t_dgram first, again;
    post(ep, &p, 0x4242, 0);
    t_pop(ep, &first);
    for (uint16_t i = 0; i < 2000; i++) { /* 1,000 peers, 2 messages each */
        coaps_peer q = peer16((uint16_t)(1 + i % 1000));
        post(ep, &q, (uint16_t)(i / 1000), 1 + i);
        t_drain(ep);
    }
    assert_int_equal(calls, 1 + 2000);
    post(ep, &p, 0x4242, 2000);
    t_pop(ep, &again);
    t_none(ep);
    assert_int_equal(calls, 1 + 2000); /* the handler did not run again */
    assert_int_equal(first.len, again.len);
    assert_memory_equal(first.buf, again.buf, first.len);
    t_payload_is(&again.m, "n=1");
    assert_int_equal(coaps_coap_get_stats(ep)->table_full, 0);
    free(mem);
}

/* A flood of distinct Message IDs from one peer pushes out only that
 * peer's own older entries: the other peers' exchanges stay known. */
static void flood_from_one_peer_cannot_evict_others(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = server(NULL, &mem);
    coaps_peer a = t_peer(1), b = t_peer(2), f = t_peer(66);
    post(ep, &a, 7, 0);
    post(ep, &b, 7, 0);
    t_drain(ep);
    for (uint32_t mid = 0; mid < 65536; mid++) { /* every MID there is */
        post(ep, &f, (uint16_t)mid, 1);
        t_drain(ep);
    }
    assert_int_equal(calls, 2 + 65536);
    post(ep, &a, 7, 2000);
    post(ep, &b, 7, 2000);
    assert_int_equal(calls, 2 + 65536); /* both duplicates */
    assert_int_equal(t_drain(ep), 2);
    assert_int_equal(coaps_coap_get_stats(ep)->table_full, 0);
    /* f keeps only its newest dedup_per_peer (8) */
    assert_int_equal(coaps_coap_get_stats(ep)->dedup_recycled, 65536 - 8);
    post(ep, &f, 65535 - 7, 2000); /* the 8th newest: still known */
    assert_int_equal(calls, 2 + 65536);
    post(ep, &f, 65535 - 8, 2000); /* the 9th: recycled, handled again */
    assert_int_equal(calls, 2 + 65536 + 1);
    free(mem);
}

/* Within a peer the bound is its own: its oldest entry goes first. */
static void full_peer_evicts_its_oldest(void **state)
{
    (void)state;
    coaps_coap_config c;
    coaps_coap_config_default(&c);
    c.dedup_per_peer = 3;
    void *mem;
    coaps_coap_endpoint *ep = server(&c, &mem);
    coaps_peer p = t_peer(1);
    for (uint16_t mid = 1; mid <= 4; mid++)
        post(ep, &p, mid, mid);
    assert_int_equal(calls, 4);
    post(ep, &p, 4, 10); /* newest: still cached */
    assert_int_equal(calls, 4);
    post(ep, &p, 2, 10); /* still cached */
    assert_int_equal(calls, 4);
    post(ep, &p, 1, 10); /* evicted: handled again */
    assert_int_equal(calls, 5);
    assert_true(coaps_coap_get_stats(ep)->dedup_recycled >= 1);
    assert_int_equal(coaps_coap_get_stats(ep)->table_full, 0);
    free(mem);
}

/* When every slot is taken, a new peer takes the slot of the peer heard
 * from least recently (the oldest peer's state), not anyone's newest
 * exchange. */
static void full_table_evicts_least_recent_peer(void **state)
{
    (void)state;
    coaps_coap_config c;
    coaps_coap_config_default(&c);
    c.dedup_peers = 3;
    void *mem;
    coaps_coap_endpoint *ep = server(&c, &mem);
    coaps_peer a = t_peer(1), b = t_peer(2), cc = t_peer(3), d = t_peer(4);
    post(ep, &a, 1, 0);
    post(ep, &b, 1, 1);
    post(ep, &cc, 1, 2);
    post(ep, &a, 2, 3); /* a spoke again: b is now the least recent */
    post(ep, &d, 1, 4); /* takes b's slot */
    assert_int_equal(calls, 5);
    assert_int_equal(coaps_coap_get_stats(ep)->table_full, 1);
    post(ep, &a, 1, 5);
    post(ep, &a, 2, 5);
    post(ep, &cc, 1, 5);
    post(ep, &d, 1, 5);
    assert_int_equal(calls, 5); /* all known */
    post(ep, &b, 1, 6);          /* forgotten: handled again */
    assert_int_equal(calls, 6);
    free(mem);
}

/* A dead entry is reused before a live one is evicted: NON entries die
 * sooner (NON_LIFETIME) than older CON ones (EXCHANGE_LIFETIME). */
static void dead_entries_are_reused_first(void **state)
{
    (void)state;
    coaps_coap_config c;
    coaps_coap_config_default(&c);
    c.dedup_per_peer = 2;
    void *mem;
    coaps_coap_endpoint *ep = server(&c, &mem);
    coaps_peer p = t_peer(1);
    coaps_coap_msg m;
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_POST, 1, "c"); /* lives to 247 s */
    t_feed(ep, &p, &m, 0);
    t_req(&m, COAPS_COAP_NON, COAPS_COAP_POST, 2, "c"); /* lives to 146 s */
    t_feed(ep, &p, &m, 1000);
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_POST, 3, "c"); /* at 200 s */
    t_feed(ep, &p, &m, 200000);
    assert_int_equal(calls, 3);
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_POST, 1, "c"); /* still known */
    t_feed(ep, &p, &m, 200001);
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_POST, 3, "c"); /* and the newest */
    t_feed(ep, &p, &m, 200001);
    assert_int_equal(calls, 3);
    assert_int_equal(coaps_coap_get_stats(ep)->dedup_recycled, 0);
    assert_int_equal(coaps_coap_get_stats(ep)->table_full, 0);
    free(mem);
}

/* The hash index and the LRU list stay right while slots change hands:
 * 7 peers in turn over 5 slots, so every message from the 6th on takes
 * the slot of the least recent peer. Exactly the newest 5 (peer, MID)
 * pairs are known afterwards (a stale or lost link shows here). */
static void index_survives_slot_churn(void **state)
{
    (void)state;
    coaps_coap_config c;
    coaps_coap_config_default(&c);
    c.dedup_peers = 5;
    c.dedup_per_peer = 4;
    void *mem;
    coaps_coap_endpoint *ep = server(&c, &mem);
    const int total = 64 * 5;
    for (int i = 0; i < total; i++) {
        coaps_peer p = t_peer((uint8_t)(1 + i % 7));
        post(ep, &p, (uint16_t)(i / 7), (uint64_t)i);
    }
    assert_int_equal(calls, total);
    assert_int_equal(coaps_coap_get_stats(ep)->table_full, total - 5);
    for (int i = total - 5; i < total; i++) { /* the newest 5: replayed */
        coaps_peer p = t_peer((uint8_t)(1 + i % 7));
        post(ep, &p, (uint16_t)(i / 7), (uint64_t)total);
        assert_int_equal(calls, total);
    }
    coaps_peer p6 = t_peer((uint8_t)(1 + (total - 6) % 7)); /* its slot went */
    post(ep, &p6, (uint16_t)((total - 6) / 7), (uint64_t)total);
    assert_int_equal(calls, total + 1);
    t_drain(ep);
    free(mem);
}

/* Each peer's FIFO wraps many times over: with 7 peers in 7 slots and 8
 * entries each, exactly the newest 56 (peer, MID) pairs are known. */
static void index_survives_entry_churn(void **state)
{
    (void)state;
    coaps_coap_config c;
    coaps_coap_config_default(&c);
    c.dedup_peers = 7;
    void *mem;
    coaps_coap_endpoint *ep = server(&c, &mem);
    const int total = 64 * 5;
    for (int i = 0; i < total; i++) {
        coaps_peer p = t_peer((uint8_t)(1 + i % 7));
        post(ep, &p, (uint16_t)(i / 7), (uint64_t)i);
        t_drain(ep);
    }
    assert_int_equal(coaps_coap_get_stats(ep)->dedup_recycled, total - 56);
    for (int i = total - 56; i < total; i++) {
        coaps_peer p = t_peer((uint8_t)(1 + i % 7));
        post(ep, &p, (uint16_t)(i / 7), (uint64_t)total);
        assert_int_equal(calls, total);
    }
    coaps_peer p0 = t_peer((uint8_t)(1 + (total - 57) % 7));
    post(ep, &p0, (uint16_t)((total - 57) / 7), (uint64_t)total);
    assert_int_equal(calls, total + 1);
    free(mem);
}

/* A peer's replies share its max_message_size bytes: large ones push out
 * the peer's own oldest entries (never another peer's), and what stays is
 * replayed byte for byte. */
static void large_replies_push_out_own_oldest(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = server(NULL, &mem);
    coaps_peer p = t_peer(1), q = t_peer(2);
    post(ep, &q, 9, 0);
    struct t_dgram r[4], again;
    coaps_coap_msg m;
    t_pop(ep, &r[0]);
    for (uint16_t mid = 1; mid <= 3; mid++) {
        t_req(&m, COAPS_COAP_CON, COAPS_COAP_POST, mid, "big");
        t_feed(ep, &p, &m, mid);
        t_pop(ep, &r[mid]);
        assert_true(r[mid].len > T_BIG_PAYLOAD && 3 * r[mid].len > 1280);
    }
    for (uint16_t mid = 2; mid <= 3; mid++) { /* the last two fit: replayed */
        t_req(&m, COAPS_COAP_CON, COAPS_COAP_POST, mid, "big");
        t_feed(ep, &p, &m, 10);
        t_pop(ep, &again);
        assert_int_equal(again.len, r[mid].len);
        assert_memory_equal(again.buf, r[mid].buf, again.len);
    }
    assert_int_equal(calls, 4);
    assert_int_equal(coaps_coap_get_stats(ep)->dedup_recycled, 1);
    post(ep, &q, 9, 10); /* q's reply untouched */
    t_pop(ep, &again);
    assert_int_equal(again.len, r[0].len);
    assert_memory_equal(again.buf, r[0].buf, again.len);
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_POST, 1, "big"); /* pushed out */
    t_feed(ep, &p, &m, 10);
    assert_int_equal(calls, 5);
    free(mem);
}

/* A forgotten peer's slot (DTLS session closed) is reused before a live
 * peer is evicted. */
static void forgotten_slots_are_reused_first(void **state)
{
    (void)state;
    coaps_coap_config c;
    coaps_coap_config_default(&c);
    c.dedup_peers = 2;
    void *mem;
    coaps_coap_endpoint *ep = server(&c, &mem);
    coaps_peer p = t_peer(1), q = t_peer(2), r = t_peer(3);
    post(ep, &p, 1, 1);
    post(ep, &q, 1, 2);
    coaps_coap_forget_peer(ep, &q);
    post(ep, &r, 1, 3); /* takes q's freed slot */
    assert_int_equal(coaps_coap_get_stats(ep)->table_full, 0);
    post(ep, &p, 1, 4); /* not evicted */
    post(ep, &r, 1, 4);
    assert_int_equal(calls, 3);
    post(ep, &q, 1, 5); /* forgotten: new again (and evicts p, the oldest) */
    assert_int_equal(calls, 4);
    assert_int_equal(coaps_coap_get_stats(ep)->table_full, 1);
    free(mem);
}

static void dedup_can_be_disabled(void **state)
{
    (void)state;
    coaps_coap_config c;
    coaps_coap_config_default(&c);
    c.dedup_disabled = true;
    void *mem;
    coaps_coap_endpoint *ep = server(&c, &mem);
    coaps_peer p = t_peer(1);
    coaps_coap_msg m;
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_POST, 1, "c");
    t_feed(ep, &p, &m, 0);
    t_feed(ep, &p, &m, 0);
    assert_int_equal(calls, 2);
    free(mem);
}

/* A cluster's shared deduplication (coaps_coap_config.shared_reply_*):
 * a fake store of one reply per (peer, MID), and the calls counted. */
static struct {
    coaps_peer peer;
    uint16_t mid;
    uint8_t reply[T_MSG_MAX];
    size_t len;
    int saves, finds;
} shared;

static void shared_save(void *user, const coaps_peer *peer, uint16_t mid, const uint8_t *reply,
                        size_t len)
{
    (void)user;
    shared.saves++;
    shared.peer = *peer;
    shared.mid = mid;
    assert_true(len <= sizeof shared.reply);
    memcpy(shared.reply, reply, len);
    shared.len = len;
}

static bool shared_find(void *user, const coaps_peer *peer, uint16_t mid, uint8_t *reply,
                        size_t cap, size_t *len)
{
    (void)user;
    shared.finds++;
    if (shared.len == 0 || mid != shared.mid || !coaps_peer_equal(peer, &shared.peer) ||
        shared.len > cap)
        return false;
    memcpy(reply, shared.reply, shared.len);
    *len = shared.len;
    return true;
}

/* Two servers of a cluster: a POST answered by A, its retransmission
 * reaching B (the peer moved) gets A's reply, and B's handler never
 * runs; a GET is not looked up, nor a peer B already knows. */
static void shared_dedup_across_endpoints(void **state)
{
    (void)state;
    memset(&shared, 0, sizeof shared);
    coaps_coap_config c;
    coaps_coap_config_default(&c);
    c.shared_reply_save = shared_save;
    c.shared_reply_find = shared_find;
    void *ma, *mb;
    coaps_coap_endpoint *a = server(&c, &ma);
    coaps_coap_endpoint *b = server(&c, &mb);
    calls = 0;
    coaps_peer p = t_peer(1);
    struct t_dgram first, again;
    post(a, &p, 500, 0);
    t_pop(a, &first);
    assert_int_equal(calls, 1);
    assert_int_equal(shared.saves, 1);
    assert_int_equal(shared.finds, 1); /* p was new to A: asked, nothing */
    post(b, &p, 500, 2000);
    t_pop(b, &again);
    assert_int_equal(calls, 1); /* not run again */
    assert_int_equal(shared.finds, 2);
    assert_int_equal(first.len, again.len);
    assert_memory_equal(first.buf, again.buf, first.len);
    assert_int_equal(coaps_coap_get_stats(b)->rx_duplicates, 1);
    /* B knows p now: a third copy comes from B's own cache, unasked */
    post(b, &p, 500, 3000);
    t_pop(b, &again);
    assert_int_equal(shared.finds, 2);
    assert_memory_equal(first.buf, again.buf, first.len);
    /* a new POST from p on B: B knows p, no lookup; run and saved */
    post(b, &p, 501, 4000);
    t_pop(b, &again);
    assert_int_equal(calls, 2);
    assert_int_equal(shared.finds, 2);
    assert_int_equal(shared.saves, 2);
    /* a GET from a peer new to A: neither looked up nor saved */
    coaps_peer q = t_peer(2);
    coaps_coap_msg m;
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_GET, 9, "c");
    t_feed(a, &q, &m, 5000);
    t_drain(a);
    assert_int_equal(shared.finds, 2);
    assert_int_equal(shared.saves, 2);
    free(ma);
    free(mb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(duplicate_con_replays_cached_response),
        cmocka_unit_test(entry_expires_after_exchange_lifetime),
        cmocka_unit_test(duplicate_non_is_dropped),
        cmocka_unit_test(duplicate_after_2s_survives_other_peers_traffic),
        cmocka_unit_test(flood_from_one_peer_cannot_evict_others),
        cmocka_unit_test(full_peer_evicts_its_oldest),
        cmocka_unit_test(full_table_evicts_least_recent_peer),
        cmocka_unit_test(dead_entries_are_reused_first),
        cmocka_unit_test(index_survives_slot_churn),
        cmocka_unit_test(index_survives_entry_churn),
        cmocka_unit_test(large_replies_push_out_own_oldest),
        cmocka_unit_test(forgotten_slots_are_reused_first),
        cmocka_unit_test(dedup_can_be_disabled),
        cmocka_unit_test(shared_dedup_across_endpoints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
