/*
 * crypto.h - the narrow interface between the protocol code and the crypto
 * primitives. The protocol (src/dtls) calls only what is declared here; the
 * OpenSSL backend (crypto_openssl_hash.c, _aead.c, _pk.c) is the only code
 * that includes libcrypto headers; crypto_prf.c is backend-neutral (built on
 * crypto_hmac_iov). A second backend (e.g. PSA/Mbed TLS for
 * microcontrollers) implements the same functions.
 *
 * Errors: COAPS_E_INVALID for bad arguments (NULL, wrong lengths, unknown
 * algorithm), COAPS_E_NOMEM when set-up allocation fails, COAPS_E_CRYPTO
 * when the backend itself fails, COAPS_E_AUTH / COAPS_E_VERIFY /
 * COAPS_E_MALFORMED for bad network input as documented per function.
 *
 * Ownership: every context struct is owned by the caller (embedded in a
 * session). *_init keys or sets it up once (may allocate inside the backend,
 * never per packet); *_clear releases and wipes it. Seal/open are called per
 * record and must not allocate.
 */
#ifndef COAPS_CRYPTO_H
#define COAPS_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coaps/status.h"

/* ---- hashes ------------------------------------------------------------ */

enum crypto_hash_alg {
    CRYPTO_SHA256 = 0,
    CRYPTO_SHA384 = 1,
};

#define CRYPTO_HASH_MAX 48 /* SHA-384 output */

size_t crypto_hash_len(enum crypto_hash_alg alg);

/* A running hash (the handshake transcript). */
struct crypto_hash {
    void *impl; /* backend state */
    enum crypto_hash_alg alg;
};

/* Start a running hash (allocates backend state). On failure h->impl is
 * NULL and crypto_hash_clear() is still safe. */
coaps_status crypto_hash_init(struct crypto_hash *h, enum crypto_hash_alg alg);
/* Absorb len bytes (data may be NULL when len is 0). */
coaps_status crypto_hash_update(struct crypto_hash *h, const void *data, size_t len);
/* The digest of everything so far (crypto_hash_len(h->alg) bytes), without
 * ending the running hash: more updates and peeks may follow (Finished
 * messages, RFC 5246 7.4.9). Finishes a copy, so it allocates briefly. */
coaps_status crypto_hash_peek(const struct crypto_hash *h, uint8_t out[CRYPTO_HASH_MAX]);
/* Free the state; safe to call twice. */
void crypto_hash_clear(struct crypto_hash *h);

/* One-shot hash and HMAC; out receives crypto_hash_len(alg) bytes. A key
 * of any length is fine (longer than the block is hashed, RFC 2104). */
coaps_status crypto_hash(enum crypto_hash_alg alg, const void *data, size_t len,
                         uint8_t out[CRYPTO_HASH_MAX]);
coaps_status crypto_hmac(enum crypto_hash_alg alg, const void *key, size_t key_len,
                         const void *data, size_t len, uint8_t out[CRYPTO_HASH_MAX]);

/* HMAC over the concatenation of several pieces, without copying them into
 * one buffer first (PRF iterations, cookies over address || ClientHello
 * fields). parts may be NULL when n_parts is 0; a piece with len 0 may have
 * p == NULL. Handshake path only: the backend may allocate here. */
struct crypto_iov {
    const void *p;
    size_t len;
};

coaps_status crypto_hmac_iov(enum crypto_hash_alg alg, const void *key, size_t key_len,
                             const struct crypto_iov *parts, size_t n_parts,
                             uint8_t out[CRYPTO_HASH_MAX]);

/* TLS 1.2 PRF (RFC 5246 section 5): P_hash(secret, label || seed).
 * label is a NUL-terminated ASCII string (the NUL is not hashed); out_len may
 * be any length (key blocks are ~40..136 bytes). Built on crypto_hmac_iov in
 * crypto_prf.c, so a second backend gets it for free. COAPS_E_INVALID on
 * NULL arguments. */
coaps_status crypto_tls12_prf(enum crypto_hash_alg alg, const uint8_t *secret, size_t secret_len,
                              const char *label, const uint8_t *seed, size_t seed_len,
                              uint8_t *out, size_t out_len);

