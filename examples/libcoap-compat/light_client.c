/*
 * light_client.c - a CoAP client written against the libcoap 4.3 API: one
 * request to a URI, the answer printed as "CODE PAYLOAD" on stdout (e.g.
 * "2.05 on"); with -s, a GET that observes the resource (RFC 7641) for
 * that many seconds, each notification printed the same way. Builds
 * unchanged against libcoap and against coaps's layer.
 *
 *   light-client [-m get|put|post|delete] [-e DATA] [-u IDENTITY -k KEY]
 *                [-c CERT -j KEY] [-C CA] [-s SECONDS] URI
 *
 * URI is coap:// or coaps:// with a numeric host; coaps:// needs -k (PSK)
 * or certificates: -C CA checks the server's certificate, -c/-j (PEM
 * files) present ours (coap_new_client_session_pki).
 * Exit status 0 when a response arrived (within 10 s, or -s), else 1.
 */
#include <coap3/coap.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CLIENT_WAIT_S 10

static int answered;

static coap_response_t on_response(coap_session_t *session, const coap_pdu_t *sent,
                                   const coap_pdu_t *received, const coap_mid_t mid)
{
    (void)session;
    (void)sent;
    (void)mid;
    coap_pdu_code_t code = coap_pdu_get_code(received);
    size_t len = 0;
    const uint8_t *data = NULL;
    coap_get_data(received, &len, &data);
    printf("%d.%02d %.*s\n", (int)code >> 5, (int)code & 0x1f, (int)len,
           data ? (const char *)data : "");
    fflush(stdout);
    answered = 1;
    return COAP_RESPONSE_OK;
}

static coap_session_t *pki_session(coap_context_t *ctx, const coap_address_t *server,
                                   const char *cert, const char *key, const char *ca)
{
    coap_dtls_pki_t pki;
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
    return coap_new_client_session_pki(ctx, NULL, server, COAP_PROTO_DTLS, &pki);
}

static int method_of(const char *m)
{
    static const char *const names[] = {"get", "post", "put", "delete"};
    for (int i = 0; i < 4; i++)
        if (strcmp(m, names[i]) == 0)
            return COAP_REQUEST_GET + i;
    return -1;
}

static int server_address(const coap_uri_t *uri, coap_address_t *addr)
{
    char host[64];
    if (uri->host.length >= sizeof host)
        return 0;
    memcpy(host, uri->host.s, uri->host.length);
    host[uri->host.length] = '\0';
    coap_address_init(addr);
    if (inet_pton(AF_INET, host, &addr->addr.sin.sin_addr) == 1) {
        addr->addr.sin.sin_family = AF_INET;
        addr->addr.sin.sin_port = htons(uri->port);
        addr->size = sizeof addr->addr.sin;
        return 1;
    }
    if (inet_pton(AF_INET6, host, &addr->addr.sin6.sin6_addr) == 1) {
        addr->addr.sin6.sin6_family = AF_INET6;
        addr->addr.sin6.sin6_port = htons(uri->port);
        addr->size = sizeof addr->addr.sin6;
        return 1;
    }
    return 0;
}

/* One option per '/'-separated path segment or '&'-separated query item. */
static int add_segments(coap_pdu_t *pdu, coap_option_num_t number, coap_str_const_t s, char sep)
{
    size_t start = 0;
    for (size_t i = 0; i <= s.length; i++) {
        if (i < s.length && s.s[i] != sep)
            continue;
        if (i > start && coap_add_option(pdu, number, i - start, s.s + start) == 0)
            return 0;
        start = i + 1;
    }
    return 1;
}

