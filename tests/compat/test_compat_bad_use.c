/* test_compat_bad_use.c - the libcoap 4.3 layer (src/compat) under bad
 * use: every NULL or invalid argument returns what libcoap returns (NULL,
 * 0, -1, COAP_INVALID_MID) and logs exactly one line, never crashes; and
 * the pure helpers (coap_split_uri, coap_encode_var_safe, PDU building)
 * give libcoap's results. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <unistd.h>

#include <coap3/coap.h>

/* ---- counting the lines logged on stderr ------------------------------------ */

static FILE *captured;
static int saved_stderr = -1;

static void capture_begin(void)
{
    fflush(stderr);
    captured = tmpfile();
    assert_non_null(captured);
    saved_stderr = dup(STDERR_FILENO);
    assert_true(saved_stderr >= 0);
    assert_true(dup2(fileno(captured), STDERR_FILENO) >= 0);
}

static int capture_end(void)
{
    fflush(stderr);
    assert_true(dup2(saved_stderr, STDERR_FILENO) >= 0);
    close(saved_stderr);
    rewind(captured);
    int lines = 0, c;
    while ((c = fgetc(captured)) != EOF)
        lines += c == '\n';
    fclose(captured);
    return lines;
}

/* expr must log exactly one line */
#define ONE_LINE(expr)                                                                         \
    do {                                                                                       \
        capture_begin();                                                                       \
        expr;                                                                                  \
        assert_int_equal(capture_end(), 1);                                                    \
    } while (0)

static int setup(void **state)
{
    (void)state;
    coap_startup();
    coap_set_log_level(LOG_WARNING);
    return 0;
}

static void loopback(coap_address_t *a, uint16_t port)
{
    coap_address_init(a);
    a->addr.sin.sin_family = AF_INET;
    a->addr.sin.sin_port = htons(port);
    a->addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a->size = sizeof a->addr.sin;
}

static void dummy_handler(coap_resource_t *r, coap_session_t *s, const coap_pdu_t *req,
                          const coap_string_t *q, coap_pdu_t *resp)
{
    (void)r, (void)s, (void)req, (void)q, (void)resp;
}

/* ---- contexts, credentials, endpoints, the loop ---------------------------- */

static void test_context_bad_use(void **state)
{
    (void)state;
    coap_address_t a;
    loopback(&a, 0);
    coap_context_t *ctx = coap_new_context(NULL);
    assert_non_null(ctx);

    ONE_LINE(assert_null(coap_new_endpoint(NULL, &a, COAP_PROTO_UDP)));
    ONE_LINE(assert_null(coap_new_endpoint(ctx, NULL, COAP_PROTO_UDP)));
    ONE_LINE(assert_null(coap_new_endpoint(ctx, &a, COAP_PROTO_TCP)));
    coap_address_t bad;
    coap_address_init(&bad); /* AF_UNSPEC */
    ONE_LINE(assert_null(coap_new_endpoint(ctx, &bad, COAP_PROTO_UDP)));
    ONE_LINE(assert_int_equal(coap_io_process(NULL, COAP_IO_NO_WAIT), -1));
    ONE_LINE(assert_int_equal(coap_context_set_psk(NULL, "CoAP", (const uint8_t *)"k", 1), 0));
    ONE_LINE(assert_int_equal(coap_context_set_psk(ctx, "CoAP", NULL, 0), 0));
    ONE_LINE(assert_int_equal(coap_context_set_psk2(ctx, NULL), 0));
    coap_dtls_spsk_t spsk;
    memset(&spsk, 0, sizeof spsk); /* version 0 */
    ONE_LINE(assert_int_equal(coap_context_set_psk2(ctx, &spsk), 0));
    ONE_LINE(assert_int_equal(coap_context_set_pki(NULL, NULL), 0));
    coap_dtls_pki_t pki;
    memset(&pki, 0, sizeof pki);
    pki.version = COAP_DTLS_PKI_SETUP_VERSION;
    pki.pki_key.key_type = COAP_PKI_KEY_PKCS11;
    ONE_LINE(assert_int_equal(coap_context_set_pki(ctx, &pki), 0));
    ONE_LINE(coap_register_response_handler(NULL, NULL));
    ONE_LINE(coap_set_app_data(NULL, NULL));
    ONE_LINE(assert_null(coap_get_app_data(NULL)));

    /* a coaps:// endpoint without credentials fails (one line from the
     * server runtime), a coap:// one works, and the loop runs */
    capture_begin();
    assert_null(coap_new_endpoint(ctx, &a, COAP_PROTO_DTLS));
    assert_true(capture_end() >= 1);
    assert_non_null(coap_new_endpoint(ctx, &a, COAP_PROTO_UDP));
    assert_true(coap_io_process(ctx, COAP_IO_NO_WAIT) >= 0);
    assert_true(coap_io_process(ctx, 10) >= 0);

    coap_free_context(ctx);
    coap_free_context(NULL); /* as free(NULL) */
    coap_cleanup();
}