/* ---- AEAD ---------------------------------------------------------------- */

enum crypto_aead_alg {
    CRYPTO_AES_128_CCM_8 = 0, /* RFC 6655, tag 8 */
    CRYPTO_AES_128_CCM = 1,   /* RFC 6655, tag 16 */
    CRYPTO_AES_128_GCM = 2,   /* RFC 5288 */
    CRYPTO_AES_256_GCM = 3,   /* RFC 5288 */
    CRYPTO_CHACHA20_POLY1305 = 4, /* RFC 7905 */
};

#define CRYPTO_AEAD_KEY_MAX 32
#define CRYPTO_AEAD_NONCE_LEN 12 /* all suites above use a 12-byte nonce */
#define CRYPTO_AEAD_TAG_MAX 16

size_t crypto_aead_key_len(enum crypto_aead_alg alg);
size_t crypto_aead_tag_len(enum crypto_aead_alg alg);

struct crypto_aead {
    void *impl; /* backend state, keyed once */
    enum crypto_aead_alg alg;
};

/* Key a context once (allocates backend state: set-up path). key_len must be
 * crypto_aead_key_len(alg), else COAPS_E_INVALID. On failure a->impl is NULL
 * and crypto_aead_clear() is still safe. The backend keeps the key schedule
 * (and, for OpenSSL, a copy of the key) until crypto_aead_clear().
 * A context may both seal and open, but switching direction re-keys inside
 * the backend: use one context per direction on hot paths (DTLS does). */
coaps_status crypto_aead_init(struct crypto_aead *a, enum crypto_aead_alg alg,
                              const uint8_t *key, size_t key_len);
/* out receives len bytes of ciphertext followed by the tag
 * (len + crypto_aead_tag_len bytes); out may equal in (in-place), any other
 * overlap is undefined. Never allocates. COAPS_E_INVALID on bad arguments,
 * COAPS_E_CRYPTO if the backend fails. The caller guarantees the nonce is
 * never reused under one key (DTLS: epoch || sequence number). */
coaps_status crypto_aead_seal(struct crypto_aead *a, const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN],
                              const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
                              uint8_t *out);
/* in holds len bytes of ciphertext followed by the tag (len excludes the tag);
 * out receives len bytes of plaintext and may equal in. COAPS_E_AUTH when the
 * tag does not verify (out is then wiped: no unauthenticated plaintext is ever
 * released). Never allocates. */
coaps_status crypto_aead_open(struct crypto_aead *a, const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN],
                              const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
                              uint8_t *out);
/* Free and wipe the backend state; safe on a cleared or failed context. */
void crypto_aead_clear(struct crypto_aead *a);

/* ---- ephemeral ECDH (ECDHE_* key exchange, RFC 8422; X25519 RFC 7748) ---- */

enum crypto_kx_group {
    CRYPTO_KX_P256 = 0,   /* secp256r1, NamedGroup 23 */
    CRYPTO_KX_X25519 = 1, /* x25519, NamedGroup 29 */
};

/* Largest public value: an uncompressed P-256 point 0x04 || X || Y
 * (RFC 8422 5.4.1, the only point format we use); X25519 uses 32 bytes. */
#define CRYPTO_KX_PUBLIC_MAX 65
/* Shared secret: the 32-byte X coordinate for P-256 (RFC 8422 5.10) or the
 * 32-byte X25519 output (RFC 7748 6.1). */
#define CRYPTO_KX_SECRET_MAX 32

struct crypto_kx {
    void *impl; /* backend key pair */
    enum crypto_kx_group group;
};

/* Public value length on the wire: 65 (P-256) or 32 (X25519); 0 if unknown. */
size_t crypto_kx_public_len(enum crypto_kx_group group);

/* Make a fresh key pair (handshake path; allocates in the backend) and
 * write our public value (crypto_kx_public_len bytes) to pub.
 * COAPS_E_INVALID, COAPS_E_NOMEM, COAPS_E_CRYPTO. */
coaps_status crypto_kx_generate(struct crypto_kx *kx, enum crypto_kx_group group,
                                uint8_t pub[CRYPTO_KX_PUBLIC_MAX], size_t *pub_len);

