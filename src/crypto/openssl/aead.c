/*
 * openssl/aead.c - OpenSSL 3 backend of the AEAD part of crypto.h.
 *
 * One EVP_CIPHER_CTX per struct crypto_aead (its pointer in the caller's
 * context, the object in libcrypto), created and keyed once in
 * crypto_aead_init (the AES key schedule happens there, CCM's nonce and tag
 * lengths are fixed there). Every seal/open then only sets the nonce and
 * runs: no allocation per record.
 *
 * A context may seal and open, but OpenSSL binds the direction at keying
 * time (its AES-NI CCM code picks an encrypt- or decrypt-specific stream
 * function there), so the backend keeps the key and re-keys when the
 * direction changes. DTLS uses every context in one direction only (one per
 * direction and epoch), so that re-keying never happens on the record path.
 *
 * Cold contexts (crypto_aead_cool): the EVP_CIPHER_CTX is the bulk of a
 * session's memory (about 0.6 KiB of libcrypto heap for AES-CCM, more for
 * GCM), and the key copy that re-keying needs is already in the caller's
 * context. An idle session therefore frees the EVP object and keeps the
 * key; the next seal or open makes and keys a new one (ctx == NULL means
 * cold), paying once what crypto_aead_init costs.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "common/try.h"
#include "crypto/crypto_backend.h"

/* Largest input we hand to OpenSSL, whose lengths are int. Records are at
 * most 2^14 + 2048 bytes (RFC 5246 6.2.3), far below this. */
#define AEAD_MAX_INPUT ((size_t)INT_MAX - CRYPTO_AEAD_TAG_MAX)

/* Ciphers fetched once per process and kept (see hash_md in
 * openssl/hash.c: EVP_aes_128_ccm() would be looked up by name on
 * every session's keying). */
static CRYPTO_ONCE cipher_once = CRYPTO_ONCE_STATIC_INIT;
static EVP_CIPHER *cipher_ccm128, *cipher_gcm128, *cipher_gcm256, *cipher_chacha;

static void cipher_fetch_all(void)
{
    cipher_ccm128 = EVP_CIPHER_fetch(NULL, "AES-128-CCM", NULL);
    cipher_gcm128 = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
    cipher_gcm256 = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    cipher_chacha = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
}

static const EVP_CIPHER *aead_cipher(enum crypto_aead_alg alg)
{
    (void)CRYPTO_THREAD_run_once(&cipher_once, cipher_fetch_all);
    switch (alg) { /* the implicit fetch if the explicit one failed */
    case CRYPTO_AES_128_CCM_8:
    case CRYPTO_AES_128_CCM: return cipher_ccm128 ? cipher_ccm128 : EVP_aes_128_ccm();
    case CRYPTO_AES_128_GCM: return cipher_gcm128 ? cipher_gcm128 : EVP_aes_128_gcm();
    case CRYPTO_AES_256_GCM: return cipher_gcm256 ? cipher_gcm256 : EVP_aes_256_gcm();
    case CRYPTO_CHACHA20_POLY1305: return cipher_chacha ? cipher_chacha : EVP_chacha20_poly1305();
    }
    return NULL;
}

static bool aead_is_ccm(enum crypto_aead_alg alg)
{
    return alg == CRYPTO_AES_128_CCM_8 || alg == CRYPTO_AES_128_CCM;
}

bool crypto_aead_available(enum crypto_aead_alg alg)
{
    return aead_cipher(alg) != NULL;
}

/* Backend state of struct crypto_aead. */
struct aead_impl {
    EVP_CIPHER_CTX *ctx;
    int dir; /* 1 = keyed for sealing, 0 = for opening */
    size_t key_len;
    uint8_t key[CRYPTO_AEAD_KEY_MAX];
};
CRYPTO_STATE_FITS(struct aead_impl, struct crypto_aead);

/* Key (or re-key) the context for direction enc; a no-op when it already
 * is. Never allocates. */
static bool aead_set_dir(struct aead_impl *im, int enc)
{
    if (im->dir == enc)
        return true;
    if (EVP_CipherInit_ex(im->ctx, NULL, NULL, im->key, NULL, enc) != 1)
        return false;
    im->dir = enc;
    return true;
}

static void aead_impl_free(struct aead_impl *im)
{
    EVP_CIPHER_CTX_free(im->ctx); /* cleanses the key schedule */
    crypto_wipe(im, sizeof *im);
}

/* Make im's EVP object and key it from im->key for sealing: at keying
 * time, and when a cold context is used again. On failure im->ctx is
 * NULL and the key stays. */
static coaps_status aead_ctx_make(struct aead_impl *im, enum crypto_aead_alg alg)
{
    const EVP_CIPHER *cipher = aead_cipher(alg);
    ENSURE(cipher != NULL, COAPS_E_INVALID);
    im->ctx = EVP_CIPHER_CTX_new();
    ENSURE(im->ctx != NULL, COAPS_E_NOMEM);
    im->dir = -1;
    int tag_len = (int)crypto_aead_tag_len(alg);
    int ok = EVP_CipherInit_ex(im->ctx, cipher, NULL, NULL, NULL, 1) == 1 &&
             EVP_CIPHER_CTX_ctrl(im->ctx, EVP_CTRL_AEAD_SET_IVLEN, CRYPTO_AEAD_NONCE_LEN,
                                 NULL) == 1;
    /* CCM binds the tag length M into its first block, so it is a
     * parameter of the context, set before the key (RFC 3610 2.2). */
    if (ok && aead_is_ccm(alg))
        ok = EVP_CIPHER_CTX_ctrl(im->ctx, EVP_CTRL_AEAD_SET_TAG, tag_len, NULL) == 1;
    if (ok)
        ok = aead_set_dir(im, 1);
    if (!ok) {
        EVP_CIPHER_CTX_free(im->ctx);
        im->ctx = NULL;
        return COAPS_E_CRYPTO;
    }
    return COAPS_OK;
}

