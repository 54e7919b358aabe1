/*
 * openssl/aead.c - OpenSSL 3 backend of the AEAD part of crypto.h.
 *
 * One cipher context per struct crypto_aead (its pointer in the caller's
 * context, the object in libcrypto), created and keyed once in
 * crypto_aead_init (the AES key schedule happens there, CCM's nonce and tag
 * lengths are fixed there). Every seal/open then only sets the nonce and
 * runs: no allocation per record.
 *
 * The record path calls the provider's cipher functions (provider-cipher(7):
 * newctx, encrypt_init, update, final, get/set_ctx_params) directly, from
 * the dispatch table of the implementation EVP_CIPHER_fetch found, instead
 * of going through EVP_CIPHER_CTX. The cipher is the same OpenSSL code
 * (AES-NI, the same CCM, GCM and ChaCha20-Poly1305); what is skipped is
 * OpenSSL 3.0's EVP layer, which on every nonce set asks the provider for
 * the IV length through a parameter round trip and translates every ctrl
 * into parameters: about 4,000 instructions per CoAP request, the record
 * pair's, against 1,500 for the cipher itself (callgrind, bench/README.md
 * "Fleet shape").
 *
 * A context may seal and open, but OpenSSL binds the direction at keying
 * time (its AES-NI CCM code picks an encrypt- or decrypt-specific stream
 * function there), so the backend keeps the key and re-keys when the
 * direction changes. DTLS uses every context in one direction only (one per
 * direction and epoch), so that re-keying never happens on the record path.
 *
 * Cold contexts (crypto_aead_cool): the cipher context is the bulk of a
 * session's memory (about 0.5 KiB of libcrypto heap for AES-CCM, more for
 * GCM), and the key copy that re-keying needs is already in the caller's
 * context. An idle session therefore frees the provider's object and keeps
 * the key; the next seal or open makes and keys a new one (ctx == NULL
 * means cold), paying once what crypto_aead_init costs.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>

#include "common/try.h"
#include "crypto/crypto_backend.h"

/* Largest input we hand to OpenSSL, whose lengths are int. Records are at
 * most 2^14 + 2048 bytes (RFC 5246 6.2.3), far below this. */
#define AEAD_MAX_INPUT ((size_t)INT_MAX - CRYPTO_AEAD_TAG_MAX)

/* One AEAD's implementation: the provider's functions, found once per
 * process. */
struct aead_ops {
    EVP_CIPHER *cipher; /* the fetch, held: keeps the provider loaded */
    void *provctx;
    OSSL_FUNC_cipher_newctx_fn *newctx;
    OSSL_FUNC_cipher_freectx_fn *freectx;
    OSSL_FUNC_cipher_encrypt_init_fn *einit;
    OSSL_FUNC_cipher_decrypt_init_fn *dinit;
    OSSL_FUNC_cipher_update_fn *update;
    OSSL_FUNC_cipher_final_fn *final;
    OSSL_FUNC_cipher_get_ctx_params_fn *get_ctx_params;
    OSSL_FUNC_cipher_set_ctx_params_fn *set_ctx_params;
};

/* OpenSSL's names, indexed by enum crypto_aead_alg. */
static const char *const aead_names[] = {
    [CRYPTO_AES_128_CCM_8] = "AES-128-CCM",
    [CRYPTO_AES_128_CCM] = "AES-128-CCM",
    [CRYPTO_AES_128_GCM] = "AES-128-GCM",
    [CRYPTO_AES_256_GCM] = "AES-256-GCM",
    [CRYPTO_CHACHA20_POLY1305] = "ChaCha20-Poly1305",
};
#define AEAD_ALGS (sizeof aead_names / sizeof aead_names[0])

static CRYPTO_ONCE ops_once = CRYPTO_ONCE_STATIC_INIT;
static struct aead_ops aead_ops_table[AEAD_ALGS];

/* true when the ':'-separated list names has name in it. */
static bool names_have(const char *names, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = names; p != NULL && *p != '\0';) {
        const char *colon = strchr(p, ':');
        size_t len = colon != NULL ? (size_t)(colon - p) : strlen(p);
        if (len == n && strncasecmp(p, name, n) == 0)
            return true;
        p = colon != NULL ? colon + 1 : NULL;
    }
    return false;
}

/* Copy the functions this file calls from a dispatch table; false when
 * one is missing. */
