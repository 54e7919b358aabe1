/*
 * crypto_openssl_hash.c - OpenSSL 3 backend of crypto.h: hashes, the running
 * transcript hash, HMAC, randomness, constant-time compare and wiping.
 *
 * Together with crypto_openssl_aead.c this is the only code that includes
 * libcrypto headers. Nothing here is on the per-record path: the running
 * hash and HMAC are used during the handshake only, so they may allocate.
 */
#include <limits.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "common/try.h"
#include "crypto/crypto.h"

static const EVP_MD *hash_md(enum crypto_hash_alg alg)
{
    switch (alg) {
    case CRYPTO_SHA256: return EVP_sha256();
    case CRYPTO_SHA384: return EVP_sha384();
    }
    return NULL;
}

/* The name OpenSSL's HMAC provider takes as its "digest" parameter. */
static const char *hash_name(enum crypto_hash_alg alg)
{
    switch (alg) {
    case CRYPTO_SHA256: return "SHA256";
    case CRYPTO_SHA384: return "SHA384";
    }
    return NULL;
}

size_t crypto_hash_len(enum crypto_hash_alg alg)
{
    switch (alg) {
    case CRYPTO_SHA256: return 32;
    case CRYPTO_SHA384: return 48;
    }
    return 0;
}

coaps_status crypto_hash_init(struct crypto_hash *h, enum crypto_hash_alg alg)
{
    ENSURE(h != NULL, COAPS_E_INVALID);
    h->impl = NULL;
    const EVP_MD *md = hash_md(alg);
    ENSURE(md != NULL, COAPS_E_INVALID);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    ENSURE(ctx != NULL, COAPS_E_NOMEM);
    if (EVP_DigestInit_ex(ctx, md, NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        return COAPS_E_CRYPTO;
    }
    h->impl = ctx;
    h->alg = alg;
    return COAPS_OK;
}

coaps_status crypto_hash_update(struct crypto_hash *h, const void *data, size_t len)
{
    ENSURE(h != NULL && h->impl != NULL, COAPS_E_INVALID);
    ENSURE(data != NULL || len == 0, COAPS_E_INVALID);
    if (len == 0)
        return COAPS_OK;
    ENSURE(EVP_DigestUpdate(h->impl, data, len) == 1, COAPS_E_CRYPTO);
    return COAPS_OK;
}

coaps_status crypto_hash_peek(const struct crypto_hash *h, uint8_t out[CRYPTO_HASH_MAX])
{
    ENSURE(h != NULL && h->impl != NULL && out != NULL, COAPS_E_INVALID);
    /* Finish a copy so the transcript keeps running (RFC 5246 7.4.9 hashes
     * "all handshake messages so far", then more messages follow). */
    EVP_MD_CTX *tmp = EVP_MD_CTX_new();
    ENSURE(tmp != NULL, COAPS_E_NOMEM);
    coaps_status st = COAPS_E_CRYPTO;
    unsigned int n = 0;
    if (EVP_MD_CTX_copy_ex(tmp, h->impl) == 1 && EVP_DigestFinal_ex(tmp, out, &n) == 1 &&
        n == crypto_hash_len(h->alg))
        st = COAPS_OK;
    EVP_MD_CTX_free(tmp);
    return st;
}

void crypto_hash_clear(struct crypto_hash *h)
{
    if (h == NULL)
        return;
    EVP_MD_CTX_free(h->impl); /* frees and cleanses the digest state */
    h->impl = NULL;
}

coaps_status crypto_hash(enum crypto_hash_alg alg, const void *data, size_t len,
                         uint8_t out[CRYPTO_HASH_MAX])
{
    const EVP_MD *md = hash_md(alg);
    ENSURE(md != NULL && out != NULL, COAPS_E_INVALID);
    ENSURE(data != NULL || len == 0, COAPS_E_INVALID);
    static const uint8_t empty[1] = {0};
    unsigned int n = 0;
    ENSURE(EVP_Digest(len ? data : empty, len, out, &n, md, NULL) == 1, COAPS_E_CRYPTO);
    ENSURE(n == crypto_hash_len(alg), COAPS_E_CRYPTO);
    return COAPS_OK;
}

coaps_status crypto_hmac_iov(enum crypto_hash_alg alg, const void *key, size_t key_len,
                             const struct crypto_iov *parts, size_t n_parts,
                             uint8_t out[CRYPTO_HASH_MAX])
{
    const char *name = hash_name(alg);
    ENSURE(name != NULL && out != NULL, COAPS_E_INVALID);
    ENSURE(key != NULL || key_len == 0, COAPS_E_INVALID);
    ENSURE(parts != NULL || n_parts == 0, COAPS_E_INVALID);
    /* HMAC accepts an empty key (RFC 2104 pads it with zeros), but OpenSSL
     * wants a non-NULL pointer for it. */
    static const uint8_t empty[1] = {0};
    const void *k = key_len ? key : empty;

    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    ENSURE(mac != NULL, COAPS_E_CRYPTO);
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac); /* the context holds its own reference */
    ENSURE(ctx != NULL, COAPS_E_NOMEM);

    OSSL_PARAM params[2];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)name, 0);
    params[1] = OSSL_PARAM_construct_end();

    coaps_status st = COAPS_E_CRYPTO;
    size_t n = 0;
    if (EVP_MAC_init(ctx, k, key_len, params) != 1)
        goto out;
    for (size_t i = 0; i < n_parts; i++) {
        if (parts[i].len == 0)
            continue;
        if (parts[i].p == NULL) {
            st = COAPS_E_INVALID;
            goto out;
        }
        if (EVP_MAC_update(ctx, parts[i].p, parts[i].len) != 1)
            goto out;
    }
    if (EVP_MAC_final(ctx, out, &n, CRYPTO_HASH_MAX) != 1 || n != crypto_hash_len(alg))
        goto out;
    st = COAPS_OK;
out:
    EVP_MAC_CTX_free(ctx);
    return st;
}

coaps_status crypto_hmac(enum crypto_hash_alg alg, const void *key, size_t key_len,
                         const void *data, size_t len, uint8_t out[CRYPTO_HASH_MAX])
{
    struct crypto_iov part = {data, len};
    return crypto_hmac_iov(alg, key, key_len, &part, 1, out);
}

coaps_status crypto_random(void *out, size_t len)
{
    ENSURE(out != NULL || len == 0, COAPS_E_INVALID);
    while (len > 0) {
        int n = len > INT_MAX ? INT_MAX : (int)len;
        ENSURE(RAND_bytes(out, n) == 1, COAPS_E_CRYPTO);
        out = (uint8_t *)out + n;
        len -= (size_t)n;
    }
    return COAPS_OK;
}

bool crypto_ct_equal(const void *a, const void *b, size_t len)
{
    if (len == 0)
        return true;
    return CRYPTO_memcmp(a, b, len) == 0;
}

void crypto_wipe(void *p, size_t len)
{
    if (p != NULL && len > 0)
        OPENSSL_cleanse(p, len);
}
