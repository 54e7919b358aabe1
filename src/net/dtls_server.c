/* dtls_server.c - coaps:// sessions for the server's edge (see dtls_server.h). */
#include "net/dtls_server.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__GLIBC__)
#include <malloc.h> /* malloc_trim: see server_trim */
#endif

#include "common/try.h"
#include "crypto/crypto.h"
#include "net/addr.h"
#include "net/clock.h"
#include "net/random.h"

/* RFC 5246 7.2: the alert our engine sends for an identity we do not know
 * (RFC 4279 2). */
#define ALERT_UNKNOWN_PSK_IDENTITY 115

/* Printable form of an identity in a log line: 128 bytes, each at most
 * "\xNN" (4 characters), + NUL. */
#define IDENTITY_TEXT_MAX (COAPS_DTLS_PSK_IDENTITY_MAX * 4 + 1)

/* The per-session cost dtls_server.h and the report promise (connection +
 * table entry; the AEAD contexts come on top): 608 bytes on x86-64. */
_Static_assert(NET_DTLS_SESSION_BYTES <= 640, "a coaps session slot grew past 640 bytes");

/* out (cap >= 256) for the front door's HelloVerifyRequest or alert. */
_Static_assert(NET_UDP_DGRAM_MAX >= 256, "front door output needs 256 bytes");

bool net_ratelimit_allow(struct net_ratelimit *rl, uint64_t now_ms, uint32_t burst,
                         uint64_t window_ms, uint32_t *suppressed)
{
    *suppressed = 0;
    if (now_ms - rl->window_start >= window_ms || rl->window_start == 0) {
        *suppressed = rl->suppressed;
        rl->window_start = now_ms ? now_ms : 1;
        rl->count = 0;
        rl->suppressed = 0;
    }
    if (rl->count < burst) {
        rl->count++;
        return true;
    }
    rl->suppressed++;
    return false;
}

static const char *identity_text(const uint8_t *id, size_t len, char *buf, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < len && o + 5 <= cap; i++) {
        uint8_t c = id[i];
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
            buf[o++] = (char)c;
        } else {
            buf[o++] = '\\';
            buf[o++] = 'x';
            buf[o++] = hex[c >> 4];
            buf[o++] = hex[c & 15];
        }
    }
    buf[o] = '\0';
    return buf;
}

/* One abuse/failure line, rate-limited (NET_DTLS_LOG_BURST per window). */
__attribute__((format(printf, 5, 6))) static void
limited_log(struct net_dtls_server *srv, enum net_dtls_log_kind kind, int level, uint64_t now_ms,
            const char *fmt, ...);

static void limited_log(struct net_dtls_server *srv, enum net_dtls_log_kind kind, int level,
                        uint64_t now_ms, const char *fmt, ...)
{
    if (!NET_LOG_ENABLED(srv->log, level))
        return;
    uint32_t suppressed;
    bool ok = net_ratelimit_allow(&srv->log_limit[kind], now_ms, NET_DTLS_LOG_BURST,
                                  NET_DTLS_LOG_WINDOW_MS, &suppressed);
    if (suppressed)
        net_log_print(srv->log, level, "%u similar coaps log lines suppressed", suppressed);
    if (!ok)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    net_log_print(srv->log, level, "%s", line);
}

/* The engine's lookup: the store's, remembering a refused identity for
 * the log line (the callback runs inside coaps_dtls_input). */
static coaps_status server_psk_lookup(void *user, const uint8_t *identity, size_t identity_len,
                                      uint8_t *key, size_t key_cap, size_t *key_len)
{
    struct net_dtls_server *srv = user;
    coaps_status st = srv->psk ? net_psk_store_lookup((void *)srv->psk, identity, identity_len,
                                                      key, key_cap, key_len)
                               : COAPS_E_PSK_IDENTITY;
    if (st != COAPS_OK) {
        size_t n = identity_len < sizeof srv->bad_identity ? identity_len
                                                           : sizeof srv->bad_identity;
        memcpy(srv->bad_identity, identity, n);
        srv->bad_identity_len = n;
    }
    return st;
}

/* ---- handshake contexts ------------------------------------------------- */

static void session_end(struct net_dtls_server *srv, uint32_t i, bool notify, uint64_t now_ms);
static void hs_give_back(struct net_dtls_server *srv, struct net_dtls_session *s);

/* A source host's share of a pool unless the flags say otherwise: a
 * quarter, so that one host (an attacker's, or a carrier-grade NAT's)
 * never holds the whole pool and three quarters stay for the others. */
static uint32_t per_host_default(uint32_t pool)
{
    return pool / 4 ? pool / 4 : 1;
}

/* Take slot victim of pool back from its session: one that is
 * established and only lingers with its ticket flight
 * (coaps_dtls_release_hs) gives the context up and goes on; a handshake
 * fails (logged, rate-limited). */
