/* client.c - the public client runtime (include/coaps/client.h): a CoAP
 * endpoint, one socket, one DTLS client connection and the event loop, put
 * together as coaps-client needs them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coaps/client.h"
#include "coaps/session.h"
#include "common/try.h"
#include "crypto/crypto.h"
#include "net/addr.h"
#include "net/clock.h"
#include "net/credentials.h"
#include "net/dtls_client.h"
#include "net/edge.h"
#include "net/keylog.h"
#include "net/log.h"
#include "net/loop.h"
#include "net/random.h"

/* Largest response body by default: a 64 KiB Block2 transfer. */
#define CLIENT_BODY_MAX_DEFAULT 65536

#define CLIENT_LOG_NAME_MAX 32

struct coaps_client {
    char log_name[CLIENT_LOG_NAME_MAX];
    struct net_log log;
    struct net_loop loop;
    struct net_edge *edge;
    void *coap_mem;
    coaps_coap_endpoint *coap;
    bool connected;
    bool dtls;
    bool keylog_from_env;
    uint32_t handshake_timeout_ms;
    bool cid;
    uint8_t cid_len;
    uint8_t psk_identity[COAPS_DTLS_PSK_IDENTITY_MAX];
    size_t psk_identity_len;
    uint8_t psk_key[COAPS_DTLS_PSK_KEY_MAX];
    size_t psk_key_len;
    char server_name[256];
    coaps_dtls_pki *pki;
    struct net_keylog keylog;
    char *session_file;          /* coaps/session.h; NULL: none */
    bool no_tickets;
    coaps_dtls_session resume;   /* the session to offer: the file's, then the last one made */
    bool have_resume;
    coaps_dtls_config dtls_cfg;  /* what the DTLS connection was made with */
    struct net_endpoint *ep;     /* coaps://: the socket */
    struct net_dtls_client conn; /* coaps:// only */
};

void coaps_client_config_default(coaps_client_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->log_level = NET_LOG_DEFAULT;
    cfg->log_name = "coaps";
    cfg->max_body_size = CLIENT_BODY_MAX_DEFAULT;
    cfg->catch_signals = true;
}

static coaps_status client_keep_psk(coaps_client *c, const coaps_client_config *cfg, char *err,
                                    size_t cap)
{
    if (cfg->psk_identity_len > sizeof c->psk_identity)
        return net_fail(COAPS_E_INVALID, err, cap, "PSK identity longer than %d bytes",
                    COAPS_DTLS_PSK_IDENTITY_MAX);
    if (cfg->psk_key_len > sizeof c->psk_key)
        return net_fail(COAPS_E_INVALID, err, cap, "PSK longer than %d bytes", COAPS_DTLS_PSK_KEY_MAX);
    if (cfg->psk_identity_len)
        memcpy(c->psk_identity, cfg->psk_identity, cfg->psk_identity_len);
    if (cfg->psk_key_len)
        memcpy(c->psk_key, cfg->psk_key, cfg->psk_key_len);
    c->psk_identity_len = cfg->psk_identity_len;
    c->psk_key_len = cfg->psk_key_len;
    return COAPS_OK;
}

static coaps_status client_setup_coap(coaps_client *c, const coaps_client_config *cfg, char *err,
                                      size_t cap)
{
    coaps_coap_config cc;
    coaps_coap_config_default(&cc);
    cc.random = net_random_u32;
    cc.max_body_size = cfg->max_body_size ? cfg->max_body_size : CLIENT_BODY_MAX_DEFAULT;
    cc.body_slots = 1;
    cc.max_observers = 1; /* a client serves nothing to observe */
    cc.max_resources = 1;
    size_t size = coaps_coap_endpoint_size(&cc);
    c->coap_mem = size ? malloc(size) : NULL;
    if (c->coap_mem == NULL)
        return net_fail(COAPS_E_NOMEM, err, cap, "no memory for the CoAP endpoint (%zu bytes)", size);
    coaps_status st = coaps_coap_endpoint_init(c->coap_mem, size, &cc, &c->coap);
    if (st != COAPS_OK)
        return net_fail(st, err, cap, "cannot set up the CoAP endpoint: %s", coaps_status_str(st));
    return COAPS_OK;
}

