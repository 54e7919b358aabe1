/*
 * openssl/hash.c - OpenSSL 3 backend of crypto.h: hashes, the running
 * transcript hash, HMAC, randomness, constant-time compare and wiping.
 *
 * Nothing here is on the per-record path: the running hash and HMAC are
 * used during the handshake only. The running hash lives in the caller's
 * memory; a prepared HMAC key allocates once, when it is prepared.
 */
/* The SHA2 functions below are deprecated in OpenSSL 3 (see sha_state);
 * this must come before the first OpenSSL header. */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "common/try.h"
#include "crypto/crypto_backend.h"

/* SHA-256 and SHA-384 through libcrypto's SHA2 functions on a context
 * held in our own memory, not through EVP: in OpenSSL 3 every EVP digest
 * call walks the provider layer (parameter lists, string compares) and
 * every EVP_MD_CTX_copy_ex frees, wipes and allocates the provider's
 * context. A PSK handshake makes 14 HMACs (28 restarts from a prepared
 * state) and 3 transcript peeks: through EVP they cost the server 26,000
 * of its 93,000 instructions per handshake outside SHA-256's compression
 * function, and 46 of its 52 allocations (callgrind, coaps-bench
 * handshakes --fleet); here only preparing a key allocates (below). The
 * SHA2 functions are deprecated in OpenSSL 3.0 but present in every 3.x
 * built with its default options (Debian's is); they run the same
 * assembly (SHA-NI, AVX2) as the provider. */

/* One running SHA-2 computation in caller memory. */
union sha_state {
    SHA256_CTX s256;
    SHA512_CTX s512; /* SHA-384 runs on the SHA-512 context */
};

static bool sha_init(union sha_state *s, enum crypto_hash_alg alg)
{
    switch (alg) {
    case CRYPTO_SHA256: return SHA256_Init(&s->s256) == 1;
    case CRYPTO_SHA384: return SHA384_Init(&s->s512) == 1;
    }
    return false;
}

static bool sha_update(union sha_state *s, enum crypto_hash_alg alg, const void *data,
                       size_t len)
{
    if (len == 0)
        return true;
    return alg == CRYPTO_SHA384 ? SHA384_Update(&s->s512, data, len) == 1
                                : SHA256_Update(&s->s256, data, len) == 1;
}

/* Ends s, leaving in it nothing the caller does not hold: SHA256_Final
 * wipes its input block itself, and what stays (the chaining value, now
 * the digest, and byte counts) is out. SHA-384 keeps 16 bytes of state
 * beyond its output, so that state is wiped here. The hot path (SHA-256
 * HMACs of the PRF and the cookie) thus wipes nothing twice. */
static bool sha_final(union sha_state *s, enum crypto_hash_alg alg,
                      uint8_t out[CRYPTO_HASH_MAX])
{
    if (alg != CRYPTO_SHA384)
        return SHA256_Final(out, &s->s256) == 1;
    bool ok = SHA384_Final(out, &s->s512) == 1;
    crypto_wipe(&s->s512, sizeof s->s512);
    return ok;
}

/* Copy only the context in use (SHA-256's is half the union). */
static void sha_copy(union sha_state *to, const union sha_state *from, enum crypto_hash_alg alg)
{
    if (alg == CRYPTO_SHA384)
        to->s512 = from->s512;
    else
        to->s256 = from->s256;
}

static bool hash_alg_ok(enum crypto_hash_alg alg)
{
    return alg == CRYPTO_SHA256 || alg == CRYPTO_SHA384;
}

/* Backend state of struct crypto_hash: the SHA-2 context itself. */
CRYPTO_STATE_FITS(union sha_state, struct crypto_hash);

coaps_status crypto_hash_init(struct crypto_hash *h, enum crypto_hash_alg alg)
{
    ENSURE(h != NULL, COAPS_E_INVALID);
    h->live = false;
    ENSURE(hash_alg_ok(alg), COAPS_E_INVALID);
    ENSURE(sha_init(CRYPTO_STATE_OF(union sha_state, h), alg), COAPS_E_CRYPTO);
    h->alg = alg;
    h->live = true;
    return COAPS_OK;
}

coaps_status crypto_hash_update(struct crypto_hash *h, const void *data, size_t len)
{
    ENSURE(h != NULL && h->live, COAPS_E_INVALID);
    ENSURE(data != NULL || len == 0, COAPS_E_INVALID);
    ENSURE(sha_update(CRYPTO_STATE_OF(union sha_state, h), h->alg, data, len), COAPS_E_CRYPTO);
    return COAPS_OK;
}

coaps_status crypto_hash_peek(const struct crypto_hash *h, uint8_t out[CRYPTO_HASH_MAX])
{
    ENSURE(h != NULL && h->live && out != NULL, COAPS_E_INVALID);
    /* Finish a copy so the transcript keeps running (RFC 5246 7.4.9 hashes
     * "all handshake messages so far", then more messages follow). */
    union sha_state tmp;
    sha_copy(&tmp, CRYPTO_CSTATE_OF(union sha_state, h), h->alg);
    return sha_final(&tmp, h->alg, out) ? COAPS_OK : COAPS_E_CRYPTO;
}

