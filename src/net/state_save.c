/*
 * state_save.c - durable sessions of the coaps:// server (state_save.h).
 *
 * Saving happens once the event loop has stopped: no record is read or
 * sealed after a session's snapshot, and the saved sessions then end
 * without close_notify. The engine still skips COAPS_DTLS_IMPORT_SEQ_GAP
 * sequence numbers on import (persist.c says why).
 *
 * Restoring consumes the file: it is deleted (and the deletion made
 * durable) before the first session is put back. Each restored session
 * seals records with nonces from its saved sequence number on; were the
 * file still there when this process crashed, the next start would
 * restore the same numbers again, and a (key, nonce) pair would be used
 * twice (for AES-GCM and CCM that reveals the XOR of two plaintexts and
 * lets the authentication key be recovered). Without the file a crash
 * costs the clients a new handshake, never their security. When the file
 * cannot be deleted, nothing is restored.
 *
 * Workers (coaps-server --workers N): one file for all. Saving writes
 * every worker's sessions, worker after worker, once every loop has
 * stopped. Restoring puts each session into the worker whose socket will
 * receive its peer's records (struct net_state_servers' route: the
 * worker its CID's first byte names, else the one the socket group's
 * address hash names, net/reuseport.h). A session's CID is known only
 * once its blob is imported, so it is imported where its address goes
 * and, when its CID names another worker, taken out and imported there.
 * That imports one blob twice, which the paragraph above forbids across
 * processes; here the first copy is wiped before a single record or
 * notification could have been sealed with it (no loop runs yet, and
 * its Observe state goes only to the final worker), so no nonce is used.
 *
 * Time: the file records wall-clock time (its age must survive the
 * process); each session its idle time when saved. A session whose idle
 * time plus the file's age reaches the idle timeout would have been
 * closed had the server run on, and is not restored; a file older than
 * the idle timeout holds no session that could be, and is "stale".
 */
#include "net/state_save.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coap/endpoint.h"
#include "coap/observe_state.h"
#include "common/try.h"
#include "crypto/crypto.h"
#include "net/log.h"
#include "net/secret_file.h"

/* The Observe bytes of one peer at most (coap/observe_state.c's layout). */
#define OBS_BYTES_MAX \
    (1 + COAP_OBS_STATE_PER_PEER * (1 + 255 + 1 + COAPS_COAP_TOKEN_MAX + 4 + 2 + 4 + 2 + 1 + \
                                    2 + COAP_OBS_REQ_MAX))
/* A session record without its Observe bytes, length field included. */
#define SESSION_BYTES_FIXED (2 + 1 + COAPS_PEER_ADDR_MAX + 2 + 4 + 8 + 1 + COAPS_DTLS_EXPORT_MAX + 2)

static struct net_endpoint *endpoint_on_port(struct net_edge *edge, uint16_t port)
{
    for (size_t e = 0; e < edge->n_eps; e++)
        if (edge->eps[e].transport == COAPS_TRANSPORT_DTLS && net_endpoint_port(&edge->eps[e]) == port)
            return &edge->eps[e];
    return NULL;
}

/* ---- saving -------------------------------------------------------------- */

/* A buffer that grows: room for the header before the body and the tag
 * after it. Secrets pass through it: the old one is wiped when it moves. */
struct grow_buf {
    uint8_t *p;
    size_t cap;
};

static bool grow(struct grow_buf *b, size_t used)
{
    size_t cap = b->cap * 2;
    uint8_t *p = malloc(cap);
    if (p == NULL)
        return false;
    memcpy(p, b->p, used);
    crypto_wipe(b->p, b->cap);
    free(b->p);
    b->p = p;
    b->cap = cap;
    return true;
}

/* One session's record into the body writer w (over b), growing b. */
static coaps_status save_one(struct net_dtls_server *srv, uint32_t i, uint64_t now_ms,
                             struct grow_buf *b, struct wire_wr *w, uint8_t *obs)
{
    struct net_dtls_session *s = &srv->sessions[i];
    const struct net_session_slot *slot = net_session_at(&srv->table, i);
    uint8_t blob[COAPS_DTLS_EXPORT_MAX];
    size_t blob_len = 0;
    /* A session that only keeps its handshake context to resend a ticket
     * flight (coaps_dtls_release_hs) is saved like any other: at the
     * restart that context is gone anyway. */
    if (s->established)
        coaps_dtls_release_hs(&s->conn);
    if (!s->established || coaps_dtls_export(&s->conn, blob, sizeof blob, &blob_len) != COAPS_OK)
        return COAPS_E_STATE; /* not a session to save (handshaking, ended) */
    struct wire_wr ow = wire_wr_init(obs, OBS_BYTES_MAX);
    if (coap_observe_state_export(srv->edge->coap, &slot->peer, now_ms, &ow) != COAPS_OK) {
        ow.off = 0; /* a registration too large: the session, without them */
        (void)wire_wr_u8(&ow, 0);
    }
    uint64_t idle = now_ms > slot->last_ms ? now_ms - slot->last_ms : 0;
    struct net_state_session rec = {
        .peer = slot->peer,
        .local_port = net_endpoint_port(s->ep),
        .idle_ms = idle > UINT32_MAX ? UINT32_MAX : (uint32_t)idle,
        .hello_hash = s->hello_hash,
        .dtls = blob,
        .dtls_len = (uint8_t)blob_len,
        .obs = obs,
        .obs_len = (uint16_t)ow.off,
    };
    coaps_status st;
    for (;;) {
        size_t off = w->off;
        st = net_state_put_session(w, &rec);
        if (st != COAPS_E_NOSPACE)
            break;
        if (!grow(b, NET_STATE_HEADER_LEN + off)) {
            st = COAPS_E_NOMEM;
            break;
        }
        *w = wire_wr_init(b->p + NET_STATE_HEADER_LEN,
                          b->cap - NET_STATE_HEADER_LEN - NET_STATE_TAG_LEN);
        w->off = off;
    }
    crypto_wipe(blob, sizeof blob);
    if (st == COAPS_OK)
        s->saved = true;
    return st;
}

