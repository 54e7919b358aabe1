/*
 * crypto_lengths.c - the sizes that the algorithms fix, whatever backend
 * computes them, and the one-off HMAC built on a prepared key.
 */
#include "common/try.h"
#include "crypto/crypto.h"

size_t crypto_hash_len(enum crypto_hash_alg alg)
{
    switch (alg) {
    case CRYPTO_SHA256: return 32;
    case CRYPTO_SHA384: return 48;
    }
    return 0;
}

size_t crypto_aead_key_len(enum crypto_aead_alg alg)
{
    switch (alg) {
    case CRYPTO_AES_128_CCM_8:
    case CRYPTO_AES_128_CCM:
    case CRYPTO_AES_128_GCM: return 16;
    case CRYPTO_AES_256_GCM:
    case CRYPTO_CHACHA20_POLY1305: return 32;
    }
    return 0;
}

size_t crypto_aead_tag_len(enum crypto_aead_alg alg)
{
    switch (alg) {
    case CRYPTO_AES_128_CCM_8: return 8; /* RFC 6655 3 */
    case CRYPTO_AES_128_CCM:
    case CRYPTO_AES_128_GCM:
    case CRYPTO_AES_256_GCM:
    case CRYPTO_CHACHA20_POLY1305: return 16;
    }
    return 0;
}

size_t crypto_kx_public_len(enum crypto_kx_group group)
{
    switch (group) {
    case CRYPTO_KX_P256: return 65; /* 0x04 || X || Y, RFC 8422 5.4.1 */
    case CRYPTO_KX_X25519: return 32; /* RFC 7748 6.1 */
    }
    return 0;
}

/* A one-off HMAC is a prepared key used once: one HMAC path per backend. */
coaps_status crypto_hmac_iov(enum crypto_hash_alg alg, const void *key, size_t key_len,
                             const struct crypto_iov *parts, size_t n_parts,
                             uint8_t out[CRYPTO_HASH_MAX])
{
    struct crypto_hmac_key k = {.live = false};
    coaps_status st = crypto_hmac_key_init(&k, alg, key, key_len);
    if (st == COAPS_OK)
        st = crypto_hmac_keyed(&k, parts, n_parts, out);
    crypto_hmac_key_clear(&k);
    return st;
}

coaps_status crypto_hmac(enum crypto_hash_alg alg, const void *key, size_t key_len,
                         const void *data, size_t len, uint8_t out[CRYPTO_HASH_MAX])
{
    struct crypto_iov part = {data, len};
    return crypto_hmac_iov(alg, key, key_len, &part, 1, out);
}
