/*
 * light_server.c - a light device written against the libcoap 4.3 API, in
 * the shape of ESP-IDF's coap_server example: coap:// on 5683, coaps:// on
 * 5684 with the PSK identity hint "CoAP" and the key "esp32c3_key", and an
 * observable resource /light whose GET returns the state and whose PUT
 * sets it (an empty PUT switches it back off) and notifies the observers.
 *
 * The same file builds against libcoap itself and against coaps's layer:
 *   cc light_server.c $(pkg-config --cflags --libs libcoap-3-openssl)
 *   cc light_server.c $(pkg-config --cflags --libs libcoap-3-coaps)
 *
 * With -c CERT -j KEY (PEM files) the coaps:// endpoint also offers
 * certificates (coap_context_set_pki); with -C CA it asks the clients for
 * theirs and refuses one that CA did not sign (verify_peer_cert).
 *
 *   light-server [-c CERT -j KEY [-C CA]] [UDP_PORT [DTLS_PORT]]
 *                                          (tests pass free ports)
 */
#include <coap3/coap.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LIGHT_PSK_HINT "CoAP"
#define LIGHT_PSK_KEY "esp32c3_key"
#define LIGHT_STATE_MAX 64
#define LIGHT_INITIAL "off"

static char light_state[LIGHT_STATE_MAX] = LIGHT_INITIAL;
static size_t light_state_len = sizeof LIGHT_INITIAL - 1;
static volatile sig_atomic_t stop_now;

static void on_signal(int sig)
{
    (void)sig;
    stop_now = 1;
}

static void light_get(coap_resource_t *resource, coap_session_t *session,
                      const coap_pdu_t *request, const coap_string_t *query,
                      coap_pdu_t *response)
{
    (void)resource;
    (void)session;
    (void)query;
    coap_add_data_blocked_response(request, response, COAP_MEDIATYPE_TEXT_PLAIN, -1,
                                   light_state_len, (const uint8_t *)light_state);
}

/* /info, as ESP-IDF 5's example serves its resource: block-wise handled
 * by the library, the body handed over with coap_add_data_large_response */
static const char info_text[] = "light on the libcoap 4.3 API";

static void info_get(coap_resource_t *resource, coap_session_t *session,
                     const coap_pdu_t *request, const coap_string_t *query,
                     coap_pdu_t *response)
{
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTENT);
    coap_add_data_large_response(resource, session, request, response, query,
                                 COAP_MEDIATYPE_TEXT_PLAIN, 60, 0, sizeof info_text - 1,
                                 (const uint8_t *)info_text, NULL, NULL);
}

static void light_put(coap_resource_t *resource, coap_session_t *session,
                      const coap_pdu_t *request, const coap_string_t *query,
                      coap_pdu_t *response)
{
    (void)session;
    (void)query;
    size_t len = 0;
    const uint8_t *data = NULL;
    coap_get_data(request, &len, &data);
    if (len > LIGHT_STATE_MAX) {
        coap_pdu_set_code(response, COAP_RESPONSE_CODE_REQUEST_TOO_LARGE);
        return;
    }
    /* the observers get the new state when the loop next runs */
    coap_resource_notify_observers(resource, NULL);
    if (len == 0) {
        memcpy(light_state, LIGHT_INITIAL, sizeof LIGHT_INITIAL - 1);
        light_state_len = sizeof LIGHT_INITIAL - 1;
    } else {
        memcpy(light_state, data, len);
        light_state_len = len;
    }
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_CHANGED);
}

/* Certificates as ESP-IDF's example sets them: PEM files, the peer's
 * certificate checked against the CA when one is given. */
