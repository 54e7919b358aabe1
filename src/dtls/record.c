/*
 * record.c - DTLS 1.2 record framing and AEAD protection (RFC 6347 4.1,
 * RFC 5246 6.2.3.3). See record.h for the contract of each function.
 */
#include "dtls/record.h"

#include <string.h>

#include "common/try.h"

coaps_status dtls_record_next_cid(struct wire_rd *dgram, struct dtls_record *rec,
                                  size_t cid_len)
{
    ENSURE(dgram != NULL && rec != NULL && cid_len <= DTLS_CID_MAX, COAPS_E_INVALID);
    struct wire_rd r = *dgram;
    uint16_t len = 0;
    rec->offset = r.off;
    rec->header = wire_rd_ptr(&r);
    rec->cid = NULL;
    rec->cid_len = 0;
    coaps_status st = wire_rd_u8(&r, &rec->type);
    if (st == COAPS_OK)
        st = wire_rd_u16(&r, &rec->version);
    if (st == COAPS_OK)
        st = wire_rd_u16(&r, &rec->epoch);
    if (st == COAPS_OK)
        st = wire_rd_u48(&r, &rec->seq);
    if (st == COAPS_OK && rec->type == DTLS_CT_TLS12_CID && cid_len > 0) {
        rec->cid_len = (uint8_t)cid_len;
        st = wire_rd_view(&r, cid_len, &rec->cid);
    }
    if (st == COAPS_OK)
        st = wire_rd_u16(&r, &len);
    if (st == COAPS_OK)
        st = wire_rd_view(&r, len, &rec->fragment);
    if (st != COAPS_OK) {
        /* Without a trustworthy length nothing after this point can be
         * framed: consume the rest so the caller's loop ends. */
        dgram->off = dgram->len;
        return COAPS_E_TRUNCATED;
    }
    rec->header_len = (uint8_t)(DTLS_RECORD_HEADER_LEN + rec->cid_len);
    rec->fragment_len = len;
    *dgram = r;
    return COAPS_OK;
}

coaps_status dtls_record_next(struct wire_rd *dgram, struct dtls_record *rec)
{
    return dtls_record_next_cid(dgram, rec, 0);
}

/* ---- cipher state ------------------------------------------------------- */

size_t dtls_cipher_fixed_iv_len(enum crypto_aead_alg alg)
{
    switch (alg) {
    case CRYPTO_AES_128_CCM_8:
    case CRYPTO_AES_128_CCM:
    case CRYPTO_AES_128_GCM:
    case CRYPTO_AES_256_GCM: return 4;   /* salt: RFC 5288 3, RFC 6655 3 */
    case CRYPTO_CHACHA20_POLY1305: return CRYPTO_AEAD_NONCE_LEN; /* RFC 7905 2 */
    }
    return 0;
}

coaps_status dtls_cipher_state_init(struct dtls_cipher_state *cs, enum crypto_aead_alg alg,
                                    uint16_t epoch, const uint8_t *key, size_t key_len,
                                    const uint8_t *iv, size_t iv_len)
{
    ENSURE(cs != NULL, COAPS_E_INVALID);
    memset(cs, 0, sizeof *cs);
    size_t fixed = dtls_cipher_fixed_iv_len(alg);
    ENSURE(fixed != 0 && iv != NULL && iv_len == fixed, COAPS_E_INVALID);
    TRY(crypto_aead_init(&cs->aead, alg, key, key_len));
    cs->alg = alg;
    cs->epoch = epoch;
    cs->fixed_iv_len = (uint8_t)fixed;
    cs->explicit_nonce_len = alg == CRYPTO_CHACHA20_POLY1305 ? 0 : DTLS_EXPLICIT_NONCE_LEN;
    cs->tag_len = (uint8_t)crypto_aead_tag_len(alg);
    memcpy(cs->fixed_iv, iv, fixed);
    cs->next_seq = 0;
    return COAPS_OK;
}

void dtls_cipher_state_clear(struct dtls_cipher_state *cs)
{
    if (cs == NULL)
        return;
    crypto_aead_clear(&cs->aead);
    crypto_wipe(cs, sizeof *cs);
}

size_t dtls_record_overhead(const struct dtls_cipher_state *cs)
{
    if (cs == NULL)
        return DTLS_RECORD_HEADER_LEN;
    return DTLS_RECORD_HEADER_LEN + cs->explicit_nonce_len + cs->tag_len;
}