/* Use a given private key instead (known-answer tests): 32 bytes for both
 * groups (P-256 scalar big-endian, X25519 scalar as in RFC 7748). pub/pub_len
 * receive the matching public value. A P-256 scalar outside [1, n-1] is
 * COAPS_E_INVALID. */
coaps_status crypto_kx_import_private(struct crypto_kx *kx, enum crypto_kx_group group,
                                      const uint8_t *priv, size_t priv_len,
                                      uint8_t pub[CRYPTO_KX_PUBLIC_MAX], size_t *pub_len);

/* The shared secret with the peer's public value (network input).
 * COAPS_E_MALFORMED when the peer value has the wrong length or format, is
 * not a point on the curve, or (X25519) gives the all-zero secret
 * (RFC 8422 5.11, RFC 7748 6.1): answer with illegal_parameter.
 * *secret_len is set to 32. The caller wipes secret after use. */
coaps_status crypto_kx_derive(const struct crypto_kx *kx, const uint8_t *peer, size_t peer_len,
                              uint8_t secret[CRYPTO_KX_SECRET_MAX], size_t *secret_len);

/* Free and wipe the key pair; safe on a cleared or failed context. */
void crypto_kx_clear(struct crypto_kx *kx);

/* ---- ECDSA over P-256 with SHA-256 (ecdsa_secp256r1_sha256, RFC 8422 5.4) - */

#define CRYPTO_P256_PRIVATE_LEN 32
#define CRYPTO_P256_PUBLIC_LEN 65 /* 0x04 || X || Y */
/* DER Ecdsa-Sig-Value: SEQUENCE { INTEGER r, INTEGER s }, each INTEGER at
 * most 33 bytes (a leading 0x00 when the top bit is set): 2 + 2 * (2 + 33). */
#define CRYPTO_ECDSA_SIG_MAX 72

struct crypto_sign_key {
    void *impl; /* backend key pair */
};

/* A fresh P-256 signing key (set-up path). */
coaps_status crypto_ecdsa_p256_generate(struct crypto_sign_key *k);
/* A P-256 signing key from its 32-byte big-endian private scalar; the public
 * point is computed. COAPS_E_INVALID for a scalar outside [1, n-1]. */
coaps_status crypto_ecdsa_p256_import(struct crypto_sign_key *k,
                                      const uint8_t priv[CRYPTO_P256_PRIVATE_LEN]);
/* The public point of k, uncompressed (65 bytes). */
coaps_status crypto_ecdsa_p256_public(const struct crypto_sign_key *k,
                                      uint8_t pub[CRYPTO_P256_PUBLIC_LEN]);
/* Sign a SHA-256 digest (e.g. of the ServerKeyExchange params, RFC 8422
 * 5.4, or a transcript hash peek): DER signature into sig, *sig_len its
 * length (<= CRYPTO_ECDSA_SIG_MAX). Randomized (not RFC 6979). */
coaps_status crypto_ecdsa_p256_sign(const struct crypto_sign_key *k, const uint8_t digest[32],
                                    uint8_t sig[CRYPTO_ECDSA_SIG_MAX], size_t *sig_len);
/* Verify a DER signature over a SHA-256 digest with an uncompressed public
 * point (network input). COAPS_OK when valid; COAPS_E_VERIFY when the
 * signature does not verify or is not strict DER; COAPS_E_MALFORMED when
 * the public point is not a valid P-256 point. */
coaps_status crypto_ecdsa_p256_verify(const uint8_t *pub, size_t pub_len, const uint8_t digest[32],
                                      const uint8_t *sig, size_t sig_len);
/* Free and wipe; safe on a cleared or failed key. */
void crypto_sign_key_clear(struct crypto_sign_key *k);

/* ---- randomness and comparisons ------------------------------------------ */

/* Fill out with len bytes from the system CSPRNG (randoms, cookie secrets). */
coaps_status crypto_random(void *out, size_t len);
/* true when equal; the time taken does not depend on where bytes differ. */
bool crypto_ct_equal(const void *a, const void *b, size_t len);
/* Wipe secrets in a way the compiler will not elide. */
void crypto_wipe(void *p, size_t len);

#endif /* COAPS_CRYPTO_H */