static void unmark_all(const struct net_state_servers *set)
{
    for (unsigned k = 0; k < set->n; k++)
        for (uint32_t i = 0; i < set->srv[k]->table.cap; i++)
            set->srv[k]->sessions[i].saved = false;
}

/* The body: u32 count, then each server's sessions from the least
 * recently used on, so that putting each back at the front of its
 * server's LRU list rebuilds the order. */
static coaps_status save_body(const struct net_state_servers *set, uint64_t now_ms,
                              struct grow_buf *b, size_t *body_len, uint32_t *n)
{
    uint8_t *obs = malloc(OBS_BYTES_MAX);
    ENSURE(obs != NULL, COAPS_E_NOMEM);
    struct wire_wr w =
        wire_wr_init(b->p + NET_STATE_HEADER_LEN, b->cap - NET_STATE_HEADER_LEN - NET_STATE_TAG_LEN);
    coaps_status st = wire_wr_u32(&w, 0);
    for (unsigned k = 0; st == COAPS_OK && k < set->n; k++) {
        struct net_dtls_server *srv = set->srv[k];
        for (uint32_t i = net_session_lru_oldest(&srv->table);
             st == COAPS_OK && i != NET_SESSION_NONE; i = net_session_at(&srv->table, i)->lru_prev) {
            coaps_status one = save_one(srv, i, now_ms, b, &w, obs);
            if (one == COAPS_OK)
                (*n)++;
            else if (one != COAPS_E_STATE)
                st = one;
        }
    }
    free(obs);
    TRY(st);
    TRY(wire_wr_patch(&w, 0, 4, *n));
    *body_len = w.off;
    return COAPS_OK;
}

coaps_status net_state_save(const struct net_state_servers *set, const struct net_state_key *k,
                            const char *path, uint64_t now_ms, uint32_t *n, char *err,
                            size_t cap)
{
    *n = 0;
    size_t sessions = 0;
    for (unsigned i = 0; i < set->n; i++)
        sessions += set->srv[i]->table.count;
    struct grow_buf b;
    b.cap = NET_STATE_HEADER_LEN + 4 + NET_STATE_TAG_LEN + sessions * (SESSION_BYTES_FIXED + 64);
    b.p = malloc(b.cap);
    if (b.p == NULL)
        return net_fail(COAPS_E_NOMEM, err, cap, "state file %s: out of memory", path);
    size_t body_len = 0, len = 0;
    coaps_status st = save_body(set, now_ms, &b, &body_len, n);
    if (st == COAPS_OK)
        st = net_state_seal(k, net_state_wall_ms(), b.p, body_len, &len);
    if (st == COAPS_OK)
        st = net_secret_file_write("state file", path, b.p, len, err, cap);
    else
        net_fail(st, err, cap, "state file %s: cannot save the sessions: %s", path,
                 coaps_status_str(st));
    crypto_wipe(b.p, b.cap);
    free(b.p);
    if (st != COAPS_OK) {
        unmark_all(set); /* they end as usual, with close_notify */
        *n = 0;
    }
    return st;
}

/* ---- restoring ---------------------------------------------------------------- */

/* The session's own Connection ID (0: none). */
static size_t own_cid(const struct net_dtls_session *s, const uint8_t **cid)
{
    return coaps_dtls_cid_negotiated(&s->conn) ? coaps_dtls_own_cid(&s->conn, cid) : 0;
}

/* The session's Connection ID into the CID table (RFC 9146: its records
 * are found by it). false when another session has it. */
static bool cid_back(struct net_dtls_server *srv, uint32_t i)
{
    const uint8_t *cid;
    size_t len = own_cid(&srv->sessions[i], &cid);
    if (len == 0)
        return true;
    if (!srv->cids.entries || len != srv->cids.len || net_cid_find(&srv->cids, cid) != NET_CID_NONE)
        return false;
    net_cid_insert(&srv->cids, i, cid);
    return true;
}

/* The session into srv's session table, CID table and LRU list, age ms
 * idle: its slot, or NET_SESSION_NONE when it cannot be (its socket is
 * gone, its address taken, its configuration changed, the table full). */
