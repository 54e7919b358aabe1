/* context.c - libcoap's context: a coaps_server for its endpoints (made at
 * the first one, when the server credentials are known), the client
 * sessions, and coap_io_process, which waits on all of their descriptors
 * at once. */
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compat/compat.h"

void coap_startup(void)
{
    /* nothing to set up: the crypto backend starts with the first context */
}

void coap_cleanup(void)
{
}

const char *coap_package_version(void)
{
    return "4.3.1-coaps";
}

int coap_dtls_is_supported(void)
{
    return 1;
}

int coap_tls_is_supported(void)
{
    return 0; /* CoAP over TCP/TLS (RFC 8323) is not implemented */
}

coap_context_t *coap_new_context(const coap_address_t *listen_addr)
{
    coap_context_t *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL) {
        COMPAT_BAD("coap_new_context", "out of memory");
        return NULL;
    }
    if (listen_addr != NULL && coap_new_endpoint(ctx, listen_addr, COAP_PROTO_UDP) == NULL) {
        coap_free_context(ctx);
        return NULL;
    }
    return ctx;
}

void coap_free_context(coap_context_t *ctx)
{
    if (ctx == NULL)
        return;
    compat_sessions_free(ctx);
    coaps_server_free(ctx->server);
    compat_resources_free(ctx);
    free((char *)ctx->pki.ca_file);
    free((char *)ctx->pki.cert_file);
    free((char *)ctx->pki.key_file);
    free(ctx);
}

void coap_set_app_data(coap_context_t *ctx, void *data)
{
    if (ctx == NULL) {
        COMPAT_BAD("coap_set_app_data", "NULL context");
        return;
    }
    ctx->app_data = data;
}

void *coap_get_app_data(const coap_context_t *ctx)
{
    if (ctx == NULL) {
        COMPAT_BAD("coap_get_app_data", "NULL context");
        return NULL;
    }
    return ctx->app_data;
}

void coap_context_set_block_mode(coap_context_t *ctx, uint8_t block_mode)
{
    (void)block_mode; /* coaps's core always does block-wise transfer itself */
    if (ctx == NULL)
        COMPAT_BAD("coap_context_set_block_mode", "NULL context");
}

/* ---- server credentials ---------------------------------------------------- */

static int context_keep_psk(coap_context_t *ctx, const char *fn, const uint8_t *hint,
                            size_t hint_len, const uint8_t *key, size_t key_len)
{
    if (hint_len > COAPS_DTLS_PSK_HINT_MAX || key_len > sizeof ctx->psk_key || key_len == 0 ||
        key == NULL) {
        COMPAT_BAD(fn, "PSK hint or key empty or too long");
        return 0;
    }
    if (ctx->server != NULL) {
        /* the key for any identity from now on; the hint was fixed when the
         * server was made (docs/libcoap-compat.md) */
        if (coaps_server_add_psk(ctx->server, NULL, 0, key, key_len) != COAPS_OK) {
            COMPAT_BAD(fn, "the server refused the PSK");
            return 0;
        }
    }
    memcpy(ctx->psk_hint, hint, hint_len);
    ctx->psk_hint[hint_len] = '\0';
    memcpy(ctx->psk_key, key, key_len);
    ctx->psk_key_len = key_len;
    ctx->has_psk = true;
    return 1;
}

int coap_context_set_psk(coap_context_t *ctx, const char *hint, const uint8_t *key,
                         size_t key_len)
{
    if (ctx == NULL) {
        COMPAT_BAD("coap_context_set_psk", "NULL context");
        return 0;
    }
    return context_keep_psk(ctx, "coap_context_set_psk", (const uint8_t *)hint,
                            hint ? strlen(hint) : 0, key, key_len);
}

