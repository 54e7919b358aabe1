/* test_dedup.c - message deduplication (src/coap/dedup.c, RFC 7252 4.5). */
#include "coap/coap_test_util.h"

static int calls;

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

static coaps_coap_endpoint *server(const coaps_coap_config *c, void **mem)
{
    coaps_coap_endpoint *ep = t_endpoint(c, mem);
    coaps_coap_resource_def d;
    coaps_coap_resource_def_init(&d, "c");
    d.handler[COAPS_COAP_POST] = counter_post;
    assert_int_equal(coaps_coap_resource_add(ep, &d, NULL), COAPS_OK);
    calls = 0;
    return ep;
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

/* The cache is bounded; the oldest entry goes first. */
static void full_cache_evicts_oldest(void **state)
{
    (void)state;
    coaps_coap_config c;
    coaps_coap_config_default(&c);
    c.dedup_entries = 3;
    void *mem;
    coaps_coap_endpoint *ep = server(&c, &mem);
    coaps_peer p = t_peer(1);
    coaps_coap_msg m;
    for (uint16_t mid = 1; mid <= 4; mid++) {
        t_req(&m, COAPS_COAP_CON, COAPS_COAP_POST, mid, "c");
        t_feed(ep, &p, &m, mid);
    }
    assert_int_equal(calls, 4);
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_POST, 4, "c"); /* newest: still cached */
    t_feed(ep, &p, &m, 10);
    assert_int_equal(calls, 4);
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_POST, 2, "c"); /* still cached */
    t_feed(ep, &p, &m, 10);
    assert_int_equal(calls, 4);
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_POST, 1, "c"); /* evicted: handled again */
    t_feed(ep, &p, &m, 10);
    assert_int_equal(calls, 5);
    assert_true(coaps_coap_get_stats(ep)->table_full >= 1);
    free(mem);
}

/* A dead entry is reused before a live one is evicted: NON entries die
 * sooner (NON_LIFETIME) than older CON ones (EXCHANGE_LIFETIME). */
static void dead_entries_are_reused_first(void **state)
{
    (void)state;
    coaps_coap_config c;
    coaps_coap_config_default(&c);
    c.dedup_entries = 2;
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
    assert_int_equal(calls, 3);
    assert_int_equal(coaps_coap_get_stats(ep)->table_full, 0);
    free(mem);
}

/* The hash index stays right under churn: many peers sharing MIDs, the
 * ring reused several times over. Exactly the newest 64 (peer, MID)
 * pairs are known afterwards (a stale or lost chain link shows here). */
static void index_survives_churn(void **state)
{
    (void)state;
    coaps_coap_config c;
    coaps_coap_config_default(&c);
    c.dedup_entries = 64;
    void *mem;
    coaps_coap_endpoint *ep = server(&c, &mem);
    coaps_coap_msg m;
    const int total = 64 * 5;
    for (int i = 0; i < total; i++) {
        coaps_peer p = t_peer((uint8_t)(1 + i % 7));
        t_req(&m, COAPS_COAP_CON, COAPS_COAP_POST, (uint16_t)(i / 7), "c");
        t_feed(ep, &p, &m, (uint64_t)i);
    }
    assert_int_equal(calls, total);
    for (int i = total - 64; i < total; i++) { /* the newest 64: replayed */
        coaps_peer p = t_peer((uint8_t)(1 + i % 7));
        t_req(&m, COAPS_COAP_CON, COAPS_COAP_POST, (uint16_t)(i / 7), "c");
        t_feed(ep, &p, &m, (uint64_t)total);
        assert_int_equal(calls, total);
    }
    coaps_peer p0 = t_peer(1); /* i = 0: long evicted, handled again */
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_POST, 0, "c");
    t_feed(ep, &p0, &m, (uint64_t)total);
    assert_int_equal(calls, total + 1);
    free(mem);
}

/* Entries freed by forgetting a peer are reused before a live entry is
 * evicted, even while every other entry is far from expiring. */
static void forgotten_entries_are_reused_first(void **state)
{
    (void)state;
    coaps_coap_config c;
    coaps_coap_config_default(&c);
    c.dedup_entries = 4;
    void *mem;
    coaps_coap_endpoint *ep = server(&c, &mem);
    coaps_peer p = t_peer(1), q = t_peer(2);
    coaps_coap_msg m;
    for (uint16_t mid = 1; mid <= 5; mid++) { /* the 5th evicts a live one */
        t_req(&m, COAPS_COAP_CON, COAPS_COAP_POST, mid, "c");
        t_feed(ep, mid == 3 ? &q : &p, &m, mid);
    }
    uint64_t full = coaps_coap_get_stats(ep)->table_full;
    assert_true(full >= 1);
    coaps_coap_forget_peer(ep, &q); /* frees MID 3's entry */
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_POST, 6, "c");
    t_feed(ep, &p, &m, 6);
    assert_int_equal(coaps_coap_get_stats(ep)->table_full, full);
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_POST, 2, "c"); /* not evicted */
    t_feed(ep, &p, &m, 7);
    assert_int_equal(calls, 6);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(duplicate_con_replays_cached_response),
        cmocka_unit_test(entry_expires_after_exchange_lifetime),
        cmocka_unit_test(duplicate_non_is_dropped),
        cmocka_unit_test(full_cache_evicts_oldest),
        cmocka_unit_test(dead_entries_are_reused_first),
        cmocka_unit_test(index_survives_churn),
        cmocka_unit_test(forgotten_entries_are_reused_first),
        cmocka_unit_test(dedup_can_be_disabled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