static bool ops_take(struct aead_ops *o, const OSSL_DISPATCH *d)
{
    for (; d->function_id != 0; d++) {
        switch (d->function_id) {
        case OSSL_FUNC_CIPHER_NEWCTX: o->newctx = OSSL_FUNC_cipher_newctx(d); break;
        case OSSL_FUNC_CIPHER_FREECTX: o->freectx = OSSL_FUNC_cipher_freectx(d); break;
        case OSSL_FUNC_CIPHER_ENCRYPT_INIT: o->einit = OSSL_FUNC_cipher_encrypt_init(d); break;
        case OSSL_FUNC_CIPHER_DECRYPT_INIT: o->dinit = OSSL_FUNC_cipher_decrypt_init(d); break;
        case OSSL_FUNC_CIPHER_UPDATE: o->update = OSSL_FUNC_cipher_update(d); break;
        case OSSL_FUNC_CIPHER_FINAL: o->final = OSSL_FUNC_cipher_final(d); break;
        case OSSL_FUNC_CIPHER_GET_CTX_PARAMS:
            o->get_ctx_params = OSSL_FUNC_cipher_get_ctx_params(d);
            break;
        case OSSL_FUNC_CIPHER_SET_CTX_PARAMS:
            o->set_ctx_params = OSSL_FUNC_cipher_set_ctx_params(d);
            break;
        default: break;
        }
    }
    return o->newctx && o->freectx && o->einit && o->dinit && o->update && o->final &&
           o->get_ctx_params && o->set_ctx_params;
}

/* Fetch name and find, in the provider that implements it, the dispatch
 * table of that implementation. */
static bool ops_find(struct aead_ops *o, const char *name)
{
    EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, name, NULL);
    if (cipher == NULL)
        return false;
    const OSSL_PROVIDER *prov = EVP_CIPHER_get0_provider(cipher);
    int no_store = 0;
    const OSSL_ALGORITHM *algs =
        prov != NULL ? OSSL_PROVIDER_query_operation(prov, OSSL_OP_CIPHER, &no_store) : NULL;
    bool ok = false;
    for (const OSSL_ALGORITHM *a = algs; a != NULL && a->algorithm_names != NULL; a++) {
        if (names_have(a->algorithm_names, EVP_CIPHER_get0_name(cipher))) {
            ok = ops_take(o, a->implementation);
            break;
        }
    }
    if (algs != NULL)
        OSSL_PROVIDER_unquery_operation(prov, OSSL_OP_CIPHER, algs);
    o->provctx = ok ? OSSL_PROVIDER_get0_provider_ctx(prov) : NULL;
    if (!ok) {
        EVP_CIPHER_free(cipher);
        memset(o, 0, sizeof *o);
        ERR_clear_error();
        return false;
    }
    o->cipher = cipher;
    return true;
}

static void ops_find_all(void)
{
    for (size_t i = 0; i < AEAD_ALGS; i++) {
        if (i == CRYPTO_AES_128_CCM) { /* the same cipher as CCM_8 */
            aead_ops_table[i] = aead_ops_table[CRYPTO_AES_128_CCM_8];
            continue;
        }
        (void)ops_find(&aead_ops_table[i], aead_names[i]);
    }
}

/* The implementation of alg, or NULL when the library has none. */
static const struct aead_ops *aead_ops(enum crypto_aead_alg alg)
{
    if ((size_t)alg >= AEAD_ALGS)
        return NULL;
    (void)CRYPTO_THREAD_run_once(&ops_once, ops_find_all);
    const struct aead_ops *o = &aead_ops_table[alg];
    return o->newctx != NULL ? o : NULL;
}

static bool aead_is_ccm(enum crypto_aead_alg alg)
{
    return alg == CRYPTO_AES_128_CCM_8 || alg == CRYPTO_AES_128_CCM;
}

bool crypto_aead_available(enum crypto_aead_alg alg)
{
    return aead_ops(alg) != NULL;
}

/* Backend state of struct crypto_aead. */
struct aead_impl {
    const struct aead_ops *ops;
    void *ctx;      /* the provider's cipher context; NULL when cold */
    int8_t dir;     /* 1 = keyed for sealing, 0 = for opening, -1 = neither */
    uint8_t key_len; /* at most CRYPTO_AEAD_KEY_MAX */
    uint8_t key[CRYPTO_AEAD_KEY_MAX];
};
CRYPTO_STATE_FITS(struct aead_impl, struct crypto_aead);

/* Key (or re-key) the context for direction enc; a no-op when it already
 * is. Never allocates. */
static bool aead_set_dir(struct aead_impl *im, int enc)
{
    if (im->dir == enc)
        return true;
    const struct aead_ops *o = im->ops;
    int ok = enc ? o->einit(im->ctx, im->key, im->key_len, NULL, 0, NULL)
                 : o->dinit(im->ctx, im->key, im->key_len, NULL, 0, NULL);
    if (ok != 1)
        return false;
    im->dir = (int8_t)enc;
    return true;
}

/* Free the provider's object (it cleanses the key schedule). */
static void aead_ctx_free(struct aead_impl *im)
{
    if (im->ctx != NULL)
        im->ops->freectx(im->ctx);
    im->ctx = NULL;
    im->dir = -1;
}

