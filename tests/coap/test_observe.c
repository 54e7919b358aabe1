/* test_observe.c - the server side of Observe (src/coap/observe.c,
 * RFC 7641). */
#include "coap/coap_test_util.h"

static int temp = 20;
static int handler_calls;
static bool notify_inside;
static uint8_t fail_code;
static coaps_coap_resource *temp_res;

static coaps_status temp_get(void *user, const coaps_coap_request *req,
                             coaps_coap_response *resp)
{
    (void)user;
    (void)req;
    handler_calls++;
    if (notify_inside)
        coaps_coap_resource_notify(temp_res); /* must not send from here */
    if (fail_code) {
        coaps_coap_response_set_code(resp, fail_code);
        return COAPS_OK;
    }
    char b[16];
    int n = snprintf(b, sizeof b, "%d", temp);
    return coaps_coap_response_set_payload(resp, b, (size_t)n);
}

static coaps_coap_endpoint *server(const coaps_coap_config *c, void **mem)
{
    coaps_coap_endpoint *ep = t_endpoint(c, mem);
    coaps_coap_resource_def d;
    coaps_coap_resource_def_init(&d, "temp");
    d.handler[COAPS_COAP_GET] = temp_get;
    d.observable = true;
    assert_int_equal(coaps_coap_resource_add(ep, &d, &temp_res), COAPS_OK);
    temp = 20;
    handler_calls = 0;
    notify_inside = false;
    fail_code = 0;
    return ep;
}

static void observe_req(coaps_coap_msg *m, uint16_t mid, uint8_t tok, uint32_t obs)
{
    coaps_coap_msg_init(m, COAPS_COAP_CON, COAPS_COAP_GET, mid);
    coaps_coap_msg_set_token(m, &tok, 1);
    coaps_coap_msg_add_uint(m, COAPS_COAP_OPT_OBSERVE, obs);
    coaps_coap_msg_add_option(m, COAPS_COAP_OPT_URI_PATH, "temp", 4);
}

static uint32_t register_one(coaps_coap_endpoint *ep, const coaps_peer *p, uint8_t tok)
{
    coaps_coap_msg m;
    struct t_dgram d;
    observe_req(&m, (uint16_t)(100 + tok), tok, 0);
    t_feed(ep, p, &m, 0);
    t_pop(ep, &d);
    assert_int_equal(d.m.code, COAPS_COAP_CONTENT);
    return t_uint(&d.m, COAPS_COAP_OPT_OBSERVE);
}

/* RFC 7641 4.2 / our rule: a change sends nothing until the next tick,
 * which sends one notification with the token of the registration. */
static void notification_comes_from_tick(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = server(NULL, &mem);
    coaps_peer p = t_peer(1);
    uint32_t seq0 = register_one(ep, &p, 0x5A);
    assert_int_equal(coaps_coap_resource_observer_count(temp_res), 1);
    temp = 21;
    coaps_coap_resource_notify(temp_res);
    t_none(ep); /* nothing sent from notify */
    assert_true(coaps_coap_next_deadline(ep) == 0);
    coaps_coap_tick(ep, 1000);
    struct t_dgram d;
    t_pop(ep, &d);
    assert_int_equal(d.m.type, COAPS_COAP_NON);
    assert_int_equal(d.m.code, COAPS_COAP_CONTENT);
    assert_int_equal(d.m.token_len, 1);
    assert_int_equal(d.m.token[0], 0x5A);
    uint32_t seq1 = t_uint(&d.m, COAPS_COAP_OPT_OBSERVE);
    assert_true(seq1 > seq0);
    t_payload_is(&d.m, "21");
    t_none(ep);
    assert_true(coaps_coap_next_deadline(ep) == UINT64_MAX);
    free(mem);
}

/* Several changes before the tick give one notification, latest state. */
static void changes_collapse_to_latest_state(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = server(NULL, &mem);
    coaps_peer p = t_peer(1);
    register_one(ep, &p, 1);
    for (int i = 0; i < 5; i++) {
        temp = 30 + i;
        coaps_coap_resource_notify(temp_res);
    }
    int calls = handler_calls;
    coaps_coap_tick(ep, 10);
    struct t_dgram d;
    t_pop(ep, &d);
    t_payload_is(&d.m, "34");
    t_none(ep);
    assert_int_equal(handler_calls, calls + 1);
    free(mem);
}