/* A cold context gets its EVP object back before a record (see the top). */
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
    ENSURE(aead_cipher(alg) != NULL && key != NULL, COAPS_E_INVALID);
    ENSURE(key_len == crypto_aead_key_len(alg), COAPS_E_INVALID);

    struct aead_impl *im = CRYPTO_STATE_OF(struct aead_impl, a);
    memset(im, 0, sizeof *im);
    memcpy(im->key, key, key_len);
    im->key_len = key_len;
    coaps_status st = aead_ctx_make(im, alg);
    if (st != COAPS_OK) {
        aead_impl_free(im);
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
    EVP_CIPHER_CTX_free(im->ctx); /* cleanses the key schedule */
    im->ctx = NULL;
    im->dir = -1;
    return true;
}

coaps_status crypto_aead_seal(struct crypto_aead *a, const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN],
                              const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
                              uint8_t *out)
{
    ENSURE(a != NULL && a->live && nonce != NULL && out != NULL, COAPS_E_INVALID);
    ENSURE(aad != NULL || aad_len == 0, COAPS_E_INVALID);
    ENSURE(in != NULL || len == 0, COAPS_E_INVALID);
    ENSURE(len <= AEAD_MAX_INPUT && aad_len <= AEAD_MAX_INPUT, COAPS_E_INVALID);
    struct aead_impl *im = CRYPTO_STATE_OF(struct aead_impl, a);
    TRY(aead_warm(a, im));
    EVP_CIPHER_CTX *ctx = im->ctx;
    int tag_len = (int)crypto_aead_tag_len(a->alg);
    int n = 0;

    ENSURE(aead_set_dir(im, 1), COAPS_E_CRYPTO);
    ENSURE(EVP_CipherInit_ex(ctx, NULL, NULL, NULL, nonce, 1) == 1, COAPS_E_CRYPTO);
    /* OpenSSL's CCM needs the message length before the AAD: CCM encodes
     * it in the first block B_0 (RFC 3610 2.2). */
    if (aead_is_ccm(a->alg))
        ENSURE(EVP_CipherUpdate(ctx, NULL, &n, NULL, (int)len) == 1, COAPS_E_CRYPTO);
    if (aad_len > 0)
        ENSURE(EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) == 1, COAPS_E_CRYPTO);
    if (len > 0) {
        ENSURE(EVP_CipherUpdate(ctx, out, &n, in, (int)len) == 1, COAPS_E_CRYPTO);
        ENSURE((size_t)n == len, COAPS_E_CRYPTO);
    } else if (aead_is_ccm(a->alg)) {
        /* CCM only computes the tag once it has seen the (empty) payload. */
        static const uint8_t none[1] = {0};
        ENSURE(EVP_CipherUpdate(ctx, out, &n, none, 0) == 1, COAPS_E_CRYPTO);
    }
    ENSURE(EVP_CipherFinal_ex(ctx, out + len, &n) == 1 && n == 0, COAPS_E_CRYPTO);
    /* The tag straight from the provider's parameters: what the
     * EVP_CTRL_AEAD_GET_TAG ctrl does, without its translation layer. */
    OSSL_PARAM params[2];
    params[0] = OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, out + len,
                                                  (size_t)tag_len);
    params[1] = OSSL_PARAM_construct_end();
    ENSURE(EVP_CIPHER_CTX_get_params(ctx, params) == 1, COAPS_E_CRYPTO);
    return COAPS_OK;
}

/* The decryption proper; false when anything, including the tag, fails. */
static bool aead_open_run(struct crypto_aead *a, const uint8_t *nonce, const uint8_t *aad,
                          size_t aad_len, const uint8_t *in, size_t len, uint8_t *out)
{
    struct aead_impl *im = CRYPTO_STATE_OF(struct aead_impl, a);
    EVP_CIPHER_CTX *ctx = im->ctx;
    bool ccm = aead_is_ccm(a->alg);
    int tag_len = (int)crypto_aead_tag_len(a->alg);
    int n = 0;
    /* OpenSSL copies the expected tag into the context, so an in-place
     * open (out == in) may overwrite the ciphertext but never the tag. */
    uint8_t *tag = (uint8_t *)(uintptr_t)(in + len);

    /* The expected tag goes in with the nonce, one call into the provider
     * instead of two (each costs a parameter round trip in OpenSSL 3). */
    OSSL_PARAM params[2];
    params[0] = OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, (size_t)tag_len);
    params[1] = OSSL_PARAM_construct_end();
    if (!aead_set_dir(im, 0) || EVP_CipherInit_ex2(ctx, NULL, NULL, nonce, 0, params) != 1)
        return false;
    if (ccm && EVP_CipherUpdate(ctx, NULL, &n, NULL, (int)len) != 1)
        return false;
    if (aad_len > 0 && EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1)
        return false;
    static const uint8_t none[1] = {0};
    if (len > 0 || ccm) {
        /* For CCM this call also checks the tag (it fails on mismatch). */
        if (EVP_CipherUpdate(ctx, out, &n, len ? in : none, (int)len) != 1 || (size_t)n != len)
            return false;
    }
    if (ccm) /* CCM has no final step on decryption. */
        return true;
    return EVP_CipherFinal_ex(ctx, out + len, &n) == 1; /* GCM, ChaCha20: tag check */
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
    uint8_t sink[1]; /* OpenSSL wants an output pointer even for 0 bytes */
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
    aead_impl_free(CRYPTO_STATE_OF(struct aead_impl, a));
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