coaps_status coaps_client_new(coaps_client **out, const coaps_client_config *cfg, char *err,
                              size_t cap)
{
    *out = NULL;
    if (cfg->log_level < 0 || cfg->log_level > NET_LOG_DEBUG)
        return net_fail(COAPS_E_INVALID, err, cap, "log level %d is not 0-7", cfg->log_level);
    coaps_client *c = calloc(1, sizeof *c);
    if (c == NULL)
        return net_fail(COAPS_E_NOMEM, err, cap, "out of memory");
    snprintf(c->log_name, sizeof c->log_name, "%s", cfg->log_name ? cfg->log_name : "coaps");
    c->log.level = cfg->log_level;
    c->log.prog = c->log_name;
    c->loop.epfd = -1;
    c->loop.sigfd = -1;
    c->keylog_from_env = cfg->keylog_from_env;
    c->handshake_timeout_ms = cfg->handshake_timeout_ms;
    c->cid = cfg->cid;
    c->cid_len = cfg->cid_len;
    coaps_status st = client_keep_psk(c, cfg, err, cap);
    c->no_tickets = cfg->no_tickets;
    if (st == COAPS_OK && cfg->session_file && !(c->session_file = strdup(cfg->session_file)))
        st = net_fail(COAPS_E_NOMEM, err, cap, "out of memory");
    if (st == COAPS_OK)
        st = client_setup_coap(c, cfg, err, cap);
    if (st == COAPS_OK)
        st = net_pki_load(&c->pki, cfg->pki, err, cap);
    if (st == COAPS_OK && (c->edge = calloc(1, sizeof *c->edge)) == NULL)
        st = net_fail(COAPS_E_NOMEM, err, cap, "out of memory");
    if (st == COAPS_OK && net_loop_init(&c->loop, &c->log, cfg->catch_signals) != COAPS_OK)
        st = net_fail(COAPS_E_IO, err, cap, "cannot set up the event loop: %s", strerror(errno));
    if (st == COAPS_OK) {
        net_edge_init(c->edge, c->coap, &c->log);
        if (net_edge_attach(c->edge, &c->loop) != COAPS_OK)
            st = net_fail(COAPS_E_FULL, err, cap, "cannot add the CoAP timer");
    }
    if (st != COAPS_OK) {
        coaps_client_free(c);
        return st;
    }
    *out = c;
    return COAPS_OK;
}

void coaps_client_free(coaps_client *c)
{
    if (c == NULL)
        return;
    if (c->dtls)
        net_dtls_client_close(&c->conn, net_now_ms());
    if (c->edge)
        net_edge_close(c->edge);
    net_loop_close(&c->loop);
    net_keylog_close(&c->keylog);
    coaps_dtls_pki_free(c->pki);
    /* the PSK and the session must not outlive their use in freed memory */
    memset(c->psk_key, 0, sizeof c->psk_key);
    crypto_wipe(&c->resume, sizeof c->resume);
    free(c->session_file);
    free(c->edge);
    free(c->coap_mem);
    free(c);
}

coaps_coap_endpoint *coaps_client_coap(coaps_client *c)
{
    return c->coap;
}

/* ---- connecting ------------------------------------------------------------ */

/* coaps_dtls_config.session_store: each completed session kept for a
 * later coaps_client_rehandshake, and saved to the file if there is one. */
static void client_session_store(void *user, const coaps_dtls_session *s)
{
    coaps_client *c = user;
    char why[256];
    c->resume = *s;
    c->have_resume = true;
    if (c->session_file && coaps_session_save(c->session_file, s, why, sizeof why) != COAPS_OK)
        NET_LOG(&c->log, NET_LOG_WARN, "%s", why);
}

/* Sessions are kept; the session file's, when sound, is offered. */
static void client_session_offer(coaps_client *c, coaps_dtls_config *cfg)
{
    char why[256];
    cfg->session_store = client_session_store;
    cfg->session_user = c;
    if (!c->session_file)
        return;
    coaps_status st = coaps_session_load(c->session_file, &c->resume, why, sizeof why);
    c->have_resume = st == COAPS_OK;
    if (st != COAPS_OK && st != COAPS_E_NOT_FOUND)
        NET_LOG(&c->log, NET_LOG_WARN, "%s", why); /* a full handshake follows */
}

