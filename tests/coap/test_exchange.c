/* test_exchange.c - CON retransmission (src/coap/exchange.c, RFC 7252 4.2,
 * 4.8) driven with a fake clock. */
#include "coap/coap_test_util.h"

struct result {
    int calls;
    coaps_status st;
};

static void record(void *user, const coaps_coap_client_event *ev)
{
    struct result *r = user;
    r->calls++;
    r->st = ev->status;
}

static void start_get(coaps_coap_endpoint *ep, struct result *r, struct t_dgram *d)
{
    coaps_coap_client_request q;
    coaps_coap_client_request_init(&q);
    q.peer = t_peer(9);
    q.uri_path = "x";
    q.cb = record;
    q.user = r;
    assert_int_equal(coaps_coap_request_send(ep, &q, 0, NULL), COAPS_OK);
    t_pop(ep, d);
    assert_int_equal(d->m.type, COAPS_COAP_CON);
}

/* Initial timeout in [2000, 3000] ms, then doubling; after MAX_RETRANSMIT
 * (4) retransmissions and one more timeout, COAPS_E_TIMEOUT. */
static void schedule_doubles_then_gives_up(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        coaps_coap_config c;
        coaps_coap_config_default(&c);
        c.random_seed = seed;
        void *mem;
        coaps_coap_endpoint *ep = t_endpoint(&c, &mem);
        struct result r = {0, COAPS_OK};
        struct t_dgram first, d;
        start_get(ep, &r, &first);
        uint64_t t0 = coaps_coap_next_deadline(ep);
        assert_true(t0 >= 2000 && t0 <= 3000);
        uint64_t now = t0, timeout = t0;
        for (int i = 1; i <= 4; i++) {
            coaps_coap_tick(ep, now - 1);
            t_none(ep);
            coaps_coap_tick(ep, now);
            t_pop(ep, &d);
            assert_int_equal(d.len, first.len);
            assert_memory_equal(d.buf, first.buf, d.len); /* same MID */
            timeout *= 2;
            assert_true(coaps_coap_next_deadline(ep) == now + timeout);
            now += timeout;
        }
        assert_int_equal(r.calls, 0);
        coaps_coap_tick(ep, now);
        t_none(ep);
        assert_int_equal(r.calls, 1);
        assert_int_equal(r.st, COAPS_E_TIMEOUT);
        /* total wait = 31 * initial timeout: MAX_TRANSMIT_WAIT bound */
        assert_true(now == 31 * t0);
        assert_int_equal(coaps_coap_get_stats(ep)->tx_retransmissions, 4);
        assert_int_equal(coaps_coap_get_stats(ep)->timeouts, 1);
        assert_true(coaps_coap_next_deadline(ep) == UINT64_MAX);
        free(mem);
    }
}

/* The same seed gives the same schedule and MIDs (deterministic). */
static void seed_makes_it_deterministic(void **state)
{
    (void)state;
    uint64_t dl[2];
    uint16_t mid[2];
    for (int k = 0; k < 2; k++) {
        void *mem;
        coaps_coap_endpoint *ep = t_endpoint(NULL, &mem);
        struct result r = {0, COAPS_OK};
        struct t_dgram d;
        start_get(ep, &r, &d);
        dl[k] = coaps_coap_next_deadline(ep);
        mid[k] = d.m.mid;
        free(mem);
    }
    assert_true(dl[0] == dl[1]);
    assert_int_equal(mid[0], mid[1]);
}

/* Configurable parameters are honoured. */
static void parameters_are_configurable(void **state)
{
    (void)state;
    coaps_coap_config c;
    coaps_coap_config_default(&c);
    c.ack_timeout_ms = 100;
    c.ack_random_factor_permille = 1000; /* no jitter */
    c.max_retransmit = 1;
    void *mem;
    coaps_coap_endpoint *ep = t_endpoint(&c, &mem);
    struct result r = {0, COAPS_OK};
    struct t_dgram d;
    start_get(ep, &r, &d);
    assert_true(coaps_coap_next_deadline(ep) == 100);
    coaps_coap_tick(ep, 100);
    t_pop(ep, &d);
    assert_true(coaps_coap_next_deadline(ep) == 300);
    coaps_coap_tick(ep, 300);
    assert_int_equal(r.st, COAPS_E_TIMEOUT);
    free(mem);
}

/* An ACK stops retransmission. */
static void ack_stops_retransmission(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = t_endpoint(NULL, &mem);
    struct result r = {0, COAPS_OK};
    struct t_dgram d;
    start_get(ep, &r, &d);
    coaps_coap_msg a;
    coaps_coap_msg_init(&a, COAPS_COAP_ACK, COAPS_COAP_CONTENT, d.m.mid);
    coaps_coap_msg_set_token(&a, d.m.token, d.m.token_len);
    t_feed(ep, &d.to, &a, 500);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.st, COAPS_OK);
    coaps_coap_tick(ep, 100000);
    t_none(ep);
    free(mem);
}

/* A random callback, when given, is what the core uses. */
static uint32_t fixed_random(void *ctx)
{
    (*(int *)ctx)++;
    return 0;
}

static void random_callback_is_used(void **state)
{
    (void)state;
    coaps_coap_config c;
    coaps_coap_config_default(&c);
    int n = 0;
    c.random = fixed_random;
    c.random_ctx = &n;
    void *mem;
    coaps_coap_endpoint *ep = t_endpoint(&c, &mem);
    struct result r = {0, COAPS_OK};
    struct t_dgram d;
    start_get(ep, &r, &d);
    assert_int_equal(d.m.mid, 0); /* random start 0 */
    assert_true(coaps_coap_next_deadline(ep) == 2000);
    assert_true(n >= 10); /* MID + 8 token bytes + jitter */
    free(mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(schedule_doubles_then_gives_up),
        cmocka_unit_test(seed_makes_it_deterministic),
        cmocka_unit_test(parameters_are_configurable),
        cmocka_unit_test(ack_stops_retransmission),
        cmocka_unit_test(random_callback_is_used),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