size_t dtls_record_plaintext_room(const struct dtls_cipher_state *cs, size_t room)
{
    size_t overhead = dtls_record_overhead(cs);
    if (room <= overhead)
        return 0;
    room -= overhead;
    return room < DTLS_MAX_PLAINTEXT_LEN ? room : DTLS_MAX_PLAINTEXT_LEN;
}

size_t dtls_record_payload_offset(const struct dtls_cipher_state *cs)
{
    return DTLS_RECORD_HEADER_LEN + (cs != NULL ? cs->explicit_nonce_len : 0);
}

/* The 64-bit seq_num of the MAC/AEAD computations: epoch || sequence_number
 * (RFC 6347 4.1.2.1). */
static uint64_t record_seq_num(uint16_t epoch, uint64_t seq)
{
    return (uint64_t)epoch << 48 | (seq & DTLS_SEQ_MAX);
}

/* Per-record nonce (see record.h). explicit_nonce holds the 8 bytes carried
 * in the record for GCM/CCM; it is ignored for ChaCha20. */
static void record_nonce(const struct dtls_cipher_state *cs, uint64_t seq_num,
                         const uint8_t *explicit_nonce, uint8_t nonce[CRYPTO_AEAD_NONCE_LEN])
{
    if (cs->explicit_nonce_len == 0) {
        /* RFC 7905 2: the 64-bit sequence number, left-padded with four
         * zero bytes, XORed into the 12-byte IV. */
        memcpy(nonce, cs->fixed_iv, CRYPTO_AEAD_NONCE_LEN);
        for (size_t i = 0; i < 8; i++)
            nonce[4 + i] ^= (uint8_t)(seq_num >> (56 - 8 * i));
        return;
    }
    /* GCMNonce / CCMNonce = salt(4) || nonce_explicit(8) */
    memcpy(nonce, cs->fixed_iv, 4);
    memcpy(nonce + 4, explicit_nonce, DTLS_EXPLICIT_NONCE_LEN);
}

/* Most additional-data bytes: RFC 9146 5 with the longest CID. */
#define RECORD_AAD_MAX (8 + 1 + 1 + 1 + 2 + 2 + 6 + DTLS_CID_MAX + 2)

/* additional_data (RFC 5246 6.2.3.3) of a record without a CID, or of a
 * tls12_cid record (RFC 9146 5): seq_num_placeholder (8 x 0xff),
 * tls12_cid, cid_length, tls12_cid, version, epoch, sequence_number,
 * cid, length of the DTLSInnerPlaintext. Returns its length. */
static size_t record_aad(uint64_t seq_num, uint8_t type, uint16_t version, const uint8_t *cid,
                         size_t cid_len, size_t len, uint8_t aad[RECORD_AAD_MAX])
{
    struct wire_wr w = wire_wr_init(aad, RECORD_AAD_MAX);
    /* cannot fail: at most RECORD_AAD_MAX bytes (cid_len <= DTLS_CID_MAX) */
    if (cid_len == 0) {
        (void)wire_wr_uint(&w, 8, seq_num);
        (void)wire_wr_u8(&w, type);
        (void)wire_wr_u16(&w, version);
        (void)wire_wr_u16(&w, (uint16_t)len);
        return w.off;
    }
    (void)wire_wr_uint(&w, 8, UINT64_MAX);
    (void)wire_wr_u8(&w, DTLS_CT_TLS12_CID);
    (void)wire_wr_u8(&w, (uint8_t)cid_len);
    (void)wire_wr_u8(&w, DTLS_CT_TLS12_CID);
    (void)wire_wr_u16(&w, version);
    (void)wire_wr_uint(&w, 8, seq_num); /* epoch || sequence_number */
    (void)wire_wr_bytes(&w, cid, cid_len);
    (void)wire_wr_u16(&w, (uint16_t)len);
    return w.off;
}

static coaps_status write_header(struct wire_wr *w, uint8_t type, uint16_t version,
                                 uint16_t epoch, uint64_t seq, const uint8_t *cid,
                                 size_t cid_len, size_t fragment_len)
{
    TRY(wire_wr_u8(w, cid_len ? DTLS_CT_TLS12_CID : type));
    TRY(wire_wr_u16(w, version));
    TRY(wire_wr_u16(w, epoch));
    TRY(wire_wr_u48(w, seq));
    if (cid_len)
        TRY(wire_wr_bytes(w, cid, cid_len));
    return wire_wr_u16(w, (uint16_t)fragment_len);
}