static void test_psk_then_dtls_endpoint(void **state)
{
    (void)state;
    coap_context_t *ctx = coap_new_context(NULL);
    assert_non_null(ctx);
    assert_int_equal(coap_context_set_psk(ctx, "CoAP", (const uint8_t *)"esp32c3_key", 11), 1);
    coap_address_t a;
    loopback(&a, 0);
    assert_non_null(coap_new_endpoint(ctx, &a, COAP_PROTO_DTLS));
    coap_dtls_spsk_t spsk;
    memset(&spsk, 0, sizeof spsk);
    spsk.version = COAP_DTLS_SPSK_SETUP_VERSION;
    spsk.psk_info.hint.s = (const uint8_t *)"CoAP";
    spsk.psk_info.hint.length = 4;
    spsk.psk_info.key.s = (const uint8_t *)"other";
    spsk.psk_info.key.length = 5;
    /* a new key after the first coaps:// endpoint: as libcoap, it counts */
    assert_int_equal(coap_context_set_psk2(ctx, &spsk), 1);
    spsk.psk_info.key.length = 0;
    ONE_LINE(assert_int_equal(coap_context_set_psk2(ctx, &spsk), 0));
    coap_free_context(ctx);
}

/* ---- resources ------------------------------------------------------------------ */

static void test_resource_bad_use(void **state)
{
    (void)state;
    coap_context_t *ctx = coap_new_context(NULL);
    ONE_LINE(assert_null(coap_make_str_const(NULL)));
    coap_resource_t *r = coap_resource_init(coap_make_str_const("light"), 0);
    assert_non_null(r);
    coap_str_const_t *path = coap_resource_get_uri_path(r);
    assert_int_equal(path->length, 5);
    assert_memory_equal(path->s, "light", 5);
    coap_str_const_t bad = {3, NULL};
    ONE_LINE(assert_null(coap_resource_init(&bad, 0)));
    ONE_LINE(coap_register_handler(NULL, COAP_REQUEST_GET, dummy_handler));
    ONE_LINE(coap_register_handler(r, (coap_request_t)99, dummy_handler));
    ONE_LINE(coap_resource_set_get_observable(NULL, 1));
    ONE_LINE(assert_int_equal(coap_resource_notify_observers(NULL, NULL), 0));
    ONE_LINE(assert_null(coap_resource_get_uri_path(NULL)));
    ONE_LINE(coap_resource_set_userdata(NULL, NULL));
    ONE_LINE(assert_null(coap_resource_get_userdata(NULL)));
    ONE_LINE(coap_add_resource(NULL, r));
    ONE_LINE(coap_add_resource(ctx, NULL));
    coap_register_handler(r, COAP_REQUEST_GET, dummy_handler);
    coap_resource_set_get_observable(r, 1);
    coap_add_resource(ctx, r);
    ONE_LINE(coap_add_resource(ctx, r)); /* twice */
    /* observable, but nobody observes: libcoap returns 0 */
    assert_int_equal(coap_resource_notify_observers(r, NULL), 0);
    coap_free_context(ctx); /* frees r */
}

static int released;

static void release(coap_session_t *session, void *app_ptr)
{
    (void)session;
    *(int *)app_ptr += 1;
}

/* ---- PDUs and client sessions -------------------------------------------------- */

