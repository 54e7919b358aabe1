/* dtls_cluster.c - the coaps:// sessions of a cluster node (dtls_cluster.h). */
#include "net/dtls_cluster.h"

#include <string.h>
#include <time.h>

#include "coap/endpoint.h"
#include "coap/observe_state.h"
#include "common/try.h"
#include "crypto/crypto.h"
#include "net/addr.h"
#include "net/clock.h"
#include "net/dtls_server.h"
#include "net/store.h"

/* Kinds of session key: by our CID (RFC 9146), or by the peer's address. */
#define KEY_CID 'c'
#define KEY_ADDR 'a'
/* and a coap:// peer's (its replies, for deduplication across nodes) */
#define KEY_UDP 'u'

/* The Observe bytes of one peer at most (coap/observe_state.c's layout),
 * as state_save.c has them. */
#define OBS_BYTES_MAX \
    (1 + COAP_OBS_STATE_PER_PEER * (1 + 255 + 1 + COAPS_COAP_TOKEN_MAX + 4 + 2 + 4 + 2 + 1 + \
                                    2 + COAP_OBS_REQ_MAX))

_Static_assert(1 + COAPS_DTLS_CID_MAX <= NET_STORE_KEY_MAX &&
                   1 + sizeof(((coaps_peer *)0)->addr) <= NET_STORE_KEY_MAX + 8,
               "a session key must fit NET_STORE_KEY_MAX");

static size_t key_of(const struct net_dtls_server *srv, uint32_t i, uint8_t key[NET_STORE_KEY_MAX])
{
    const coaps_dtls_conn *conn = &srv->sessions[i].conn;
    const uint8_t *cid;
    size_t n = coaps_dtls_cid_negotiated(conn) ? coaps_dtls_own_cid(conn, &cid) : 0;
    if (n > 0) {
        key[0] = KEY_CID;
        memcpy(key + 1, cid, n);
        return 1 + n;
    }
    const coaps_peer *p = &net_session_at(&srv->table, i)->peer;
    size_t a = p->addr_len < NET_STORE_KEY_MAX - 1 ? p->addr_len : NET_STORE_KEY_MAX - 1;
    key[0] = KEY_ADDR;
    memcpy(key + 1, p->addr, a);
    return 1 + a;
}

static uint32_t ttl_ms(const struct net_dtls_server *srv)
{
    return srv->opts.idle_timeout_ms;
}

static void store_failed(struct net_dtls_server *srv, coaps_status st)
{
    if (st != COAPS_OK && st != COAPS_E_NOT_FOUND && st != COAPS_E_STATE)
        srv->stats.store_failed++;
}

/* Session i as the store keeps it: state_file.h's session record (the
 * DTLS blob, its peer, its Observe registrations). */
static coaps_status record_of(struct net_dtls_server *srv, uint32_t i, uint64_t now_ms,
                              uint8_t *rec, size_t cap, size_t *len)
{
    struct net_dtls_session *s = &srv->sessions[i];
    const struct net_session_slot *slot = net_session_at(&srv->table, i);
    uint8_t blob[COAPS_DTLS_EXPORT_MAX];
    uint8_t obs[OBS_BYTES_MAX];
    size_t blob_len = 0;
    TRY(coaps_dtls_export(&s->conn, blob, sizeof blob, &blob_len));
    struct wire_wr ow = wire_wr_init(obs, sizeof obs);
    if (coap_observe_state_export(srv->edge->coap, &slot->peer, now_ms, &ow) != COAPS_OK) {
        ow.off = 0; /* registrations too large: the session without them */
        (void)wire_wr_u8(&ow, 0);
    }
    struct net_state_session r = {
        .peer = slot->peer,
        .local_port = net_endpoint_port(s->ep),
        .hello_hash = s->hello_hash,
        .dtls = blob,
        .dtls_len = (uint8_t)blob_len,
        .obs = obs,
        .obs_len = (uint16_t)ow.off,
    };
    struct wire_wr w = wire_wr_init(rec, cap);
    coaps_status st = net_state_put_session(&w, &r);
    crypto_wipe(blob, sizeof blob);
    *len = w.off;
    return st;
}

