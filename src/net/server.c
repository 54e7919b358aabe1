/* server.c - the public server runtime (include/coaps/server.h): the
 * CoAP endpoint, the edge's sockets, the DTLS server and the event loop
 * put together the way coaps-server needs them, so that a user's program
 * (and coaps-server itself) gets them from the public API. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coaps/server.h"
#include "common/try.h"
#include "crypto/crypto.h"
#include "net/addr.h"
#include "net/clock.h"
#include "net/credentials.h"
#include "net/dtls_server.h"
#include "net/edge.h"
#include "net/secret_file.h"
#include "net/keylog.h"
#include "net/log.h"
#include "net/loop.h"
#include "net/psk_store.h"
#include "net/random.h"
#include "net/state_file.h"
#include "net/state_save.h"
#include "net/store.h"
#include "net/server_store.h"
#include "net/handoff.h"
#include "net/reuseport.h"
#include "net/server_worker.h"

/* Receive buffer asked for each socket by default. Linux's default (208
 * KiB) holds about 250 small datagrams (the kernel charges each its
 * truesize, ~0.8 KiB on loopback), and a fleet's burst overflows it: at
 * 1,000 sessions 0.1-0.5 % of requests were dropped, each costing its
 * device a 2-3 s retransmission (RFC 7252 4.2). 4 MiB (which Linux doubles
 * for its bookkeeping) holds some 10,000: a request from each of the
 * default max_sessions at once, or 50 ms of work at 200,000 datagrams/s.
 * Only pages that data reaches are used. */
#define SERVER_DEFAULT_RCVBUF (4 * 1024 * 1024)

/* The reference device's PSK identity hint (RFC 4279 2); libcoap's
 * coap-server examples use "CoAP" too. */
#define SERVER_DEFAULT_HINT "CoAP"

#define SERVER_LOG_NAME_MAX 32

struct coaps_server {
    char log_name[SERVER_LOG_NAME_MAX];
    struct net_log log;
    struct net_loop loop;
    struct net_edge *edge; /* large (a recvmmsg batch): its own block */
    void *coap_mem;
    coaps_coap_endpoint *coap;
    int rcvbuf;
    coaps_dtls_config dtls_cfg;
    char hint[COAPS_DTLS_PSK_HINT_MAX + 1];
    struct net_dtls_server_opts dtls_opts;
    struct net_dtls_server *dtls; /* NULL until the first coaps:// listen */
    struct net_psk_store *psk;
    coaps_dtls_pki *pki;
    bool keylog_from_env;
    bool cid;
    uint8_t cid_len;
    struct net_keylog keylog;
    char *state_path;               /* durable sessions, or NULL */
    struct net_state_key *state_key;
    struct net_worker worker; /* count 0: the server is alone */
    struct net_store *store;  /* a cluster node's store, or NULL */
    uint8_t cookie_secret[COAPS_DTLS_COOKIE_SECRET_LEN]; /* the cluster's */
    bool has_cookie_secret;
    uint32_t coap_exchange_lifetime_ms; /* how long a shared reply lives */
    net_server_changed_cb on_changed; /* a shared value changed */
    void *changed_ctx;
};

void coaps_server_config_default(coaps_server_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->log_level = NET_LOG_DEFAULT;
    cfg->log_name = "coaps";
    cfg->rcvbuf = SERVER_DEFAULT_RCVBUF;
    cfg->psk_hint = SERVER_DEFAULT_HINT;
    cfg->catch_signals = true;
}

static coaps_status server_check_config(const coaps_server_config *cfg, char *err, size_t cap)
{
    if (cfg->log_level < 0 || cfg->log_level > NET_LOG_DEBUG)
        return net_fail(COAPS_E_INVALID, err, cap, "log level %d is not 0-7", cfg->log_level);
    if (cfg->psk_hint != NULL && strlen(cfg->psk_hint) > COAPS_DTLS_PSK_HINT_MAX)
        return net_fail(COAPS_E_INVALID, err, cap, "PSK identity hint longer than %d bytes",
                    COAPS_DTLS_PSK_HINT_MAX);
    if (cfg->rcvbuf < 0)
        return net_fail(COAPS_E_INVALID, err, cap, "negative receive buffer size");
    if (cfg->cid && cfg->cid_len > COAPS_DTLS_CID_MAX)
        return net_fail(COAPS_E_INVALID, err, cap, "Connection ID length %u is not 0-%d",
                        (unsigned)cfg->cid_len, COAPS_DTLS_CID_MAX);
    if (cfg->store && cfg->state_file)
        return net_fail(COAPS_E_INVALID, err, cap,
                        "a store holds the sessions: no state file with it");
    if (cfg->store && cfg->state_key_file == NULL)
        return net_fail(COAPS_E_INVALID, err, cap,
                        "a store needs a state key file (its values are sealed under it)");
    if (cfg->state_file && cfg->state_key_file == NULL)
        return net_fail(COAPS_E_INVALID, err, cap,
                        "a state file needs a state key file, and the other way round");
    if (cfg->state_key_file && cfg->state_file == NULL && cfg->store == NULL)
        return net_fail(COAPS_E_INVALID, err, cap,
                        "a state key file needs a state file or a store");
    if (cfg->max_handshakes > NET_DTLS_MAX_HANDSHAKES_LIMIT ||
        cfg->max_cert_handshakes > NET_DTLS_MAX_CERT_HANDSHAKES_LIMIT ||
        cfg->max_sessions > NET_SESSION_TABLE_MAX)
        return net_fail(COAPS_E_INVALID, err, cap, "session or handshake bound beyond its limit");
    return COAPS_OK;
}

