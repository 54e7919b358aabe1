/*
 * openssl/hash.c - OpenSSL 3 backend of crypto.h: hashes, the running
 * transcript hash, HMAC, randomness, constant-time compare and wiping.
 *
 * Nothing here is on the per-record path: the running
 * hash and HMAC are used during the handshake only, so they may allocate.
 */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/try.h"
#include "crypto/crypto_backend.h"

/* OpenSSL 3 looks a digest given as EVP_sha256() up by name again on every
 * init (provider store, locks, string compares: 4 % of a PSK handshake).
 * Each digest is fetched once per process instead ("explicit fetching",
 * OpenSSL 3 migration guide) and kept for the life of the process. */
static CRYPTO_ONCE md_once = CRYPTO_ONCE_STATIC_INIT;
static EVP_MD *md_sha256, *md_sha384;

static void md_fetch_all(void)
{
    md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    md_sha384 = EVP_MD_fetch(NULL, "SHA384", NULL);
}

static const EVP_MD *hash_md(enum crypto_hash_alg alg)
{
    (void)CRYPTO_THREAD_run_once(&md_once, md_fetch_all);
    switch (alg) { /* the implicit fetch if the explicit one failed */
    case CRYPTO_SHA256: return md_sha256 ? md_sha256 : EVP_sha256();
    case CRYPTO_SHA384: return md_sha384 ? md_sha384 : EVP_sha384();
    }
    return NULL;
}

/* Backend state of struct crypto_hash: libcrypto's digest context. */
struct hash_state {
    EVP_MD_CTX *ctx;
};
CRYPTO_STATE_FITS(struct hash_state, struct crypto_hash);

static EVP_MD_CTX *hash_ctx(const struct crypto_hash *h)
{
    return CRYPTO_CSTATE_OF(struct hash_state, h)->ctx;
}

