/*
 * persist.c - durable sessions: an established connection to bytes and
 * back (coaps_dtls_export, coaps_dtls_import in coaps/dtls.h), so that a
 * server restarted with the same configuration continues its sessions
 * without a handshake (docs/sessions.md, "Durable sessions").
 *
 * What a connection needs to go on is its record state: the suite, the
 * role, the epoch-1 keys and IVs of both directions (the keys read back
 * from the crypto backend, crypto_aead_export_key), the next write
 * sequence number, the replay window, the numbering of the handshake that
 * outlives it (peer_next_seq and the retained Finished, RFC 6347 4.2.4),
 * the failure count of the read key (RFC 9147 4.5.3: a restart must not
 * reset it), the Connection IDs (RFC 9146) and the MTU. The blob, version
 * 1, big-endian through wire.h, fixed order, every length bounded:
 *
 *   u8  version (1)          u8  role          u16 suite
 *   u8  flags: 1 resumed, 2 retain, 4 CID negotiated, 8 replay window
 *       holds a record
 *   u16 mtu                  u16 peer_next_seq  u16 retain_seq
 *   12  retain_verify        u48 next write sequence number (epoch 1)
 *   u48 replay top           u64 replay bitmap  u64 auth failures
 *   u8 n + n  write key      u8 n + n  write IV
 *   u8 n + n  read key       u8 n + n  read IV
 *   32  key digest (coaps_dtls_key_digest)
 *   u8 n + n  our CID        u8 n + n  the peer's CID
 *
 * The sequence-number gap (COAPS_DTLS_IMPORT_SEQ_GAP): the blob holds
 * the exact next write number; import continues PAST it by the gap. A
 * (key, nonce) pair must never repeat (the AEAD's security rests on it,
 * RFC 5116 3), and the nonce is the epoch and sequence number (RFC 5288
 * 3, RFC 6655 3, RFC 7905 2). The gap covers records sealed after the
 * snapshot was taken by a caller that kept running (a checkpoint); the
 * peer's replay window takes the jump as any newer record. 2^16 records
 * is ten minutes at 100 records a second, and leaves 2^32 restarts in the
 * 48-bit space. What the gap cannot cover, importing one blob twice, the
 * caller prevents by consuming it (the server deletes its state file
 * before it restores a session).
 */
#include <string.h>

#include "common/try.h"
#include "common/wire.h"
#include "dtls/conn.h"

#define PERSIST_VERSION 1

enum {
    PF_RESUMED = 1,
    PF_RETAIN = 2,
    PF_CID = 4,
    PF_REPLAY_ANY = 8,
    PF_ALL = 15,
};

_Static_assert(COAPS_DTLS_EXPORT_MAX >=
                   1 + 1 + 2 + 1 + 2 + 2 + 2 + DTLS_VERIFY_DATA_LEN + 6 + 6 + 8 + 8 +
                       2 * (1 + CRYPTO_AEAD_KEY_MAX + 1 + CRYPTO_AEAD_NONCE_LEN) + 32 +
                       2 * (1 + COAPS_DTLS_CID_MAX),
               "COAPS_DTLS_EXPORT_MAX promised in coaps/dtls.h is too small");

/* One direction's key and IV, the key read back from the backend. */
static coaps_status put_keys(struct wire_wr *w, const struct dtls_cipher_state *cs)
{
    uint8_t key[CRYPTO_AEAD_KEY_MAX];
    size_t key_len = 0;
    coaps_status st = crypto_aead_export_key(&cs->aead, key, &key_len);
    if (st == COAPS_OK)
        st = wire_wr_u8(w, (uint8_t)key_len);
    if (st == COAPS_OK)
        st = wire_wr_bytes(w, key, key_len);
    crypto_wipe(key, sizeof key);
    TRY(st);
    TRY(wire_wr_u8(w, cs->fixed_iv_len));
    return wire_wr_bytes(w, cs->fixed_iv, cs->fixed_iv_len);
}

/* The CIDs in use: none unless negotiated (our CID drawn at init for a
 * peer that never took it means nothing to the connection). */
