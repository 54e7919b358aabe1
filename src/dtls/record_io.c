/*
 * record_io.c - the connection's use of the record layer (record.h):
 * epoch-1 cipher states from the key block, sequence numbers per epoch,
 * the anti-replay window (RFC 6347 4.1.2.6) and per-key failure counts
 * (RFC 9147 4.5.3).
 */
#include <string.h>

#include "common/try.h"
#include "common/wire.h"
#include "dtls/conn.h"

coaps_status conn_install_keys(struct conn *c, const struct dtls_key_block *kb)
{
    const struct dtls_suite *s = c->suite;
    bool client = c->role == COAPS_DTLS_CLIENT;
    const uint8_t *wk = client ? kb->client_key : kb->server_key;
    const uint8_t *rk = client ? kb->server_key : kb->client_key;
    const uint8_t *wiv = client ? kb->client_iv : kb->server_iv;
    const uint8_t *riv = client ? kb->server_iv : kb->client_iv;

    conn_clear_keys(c);
    TRY(dtls_cipher_state_init(&c->wr, s->aead, 1, wk, s->key_len, wiv, s->fixed_iv_len));
    coaps_status st =
        dtls_cipher_state_init(&c->rd, s->aead, 1, rk, s->key_len, riv, s->fixed_iv_len);
    if (st != COAPS_OK) {
        dtls_cipher_state_clear(&c->wr);
        return st;
    }
    c->read_keys = c->write_keys = true;
    dtls_replay_init(&c->replay);
    /* RFC 9147 4.5.3: failures are counted per key, against the limit of
     * the AEAD in use (suites.c) unless the config sets one. */
    c->stats.auth_failures = 0;
    c->stats.auth_fail_limit =
        c->cfg->auth_fail_limit ? c->cfg->auth_fail_limit : dtls_aead_auth_fail_limit(s->aead);
    return COAPS_OK;
}

void conn_clear_keys(struct conn *c)
{
    dtls_cipher_state_clear(&c->wr);
    dtls_cipher_state_clear(&c->rd);
    c->read_keys = c->write_keys = false;
}

size_t conn_record_overhead(const struct conn *c, uint16_t epoch)
{
    if (!(epoch && c->write_keys))
        return dtls_record_overhead(NULL);
    const uint8_t *cid;
    size_t cid_len = conn_cid_tx(c, &cid);
    /* a tls12_cid record: the CID, and the inner content type */
    return dtls_record_overhead(&c->wr) + (cid_len ? cid_len + 1 : 0);
}

coaps_status conn_write_record(struct conn *c, struct wire_wr *w, uint8_t type, uint16_t epoch,
                               const uint8_t *pt, size_t len)
{
    ENSURE(epoch <= 1, COAPS_E_INVALID);
    if (epoch == 1) {
        ENSURE(c->write_keys, COAPS_E_STATE);
#if COAPS_WITH_PERSIST
        ENSURE(c->write_limit == 0 || c->wr.next_seq < c->write_limit, COAPS_E_STATE);
#endif
        const uint8_t *cid;
        size_t cid_len = conn_cid_tx(c, &cid);
        return dtls_record_protect_cid(&c->wr, type, DTLS_VERSION_1_2, cid, cid_len, pt, len, w);
    }
    /* RFC 6347 4.1: the sequence number must not wrap; re-keying would be
     * a renegotiation, which we never do. */
    ENSURE(c->write_seq0 <= DTLS_SEQ_MAX, COAPS_E_STATE);
    TRY(dtls_record_write_plain(type, DTLS_VERSION_1_2, c->write_seq0, pt, len, w));
    c->write_seq0++;
    return COAPS_OK;
}

coaps_status conn_open_record(struct conn *c, const struct dtls_record *rec, uint8_t *dgram,
                              size_t dgram_len, uint8_t **pt, size_t *pt_len, uint8_t *type)
{
    ENSURE(c->read_keys, COAPS_E_STATE);
    /* RFC 9146 6: with a CID negotiated only tls12_cid records carrying
     * ours belong here; without, none do. Checked before any crypto. */
    ENSURE(conn_cid_rx_ok(c, rec), COAPS_E_NOT_FOUND);
    if (dtls_replay_check(&c->replay, rec->seq) != COAPS_OK) {
        c->stats.replays++;
        return COAPS_E_REPLAY;
    }
    coaps_status st = dtls_record_open(&c->rd, rec, dgram, dgram_len, pt, pt_len, type);
    if (st == COAPS_E_AUTH)
        c->stats.auth_failures++;
    TRY(st);
    if (!c->replay.any || rec->seq > c->replay.top)
        c->rx_newest = true; /* newer than anything authenticated before */
    dtls_replay_mark(&c->replay, rec->seq); /* only once it authenticated */
    return COAPS_OK;
}