static void displace(struct net_dtls_server *srv, struct net_hs_pool *pool, uint32_t victim,
                     const char *what, bool at_bound, uint64_t now_ms)
{
    struct net_dtls_session *vs = &srv->sessions[pool->slot[victim].owner];
    if (coaps_dtls_state(&vs->conn) == COAPS_DTLS_ESTABLISHED) {
        coaps_dtls_release_hs(&vs->conn);
        hs_give_back(srv, vs);
        return;
    }
    if (at_bound)
        srv->stats.handshakes_host_capped++;
    else
        srv->stats.handshakes_evicted++;
    if (NET_LOG_ENABLED(srv->log, NET_LOG_WARN)) {
        char who[NET_ADDR_STR_MAX];
        const struct net_hs_slot *v = &pool->slot[victim];
        char bound[96];
        if (at_bound)
            snprintf(bound, sizeof bound, "a host at its bound of %u %s",
                     (unsigned)net_hs_pool_host_count(pool, v->host), what);
        else
            snprintf(bound, sizeof bound, "all %u %s busy", (unsigned)pool->cap, what);
        limited_log(srv, NET_DTLS_LOG_HS_BUSY, NET_LOG_WARN, now_ms,
                    "%s: dropping the handshake of %s (%s, %u from its host)", bound,
                    net_peer_format(&net_session_at(&srv->table, v->owner)->peer, who, sizeof who),
                    v->progress ? "in progress" : "no progress",
                    (unsigned)net_hs_pool_host_count(pool, v->host));
    }
    session_end(srv, pool->slot[victim].owner, false, now_ms);
}

/* A slot of pool for session i (from host): first, a host at its bound
 * (per_host slots; 0, or the whole pool: none but the pool's) gives up
 * one of its own (hs_pool.h: no progress, oldest), so no source host ever
 * holds more; then a free
 * slot, or one displaced in the order of hs_pool.h. NET_HS_NONE when
 * pool has none to give (every slot is i's own: cannot happen with one
 * slot per session). */
static uint32_t pool_take(struct net_dtls_server *srv, struct net_hs_pool *pool, uint32_t i,
                          uint64_t host, uint32_t per_host, const char *what, uint64_t now_ms)
{
    if (per_host && per_host < pool->cap && net_hs_pool_host_count(pool, host) >= per_host) {
        uint32_t own = net_hs_pool_host_victim(pool, host);
        if (own != NET_HS_NONE && pool->slot[own].owner != i)
            displace(srv, pool, own, what, true, now_ms);
    }
    uint32_t h = net_hs_pool_take(pool, i, host, now_ms);
    if (h != NET_HS_NONE)
        return h;
    uint32_t victim = net_hs_pool_victim(pool);
    if (victim == NET_HS_NONE || pool->slot[victim].owner == i)
        return NET_HS_NONE;
    displace(srv, pool, victim, what, false, now_ms);
    return net_hs_pool_take(pool, i, host, now_ms);
}

static void hs_give_back(struct net_dtls_server *srv, struct net_dtls_session *s)
{
    if (s->hs != NET_HS_NONE)
        net_hs_pool_give(&srv->hs_pool, s->hs);
    if (s->pki != NET_HS_NONE)
        net_hs_pool_give(&srv->pki_pool, s->pki);
    s->hs = s->pki = NET_HS_NONE;
}

/* ---- sessions ------------------------------------------------------------ */

static const coaps_peer *session_peer(const struct net_dtls_server *srv, uint32_t i)
{
    return &net_session_at(&srv->table, i)->peer;
}

static void session_flush(struct net_dtls_server *srv, uint32_t i, uint64_t now_ms)
{
    struct net_dtls_session *s = &srv->sessions[i];
    size_t len;
    /* What the engine sends of itself (flights, alerts, close_notify):
     * rare, while this runs after every record, so the engine is asked
     * first and the socket's batch touched only for a datagram. */
    while (coaps_dtls_output(&s->conn, srv->tx, sizeof srv->tx, &len, now_ms) == COAPS_OK)
        (void)net_endpoint_queue(s->ep, session_peer(srv, i), srv->tx, len);
}

/* Free a session: CoAP state of the peer, crypto state, slot. With
 * notify, an established session says close_notify first. */
static void session_end(struct net_dtls_server *srv, uint32_t i, bool notify, uint64_t now_ms)
{
    struct net_dtls_session *s = &srv->sessions[i];
    coaps_peer peer = *session_peer(srv, i);
    if (notify && !s->saved && !s->lost && coaps_dtls_state(&s->conn) == COAPS_DTLS_ESTABLISHED) {
        (void)coaps_dtls_close(&s->conn);
        session_flush(srv, i, now_ms);
    }
    net_cluster_end(srv, i);
    if (s->established)
        net_edge_peer_gone(srv->edge, &peer);
    coaps_dtls_conn_clear(&s->conn); /* wipes the contexts before they go back */
    hs_give_back(srv, s);
    memset(s, 0, sizeof *s);
    s->hs = s->pki = NET_HS_NONE;
    net_cid_remove(&srv->cids, i);
    net_session_remove(&srv->table, i);
}