static coaps_status put_cid(struct wire_wr *w, const struct conn *c)
{
#if COAPS_WITH_CID
    if (!c->cid.on) {
        TRY(wire_wr_u8(w, 0));
        return wire_wr_u8(w, 0);
    }
    TRY(wire_wr_u8(w, c->cid.own_len));
    TRY(wire_wr_bytes(w, c->cid.own, c->cid.own_len));
    TRY(wire_wr_u8(w, c->cid.peer_len));
    return wire_wr_bytes(w, c->cid.peer, c->cid.peer_len);
#else
    (void)c;
    TRY(wire_wr_u8(w, 0));
    return wire_wr_u8(w, 0);
#endif
}

static uint8_t export_flags(const struct conn *c)
{
    uint8_t f = 0;
    if (c->resumed)
        f |= PF_RESUMED;
    if (c->retain)
        f |= PF_RETAIN;
    if (conn_cid_negotiated(c))
        f |= PF_CID;
    if (c->replay.any)
        f |= PF_REPLAY_ANY;
    return f;
}

static coaps_status export_to(const struct conn *c, struct wire_wr *w)
{
    TRY(wire_wr_u8(w, PERSIST_VERSION));
    TRY(wire_wr_u8(w, c->role));
    TRY(wire_wr_u16(w, c->suite->id));
    TRY(wire_wr_u8(w, export_flags(c)));
    TRY(wire_wr_u16(w, c->mtu));
    TRY(wire_wr_u16(w, c->peer_next_seq));
    TRY(wire_wr_u16(w, c->retain_seq));
    TRY(wire_wr_bytes(w, c->retain_verify, DTLS_VERIFY_DATA_LEN));
    TRY(wire_wr_uint(w, 6, c->wr.next_seq));
    TRY(wire_wr_uint(w, 6, c->replay.top));
    TRY(wire_wr_uint(w, 8, c->replay.bitmap));
    TRY(wire_wr_uint(w, 8, c->stats.auth_failures));
    TRY(put_keys(w, &c->wr));
    TRY(put_keys(w, &c->rd));
    TRY(wire_wr_bytes(w, c->key_digest, sizeof c->key_digest));
    return put_cid(w, c);
}

coaps_status coaps_dtls_export(const coaps_dtls_conn *conn, uint8_t *buf, size_t cap,
                               size_t *len)
{
    ENSURE(conn && buf && len, COAPS_E_INVALID);
    const struct conn *c = conn_of_const(conn);
    /* only a session: established, its handshake context given back, keys
     * in both directions, and no alert waiting to go out */
    ENSURE(c->state == COAPS_DTLS_ESTABLISHED && !c->hs && c->suite && c->read_keys &&
               c->write_keys && c->write_epoch == 1 && !c->alert_pending,
           COAPS_E_STATE);
    struct wire_wr w = wire_wr_init(buf, cap);
    coaps_status st = export_to(c, &w);
    if (st != COAPS_OK) {
        crypto_wipe(buf, w.off); /* keys may already be in it */
        return st;
    }
    *len = w.off;
    return COAPS_OK;
}

/* ---- import --------------------------------------------------------------- */

/* What import reads before it touches the connection. */
struct persist_blob {
    uint8_t role, flags;
    uint16_t suite, mtu, peer_next_seq, retain_seq;
    uint8_t retain_verify[DTLS_VERIFY_DATA_LEN];
    uint64_t write_seq, replay_top, replay_bitmap, auth_failures;
    const uint8_t *wkey, *wiv, *rkey, *riv, *digest, *own_cid, *peer_cid;
    uint8_t wkey_len, wiv_len, rkey_len, riv_len, own_cid_len, peer_cid_len;
};

/* u8 length + that many bytes, the length at most max. */
static coaps_status get_var(struct wire_rd *r, size_t max, const uint8_t **p, uint8_t *len)
{
    TRY(wire_rd_u8(r, len));
    ENSURE(*len <= max, COAPS_E_MALFORMED);
    return wire_rd_view(r, *len, p);
}

