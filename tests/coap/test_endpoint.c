/* test_endpoint.c - endpoint layout, input dispatch, malformed input,
 * ping, output queue, forget_peer (src/coap/endpoint.c). */
#include "coap/coap_test_util.h"

static int hello_calls;

static coaps_status hello_get(void *user, const coaps_coap_request *req,
                              coaps_coap_response *resp)
{
    (void)user;
    (void)req;
    hello_calls++;
    coaps_coap_response_set_content_format(resp, COAPS_COAP_CF_TEXT_PLAIN);
    return coaps_coap_response_set_payload(resp, "hello", 5);
}

static coaps_coap_endpoint *hello_server(void **mem)
{
    coaps_coap_endpoint *ep = t_endpoint(NULL, mem);
    coaps_coap_resource_def d;
    coaps_coap_resource_def_init(&d, "hello");
    d.handler[COAPS_COAP_GET] = hello_get;
    d.observable = true;
    assert_int_equal(coaps_coap_resource_add(ep, &d, NULL), COAPS_OK);
    hello_calls = 0;
    return ep;
}

static void config_is_validated(void **state)
{
    (void)state;
    coaps_coap_config c;
    coaps_coap_config_default(&c);
    assert_int_equal(c.ack_timeout_ms, 2000);
    assert_int_equal(c.ack_random_factor_permille, 1500);
    assert_int_equal(c.max_retransmit, 4);
    assert_int_equal(c.nstart, 1);
    assert_int_equal(c.exchange_lifetime_ms, 247000);
    size_t n = coaps_coap_endpoint_size(&c);
    assert_true(n > 0);
    uint8_t small[64];
    coaps_coap_endpoint *ep;
    assert_int_equal(coaps_coap_endpoint_init(small, sizeof small, &c, &ep), COAPS_E_NOSPACE);
    c.block_size = 1000;
    assert_int_equal(coaps_coap_endpoint_size(&c), 0);
    assert_int_equal(coaps_coap_endpoint_init(small, sizeof small, &c, &ep), COAPS_E_CONFIG);
    coaps_coap_config_default(&c);
    c.max_message_size = 512; /* smaller than a 1024 block + headers */
    assert_int_equal(coaps_coap_endpoint_size(&c), 0);
    coaps_coap_config_default(&c);
    c.outq_entries = 0;
    assert_int_equal(coaps_coap_endpoint_size(&c), 0);
    /* smaller tables cost less */
    coaps_coap_config_default(&c);
    size_t big = coaps_coap_endpoint_size(&c);
    c.dedup_peers = 8;
    assert_true(coaps_coap_endpoint_size(&c) < big);
}

static void get_gets_piggybacked_response(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = hello_server(&mem);
    coaps_peer p = t_peer(1);
    coaps_coap_msg m;
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_GET, 0x1234, "hello");
    t_feed(ep, &p, &m, 1000);
    struct t_dgram d;
    t_pop(ep, &d);
    assert_true(coaps_peer_equal(&d.to, &p));
    assert_int_equal(d.m.type, COAPS_COAP_ACK);
    assert_int_equal(d.m.mid, 0x1234);
    assert_int_equal(d.m.code, COAPS_COAP_CONTENT);
    assert_int_equal(d.m.token_len, 2);
    assert_memory_equal(d.m.token, m.token, 2);
    assert_int_equal(t_uint(&d.m, COAPS_COAP_OPT_CONTENT_FORMAT), 0);
    t_payload_is(&d.m, "hello");
    t_none(ep);
    assert_int_equal(coaps_coap_get_stats(ep)->rx_requests, 1);
    assert_int_equal(coaps_coap_get_stats(ep)->tx_datagrams, 1);
    free(mem);
}

static void non_request_gets_non_response(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = hello_server(&mem);
    coaps_peer p = t_peer(1);
    coaps_coap_msg m;
    t_req(&m, COAPS_COAP_NON, COAPS_COAP_GET, 0x0042, "hello");
    t_feed(ep, &p, &m, 1000);
    struct t_dgram d;
    t_pop(ep, &d);
    assert_int_equal(d.m.type, COAPS_COAP_NON);
    assert_int_equal(d.m.code, COAPS_COAP_CONTENT);
    t_payload_is(&d.m, "hello");
    free(mem);
}