void net_cluster_init(struct net_dtls_server *srv, struct net_store *st, uint64_t now_ms)
{
    srv->cluster.store = st;
    srv->cluster.tokens_ms = (uint64_t)NET_CLUSTER_TAKE_BURST * 1000u;
    srv->cluster.tokens_at = now_ms;
    srv->cluster.refresh_ms = now_ms;
}

static void lease_apply(struct net_dtls_session *s, const struct net_store_lease *l)
{
    s->stored = true;
    s->fence = l->fence;
    s->seq_limit = l->seq_limit;
    (void)coaps_dtls_set_write_block(&s->conn, l->seq_next, l->seq_limit);
}

/* A new session into the store, once its handshake context is gone (the
 * export needs it released). A store that is down leaves it local. */
static void store_new(struct net_dtls_server *srv, uint32_t i, uint64_t now_ms)
{
    struct net_dtls_session *s = &srv->sessions[i];
    uint8_t key[NET_STORE_KEY_MAX], rec[NET_STORE_VALUE_MAX];
    size_t key_len = key_of(srv, i, key), rec_len = 0;
    if (record_of(srv, i, now_ms, rec, sizeof rec, &rec_len) != COAPS_OK)
        return;
    struct net_store_lease l;
    coaps_status st = net_store_session_create(srv->cluster.store, key, key_len, rec, rec_len,
                                               coaps_dtls_write_seq(&s->conn), ttl_ms(srv), &l);
    crypto_wipe(rec, rec_len);
    if (st != COAPS_OK) {
        store_failed(srv, st);
        return;
    }
    lease_apply(s, &l);
    srv->stats.stored++;
}

/* The record again, for a newer snapshot (Observe registrations). */
static void store_update(struct net_dtls_server *srv, uint32_t i, uint64_t now_ms)
{
    struct net_dtls_session *s = &srv->sessions[i];
    uint8_t key[NET_STORE_KEY_MAX], rec[NET_STORE_VALUE_MAX];
    size_t key_len = key_of(srv, i, key), rec_len = 0;
    if (record_of(srv, i, now_ms, rec, sizeof rec, &rec_len) != COAPS_OK)
        return;
    coaps_status st = net_store_session_update(srv->cluster.store, key, key_len, s->fence, rec,
                                               rec_len, ttl_ms(srv));
    crypto_wipe(rec, rec_len);
    store_failed(srv, st);
}

void net_cluster_after_service(struct net_dtls_server *srv, uint32_t i, uint64_t now_ms)
{
    if (!srv->cluster.store || !net_session_at(&srv->table, i)->used)
        return;
    struct net_dtls_session *s = &srv->sessions[i];
    const coaps_coap_stats *cs = coaps_coap_get_stats(srv->edge->coap);
    uint64_t obs = cs->observers_added + cs->observers_removed;
    bool obs_changed = obs != srv->cluster.obs_events;
    srv->cluster.obs_events = obs;
    if (!s->established || coaps_dtls_state(&s->conn) != COAPS_DTLS_ESTABLISHED ||
        s->hs != NET_HS_NONE)
        return;
    if (!s->stored)
        store_new(srv, i, now_ms);
    else if (obs_changed)
        store_update(srv, i, now_ms);
}

/* ---- takeover ---------------------------------------------------------------- */

/* For the takeover's cost in the statistics (the loop's clock is in ms). */
static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static bool token(struct net_cluster *cl, uint64_t now_ms)
{
    uint64_t cap = (uint64_t)NET_CLUSTER_TAKE_BURST * 1000u;
    uint64_t add = (now_ms - cl->tokens_at) * NET_CLUSTER_TAKES_PER_S;
    cl->tokens_at = now_ms;
    cl->tokens_ms = cl->tokens_ms + add > cap ? cap : cl->tokens_ms + add;
    if (cl->tokens_ms < 1000u)
        return false;
    cl->tokens_ms -= 1000u;
    return true;
}