static void test_pdu_bad_use(void **state)
{
    (void)state;
    coap_context_t *ctx = coap_new_context(NULL);
    coap_address_t server;
    loopback(&server, 9); /* discard: nothing is sent here */
    ONE_LINE(assert_null(coap_new_client_session(NULL, NULL, &server, COAP_PROTO_UDP)));
    ONE_LINE(assert_null(coap_new_client_session(ctx, NULL, NULL, COAP_PROTO_UDP)));
    ONE_LINE(assert_null(coap_new_client_session(ctx, NULL, &server, COAP_PROTO_TLS)));
    ONE_LINE(assert_null(coap_new_client_session_psk2(ctx, NULL, &server, COAP_PROTO_DTLS, NULL)));
    ONE_LINE(assert_null(coap_new_client_session_pki(ctx, NULL, &server, COAP_PROTO_DTLS, NULL)));
    coap_dtls_pki_t pki; /* certificates but no CA to check the server with */
    memset(&pki, 0, sizeof pki);
    pki.version = COAP_DTLS_PKI_SETUP_VERSION;
    pki.pki_key.key_type = COAP_PKI_KEY_PEM;
    pki.pki_key.key.pem.public_cert = "client.pem";
    pki.pki_key.key.pem.private_key = "client.key";
    ONE_LINE(assert_null(coap_new_client_session_pki(ctx, NULL, &server, COAP_PROTO_DTLS, &pki)));
    coap_session_t *s = coap_new_client_session(ctx, NULL, &server, COAP_PROTO_UDP);
    assert_non_null(s);
    assert_ptr_equal(coap_session_get_context(s), ctx);
    assert_int_equal(coap_session_get_proto(s), COAP_PROTO_UDP);
    ONE_LINE(assert_null(coap_session_get_context(NULL)));
    ONE_LINE(assert_int_equal(coap_new_message_id(NULL), 0));

    ONE_LINE(assert_null(coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, NULL)));
    ONE_LINE(assert_null(coap_new_pdu((coap_pdu_type_t)7, COAP_REQUEST_CODE_GET, s)));
    ONE_LINE(assert_int_equal(coap_pdu_get_code(NULL), 0));
    ONE_LINE(assert_int_equal(coap_pdu_get_mid(NULL), COAP_INVALID_MID));
    ONE_LINE(coap_pdu_set_code(NULL, COAP_RESPONSE_CODE_CONTENT));
    ONE_LINE(assert_int_equal(coap_add_data(NULL, 1, (const uint8_t *)"x"), 0));
    ONE_LINE(assert_int_equal(coap_add_option(NULL, COAP_OPTION_URI_PATH, 1,
                                              (const uint8_t *)"x"), 0));
    size_t len = 99;
    const uint8_t *data = (const uint8_t *)"junk";
    ONE_LINE(assert_int_equal(coap_get_data(NULL, &len, &data), 0));
    assert_int_equal(len, 0);
    assert_null(data);
    ONE_LINE(assert_null(coap_get_query(NULL)));
    ONE_LINE(coap_add_data_blocked_response(NULL, NULL, 0, -1, 0, NULL));
    released = 0;
    ONE_LINE(assert_int_equal(coap_add_data_large_response(NULL, s, NULL, NULL, NULL, 0, -1, 0, 0,
                                                           NULL, release, &released), 0));
    assert_int_equal(released, 1); /* the data is the program's again */
    ONE_LINE(coap_context_set_block_mode(NULL, COAP_BLOCK_USE_LIBCOAP));

    coap_pdu_t *pdu = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_PUT, s);
    assert_non_null(pdu);
    uint8_t token[9] = {0};
    ONE_LINE(assert_int_equal(coap_add_token(pdu, 9, token), 0));
    assert_int_equal(coap_add_token(pdu, 2, token), 1);
    assert_int_equal(coap_pdu_get_token(pdu).length, 2);
    /* Uri-Path "light": one header byte (delta 11) and the value */
    assert_int_equal(coap_add_option(pdu, COAP_OPTION_URI_PATH, 5, (const uint8_t *)"light"), 6);
    assert_int_equal(coap_add_option(pdu, COAP_OPTION_URI_QUERY, 3, (const uint8_t *)"a=1"), 4);
    assert_int_equal(coap_add_option(pdu, COAP_OPTION_URI_QUERY, 1, (const uint8_t *)"b"), 2);
    coap_string_t *q = coap_get_query(pdu);
    assert_non_null(q);
    assert_int_equal(q->length, 5);
    assert_memory_equal(q->s, "a=1&b", 5);
    coap_delete_string(q);
    assert_int_equal(coap_add_data(pdu, 2, (const uint8_t *)"on"), 1);
    ONE_LINE(assert_int_equal(coap_add_data(pdu, 2, (const uint8_t *)"on"), 0)); /* twice */
    ONE_LINE(assert_int_equal(coap_add_option(pdu, COAP_OPTION_ACCEPT, 0, NULL), 0)); /* after data */
    static uint8_t big[COAP_DEFAULT_MTU + 1];
    coap_pdu_t *p2 = coap_new_pdu(COAP_MESSAGE_CON, COAP_REQUEST_CODE_PUT, s);
    ONE_LINE(assert_int_equal(coap_add_data(p2, sizeof big, big), 0));
    assert_int_equal(coap_get_data(pdu, &len, &data), 1);
    assert_int_equal(len, 2);
    assert_memory_equal(data, "on", 2);
    assert_int_equal(coap_pdu_get_code(pdu), COAP_REQUEST_CODE_PUT);
    assert_int_equal(coap_pdu_get_type(pdu), COAP_MESSAGE_CON);

    /* coap_send takes the PDU in every case */
    ONE_LINE(assert_int_equal(coap_send(NULL, pdu), COAP_INVALID_MID));
    coap_pdu_set_code(p2, COAP_RESPONSE_CODE_CONTENT);
    ONE_LINE(assert_int_equal(coap_send(s, p2), COAP_INVALID_MID)); /* not a request */
    ONE_LINE(assert_int_equal(coap_send(s, NULL), COAP_INVALID_MID));
    coap_session_release(s);
    coap_session_release(NULL);
    coap_free_context(ctx);
}