static int set_pki(coap_context_t *ctx, const char *cert, const char *key, const char *ca)
{
    static coap_dtls_pki_t pki; /* libcoap may keep pointers into it */
    memset(&pki, 0, sizeof pki);
    pki.version = COAP_DTLS_PKI_SETUP_VERSION;
    pki.verify_peer_cert = ca != NULL;
    pki.check_common_ca = ca != NULL;
    pki.cert_chain_validation = 1;
    pki.cert_chain_verify_depth = 2;
    pki.pki_key.key_type = COAP_PKI_KEY_PEM;
    pki.pki_key.key.pem.public_cert = cert;
    pki.pki_key.key.pem.private_key = key;
    pki.pki_key.key.pem.ca_file = ca;
    return coap_context_set_pki(ctx, &pki);
}

static int add_endpoint(coap_context_t *ctx, uint16_t port, coap_proto_t proto)
{
    coap_address_t addr;
    coap_address_init(&addr);
    addr.addr.sin6.sin6_family = AF_INET6; /* [::]: IPv6 and IPv4 */
    addr.addr.sin6.sin6_port = htons(port);
    addr.size = sizeof addr.addr.sin6;
    return coap_new_endpoint(ctx, &addr, proto) != NULL;
}

int main(int argc, char **argv)
{
    const char *cert = NULL, *key = NULL, *ca = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "c:j:C:")) != -1) {
        if (opt == 'c' || opt == 'j' || opt == 'C') {
            *(opt == 'c' ? &cert : opt == 'j' ? &key : &ca) = optarg;
            continue;
        }
        fprintf(stderr, "usage: light-server [-c CERT -j KEY [-C CA]] [UDP_PORT [DTLS_PORT]]\n");
        return 2;
    }
    if ((cert == NULL) != (key == NULL) || (ca != NULL && cert == NULL)) {
        fprintf(stderr, "light-server: -c and -j go together, -C needs them\n");
        return 2;
    }
    argc -= optind - 1;
    argv += optind - 1;
    uint16_t udp_port = argc > 1 ? (uint16_t)atoi(argv[1]) : COAP_DEFAULT_PORT;
    uint16_t dtls_port = argc > 2 ? (uint16_t)atoi(argv[2]) : COAPS_DEFAULT_PORT;
    int rc = 1;

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    coap_startup();
    coap_set_log_level(LOG_WARNING);

    coap_context_t *ctx = coap_new_context(NULL);
    if (ctx == NULL)
        goto done;
    coap_context_set_block_mode(ctx, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
    if (coap_dtls_is_supported() &&
        !coap_context_set_psk(ctx, LIGHT_PSK_HINT, (const uint8_t *)LIGHT_PSK_KEY,
                              sizeof LIGHT_PSK_KEY - 1))
        goto done;
    if (cert != NULL && (!coap_dtls_is_supported() || !set_pki(ctx, cert, key, ca)))
        goto done;
    if (!add_endpoint(ctx, udp_port, COAP_PROTO_UDP))
        goto done;
    if (coap_dtls_is_supported() && !add_endpoint(ctx, dtls_port, COAP_PROTO_DTLS))
        goto done;

    coap_resource_t *light = coap_resource_init(coap_make_str_const("light"), 0);
    if (light == NULL)
        goto done;
    coap_register_handler(light, COAP_REQUEST_GET, light_get);
    coap_register_handler(light, COAP_REQUEST_PUT, light_put);
    coap_resource_set_get_observable(light, 1);
    coap_add_resource(ctx, light);
    coap_resource_t *info = coap_resource_init(coap_make_str_const("info"), 0);
    if (info == NULL)
        goto done;
    coap_register_handler(info, COAP_REQUEST_GET, info_get);
    coap_add_resource(ctx, info);

    printf("light-server: coap://[::]:%u coaps://[::]:%u\n", udp_port, dtls_port);
    fflush(stdout);
    while (!stop_now) {
        if (coap_io_process(ctx, 1000) < 0)
            break;
    }
    rc = 0;
done:
    if (rc != 0)
        fprintf(stderr, "light-server: setting up failed\n");
    coap_free_context(ctx);
    coap_cleanup();
    return rc;
}
