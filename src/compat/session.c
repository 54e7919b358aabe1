/* session.c - libcoap's client sessions: one coaps_client each (the public
 * client runtime holds one server per client), requests built as PDUs and
 * sent through the CoAP core's client (which does CON retransmission,
 * Block2 reassembly and Observe), responses handed to the context's
 * response handler as PDUs. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "compat/compat.h"

/* coaps_client_connect takes the server as text. */
static int server_text(const coap_address_t *a, char *host, size_t cap, uint16_t *port)
{
    const void *bytes;
    if (a->addr.sa.sa_family == AF_INET) {
        bytes = &a->addr.sin.sin_addr;
        *port = ntohs(a->addr.sin.sin_port);
    } else if (a->addr.sa.sa_family == AF_INET6) {
        bytes = &a->addr.sin6.sin6_addr;
        *port = ntohs(a->addr.sin6.sin6_port);
    } else {
        return 0;
    }
    return inet_ntop(a->addr.sa.sa_family, bytes, host, (socklen_t)cap) != NULL;
}

static coap_session_t **session_slot(coap_context_t *ctx)
{
    for (size_t i = 0; i < COMPAT_SESSIONS_MAX; i++)
        if (ctx->sessions[i] == NULL)
            return &ctx->sessions[i];
    return NULL;
}

static coap_session_t *session_new(coap_context_t *ctx, const coap_address_t *server,
                                   coap_proto_t proto, const coaps_client_config *cfg,
                                   const char *fn)
{
    if (ctx == NULL || server == NULL) {
        COMPAT_BAD(fn, "NULL context or server address");
        return NULL;
    }
    if (proto != COAP_PROTO_UDP && proto != COAP_PROTO_DTLS) {
        COMPAT_BAD(fn, "only COAP_PROTO_UDP and COAP_PROTO_DTLS are supported");
        return NULL;
    }
    char host[INET6_ADDRSTRLEN];
    uint16_t port = 0;
    coap_session_t **slot = session_slot(ctx);
    if (!server_text(server, host, sizeof host, &port) || slot == NULL) {
        COMPAT_BAD(fn, "server address neither IPv4 nor IPv6, or too many sessions");
        return NULL;
    }
    coap_session_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->ctx = ctx;
    s->proto = proto;
    char err[256] = "";
    if (coaps_client_new(&s->client, cfg, err, sizeof err) != COAPS_OK ||
        coaps_client_connect(s->client, host, port, proto == COAP_PROTO_DTLS, &s->peer, err,
                             sizeof err) != COAPS_OK) {
        coap_log(LOG_ERR, "%s: %s\n", fn, err);
        coaps_client_free(s->client);
        free(s);
        return NULL;
    }
    s->established = proto == COAP_PROTO_UDP;
    s->next_mid = (uint16_t)(coaps_client_now_ms(s->client) * 2654435761u >> 16);
    *slot = s;
    return s;
}

static void client_config(coaps_client_config *cfg)
{
    coaps_client_config_default(cfg);
    cfg->log_level = compat_log_level();
    cfg->log_name = "coap";
    cfg->catch_signals = false;
}

coap_session_t *coap_new_client_session(coap_context_t *ctx, const coap_address_t *local_if,
                                        const coap_address_t *server, coap_proto_t proto)
{
    (void)local_if; /* the client binds any address of the server's family */
    coaps_client_config cfg;
    client_config(&cfg);
    return session_new(ctx, server, proto, &cfg, "coap_new_client_session");
}

coap_session_t *coap_new_client_session_psk2(coap_context_t *ctx, const coap_address_t *local_if,
                                             const coap_address_t *server, coap_proto_t proto,
                                             coap_dtls_cpsk_t *setup)
{
    (void)local_if;
    if (setup == NULL || setup->version != COAP_DTLS_CPSK_SETUP_VERSION) {
        COMPAT_BAD("coap_new_client_session_psk2", "NULL or unknown setup_data");
        return NULL;
    }
    if (setup->validate_ih_call_back != NULL)
        coap_log(LOG_WARNING, "coap_new_client_session_psk2: the identity hint callback is "
                              "not supported; psk_info is used\n");
    coaps_client_config cfg;
    client_config(&cfg);
    cfg.psk_identity = setup->psk_info.identity.s;
    cfg.psk_identity_len = setup->psk_info.identity.length;
    cfg.psk_key = setup->psk_info.key.s;
    cfg.psk_key_len = setup->psk_info.key.length;
    return session_new(ctx, server, proto, &cfg, "coap_new_client_session_psk2");
}

