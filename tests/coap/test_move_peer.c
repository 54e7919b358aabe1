/* test_move_peer.c - coaps_coap_move_peer (src/coap/endpoint.c and the
 * per-module *_move_peer): a peer whose address changed (NAT rebinding
 * under a DTLS Connection ID, RFC 9146) keeps its observers, dedup cache,
 * kept Block2 bodies, exchanges and queued output at the new address, and
 * the old address keeps nothing. */
#include "coap/coap_test_util.h"

/* Server block size: a "big" reply of T_BIG bytes is three blocks. */
#define T_BLOCK 64
#define T_BIG 150

static int temp;
static int temp_calls, c_calls, big_calls;
static coaps_coap_resource *temp_res;
static char big_body[T_BIG];

static coaps_status temp_get(void *user, const coaps_coap_request *req,
                             coaps_coap_response *resp)
{
    (void)user, (void)req;
    temp_calls++;
    char b[16];
    int n = snprintf(b, sizeof b, "%d", temp);
    return coaps_coap_response_set_payload(resp, b, (size_t)n);
}

static coaps_status c_post(void *user, const coaps_coap_request *req, coaps_coap_response *resp)
{
    (void)user, (void)req;
    c_calls++;
    char b[16];
    int n = snprintf(b, sizeof b, "n=%d", c_calls);
    return coaps_coap_response_set_payload(resp, b, (size_t)n);
}

/* A POST whose reply needs Block2 (RFC 7959 3.3: the server keeps it for
 * the follow-ups); each call's body differs in every byte, so a block of
 * a re-run handler never passes for a block of the kept body. */
static coaps_status big_post(void *user, const coaps_coap_request *req, coaps_coap_response *resp)
{
    (void)user, (void)req;
    big_calls++;
    for (size_t i = 0; i < T_BIG; i++)
        big_body[i] = (char)('A' + (i + (size_t)big_calls * 7) % 26);
    return coaps_coap_response_set_payload(resp, big_body, T_BIG);
}

static coaps_coap_endpoint *server(void **mem)
{
    coaps_coap_config c;
    coaps_coap_config_default(&c);
    c.random_seed = 7;
    c.block_size = T_BLOCK;
    coaps_coap_endpoint *ep = t_endpoint(&c, mem);
    coaps_coap_resource_def d;
    coaps_coap_resource_def_init(&d, "temp");
    d.handler[COAPS_COAP_GET] = temp_get;
    d.observable = true;
    assert_int_equal(coaps_coap_resource_add(ep, &d, &temp_res), COAPS_OK);
    coaps_coap_resource_def_init(&d, "c");
    d.handler[COAPS_COAP_POST] = c_post;
    assert_int_equal(coaps_coap_resource_add(ep, &d, NULL), COAPS_OK);
    coaps_coap_resource_def_init(&d, "big");
    d.handler[COAPS_COAP_POST] = big_post;
    assert_int_equal(coaps_coap_resource_add(ep, &d, NULL), COAPS_OK);
    temp = 20;
    temp_calls = c_calls = big_calls = 0;
    return ep;
}

/* Register an observation of /temp with a one-byte token; returns the
 * Observe value of the registration's response. */
static uint32_t observe(coaps_coap_endpoint *ep, const coaps_peer *p, uint8_t tok, uint16_t mid)
{
    coaps_coap_msg m;
    struct t_dgram d;
    coaps_coap_msg_init(&m, COAPS_COAP_CON, COAPS_COAP_GET, mid);
    coaps_coap_msg_set_token(&m, &tok, 1);
    coaps_coap_msg_add_uint(&m, COAPS_COAP_OPT_OBSERVE, 0);
    coaps_coap_msg_add_option(&m, COAPS_COAP_OPT_URI_PATH, "temp", 4);
    t_feed(ep, p, &m, 0);
    t_pop(ep, &d);
    assert_true(coaps_peer_equal(&d.to, p));
    assert_int_equal(d.m.code, COAPS_COAP_CONTENT);
    return t_uint(&d.m, COAPS_COAP_OPT_OBSERVE);
}