static void log_session_end(struct net_dtls_server *srv, uint32_t i, uint64_t now_ms)
{
    struct net_dtls_session *s = &srv->sessions[i];
    coaps_dtls_error e = coaps_dtls_error_reason(&s->conn);
    char who[NET_ADDR_STR_MAX];
    if (coaps_dtls_state(&s->conn) == COAPS_DTLS_CLOSED) {
        srv->stats.closed++; /* the normal end: format nothing unless logged */
        if (NET_LOG_ENABLED(srv->log, NET_LOG_INFO))
            net_log_print(srv->log, NET_LOG_INFO, "coaps session with %s closed%s",
                          net_peer_format(session_peer(srv, i), who, sizeof who),
                          e.alert < 0 ? "" : " by the peer");
        return;
    }
    net_peer_format(session_peer(srv, i), who, sizeof who);
    srv->stats.failed++;
    if (e.alert == ALERT_UNKNOWN_PSK_IDENTITY && e.alert_sent) {
        char id[IDENTITY_TEXT_MAX];
        srv->stats.unknown_identity++;
        limited_log(srv, NET_DTLS_LOG_FAILURE, NET_LOG_WARN, now_ms,
                    "coaps handshake from %s refused: unknown PSK identity '%s'", who,
                    identity_text(srv->bad_identity, srv->bad_identity_len, id, sizeof id));
        return;
    }
    if (e.status == COAPS_E_AUTH_LIMIT) {
        /* RFC 9147 4.5.3: the AEAD's limit of records failing
         * authentication under one key; forged datagrams, most likely. */
        coaps_dtls_stats ds = coaps_dtls_get_stats(&s->conn);
        srv->stats.auth_limit++;
        limited_log(srv, NET_DTLS_LOG_FAILURE, NET_LOG_WARN, now_ms,
                    "coaps session with %s ended: %llu records failed authentication "
                    "under its key, the limit for %s (forged datagrams?)",
                    who, (unsigned long long)ds.auth_failures,
                    coaps_dtls_suite_name(coaps_dtls_suite(&s->conn)));
        return;
    }
    char why[128];
    limited_log(srv, NET_DTLS_LOG_FAILURE, NET_LOG_WARN, now_ms, "coaps %s with %s failed: %s",
                s->established ? "session" : "handshake", who,
                coaps_dtls_error_str(&s->conn, why, sizeof why));
}

/* Traffic on session i: to the LRU front, out of the cold run. The engine
 * re-keys a cold connection on its own; this only counts it. */
static void session_touch(struct net_dtls_server *srv, uint32_t i, uint64_t now_ms)
{
    struct net_dtls_session *s = &srv->sessions[i];
    net_session_touch(&srv->table, i, now_ms);
    if (s->cold) {
        s->cold = false;
        srv->stats.woken++;
    }
}

/* After input or tick: deliver CoAP, send records, follow the state. */
static void session_service(struct net_dtls_server *srv, uint32_t i, uint64_t now_ms)
{
    struct net_dtls_session *s = &srv->sessions[i];
    const uint8_t *data;
    size_t len;
    while (coaps_dtls_read(&s->conn, &data, &len) == COAPS_OK) {
        session_touch(srv, i, now_ms);
        net_edge_deliver(srv->edge, session_peer(srv, i), data, len, now_ms);
    }
    session_flush(srv, i, now_ms);
    enum coaps_dtls_state st = coaps_dtls_state(&s->conn);
    if (st == COAPS_DTLS_ESTABLISHED && !s->established) {
        s->established = true;
        srv->stats.established++;
        if (coaps_dtls_resumed(&s->conn))
            srv->stats.resumed++;
        net_session_lru_add(&srv->table, i, now_ms);
        if (NET_LOG_ENABLED(srv->log, NET_LOG_INFO)) {
            char who[NET_ADDR_STR_MAX];
            net_log_print(srv->log, NET_LOG_INFO, "coaps session with %s established, %s%s",
                          net_peer_format(session_peer(srv, i), who, sizeof who),
                          coaps_dtls_suite_name(coaps_dtls_suite(&s->conn)),
                          coaps_dtls_resumed(&s->conn) ? " (resumed)" : "");
        }
    }
    if (s->hs != NET_HS_NONE) {
        if (coaps_dtls_hs_released(&s->conn)) {
            hs_give_back(srv, s); /* only needed while handshaking */
        } else {
            /* A context an established session only keeps to resend its
             * ticket flight is the cheapest to take back (the session goes
             * on): it ranks with those that made no progress. */
            bool progressed = st != COAPS_DTLS_ESTABLISHED && coaps_dtls_hs_progressed(&s->conn);
            net_hs_pool_set_progress(&srv->hs_pool, s->hs, progressed);
            if (s->pki != NET_HS_NONE)
                net_hs_pool_set_progress(&srv->pki_pool, s->pki, progressed);
        }
    }
    if (st == COAPS_DTLS_FAILED || st == COAPS_DTLS_CLOSED) {
        log_session_end(srv, i, now_ms);
        session_end(srv, i, false, now_ms);
        return;
    }
    if (s->cold) {
        /* still cold: no record of it authenticated (a forgery or replay
         * in its peer's name), which the engine re-keyed to check; the
         * session stays where it is in the cold run, so give it back now */
        (void)coaps_dtls_cool(&s->conn);
    }
    net_cluster_after_service(srv, i, now_ms);
}