coap_session_t *coap_new_client_session_pki(coap_context_t *ctx, const coap_address_t *local_if,
                                            const coap_address_t *server, coap_proto_t proto,
                                            coap_dtls_pki_t *setup)
{
    (void)local_if;
    if (setup == NULL || setup->version != COAP_DTLS_PKI_SETUP_VERSION ||
        setup->pki_key.key_type != COAP_PKI_KEY_PEM) {
        COMPAT_BAD("coap_new_client_session_pki",
                   "only version 1 with COAP_PKI_KEY_PEM files is supported");
        return NULL;
    }
    /* libcoap with verify_peer_cert 0 takes any server certificate; coaps's
     * DTLS engine has no such mode: the server is always checked */
    if (setup->pki_key.key.pem.ca_file == NULL) {
        COMPAT_BAD("coap_new_client_session_pki",
                   "coaps always checks the server's certificate: set pki_key.key.pem.ca_file");
        return NULL;
    }
    coaps_dtls_pki_files files;
    memset(&files, 0, sizeof files);
    files.ca_file = setup->pki_key.key.pem.ca_file;
    files.cert_file = setup->pki_key.key.pem.public_cert;
    files.key_file = setup->pki_key.key.pem.private_key;
    files.use_rpk = setup->is_rpk_not_cert != 0;
    coaps_client_config cfg;
    client_config(&cfg);
    cfg.pki = &files; /* loaded by coaps_client_new */
    return session_new(ctx, server, proto, &cfg, "coap_new_client_session_pki");
}

static void inflight_free(struct compat_inflight *f)
{
    coap_delete_pdu(f->pdu);
    memset(f, 0, sizeof *f);
}

static void session_free(coap_session_t *s)
{
    coaps_client_free(s->client); /* no more callbacks */
    for (size_t i = 0; i < COMPAT_INFLIGHT_MAX; i++)
        if (s->inflight[i].used)
            inflight_free(&s->inflight[i]);
    free(s);
}

void coap_session_release(coap_session_t *s)
{
    if (s == NULL || s->server_view)
        return; /* a server's sessions are the library's */
    for (size_t i = 0; i < COMPAT_SESSIONS_MAX; i++)
        if (s->ctx->sessions[i] == s)
            s->ctx->sessions[i] = NULL;
    session_free(s);
}

void compat_sessions_free(coap_context_t *ctx)
{
    for (size_t i = 0; i < COMPAT_SESSIONS_MAX; i++) {
        if (ctx->sessions[i] != NULL)
            session_free(ctx->sessions[i]);
        ctx->sessions[i] = NULL;
    }
}

coap_context_t *coap_session_get_context(const coap_session_t *s)
{
    if (s == NULL) {
        COMPAT_BAD("coap_session_get_context", "NULL session");
        return NULL;
    }
    return s->ctx;
}

coap_proto_t coap_session_get_proto(const coap_session_t *s)
{
    if (s == NULL) {
        COMPAT_BAD("coap_session_get_proto", "NULL session");
        return COAP_PROTO_NONE;
    }
    return s->proto;
}

uint16_t coap_new_message_id(coap_session_t *s)
{
    if (s == NULL) {
        COMPAT_BAD("coap_new_message_id", "NULL session");
        return 0;
    }
    return ++s->next_mid;
}

void coap_register_response_handler(coap_context_t *ctx, coap_response_handler_t handler)
{
    if (ctx == NULL) {
        COMPAT_BAD("coap_register_response_handler", "NULL context");
        return;
    }
    ctx->response_handler = handler;
}

/* ---- sending ---------------------------------------------------------------- */

static void on_response(void *user, const coaps_coap_client_event *ev)
{
    struct compat_inflight *f = user;
    coap_session_t *s = f->session;
    if (ev->status == COAPS_OK && ev->msg != NULL && s->ctx->response_handler != NULL) {
        coap_pdu_t received;
        compat_pdu_received_view(&received, ev->msg, ev->payload, ev->payload_len);
        /* COAP_RESPONSE_FAIL would make libcoap send RST: the core answers
         * the next notification with RST only after a cancel, which a
         * callback may not ask for; see docs/libcoap-compat.md */
        (void)s->ctx->response_handler(s, f->pdu, &received, ev->msg->mid);
    } else if (ev->status != COAPS_OK) {
        coap_log(LOG_WARNING, "coap_send: request mid %d: %s\n", f->pdu->mid,
                 coaps_status_str(ev->status));
    }
    if (ev->final)
        inflight_free(f);
}

/* The PDU's options as the core's request fields. */
struct request_parts {
    coaps_coap_segment path[COAPS_COAP_MAX_OPTIONS];
    coaps_coap_segment query[COAPS_COAP_MAX_OPTIONS];
    coaps_coap_option extra[COAPS_COAP_MAX_OPTIONS];
    char host[256];
};