/* Notifying from inside the handler sends nothing there. */
static void notify_inside_handler_is_deferred(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = server(NULL, &mem);
    coaps_peer p = t_peer(1), q = t_peer(2);
    register_one(ep, &p, 1);
    notify_inside = true;
    coaps_coap_msg m;
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_GET, 7, "temp"); /* plain GET */
    t_feed(ep, &q, &m, 0);
    struct t_dgram d;
    t_pop(ep, &d); /* only the response: the handler marked, sent nothing */
    assert_null(coaps_coap_msg_find_option(&d.m, COAPS_COAP_OPT_OBSERVE, NULL));
    t_none(ep);
    notify_inside = false;
    coaps_coap_tick(ep, 10);
    t_pop(ep, &d);
    assert_non_null(coaps_coap_msg_find_option(&d.m, COAPS_COAP_OPT_OBSERVE, NULL));
    assert_true(coaps_peer_equal(&d.to, &p));
    free(mem);
}

/* A change nobody observes leaves nothing behind: an observer that
 * registers later got the state in its registration response and must not
 * get it again as a notification (RFC 7641 4.2: a notification is sent
 * when the state changes, not for a change it already saw). The same for
 * an observer registering after a change but before the tick. */
static void change_before_registration_is_not_notified(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = server(NULL, &mem);
    coaps_peer p = t_peer(1), q = t_peer(2);
    temp = 25;
    coaps_coap_resource_notify(temp_res); /* no observers yet */
    assert_true(coaps_coap_next_deadline(ep) == UINT64_MAX);
    register_one(ep, &p, 1);
    coaps_coap_tick(ep, 10);
    t_none(ep);
    temp = 26;
    coaps_coap_resource_notify(temp_res); /* p observes, q not yet */
    register_one(ep, &q, 2);
    int calls = handler_calls;
    coaps_coap_tick(ep, 20);
    struct t_dgram d;
    t_pop(ep, &d);
    assert_true(coaps_peer_equal(&d.to, &p));
    t_payload_is(&d.m, "26");
    t_none(ep);
    assert_int_equal(handler_calls, calls + 1);
    assert_true(coaps_coap_next_deadline(ep) == UINT64_MAX);
    /* a re-registration (same token, RFC 7641 4.1) answers with the
     * current state: the change marked before it is not sent again */
    temp = 27;
    coaps_coap_resource_notify(temp_res);
    coaps_coap_msg m;
    observe_req(&m, 500, 1, 0);
    t_feed(ep, &p, &m, 30);
    t_pop(ep, &d);
    t_payload_is(&d.m, "27");
    assert_int_equal(d.m.type, COAPS_COAP_ACK);
    coaps_coap_tick(ep, 40);
    t_pop(ep, &d); /* only q, which did not re-register */
    assert_true(coaps_peer_equal(&d.to, &q));
    t_none(ep);
    assert_int_equal(coaps_coap_resource_observer_count(temp_res), 2);
    free(mem);
}

/* More observers than output-queue slots: the notifications that do not
 * fit are held back (not dropped) and go out on the following ticks, each
 * observer exactly once; next_deadline says 0 while any is held back. */
static void small_output_queue_notifies_everyone(void **state)
{
    (void)state;
    enum { OBSERVERS = 10, OUTQ = 3 };
    coaps_coap_config c;
    coaps_coap_config_default(&c);
    c.random_seed = 7;
    c.outq_entries = OUTQ;
    void *mem;
    coaps_coap_endpoint *ep = server(&c, &mem);
    for (uint8_t i = 0; i < OBSERVERS; i++) {
        coaps_peer p = t_peer((uint8_t)(10 + i));
        register_one(ep, &p, i);
    }
    temp = 99;
    coaps_coap_resource_notify(temp_res);
    unsigned seen[OBSERVERS] = {0};
    int ticks = 0;
    while (coaps_coap_next_deadline(ep) == 0 && ticks < 2 * OBSERVERS) {
        coaps_coap_tick(ep, 100);
        ticks++;
        struct t_dgram d;
        size_t n = 0;
        while (coaps_coap_output(ep, &d.to, d.buf, sizeof d.buf, &d.len, 0) == COAPS_OK) {
            assert_int_equal(coaps_coap_msg_parse(&d.m, d.buf, d.len), COAPS_OK);
            t_payload_is(&d.m, "99");
            assert_int_equal(d.m.token_len, 1);
            assert_true(d.m.token[0] < OBSERVERS);
            assert_int_equal(d.to.addr[3], 10 + d.m.token[0]);
            seen[d.m.token[0]]++;
            n++;
        }
        assert_true(n <= OUTQ);
    }
    for (int i = 0; i < OBSERVERS; i++)
        assert_int_equal(seen[i], 1);
    assert_true(ticks >= (OBSERVERS + OUTQ - 1) / OUTQ);
    assert_int_equal(coaps_coap_get_stats(ep)->tx_dropped, 0);
    assert_true(coaps_coap_next_deadline(ep) == UINT64_MAX);
    free(mem);
}