/* CON POST /big asking for Block2 block num of T_BLOCK bytes. */
static void big_block(coaps_coap_endpoint *ep, const coaps_peer *p, uint16_t mid, uint32_t num,
                      uint64_t now)
{
    coaps_coap_msg m;
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_POST, mid, "big");
    coaps_coap_block b = {num, false, coaps_coap_block_szx(T_BLOCK)};
    assert_int_equal(coaps_coap_msg_add_block(&m, COAPS_COAP_OPT_BLOCK2, &b), COAPS_OK);
    t_feed(ep, p, &m, now);
}

static void expect_block(const struct t_dgram *d, uint32_t num, bool more, const char *body)
{
    coaps_coap_block b;
    assert_int_equal(coaps_coap_msg_get_block(&d->m, COAPS_COAP_OPT_BLOCK2, &b), COAPS_OK);
    assert_int_equal(b.num, num);
    assert_int_equal(b.more, more);
    size_t off = (size_t)num * T_BLOCK, n = T_BIG - off < T_BLOCK ? T_BIG - off : T_BLOCK;
    assert_int_equal(d->m.payload_len, n);
    assert_memory_equal(d->m.payload, body + off, n);
}

/* Notify /temp, tick, and return how many notifications went out; *d
 * gets the last one. */
static size_t notify_all(coaps_coap_endpoint *ep, struct t_dgram *d, uint64_t now)
{
    coaps_coap_resource_notify(temp_res);
    coaps_coap_tick(ep, now);
    size_t n = 0;
    while (coaps_coap_output(ep, &d->to, d->buf, sizeof d->buf, &d->len, now) == COAPS_OK) {
        assert_int_equal(coaps_coap_msg_parse(&d->m, d->buf, d->len), COAPS_OK);
        n++;
    }
    return n;
}

/* The whole of a peer's server-side state follows it to its new address. */
static void moved_peer_keeps_its_state(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = server(&mem);
    coaps_peer a = t_peer(1), b = t_peer(2);
    struct t_dgram d, first;
    coaps_coap_msg con;

    uint32_t seq0 = observe(ep, &a, 0x11, 1);
    /* a CON whose reply is cached for deduplication */
    t_req(&con, COAPS_COAP_CON, COAPS_COAP_POST, 77, "c");
    t_feed(ep, &a, &con, 1000);
    t_pop(ep, &first);
    t_payload_is(&first.m, "n=1");
    /* a Block2 transfer under way: block 0 of three taken */
    big_block(ep, &a, 78, 0, 1000);
    t_pop(ep, &d);
    expect_block(&d, 0, true, big_body);
    char kept[T_BIG];
    memcpy(kept, big_body, sizeof kept);
    /* and a reply not yet taken out */
    t_req(&con, COAPS_COAP_CON, COAPS_COAP_POST, 79, "c");
    t_feed(ep, &a, &con, 1000);

    coaps_coap_move_peer(ep, &a, &b);

    /* queued output now goes to the new address */
    t_pop(ep, &d);
    assert_true(coaps_peer_equal(&d.to, &b));
    t_payload_is(&d.m, "n=2");
    t_none(ep);

    /* the observer, token and sequence kept, notified at the new address */
    temp = 21;
    assert_int_equal(notify_all(ep, &d, 2000), 1);
    assert_true(coaps_peer_equal(&d.to, &b));
    assert_int_equal(d.m.token_len, 1);
    assert_int_equal(d.m.token[0], 0x11);
    assert_int_equal(t_uint(&d.m, COAPS_COAP_OPT_OBSERVE), (seq0 + 1) & 0xFFFFFFu);
    t_payload_is(&d.m, "21");

    /* a duplicate of the cached CON from the new address: the same bytes,
     * the handler not run again */
    t_req(&con, COAPS_COAP_CON, COAPS_COAP_POST, 77, "c");
    t_feed(ep, &b, &con, 3000);
    t_pop(ep, &d);
    assert_true(coaps_peer_equal(&d.to, &b));
    assert_int_equal(d.len, first.len);
    assert_memory_equal(d.buf, first.buf, first.len);
    assert_int_equal(c_calls, 2);
    assert_int_equal(coaps_coap_get_stats(ep)->rx_duplicates, 1);

    /* the Block2 follow-ups from the new address come from the kept body */
    big_block(ep, &b, 80, 1, 4000);
    t_pop(ep, &d);
    assert_true(coaps_peer_equal(&d.to, &b));
    expect_block(&d, 1, true, kept);
    big_block(ep, &b, 81, 2, 4000);
    t_pop(ep, &d);
    expect_block(&d, 2, false, kept);
    assert_int_equal(big_calls, 1);

    /* the old address has nothing left: its duplicate is a new request,
     * its follow-up block runs the handler again, and a notification
     * goes to the new address only */
    t_req(&con, COAPS_COAP_CON, COAPS_COAP_POST, 77, "c");
    t_feed(ep, &a, &con, 5000);
    t_pop(ep, &d);
    assert_true(coaps_peer_equal(&d.to, &a));
    t_payload_is(&d.m, "n=3");
    assert_int_equal(coaps_coap_get_stats(ep)->rx_duplicates, 1);
    big_block(ep, &a, 82, 1, 5000);
    t_pop(ep, &d);
    assert_int_equal(big_calls, 2);
    temp = 22;
    assert_int_equal(notify_all(ep, &d, 6000), 1);
    assert_true(coaps_peer_equal(&d.to, &b));
    free(mem);
}

