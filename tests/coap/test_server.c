/* test_server.c - resources, dispatch, error codes and separate responses
 * (src/coap/server.c; RFC 7252 5.2, 5.8, 5.9, 5.10; RFC 8132). */
#include "coap/coap_test_util.h"

static uint8_t last_method;
static coaps_coap_deferred deferred;
static bool defer_next;

static coaps_status echo(void *user, const coaps_coap_request *req, coaps_coap_response *resp)
{
    (void)user;
    size_t n;
    const uint8_t *p = coaps_coap_request_payload(req, &n);
    last_method = coaps_coap_request_method(req);
    if (defer_next)
        return coaps_coap_response_defer(resp, &deferred);
    return coaps_coap_response_set_payload(resp, p, n);
}

static coaps_status failing(void *user, const coaps_coap_request *req,
                            coaps_coap_response *resp)
{
    (void)user;
    (void)req;
    (void)resp;
    return COAPS_E_INVALID;
}

static coaps_status tagged(void *user, const coaps_coap_request *req, coaps_coap_response *resp)
{
    (void)user;
    (void)req;
    static const uint8_t tag[] = {1, 2, 3, 4};
    coaps_coap_response_set_etag(resp, tag, sizeof tag);
    coaps_coap_response_set_max_age(resp, 30);
    return coaps_coap_response_set_payload(resp, "v", 1);
}

static coaps_status create(void *user, const coaps_coap_request *req, coaps_coap_response *resp)
{
    (void)user;
    (void)req;
    coaps_coap_response_set_code(resp, COAPS_COAP_CREATED);
    return coaps_coap_response_set_location(resp, "/items/7", "a=1&b");
}

/* A resource with a body limit of its own, smaller than max_body_size. */
#define SMALL_BODY_MAX 8

static coaps_status small_put(void *user, const coaps_coap_request *req,
                              coaps_coap_response *resp)
{
    (void)user;
    size_t n;
    coaps_coap_request_payload(req, &n);
    if (n > SMALL_BODY_MAX) {
        coaps_coap_response_set_code(resp, COAPS_COAP_REQUEST_ENTITY_TOO_LARGE);
        coaps_coap_response_set_size1(resp, SMALL_BODY_MAX);
    }
    return COAPS_OK;
}

static coaps_coap_endpoint *server(void **mem)
{
    coaps_coap_endpoint *ep = t_endpoint(NULL, mem);
    coaps_coap_resource_def d;
    coaps_coap_resource_def_init(&d, "echo");
    for (uint8_t m = COAPS_COAP_GET; m <= COAPS_COAP_IPATCH; m++)
        d.handler[m] = echo;
    d.handler[COAPS_COAP_DELETE] = NULL;
    assert_int_equal(coaps_coap_resource_add(ep, &d, NULL), COAPS_OK);
    coaps_coap_resource_def_init(&d, "json");
    d.handler[COAPS_COAP_PUT] = echo;
    d.handler[COAPS_COAP_GET] = echo;
    d.ct = COAPS_COAP_CF_JSON;
    d.accept_cf[0] = COAPS_COAP_CF_JSON;
    assert_int_equal(coaps_coap_resource_add(ep, &d, NULL), COAPS_OK);
    coaps_coap_resource_def_init(&d, "a/b/c");
    d.handler[COAPS_COAP_GET] = echo;
    assert_int_equal(coaps_coap_resource_add(ep, &d, NULL), COAPS_OK);
    coaps_coap_resource_def_init(&d, "fail");
    d.handler[COAPS_COAP_GET] = failing;
    assert_int_equal(coaps_coap_resource_add(ep, &d, NULL), COAPS_OK);
    coaps_coap_resource_def_init(&d, "tagged");
    d.handler[COAPS_COAP_GET] = tagged;
    d.handler[COAPS_COAP_PUT] = echo;
    coaps_coap_resource *r;
    assert_int_equal(coaps_coap_resource_add(ep, &d, &r), COAPS_OK);
    static const uint8_t tag[] = {9, 9};
    assert_int_equal(coaps_coap_resource_set_etag(r, tag, sizeof tag), COAPS_OK);
    coaps_coap_resource_def_init(&d, "items");
    d.handler[COAPS_COAP_POST] = create;
    assert_int_equal(coaps_coap_resource_add(ep, &d, NULL), COAPS_OK);
    coaps_coap_resource_def_init(&d, "small");
    d.handler[COAPS_COAP_PUT] = small_put;
    assert_int_equal(coaps_coap_resource_add(ep, &d, NULL), COAPS_OK);
    defer_next = false;
    return ep;
}