static uint32_t put_back(struct net_dtls_server *srv, const struct net_state_session *r,
                         uint64_t age, uint64_t now_ms)
{
    struct net_endpoint *ep = endpoint_on_port(srv->edge, r->local_port);
    if (ep == NULL || net_session_find(&srv->table, &r->peer) != NET_SESSION_NONE)
        return NET_SESSION_NONE;
    uint32_t i =
        net_dtls_session_import(srv, ep, &r->peer, r->hello_hash, r->dtls, r->dtls_len, now_ms);
    if (i == NET_SESSION_NONE)
        return NET_SESSION_NONE;
    if (!cid_back(srv, i)) {
        net_dtls_session_discard(srv, i);
        return NET_SESSION_NONE;
    }
    srv->sessions[i].established = true;
    net_session_lru_add(&srv->table, i, now_ms);
    srv->table.slots[i].last_ms = now_ms > age ? now_ms - age : 0;
    return i;
}

/* One session back into the server that will receive its records, unless
 * it expired meanwhile or cannot be (put_back). */
static void restore_one(const struct net_state_servers *set, const struct net_state_session *r,
                        uint64_t elapsed_ms, uint64_t now_ms, uint32_t *n)
{
    uint64_t age = (uint64_t)r->idle_ms + elapsed_ms;
    if (age >= set->srv[0]->opts.idle_timeout_ms)
        return;
    unsigned w = set->n > 1 ? set->route(set->route_ctx, &r->peer, NULL, 0) : 0;
    struct net_dtls_server *srv = set->srv[w];
    uint32_t i = put_back(srv, r, age, now_ms);
    if (i == NET_SESSION_NONE)
        return;
    const uint8_t *cid;
    size_t cid_len = set->n > 1 ? own_cid(&srv->sessions[i], &cid) : 0;
    unsigned by_cid = cid_len ? set->route(set->route_ctx, &r->peer, cid, cid_len) : w;
    if (by_cid != w) { /* its CID names another worker: there */
        net_dtls_session_discard(srv, i);
        srv = set->srv[by_cid];
        if ((i = put_back(srv, r, age, now_ms)) == NET_SESSION_NONE)
            return;
    }
    /* registrations of resources this server no longer has are left out */
    (void)coap_observe_state_import(srv->edge->coap, &r->peer, now_ms, r->obs, r->obs_len);
    srv->stats.restored++;
    (*n)++;
}

static coaps_status restore_body(const struct net_state_servers *set, const uint8_t *body,
                                 size_t len, uint64_t elapsed_ms, uint64_t now_ms, uint32_t *n)
{
    struct wire_rd r = wire_rd_init(body, len);
    uint32_t count;
    TRY(wire_rd_u32(&r, &count));
    for (uint32_t k = 0; k < count; k++) {
        struct net_state_session s;
        TRY(net_state_next_session(&r, &s));
        restore_one(set, &s, elapsed_ms, now_ms, n);
    }
    ENSURE(wire_rd_left(&r) == 0, COAPS_E_MALFORMED);
    return COAPS_OK;
}

/* The file is used up: gone, and gone on disk (the directory synced),
 * before a session is back: a crash after a restore must not find it. */
static bool consume(const char *path)
{
    return unlink(path) == 0 && net_secret_sync_dir(path);
}

coaps_status net_state_restore(const struct net_state_servers *set, const struct net_state_key *k,
                               const char *path, uint64_t now_ms, uint32_t *n, char *warn,
                               size_t cap)
{
    *n = 0;
    uint8_t *buf;
    size_t len;
    char why[NET_STATE_MSG_MAX];
    coaps_status st = net_state_read_file(path, &buf, &len, why, sizeof why);
    if (st == COAPS_E_NOT_FOUND)
        return COAPS_OK;
    if (st != COAPS_OK)
        return net_fail(COAPS_E_MALFORMED, warn, cap, "%s: starting without sessions", why);
    uint64_t wall = net_state_wall_ms(), created = 0;
    const uint8_t *body = NULL;
    size_t body_len = 0;
    enum net_state_verdict v =
        net_state_open(k, buf, len, wall, set->srv[0]->opts.idle_timeout_ms, &body, &body_len,
                       &created);
    if (v == NET_STATE_OK || v == NET_STATE_STALE) {
        if (!consume(path)) {
            int e = errno;
            crypto_wipe(buf, len);
            free(buf);
            return net_fail(COAPS_E_IO, warn, cap,
                            "state file %s: cannot delete it (%s): starting without sessions, "
                            "lest they be restored twice",
                            path, strerror(e));
        }
    }
    if (v == NET_STATE_OK) {
        st = restore_body(set, body, body_len, wall > created ? wall - created : 0, now_ms, n);
        if (st != COAPS_OK)
            net_fail(COAPS_E_MALFORMED, warn, cap,
                     "state file %s: a damaged session record: %u sessions restored", path,
                     (unsigned)*n);
    } else {
        st = net_fail(COAPS_E_MALFORMED, warn, cap,
                      "state file %s: %s (%zu bytes): starting without sessions", path,
                      net_state_verdict_str(v), len);
    }
    crypto_wipe(buf, len);
    free(buf);
    return st;
}