/* The stored session into a fresh slot at src, fed the datagram: the slot,
 * or NET_SESSION_NONE when the datagram did not authenticate as a newer
 * record of it (nothing kept). */
static uint32_t import_and_check(struct net_dtls_server *srv, struct net_endpoint *ep,
                                 const coaps_peer *src, const struct net_state_session *r,
                                 const uint8_t *data, size_t len, uint64_t now_ms)
{
    uint32_t i =
        net_dtls_session_import(srv, ep, src, r->hello_hash, r->dtls, r->dtls_len, now_ms);
    if (i == NET_SESSION_NONE)
        return NET_SESSION_NONE;
    struct net_dtls_session *s = &srv->sessions[i];
    memcpy(srv->rx, data, len); /* the engine decrypts in place */
    (void)coaps_dtls_input(&s->conn, srv->rx, len, now_ms);
    if (!coaps_dtls_input_newest(&s->conn) ||
        coaps_dtls_state(&s->conn) != COAPS_DTLS_ESTABLISHED) {
        net_dtls_session_discard(srv, i);
        return NET_SESSION_NONE;
    }
    return i;
}

/* The CID into the table; a stale local session with it ends first. */
static void cid_claim(struct net_dtls_server *srv, uint32_t i, uint64_t now_ms)
{
    const uint8_t *cid;
    size_t n = coaps_dtls_cid_negotiated(&srv->sessions[i].conn)
                   ? coaps_dtls_own_cid(&srv->sessions[i].conn, &cid)
                   : 0;
    if (n == 0 || !srv->cids.entries || n != srv->cids.len)
        return;
    uint32_t other = net_cid_find(&srv->cids, cid);
    if (other != NET_CID_NONE && other != i) {
        srv->sessions[other].lost = true;
        net_dtls_session_end(srv, other, false, now_ms);
    }
    net_cid_insert(&srv->cids, i, cid);
}

static void log_taken(struct net_dtls_server *srv, const coaps_peer *src, uint64_t fence)
{
    if (!NET_LOG_ENABLED(srv->log, NET_LOG_INFO))
        return;
    char who[NET_ADDR_STR_MAX];
    net_log_print(srv->log, NET_LOG_INFO, "coaps session with %s taken over from the store "
                  "(lease %llu)", net_peer_format(src, who, sizeof who),
                  (unsigned long long)fence);
}

/* An application-data or alert record of epoch 1 first (RFC 6347 4.1):
 * what a peer sends on a session; a handshake goes to the front door. */
static bool epoch1_record(const uint8_t *data, size_t len)
{
    struct wire_rd r = wire_rd_init(data, len);
    uint8_t type;
    uint16_t version, epoch;
    return wire_rd_u8(&r, &type) == COAPS_OK && wire_rd_u16(&r, &version) == COAPS_OK &&
           wire_rd_u16(&r, &epoch) == COAPS_OK && (type == 23 || type == 21) && epoch == 1;
}