/* Send m, return the code of the single reply. */
static uint8_t code_of(coaps_coap_endpoint *ep, coaps_coap_msg *m, struct t_dgram *d)
{
    coaps_peer p = t_peer(1);
    t_feed(ep, &p, m, 0);
    t_pop(ep, d);
    t_none(ep);
    return d->m.code;
}

static void routing_and_not_found(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = server(&mem);
    coaps_coap_msg m;
    struct t_dgram d;
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_GET, 1, "a/b/c");
    assert_int_equal(code_of(ep, &m, &d), COAPS_COAP_CONTENT);
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_GET, 2, "a/b");
    assert_int_equal(code_of(ep, &m, &d), COAPS_COAP_NOT_FOUND);
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_GET, 3, "a/b/c/d");
    assert_int_equal(code_of(ep, &m, &d), COAPS_COAP_NOT_FOUND);
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_GET, 4, "nothing");
    assert_int_equal(code_of(ep, &m, &d), COAPS_COAP_NOT_FOUND);
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_GET, 5, NULL);
    assert_int_equal(code_of(ep, &m, &d), COAPS_COAP_NOT_FOUND);
    free(mem);
}

/* RFC 7252 5.8 and RFC 8132: each method reaches its handler; missing
 * handlers and unknown method codes give 4.05. */
static void methods_and_method_not_allowed(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = server(&mem);
    coaps_coap_msg m;
    struct t_dgram d;
    const struct {
        uint8_t method, code;
    } cases[] = {
        {COAPS_COAP_GET, COAPS_COAP_CONTENT},     {COAPS_COAP_POST, COAPS_COAP_CHANGED},
        {COAPS_COAP_PUT, COAPS_COAP_CHANGED},     {COAPS_COAP_FETCH, COAPS_COAP_CONTENT},
        {COAPS_COAP_PATCH, COAPS_COAP_CHANGED},   {COAPS_COAP_IPATCH, COAPS_COAP_CHANGED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        t_req(&m, COAPS_COAP_CON, cases[i].method, (uint16_t)(10 + i), "echo");
        m.payload = (const uint8_t *)"body";
        m.payload_len = 4;
        assert_int_equal(code_of(ep, &m, &d), cases[i].code);
        assert_int_equal(last_method, cases[i].method);
        t_payload_is(&d.m, "body");
    }
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_DELETE, 30, "echo");
    assert_int_equal(code_of(ep, &m, &d), COAPS_COAP_METHOD_NOT_ALLOWED);
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_CODE(0, 8), 31, "echo");
    assert_int_equal(code_of(ep, &m, &d), COAPS_COAP_METHOD_NOT_ALLOWED);
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_CODE(0, 31), 32, "echo");
    assert_int_equal(code_of(ep, &m, &d), COAPS_COAP_METHOD_NOT_ALLOWED);
    free(mem);
}

/* RFC 7252 5.4.1: unrecognised critical option -> 4.02; elective ignored.
 * 5.7.2: Proxy-Uri to a non-proxy -> 5.05. */