/* Make im's provider object and key it from im->key for sealing: at
 * keying time, and when a cold context is used again. On failure im->ctx
 * is NULL and the key stays. */
static coaps_status aead_ctx_make(struct aead_impl *im, enum crypto_aead_alg alg)
{
    const struct aead_ops *o = im->ops;
    im->ctx = o->newctx(o->provctx);
    ENSURE(im->ctx != NULL, COAPS_E_NOMEM);
    im->dir = -1;
    size_t nonce_len = CRYPTO_AEAD_NONCE_LEN;
    OSSL_PARAM params[3];
    size_t k = 0;
    params[k++] = OSSL_PARAM_construct_size_t(OSSL_CIPHER_PARAM_AEAD_IVLEN, &nonce_len);
    /* CCM binds the tag length M into its first block, so it is a
     * parameter of the context, set before the key (RFC 3610 2.2): a tag
     * parameter without data sets the length. */
    if (aead_is_ccm(alg))
        params[k++] = OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, NULL,
                                                        crypto_aead_tag_len(alg));
    params[k] = OSSL_PARAM_construct_end();
    if (o->set_ctx_params(im->ctx, params) != 1 || !aead_set_dir(im, 1)) {
        aead_ctx_free(im);
        ERR_clear_error();
        return COAPS_E_CRYPTO;
    }
    return COAPS_OK;
}

/* A cold context gets its provider object back before a record (see the
 * top). */
static coaps_status aead_warm(struct crypto_aead *a, struct aead_impl *im)
{
    if (im->ctx != NULL)
        return COAPS_OK;
    return aead_ctx_make(im, a->alg);
}

coaps_status crypto_aead_init(struct crypto_aead *a, enum crypto_aead_alg alg,
                              const uint8_t *key, size_t key_len)
{
    ENSURE(a != NULL, COAPS_E_INVALID);
    a->live = false;
    const struct aead_ops *ops = aead_ops(alg);
    ENSURE(ops != NULL && key != NULL, COAPS_E_INVALID);
    ENSURE(key_len == crypto_aead_key_len(alg), COAPS_E_INVALID);

    struct aead_impl *im = CRYPTO_STATE_OF(struct aead_impl, a);
    memset(im, 0, sizeof *im);
    im->ops = ops;
    memcpy(im->key, key, key_len);
    im->key_len = (uint8_t)key_len;
    coaps_status st = aead_ctx_make(im, alg);
    if (st != COAPS_OK) {
        crypto_wipe(im, sizeof *im);
        return st;
    }
    a->alg = alg;
    a->live = true;
    return COAPS_OK;
}

bool crypto_aead_cool(struct crypto_aead *a)
{
    if (a == NULL || !a->live)
        return false;
    struct aead_impl *im = CRYPTO_STATE_OF(struct aead_impl, a);
    if (im->ctx == NULL)
        return false;
    aead_ctx_free(im);
    return true;
}

/* The provider's update: len bytes from in (NULL: CCM's length-only call)
 * to out (NULL: additional data). */
static bool aead_update(const struct aead_impl *im, uint8_t *out, const uint8_t *in, size_t len)
{
    size_t n = 0;
    return im->ops->update(im->ctx, out, &n, len, in, len) == 1 && (out == NULL || n == len);
}

/* What follows the nonce: CCM's message length first (it is encoded in
 * the first block B_0, before the additional data: RFC 3610 2.2), the
 * additional data, then the payload, which CCM needs even when empty: it
 * computes (or, opening, checks) the tag there. */
static bool aead_feed(const struct aead_impl *im, bool ccm, const uint8_t *aad, size_t aad_len,
                      const uint8_t *in, size_t len, uint8_t *out)
{
    static const uint8_t none[1] = {0};
    if (ccm && !aead_update(im, NULL, NULL, len))
        return false;
    if (aad_len > 0 && !aead_update(im, NULL, aad, aad_len))
        return false;
    return !(len > 0 || ccm) || aead_update(im, out, len ? in : none, len);
}

/* The encryption proper; false when anything fails. */
static bool aead_seal_run(struct crypto_aead *a, const uint8_t *nonce, const uint8_t *aad,
                          size_t aad_len, const uint8_t *in, size_t len, uint8_t *out)
{
    struct aead_impl *im = CRYPTO_STATE_OF(struct aead_impl, a);
    const struct aead_ops *o = im->ops;
    bool ccm = aead_is_ccm(a->alg);
    if (!aead_set_dir(im, 1) ||
        o->einit(im->ctx, NULL, 0, nonce, CRYPTO_AEAD_NONCE_LEN, NULL) != 1 ||
        !aead_feed(im, ccm, aad, aad_len, in, len, out))
        return false;
    size_t n = 0;
    if (!ccm && (o->final(im->ctx, out + len, &n, 0) != 1 || n != 0))
        return false; /* GCM, ChaCha20: the tag is computed here */
    OSSL_PARAM params[2];
    params[0] = OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, out + len,
                                                  crypto_aead_tag_len(a->alg));
    params[1] = OSSL_PARAM_construct_end();
    return o->get_ctx_params(im->ctx, params) == 1;
}