/* A peer that moves onto an address with an observer of its own: that
 * observer belonged to whoever had the address before, and goes. */
static void move_onto_observed_address_drops_its_observer(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = server(&mem);
    coaps_peer a = t_peer(1), b = t_peer(2);
    struct t_dgram d;
    observe(ep, &a, 0x11, 1);
    observe(ep, &b, 0x22, 2);
    uint64_t removed = coaps_coap_get_stats(ep)->observers_removed;

    coaps_coap_move_peer(ep, &a, &b);

    assert_int_equal(coaps_coap_get_stats(ep)->observers_removed, removed + 1);
    assert_int_equal(notify_all(ep, &d, 1000), 1);
    assert_true(coaps_peer_equal(&d.to, &b));
    assert_int_equal(d.m.token[0], 0x11);
    free(mem);
}

/* Moving from an address we know nothing of, or onto itself, changes
 * nothing: in particular the target's state is not forgotten. */
static void move_from_unknown_or_to_itself_is_a_no_op(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = server(&mem);
    coaps_peer b = t_peer(2), nobody = t_peer(9);
    struct t_dgram d;
    observe(ep, &b, 0x22, 2);

    coaps_coap_move_peer(ep, &nobody, &b);
    coaps_coap_move_peer(ep, &b, &b);

    assert_int_equal(coaps_coap_get_stats(ep)->observers_removed, 0);
    assert_int_equal(notify_all(ep, &d, 1000), 1);
    assert_true(coaps_peer_equal(&d.to, &b));
    assert_int_equal(d.m.token[0], 0x22);
    free(mem);
}

/* A move is not traffic: the moved peer keeps its place in the dedup LRU
 * list, so with every slot taken a newcomer displaces it, not the peer
 * heard from since. */
static void move_keeps_the_dedup_lru_position(void **state)
{
    (void)state;
    coaps_coap_config c;
    coaps_coap_config_default(&c);
    c.dedup_peers = 2;
    void *mem;
    coaps_coap_endpoint *ep = t_endpoint(&c, &mem);
    coaps_coap_resource_def def;
    coaps_coap_resource_def_init(&def, "c");
    def.handler[COAPS_COAP_POST] = c_post;
    assert_int_equal(coaps_coap_resource_add(ep, &def, NULL), COAPS_OK);
    c_calls = 0;
    coaps_peer a = t_peer(1), a2 = t_peer(11), b = t_peer(2), n = t_peer(3);
    coaps_coap_msg m;
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_POST, 5, "c");
    t_feed(ep, &a, &m, 0);
    t_feed(ep, &b, &m, 0);
    coaps_coap_move_peer(ep, &a, &a2); /* a2: still the peer heard from first */
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_POST, 6, "c");
    t_feed(ep, &n, &m, 0);             /* takes the LRU slot: a2's ... */
    assert_int_equal(c_calls, 3);
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_POST, 5, "c");
    t_feed(ep, &b, &m, 0);             /* ... not b's: still a duplicate */
    assert_int_equal(c_calls, 3);
    t_feed(ep, &a2, &m, 0);            /* a2's cache went */
    assert_int_equal(c_calls, 4);
    free(mem);
}

