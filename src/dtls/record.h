/*
 * record.h - the DTLS 1.2 record layer (RFC 6347 section 4.1).
 *
 * Three jobs, all sans-IO and allocation-free per record:
 *   1. framing: split a received datagram into records (several records may
 *      share one datagram, RFC 6347 4.1) and write record headers;
 *   2. protection: AEAD-seal a plaintext into a record and open a received
 *      record in place (RFC 5246 6.2.3.3; nonces per RFC 5288 / RFC 6655 for
 *      AES-GCM / AES-CCM and RFC 7905 for ChaCha20-Poly1305);
 *   3. bookkeeping of the write sequence number inside the cipher state, so
 *      a (key, nonce) pair can never repeat.
 * Anti-replay is separate (replay_window.h): the engine checks the window
 * before dtls_record_unprotect() and marks it only after it succeeded
 * (RFC 6347 4.1.2.6).
 *
 * Typical receive loop (the engine):
 *
 *     struct wire_rd rd = wire_rd_init(dgram, dgram_len);
 *     struct dtls_record rec;
 *     while (wire_rd_left(&rd) > 0) {
 *         if (dtls_record_next(&rd, &rec) != COAPS_OK)
 *             break;                       // rest of datagram is dropped
 *         struct dtls_cipher_state *cs = epoch_state(rec.epoch); // NULL for 0
 *         if (replay check fails) continue;
 *         uint8_t *pt; size_t pt_len;
 *         if (dtls_record_unprotect(cs, &rec, dgram, dgram_len, &pt, &pt_len) != COAPS_OK)
 *             continue;                    // RFC 6347 4.1.2.7: drop silently
 *         mark replay window; handle (rec.type, pt, pt_len);
 *     }
 */
#ifndef COAPS_DTLS_RECORD_H
#define COAPS_DTLS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coaps/config.h"
#include "coaps/status.h"
#include "common/wire.h"
#include "crypto/crypto.h"

/* RFC 6347 4.1: type(1) version(2) epoch(2) sequence_number(6) length(2).
 * (Token-identical to the copy in conn.h, so both headers can coexist.) */
#define DTLS_RECORD_HEADER_LEN 13

/* ProtocolVersion on the wire: DTLS 1.2 = {254, 253}, DTLS 1.0 = {254, 255}
 * (RFC 6347 4.1; 1.0 may appear in the record of an initial ClientHello). */
#define DTLS_VERSION_1_2 0xfefd
#define DTLS_VERSION_1_0 0xfeff

/* ContentType (RFC 5246 6.2.1, RFC 6347 4.1). */
enum dtls_content_type {
    DTLS_CT_CHANGE_CIPHER_SPEC = 20,
    DTLS_CT_ALERT = 21,
    DTLS_CT_HANDSHAKE = 22,
    DTLS_CT_APPLICATION_DATA = 23,
    DTLS_CT_TLS12_CID = 25, /* RFC 9146 4: a protected record with a CID */
};

/* Longest Connection ID (RFC 9146) this build sends or receives: the
 * record header grows by it, so it bounds headroom and the additional
 * data. 16 bytes is 128 bits: random CIDs of that length never collide,
 * and peers use 4-8 (Mbed TLS, Californium, libcoap). A longer CID asked
 * for by a peer is not negotiated (coaps/dtls.h COAPS_DTLS_CID_MAX).
 * Without COAPS_WITH_CID it is 0: every function below refuses a CID,
 * and the compiler drops the code that handles one. */
#if COAPS_WITH_CID
#define DTLS_CID_MAX 16
#else
#define DTLS_CID_MAX 0
#endif

/* TLSPlaintext.length <= 2^14 (RFC 5246 6.2.1). */
#define DTLS_MAX_PLAINTEXT_LEN 16384
/* TLSCiphertext.length <= 2^14 + 2048 (RFC 5246 6.2.3). */
#define DTLS_MAX_FRAGMENT_LEN (DTLS_MAX_PLAINTEXT_LEN + 2048)
/* The sequence number is 48 bits and must not wrap (RFC 6347 4.1). */
#define DTLS_SEQ_MAX ((UINT64_C(1) << 48) - 1)
/* GenericAEADCipher.nonce_explicit for AES-GCM (RFC 5288 3) and AES-CCM
 * (RFC 6655 3); ChaCha20-Poly1305 has none (RFC 7905 2). */
#define DTLS_EXPLICIT_NONCE_LEN 8
/* additional_data = seq_num(8) + type(1) + version(2) + length(2)
 * (RFC 5246 6.2.3.3, seq_num = epoch || sequence_number in DTLS). */
#define DTLS_AEAD_AAD_LEN 13
/* Worst-case record expansion of any suite we support: header + explicit
 * nonce + 16-byte tag. Useful to size buffers (MTU - this = room for data). */
#define DTLS_RECORD_MAX_OVERHEAD (DTLS_RECORD_HEADER_LEN + DTLS_EXPLICIT_NONCE_LEN + 16)