static void bad_option_and_proxy(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = server(&mem);
    coaps_coap_msg m;
    struct t_dgram d;
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_GET, 1, "echo");
    coaps_coap_msg_add_option(&m, 2049, "x", 1);
    assert_int_equal(code_of(ep, &m, &d), COAPS_COAP_BAD_OPTION);
    assert_int_equal(d.m.type, COAPS_COAP_ACK);
    t_payload_is(&d.m, "unrecognised critical option 2049");
    assert_int_equal(coaps_coap_get_stats(ep)->bad_options, 1);
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_GET, 2, "echo");
    coaps_coap_msg_add_option(&m, 2048, "x", 1);
    assert_int_equal(code_of(ep, &m, &d), COAPS_COAP_CONTENT);
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_GET, 3, "echo");
    coaps_coap_msg_add_option(&m, COAPS_COAP_OPT_PROXY_URI, "coap://h/x", 10);
    assert_int_equal(code_of(ep, &m, &d), COAPS_COAP_PROXYING_NOT_SUPPORTED);
    /* a NON request with a bad critical option is rejected (5.4.1): a
     * matching Reset (4.3), no response */
    t_req(&m, COAPS_COAP_NON, COAPS_COAP_GET, 4, "echo");
    coaps_coap_msg_add_option(&m, COAPS_COAP_OPT_URI_HOST, "", 0);
    coaps_peer p = t_peer(1);
    t_feed(ep, &p, &m, 0);
    t_pop(ep, &d);
    assert_int_equal(d.m.type, COAPS_COAP_RST);
    assert_int_equal(d.m.code, COAPS_COAP_EMPTY);
    assert_int_equal(d.m.mid, 4);
    t_none(ep);
    assert_int_equal(coaps_coap_get_stats(ep)->bad_options, 2);
    /* Block2 with SZX 7 (reserved): 4.00 */
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_GET, 5, "echo");
    coaps_coap_msg_add_uint(&m, COAPS_COAP_OPT_BLOCK2, 7);
    assert_int_equal(code_of(ep, &m, &d), COAPS_COAP_BAD_REQUEST);
    free(mem);
}

/* 4.15 for a payload in a format the resource does not take; 4.06 when
 * Accept asks for a format it does not produce. */
static void content_format_and_accept(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = server(&mem);
    coaps_coap_msg m;
    struct t_dgram d;
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_PUT, 1, "json");
    coaps_coap_msg_add_uint(&m, COAPS_COAP_OPT_CONTENT_FORMAT, COAPS_COAP_CF_TEXT_PLAIN);
    m.payload = (const uint8_t *)"x";
    m.payload_len = 1;
    assert_int_equal(code_of(ep, &m, &d), COAPS_COAP_UNSUPPORTED_CONTENT_FORMAT);
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_PUT, 2, "json");
    coaps_coap_msg_add_uint(&m, COAPS_COAP_OPT_CONTENT_FORMAT, COAPS_COAP_CF_JSON);
    m.payload = (const uint8_t *)"{}";
    m.payload_len = 2;
    assert_int_equal(code_of(ep, &m, &d), COAPS_COAP_CHANGED);
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_GET, 3, "json");
    coaps_coap_msg_add_uint(&m, COAPS_COAP_OPT_ACCEPT, COAPS_COAP_CF_XML);
    assert_int_equal(code_of(ep, &m, &d), COAPS_COAP_NOT_ACCEPTABLE);
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_GET, 4, "json");
    coaps_coap_msg_add_uint(&m, COAPS_COAP_OPT_ACCEPT, COAPS_COAP_CF_JSON);
    assert_int_equal(code_of(ep, &m, &d), COAPS_COAP_CONTENT);
    free(mem);
}

static void handler_failure_is_5_00(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = server(&mem);
    coaps_coap_msg m;
    struct t_dgram d;
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_GET, 1, "fail");
    assert_int_equal(code_of(ep, &m, &d), COAPS_COAP_INTERNAL_SERVER_ERROR);
    free(mem);
}

/* RFC 7252 5.10.6.2: GET with the current ETag -> 2.03 Valid, no
 * payload; 5.10.8: If-Match / If-None-Match -> 4.12 when they fail. */
