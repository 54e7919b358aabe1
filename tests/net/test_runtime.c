/* test_runtime.c - the public runtime (include/coaps/server.h, client.h,
 * src/net/server.c and client.c) on loopback, through public headers only:
 * our client GETs a resource from our server over coap:// and coaps://
 * (PSK), both driven by hand with _process() as a user's own loop would;
 * the deadline and descriptor a user's loop waits on; and the one-line
 * errors for bad use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "coaps/client.h"
#include "coaps/coap.h"
#include "coaps/server.h"

static const uint8_t psk_id[] = "device-7";
static const uint8_t psk_key[] = "secret-key-7";

struct answer {
    bool done;
    coaps_status status;
    uint8_t code;
    char payload[64];
};

static coaps_status get_hello(void *user, const coaps_coap_request *req, coaps_coap_response *resp)
{
    (void)user;
    (void)req;
    return coaps_coap_response_set_payload(resp, "hello", 5);
}

static void on_response(void *user, const coaps_coap_client_event *ev)
{
    struct answer *a = user;
    a->done = true;
    a->status = ev->status;
    a->code = ev->code;
    size_t n = ev->payload_len < sizeof a->payload - 1 ? ev->payload_len : sizeof a->payload - 1;
    memcpy(a->payload, ev->payload, n);
    a->payload[n] = '\0';
}

static coaps_server *new_server(void)
{
    coaps_server_config cfg;
    coaps_server_config_default(&cfg);
    cfg.catch_signals = false;
    cfg.rcvbuf = 0;
    coaps_server *srv = NULL;
    char err[256] = "";
    assert_int_equal(coaps_server_new(&srv, &cfg, err, sizeof err), COAPS_OK);
    coaps_coap_resource_def def;
    coaps_coap_resource_def_init(&def, "hello");
    def.handler[COAPS_COAP_GET] = get_hello;
    assert_int_equal(coaps_coap_resource_add(coaps_server_coap(srv), &def, NULL), COAPS_OK);
    return srv;
}

/* The port of "127.0.0.1:PORT". */
static uint16_t bound_port(const char *bound)
{
    const char *colon = strrchr(bound, ':');
    assert_non_null(colon);
    return (uint16_t)atoi(colon + 1);
}

static coaps_client *new_client(bool psk)
{
    coaps_client_config cfg;
    coaps_client_config_default(&cfg);
    cfg.catch_signals = false;
    if (psk) {
        cfg.psk_identity = psk_id;
        cfg.psk_identity_len = sizeof psk_id - 1;
        cfg.psk_key = psk_key;
        cfg.psk_key_len = sizeof psk_key - 1;
    }
    coaps_client *cl = NULL;
    char err[256] = "";
    assert_int_equal(coaps_client_new(&cl, &cfg, err, sizeof err), COAPS_OK);
    return cl;
}

/* Turn both loops without blocking until done or ~2 s of turns. */
static void pump(coaps_server *srv, coaps_client *cl, bool (*done)(void *), void *arg)
{
    for (int i = 0; i < 2000 && !done(arg); i++) {
        assert_int_equal(coaps_client_process(cl, 1), COAPS_OK);
        assert_int_equal(coaps_server_process(srv, 0), COAPS_OK);
    }
}

static bool answered(void *arg)
{
    return ((struct answer *)arg)->done;
}

static void get(coaps_server *srv, coaps_client *cl, const coaps_peer *server, struct answer *a)
{
    coaps_coap_client_request req;
    coaps_coap_client_request_init(&req);
    req.peer = *server;
    req.method = COAPS_COAP_GET;
    req.uri_path = "hello";
    req.cb = on_response;
    req.user = a;
    coaps_coap_request_id id;
    assert_int_equal(coaps_client_request(cl, &req, &id), COAPS_OK);
    pump(srv, cl, answered, a);
}

static void get_over_coap(void **state)
{
    (void)state;
    coaps_server *srv = new_server();
    char bound[64], err[256] = "";
    assert_int_equal(coaps_server_listen(srv, "127.0.0.1", 0, false, bound, sizeof bound, err,
                                         sizeof err),
                     COAPS_OK);
    assert_true(coaps_server_fd(srv) >= 0);
    coaps_client *cl = new_client(false);
    coaps_peer server;
    assert_int_equal(coaps_client_connect(cl, "127.0.0.1", bound_port(bound), false, &server, err,
                                          sizeof err),
                     COAPS_OK);
    struct answer a = {0};
    get(srv, cl, &server, &a);
    assert_true(a.done);
    assert_int_equal(a.status, COAPS_OK);
    assert_int_equal(a.code, COAPS_COAP_CONTENT);
    assert_string_equal(a.payload, "hello");
    assert_int_equal(coaps_client_dtls_state(cl, NULL, 0), COAPS_DTLS_ESTABLISHED);
    coaps_client_free(cl);
    coaps_server_free(srv);
}

static bool established(void *arg)
{
    return coaps_client_dtls_state(arg, NULL, 0) != COAPS_DTLS_HANDSHAKING;
}