void net_dtls_session_end(struct net_dtls_server *srv, uint32_t i, bool notify, uint64_t now_ms)
{
    session_end(srv, i, notify, now_ms);
}

void net_dtls_session_service(struct net_dtls_server *srv, uint32_t i, uint64_t now_ms)
{
    session_service(srv, i, now_ms);
}

uint32_t net_dtls_session_import(struct net_dtls_server *srv, struct net_endpoint *ep,
                                 const coaps_peer *peer, uint64_t hello_hash,
                                 const uint8_t *blob, size_t len, uint64_t now_ms)
{
    uint32_t i = net_session_insert(&srv->table, peer, now_ms);
    if (i == NET_SESSION_NONE)
        return NET_SESSION_NONE;
    struct net_dtls_session *s = &srv->sessions[i];
    memset(s, 0, sizeof *s);
    s->ep = ep;
    s->hs = s->pki = NET_HS_NONE;
    s->hello_hash = hello_hash;
    if (coaps_dtls_import(&s->conn, &srv->cfg, blob, len) != COAPS_OK) {
        net_dtls_session_discard(srv, i);
        return NET_SESSION_NONE;
    }
    return i;
}

void net_dtls_session_discard(struct net_dtls_server *srv, uint32_t i)
{
    struct net_dtls_session *s = &srv->sessions[i];
    net_cid_remove(&srv->cids, i);
    coaps_dtls_conn_clear(&s->conn);
    net_session_remove(&srv->table, i);
    memset(s, 0, sizeof *s);
    s->hs = s->pki = NET_HS_NONE;
}

/* A slot for a newcomer: free, or the LRU session if it is idle enough. */
static uint32_t session_slot(struct net_dtls_server *srv, const coaps_peer *peer,
                             uint64_t now_ms)
{
    uint32_t i = net_session_insert(&srv->table, peer, now_ms);
    if (i != NET_SESSION_NONE)
        return i;
    uint32_t victim = net_session_victim(&srv->table, now_ms, srv->opts.busy_ms);
    if (victim == NET_SESSION_NONE)
        return NET_SESSION_NONE;
    srv->stats.evicted++;
    session_end(srv, victim, true, now_ms);
    return net_session_insert(&srv->table, peer, now_ms);
}

/* With CIDs (RFC 9146): the new session's CID into the table, drawn again
 * in the unlikely case another session has it (the engine drew it at
 * init; random after the configured prefix). */
static coaps_status cid_register(struct net_dtls_server *srv, uint32_t i)
{
    if (!srv->cids.entries)
        return COAPS_OK;
    coaps_dtls_conn *conn = &srv->sessions[i].conn;
    const uint8_t *cid;
    size_t len = coaps_dtls_own_cid(conn, &cid);
    for (int tries = 0; net_cid_find(&srv->cids, cid) != NET_CID_NONE; tries++) {
        uint8_t fresh[COAPS_DTLS_CID_MAX];
        size_t prefix = srv->cfg.cid_prefix_len;
        ENSURE(tries < 8 && len > prefix, COAPS_E_FULL);
        memcpy(fresh, cid, prefix);
        TRY(net_random_bytes(fresh + prefix, len - prefix));
        TRY(coaps_dtls_set_own_cid(conn, fresh, len));
        len = coaps_dtls_own_cid(conn, &cid);
    }
    net_cid_insert(&srv->cids, i, cid);
    return COAPS_OK;
}

static uint32_t session_new(struct net_dtls_server *srv, struct net_endpoint *ep,
                            const coaps_peer *peer, const uint8_t *hello, size_t hello_len,
                            uint64_t now_ms)
{
    uint32_t i = session_slot(srv, peer, now_ms);
    if (i == NET_SESSION_NONE) {
        srv->stats.refused++;
        char who[NET_ADDR_STR_MAX];
        limited_log(srv, NET_DTLS_LOG_FULL, NET_LOG_WARN, now_ms,
                    "coaps session table full (%u busy sessions): refusing %s",
                    (unsigned)(srv->opts.sessions_total ? srv->opts.sessions_total->cap
                                                        : srv->opts.max_sessions),
                    net_peer_format(peer, who, sizeof who));
        return NET_SESSION_NONE;
    }
    struct net_dtls_session *s = &srv->sessions[i];
    memset(s, 0, sizeof *s);
    s->ep = ep;
    s->hs = s->pki = NET_HS_NONE;
    s->hello_hash = coaps_dtls_client_hello_hash(hello, hello_len);
    /* Displacing another handshake may end a session, never this one
     * (its slot is taken, not yet lent a context). */
    uint64_t host = net_hs_host_key(peer);
    s->hs = pool_take(srv, &srv->hs_pool, i, host, srv->opts.max_handshakes_per_host,
                      "handshake contexts", now_ms);
    if (s->hs != NET_HS_NONE && coaps_dtls_server_wants_pki(&srv->front, hello, hello_len))
        s->pki = pool_take(srv, &srv->pki_pool, i, host, per_host_default(srv->pki_pool.cap),
                           "certificate areas", now_ms);
    /* without an area the handshake goes on with PSK suites only */
    if (s->hs == NET_HS_NONE ||
        coaps_dtls_conn_init_split(&s->conn, &srv->cfg, &srv->hs_mem[s->hs],
                                   s->pki == NET_HS_NONE ? NULL : &srv->pki_mem[s->pki], peer,
                                   now_ms) != COAPS_OK) {
        hs_give_back(srv, s);
        net_session_remove(&srv->table, i);
        return NET_SESSION_NONE;
    }
    if (cid_register(srv, i) != COAPS_OK) {
        coaps_dtls_conn_clear(&s->conn);
        hs_give_back(srv, s);
        net_session_remove(&srv->table, i);
        return NET_SESSION_NONE;
    }
    srv->stats.handshakes++;
    return i;
}