bool net_cluster_take(struct net_dtls_server *srv, struct net_endpoint *ep, const coaps_peer *src,
                      const uint8_t *cid, size_t cid_len, const uint8_t *data, size_t len,
                      uint64_t now_ms)
{
    struct net_store *st = srv->cluster.store;
    if (!st || len > sizeof srv->rx || net_session_find(&srv->table, src) != NET_SESSION_NONE ||
        (cid == NULL && !epoch1_record(data, len)))
        return false;
    if (!token(&srv->cluster, now_ms)) {
        srv->stats.take_limited++;
        return false;
    }
    uint64_t t0 = now_us();
    uint8_t key[NET_STORE_KEY_MAX], rec[NET_STORE_VALUE_MAX];
    size_t key_len, rec_len = 0;
    if (cid) {
        key[0] = KEY_CID;
        memcpy(key + 1, cid, cid_len);
        key_len = 1 + cid_len;
    } else {
        key[0] = KEY_ADDR;
        key_len = 1 + (src->addr_len < NET_STORE_KEY_MAX - 1 ? src->addr_len
                                                             : NET_STORE_KEY_MAX - 1);
        memcpy(key + 1, src->addr, key_len - 1);
    }
    coaps_status sst = net_store_session_fetch(st, key, key_len, rec, sizeof rec, &rec_len);
    if (sst != COAPS_OK) {
        store_failed(srv, sst);
        return false; /* not a session the cluster knows: as before */
    }
    struct wire_rd r = wire_rd_init(rec, rec_len);
    struct net_state_session ss;
    uint32_t i = NET_SESSION_NONE;
    if (net_state_next_session(&r, &ss) == COAPS_OK)
        i = import_and_check(srv, ep, src, &ss, data, len, now_ms);
    struct net_store_lease l;
    if (i != NET_SESSION_NONE) {
        sst = net_store_session_take(st, key, key_len, &l);
        if (sst != COAPS_OK) {
            store_failed(srv, sst);
            net_dtls_session_discard(srv, i);
            i = NET_SESSION_NONE;
        }
    }
    if (i == NET_SESSION_NONE) {
        crypto_wipe(rec, rec_len);
        srv->stats.take_refused++;
        return true;
    }
    struct net_dtls_session *s = &srv->sessions[i];
    lease_apply(s, &l);
    s->established = true;
    net_session_lru_add(&srv->table, i, now_ms);
    cid_claim(srv, i, now_ms);
    /* registrations of resources this server does not have are left out */
    (void)coap_observe_state_import(srv->edge->coap, src, now_ms, ss.obs, ss.obs_len);
    crypto_wipe(rec, rec_len);
    srv->stats.taken_over++;
    srv->stats.take_us += now_us() - t0;
    log_taken(srv, src, l.fence);
    net_dtls_session_service(srv, i, now_ms);
    return true;
}

/* ---- holding ------------------------------------------------------------------ */

bool net_cluster_before_write(struct net_dtls_server *srv, uint32_t i, uint64_t now_ms)
{
    struct net_dtls_session *s = &srv->sessions[i];
    if (!s->stored || coaps_dtls_write_seq(&s->conn) + NET_CLUSTER_SEQ_LOW < s->seq_limit)
        return true;
    uint8_t key[NET_STORE_KEY_MAX];
    size_t key_len = key_of(srv, i, key);
    struct net_store_lease l = {.fence = s->fence};
    coaps_status st = net_store_seq_reserve(srv->cluster.store, key, key_len, &l);
    if (st == COAPS_OK) {
        lease_apply(s, &l);
        return true;
    }
    if (st != COAPS_E_STATE) {
        store_failed(srv, st); /* the store is away: go on to the block's end */
        return true;
    }
    srv->stats.lost++;
    s->lost = true;
    net_dtls_session_end(srv, i, false, now_ms);
    return false;
}

void net_cluster_end(struct net_dtls_server *srv, uint32_t i)
{
    struct net_dtls_session *s = &srv->sessions[i];
    if (!srv->cluster.store || !s->stored || s->lost || s->saved)
        return;
    uint8_t key[NET_STORE_KEY_MAX];
    size_t key_len = key_of(srv, i, key);
    store_failed(srv, net_store_session_drop(srv->cluster.store, key, key_len, s->fence));
}

