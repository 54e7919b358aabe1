/*
 * crypto_prf.c - the TLS 1.2 PRF (RFC 5246 section 5), backend-neutral:
 * built only on crypto_hmac_key_*(), so every crypto backend shares it.
 *
 *   PRF(secret, label, seed) = P_<hash>(secret, label || seed)
 *   P_hash(secret, s) = HMAC(secret, A(1) || s) || HMAC(secret, A(2) || s) || ...
 *   A(0) = s, A(i) = HMAC(secret, A(i-1))
 *
 * label || seed is never concatenated into a buffer: the HMAC takes pieces.
 */
#include <string.h>

#include "common/try.h"
#include "crypto/crypto.h"

coaps_status crypto_tls12_prf_keyed(const struct crypto_hmac_key *key, const char *label,
                                    const uint8_t *seed, size_t seed_len, uint8_t *out,
                                    size_t out_len)
{
    ENSURE(key != NULL && label != NULL, COAPS_E_INVALID);
    size_t hlen = crypto_hash_len(key->alg);
    ENSURE(hlen != 0, COAPS_E_INVALID);
    ENSURE(seed != NULL || seed_len == 0, COAPS_E_INVALID);
    ENSURE(out != NULL || out_len == 0, COAPS_E_INVALID);

    size_t label_len = strlen(label);
    uint8_t a[CRYPTO_HASH_MAX];    /* A(i) */
    uint8_t block[CRYPTO_HASH_MAX]; /* one P_hash output block */

    /* A(1) = HMAC(secret, label || seed) */
    struct crypto_iov a0[2] = {{label, label_len}, {seed, seed_len}};
    coaps_status st = crypto_hmac_keyed(key, a0, 2, a);

    size_t done = 0;
    while (st == COAPS_OK && done < out_len) {
        struct crypto_iov parts[3] = {{a, hlen}, {label, label_len}, {seed, seed_len}};
        st = crypto_hmac_keyed(key, parts, 3, block);
        if (st != COAPS_OK)
            break;
        size_t n = out_len - done < hlen ? out_len - done : hlen;
        memcpy(out + done, block, n);
        done += n;
        if (done < out_len) { /* A(i+1) = HMAC(secret, A(i)) */
            struct crypto_iov ai = {a, hlen};
            st = crypto_hmac_keyed(key, &ai, 1, a);
        }
    }

    crypto_wipe(a, sizeof a);
    crypto_wipe(block, sizeof block);
    if (st != COAPS_OK)
        crypto_wipe(out, out_len);
    return st;
}

coaps_status crypto_tls12_prf(enum crypto_hash_alg alg, const uint8_t *secret, size_t secret_len,
                              const char *label, const uint8_t *seed, size_t seed_len,
                              uint8_t *out, size_t out_len)
{
    ENSURE(crypto_hash_len(alg) != 0 && label != NULL, COAPS_E_INVALID);
    ENSURE(secret != NULL || secret_len == 0, COAPS_E_INVALID);
    ENSURE(seed != NULL || seed_len == 0, COAPS_E_INVALID);
    ENSURE(out != NULL || out_len == 0, COAPS_E_INVALID);
    /* Every HMAC of one PRF is under the same secret: prepare it once. */
    struct crypto_hmac_key key;
    coaps_status st = crypto_hmac_key_init(&key, alg, secret, secret_len);
    if (st == COAPS_OK)
        st = crypto_tls12_prf_keyed(&key, label, seed, seed_len, out, out_len);
    else
        crypto_wipe(out, out_len);
    crypto_hmac_key_clear(&key);
    return st;
}