/* RFC 7252 4.2: a malformed CON is answered with RST; others dropped. */
static void malformed_con_gets_rst_others_dropped(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = hello_server(&mem);
    coaps_peer p = t_peer(1);
    struct t_dgram d;
    const uint8_t bad_con[] = {0x4F, 0x01, 0x12, 0x34}; /* tkl 15 */
    t_feed_bytes(ep, &p, bad_con, sizeof bad_con, 0);
    t_pop(ep, &d);
    assert_int_equal(d.m.type, COAPS_COAP_RST);
    assert_int_equal(d.m.code, COAPS_COAP_EMPTY);
    assert_int_equal(d.m.mid, 0x1234);
    const uint8_t bad_class[] = {0x40, 0xE1, 0x00, 0x07}; /* 7.01 CON */
    t_feed_bytes(ep, &p, bad_class, sizeof bad_class, 0);
    t_pop(ep, &d);
    assert_int_equal(d.m.type, COAPS_COAP_RST);
    assert_int_equal(d.m.mid, 7);
    const uint8_t bad_non[] = {0x50, 0x01, 0x00, 0x01, 0xFF}; /* marker, no payload */
    t_feed_bytes(ep, &p, bad_non, sizeof bad_non, 0);
    const uint8_t short_dgram[] = {0x40, 0x01};
    t_feed_bytes(ep, &p, short_dgram, sizeof short_dgram, 0);
    const uint8_t v2[] = {0x80, 0x01, 0x00, 0x01};
    t_feed_bytes(ep, &p, v2, sizeof v2, 0);
    const uint8_t rst_with_code[] = {0x70, 0x45, 0x00, 0x01};
    t_feed_bytes(ep, &p, rst_with_code, sizeof rst_with_code, 0);
    const uint8_t ack_with_req[] = {0x60, 0x01, 0x00, 0x01};
    t_feed_bytes(ep, &p, ack_with_req, sizeof ack_with_req, 0);
    t_feed_bytes(ep, &p, NULL, 0, 0);
    t_none(ep);
    assert_int_equal(coaps_coap_get_stats(ep)->rx_malformed, 8);
    assert_int_equal(coaps_coap_get_stats(ep)->tx_rst, 2);
    assert_int_equal(hello_calls, 0);
    free(mem);
}

/* RFC 7252 4.3: an empty CON is a ping; the answer is RST. */
static void ping_gets_rst(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = hello_server(&mem);
    coaps_peer p = t_peer(1);
    const uint8_t ping[] = {0x40, 0x00, 0xBE, 0xEF};
    t_feed_bytes(ep, &p, ping, sizeof ping, 0);
    struct t_dgram d;
    t_pop(ep, &d);
    assert_int_equal(d.len, 4);
    assert_int_equal(d.m.type, COAPS_COAP_RST);
    assert_int_equal(d.m.mid, 0xBEEF);
    /* empty NON and stray ACK/RST: ignored */
    const uint8_t non[] = {0x50, 0x00, 0x00, 0x01};
    const uint8_t ack[] = {0x60, 0x00, 0x00, 0x02};
    t_feed_bytes(ep, &p, non, sizeof non, 0);
    t_feed_bytes(ep, &p, ack, sizeof ack, 0);
    t_none(ep);
    assert_int_equal(coaps_coap_get_stats(ep)->rx_ignored, 2);
    free(mem);
}

/* More options than we can hold in a request: 4.02 (we cannot process). */
static void too_many_options_gets_bad_option(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = hello_server(&mem);
    coaps_peer p = t_peer(1);
    uint8_t b[4 + 2 + COAPS_COAP_MAX_OPTIONS + 2] = {0x42, 0x01, 0x00, 0x09, 0x11, 0x22};
    b[6] = 0xB0;
    t_feed_bytes(ep, &p, b, sizeof b, 0);
    struct t_dgram d;
    t_pop(ep, &d);
    assert_int_equal(d.m.type, COAPS_COAP_ACK);
    assert_int_equal(d.m.code, COAPS_COAP_BAD_OPTION);
    assert_int_equal(d.m.token_len, 2);
    /* the same as NON: rejected with a matching Reset (RFC 7252 4.3) */
    b[0] = 0x52;
    b[3] = 0x0A;
    t_feed_bytes(ep, &p, b, sizeof b, 0);
    t_pop(ep, &d);
    assert_int_equal(d.m.type, COAPS_COAP_RST);
    assert_int_equal(d.m.mid, 0x000A);
    t_none(ep);
    free(mem);
}

static void output_needs_room_and_keeps_the_datagram(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = hello_server(&mem);
    coaps_peer p = t_peer(1), to;
    coaps_coap_msg m;
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_GET, 1, "hello");
    t_feed(ep, &p, &m, 0);
    uint8_t small[4];
    size_t len;
    assert_int_equal(coaps_coap_output(ep, &to, small, sizeof small, &len, 0), COAPS_E_NOSPACE);
    struct t_dgram d;
    t_pop(ep, &d);
    t_none(ep);
    free(mem);
}