/* A cluster's deduplication (coaps_coap_config.shared_reply_*): the
 * replies to requests that change something, kept in the store for
 * EXCHANGE_LIFETIME under the peer's key, so that a retransmission that
 * reaches another node is answered, not run again. */
static void shared_reply_save(void *user, const coaps_peer *peer, uint16_t mid,
                              const uint8_t *reply, size_t len)
{
    coaps_server *s = user;
    if (s->store == NULL)
        return;
    uint8_t key[NET_STORE_KEY_MAX];
    size_t key_len = net_cluster_peer_key(s->dtls, peer, key);
    (void)net_store_reply_put(s->store, key, key_len, mid, reply, len,
                              s->coap_exchange_lifetime_ms);
}

static bool shared_reply_find(void *user, const coaps_peer *peer, uint16_t mid, uint8_t *reply,
                              size_t cap, size_t *len)
{
    coaps_server *s = user;
    if (s->store == NULL)
        return false;
    uint8_t key[NET_STORE_KEY_MAX];
    size_t key_len = net_cluster_peer_key(s->dtls, peer, key);
    return net_store_reply_get(s->store, key, key_len, mid, reply, cap, len) == COAPS_OK;
}

static coaps_status server_setup_coap(coaps_server *s, const coaps_server_config *cfg, char *err,
                                      size_t cap)
{
    coaps_coap_config cc;
    coaps_coap_config_default(&cc);
    cc.random = net_random_u32;
    if (cfg->max_observers)
        cc.max_observers = cfg->max_observers;
    if (cfg->dedup_peers)
        cc.dedup_peers = cfg->dedup_peers;
    if (cfg->store) {
        /* a cluster: deduplication across nodes (RFC 7252 4.5) */
        cc.shared_reply_save = shared_reply_save;
        cc.shared_reply_find = shared_reply_find;
        cc.shared_reply_user = s;
    }
    s->coap_exchange_lifetime_ms = cc.exchange_lifetime_ms;
    size_t size = coaps_coap_endpoint_size(&cc);
    s->coap_mem = size ? malloc(size) : NULL;
    if (s->coap_mem == NULL)
        return net_fail(COAPS_E_NOMEM, err, cap, "no memory for the CoAP endpoint (%zu bytes)", size);
    coaps_status st = coaps_coap_endpoint_init(s->coap_mem, size, &cc, &s->coap);
    if (st != COAPS_OK)
        return net_fail(st, err, cap, "cannot set up the CoAP endpoint: %s", coaps_status_str(st));
    return COAPS_OK;
}

_Static_assert(NET_KEY_FILE_KEY_LEN == COAPS_DTLS_TICKET_SECRET_LEN,
               "a ticket key file holds one ticket secret");

static void server_keep_dtls_config(coaps_server *s, const coaps_server_config *cfg)
{
    snprintf(s->hint, sizeof s->hint, "%s", cfg->psk_hint ? cfg->psk_hint : "");
    s->dtls_opts.max_sessions = cfg->max_sessions;
    s->dtls_opts.max_handshakes = cfg->max_handshakes;
    s->dtls_opts.max_cert_handshakes = cfg->max_cert_handshakes;
    s->dtls_opts.max_handshakes_per_host = cfg->max_handshakes_per_host;
    s->dtls_opts.idle_timeout_ms = cfg->idle_timeout_ms;
    s->dtls_opts.cold_after_ms = cfg->cold_after_ms;
    s->dtls_opts.session_cache = cfg->session_cache;
    s->dtls_opts.session_cache_off = cfg->no_resumption || cfg->no_session_cache;
    s->dtls_opts.tickets_off = cfg->no_resumption || cfg->no_tickets;
    s->dtls_opts.ticket_period_s = cfg->ticket_period_s;
    /* one secret for every worker, so that each opens the others' tickets */
    if (cfg->ticket_secret)
        memcpy(s->dtls_opts.ticket_secret, cfg->ticket_secret, COAPS_DTLS_TICKET_SECRET_LEN);
    s->dtls_opts.has_ticket_secret =
        cfg->ticket_secret ||
        net_random_bytes(s->dtls_opts.ticket_secret, COAPS_DTLS_TICKET_SECRET_LEN) == COAPS_OK;
    s->keylog_from_env = cfg->keylog_from_env;
    s->cid = cfg->cid;
    s->cid_len = cfg->cid_len;
    s->rcvbuf = cfg->rcvbuf;
}