/* RFC 7641 4.4: sequence numbers increase, 24-bit. */
static void sequence_numbers_increase(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = server(NULL, &mem);
    coaps_peer p = t_peer(1);
    uint32_t prev = register_one(ep, &p, 1);
    for (int i = 0; i < 10; i++) {
        coaps_coap_resource_notify(temp_res);
        coaps_coap_tick(ep, (uint64_t)i);
        struct t_dgram d;
        t_pop(ep, &d);
        if (d.m.type == COAPS_COAP_CON) {
            const uint8_t ack[] = {0x60, 0x00, (uint8_t)(d.m.mid >> 8), (uint8_t)d.m.mid};
            t_feed_bytes(ep, &p, ack, sizeof ack, (uint64_t)i);
        }
        uint32_t s = t_uint(&d.m, COAPS_COAP_OPT_OBSERVE);
        assert_true(s > prev && s <= 0xFFFFFF);
        prev = s;
    }
    free(mem);
}

/* RFC 7641 3.6: GET with Observe=1 deregisters. */
static void deregister_with_observe_1(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = server(NULL, &mem);
    coaps_peer p = t_peer(1);
    register_one(ep, &p, 7);
    coaps_coap_msg m;
    struct t_dgram d;
    observe_req(&m, 200, 7, 1);
    t_feed(ep, &p, &m, 0);
    t_pop(ep, &d);
    assert_int_equal(d.m.code, COAPS_COAP_CONTENT);
    assert_null(coaps_coap_msg_find_option(&d.m, COAPS_COAP_OPT_OBSERVE, NULL));
    assert_int_equal(coaps_coap_resource_observer_count(temp_res), 0);
    coaps_coap_resource_notify(temp_res);
    coaps_coap_tick(ep, 1);
    t_none(ep);
    free(mem);
}

/* RFC 7641 3.6: a RST to a notification deregisters. */
static void rst_to_notification_deregisters(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = server(NULL, &mem);
    coaps_peer p = t_peer(1);
    register_one(ep, &p, 7);
    coaps_coap_resource_notify(temp_res);
    coaps_coap_tick(ep, 1);
    struct t_dgram d;
    t_pop(ep, &d);
    const uint8_t rst[] = {0x70, 0x00, (uint8_t)(d.m.mid >> 8), (uint8_t)d.m.mid};
    t_feed_bytes(ep, &p, rst, sizeof rst, 2);
    assert_int_equal(coaps_coap_resource_observer_count(temp_res), 0);
    assert_int_equal(coaps_coap_get_stats(ep)->observers_removed, 1);
    free(mem);
}

/* RFC 7641 4.5: a CON notification never ACKed removes the observer. */
static void con_notification_timeout_deregisters(void **state)
{
    (void)state;
    coaps_coap_config c;
    coaps_coap_config_default(&c);
    c.notify_con_every = 1; /* every notification CON */
    void *mem;
    coaps_coap_endpoint *ep = server(&c, &mem);
    coaps_peer p = t_peer(1);
    register_one(ep, &p, 7);
    coaps_coap_resource_notify(temp_res);
    coaps_coap_tick(ep, 0);
    struct t_dgram d;
    t_pop(ep, &d);
    assert_int_equal(d.m.type, COAPS_COAP_CON);
    int sent = 1;
    for (int i = 0; i < 10 && coaps_coap_next_deadline(ep) != UINT64_MAX; i++) {
        coaps_coap_tick(ep, coaps_coap_next_deadline(ep));
        sent += (int)t_drain(ep);
    }
    assert_int_equal(sent, 5); /* 1 + MAX_RETRANSMIT */
    assert_int_equal(coaps_coap_resource_observer_count(temp_res), 0);
    free(mem);
}