/* A datagram for the front door: no session, or a ClientHello from a peer
 * whose session is past its handshake (RFC 6347 4.2.8). Returns the
 * session to feed it to, or NET_SESSION_NONE when it was handled. */
static uint32_t front_door(struct net_dtls_server *srv, struct net_endpoint *ep,
                           const coaps_peer *src, uint32_t i, const uint8_t *data, size_t len,
                           uint64_t now_ms)
{
    enum coaps_dtls_accept verdict = COAPS_DTLS_ACCEPT_DROP;
    size_t out_len = 0;
    if (coaps_dtls_server_accept(&srv->front, src, data, len, now_ms, srv->tx, sizeof srv->tx,
                                 &out_len, &verdict) != COAPS_OK)
        verdict = COAPS_DTLS_ACCEPT_DROP;
    switch (verdict) {
    case COAPS_DTLS_ACCEPT_SEND:
        srv->stats.hello_verify++;
        (void)net_endpoint_queue(ep, src, srv->tx, out_len);
        return NET_SESSION_NONE;
    case COAPS_DTLS_ACCEPT_NEW:
        /* the ticket keys follow the wall clock's periods (ticket.h) */
        if (srv->cfg.ticket_keys)
            (void)coaps_dtls_ticket_keys_update(&srv->tickets, (uint64_t)time(NULL));
        if (i != NET_SESSION_NONE) {
            srv->stats.restarted++;
            session_end(srv, i, false, now_ms);
        }
        return session_new(srv, ep, src, data, len, now_ms);
    case COAPS_DTLS_ACCEPT_DROP:
    default:
        if (i == NET_SESSION_NONE)
            srv->stats.front_dropped++;
        return i;
    }
}

/* RFC 9146 6: the peer of session i spoke from src, a new address, in a
 * record that authenticated and is newer than any before: the session
 * (and the CoAP state of its peer: observers, exchanges, duplicates)
 * moves there. A session still at src (the NAT gave the address to
 * someone else, whose session is stale) ends first. */
static void session_follow(struct net_dtls_server *srv, uint32_t i, struct net_endpoint *ep,
                           const coaps_peer *src, uint64_t now_ms)
{
    uint32_t other = net_session_find(&srv->table, src);
    if (other != NET_SESSION_NONE)
        session_end(srv, other, false, now_ms);
    coaps_peer old = *session_peer(srv, i);
    net_session_move(&srv->table, i, src);
    if (srv->sessions[i].established)
        net_edge_peer_moved(srv->edge, &old, src);
    srv->sessions[i].ep = ep;
    srv->stats.peer_moved++;
    if (NET_LOG_ENABLED(srv->log, NET_LOG_INFO)) {
        char from[NET_ADDR_STR_MAX], to[NET_ADDR_STR_MAX];
        net_log_print(srv->log, NET_LOG_INFO, "coaps session with %s moved to %s (CID)",
                      net_peer_format(&old, from, sizeof from),
                      net_peer_format(src, to, sizeof to));
    }
}

/* A tls12_cid record (RFC 9146): its session is found by CID, wherever it
 * comes from; an unknown CID is dropped and counted. */
static void server_rx_cid(struct net_dtls_server *srv, struct net_endpoint *ep,
                          const coaps_peer *src, const uint8_t *cid, uint8_t *data,
                          size_t len, uint64_t now_ms)
{
    uint32_t i = net_cid_find(&srv->cids, cid);
    if (i == NET_CID_NONE) {
        /* another worker's session (its tag in the CID): its datagram */
        if (srv->foreign_cid && srv->foreign_cid(srv->foreign_ctx, src, cid, data, len)) {
            srv->stats.cid_handed_off++;
            return;
        }
        /* a session of the cluster's, held by another node or by none */
        if (net_cluster_take(srv, ep, src, cid, srv->cids.len, data, len, now_ms))
            return;
        srv->stats.cid_unknown++;
        return;
    }
    coaps_dtls_conn *conn = &srv->sessions[i].conn;
    srv->bad_identity_len = 0;
    (void)coaps_dtls_input(conn, data, len, now_ms); /* decrypts in place */
    if (!coaps_peer_equal(src, session_peer(srv, i)) && coaps_dtls_input_newest(conn) &&
        coaps_dtls_state(conn) == COAPS_DTLS_ESTABLISHED)
        session_follow(srv, i, ep, src, now_ms);
    session_service(srv, i, now_ms);
}