/* Durable sessions: the path, and the key, read now so that a bad key
 * file is an error at start, not at shutdown. */
static coaps_status server_setup_state(coaps_server *s, const coaps_server_config *cfg,
                                       char *err, size_t cap)
{
    s->state_path = strdup(cfg->state_file);
    s->state_key = malloc(sizeof *s->state_key);
    if (s->state_path == NULL || s->state_key == NULL)
        return net_fail(COAPS_E_NOMEM, err, cap, "out of memory");
    return net_state_key_load(s->state_key, cfg->state_key_file, err, cap);
}

/* ---- a cluster's store (net/store.h, net/dtls_cluster.h) ----------------------- */

static void store_lost(void *ctx, const uint8_t *key, size_t key_len, uint64_t fence)
{
    coaps_server *s = ctx;
    if (s->dtls)
        net_cluster_lost(s->dtls, key, key_len, fence, net_now_ms());
}

static void store_changed(void *ctx, const char *name, const uint8_t *value, size_t len)
{
    coaps_server *s = ctx;
    if (s->on_changed)
        s->on_changed(s->changed_ctx, name, value, len);
}

/* The cluster's secrets: ticket keys and cookies made by one node open in
 * all. A store that cannot be reached now leaves this node its own (its
 * tickets and cookies then work here only), with one line. */
static void server_store_secrets(coaps_server *s, const coaps_server_config *cfg)
{
    uint8_t t[32];
    if (!cfg->ticket_secret && !cfg->ticket_key_file &&
        net_store_secret(s->store, "ticket", t) == COAPS_OK) {
        memcpy(s->dtls_opts.ticket_secret, t, sizeof s->dtls_opts.ticket_secret);
        s->dtls_opts.has_ticket_secret = true;
    }
    crypto_wipe(t, sizeof t);
    s->has_cookie_secret = net_store_secret(s->store, "cookie", s->cookie_secret) == COAPS_OK;
    if (!s->has_cookie_secret)
        NET_LOG(&s->log, NET_LOG_WARN, "store %s: no shared secrets yet: this node's cookies "
                "and tickets are its own", cfg->store);
}

static coaps_status server_setup_store(coaps_server *s, const coaps_server_config *cfg,
                                       char *err, size_t cap)
{
    struct net_state_key k;
    TRY(net_state_key_load(&k, cfg->state_key_file, err, cap));
    char node[96], host[64] = "";
    (void)gethostname(host, sizeof host - 1);
    snprintf(node, sizeof node, "%s:%ld", host, (long)getpid());
    coaps_status st = net_store_open(&s->store, cfg->store, &k, node, &s->log, err, cap);
    crypto_wipe(&k, sizeof k);
    TRY(st);
    struct net_store_events ev = {store_lost, store_changed, s};
    st = net_store_attach(s->store, &s->loop, &ev);
    if (st != COAPS_OK)
        return net_fail(st, err, cap, "store %s: cannot watch it: %s", cfg->store,
                        coaps_status_str(st));
    server_store_secrets(s, cfg);
    return COAPS_OK;
}

struct net_store *net_server_store(coaps_server *s)
{
    return s->store;
}

void net_server_on_changed(coaps_server *s, net_server_changed_cb cb, void *ctx)
{
    s->on_changed = cb;
    s->changed_ctx = ctx;
}

coaps_status coaps_server_new(coaps_server **out, const coaps_server_config *cfg, char *err,
                              size_t cap)
{
    *out = NULL;
    TRY(server_check_config(cfg, err, cap));
    coaps_server *s = calloc(1, sizeof *s);
    if (s == NULL)
        return net_fail(COAPS_E_NOMEM, err, cap, "out of memory");
    snprintf(s->log_name, sizeof s->log_name, "%s", cfg->log_name ? cfg->log_name : "coaps");
    s->log.level = cfg->log_level;
    s->log.prog = s->log_name;
    s->loop.epfd = -1;
    s->loop.sigfd = -1;
    server_keep_dtls_config(s, cfg);
    s->edge = calloc(1, sizeof *s->edge);
    s->psk = malloc(sizeof *s->psk);
    coaps_status st = COAPS_OK;
    if (s->edge == NULL || s->psk == NULL)
        st = net_fail(COAPS_E_NOMEM, err, cap, "out of memory");
    if (st == COAPS_OK)
        st = server_setup_coap(s, cfg, err, cap);
    if (st == COAPS_OK)
        st = net_pki_load(&s->pki, cfg->pki, err, cap);
    if (st == COAPS_OK && cfg->state_file)
        st = server_setup_state(s, cfg, err, cap);
    if (st == COAPS_OK && net_loop_init(&s->loop, &s->log, cfg->catch_signals) != COAPS_OK)
        st = net_fail(COAPS_E_IO, err, cap, "cannot set up the event loop: %s", strerror(errno));
    if (st == COAPS_OK && cfg->store)
        st = server_setup_store(s, cfg, err, cap);
    if (st == COAPS_OK && cfg->ticket_key_file && !cfg->ticket_secret) {
        st = net_key_file_load("ticket key file", cfg->ticket_key_file,
                               s->dtls_opts.ticket_secret, err, cap);
        s->dtls_opts.has_ticket_secret = st == COAPS_OK;
    }
    if (st == COAPS_OK) {
        net_psk_store_init(s->psk);
        net_edge_init(s->edge, s->coap, &s->log);
        s->edge->rcvbuf = s->rcvbuf;
        if (net_edge_attach(s->edge, &s->loop) != COAPS_OK)
            st = net_fail(COAPS_E_FULL, err, cap, "cannot add the CoAP timer");
    }
    if (st != COAPS_OK) {
        coaps_server_free(s);
        return st;
    }
    *out = s;
    return COAPS_OK;
}