/* RFC 7641 4.5.2: a newer state replaces the CON in flight: it goes out
 * at once (not at the old one's retransmission time), with the old one's
 * retransmission counter and timeout, and the old one is not sent again. */
static void newer_state_replaces_con_in_flight(void **state)
{
    (void)state;
    coaps_coap_config c;
    coaps_coap_config_default(&c);
    c.notify_con_every = 1;
    void *mem;
    coaps_coap_endpoint *ep = server(&c, &mem);
    coaps_peer p = t_peer(1);
    register_one(ep, &p, 7);
    temp = 1;
    coaps_coap_resource_notify(temp_res);
    coaps_coap_tick(ep, 0);
    struct t_dgram d;
    t_pop(ep, &d);
    t_payload_is(&d.m, "1");
    uint64_t due = coaps_coap_next_deadline(ep); /* sent at 0: due = timeout */
    uint16_t old_mid = d.m.mid;
    temp = 2;
    coaps_coap_resource_notify(temp_res);
    coaps_coap_tick(ep, 100);
    t_pop(ep, &d);                                /* out now, not at `due` */
    t_payload_is(&d.m, "2");
    assert_int_equal(d.m.type, COAPS_COAP_CON);
    assert_int_not_equal(d.m.mid, old_mid);
    t_none(ep);
    assert_true(coaps_coap_next_deadline(ep) == 100 + due); /* same timeout */
    coaps_coap_tick(ep, due);                     /* the old one is gone */
    t_none(ep);
    const uint8_t ack[] = {0x60, 0x00, (uint8_t)(d.m.mid >> 8), (uint8_t)d.m.mid};
    t_feed_bytes(ep, &p, ack, sizeof ack, due + 1);
    assert_true(coaps_coap_next_deadline(ep) == UINT64_MAX);
    assert_int_equal(coaps_coap_resource_observer_count(temp_res), 1);
    free(mem);
}

/* RFC 7641 4.5: a CON at least every notify_con_every notifications and
 * at least every 24 h. */
static void periodic_con_notifications(void **state)
{
    (void)state;
    coaps_coap_config c;
    coaps_coap_config_default(&c);
    c.notify_con_every = 3;
    void *mem;
    coaps_coap_endpoint *ep = server(&c, &mem);
    coaps_peer p = t_peer(1);
    register_one(ep, &p, 7);
    uint8_t types[6];
    for (int i = 0; i < 6; i++) {
        coaps_coap_resource_notify(temp_res);
        coaps_coap_tick(ep, (uint64_t)i);
        struct t_dgram d;
        t_pop(ep, &d);
        types[i] = d.m.type;
        if (d.m.type == COAPS_COAP_CON) {
            const uint8_t ack[] = {0x60, 0x00, (uint8_t)(d.m.mid >> 8), (uint8_t)d.m.mid};
            t_feed_bytes(ep, &p, ack, sizeof ack, (uint64_t)i);
        }
    }
    assert_int_equal(types[0], COAPS_COAP_NON);
    assert_int_equal(types[1], COAPS_COAP_NON);
    assert_int_equal(types[2], COAPS_COAP_CON);
    assert_int_equal(types[3], COAPS_COAP_NON);
    assert_int_equal(types[5], COAPS_COAP_CON);
    /* 24 h later: CON even though only one NON came before */
    coaps_coap_resource_notify(temp_res);
    coaps_coap_tick(ep, 6);
    t_drain(ep);
    coaps_coap_resource_notify(temp_res);
    coaps_coap_tick(ep, 24ull * 3600 * 1000 + 10);
    struct t_dgram d;
    t_pop(ep, &d);
    assert_int_equal(d.m.type, COAPS_COAP_CON);
    free(mem);
}