int main(int argc, char **argv)
{
    int method = COAP_REQUEST_GET, opt, observe_s = 0;
    const char *data = NULL, *identity = "light-client", *key = NULL;
    const char *cert = NULL, *cert_key = NULL, *ca = NULL;
    while ((opt = getopt(argc, argv, "m:e:u:k:s:c:j:C:")) != -1) {
        if (opt == 'm' && (method = method_of(optarg)) > 0)
            continue;
        if (opt == 's' && (observe_s = atoi(optarg)) > 0)
            continue;
        if (opt == 'e' || opt == 'u' || opt == 'k') {
            *(opt == 'e' ? &data : opt == 'u' ? &identity : &key) = optarg;
            continue;
        }
        if (opt == 'c' || opt == 'j' || opt == 'C') {
            *(opt == 'c' ? &cert : opt == 'j' ? &cert_key : &ca) = optarg;
            continue;
        }
        fprintf(stderr, "usage: light-client [-m get|put|post|delete] [-e DATA] "
                        "[-u IDENTITY -k KEY] [-c CERT -j KEY] [-C CA] [-s SECONDS] URI\n");
        return 2;
    }
    if (optind != argc - 1) {
        fprintf(stderr, "light-client: one URI expected\n");
        return 2;
    }
    const char *uri_text = argv[optind];
    coap_uri_t uri;
    coap_address_t server;
    if (coap_split_uri((const uint8_t *)uri_text, strlen(uri_text), &uri) < 0 ||
        !server_address(&uri, &server)) {
        fprintf(stderr, "light-client: '%s' is not a coap:// URI with a numeric host\n",
                uri_text);
        return 2;
    }
    int secure = uri.scheme == COAP_URI_SCHEME_COAPS;
    int use_pki = cert != NULL || ca != NULL;
    if ((cert == NULL) != (cert_key == NULL)) {
        fprintf(stderr, "light-client: -c and -j go together\n");
        return 2;
    }
    if (secure && key == NULL && !use_pki) {
        fprintf(stderr, "light-client: coaps:// needs a key (-k) or certificates (-c/-j, -C)\n");
        return 2;
    }

    coap_startup();
    coap_set_log_level(LOG_WARNING);
    int rc = 1;
    coap_session_t *session = NULL;
    coap_context_t *ctx = coap_new_context(NULL);
    if (ctx == NULL)
        goto done;
    coap_register_response_handler(ctx, on_response);
    if (secure && use_pki) {
        session = pki_session(ctx, &server, cert, cert_key, ca);
    } else if (secure) {
        coap_dtls_cpsk_t psk;
        memset(&psk, 0, sizeof psk);
        psk.version = COAP_DTLS_CPSK_SETUP_VERSION;
        psk.psk_info.identity.s = (const uint8_t *)identity;
        psk.psk_info.identity.length = strlen(identity);
        psk.psk_info.key.s = (const uint8_t *)key;
        psk.psk_info.key.length = strlen(key);
        session = coap_new_client_session_psk2(ctx, NULL, &server, COAP_PROTO_DTLS, &psk);
    } else {
        session = coap_new_client_session(ctx, NULL, &server, COAP_PROTO_UDP);
    }
    if (session == NULL)
        goto done;

    coap_pdu_t *pdu = coap_new_pdu(COAP_MESSAGE_CON, (coap_pdu_code_t)method, session);
    uint8_t obs[4];
    if (pdu == NULL ||
        (observe_s > 0 &&
         !coap_add_option(pdu, COAP_OPTION_OBSERVE,
                          coap_encode_var_safe(obs, sizeof obs, COAP_OBSERVE_ESTABLISH), obs)) ||
        !add_segments(pdu, COAP_OPTION_URI_PATH, uri.path, '/') ||
        !add_segments(pdu, COAP_OPTION_URI_QUERY, uri.query, '&') ||
        (data && !coap_add_data(pdu, strlen(data), (const uint8_t *)data))) {
        coap_delete_pdu(pdu);
        goto done;
    }
    if (coap_send(session, pdu) == COAP_INVALID_MID)
        goto done;
    time_t end = time(NULL) + (observe_s > 0 ? observe_s : CLIENT_WAIT_S);
    while ((observe_s > 0 || !answered) && time(NULL) < end)
        if (coap_io_process(ctx, 1000) < 0)
            break;
    rc = answered ? 0 : 1;
done:
    if (rc != 0)
        fprintf(stderr, "light-client: no answer from %s\n", uri_text);
    if (session)
        coap_session_release(session);
    coap_free_context(ctx);
    coap_cleanup();
    return rc;
}