/* ---- URIs and variable-length integers ------------------------------------------ */

static void expect_uri(const char *text, int scheme, const char *host, uint16_t port,
                       const char *path, const char *query)
{
    coap_uri_t u;
    assert_int_equal(coap_split_uri((const uint8_t *)text, strlen(text), &u), 0);
    assert_int_equal(u.scheme, scheme);
    assert_int_equal(u.host.length, strlen(host));
    assert_memory_equal(u.host.s, host, strlen(host));
    assert_int_equal(u.port, port);
    assert_int_equal(u.path.length, strlen(path));
    if (path[0])
        assert_memory_equal(u.path.s, path, strlen(path));
    assert_int_equal(u.query.length, strlen(query));
    if (query[0])
        assert_memory_equal(u.query.s, query, strlen(query));
}

static void test_split_uri(void **state)
{
    (void)state;
    expect_uri("coap://127.0.0.1/light", COAP_URI_SCHEME_COAP, "127.0.0.1", 5683, "light", "");
    expect_uri("coaps://[::1]:7000/a/b?x=1&y", COAP_URI_SCHEME_COAPS, "::1", 7000, "a/b",
               "x=1&y");
    expect_uri("coap://example.com", COAP_URI_SCHEME_COAP, "example.com", 5683, "", "");
    expect_uri("COAPS://h:1?q", COAP_URI_SCHEME_COAPS, "h", 1, "", "q");
    coap_uri_t u;
    static const char *const bad[] = {"http://h/x", "coap://", "coap://[::1/x", "coap://h:99999/",
                                      "coap://h:x/", "coap://h/p#frag", "coap//h"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_true(coap_split_uri((const uint8_t *)bad[i], strlen(bad[i]), &u) < 0);
    ONE_LINE(assert_int_equal(coap_split_uri(NULL, 0, &u), -1));
    ONE_LINE(coap_address_init(NULL));
}

static void test_var_bytes(void **state)
{
    (void)state;
    uint8_t b[4];
    assert_int_equal(coap_encode_var_safe(b, sizeof b, 0), 0);
    assert_int_equal(coap_encode_var_safe(b, sizeof b, 50), 1);
    assert_int_equal(b[0], 50);
    assert_int_equal(coap_encode_var_safe(b, sizeof b, 0x1234), 2);
    assert_int_equal(b[0], 0x12);
    assert_int_equal(b[1], 0x34);
    ONE_LINE(assert_int_equal(coap_encode_var_safe(b, 1, 0x1234), 0));
    assert_int_equal(coap_decode_var_bytes(b, 2), 0x1234);
    assert_string_equal(coap_response_phrase(COAP_RESPONSE_CODE(404)), "Not Found");
    assert_null(coap_response_phrase(0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_context_bad_use, setup),
        cmocka_unit_test_setup(test_psk_then_dtls_endpoint, setup),
        cmocka_unit_test_setup(test_resource_bad_use, setup),
        cmocka_unit_test_setup(test_pdu_bad_use, setup),
        cmocka_unit_test_setup(test_split_uri, setup),
        cmocka_unit_test_setup(test_var_bytes, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