int coap_context_set_psk2(coap_context_t *ctx, coap_dtls_spsk_t *setup)
{
    if (ctx == NULL || setup == NULL) {
        COMPAT_BAD("coap_context_set_psk2", "NULL context or setup data");
        return 0;
    }
    if (setup->version != COAP_DTLS_SPSK_SETUP_VERSION) {
        COMPAT_BAD("coap_context_set_psk2", "unknown setup_data version");
        return 0;
    }
    if (setup->validate_id_call_back || setup->validate_sni_call_back)
        coap_log(LOG_WARNING, "coap_context_set_psk2: identity and SNI callbacks are not "
                              "supported; the key is used for every identity\n");
    const coap_dtls_spsk_info_t *i = &setup->psk_info;
    return context_keep_psk(ctx, "coap_context_set_psk2", i->hint.s, i->hint.length, i->key.s,
                            i->key.length);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

int coap_context_set_pki(coap_context_t *ctx, const coap_dtls_pki_t *setup)
{
    if (ctx == NULL || setup == NULL) {
        COMPAT_BAD("coap_context_set_pki", "NULL context or setup data");
        return 0;
    }
    if (setup->version != COAP_DTLS_PKI_SETUP_VERSION ||
        setup->pki_key.key_type != COAP_PKI_KEY_PEM) {
        COMPAT_BAD("coap_context_set_pki", "only version 1 with COAP_PKI_KEY_PEM files is supported");
        return 0;
    }
    if (ctx->server != NULL || ctx->has_pki) {
        COMPAT_BAD("coap_context_set_pki", "certificates must be set once, before the first endpoint");
        return 0;
    }
    const coap_pki_key_pem_t *pem = &setup->pki_key.key.pem;
    ctx->pki.ca_file = dup_or_null(pem->ca_file);
    ctx->pki.cert_file = dup_or_null(pem->public_cert);
    ctx->pki.key_file = dup_or_null(pem->private_key);
    ctx->pki.require_client_cert = setup->verify_peer_cert && pem->ca_file != NULL;
    ctx->pki.use_rpk = setup->is_rpk_not_cert != 0;
    ctx->has_pki = true;
    return 1;
}

/* ---- the server and its endpoints ----------------------------------------- */

int compat_context_server(coap_context_t *ctx)
{
    if (ctx->server != NULL)
        return 1;
    coaps_server_config cfg;
    coaps_server_config_default(&cfg);
    cfg.log_level = compat_log_level();
    cfg.log_name = "coap";
    cfg.psk_hint = ctx->has_psk ? ctx->psk_hint : "";
    cfg.pki = ctx->has_pki ? &ctx->pki : NULL;
    cfg.catch_signals = false; /* libcoap leaves signals to the program */
    char err[256] = "";
    if (coaps_server_new(&ctx->server, &cfg, err, sizeof err) != COAPS_OK) {
        coap_log(LOG_ERR, "coap_new_endpoint: %s\n", err);
        return 0;
    }
    if (ctx->has_psk &&
        coaps_server_add_psk(ctx->server, NULL, 0, ctx->psk_key, ctx->psk_key_len) != COAPS_OK) {
        coap_log(LOG_ERR, "coap_new_endpoint: cannot keep the PSK\n");
        return 0;
    }
    return compat_resources_attach(ctx);
}

/* The listen address as coaps_server_listen takes it: NULL for [::]
 * (dual stack, as libcoap binds it). */
static const char *endpoint_host(const coap_address_t *a, char *buf, size_t cap,
                                 uint16_t *port)
{
    if (a->addr.sa.sa_family == AF_INET) {
        *port = ntohs(a->addr.sin.sin_port);
        return inet_ntop(AF_INET, &a->addr.sin.sin_addr, buf, (socklen_t)cap);
    }
    if (a->addr.sa.sa_family == AF_INET6) {
        *port = ntohs(a->addr.sin6.sin6_port);
        if (IN6_IS_ADDR_UNSPECIFIED(&a->addr.sin6.sin6_addr))
            return NULL;
        return inet_ntop(AF_INET6, &a->addr.sin6.sin6_addr, buf, (socklen_t)cap);
    }
    return "";
}

coap_endpoint_t *coap_new_endpoint(coap_context_t *ctx, const coap_address_t *listen_addr,
                                   coap_proto_t proto)
{
    if (ctx == NULL || listen_addr == NULL) {
        COMPAT_BAD("coap_new_endpoint", "NULL context or address");
        return NULL;
    }
    if (proto != COAP_PROTO_UDP && proto != COAP_PROTO_DTLS) {
        COMPAT_BAD("coap_new_endpoint", "only COAP_PROTO_UDP and COAP_PROTO_DTLS are supported");
        return NULL;
    }
    if (ctx->n_endpoints == COMPAT_ENDPOINTS_MAX) {
        COMPAT_BAD("coap_new_endpoint", "too many endpoints");
        return NULL;
    }
    char host[INET6_ADDRSTRLEN] = "";
    uint16_t port = 0;
    const char *h = endpoint_host(listen_addr, host, sizeof host, &port);
    if (h != NULL && h[0] == '\0') {
        COMPAT_BAD("coap_new_endpoint", "address is neither IPv4 nor IPv6");
        return NULL;
    }
    if (!compat_context_server(ctx))
        return NULL;
    char err[256] = "";
    if (coaps_server_listen(ctx->server, h, port, proto == COAP_PROTO_DTLS, NULL, 0, err,
                            sizeof err) != COAPS_OK) {
        coap_log(LOG_CRIT, "coap_new_endpoint: %s\n", err);
        return NULL;
    }
    coap_endpoint_t *ep = &ctx->endpoints[ctx->n_endpoints++];
    ep->ctx = ctx;
    ep->proto = proto;
    return ep;
}

/* ---- the loop -------------------------------------------------------------- */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The sooner of two poll(2) timeouts (-1: none). */
static int sooner(int a, int b)
{
    if (a < 0)
        return b;
    if (b < 0)
        return a;
    return a < b ? a : b;
}

static int io_wait(coap_context_t *ctx, uint32_t timeout_ms)
{
    struct pollfd pfd[1 + COMPAT_SESSIONS_MAX];
    nfds_t n = 0;
    int wait = timeout_ms == COAP_IO_NO_WAIT ? 0
               : timeout_ms == COAP_IO_WAIT  ? -1
               : timeout_ms > INT32_MAX      ? INT32_MAX
                                             : (int)timeout_ms;
    if (ctx->server != NULL) {
        pfd[n++] = (struct pollfd){.fd = coaps_server_fd(ctx->server), .events = POLLIN};
        wait = sooner(wait, coaps_server_timeout_ms(ctx->server));
    }
    for (size_t i = 0; i < COMPAT_SESSIONS_MAX; i++) {
        coap_session_t *s = ctx->sessions[i];
        if (s == NULL || s->client == NULL)
            continue;
        pfd[n++] = (struct pollfd){.fd = coaps_client_fd(s->client), .events = POLLIN};
        wait = sooner(wait, coaps_client_timeout_ms(s->client));
    }
    return poll(n ? pfd : NULL, n, wait) < 0 ? -1 : 0;
}

int coap_io_process(coap_context_t *ctx, uint32_t timeout_ms)
{
    if (ctx == NULL) {
        COMPAT_BAD("coap_io_process", "NULL context");
        return -1;
    }
    uint64_t start = now_ms();
    if (io_wait(ctx, timeout_ms) < 0)
        return -1;
    if (ctx->server != NULL && coaps_server_process(ctx->server, 0) != COAPS_OK)
        return -1;
    for (size_t i = 0; i < COMPAT_SESSIONS_MAX; i++) {
        coap_session_t *s = ctx->sessions[i];
        if (s == NULL || s->client == NULL)
            continue;
        if (coaps_client_process(s->client, 0) != COAPS_OK)
            return -1;
        compat_session_progress(s);
    }
    uint64_t spent = now_ms() - start;
    return spent > INT32_MAX ? INT32_MAX : (int)spent;
}

int coap_run_once(coap_context_t *ctx, uint32_t timeout_ms)
{
    return coap_io_process(ctx, timeout_ms);
}