static void etag_validation_and_preconditions(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = server(&mem);
    coaps_coap_msg m;
    struct t_dgram d;
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_GET, 1, "tagged");
    assert_int_equal(code_of(ep, &m, &d), COAPS_COAP_CONTENT);
    assert_int_equal(t_uint(&d.m, COAPS_COAP_OPT_MAX_AGE), 30);
    assert_non_null(coaps_coap_msg_find_option(&d.m, COAPS_COAP_OPT_ETAG, NULL));
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_GET, 2, "tagged");
    coaps_coap_msg_add_option(&m, COAPS_COAP_OPT_ETAG, (const uint8_t[]){1, 2, 3, 4}, 4);
    assert_int_equal(code_of(ep, &m, &d), COAPS_COAP_VALID);
    assert_int_equal(d.m.payload_len, 0);
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_PUT, 3, "tagged");
    coaps_coap_msg_add_option(&m, COAPS_COAP_OPT_IF_MATCH, (const uint8_t[]){9, 8}, 2);
    assert_int_equal(code_of(ep, &m, &d), COAPS_COAP_PRECONDITION_FAILED);
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_PUT, 4, "tagged");
    coaps_coap_msg_add_option(&m, COAPS_COAP_OPT_IF_MATCH, (const uint8_t[]){9, 9}, 2);
    assert_int_equal(code_of(ep, &m, &d), COAPS_COAP_CHANGED);
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_PUT, 5, "tagged");
    coaps_coap_msg_add_option(&m, COAPS_COAP_OPT_IF_NONE_MATCH, "", 0);
    assert_int_equal(code_of(ep, &m, &d), COAPS_COAP_PRECONDITION_FAILED);
    free(mem);
}

static void location_options(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = server(&mem);
    coaps_coap_msg m;
    struct t_dgram d;
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_POST, 1, "items");
    assert_int_equal(code_of(ep, &m, &d), COAPS_COAP_CREATED);
    size_t it;
    const coaps_coap_option *o =
        coaps_coap_msg_find_option(&d.m, COAPS_COAP_OPT_LOCATION_PATH, &it);
    assert_non_null(o);
    assert_int_equal(o->len, 5);
    assert_memory_equal(o->value, "items", 5);
    o = coaps_coap_msg_next_option(&d.m, COAPS_COAP_OPT_LOCATION_PATH, &it);
    assert_non_null(o);
    assert_memory_equal(o->value, "7", 1);
    o = coaps_coap_msg_find_option(&d.m, COAPS_COAP_OPT_LOCATION_QUERY, &it);
    assert_memory_equal(o->value, "a=1", 3);
    free(mem);
}

/* RFC 7959 4: a handler's own 4.13 carries the Size1 it sets (the
 * largest body it takes); a response without it carries none. */
static void handler_sets_size1(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = server(&mem);
    coaps_coap_msg m;
    struct t_dgram d;
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_PUT, 1, "small");
    m.payload = (const uint8_t *)"123456789";
    m.payload_len = 9;
    assert_int_equal(code_of(ep, &m, &d), COAPS_COAP_REQUEST_ENTITY_TOO_LARGE);
    assert_int_equal(t_uint(&d.m, COAPS_COAP_OPT_SIZE1), SMALL_BODY_MAX);
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_PUT, 2, "small");
    m.payload = (const uint8_t *)"1234";
    m.payload_len = 4;
    assert_int_equal(code_of(ep, &m, &d), COAPS_COAP_CHANGED);
    assert_null(coaps_coap_msg_find_option(&d.m, COAPS_COAP_OPT_SIZE1, NULL));
    free(mem);
}

/* RFC 7252 5.2.2: empty ACK first, the response later as a CON, which is
 * retransmitted until acknowledged. Duplicates of the request get the
 * empty ACK again. */