static coaps_status client_start_dtls(coaps_client *c, struct net_endpoint *ep,
                                      const coaps_peer *server, char *err, size_t cap)
{
    if (c->psk_key_len == 0 && c->pki == NULL)
        return net_fail(COAPS_E_INVALID, err, cap,
                        "no credentials for coaps:// (a PSK or certificates)");
    coaps_dtls_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.role = COAPS_DTLS_CLIENT;
    if (c->psk_key_len) {
        cfg.psk_identity = c->psk_identity;
        cfg.psk_identity_len = c->psk_identity_len;
        cfg.psk_key = c->psk_key;
        cfg.psk_key_len = c->psk_key_len;
    }
    cfg.pki = c->pki;
    /* RFC 6066 3: SNI for a host name (the engine sends none for a
     * literal); with certificates also the name (or address) to check */
    cfg.server_name = c->server_name;
    cfg.handshake_timeout_ms = c->handshake_timeout_ms;
    cfg.cid = c->cid;
    cfg.cid_len = c->cid_len;
    if (c->cid && c->cid_len > COAPS_DTLS_CID_MAX)
        return net_fail(COAPS_E_CONFIG, err, cap, "Connection ID length %u is not 0-%d",
                        (unsigned)c->cid_len, COAPS_DTLS_CID_MAX);
    client_session_offer(c, &cfg);
    cfg.resume = c->have_resume ? &c->resume : NULL;
    cfg.tickets = !c->no_tickets;
    if (c->keylog_from_env)
        TRY(net_keylog_start(&c->keylog, &c->log, &cfg, err, cap));
    c->dtls_cfg = cfg;
    c->ep = ep;
    if (net_dtls_client_init(&c->conn, c->edge, ep, server, &cfg, NULL, NULL) != COAPS_OK)
        return net_fail(COAPS_E_CONFIG, err, cap, "bad DTLS configuration");
    if (net_dtls_client_attach(&c->conn, &c->loop) != COAPS_OK)
        return net_fail(COAPS_E_FULL, err, cap, "cannot add the DTLS timer");
    c->dtls = true;
    coaps_status st = net_dtls_client_start(&c->conn, net_now_ms());
    if (st != COAPS_OK)
        return net_fail(st, err, cap, "cannot start DTLS: %s", coaps_status_str(st));
    return COAPS_OK;
}

coaps_status coaps_client_connect(coaps_client *c, const char *host, uint16_t port, bool dtls,
                                  coaps_peer *server, char *err, size_t cap)
{
    if (c->connected)
        return net_fail(COAPS_E_STATE, err, cap, "already connected");
    if (strlen(host) >= sizeof c->server_name)
        return net_fail(COAPS_E_INVALID, err, cap, "host name longer than %zu bytes",
                    sizeof c->server_name - 1);
    snprintf(c->server_name, sizeof c->server_name, "%s", host);
    struct sockaddr_storage dst, any;
    socklen_t dst_len, any_len;
    const char *why = NULL;
    if (net_addr_resolve(host, port, false, &dst, &dst_len, &why) != COAPS_OK)
        return net_fail(COAPS_E_NOT_FOUND, err, cap, "cannot resolve '%s': %s", host,
                    why ? why : "unknown");
    net_addr_parse_numeric(dst.ss_family == AF_INET6 ? "::" : "0.0.0.0", 0, &any, &any_len);
    int err_no = 0;
    enum coaps_transport tr = dtls ? COAPS_TRANSPORT_DTLS : COAPS_TRANSPORT_UDP;
    struct net_endpoint *ep = NULL;
    if (net_edge_open(c->edge, (struct sockaddr *)&any, any_len, tr, &ep, &err_no) != COAPS_OK)
        return net_fail(COAPS_E_IO, err, cap, "cannot open a UDP socket: %s", strerror(err_no));
    if (net_edge_watch(c->edge, &c->loop, ep) != COAPS_OK)
        return net_fail(COAPS_E_FULL, err, cap, "cannot watch the socket");
    net_peer_from_sockaddr((struct sockaddr *)&dst, dst_len, tr, server);
    c->connected = true;
    if (NET_LOG_ENABLED(&c->log, NET_LOG_INFO)) {
        char text[NET_ADDR_STR_MAX];
        net_log_print(&c->log, NET_LOG_INFO, "sending to %s",
                      net_addr_format((struct sockaddr *)&dst, text, sizeof text));
    }
    return dtls ? client_start_dtls(c, ep, server, err, cap) : COAPS_OK;
}

enum coaps_dtls_state coaps_client_dtls_state(const coaps_client *c, char *err, size_t cap)
{
    if (!c->dtls)
        return COAPS_DTLS_ESTABLISHED;
    enum coaps_dtls_state st = net_dtls_client_state(&c->conn);
    if (st != COAPS_DTLS_ESTABLISHED && st != COAPS_DTLS_HANDSHAKING && err != NULL && cap > 0)
        net_dtls_client_failure(&c->conn, err, cap);
    return st;
}