void coaps_server_free(coaps_server *s)
{
    if (s == NULL)
        return;
    if (s->dtls)
        net_dtls_server_close(s->dtls, net_now_ms());
    if (s->edge)
        net_edge_close(s->edge);
    if (s->store)
        net_store_close(s->store);
    net_loop_close(&s->loop);
    net_keylog_close(&s->keylog);
    if (s->state_key)
        crypto_wipe(s->state_key, sizeof *s->state_key);
    free(s->state_key);
    free(s->state_path);
    coaps_dtls_pki_free(s->pki);
    free(s->dtls);
    free(s->edge);
    free(s->psk);
    free(s->coap_mem);
    crypto_wipe(&s->dtls_opts, sizeof s->dtls_opts); /* the ticket secret */
    free(s);
}

coaps_coap_endpoint *coaps_server_coap(coaps_server *s)
{
    return s->coap;
}

/* ---- coaps:// credentials ------------------------------------------------ */

/* The PSK store is read at each handshake: keys added while the server
 * runs are used from the next handshake on. */

coaps_status coaps_server_add_psk(coaps_server *s, const uint8_t *id, size_t id_len,
                                  const uint8_t *key, size_t key_len)
{
    if (id == NULL)
        return net_psk_store_set_default(s->psk, key, key_len);
    return net_psk_store_add(s->psk, id, id_len, key, key_len);
}

coaps_status coaps_server_add_psk_arg(coaps_server *s, const char *arg, char *err, size_t cap)
{
    char why[NET_PSK_ERR_MAX] = "";
    coaps_status st = net_psk_store_add_arg(s->psk, arg, why, sizeof why);
    return st == COAPS_OK ? COAPS_OK : net_fail(st, err, cap, "%s", why);
}

coaps_status coaps_server_load_psk_file(coaps_server *s, const char *path, char *err, size_t cap)
{
    char why[NET_PSK_ERR_MAX] = "";
    coaps_status st = net_psk_store_load_file(s->psk, path, why, sizeof why);
    return st == COAPS_OK ? COAPS_OK : net_fail(st, err, cap, "%s", why);
}

bool coaps_server_has_credentials(const coaps_server *s)
{
    return s->pki != NULL || net_psk_store_usable(s->psk);
}

/* The DTLS server, at the first coaps:// listen: the credentials are
 * complete by then, and a server without coaps:// never pays for its
 * session table. */
static coaps_status server_start_dtls(coaps_server *s, char *err, size_t cap)
{
    if (s->dtls != NULL)
        return COAPS_OK;
    if (!coaps_server_has_credentials(s))
        return net_fail(COAPS_E_INVALID, err, cap,
                        "no credentials for coaps:// (a PSK or certificates)");
    coaps_dtls_config *cfg = &s->dtls_cfg;
    memset(cfg, 0, sizeof *cfg);
    cfg->role = COAPS_DTLS_SERVER;
    cfg->psk_hint = (const uint8_t *)s->hint;
    cfg->psk_hint_len = strlen(s->hint);
    cfg->pki = s->pki;
    cfg->cid = s->cid;
    cfg->cid_len = s->cid_len;
    if (s->worker.count > 0) {
        /* net/server_worker.h: the worker's tag first in its CIDs, the
         * workers' one cookie secret */
        if (s->cid && s->cid_len > 0) {
            cfg->cid_prefix = &s->worker.index;
            cfg->cid_prefix_len = 1;
        }
        cfg->cookie_secret = s->worker.shared->cookie_secret;
    } else if (s->has_cookie_secret) {
        cfg->cookie_secret = s->cookie_secret; /* the cluster's */
    }
    if (s->keylog_from_env)
        TRY(net_keylog_start(&s->keylog, &s->log, cfg, err, cap));
    s->dtls = calloc(1, sizeof *s->dtls);
    if (s->dtls == NULL)
        return net_fail(COAPS_E_NOMEM, err, cap, "out of memory");
    coaps_status st = net_dtls_server_init(s->dtls, s->edge, &s->log, cfg, s->psk, &s->dtls_opts,
                                           net_now_ms());
    if (st == COAPS_OK && net_dtls_server_attach(s->dtls, &s->loop) != COAPS_OK)
        st = COAPS_E_FULL;
    if (st != COAPS_OK) {
        free(s->dtls);
        s->dtls = NULL;
        return net_fail(st, err, cap, "cannot set up coaps://: %s", coaps_status_str(st));
    }
    if (s->store)
        net_cluster_init(s->dtls, s->store, net_now_ms());
    if (s->worker.steer == NET_STEER_HANDOFF || s->worker.steer == NET_STEER_MISROUTE) {
        s->dtls->foreign_cid = s->worker.foreign_cid;
        s->dtls->foreign_ctx = s->worker.foreign_ctx;
    }
    return COAPS_OK;
}