/* plain must not overlap [dst, dst + span) unless it equals dst. */
static bool overlap_ok(const uint8_t *plain, size_t len, const uint8_t *start, size_t span,
                       const uint8_t *dst)
{
    uintptr_t p = (uintptr_t)plain, s = (uintptr_t)start;
    if (len == 0 || plain == dst)
        return true;
    return p + len <= s || s + span <= p;
}

coaps_status dtls_record_protect_cid(struct dtls_cipher_state *cs, uint8_t type, uint16_t version,
                                     const uint8_t *cid, size_t cid_len, const uint8_t *plain,
                                     size_t len, struct wire_wr *out)
{
    ENSURE(cs != NULL && cs->aead.live && out != NULL, COAPS_E_INVALID);
    ENSURE(plain != NULL || len == 0, COAPS_E_INVALID);
    ENSURE(len <= DTLS_MAX_PLAINTEXT_LEN, COAPS_E_INVALID);
    ENSURE(cid_len <= DTLS_CID_MAX && (cid != NULL || cid_len == 0), COAPS_E_INVALID);
    /* RFC 9146 4: the receiver takes the last non-zero byte of the inner
     * plaintext for the type; a type of 0 would read as padding and make
     * the content's last byte the type. */
    ENSURE(cid_len == 0 || type != 0, COAPS_E_INVALID);
    ENSURE(cs->next_seq <= DTLS_SEQ_MAX, COAPS_E_STATE);
    /* RFC 9146 4: the inner plaintext carries the real type after the
     * content (we send no padding). */
    size_t inner = len + (cid_len ? 1 : 0);
    size_t total = inner + dtls_record_overhead(cs) + cid_len;
    ENSURE(wire_wr_left(out) >= total, COAPS_E_NOSPACE);
    uint8_t *rec = wire_wr_ptr(out);
    uint8_t *payload = rec + dtls_record_payload_offset(cs) + cid_len;
    ENSURE(overlap_ok(plain, len, rec, total, payload), COAPS_E_INVALID);

    uint64_t seq_num = record_seq_num(cs->epoch, cs->next_seq);
    struct wire_wr w = *out;
    TRY(write_header(&w, type, version, cs->epoch, cs->next_seq, cid, cid_len,
                     total - DTLS_RECORD_HEADER_LEN - cid_len));
    /* RFC 6347 4.1.2.1 / RFC 5288 3: the explicit nonce is epoch || seq,
     * unique per key because next_seq never repeats within an epoch. */
    uint8_t *explicit_nonce = wire_wr_ptr(&w);
    if (cs->explicit_nonce_len)
        TRY(wire_wr_uint(&w, DTLS_EXPLICIT_NONCE_LEN, seq_num));

    uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], aad[RECORD_AAD_MAX];
    record_nonce(cs, seq_num, explicit_nonce, nonce);
    size_t aad_len = record_aad(seq_num, type, version, cid, cid_len, inner, aad);
    if (cid_len) {
        /* the inner plaintext is built where it is sealed */
        if (len && plain != payload)
            memmove(payload, plain, len);
        payload[len] = type;
        plain = payload;
    }
    TRY(crypto_aead_seal(&cs->aead, nonce, aad, aad_len, plain, inner, payload));
    out->off += total;
    cs->next_seq++;
    return COAPS_OK;
}

coaps_status dtls_record_protect(struct dtls_cipher_state *cs, uint8_t type, uint16_t version,
                                 const uint8_t *plain, size_t len, struct wire_wr *out)
{
    return dtls_record_protect_cid(cs, type, version, NULL, 0, plain, len, out);
}