void crypto_hash_clear(struct crypto_hash *h)
{
    if (h == NULL || !h->live)
        return;
    crypto_wipe(&h->st, sizeof h->st);
    h->live = false;
}

coaps_status crypto_hash(enum crypto_hash_alg alg, const void *data, size_t len,
                         uint8_t out[CRYPTO_HASH_MAX])
{
    ENSURE(hash_alg_ok(alg) && out != NULL, COAPS_E_INVALID);
    ENSURE(data != NULL || len == 0, COAPS_E_INVALID);
    union sha_state s;
    bool ok = sha_init(&s, alg) && sha_update(&s, alg, data, len) && sha_final(&s, alg, out);
    if (!ok) /* a state left unfinished may hold input */
        crypto_wipe(&s, sizeof s);
    return ok ? COAPS_OK : COAPS_E_CRYPTO;
}

/* HMAC's block size B (RFC 2104 2): the hash's input block. */
#define HMAC_BLOCK_MAX 128 /* SHA-384's; SHA-256's is 64 */

static size_t hash_block_len(enum crypto_hash_alg alg)
{
    return alg == CRYPTO_SHA384 ? 128 : 64;
}

/* HMAC (RFC 2104 2) straight on the hash: H((K ^ opad) || H((K ^ ipad) ||
 * text)), from SHA-2 states that have absorbed K ^ ipad and K ^ opad: a
 * MAC copies them (no allocation, no provider call) and hashes only the
 * text and the inner digest. The two states (432 bytes for SHA-384) would
 * not fit the 2 KiB handshake context that holds the master secret's key,
 * so they live in one block allocated when the key is prepared (twice per
 * full handshake: the premaster and the master secret) and freed, wiped,
 * at clear. Backend state of struct crypto_hmac_key: that block. */
struct hmac_pads {
    union sha_state inner, outer;
};

struct hmac_key_impl {
    struct hmac_pads *pads;
};
CRYPTO_STATE_FITS(struct hmac_key_impl, struct crypto_hmac_key);

/* Absorb the padded key into fresh inner and outer states. */
static bool hmac_key_absorb(struct hmac_pads *p, enum crypto_hash_alg alg, const uint8_t *key,
                            size_t key_len, size_t block)
{
    uint8_t pad[HMAC_BLOCK_MAX];
    memset(pad, 0, block);
    if (key_len > 0)
        memcpy(pad, key, key_len); /* key_len <= block: the caller hashed a longer key */
    for (size_t i = 0; i < block; i++)
        pad[i] ^= 0x36;
    bool ok = sha_init(&p->inner, alg) && sha_update(&p->inner, alg, pad, block);
    for (size_t i = 0; i < block; i++)
        pad[i] ^= 0x36 ^ 0x5c;
    ok = ok && sha_init(&p->outer, alg) && sha_update(&p->outer, alg, pad, block);
    crypto_wipe(pad, block);
    return ok;
}

coaps_status crypto_hmac_key_init(struct crypto_hmac_key *k, enum crypto_hash_alg alg,
                                  const void *key, size_t key_len)
{
    ENSURE(k != NULL, COAPS_E_INVALID);
    k->live = false;
    ENSURE(hash_alg_ok(alg), COAPS_E_INVALID);
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
    im->pads = OPENSSL_malloc(sizeof *im->pads);
    coaps_status st = COAPS_E_NOMEM;
    if (im->pads != NULL)
        st = hmac_key_absorb(im->pads, alg, key, key_len, block) ? COAPS_OK : COAPS_E_CRYPTO;
    crypto_wipe(hashed_key, sizeof hashed_key);
    if (st != COAPS_OK) {
        OPENSSL_clear_free(im->pads, sizeof *im->pads);
        im->pads = NULL;
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
    const struct hmac_pads *p = CRYPTO_CSTATE_OF(struct hmac_key_impl, k)->pads;
    enum crypto_hash_alg alg = k->alg;
    size_t hlen = crypto_hash_len(alg);
    uint8_t inner[CRYPTO_HASH_MAX];
    /* H((K ^ opad) || H((K ^ ipad) || text)), RFC 2104 2. */
    union sha_state w;
    sha_copy(&w, &p->inner, alg);
    bool ok = true;
    for (size_t i = 0; ok && i < n_parts; i++)
        ok = sha_update(&w, alg, parts[i].p, parts[i].len);
    ok = ok && sha_final(&w, alg, inner);
    if (ok) {
        sha_copy(&w, &p->outer, alg);
        ok = sha_update(&w, alg, inner, hlen) && sha_final(&w, alg, out);
    }
    /* Finished states hold only digests (sha_final); the inner digest is
     * wiped here, w only when a failure left it unfinished. */
    crypto_wipe(inner, hlen);
    if (!ok)
        crypto_wipe(&w, sizeof w);
    return ok ? COAPS_OK : COAPS_E_CRYPTO;
}

void crypto_hmac_key_clear(struct crypto_hmac_key *k)
{
    if (k == NULL || !k->live)
        return;
    struct hmac_key_impl *im = CRYPTO_STATE_OF(struct hmac_key_impl, k);
    OPENSSL_clear_free(im->pads, sizeof *im->pads); /* wipes the prepared states */
    crypto_wipe(im, sizeof *im);
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
