/*
 * crypto.h - the narrow interface between the protocol code and the crypto
 * primitives. The protocol (src/dtls) calls only what is declared here; the
 * OpenSSL backend (crypto_openssl*.c) is the only code that includes
 * libcrypto headers. A second backend (e.g. PSA/Mbed TLS for
 * microcontrollers) implements the same functions.
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

coaps_status crypto_hash_init(struct crypto_hash *h, enum crypto_hash_alg alg);
coaps_status crypto_hash_update(struct crypto_hash *h, const void *data, size_t len);
/* The digest of everything so far, without ending the running hash. */
coaps_status crypto_hash_peek(const struct crypto_hash *h, uint8_t out[CRYPTO_HASH_MAX]);
void crypto_hash_clear(struct crypto_hash *h);

/* One-shot hash and HMAC. */
coaps_status crypto_hash(enum crypto_hash_alg alg, const void *data, size_t len,
                         uint8_t out[CRYPTO_HASH_MAX]);
coaps_status crypto_hmac(enum crypto_hash_alg alg, const void *key, size_t key_len,
                         const void *data, size_t len, uint8_t out[CRYPTO_HASH_MAX]);

/* TLS 1.2 PRF (RFC 5246 section 5): P_hash(secret, label || seed). */
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

coaps_status crypto_aead_init(struct crypto_aead *a, enum crypto_aead_alg alg,
                              const uint8_t *key, size_t key_len);
/* out receives len bytes of ciphertext followed by the tag; out may equal in
 * (in-place). */
coaps_status crypto_aead_seal(struct crypto_aead *a, const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN],
                              const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
                              uint8_t *out);
/* in holds len bytes of ciphertext followed by the tag (len excludes the tag);
 * out receives len bytes of plaintext and may equal in. COAPS_E_AUTH when the
 * tag does not verify (out is then wiped). */
coaps_status crypto_aead_open(struct crypto_aead *a, const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN],
                              const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
                              uint8_t *out);
void crypto_aead_clear(struct crypto_aead *a);

/* ---- randomness and comparisons ------------------------------------------ */

coaps_status crypto_random(void *out, size_t len);
/* true when equal; the time taken does not depend on where bytes differ. */
bool crypto_ct_equal(const void *a, const void *b, size_t len);
/* Wipe secrets in a way the compiler will not elide. */
void crypto_wipe(void *p, size_t len);

#endif /* COAPS_CRYPTO_H */