static void server_rx(void *ctx, struct net_endpoint *ep, const coaps_peer *src,
                      uint8_t *data, size_t len, uint64_t now_ms)
{
    struct net_dtls_server *srv = ctx;
    if (len > NET_UDP_DGRAM_MAX)
        return;
    srv->cache.now_ms = now_ms; /* the session cache's clock */
    const uint8_t *cid;
    if (srv->cids.entries && coaps_dtls_datagram_cid(data, len, srv->cids.len, &cid)) {
        server_rx_cid(srv, ep, src, cid, data, len, now_ms);
        return;
    }
    uint32_t i = net_session_find(&srv->table, src);
    if (i != NET_SESSION_NONE && coaps_dtls_is_client_hello(data, len)) {
        if (coaps_dtls_client_hello_hash(data, len) == srv->sessions[i].hello_hash) {
            /* The ClientHello that made this session, again (same random,
             * same cookie). During the handshake it goes to the handshake,
             * which resends its flight under the RFC 6347 4.2.4.1 timer and
             * takes no new context; after it, a late copy is ignored. */
            if (coaps_dtls_state(&srv->sessions[i].conn) != COAPS_DTLS_HANDSHAKING)
                return;
        } else {
            /* Another ClientHello: the client starts over (RFC 6347
             * 4.2.8), which the front door checks (or a later fragment of
             * the first, which it hands back to the session). */
            i = front_door(srv, ep, src, i, data, len, now_ms);
        }
    } else if (i == NET_SESSION_NONE) {
        if (srv->cluster.store && net_cluster_take(srv, ep, src, NULL, 0, data, len, now_ms))
            return;
        i = front_door(srv, ep, src, i, data, len, now_ms);
    }
    if (i == NET_SESSION_NONE)
        return;
    srv->bad_identity_len = 0;
    (void)coaps_dtls_input(&srv->sessions[i].conn, data, len, now_ms); /* decrypts in place */
    session_service(srv, i, now_ms);
}

static coaps_status server_tx(void *ctx, struct net_endpoint *ep, const coaps_peer *to,
                              const uint8_t *msg, size_t len, uint64_t now_ms)
{
    (void)ep;
    struct net_dtls_server *srv = ctx;
    uint32_t i = net_session_find(&srv->table, to);
    if (i == NET_SESSION_NONE ||
        coaps_dtls_state(&srv->sessions[i].conn) != COAPS_DTLS_ESTABLISHED) {
        srv->stats.tx_no_session++; /* e.g. a deferred response after the session ended */
        return COAPS_E_NOT_FOUND;
    }
    if (!net_cluster_before_write(srv, i, now_ms))
        return COAPS_E_NOT_FOUND; /* another node holds the session now */
    struct net_dtls_session *s = &srv->sessions[i];
    uint8_t *out;
    size_t out_len;
    TRY(net_endpoint_next(s->ep, to, &out)); /* the record sealed straight into the batch */
    TRY(coaps_dtls_write(&s->conn, msg, len, out, NET_UDP_DGRAM_MAX, &out_len));
    session_touch(srv, i, now_ms);
    net_endpoint_commit(s->ep, out_len);
    return COAPS_OK;
}

/* ---- timers ---------------------------------------------------------------- */

static uint64_t server_deadline(void *ctx)
{
    const struct net_dtls_server *srv = ctx;
    uint64_t next = NET_NO_DEADLINE;
    /* only the handshakes in progress (dense in used[]): this runs on every
     * turn of the event loop */
    for (uint32_t k = 0; k < srv->hs_pool.in_use; k++) {
        uint32_t i = srv->hs_pool.slot[srv->hs_pool.used[k]].owner;
        uint64_t d = coaps_dtls_next_deadline(&srv->sessions[i].conn);
        if (d < next)
            next = d;
    }
    uint32_t old = net_session_lru_oldest(&srv->table);
    if (old != NET_SESSION_NONE) {
        uint64_t d = net_session_at(&srv->table, old)->last_ms + srv->opts.idle_timeout_ms;
        if (d < next)
            next = d;
    }
    uint64_t refresh = net_cluster_deadline(srv);
    if (refresh < next)
        next = refresh;
    if (srv->opts.cold_after_ms != UINT32_MAX) {
        uint64_t d = net_session_cool_due(&srv->table, srv->opts.cold_after_ms);
        if (srv->stats.cooled != srv->trim_cooled && srv->trim_ms + NET_DTLS_TRIM_MS < d)
            d = srv->trim_ms + NET_DTLS_TRIM_MS; /* the last few cooled: server_trim */
        if (d < next)
            next = d;
    }
    return next;
}

/* What cold sessions gave back goes to the OS, not only to malloc's free
 * lists: the crypto library's contexts lie between others on the heap,
 * where glibc's free never returns pages. malloc_trim walks the free
 * chunks, so it runs only after NET_DTLS_TRIM_SESSIONS sessions went cold,
 * or after fewer once NET_DTLS_TRIM_MS passed: never per record. */