static void separate_response_flow(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = server(&mem);
    coaps_peer p = t_peer(1);
    coaps_coap_msg m;
    struct t_dgram d;
    defer_next = true;
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_GET, 0x100, "echo");
    t_feed(ep, &p, &m, 0);
    t_pop(ep, &d);
    assert_int_equal(d.m.type, COAPS_COAP_ACK);
    assert_int_equal(d.m.code, COAPS_COAP_EMPTY);
    assert_int_equal(d.m.mid, 0x100);
    assert_int_equal(d.len, 4);
    t_none(ep);
    t_feed(ep, &p, &m, 10); /* duplicate */
    t_pop(ep, &d);
    assert_int_equal(d.m.code, COAPS_COAP_EMPTY);
    assert_true(deferred.valid);

    uint8_t buf[64];
    coaps_coap_response resp;
    coaps_coap_response_init(&resp, COAPS_COAP_CONTENT, buf, sizeof buf);
    coaps_coap_response_set_payload(&resp, "later", 5);
    assert_int_equal(coaps_coap_deferred_respond(ep, &deferred, &resp, 1000), COAPS_OK);
    t_pop(ep, &d);
    assert_int_equal(d.m.type, COAPS_COAP_CON);
    assert_int_equal(d.m.code, COAPS_COAP_CONTENT);
    assert_int_equal(d.m.token_len, 2);
    assert_memory_equal(d.m.token, m.token, 2);
    assert_null(coaps_coap_msg_find_option(&d.m, COAPS_COAP_OPT_BLOCK2, NULL));
    t_payload_is(&d.m, "later");
    uint16_t mid = d.m.mid;
    /* not ACKed: retransmitted */
    coaps_coap_tick(ep, coaps_coap_next_deadline(ep));
    t_pop(ep, &d);
    assert_int_equal(d.m.mid, mid);
    /* ACK ends it */
    const uint8_t ack[] = {0x60, 0x00, (uint8_t)(mid >> 8), (uint8_t)mid};
    t_feed_bytes(ep, &p, ack, sizeof ack, 5000);
    assert_true(coaps_coap_next_deadline(ep) == UINT64_MAX);
    free(mem);
}

/* A NON request answered later gets a NON response. */
static void separate_response_to_non(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = server(&mem);
    coaps_peer p = t_peer(1);
    coaps_coap_msg m;
    struct t_dgram d;
    defer_next = true;
    t_req(&m, COAPS_COAP_NON, COAPS_COAP_GET, 0x100, "echo");
    t_feed(ep, &p, &m, 0);
    t_none(ep);
    coaps_coap_response resp;
    coaps_coap_response_init(&resp, COAPS_COAP_CONTENT, NULL, 0);
    assert_int_equal(coaps_coap_deferred_respond(ep, &deferred, &resp, 1000), COAPS_OK);
    t_pop(ep, &d);
    assert_int_equal(d.m.type, COAPS_COAP_NON);
    assert_true(coaps_coap_next_deadline(ep) == UINT64_MAX);
    free(mem);
}

static void resource_table_is_bounded(void **state)
{
    (void)state;
    coaps_coap_config c;
    coaps_coap_config_default(&c);
    c.max_resources = 2;
    void *mem;
    coaps_coap_endpoint *ep = t_endpoint(&c, &mem);
    coaps_coap_resource_def d;
    coaps_coap_resource_def_init(&d, "a");
    assert_int_equal(coaps_coap_resource_add(ep, &d, NULL), COAPS_OK);
    d.path = "b";
    assert_int_equal(coaps_coap_resource_add(ep, &d, NULL), COAPS_OK);
    d.path = "c";
    assert_int_equal(coaps_coap_resource_add(ep, &d, NULL), COAPS_E_FULL);
    d.path = "/a"; /* same path: replaces */
    assert_int_equal(coaps_coap_resource_add(ep, &d, NULL), COAPS_OK);
    d.path = NULL;
    assert_int_equal(coaps_coap_resource_add(ep, &d, NULL), COAPS_E_INVALID);
    free(mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(routing_and_not_found),
        cmocka_unit_test(methods_and_method_not_allowed),
        cmocka_unit_test(bad_option_and_proxy),
        cmocka_unit_test(content_format_and_accept),
        cmocka_unit_test(handler_failure_is_5_00),
        cmocka_unit_test(etag_validation_and_preconditions),
        cmocka_unit_test(location_options),
        cmocka_unit_test(handler_sets_size1),
        cmocka_unit_test(separate_response_flow),
        cmocka_unit_test(separate_response_to_non),
        cmocka_unit_test(resource_table_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