/* ---- sockets ---------------------------------------------------------------- */

/* The first worker's socket on a given port: SO_REUSEPORT would let it
 * join another process's group on that port, which would then take a
 * share of the traffic; a plain bind first finds the port in use. */
static coaps_status server_probe_port(const coaps_server *s, uint16_t port,
                                      const struct sockaddr *sa, socklen_t len, int *err_no)
{
    int fd;
    if (s->worker.count == 0 || s->worker.index != 0 || port == 0)
        return COAPS_OK;
    TRY(net_udp_open(sa, len, &fd, err_no));
    close(fd);
    return COAPS_OK;
}

static coaps_status server_open(coaps_server *s, const char *host, uint16_t port,
                                enum coaps_transport transport, struct net_endpoint **ep,
                                char *err, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t len;
    const char *why = NULL;
    const char *name = host ? host : "::";
    if (net_addr_resolve(name, port, true, &ss, &len, &why) != COAPS_OK)
        return net_fail(COAPS_E_NOT_FOUND, err, cap, "cannot resolve '%s': %s", name,
                    why ? why : "unknown");
    int err_no = 0;
    coaps_status st = server_probe_port(s, port, (struct sockaddr *)&ss, len, &err_no);
    if (st == COAPS_OK)
        st = net_edge_open(s->edge, (struct sockaddr *)&ss, len, transport, ep, &err_no);
    if (st != COAPS_OK && host == NULL && err_no == EAFNOSUPPORT) {
        /* a host without IPv6: all IPv4 addresses */
        net_addr_resolve("0.0.0.0", port, true, &ss, &len, &why);
        st = net_edge_open(s->edge, (struct sockaddr *)&ss, len, transport, ep, &err_no);
    }
    if (st == COAPS_E_FULL)
        return net_fail(st, err, cap, "more than %d sockets", NET_EDGE_MAX_ENDPOINTS);
    if (st != COAPS_OK) {
        char text[NET_ADDR_STR_MAX];
        return net_fail(COAPS_E_IO, err, cap, "cannot bind %s%s: %s",
                    transport == COAPS_TRANSPORT_DTLS ? "coaps://" : "",
                    net_addr_format((struct sockaddr *)&ss, text, sizeof text), strerror(err_no));
    }
    return COAPS_OK;
}

/* Linux reports twice the receive buffer it granted (socket(7)). */
static void server_log_rcvbuf(const coaps_server *s, const struct net_endpoint *ep,
                              const char *scheme)
{
    bool short_buf = ep->rcvbuf / 2 < s->rcvbuf;
    NET_LOG(&s->log, short_buf ? NET_LOG_WARN : NET_LOG_INFO, "%s://: receive buffer %d KiB%s",
            scheme, ep->rcvbuf / 2 / 1024,
            short_buf ? " (less than asked: raise net.core.rmem_max or run with CAP_NET_ADMIN)"
                      : "");
}

/* A worker's coaps:// socket: the group's steering program, if any. */
static coaps_status server_steer(const coaps_server *s, int fd)
{
    /* every mode places datagrams without a CID by the address hash that
     * the state file's restore computes too (net/reuseport.h) */
    enum net_reuseport_cid cid = s->worker.steer == NET_STEER_BPF        ? NET_REUSEPORT_CID_TAG
                                 : s->worker.steer == NET_STEER_MISROUTE ? NET_REUSEPORT_CID_MISROUTE
                                                                         : NET_REUSEPORT_CID_ADDRESS;
    return net_reuseport_steer(fd, s->worker.count, cid);
}