void net_cluster_lost(struct net_dtls_server *srv, const uint8_t *key, size_t key_len,
                      uint64_t fence, uint64_t now_ms)
{
    uint32_t i = NET_SESSION_NONE;
    if (key_len >= 2 && key[0] == KEY_CID && srv->cids.entries && key_len - 1 == srv->cids.len) {
        i = net_cid_find(&srv->cids, key + 1);
        if (i == NET_CID_NONE)
            i = NET_SESSION_NONE;
    } else if (key_len >= 2 && key[0] == KEY_ADDR && key_len - 1 <= COAPS_PEER_ADDR_MAX) {
        coaps_peer p;
        memset(&p, 0, sizeof p);
        memcpy(p.addr, key + 1, key_len - 1);
        p.addr_len = (uint8_t)(key_len - 1);
        p.transport = COAPS_TRANSPORT_DTLS;
        i = net_session_find(&srv->table, &p);
    }
    if (i == NET_SESSION_NONE)
        return;
    struct net_dtls_session *s = &srv->sessions[i];
    if (!s->stored || s->fence >= fence)
        return;
    srv->stats.lost++;
    s->lost = true;
    if (NET_LOG_ENABLED(srv->log, NET_LOG_INFO)) {
        char who[NET_ADDR_STR_MAX];
        net_log_print(srv->log, NET_LOG_INFO, "coaps session with %s: another node took it "
                      "(lease %llu)", net_peer_format(&net_session_at(&srv->table, i)->peer,
                                                      who, sizeof who),
                      (unsigned long long)fence);
    }
    net_dtls_session_end(srv, i, false, now_ms);
}

/* ---- time to live ------------------------------------------------------------- */

uint64_t net_cluster_deadline(const struct net_dtls_server *srv)
{
    if (!srv->cluster.store)
        return NET_NO_DEADLINE;
    return srv->cluster.refresh_ms + ttl_ms(srv) / 4;
}

/* Every stored session with traffic since the last refresh lives another
 * idle timeout: the LRU list from its newest end, down to the first
 * session silent since then. */
void net_cluster_due(struct net_dtls_server *srv, uint64_t now_ms)
{
    if (!srv->cluster.store || now_ms < net_cluster_deadline(srv))
        return;
    uint64_t since = srv->cluster.refresh_ms;
    srv->cluster.refresh_ms = now_ms;
    uint8_t keys[NET_CLUSTER_TOUCH_BATCH][NET_STORE_KEY_MAX];
    const uint8_t *kp[NET_CLUSTER_TOUCH_BATCH];
    size_t kl[NET_CLUSTER_TOUCH_BATCH];
    size_t n = 0;
    for (uint32_t i = srv->table.lru_head;
         i != NET_SESSION_NONE && net_session_at(&srv->table, i)->last_ms >= since;
         i = net_session_at(&srv->table, i)->lru_next) {
        if (!srv->sessions[i].stored)
            continue;
        kl[n] = key_of(srv, i, keys[n]);
        kp[n] = keys[n];
        if (++n == NET_CLUSTER_TOUCH_BATCH) {
            store_failed(srv, net_store_session_touch(srv->cluster.store, kp, kl, n,
                                                      ttl_ms(srv)));
            n = 0;
        }
    }
    if (n > 0)
        store_failed(srv, net_store_session_touch(srv->cluster.store, kp, kl, n, ttl_ms(srv)));
}

void net_cluster_hand_over(struct net_dtls_server *srv)
{
    if (!srv->cluster.store || !srv->sessions)
        return;
    for (uint32_t i = 0; i < srv->table.cap; i++)
        if (net_session_at(&srv->table, i)->used && srv->sessions[i].stored)
            srv->sessions[i].saved = true;
}

size_t net_cluster_peer_key(const struct net_dtls_server *srv, const coaps_peer *peer,
                            uint8_t key[])
{
    uint32_t i = srv ? net_session_find(&srv->table, peer) : NET_SESSION_NONE;
    if (i != NET_SESSION_NONE)
        return key_of(srv, i, key);
    size_t a = peer->addr_len < NET_STORE_KEY_MAX - 1 ? peer->addr_len : NET_STORE_KEY_MAX - 1;
    key[0] = peer->transport == COAPS_TRANSPORT_DTLS ? KEY_ADDR : KEY_UDP;
    memcpy(key + 1, peer->addr, a);
    return 1 + a;
}