coaps_status crypto_aead_seal(struct crypto_aead *a, const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN],
                              const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
                              uint8_t *out)
{
    ENSURE(a != NULL && a->live && nonce != NULL && out != NULL, COAPS_E_INVALID);
    ENSURE(aad != NULL || aad_len == 0, COAPS_E_INVALID);
    ENSURE(in != NULL || len == 0, COAPS_E_INVALID);
    ENSURE(len <= AEAD_MAX_INPUT && aad_len <= AEAD_MAX_INPUT, COAPS_E_INVALID);
    TRY(aead_warm(a, CRYPTO_STATE_OF(struct aead_impl, a)));
    if (!aead_seal_run(a, nonce, aad, aad_len, in, len, out)) {
        ERR_clear_error();
        return COAPS_E_CRYPTO;
    }
    return COAPS_OK;
}

/* The decryption proper; false when anything, including the tag, fails. */
static bool aead_open_run(struct crypto_aead *a, const uint8_t *nonce, const uint8_t *aad,
                          size_t aad_len, const uint8_t *in, size_t len, uint8_t *out)
{
    struct aead_impl *im = CRYPTO_STATE_OF(struct aead_impl, a);
    const struct aead_ops *o = im->ops;
    bool ccm = aead_is_ccm(a->alg);
    /* The provider copies the expected tag into its context, so an
     * in-place open (out == in) may overwrite the ciphertext but never the
     * tag. It goes in with the nonce: one call instead of two. */
    uint8_t *tag = (uint8_t *)(uintptr_t)(in + len);
    OSSL_PARAM params[2];
    params[0] = OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag,
                                                  crypto_aead_tag_len(a->alg));
    params[1] = OSSL_PARAM_construct_end();
    if (!aead_set_dir(im, 0) ||
        o->dinit(im->ctx, NULL, 0, nonce, CRYPTO_AEAD_NONCE_LEN, params) != 1 ||
        !aead_feed(im, ccm, aad, aad_len, in, len, out)) /* CCM: fails on a bad tag */
        return false;
    if (ccm) /* CCM has no final step on decryption. */
        return true;
    size_t n = 0;
    return o->final(im->ctx, out + len, &n, 0) == 1; /* GCM, ChaCha20: tag check */
}

coaps_status crypto_aead_open(struct crypto_aead *a, const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN],
                              const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
                              uint8_t *out)
{
    ENSURE(a != NULL && a->live && nonce != NULL && in != NULL, COAPS_E_INVALID);
    ENSURE(out != NULL || len == 0, COAPS_E_INVALID);
    ENSURE(aad != NULL || aad_len == 0, COAPS_E_INVALID);
    ENSURE(len <= AEAD_MAX_INPUT && aad_len <= AEAD_MAX_INPUT, COAPS_E_INVALID);
    /* a cold context that cannot be warmed is not a forgery: not COAPS_E_AUTH */
    TRY(aead_warm(a, CRYPTO_STATE_OF(struct aead_impl, a)));
    uint8_t sink[1]; /* the provider wants an output pointer even for 0 bytes */
    if (!aead_open_run(a, nonce, aad, aad_len, in, len, out != NULL ? out : sink)) {
        /* Never release unauthenticated plaintext (RFC 5116 2.2). The tag
         * check cannot be told apart from other failures here, and on a
         * working library only a bad tag fails. */
        crypto_wipe(out, len);
        /* A forged record is normal network input: leave nothing in this
         * thread's OpenSSL error queue for unrelated code to trip over. */
        ERR_clear_error();
        return COAPS_E_AUTH;
    }
    return COAPS_OK;
}

void crypto_aead_clear(struct crypto_aead *a)
{
    if (a == NULL || !a->live)
        return;
    struct aead_impl *im = CRYPTO_STATE_OF(struct aead_impl, a);
    aead_ctx_free(im);
    crypto_wipe(im, sizeof *im);
    a->live = false;
}

coaps_status crypto_aead_export_key(const struct crypto_aead *a, uint8_t key[CRYPTO_AEAD_KEY_MAX],
                                    size_t *key_len)
{
    ENSURE(a != NULL && key != NULL && key_len != NULL, COAPS_E_INVALID);
    ENSURE(a->live, COAPS_E_STATE);
    /* the copy aead_set_dir keys from (see the top of this file) */
    const struct aead_impl *im = CRYPTO_CSTATE_OF(struct aead_impl, a);
    memcpy(key, im->key, im->key_len);
    *key_len = im->key_len;
    return COAPS_OK;
}