coaps_status coaps_server_listen(coaps_server *s, const char *host, uint16_t port, bool dtls,
                                 char *bound, size_t bound_cap, char *err, size_t cap)
{
    if (dtls)
        TRY(server_start_dtls(s, err, cap));
    struct net_endpoint *ep = NULL;
    enum coaps_transport transport = dtls ? COAPS_TRANSPORT_DTLS : COAPS_TRANSPORT_UDP;
    TRY(server_open(s, host, port, transport, &ep, err, cap));
    if (dtls && s->worker.count > 0 && server_steer(s, ep->fd) != COAPS_OK)
        return net_fail(COAPS_E_IO, err, cap, "cannot steer coaps:// records to workers: %s",
                        strerror(errno));
    if (net_edge_watch(s->edge, &s->loop, ep) != COAPS_OK) {
        return net_fail(COAPS_E_FULL, err, cap, "cannot watch the socket: %s", strerror(errno));
    }
    if (bound != NULL)
        net_addr_format((const struct sockaddr *)&ep->local, bound, bound_cap);
    if (s->rcvbuf > 0)
        server_log_rcvbuf(s, ep, dtls ? "coaps" : "coap");
    return COAPS_OK;
}

/* ---- running ------------------------------------------------------------- */

coaps_status coaps_server_run(coaps_server *s)
{
    return net_loop_run(&s->loop);
}

void coaps_server_stop(coaps_server *s)
{
    net_loop_stop(&s->loop);
}

int coaps_server_stop_signal(const coaps_server *s)
{
    return s->loop.stop_signal;
}

int coaps_server_fd(const coaps_server *s)
{
    return s->loop.epfd;
}

int coaps_server_timeout_ms(const coaps_server *s)
{
    return net_loop_timeout_ms(&s->loop, net_now_ms());
}

coaps_status coaps_server_process(coaps_server *s, int wait_ms)
{
    return net_loop_turn(&s->loop, wait_ms);
}

/* ---- durable sessions (net/state_save.h) ------------------------------------ */

/* Where a worker's restored session goes: the worker its CID's tag names
 * when CID records are steered (or handed on) by tag, else where the
 * socket group's address hash sends its peer (net/reuseport.h). */
static unsigned route_restored(void *ctx, const coaps_peer *peer, const uint8_t *cid,
                               size_t cid_len)
{
    const struct net_worker *w = ctx;
    if (cid_len > 0 && cid[0] < w->count && w->steer != NET_STEER_HASH)
        return cid[0];
    return net_reuseport_worker_of(peer, w->count);
}

/* The state file of n servers (one, or a server's workers: the same
 * flags) saved or restored, with a line at -v info. */
static coaps_status servers_state(coaps_server *const *srvs, unsigned n, bool save,
                                  const struct net_log *log, uint32_t *count, char *err,
                                  size_t cap)
{
    coaps_server *s = srvs[0];
    struct net_dtls_server *dtls[NET_WORKERS_MAX];
    *count = 0;
    for (unsigned i = 0; i < n; i++)
        if ((dtls[i] = srvs[i]->dtls) == NULL)
            return COAPS_OK; /* no coaps:// */
    if (s->state_path == NULL || n > NET_WORKERS_MAX)
        return COAPS_OK;
    struct net_state_servers set = {dtls, n, route_restored, &s->worker};
    uint64_t t0 = net_now_ms();
    coaps_status st =
        save ? net_state_save(&set, s->state_key, s->state_path, t0, count, err, cap)
             : net_state_restore(&set, s->state_key, s->state_path, t0, count, err, cap);
    if (save ? st == COAPS_OK : *count > 0)
        NET_LOG(log, NET_LOG_INFO, "%s %u coaps sessions %s %s in %llu ms",
                save ? "saved" : "restored", (unsigned)*count, save ? "to" : "from",
                s->state_path, (unsigned long long)(net_now_ms() - t0));
    return st;
}

coaps_status coaps_server_restore_state(coaps_server *s, uint32_t *restored, char *err,
                                        size_t cap)
{
    uint32_t n = 0;
    coaps_status st = servers_state(&s, 1, false, &s->log, &n, err, cap);
    if (restored)
        *restored = n;
    return st;
}

coaps_status coaps_server_save_state(coaps_server *s, uint32_t *saved, char *err, size_t cap)
{
    uint32_t n = 0;
    coaps_status st = servers_state(&s, 1, true, &s->log, &n, err, cap);
    if (saved)
        *saved = n;
    return st;
}

coaps_status net_servers_restore_state(coaps_server *const *srvs, unsigned n,
                                       const struct net_log *log, uint32_t *restored, char *err,
                                       size_t cap)
{
    return servers_state(srvs, n, false, log, restored, err, cap);
}

coaps_status net_servers_save_state(coaps_server *const *srvs, unsigned n,
                                    const struct net_log *log, uint32_t *saved, char *err,
                                    size_t cap)
{
    return servers_state(srvs, n, true, log, saved, err, cap);
}

uint32_t coaps_server_sessions(const coaps_server *s)
{
    return s->dtls ? net_dtls_server_sessions(s->dtls) : 0;
}