/* One record found in a datagram. All pointers are views into the datagram
 * buffer the reader was built on: valid as long as that buffer is. */
struct dtls_record {
    uint8_t type;             /* ContentType, not validated here */
    uint16_t version;         /* as on the wire, not validated here */
    uint16_t epoch;
    uint64_t seq;             /* 48-bit sequence_number */
    const uint8_t *header;    /* the header_len header bytes */
    const uint8_t *cid;       /* tls12_cid records: the CID in the header */
    uint8_t cid_len;          /* 0 for every other record */
    uint8_t header_len;       /* DTLS_RECORD_HEADER_LEN + cid_len */
    const uint8_t *fragment;  /* fragment_len bytes right after the header */
    size_t fragment_len;
    size_t offset;            /* offset of header from the datagram start */
};

/*
 * Take the next record off a received datagram.
 * COAPS_OK: *rec describes it and dgram has moved past it.
 * COAPS_E_TRUNCATED: fewer than 13 header bytes left, or the length field
 *   runs past the end of the datagram. The record cannot be framed, and
 *   neither can anything after it: dgram is moved to its end so a loop
 *   stops (the rest of the datagram is dropped, RFC 6347 4.1.2.7).
 * The type, version and length limits are NOT checked here (framing only):
 * dtls_record_unprotect() checks lengths, the engine checks type/version.
 */
coaps_status dtls_record_next(struct wire_rd *dgram, struct dtls_record *rec);
/* The same, for a receiver whose Connection ID is cid_len bytes long
 * (RFC 9146 4: the CID length is not on the wire, the receiver knows its
 * own): a tls12_cid record's header then holds cid_len CID bytes after
 * the sequence number. cid_len 0 frames tls12_cid records like any other
 * (they are then dropped by type). */
coaps_status dtls_record_next_cid(struct wire_rd *dgram, struct dtls_record *rec,
                                  size_t cid_len);

/* ---- cipher state: one per direction and epoch ------------------------- */

struct dtls_cipher_state {
    struct crypto_aead aead;     /* keyed once in _init */
    enum crypto_aead_alg alg;
    uint16_t epoch;
    uint8_t fixed_iv_len;        /* 4 (GCM/CCM salt) or 12 (ChaCha20 IV) */
    uint8_t explicit_nonce_len;  /* 8 (GCM/CCM) or 0 (ChaCha20) */
    uint8_t tag_len;             /* 8 (CCM_8) or 16 */
    uint8_t fixed_iv[CRYPTO_AEAD_NONCE_LEN];
    uint64_t next_seq;           /* write direction: sequence number of the
                                    next record dtls_record_protect() sends */
};

/* Length of the client/server_write_IV part of the key block for alg:
 * 4 for AES-GCM (RFC 5288 3) and AES-CCM (RFC 6655 3), 12 for ChaCha20-
 * Poly1305 (RFC 7905 2). 0 for an unknown alg. */
size_t dtls_cipher_fixed_iv_len(enum crypto_aead_alg alg);

/*
 * Key a cipher state for one direction of one epoch from its key-block
 * pieces (RFC 5246 6.3: write_key, write_IV). key_len must be
 * crypto_aead_key_len(alg) and iv_len dtls_cipher_fixed_iv_len(alg), else
 * COAPS_E_INVALID. next_seq starts at 0 (RFC 6347 4.1: reset per epoch).
 * Copies what it needs: the caller may wipe key and iv afterwards.
 * Allocates inside the crypto backend (set-up path). On failure *cs is left
 * cleared. Returns COAPS_E_INVALID, COAPS_E_NOMEM or COAPS_E_CRYPTO.
 */
coaps_status dtls_cipher_state_init(struct dtls_cipher_state *cs, enum crypto_aead_alg alg,
                                    uint16_t epoch, const uint8_t *key, size_t key_len,
                                    const uint8_t *iv, size_t iv_len);

/* Free and wipe; safe to call twice or on a state whose init failed. */
void dtls_cipher_state_clear(struct dtls_cipher_state *cs);

/* Bytes a record adds around its plaintext: header + explicit nonce + tag
 * (cs == NULL: the NULL cipher of epoch 0, header only). */
size_t dtls_record_overhead(const struct dtls_cipher_state *cs);

/* Largest plaintext whose record fits in room bytes (e.g. what is left of
 * the path MTU in a datagram), capped at DTLS_MAX_PLAINTEXT_LEN; 0 when not
 * even an empty record fits. */
size_t dtls_record_plaintext_room(const struct dtls_cipher_state *cs, size_t room);

/* Offset of the plaintext/ciphertext inside a record written by
 * dtls_record_protect(): header + explicit nonce. See "in place" below. */
size_t dtls_record_payload_offset(const struct dtls_cipher_state *cs);