static void server_trim(struct net_dtls_server *srv, uint64_t now_ms)
{
#if defined(__GLIBC__)
    uint64_t n = srv->stats.cooled - srv->trim_cooled;
    if (n >= NET_DTLS_TRIM_SESSIONS || (n > 0 && now_ms - srv->trim_ms >= NET_DTLS_TRIM_MS)) {
        (void)malloc_trim(0);
        srv->trim_cooled = srv->stats.cooled;
        srv->trim_ms = now_ms;
    }
#else
    (void)srv;
    (void)now_ms;
#endif
}

/* Sessions silent for cold_after_ms give back their crypto contexts: the
 * next ones along the LRU list, O(1) each (session_table.h). */
static void server_cool(struct net_dtls_server *srv, uint64_t now_ms)
{
    if (srv->opts.cold_after_ms == UINT32_MAX)
        return;
    for (unsigned n = 0; n < NET_DTLS_COOL_BATCH; n++) {
        uint32_t i = net_session_cool_next(&srv->table, now_ms, srv->opts.cold_after_ms);
        if (i == NET_SESSION_NONE)
            break;
        struct net_dtls_session *s = &srv->sessions[i];
        if (coaps_dtls_cool(&s->conn)) {
            s->cold = true;
            srv->stats.cooled++;
        }
    }
    server_trim(srv, now_ms);
}

static void server_due(void *ctx, uint64_t now_ms)
{
    struct net_dtls_server *srv = ctx;
    /* A serviced session may end and give its context back, which moves
     * the last of used[] into its place: walk from the end, so every
     * handshake is seen once and none moves into the part still to walk. */
    for (uint32_t k = srv->hs_pool.in_use; k-- > 0;) {
        if (k >= srv->hs_pool.in_use)
            continue;
        uint32_t i = srv->hs_pool.slot[srv->hs_pool.used[k]].owner;
        if (coaps_dtls_next_deadline(&srv->sessions[i].conn) > now_ms)
            continue;
        (void)coaps_dtls_tick(&srv->sessions[i].conn, now_ms);
        session_service(srv, i, now_ms);
    }
    for (unsigned n = 0; n < NET_DTLS_EXPIRE_BATCH; n++) {
        uint32_t old = net_session_lru_oldest(&srv->table);
        if (old == NET_SESSION_NONE ||
            now_ms - net_session_at(&srv->table, old)->last_ms < srv->opts.idle_timeout_ms)
            break;
        if (NET_LOG_ENABLED(srv->log, NET_LOG_INFO)) {
            char who[NET_ADDR_STR_MAX];
            net_log_print(srv->log, NET_LOG_INFO, "coaps session with %s idle: closing",
                          net_peer_format(session_peer(srv, old), who, sizeof who));
        }
        srv->stats.idle_expired++;
        session_end(srv, old, true, now_ms);
    }
    server_cool(srv, now_ms);
    net_cluster_due(srv, now_ms);
    net_edge_flush(srv->edge, now_ms);
}

/* ---- set-up ------------------------------------------------------------------ */

static void opts_defaults(struct net_dtls_server_opts *o)
{
    if (o->max_sessions == 0)
        o->max_sessions = NET_DTLS_MAX_SESSIONS_DEFAULT;
    if (o->max_handshakes == 0)
        o->max_handshakes = NET_DTLS_MAX_HANDSHAKES_DEFAULT;
    if (o->max_cert_handshakes == 0)
        o->max_cert_handshakes = NET_DTLS_MAX_CERT_HANDSHAKES_DEFAULT;
    if (o->max_handshakes_per_host == 0)
        o->max_handshakes_per_host = per_host_default(o->max_handshakes);
    if (o->max_handshakes_per_host > o->max_handshakes)
        o->max_handshakes_per_host = o->max_handshakes; /* no bound but the pool's */
    if (o->idle_timeout_ms == 0)
        o->idle_timeout_ms = NET_DTLS_IDLE_TIMEOUT_MS_DEFAULT;
    if (o->busy_ms == 0)
        o->busy_ms = NET_DTLS_BUSY_MS_DEFAULT;
    if (o->cold_after_ms == 0)
        o->cold_after_ms = NET_DTLS_COLD_AFTER_MS_DEFAULT;
}

/* Session tickets (RFC 5077): keys from the configured secret or a random
 * one, for the current period of wall-clock time (ticket.h). */
static coaps_status server_tickets_init(struct net_dtls_server *srv)
{
    uint8_t secret[COAPS_DTLS_TICKET_SECRET_LEN];
    if (srv->opts.has_ticket_secret)
        memcpy(secret, srv->opts.ticket_secret, sizeof secret);
    else
        TRY(net_random_bytes(secret, sizeof secret));
    coaps_status st = coaps_dtls_ticket_keys_init(&srv->tickets, secret, sizeof secret,
                                                  srv->opts.ticket_period_s,
                                                  (uint64_t)time(NULL));
    crypto_wipe(secret, sizeof secret);
    crypto_wipe(srv->opts.ticket_secret, sizeof srv->opts.ticket_secret);
    TRY(st);
    srv->cfg.ticket_keys = &srv->tickets;
    return COAPS_OK;
}