/* RFC 7641 4.2: an error response ends the observation. */
static void error_notification_removes_observer(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = server(NULL, &mem);
    coaps_peer p = t_peer(1);
    register_one(ep, &p, 7);
    fail_code = COAPS_COAP_NOT_FOUND;
    coaps_coap_resource_notify(temp_res);
    coaps_coap_tick(ep, 1);
    struct t_dgram d;
    t_pop(ep, &d);
    assert_int_equal(d.m.code, COAPS_COAP_NOT_FOUND);
    assert_null(coaps_coap_msg_find_option(&d.m, COAPS_COAP_OPT_OBSERVE, NULL));
    assert_int_equal(coaps_coap_resource_observer_count(temp_res), 0);
    free(mem);
}

/* A registration whose GET fails is not registered. */
static void failed_registration_is_not_kept(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = server(NULL, &mem);
    coaps_peer p = t_peer(1);
    fail_code = COAPS_COAP_SERVICE_UNAVAILABLE;
    coaps_coap_msg m;
    struct t_dgram d;
    observe_req(&m, 1, 1, 0);
    t_feed(ep, &p, &m, 0);
    t_pop(ep, &d);
    assert_null(coaps_coap_msg_find_option(&d.m, COAPS_COAP_OPT_OBSERVE, NULL));
    assert_int_equal(coaps_coap_resource_observer_count(temp_res), 0);
    free(mem);
}

/* The observer table is bounded: the extra client gets a plain answer.
 * The same token re-registering replaces its entry (RFC 7641 4.1). */
static void observer_limit_and_reregistration(void **state)
{
    (void)state;
    coaps_coap_config c;
    coaps_coap_config_default(&c);
    c.max_observers = 2;
    void *mem;
    coaps_coap_endpoint *ep = server(&c, &mem);
    coaps_peer p1 = t_peer(1), p2 = t_peer(2), p3 = t_peer(3);
    register_one(ep, &p1, 1);
    register_one(ep, &p1, 1);
    assert_int_equal(coaps_coap_resource_observer_count(temp_res), 1);
    register_one(ep, &p2, 1);
    coaps_coap_msg m;
    struct t_dgram d;
    observe_req(&m, 300, 1, 0);
    t_feed(ep, &p3, &m, 0);
    t_pop(ep, &d);
    assert_int_equal(d.m.code, COAPS_COAP_CONTENT);
    assert_null(coaps_coap_msg_find_option(&d.m, COAPS_COAP_OPT_OBSERVE, NULL));
    assert_int_equal(coaps_coap_resource_observer_count(temp_res), 2);
    coaps_coap_forget_peer(ep, &p1);
    assert_int_equal(coaps_coap_resource_observer_count(temp_res), 1);
    free(mem);
}

/* Observe on a resource that is not observable: a plain response. */
static void non_observable_resource_ignores_observe(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = t_endpoint(NULL, &mem);
    coaps_coap_resource_def d;
    coaps_coap_resource_def_init(&d, "temp");
    d.handler[COAPS_COAP_GET] = temp_get;
    fail_code = 0;
    notify_inside = false;
    assert_int_equal(coaps_coap_resource_add(ep, &d, &temp_res), COAPS_OK);
    coaps_peer p = t_peer(1);
    coaps_coap_msg m;
    struct t_dgram dg;
    observe_req(&m, 1, 1, 0);
    t_feed(ep, &p, &m, 0);
    t_pop(ep, &dg);
    assert_null(coaps_coap_msg_find_option(&dg.m, COAPS_COAP_OPT_OBSERVE, NULL));
    free(mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(notification_comes_from_tick),
        cmocka_unit_test(changes_collapse_to_latest_state),
        cmocka_unit_test(notify_inside_handler_is_deferred),
        cmocka_unit_test(change_before_registration_is_not_notified),
        cmocka_unit_test(small_output_queue_notifies_everyone),
        cmocka_unit_test(sequence_numbers_increase),
        cmocka_unit_test(deregister_with_observe_1),
        cmocka_unit_test(rst_to_notification_deregisters),
        cmocka_unit_test(con_notification_timeout_deregisters),
        cmocka_unit_test(newer_state_replaces_con_in_flight),
        cmocka_unit_test(periodic_con_notifications),
        cmocka_unit_test(error_notification_removes_observer),
        cmocka_unit_test(failed_registration_is_not_kept),
        cmocka_unit_test(observer_limit_and_reregistration),
        cmocka_unit_test(non_observable_resource_ignores_observe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