coaps_status dtls_record_write_plain(uint8_t type, uint16_t version, uint64_t seq,
                                     const uint8_t *data, size_t len, struct wire_wr *out)
{
    ENSURE(out != NULL && (data != NULL || len == 0), COAPS_E_INVALID);
    ENSURE(len <= DTLS_MAX_PLAINTEXT_LEN && seq <= DTLS_SEQ_MAX, COAPS_E_INVALID);
    ENSURE(wire_wr_left(out) >= DTLS_RECORD_HEADER_LEN + len, COAPS_E_NOSPACE);
    struct wire_wr w = *out;
    TRY(write_header(&w, type, version, 0, seq, NULL, 0, len));
    if (data != wire_wr_ptr(&w) && len > 0)
        memmove(wire_wr_ptr(&w), data, len); /* memmove: tolerate overlap */
    w.off += len;
    *out = w;
    return COAPS_OK;
}

/* RFC 9146 4: DTLSInnerPlaintext = content || real type || zeros. The
 * real type is the last non-zero byte; all zeros is malformed. */
static coaps_status inner_plaintext(const uint8_t *pt, size_t *len, uint8_t *type)
{
    size_t n = *len;
    while (n > 0 && pt[n - 1] == 0)
        n--;
    ENSURE(n > 0, COAPS_E_MALFORMED);
    *type = pt[n - 1];
    *len = n - 1;
    return COAPS_OK;
}

coaps_status dtls_record_open(struct dtls_cipher_state *cs, const struct dtls_record *rec,
                              uint8_t *dgram, size_t dgram_len, uint8_t **plain,
                              size_t *plain_len, uint8_t *type)
{
    ENSURE(rec != NULL && dgram != NULL && plain != NULL && plain_len != NULL && type != NULL,
           COAPS_E_INVALID);
    ENSURE(rec->cid_len <= DTLS_CID_MAX, COAPS_E_INVALID);
    size_t hdr = rec->header_len;
    /* rec must describe bytes of this very buffer: we write through it. */
    ENSURE(hdr == DTLS_RECORD_HEADER_LEN + (size_t)rec->cid_len && rec->offset <= dgram_len &&
               dgram_len - rec->offset >= hdr &&
               dgram_len - rec->offset - hdr >= rec->fragment_len &&
               rec->fragment == dgram + rec->offset + hdr,
           COAPS_E_INVALID);
    uint8_t *frag = dgram + rec->offset + hdr;
    *type = rec->type;

    if (cs == NULL) { /* NULL cipher (RFC 5246 6.1: initial state) */
        ENSURE(rec->epoch == 0 && rec->cid_len == 0, COAPS_E_STATE);
        ENSURE(rec->fragment_len <= DTLS_MAX_PLAINTEXT_LEN, COAPS_E_MALFORMED);
        *plain = frag;
        *plain_len = rec->fragment_len;
        return COAPS_OK;
    }
    ENSURE(cs->aead.live, COAPS_E_INVALID);
    ENSURE(rec->epoch == cs->epoch, COAPS_E_STATE);
    size_t expansion = (size_t)cs->explicit_nonce_len + cs->tag_len;
    ENSURE(rec->fragment_len >= expansion, COAPS_E_MALFORMED);
    size_t len = rec->fragment_len - expansion;
    /* record_overflow; an inner plaintext has one byte of type on top */
    ENSURE(len <= DTLS_MAX_PLAINTEXT_LEN + (rec->cid_len ? 1u : 0u), COAPS_E_MALFORMED);

    uint64_t seq_num = record_seq_num(rec->epoch, rec->seq);
    uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], aad[RECORD_AAD_MAX];
    /* The receiver uses the explicit nonce as sent (RFC 5288 3), and the
     * header's epoch/seq (and CID) in the AAD, so a moved or altered
     * header fails. */
    record_nonce(cs, seq_num, frag, nonce);
    size_t aad_len =
        record_aad(seq_num, rec->type, rec->version, rec->cid, rec->cid_len, len, aad);
    uint8_t *payload = frag + cs->explicit_nonce_len;
    TRY(crypto_aead_open(&cs->aead, nonce, aad, aad_len, payload, len, payload));
    if (rec->cid_len)
        TRY(inner_plaintext(payload, &len, type));
    *plain = payload;
    *plain_len = len;
    return COAPS_OK;
}

coaps_status dtls_record_unprotect(struct dtls_cipher_state *cs, const struct dtls_record *rec,
                                   uint8_t *dgram, size_t dgram_len, uint8_t **plain,
                                   size_t *plain_len)
{
    uint8_t type;
    return dtls_record_open(cs, rec, dgram, dgram_len, plain, plain_len, &type);
}