static coaps_status parse_blob(struct wire_rd *r, struct persist_blob *b)
{
    uint8_t version;
    const uint8_t *p;
    TRY(wire_rd_u8(r, &version));
    ENSURE(version == PERSIST_VERSION, COAPS_E_UNSUPPORTED);
    TRY(wire_rd_u8(r, &b->role));
    TRY(wire_rd_u16(r, &b->suite));
    TRY(wire_rd_u8(r, &b->flags));
    TRY(wire_rd_u16(r, &b->mtu));
    TRY(wire_rd_u16(r, &b->peer_next_seq));
    TRY(wire_rd_u16(r, &b->retain_seq));
    TRY(wire_rd_view(r, DTLS_VERIFY_DATA_LEN, &p));
    memcpy(b->retain_verify, p, DTLS_VERIFY_DATA_LEN);
    TRY(wire_rd_uint(r, 6, &b->write_seq));
    TRY(wire_rd_uint(r, 6, &b->replay_top));
    TRY(wire_rd_uint(r, 8, &b->replay_bitmap));
    TRY(wire_rd_uint(r, 8, &b->auth_failures));
    TRY(get_var(r, CRYPTO_AEAD_KEY_MAX, &b->wkey, &b->wkey_len));
    TRY(get_var(r, CRYPTO_AEAD_NONCE_LEN, &b->wiv, &b->wiv_len));
    TRY(get_var(r, CRYPTO_AEAD_KEY_MAX, &b->rkey, &b->rkey_len));
    TRY(get_var(r, CRYPTO_AEAD_NONCE_LEN, &b->riv, &b->riv_len));
    TRY(wire_rd_view(r, 32, &b->digest));
    TRY(get_var(r, COAPS_DTLS_CID_MAX, &b->own_cid, &b->own_cid_len));
    TRY(get_var(r, COAPS_DTLS_CID_MAX, &b->peer_cid, &b->peer_cid_len));
    ENSURE(wire_rd_left(r) == 0, COAPS_E_MALFORMED);
    return COAPS_OK;
}

/* Whether the configuration (the restarted server's) still allows suite s. */
static bool suite_configured(const coaps_dtls_config *cfg, const struct dtls_suite *s)
{
    const uint16_t *list;
    size_t n = dtls_suites_configured(cfg, &list);
    for (size_t i = 0; i < n; i++)
        if (list[i] == s->id)
            return dtls_suite_usable(cfg, s);
    return false;
}

/* The CIDs fit this build and the configuration: a session's CID must
 * have the length the edge's CID table looks records up by. */
static bool cid_fits(const coaps_dtls_config *cfg, const struct persist_blob *b)
{
    if (!(b->flags & PF_CID))
        return b->own_cid_len == 0 && b->peer_cid_len == 0;
    if (!COAPS_WITH_CID || b->own_cid_len > DTLS_CID_MAX || b->peer_cid_len > DTLS_CID_MAX)
        return false;
    return cfg->cid && b->own_cid_len == cfg->cid_len;
}

/* Everything import checks before it keys anything. */
static coaps_status check_blob(const coaps_dtls_config *cfg, const struct persist_blob *b,
                               const struct dtls_suite **suite)
{
    const struct dtls_suite *s = dtls_suite_find(b->suite);
    ENSURE(s, COAPS_E_MALFORMED);
    ENSURE(b->role == (uint8_t)cfg->role, COAPS_E_CONFIG);
    ENSURE((b->flags & ~PF_ALL) == 0, COAPS_E_MALFORMED);
    ENSURE(b->wkey_len == s->key_len && b->rkey_len == s->key_len &&
               b->wiv_len == s->fixed_iv_len && b->riv_len == s->fixed_iv_len,
           COAPS_E_MALFORMED);
    ENSURE(b->mtu >= COAPS_DTLS_MTU_MIN, COAPS_E_MALFORMED);
    ENSURE(b->replay_top <= DTLS_SEQ_MAX, COAPS_E_MALFORMED);
    ENSURE((b->flags & PF_REPLAY_ANY) || (b->replay_top == 0 && b->replay_bitmap == 0),
           COAPS_E_MALFORMED);
    /* no room left for the gap: the session could not send safely */
    ENSURE(b->write_seq <= DTLS_SEQ_MAX - COAPS_DTLS_IMPORT_SEQ_GAP, COAPS_E_STATE);
    ENSURE(cid_fits(cfg, b), COAPS_E_CONFIG);
    ENSURE(suite_configured(cfg, s), COAPS_E_CONFIG);
    *suite = s;
    return COAPS_OK;
}

static void import_cid(struct conn *c, const struct persist_blob *b)
{
#if COAPS_WITH_CID
    c->cid.on = (b->flags & PF_CID) != 0;
    c->cid.own_len = b->own_cid_len;
    memcpy(c->cid.own, b->own_cid, b->own_cid_len);
    c->cid.peer_len = b->peer_cid_len;
    memcpy(c->cid.peer, b->peer_cid, b->peer_cid_len);
#else
    (void)c;
    (void)b;
#endif
}