/* coaps:// with a PSK; with the wrong key the client learns why. */
static void get_over_coaps(void **state)
{
    (void)state;
    coaps_server *srv = new_server();
    assert_int_equal(coaps_server_add_psk(srv, psk_id, sizeof psk_id - 1, psk_key,
                                          sizeof psk_key - 1),
                     COAPS_OK);
    assert_true(coaps_server_has_credentials(srv));
    char bound[64], err[256] = "";
    assert_int_equal(coaps_server_listen(srv, "127.0.0.1", 0, true, bound, sizeof bound, err,
                                         sizeof err),
                     COAPS_OK);
    coaps_client *cl = new_client(true);
    coaps_peer server;
    assert_int_equal(coaps_client_connect(cl, "127.0.0.1", bound_port(bound), true, &server, err,
                                          sizeof err),
                     COAPS_OK);
    pump(srv, cl, established, cl);
    assert_int_equal(coaps_client_dtls_state(cl, err, sizeof err), COAPS_DTLS_ESTABLISHED);
    assert_int_equal(coaps_server_sessions(srv), 1);
    struct answer a = {0};
    get(srv, cl, &server, &a);
    assert_int_equal(a.code, COAPS_COAP_CONTENT);
    assert_string_equal(a.payload, "hello");
    coaps_client_free(cl);

    coaps_client_config cfg;
    coaps_client_config_default(&cfg);
    cfg.catch_signals = false;
    cfg.psk_identity = psk_id;
    cfg.psk_identity_len = sizeof psk_id - 1;
    cfg.psk_key = (const uint8_t *)"wrong";
    cfg.psk_key_len = 5;
    assert_int_equal(coaps_client_new(&cl, &cfg, err, sizeof err), COAPS_OK);
    assert_int_equal(coaps_client_connect(cl, "127.0.0.1", bound_port(bound), true, &server, err,
                                          sizeof err),
                     COAPS_OK);
    pump(srv, cl, established, cl);
    err[0] = '\0';
    assert_int_equal(coaps_client_dtls_state(cl, err, sizeof err), COAPS_DTLS_FAILED);
    assert_non_null(strstr(err, "bad_record_mac"));
    coaps_client_free(cl);
    coaps_server_free(srv);
}

/* A user's loop waits on the descriptor at most until the deadline: with
 * nothing pending the server has no deadline or a far one, never one in
 * the past that would make the loop spin. */
static void deadline_for_own_loop(void **state)
{
    (void)state;
    coaps_server *srv = new_server();
    char bound[64], err[256] = "";
    assert_int_equal(coaps_server_listen(srv, "127.0.0.1", 0, false, bound, sizeof bound, err,
                                         sizeof err),
                     COAPS_OK);
    assert_int_equal(coaps_server_process(srv, 0), COAPS_OK);
    int t = coaps_server_timeout_ms(srv);
    assert_true(t == -1 || t > 0);
    coaps_server_free(srv);
}

/* Bad use: one line naming what is wrong, and the right status. */
static void bad_use_is_named(void **state)
{
    (void)state;
    coaps_server_config cfg;
    coaps_server_config_default(&cfg);
    cfg.log_level = 12;
    coaps_server *srv = (coaps_server *)1;
    char err[256] = "";
    assert_int_equal(coaps_server_new(&srv, &cfg, err, sizeof err), COAPS_E_INVALID);
    assert_null(srv);
    assert_non_null(strstr(err, "log level 12"));

    srv = new_server();
    assert_int_equal(coaps_server_listen(srv, "127.0.0.1", 0, true, NULL, 0, err, sizeof err),
                     COAPS_E_INVALID);
    assert_non_null(strstr(err, "no credentials"));
    assert_int_equal(coaps_server_listen(srv, "no-such-host.invalid", 0, false, NULL, 0, err,
                                         sizeof err),
                     COAPS_E_NOT_FOUND);
    assert_non_null(strstr(err, "cannot resolve 'no-such-host.invalid'"));
    assert_int_equal(coaps_server_add_psk_arg(srv, "nocolon", err, sizeof err), COAPS_E_INVALID);
    assert_non_null(strstr(err, "IDENTITY:KEY"));
    assert_int_equal(coaps_server_add_psk_arg(srv, "a:b", err, sizeof err), COAPS_OK);
    assert_int_equal(coaps_server_listen(srv, "127.0.0.1", 0, true, NULL, 0, err, sizeof err),
                     COAPS_OK);
    /* keys may be added while it serves */
    assert_int_equal(coaps_server_add_psk_arg(srv, "c:d", err, sizeof err), COAPS_OK);
    coaps_server_free(srv);

    coaps_client *cl = new_client(false);
    coaps_peer server;
    assert_int_equal(coaps_client_connect(cl, "127.0.0.1", 5684, true, &server, err, sizeof err),
                     COAPS_E_INVALID);
    assert_non_null(strstr(err, "no credentials"));
    coaps_client_free(cl);
    coaps_server_free(NULL);
    coaps_client_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(get_over_coap),
        cmocka_unit_test(get_over_coaps),
        cmocka_unit_test(deadline_for_own_loop),
        cmocka_unit_test(bad_use_is_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