coaps_status coaps_client_handshake(coaps_client *c, uint32_t timeout_ms, char *err, size_t cap)
{
    uint64_t end = net_now_ms() + timeout_ms;
    for (;;) {
        enum coaps_dtls_state st = coaps_client_dtls_state(c, err, cap);
        if (st == COAPS_DTLS_ESTABLISHED) {
            NET_LOG(&c->log, NET_LOG_INFO, "DTLS session established, %s%s%s",
                    coaps_dtls_suite_name(coaps_dtls_suite(&c->conn.conn)),
                    coaps_dtls_cid_negotiated(&c->conn.conn) ? ", Connection ID" : "",
                    coaps_dtls_resumed(&c->conn.conn) ? ", resumed" : "");
            return COAPS_OK;
        }
        if (st != COAPS_DTLS_HANDSHAKING)
            return COAPS_E_CLOSED;
        if (c->loop.stop_signal)
            return net_fail(COAPS_E_CLOSED, err, cap, "interrupted by signal %d", c->loop.stop_signal);
        uint64_t now = net_now_ms();
        if (now >= end)
            return net_fail(COAPS_E_TIMEOUT, err, cap, "no answer from the server within %u s",
                        (unsigned)(timeout_ms / 1000u));
        TRY(net_loop_turn(&c->loop, (int)(end - now)));
    }
}

/* ---- requests and the loop ---------------------------------------------------- */

coaps_status coaps_client_rehandshake(coaps_client *c, uint32_t timeout_ms, char *err,
                                      size_t cap)
{
    if (!c->dtls)
        return net_fail(COAPS_E_STATE, err, cap, "no coaps:// session to start again");
    uint64_t now = net_now_ms();
    coaps_peer server = c->conn.server;
    /* What was pending on the old session goes with it (its datagrams
     * went nowhere); the application starts its requests again. */
    net_dtls_client_close(&c->conn, now);
    coaps_coap_forget_peer(c->coap, &server);
    c->dtls_cfg.resume = c->have_resume ? &c->resume : NULL;
    NET_LOG(&c->log, NET_LOG_INFO, "starting the DTLS session again%s",
            c->have_resume ? ", offering the last one for resumption" : "");
    if (net_dtls_client_init(&c->conn, c->edge, c->ep, &server, &c->dtls_cfg, NULL, NULL) !=
        COAPS_OK)
        return net_fail(COAPS_E_CONFIG, err, cap, "bad DTLS configuration");
    coaps_status st = net_dtls_client_start(&c->conn, now);
    if (st != COAPS_OK)
        return net_fail(st, err, cap, "cannot start DTLS: %s", coaps_status_str(st));
    return coaps_client_handshake(c, timeout_ms, err, cap);
}

coaps_status coaps_client_request(coaps_client *c, const coaps_coap_client_request *r,
                                  coaps_coap_request_id *id)
{
    uint64_t now = net_now_ms();
    TRY(coaps_coap_request_send(c->coap, r, now, id));
    net_edge_flush(c->edge, now);
    return COAPS_OK;
}

coaps_status coaps_client_ping(coaps_client *c, const coaps_peer *server,
                               coaps_coap_response_cb cb, void *user, coaps_coap_request_id *id)
{
    uint64_t now = net_now_ms();
    TRY(coaps_coap_ping(c->coap, server, cb, user, now, id));
    net_edge_flush(c->edge, now);
    return COAPS_OK;
}

coaps_status coaps_client_cancel(coaps_client *c, coaps_coap_request_id id, bool proactive)
{
    uint64_t now = net_now_ms();
    TRY(coaps_coap_request_cancel(c->coap, id, proactive, now));
    net_edge_flush(c->edge, now);
    return COAPS_OK;
}

int coaps_client_fd(const coaps_client *c)
{
    return c->loop.epfd;
}

int coaps_client_timeout_ms(const coaps_client *c)
{
    return net_loop_timeout_ms(&c->loop, net_now_ms());
}

coaps_status coaps_client_process(coaps_client *c, int wait_ms)
{
    return net_loop_turn(&c->loop, wait_ms);
}

int coaps_client_stop_signal(const coaps_client *c)
{
    return c->loop.stop_signal;
}

uint64_t coaps_client_now_ms(const coaps_client *c)
{
    (void)c;
    return net_now_ms();
}