/* The record state from a checked blob: keys first, then the numbers. */
static coaps_status import_state(struct conn *c, const coaps_dtls_config *cfg,
                                 const struct dtls_suite *s, const struct persist_blob *b)
{
    TRY(dtls_cipher_state_init(&c->wr, s->aead, 1, b->wkey, b->wkey_len, b->wiv, b->wiv_len));
    TRY(dtls_cipher_state_init(&c->rd, s->aead, 1, b->rkey, b->rkey_len, b->riv, b->riv_len));
    c->read_keys = c->write_keys = true;
    c->wr.next_seq = b->write_seq + COAPS_DTLS_IMPORT_SEQ_GAP;
    c->replay.any = (b->flags & PF_REPLAY_ANY) != 0;
    c->replay.top = b->replay_top;
    c->replay.bitmap = b->replay_bitmap;
    c->stats.auth_failures = b->auth_failures;
    c->stats.auth_fail_limit =
        cfg->auth_fail_limit ? cfg->auth_fail_limit : dtls_aead_auth_fail_limit(s->aead);
    memcpy(c->key_digest, b->digest, sizeof c->key_digest);
    c->suite = s;
    c->role = b->role;
    c->write_epoch = 1;
    c->mtu = b->mtu;
    c->peer_next_seq = b->peer_next_seq;
    c->resumed = (b->flags & PF_RESUMED) != 0;
    c->retain = (b->flags & PF_RETAIN) != 0;
    c->retain_seq = b->retain_seq;
    memcpy(c->retain_verify, b->retain_verify, DTLS_VERIFY_DATA_LEN);
    import_cid(c, b);
    /* a failure count already at the limit ends the session at once */
    if (c->stats.auth_failures >= c->stats.auth_fail_limit)
        return COAPS_E_AUTH_LIMIT;
    c->state = COAPS_DTLS_ESTABLISHED;
    return COAPS_OK;
}

coaps_status coaps_dtls_import(coaps_dtls_conn *conn, const coaps_dtls_config *cfg,
                               const uint8_t *buf, size_t len)
{
    ENSURE(conn && (buf || len == 0), COAPS_E_INVALID);
    TRY(coaps_dtls_config_check(cfg));
    struct conn *c = conn_of(conn);
    memset(c, 0, sizeof *c);
    c->state = COAPS_DTLS_FAILED;
    c->err.alert = -1;
    struct persist_blob b;
    memset(&b, 0, sizeof b);
    struct wire_rd r = wire_rd_init(buf, len);
    coaps_status st = parse_blob(&r, &b);
    const struct dtls_suite *s = NULL;
    if (st == COAPS_OK)
        st = check_blob(cfg, &b, &s);
    c->cfg = cfg;
    if (st == COAPS_OK)
        st = import_state(c, cfg, s, &b);
    crypto_wipe(&b, sizeof b); /* views only, but the verify data too */
    if (st != COAPS_OK) {
        conn_clear_keys(c);
        crypto_wipe(c, sizeof *c);
        c->state = COAPS_DTLS_FAILED;
        c->err.status = st;
        c->err.alert = -1;
    }
    return st;
}

/* A cluster's nodes share a session's keys (docs/cluster.md): which
 * numbers a node may seal with is the store's to say, not the blob's, so
 * the block replaces the import's own next number. Disjoint blocks are
 * the store's promise (net/store.h); the engine keeps to the one it was
 * given and refuses to seal past it (record_io.c). */
coaps_status coaps_dtls_set_write_block(coaps_dtls_conn *conn, uint64_t next, uint64_t limit)
{
    ENSURE(conn, COAPS_E_INVALID);
    struct conn *c = conn_of(conn);
    ENSURE(c->state == COAPS_DTLS_ESTABLISHED && c->write_keys, COAPS_E_STATE);
    ENSURE(next < limit && limit - 1 <= DTLS_SEQ_MAX, COAPS_E_INVALID);
    c->wr.next_seq = next;
    c->write_limit = limit;
    return COAPS_OK;
}

uint64_t coaps_dtls_write_seq(const coaps_dtls_conn *conn)
{
    const struct conn *c = conn_of_const(conn);
    return c->write_keys ? c->wr.next_seq : 0;
}