/* Many peers moved about keep the dedup hash index consistent: each is
 * found at its new address, none at its old one. */
static void many_moves_keep_the_dedup_index(void **state)
{
    (void)state;
    coaps_coap_config c;
    coaps_coap_config_default(&c);
    c.dedup_peers = 40;
    void *mem;
    coaps_coap_endpoint *ep = t_endpoint(&c, &mem);
    coaps_coap_resource_def def;
    coaps_coap_resource_def_init(&def, "c");
    def.handler[COAPS_COAP_POST] = c_post;
    assert_int_equal(coaps_coap_resource_add(ep, &def, NULL), COAPS_OK);
    c_calls = 0;
    coaps_coap_msg m;
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_POST, 9, "c");
    for (uint8_t i = 0; i < 40; i++) {
        coaps_peer p = t_peer(i);
        t_feed(ep, &p, &m, 0);
    }
    /* rotate every peer through addresses 100.., three rounds */
    for (int round = 0; round < 3; round++) {
        for (uint8_t i = 0; i < 40; i++) {
            coaps_peer from = t_peer((uint8_t)(round == 0 ? i : 100 + 40 * (round - 1) + i));
            coaps_peer to = t_peer((uint8_t)(100 + 40 * round + i));
            coaps_coap_move_peer(ep, &from, &to);
        }
    }
    for (uint8_t i = 0; i < 40; i++) {
        coaps_peer now = t_peer((uint8_t)(180 + i));
        t_feed(ep, &now, &m, 0);
    }
    assert_int_equal(c_calls, 40); /* all 40 duplicates recognised */
    for (uint8_t i = 0; i < 40; i++) {
        coaps_peer first = t_peer(i), between = t_peer((uint8_t)(140 + i));
        t_feed(ep, &first, &m, 0);
        t_feed(ep, &between, &m, 0);
    }
    assert_int_equal(c_calls, 120); /* none at an old address */
    free(mem);
}

/* Our own exchanges move too: a client request's retransmission goes to
 * the new address, and its response is matched there. */
static int events;
static coaps_status last_status;

static void on_response(void *user, const coaps_coap_client_event *ev)
{
    (void)user;
    events++;
    last_status = ev->status;
}

static void client_exchange_follows_the_peer(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = t_endpoint(NULL, &mem);
    coaps_peer a = t_peer(1), b = t_peer(2);
    coaps_coap_client_request r;
    coaps_coap_client_request_init(&r);
    r.peer = a;
    r.uri_path = "x";
    r.cb = on_response;
    events = 0;
    assert_int_equal(coaps_coap_request_send(ep, &r, 0, NULL), COAPS_OK);
    struct t_dgram req, d;
    t_pop(ep, &req);
    assert_true(coaps_peer_equal(&req.to, &a));

    coaps_coap_move_peer(ep, &a, &b);

    coaps_coap_tick(ep, coaps_coap_next_deadline(ep));
    t_pop(ep, &d); /* the retransmission */
    assert_true(coaps_peer_equal(&d.to, &b));
    assert_int_equal(d.m.mid, req.m.mid);
    coaps_coap_msg resp;
    coaps_coap_msg_init(&resp, COAPS_COAP_ACK, COAPS_COAP_CONTENT, req.m.mid);
    coaps_coap_msg_set_token(&resp, req.m.token, req.m.token_len);
    t_feed(ep, &a, &resp, 5000); /* the old address is no longer the peer */
    assert_int_equal(events, 0);
    t_feed(ep, &b, &resp, 5000);
    assert_int_equal(events, 1);
    assert_int_equal(last_status, COAPS_OK);
    t_drain(ep);
    free(mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(moved_peer_keeps_its_state),
        cmocka_unit_test(move_onto_observed_address_drops_its_observer),
        cmocka_unit_test(move_from_unknown_or_to_itself_is_a_no_op),
        cmocka_unit_test(move_keeps_the_dedup_lru_position),
        cmocka_unit_test(many_moves_keep_the_dedup_index),
        cmocka_unit_test(client_exchange_follows_the_peer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