/* ---- statistics ------------------------------------------------------------ */

static void server_log_coap_stats(const struct net_log *log, const coaps_coap_stats *st)
{
    net_log_print(log, NET_LOG_INFO,
                  "stats: rx %llu (malformed %llu, duplicates %llu), requests %llu, tx %llu "
                  "(retransmissions %llu, rst %llu, notifications %llu, dropped %llu), "
                  "timeouts %llu, table full %llu, dedup recycled %llu",
                  (unsigned long long)st->rx_datagrams, (unsigned long long)st->rx_malformed,
                  (unsigned long long)st->rx_duplicates, (unsigned long long)st->rx_requests,
                  (unsigned long long)st->tx_datagrams, (unsigned long long)st->tx_retransmissions,
                  (unsigned long long)st->tx_rst, (unsigned long long)st->tx_notifications,
                  (unsigned long long)st->tx_dropped, (unsigned long long)st->timeouts,
                  (unsigned long long)st->table_full, (unsigned long long)st->dedup_recycled);
}

static void server_log_dtls_stats(const struct net_log *log, const struct net_dtls_server_stats *d)
{
    net_log_print(log, NET_LOG_INFO,
                  "coaps: hello-verify %llu, handshakes %llu, established %llu, failed %llu "
                  "(unknown identity %llu, forgery limit %llu), closed %llu, restarted %llu, "
                  "idle %llu, evicted %llu, handshakes evicted %llu (host at its bound %llu), "
                  "refused %llu, "
                  "moved %llu, unknown cid %llu, resumed %llu, restored %llu, "
                  "front dropped %llu, cooled %llu, woken %llu; store: stored %llu, "
                  "taken over %llu (%llu us each), take refused %llu, take limited %llu, "
                  "lost %llu, failed %llu",
                  (unsigned long long)d->hello_verify, (unsigned long long)d->handshakes,
                  (unsigned long long)d->established, (unsigned long long)d->failed,
                  (unsigned long long)d->unknown_identity, (unsigned long long)d->auth_limit,
                  (unsigned long long)d->closed, (unsigned long long)d->restarted,
                  (unsigned long long)d->idle_expired, (unsigned long long)d->evicted,
                  (unsigned long long)d->handshakes_evicted,
                  (unsigned long long)d->handshakes_host_capped, (unsigned long long)d->refused,
                  (unsigned long long)d->peer_moved, (unsigned long long)d->cid_unknown,
                  (unsigned long long)d->resumed, (unsigned long long)d->restored,
                  (unsigned long long)d->front_dropped, (unsigned long long)d->cooled,
                  (unsigned long long)d->woken, (unsigned long long)d->stored,
                  (unsigned long long)d->taken_over,
                  (unsigned long long)(d->taken_over ? d->take_us / d->taken_over : 0),
                  (unsigned long long)d->take_refused,
                  (unsigned long long)d->take_limited, (unsigned long long)d->lost,
                  (unsigned long long)d->store_failed);
}

static void server_log_socket_stats(const struct net_log *log, const struct net_endpoint *ep,
                                    const struct net_endpoint_stats *es)
{
    char text[NET_ADDR_STR_MAX];
    /* kernel: dropped before we could read them (receive buffer full) */
    net_log_print(log, NET_LOG_INFO,
                  "socket %s: rx %llu (dropped %llu, kernel dropped %llu), "
                  "tx %llu (dropped %llu)",
                  net_addr_format((const struct sockaddr *)&ep->local, text, sizeof text),
                  (unsigned long long)es->rx_datagrams, (unsigned long long)es->rx_dropped,
                  (unsigned long long)es->rx_kernel_dropped,
                  (unsigned long long)es->tx_datagrams, (unsigned long long)es->tx_dropped);
}

void coaps_server_log_stats(coaps_server *s)
{
    net_servers_log_stats(&s, 1, &s->log);
}

/* Every field of the three statistics structs is a uint64_t counter, so a
 * server's total is the sum, word by word, of its workers'. */
_Static_assert(sizeof(coaps_coap_stats) % sizeof(uint64_t) == 0, "counters only");
_Static_assert(sizeof(struct net_dtls_server_stats) % sizeof(uint64_t) == 0, "counters only");
_Static_assert(sizeof(struct net_endpoint_stats) % sizeof(uint64_t) == 0, "counters only");
_Static_assert(sizeof(struct net_store_stats) % sizeof(uint64_t) == 0, "counters only");

static void add_counters(void *sum, const void *add, size_t size)
{
    for (size_t off = 0; off < size; off += sizeof(uint64_t)) {
        uint64_t a, b;
        memcpy(&a, (uint8_t *)sum + off, sizeof a);
        memcpy(&b, (const uint8_t *)add + off, sizeof b);
        a += b;
        memcpy((uint8_t *)sum + off, &a, sizeof a);
    }
}