static void full_output_queue_counts_drops(void **state)
{
    (void)state;
    coaps_coap_config c;
    coaps_coap_config_default(&c);
    c.outq_entries = 2;
    void *mem;
    coaps_coap_endpoint *ep = t_endpoint(&c, &mem);
    coaps_peer p = t_peer(1);
    const uint8_t ping[] = {0x40, 0x00, 0x00, 0x01};
    for (int i = 0; i < 3; i++)
        t_feed_bytes(ep, &p, ping, sizeof ping, 0);
    assert_int_equal(t_drain(ep), 2);
    assert_int_equal(coaps_coap_get_stats(ep)->tx_dropped, 1);
    free(mem);
}

static void forget_peer_drops_its_queued_datagrams(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = hello_server(&mem);
    coaps_peer a = t_peer(1), b = t_peer(2);
    const uint8_t ping[] = {0x40, 0x00, 0x00, 0x01};
    t_feed_bytes(ep, &a, ping, sizeof ping, 0);
    t_feed_bytes(ep, &b, ping, sizeof ping, 0);
    t_feed_bytes(ep, &a, ping, sizeof ping, 0);
    coaps_coap_forget_peer(ep, &a);
    struct t_dgram d;
    t_pop(ep, &d);
    assert_true(coaps_peer_equal(&d.to, &b));
    t_none(ep);
    free(mem);
}

/* Dropping a peer (DTLS session closed) removes its observers, its dedup
 * entries and its Block1 uploads; other peers keep theirs. */
static void forget_peer_drops_server_state(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = t_endpoint(NULL, &mem);
    coaps_coap_resource_def d;
    coaps_coap_resource *res;
    coaps_coap_resource_def_init(&d, "hello");
    d.handler[COAPS_COAP_GET] = hello_get;
    d.handler[COAPS_COAP_PUT] = hello_get;
    d.observable = true;
    assert_int_equal(coaps_coap_resource_add(ep, &d, &res), COAPS_OK);
    hello_calls = 0;
    coaps_peer a = t_peer(1), b = t_peer(2);
    coaps_coap_msg m;
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_GET, 7, "hello");
    coaps_coap_msg_add_uint(&m, COAPS_COAP_OPT_OBSERVE, 0);
    t_feed(ep, &a, &m, 0);
    t_feed(ep, &b, &m, 0);
    assert_int_equal(coaps_coap_resource_observer_count(res), 2);
    static uint8_t blk[64];
    coaps_coap_msg put;
    t_req(&put, COAPS_COAP_CON, COAPS_COAP_PUT, 8, "hello");
    coaps_coap_block bl = {0, true, 2};
    coaps_coap_msg_add_block(&put, COAPS_COAP_OPT_BLOCK1, &bl);
    put.payload = blk;
    put.payload_len = sizeof blk;
    t_feed(ep, &a, &put, 0);
    assert_int_equal(t_drain(ep), 3);
    coaps_coap_forget_peer(ep, &a);
    assert_int_equal(coaps_coap_resource_observer_count(res), 1);
    int calls = hello_calls;
    t_feed(ep, &a, &m, 1); /* same MID: new again, handled */
    assert_int_equal(hello_calls, calls + 1);
    t_feed(ep, &b, &m, 1); /* still a duplicate for b */
    assert_int_equal(hello_calls, calls + 1);
    assert_int_equal(t_drain(ep), 2);
    coaps_coap_msg next;
    t_req(&next, COAPS_COAP_CON, COAPS_COAP_PUT, 9, "hello");
    bl.num = 1;
    coaps_coap_msg_add_block(&next, COAPS_COAP_OPT_BLOCK1, &bl);
    next.payload = blk;
    next.payload_len = sizeof blk;
    t_feed(ep, &a, &next, 2); /* its upload is gone */
    struct t_dgram dg;
    t_pop(ep, &dg);
    assert_int_equal(dg.m.code, COAPS_COAP_REQUEST_ENTITY_INCOMPLETE);
    free(mem);
}

static void nothing_due_means_max_deadline(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = hello_server(&mem);
    assert_true(coaps_coap_next_deadline(ep) == UINT64_MAX);
    coaps_coap_tick(ep, 5);
    t_none(ep);
    free(mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config_is_validated),
        cmocka_unit_test(get_gets_piggybacked_response),
        cmocka_unit_test(non_request_gets_non_response),
        cmocka_unit_test(malformed_con_gets_rst_others_dropped),
        cmocka_unit_test(ping_gets_rst),
        cmocka_unit_test(too_many_options_gets_bad_option),
        cmocka_unit_test(output_needs_room_and_keeps_the_datagram),
        cmocka_unit_test(full_output_queue_counts_drops),
        cmocka_unit_test(forget_peer_drops_its_queued_datagrams),
        cmocka_unit_test(forget_peer_drops_server_state),
        cmocka_unit_test(nothing_due_means_max_deadline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