coaps_status net_dtls_server_init(struct net_dtls_server *srv, struct net_edge *edge,
                                  const struct net_log *log, const coaps_dtls_config *base,
                                  const struct net_psk_store *psk,
                                  const struct net_dtls_server_opts *opts, uint64_t now_ms)
{
    memset(srv, 0, sizeof *srv);
    srv->edge = edge;
    srv->log = log;
    srv->psk = psk;
    srv->opts = *opts;
    opts_defaults(&srv->opts);
    ENSURE(srv->opts.max_handshakes <= NET_DTLS_MAX_HANDSHAKES_LIMIT, COAPS_E_CONFIG);
    ENSURE(srv->opts.max_cert_handshakes <= NET_DTLS_MAX_CERT_HANDSHAKES_LIMIT, COAPS_E_CONFIG);
    srv->cfg = *base;
    srv->cfg.role = COAPS_DTLS_SERVER;
    srv->cfg.psk_lookup = server_psk_lookup;
    srv->cfg.psk_user = srv;
    if (srv->cfg.handshake_timeout_ms == 0)
        srv->cfg.handshake_timeout_ms = NET_DTLS_HANDSHAKE_TIMEOUT_MS;
    ENSURE(coaps_dtls_config_check(&srv->cfg) == COAPS_OK, COAPS_E_CONFIG);
    TRY(net_session_table_init(&srv->table, srv->opts.max_sessions));
    if (srv->opts.sessions_total != NULL)
        net_session_table_share(&srv->table, srv->opts.sessions_total);
    if (!srv->opts.session_cache_off) {
        uint32_t cap = srv->opts.session_cache ? srv->opts.session_cache : srv->opts.max_sessions;
        if (net_session_cache_init(&srv->cache, cap) != COAPS_OK) {
            net_dtls_server_close(srv, now_ms);
            return COAPS_E_NOMEM;
        }
        srv->cfg.session_store = net_session_cache_store;
        srv->cfg.session_find = net_session_cache_find;
        srv->cfg.session_user = &srv->cache;
    }
    if (!srv->opts.tickets_off && server_tickets_init(srv) != COAPS_OK) {
        net_dtls_server_close(srv, now_ms);
        return COAPS_E_CRYPTO;
    }
    if (srv->cfg.cid && srv->cfg.cid_len > 0 &&
        net_cid_table_init(&srv->cids, srv->opts.max_sessions, srv->cfg.cid_len,
                           srv->cfg.cid_prefix_len) != COAPS_OK) {
        net_dtls_server_close(srv, now_ms);
        return COAPS_E_NOMEM;
    }
    /* calloc: pages of contexts never lent are never touched (RSS) */
    srv->sessions = calloc(srv->opts.max_sessions, sizeof *srv->sessions);
    srv->hs_mem = calloc(srv->opts.max_handshakes, sizeof *srv->hs_mem);
    srv->pki_mem = calloc(srv->opts.max_cert_handshakes, sizeof *srv->pki_mem);
    if (!srv->sessions || !srv->hs_mem || !srv->pki_mem ||
        net_hs_pool_init(&srv->hs_pool, srv->opts.max_handshakes) != COAPS_OK ||
        net_hs_pool_init(&srv->pki_pool, srv->opts.max_cert_handshakes) != COAPS_OK) {
        net_dtls_server_close(srv, now_ms);
        return COAPS_E_NOMEM;
    }
    if (coaps_dtls_server_init(&srv->front, &srv->cfg, now_ms) != COAPS_OK) {
        net_dtls_server_close(srv, now_ms);
        return COAPS_E_CONFIG;
    }
    return COAPS_OK;
}

coaps_status net_dtls_server_attach(struct net_dtls_server *srv, struct net_loop *loop)
{
    struct net_transport_hooks hooks = {server_rx, server_tx, srv};
    net_edge_set_hooks(srv->edge, COAPS_TRANSPORT_DTLS, &hooks);
    return net_loop_add_timer(loop, server_deadline, server_due, srv);
}

uint32_t net_dtls_server_sessions(const struct net_dtls_server *srv)
{
    return srv->table.count;
}

void net_dtls_server_close(struct net_dtls_server *srv, uint64_t now_ms)
{
    if (srv->sessions && srv->hs_pool.slot && srv->pki_pool.slot) {
        net_cluster_hand_over(srv);
        for (uint32_t i = 0; i < srv->table.cap; i++)
            if (net_session_at(&srv->table, i)->used)
                session_end(srv, i, true, now_ms);
        net_edge_send_queued(srv->edge);
    }
    coaps_dtls_server_clear(&srv->front);
    net_session_table_free(&srv->table);
    net_cid_table_free(&srv->cids);
    net_session_cache_free(&srv->cache);
    if (srv->cfg.ticket_keys)
        coaps_dtls_ticket_keys_clear(&srv->tickets);
    srv->cfg.ticket_keys = NULL;
    free(srv->sessions);
    free(srv->hs_mem);
    free(srv->pki_mem);
    net_hs_pool_free(&srv->hs_pool);
    net_hs_pool_free(&srv->pki_pool);
    srv->sessions = NULL;
    srv->hs_mem = NULL;
    srv->pki_mem = NULL;
}