coaps_status crypto_hash_init(struct crypto_hash *h, enum crypto_hash_alg alg)
{
    ENSURE(h != NULL, COAPS_E_INVALID);
    h->live = false;
    const EVP_MD *md = hash_md(alg);
    ENSURE(md != NULL, COAPS_E_INVALID);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    ENSURE(ctx != NULL, COAPS_E_NOMEM);
    if (EVP_DigestInit_ex(ctx, md, NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        return COAPS_E_CRYPTO;
    }
    CRYPTO_STATE_OF(struct hash_state, h)->ctx = ctx;
    h->alg = alg;
    h->live = true;
    return COAPS_OK;
}

coaps_status crypto_hash_update(struct crypto_hash *h, const void *data, size_t len)
{
    ENSURE(h != NULL && h->live, COAPS_E_INVALID);
    ENSURE(data != NULL || len == 0, COAPS_E_INVALID);
    if (len == 0)
        return COAPS_OK;
    ENSURE(EVP_DigestUpdate(hash_ctx(h), data, len) == 1, COAPS_E_CRYPTO);
    return COAPS_OK;
}

coaps_status crypto_hash_peek(const struct crypto_hash *h, uint8_t out[CRYPTO_HASH_MAX])
{
    ENSURE(h != NULL && h->live && out != NULL, COAPS_E_INVALID);
    /* Finish a copy so the transcript keeps running (RFC 5246 7.4.9 hashes
     * "all handshake messages so far", then more messages follow). */
    EVP_MD_CTX *tmp = EVP_MD_CTX_new();
    ENSURE(tmp != NULL, COAPS_E_NOMEM);
    coaps_status st = COAPS_E_CRYPTO;
    unsigned int n = 0;
    if (EVP_MD_CTX_copy_ex(tmp, hash_ctx(h)) == 1 && EVP_DigestFinal_ex(tmp, out, &n) == 1 &&
        n == crypto_hash_len(h->alg))
        st = COAPS_OK;
    EVP_MD_CTX_free(tmp);
    return st;
}

void crypto_hash_clear(struct crypto_hash *h)
{
    if (h == NULL || !h->live)
        return;
    EVP_MD_CTX_free(hash_ctx(h)); /* frees and cleanses the digest state */
    crypto_wipe(&h->st, sizeof h->st);
    h->live = false;
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

/* HMAC's block size B (RFC 2104 2): the hash's input block. */
#define HMAC_BLOCK_MAX 128 /* SHA-384's; SHA-256's is 64 */

static size_t hash_block_len(enum crypto_hash_alg alg)
{
    return alg == CRYPTO_SHA384 ? 128 : 64;
}

/* HMAC (RFC 2104 2) straight on the digest: H((K ^ opad) || H((K ^ ipad) ||
 * text)). Cheaper than OpenSSL 3's EVP_MAC, which fetches the MAC and the
 * digest by name and allocates four contexts per call (the handshake's PRF
 * makes dozens of calls). Backend state of struct crypto_hmac_key:
 * digest contexts that have absorbed K ^ ipad and K ^ opad, and one to work
 * in. */
struct hmac_key_impl {
    EVP_MD_CTX *inner, *outer, *work;
};
CRYPTO_STATE_FITS(struct hmac_key_impl, struct crypto_hmac_key);

static void hmac_key_impl_free(struct hmac_key_impl *im)
{
    EVP_MD_CTX_free(im->inner); /* frees and cleanses the digest states */
    EVP_MD_CTX_free(im->outer);
    EVP_MD_CTX_free(im->work);
    crypto_wipe(im, sizeof *im);
}

/* Absorb the padded key into inner and outer (outer starts as a copy of
 * the fresh inner context). */
static bool hmac_key_absorb(struct hmac_key_impl *im, const EVP_MD *md, const uint8_t *key,
                            size_t key_len, size_t block)
{
    uint8_t pad[HMAC_BLOCK_MAX];
    memset(pad, 0, block);
    memcpy(pad, key, key_len); /* key_len <= block: the caller hashed a longer key */
    for (size_t i = 0; i < block; i++)
        pad[i] ^= 0x36;
    bool ok = EVP_DigestInit_ex(im->inner, md, NULL) == 1 &&
              EVP_MD_CTX_copy_ex(im->outer, im->inner) == 1 &&
              EVP_DigestUpdate(im->inner, pad, block) == 1;
    for (size_t i = 0; i < block; i++)
        pad[i] ^= 0x36 ^ 0x5c;
    ok = ok && EVP_DigestUpdate(im->outer, pad, block) == 1;
    crypto_wipe(pad, block);
    return ok;
}

coaps_status crypto_hmac_key_init(struct crypto_hmac_key *k, enum crypto_hash_alg alg,
                                  const void *key, size_t key_len)
{
    ENSURE(k != NULL, COAPS_E_INVALID);
    k->live = false;
    const EVP_MD *md = hash_md(alg);
    ENSURE(md != NULL, COAPS_E_INVALID);
    ENSURE(key != NULL || key_len == 0, COAPS_E_INVALID);
    size_t block = hash_block_len(alg);
    uint8_t hashed_key[CRYPTO_HASH_MAX];
    if (key_len > block) {
        /* RFC 2104 2: a key longer than B is hashed first. */
        TRY(crypto_hash(alg, key, key_len, hashed_key));
        key = hashed_key;
        key_len = crypto_hash_len(alg);
    }
    struct hmac_key_impl *im = CRYPTO_STATE_OF(struct hmac_key_impl, k);
    memset(im, 0, sizeof *im);
    coaps_status st = COAPS_E_NOMEM;
    if ((im->inner = EVP_MD_CTX_new()) != NULL &&
        (im->outer = EVP_MD_CTX_new()) != NULL && (im->work = EVP_MD_CTX_new()) != NULL)
        st = hmac_key_absorb(im, md, key_len ? key : hashed_key, key_len, block)
                 ? COAPS_OK
                 : COAPS_E_CRYPTO;
    crypto_wipe(hashed_key, sizeof hashed_key);
    if (st != COAPS_OK) {
        hmac_key_impl_free(im);
        return st;
    }
    k->alg = alg;
    k->live = true;
    return COAPS_OK;
}

coaps_status crypto_hmac_keyed(const struct crypto_hmac_key *k, const struct crypto_iov *parts,
                               size_t n_parts, uint8_t out[CRYPTO_HASH_MAX])
{
    ENSURE(k != NULL && k->live && out != NULL, COAPS_E_INVALID);
    ENSURE(parts != NULL || n_parts == 0, COAPS_E_INVALID);
    for (size_t i = 0; i < n_parts; i++)
        ENSURE(parts[i].p != NULL || parts[i].len == 0, COAPS_E_INVALID);
    const struct hmac_key_impl *im = CRYPTO_CSTATE_OF(struct hmac_key_impl, k);
    uint8_t inner[CRYPTO_HASH_MAX];
    unsigned int n = 0, m = 0;
    /* H((K ^ opad) || H((K ^ ipad) || text)), RFC 2104 2, from the
     * prepared states: copying a context does not fetch the digest. */
    bool ok = EVP_MD_CTX_copy_ex(im->work, im->inner) == 1;
    for (size_t i = 0; ok && i < n_parts; i++)
        ok = parts[i].len == 0 || EVP_DigestUpdate(im->work, parts[i].p, parts[i].len) == 1;
    ok = ok && EVP_DigestFinal_ex(im->work, inner, &n) == 1 &&
         EVP_MD_CTX_copy_ex(im->work, im->outer) == 1 &&
         EVP_DigestUpdate(im->work, inner, n) == 1 &&
         EVP_DigestFinal_ex(im->work, out, &m) == 1 && m == crypto_hash_len(k->alg);
    crypto_wipe(inner, sizeof inner);
    return ok ? COAPS_OK : COAPS_E_CRYPTO;
}

void crypto_hmac_key_clear(struct crypto_hmac_key *k)
{
    if (k == NULL || !k->live)
        return;
    hmac_key_impl_free(CRYPTO_STATE_OF(struct hmac_key_impl, k));
    k->live = false;
}

/* RAND_bytes costs about a microsecond a call in OpenSSL 3 whatever the
 * length (DRBG lock, a getpid() system call for fork detection, cipher
 * set-up): 3 % of a PSK handshake, which wants 32 bytes. So each thread
 * draws RANDOM_POOL_BYTES at a time and hands them out; every byte handed
 * out is wiped from the pool. After fork() the child starts with an empty
 * pool (pthread_atfork), so parent and child never hand out the same bytes;
 * longer requests bypass the pool. */
#define RANDOM_POOL_BYTES 512

static _Thread_local struct {
    uint8_t buf[RANDOM_POOL_BYTES];
    size_t left; /* unused bytes, at the end of buf */
} random_pool;

static CRYPTO_ONCE random_once = CRYPTO_ONCE_STATIC_INIT;

static void random_pool_forget(void)
{
    OPENSSL_cleanse(random_pool.buf, sizeof random_pool.buf);
    random_pool.left = 0;
}

static void random_pool_setup(void)
{
    (void)pthread_atfork(NULL, NULL, random_pool_forget);
}

static coaps_status random_direct(void *out, size_t len)
{
    while (len > 0) {
        int n = len > INT_MAX ? INT_MAX : (int)len;
        ENSURE(RAND_bytes(out, n) == 1, COAPS_E_CRYPTO);
        out = (uint8_t *)out + n;
        len -= (size_t)n;
    }
    return COAPS_OK;
}

static coaps_status random_pooled(uint8_t *out, size_t len)
{
    ENSURE(CRYPTO_THREAD_run_once(&random_once, random_pool_setup) == 1, COAPS_E_CRYPTO);
    if (random_pool.left < len) {
        TRY(random_direct(random_pool.buf, sizeof random_pool.buf));
        random_pool.left = sizeof random_pool.buf;
    }
    uint8_t *from = random_pool.buf + sizeof random_pool.buf - random_pool.left;
    memcpy(out, from, len);
    OPENSSL_cleanse(from, len);
    random_pool.left -= len;
    return COAPS_OK;
}

coaps_status crypto_random(void *out, size_t len)
{
    ENSURE(out != NULL || len == 0, COAPS_E_INVALID);
    if (len == 0)
        return COAPS_OK;
    if (len <= RANDOM_POOL_BYTES / 8)
        return random_pooled(out, len);
    return random_direct(out, len);
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

const char *crypto_backend_name(void)
{
    return "openssl";
}