/*
 * Write one protected record (header, explicit nonce, ciphertext, tag) at
 * the writer's position, with epoch cs->epoch and sequence number
 * cs->next_seq, which is then incremented.
 *   nonce (GCM/CCM)  = fixed_iv(4) || explicit(8), explicit = epoch || seq
 *                      (RFC 5288 3, RFC 6655 3, RFC 6347 4.1.2.1)
 *   nonce (ChaCha20) = fixed_iv(12) XOR (0^32 || epoch || seq) (RFC 7905 2)
 *   AAD = epoch || seq || type || version || plaintext length (RFC 5246 6.2.3.3)
 * len <= DTLS_MAX_PLAINTEXT_LEN. plain must not overlap the output, except
 * that it may already sit exactly at
 * wire_wr_ptr(out) + dtls_record_payload_offset(cs) (the engine can build
 * the plaintext in place; it is then encrypted in place).
 * Returns COAPS_OK; COAPS_E_NOSPACE (writer unchanged) when
 * len + dtls_record_overhead(cs) does not fit; COAPS_E_STATE when the
 * sequence numbers of this epoch are exhausted (the association must be
 * re-keyed, RFC 6347 4.1); COAPS_E_INVALID on bad arguments or overlap;
 * COAPS_E_CRYPTO. On failure the writer does not move and next_seq is kept.
 */
coaps_status dtls_record_protect(struct dtls_cipher_state *cs, uint8_t type, uint16_t version,
                                 const uint8_t *plain, size_t len, struct wire_wr *out);

/*
 * dtls_record_protect with the peer's Connection ID (RFC 9146): for
 * cid_len 1..DTLS_CID_MAX a tls12_cid record (content type 25, the CID in
 * the header after the sequence number), whose protected content is the
 * DTLSInnerPlaintext content || real type (no padding) and whose
 * additional data is that of RFC 9146 5 (seq_num_placeholder, tls12_cid,
 * cid_length, tls12_cid, version, epoch, sequence_number, cid, length of
 * the inner plaintext). cid_len 0: exactly dtls_record_protect (a
 * zero-length CID means plain records, RFC 9146 3). In place as above,
 * at dtls_record_payload_offset(cs) + cid_len.
 */
coaps_status dtls_record_protect_cid(struct dtls_cipher_state *cs, uint8_t type, uint16_t version,
                                     const uint8_t *cid, size_t cid_len, const uint8_t *plain,
                                     size_t len, struct wire_wr *out);

/*
 * Write one unprotected record (epoch 0, the NULL cipher of the first
 * handshake) with sequence number seq; the caller owns the epoch-0 counter
 * (a HelloVerifyRequest reuses the ClientHello's number, RFC 6347 4.2.1).
 * len <= DTLS_MAX_PLAINTEXT_LEN, seq <= DTLS_SEQ_MAX (else COAPS_E_INVALID).
 * data may sit exactly at wire_wr_ptr(out) + DTLS_RECORD_HEADER_LEN; other
 * overlap is undefined. COAPS_E_NOSPACE leaves the writer unchanged.
 */
coaps_status dtls_record_write_plain(uint8_t type, uint16_t version, uint64_t seq,
                                     const uint8_t *data, size_t len, struct wire_wr *out);

/*
 * Authenticate and decrypt rec IN PLACE inside the datagram buffer.
 * dgram/dgram_len must be the mutable buffer dtls_record_next() read rec
 * from (COAPS_E_INVALID otherwise). cs is the read state of rec->epoch, or
 * NULL for epoch 0 (NULL cipher: the fragment is returned as is).
 * On COAPS_OK *plain points inside dgram (after the explicit nonce) and
 * *plain_len is the plaintext length (<= DTLS_MAX_PLAINTEXT_LEN); the
 * ciphertext bytes have been overwritten by plaintext.
 * Errors (the record is to be dropped, RFC 6347 4.1.2.7):
 *   COAPS_E_STATE      rec->epoch is not cs->epoch (or not 0 for cs NULL);
 *   COAPS_E_MALFORMED  fragment shorter than explicit nonce + tag, or
 *                      longer than allowed (RFC 5246 6.2.3: record_overflow);
 *   COAPS_E_AUTH       the tag did not verify; the fragment's payload bytes
 *                      are wiped, nothing unauthenticated is released.
 * Does not touch the replay window or next_seq.
 */
coaps_status dtls_record_unprotect(struct dtls_cipher_state *cs, const struct dtls_record *rec,
                                   uint8_t *dgram, size_t dgram_len, uint8_t **plain,
                                   size_t *plain_len);

/* dtls_record_unprotect for any protected record, tls12_cid ones included
 * (RFC 9146 5 additional data; the zero padding is stripped and the real
 * content type found in the inner plaintext, COAPS_E_MALFORMED when it is
 * all zeros). *type receives the content type: the header's, or for a
 * tls12_cid record the inner one. */
coaps_status dtls_record_open(struct dtls_cipher_state *cs, const struct dtls_record *rec,
                              uint8_t *dgram, size_t dgram_len, uint8_t **plain,
                              size_t *plain_len, uint8_t *type);

#endif /* COAPS_DTLS_RECORD_H */