static void request_option(coaps_coap_client_request *r, struct request_parts *p,
                           const coaps_coap_option *o)
{
    const uint8_t *v = coaps_coap_option_value(o);
    switch (o->number) {
    case COAP_OPTION_URI_PATH:
        p->path[r->path_count++] = (coaps_coap_segment){v, o->len};
        break;
    case COAP_OPTION_URI_QUERY:
        p->query[r->query_count++] = (coaps_coap_segment){v, o->len};
        break;
    case COAP_OPTION_CONTENT_FORMAT:
        r->content_format = (int32_t)coap_decode_var_bytes(v, o->len);
        break;
    case COAP_OPTION_ACCEPT:
        r->accept = (int32_t)coap_decode_var_bytes(v, o->len);
        break;
    case COAP_OPTION_OBSERVE:
        r->observe = coap_decode_var_bytes(v, o->len) == COAP_OBSERVE_ESTABLISH;
        break;
    case COAP_OPTION_URI_HOST:
        if (o->len < sizeof p->host) {
            memcpy(p->host, v, o->len);
            p->host[o->len] = '\0';
            r->uri_host = p->host;
        }
        break;
    case COAP_OPTION_URI_PORT:
        r->uri_port = (uint16_t)coap_decode_var_bytes(v, o->len);
        break;
    case COAP_OPTION_BLOCK1:
    case COAP_OPTION_BLOCK2:
        break; /* block-wise transfer is the core's */
    default:
        p->extra[r->extra_count++] = *o;
        break;
    }
}

static void request_from_pdu(coaps_coap_client_request *r, struct request_parts *p,
                             const coap_session_t *s, const coap_pdu_t *pdu)
{
    coaps_coap_client_request_init(r);
    r->peer = s->peer;
    r->method = pdu->code;
    r->confirmable = pdu->type == COAP_MESSAGE_CON;
    r->path_segs = p->path;
    r->query_items = p->query;
    r->extra_opts = p->extra;
    for (size_t i = 0; i < pdu->msg.opt_count; i++)
        request_option(r, p, &pdu->msg.opts[i]);
    if (r->path_count == 0)
        r->path_segs = NULL;
    if (r->query_count == 0)
        r->query_items = NULL;
    r->payload = pdu->payload;
    r->payload_len = pdu->payload_len;
    if (pdu->msg.token_len) {
        r->token = pdu->msg.token;
        r->token_len = pdu->msg.token_len;
    }
}

/* A coaps:// session's handshake, started by coaps_client_connect, runs in
 * coap_io_process as in libcoap; 1 once established, 0 while it runs, -1
 * when it failed (logged once). */
static int session_state(coap_session_t *s)
{
    if (s->established)
        return 1;
    if (s->failed)
        return -1;
    char err[256] = "";
    enum coaps_dtls_state st = coaps_client_dtls_state(s->client, err, sizeof err);
    if (st == COAPS_DTLS_HANDSHAKING)
        return 0;
    if (st == COAPS_DTLS_ESTABLISHED) {
        s->established = true;
        return 1;
    }
    coap_log(LOG_WARNING, "coap_session: DTLS handshake failed: %s\n", err);
    s->failed = true;
    return -1;
}

/* Hand an in-flight slot's PDU to the core; on failure the slot is freed. */
static int inflight_send(struct compat_inflight *f)
{
    coaps_coap_client_request r;
    struct request_parts parts;
    request_from_pdu(&r, &parts, f->session, f->pdu);
    r.cb = on_response;
    r.user = f;
    coaps_status st = coaps_client_request(f->session->client, &r, &f->id);
    if (st != COAPS_OK) {
        coap_log(LOG_WARNING, "coap_send: %s\n", coaps_status_str(st));
        inflight_free(f);
        return 0;
    }
    return 1;
}

static struct compat_inflight *inflight_slot(coap_session_t *s)
{
    for (size_t i = 0; i < COMPAT_INFLIGHT_MAX; i++)
        if (!s->inflight[i].used)
            return &s->inflight[i];
    return NULL;
}

coap_mid_t coap_send(coap_session_t *s, coap_pdu_t *pdu)
{
    if (s == NULL || pdu == NULL || pdu->kind != COMPAT_PDU_OWN || s->client == NULL) {
        COMPAT_BAD("coap_send", "NULL or server session, or a PDU not from coap_new_pdu");
        coap_delete_pdu(pdu);
        return COAP_INVALID_MID;
    }
    struct compat_inflight *f = inflight_slot(s);
    if (pdu->code < COAP_REQUEST_GET || pdu->code > COAP_REQUEST_IPATCH || f == NULL) {
        COMPAT_BAD("coap_send", "not a request, or too many requests in flight");
        coap_delete_pdu(pdu);
        return COAP_INVALID_MID;
    }
    int ready = session_state(s);
    if (ready < 0) {
        coap_delete_pdu(pdu);
        return COAP_INVALID_MID;
    }
    f->pdu = pdu; /* the request borrows its option values until the end */
    f->session = s;
    f->used = true;
    f->queued = ready == 0;
    coap_mid_t mid = pdu->mid;
    if (!f->queued && !inflight_send(f))
        return COAP_INVALID_MID;
    return mid;
}

void compat_session_progress(coap_session_t *s)
{
    int was_ready = s->established || s->failed;
    int ready = session_state(s);
    if (was_ready || ready == 0)
        return;
    for (size_t i = 0; i < COMPAT_INFLIGHT_MAX; i++) {
        struct compat_inflight *f = &s->inflight[i];
        if (!f->used || !f->queued)
            continue;
        f->queued = false;
        if (ready < 0)
            inflight_free(f); /* libcoap drops them too (its NACK handler) */
        else
            inflight_send(f);
    }
}