void net_servers_log_stats(coaps_server *const *srvs, unsigned n, const struct net_log *log)
{
    if (!NET_LOG_ENABLED(log, NET_LOG_INFO) || n == 0)
        return;
    coaps_coap_stats coap = {0};
    struct net_dtls_server_stats dtls = {0};
    for (unsigned i = 0; i < n; i++) {
        add_counters(&coap, coaps_coap_get_stats(srvs[i]->coap), sizeof coap);
        if (srvs[i]->dtls)
            add_counters(&dtls, &srvs[i]->dtls->stats, sizeof dtls);
    }
    server_log_coap_stats(log, &coap);
    if (srvs[0]->dtls)
        server_log_dtls_stats(log, &dtls);
    if (srvs[0]->store) {
        struct net_store_stats ss = {0};
        for (unsigned i = 0; i < n; i++)
            if (srvs[i]->store)
                add_counters(&ss, net_store_get_stats(srvs[i]->store), sizeof ss);
        net_log_print(log, NET_LOG_INFO,
                      "store: calls %llu, failed %llu, malformed %llu, under the previous "
                      "state key %llu, reconnects %llu",
                      (unsigned long long)ss.calls, (unsigned long long)ss.failed,
                      (unsigned long long)ss.malformed, (unsigned long long)ss.prev_key,
                      (unsigned long long)ss.reconnects);
    }
    /* the workers open the same sockets in the same order: socket e of
     * each is one port's share */
    for (size_t e = 0; e < srvs[0]->edge->n_eps; e++) {
        struct net_endpoint_stats es = {0};
        for (unsigned i = 0; i < n; i++) {
            if (e >= srvs[i]->edge->n_eps)
                continue;
            net_endpoint_update_drops(&srvs[i]->edge->eps[e]);
            add_counters(&es, &srvs[i]->edge->eps[e].stats, sizeof es);
        }
        server_log_socket_stats(log, &srvs[0]->edge->eps[e], &es);
    }
}

/* ---- one of N workers (net/server_worker.h) ---------------------------------- */

coaps_status net_workers_shared_init(struct net_workers_shared *sh)
{
    TRY(net_random_bytes(sh->cookie_secret, sizeof sh->cookie_secret));
    return net_random_bytes(sh->ticket_secret, sizeof sh->ticket_secret);
}

void net_workers_shared_clear(struct net_workers_shared *sh)
{
    crypto_wipe(sh, sizeof *sh);
}

coaps_status net_server_set_worker(coaps_server *s, const struct net_worker *w)
{
    ENSURE(s->edge->n_eps == 0 && s->dtls == NULL, COAPS_E_INVALID);
    ENSURE(w->count > 1 && w->count <= NET_WORKERS_MAX && w->index < w->count && w->shared,
           COAPS_E_INVALID);
    ENSURE((w->steer != NET_STEER_HANDOFF && w->steer != NET_STEER_MISROUTE) || w->foreign_cid,
           COAPS_E_INVALID);
    s->worker = *w;
    s->edge->reuseport = true;
    s->dtls_opts.sessions_total = w->sessions; /* NULL: this worker's slots are its bound */
    return COAPS_OK;
}

coaps_status net_server_watch(coaps_server *s, int fd, net_loop_cb on_readable, void *ctx)
{
    return net_loop_watch(&s->loop, fd, on_readable, ctx);
}

uint16_t net_server_port(const coaps_server *s, bool dtls)
{
    enum coaps_transport want = dtls ? COAPS_TRANSPORT_DTLS : COAPS_TRANSPORT_UDP;
    for (size_t i = 0; i < s->edge->n_eps; i++) {
        const struct net_endpoint *ep = &s->edge->eps[i];
        if (ep->transport == want)
            return net_endpoint_port(ep);
    }
    return 0;
}

void net_server_take_handoff(coaps_server *s, struct net_handoff_ring *ring, uint64_t now_ms)
{
    struct net_endpoint *ep = NULL;
    for (size_t i = 0; i < s->edge->n_eps && ep == NULL; i++)
        if (s->edge->eps[i].transport == COAPS_TRANSPORT_DTLS)
            ep = &s->edge->eps[i];
    struct net_handoff_slot *slot;
    size_t pending = 0;
    while ((slot = net_handoff_peek(ring)) != NULL) {
        if (ep != NULL)
            net_edge_inject(s->edge, ep, &slot->peer, slot->data, slot->len, now_ms);
        net_handoff_pop(ring);
        if (++pending == NET_UDP_BATCH) { /* the CoAP output queue's bound */
            net_edge_flush(s->edge, now_ms);
            pending = 0;
        }
    }
    net_edge_flush(s->edge, now_ms);
}

const struct net_dtls_server_stats *net_server_dtls_stats(const coaps_server *s)
{
    return s->dtls ? &s->dtls->stats : NULL;
}
