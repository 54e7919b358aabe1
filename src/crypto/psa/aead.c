/*
 * psa/aead.c - PSA Crypto backend of the AEAD part of crypto.h.
 *
 * Memory: crypto_aead_init imports the key once as a volatile key in the
 * PSA key store (Mbed TLS allocates the slot's key buffer there, on the
 * set-up path); the caller's struct crypto_aead holds only the key's id and
 * the PSA algorithm. crypto_aead_clear destroys the key, which wipes it.
 * Every seal/open is one call, psa_aead_encrypt / psa_aead_decrypt, on the
 * caller's buffers: Mbed TLS is built with MBEDTLS_PSA_ASSUME_EXCLUSIVE_BUFFERS
 * (scripts/install-mbedtls), so PSA works on them in place instead of copying
 * them to the heap. The multi-part AEAD API would be no cheaper: its
 * operation is set up from the key for every message all the same.
 *
 * Mbed TLS 3.6's built-in PSA AEAD sets the key up again inside every call
 * (the AES key expansion, and GCM's table, per record: no PSA call keeps
 * them). That costs time, not memory: scripts/install-mbedtls builds Mbed
 * TLS without the generic cipher layer (MBEDTLS_CIPHER_C), so CCM and GCM
 * hold the AES key schedule inline in a context on the stack, instead of
 * allocating a 288-byte AES context on every call as they would through
 * that layer. No seal or open allocates: tests/crypto/test_crypto_aead.c
 * and tests/dtls/test_record.c count Mbed TLS's allocations.
 *
 * The key's policy allows encrypting and decrypting with exactly one
 * algorithm, so a context seals and opens without re-keying.
 */
#include <string.h>

#include "coaps/config.h"
#include "common/try.h"
#include "crypto/psa/psa_common.h"

/* CCM with an 8-byte tag (RFC 6655 3: AES_128_CCM_8). */
#define AEAD_ALG_CCM_8 PSA_ALG_AEAD_WITH_SHORTENED_TAG(PSA_ALG_CCM, 8)

/* Which of our AEADs this build of PSA implements: the PSA_WANT_ macros
 * say what the configuration compiled in. */
bool crypto_aead_available(enum crypto_aead_alg alg)
{
    switch (alg) {
    case CRYPTO_AES_128_CCM_8:
    case CRYPTO_AES_128_CCM:
#if defined(PSA_WANT_ALG_CCM) && defined(PSA_WANT_KEY_TYPE_AES)
        return true;
#else
        return false;
#endif
    case CRYPTO_AES_128_GCM:
    case CRYPTO_AES_256_GCM:
#if defined(PSA_WANT_ALG_GCM) && defined(PSA_WANT_KEY_TYPE_AES)
        return true;
#else
        return false;
#endif
    case CRYPTO_CHACHA20_POLY1305:
#if defined(PSA_WANT_ALG_CHACHA20_POLY1305) && defined(PSA_WANT_KEY_TYPE_CHACHA20)
        return true;
#else
        return false;
#endif
    }
    return false;
}

/* The PSA algorithm and key type of one of ours; false when unknown. */
static bool aead_psa_alg(enum crypto_aead_alg alg, psa_algorithm_t *a, psa_key_type_t *type)
{
    *type = PSA_KEY_TYPE_AES;
    switch (alg) {
    case CRYPTO_AES_128_CCM_8: *a = AEAD_ALG_CCM_8; return true;
    case CRYPTO_AES_128_CCM: *a = PSA_ALG_CCM; return true;
    case CRYPTO_AES_128_GCM:
    case CRYPTO_AES_256_GCM: *a = PSA_ALG_GCM; return true;
    case CRYPTO_CHACHA20_POLY1305:
        *a = PSA_ALG_CHACHA20_POLY1305;
        *type = PSA_KEY_TYPE_CHACHA20;
        return true;
    }
    return false;
}

/* Backend state of struct crypto_aead. */
struct aead_state {
    psa_key_id_t id;
    psa_algorithm_t alg;
};
CRYPTO_STATE_FITS(struct aead_state, struct crypto_aead);

coaps_status crypto_aead_init(struct crypto_aead *a, enum crypto_aead_alg alg,
                              const uint8_t *key, size_t key_len)
{
    ENSURE(a != NULL, COAPS_E_INVALID);
    a->live = false;
    psa_algorithm_t palg = PSA_ALG_NONE;
    psa_key_type_t type = PSA_KEY_TYPE_NONE;
    ENSURE(crypto_aead_available(alg) && aead_psa_alg(alg, &palg, &type), COAPS_E_INVALID);
    ENSURE(key != NULL && key_len == crypto_aead_key_len(alg), COAPS_E_INVALID);
    TRY(crypto_psa_ready());

    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&attr, type);
    psa_set_key_bits(&attr, PSA_BYTES_TO_BITS(key_len));
    psa_key_usage_t usage = PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT;
#if COAPS_WITH_PERSIST
    usage |= PSA_KEY_USAGE_EXPORT; /* crypto_aead_export_key: durable sessions */
#endif
    psa_set_key_usage_flags(&attr, usage);
    psa_set_key_algorithm(&attr, palg);
    psa_set_key_lifetime(&attr, PSA_KEY_LIFETIME_VOLATILE);
    psa_key_id_t id = PSA_KEY_ID_NULL;
    psa_status_t s = psa_import_key(&attr, key, key_len, &id);
    psa_reset_key_attributes(&attr);
    TRY(crypto_psa_status(s));

    struct aead_state *im = CRYPTO_STATE_OF(struct aead_state, a);
    im->id = id;
    im->alg = palg;
    a->alg = alg;
    a->live = true;
    return COAPS_OK;
}

coaps_status crypto_aead_seal(struct crypto_aead *a, const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN],
                              const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
                              uint8_t *out)
{
    ENSURE(a != NULL && a->live && nonce != NULL && out != NULL, COAPS_E_INVALID);
    ENSURE(aad != NULL || aad_len == 0, COAPS_E_INVALID);
    ENSURE(in != NULL || len == 0, COAPS_E_INVALID);
    size_t tag_len = crypto_aead_tag_len(a->alg);
    ENSURE(len <= SIZE_MAX - tag_len, COAPS_E_INVALID);
    TRY(crypto_psa_ready());
    const struct aead_state *im = CRYPTO_CSTATE_OF(struct aead_state, a);
    /* PSA's one-shot AEAD allows out == in: it writes ciphertext over
     * plaintext block by block, and the tag after it (RFC 5116 5.1 layout:
     * ciphertext || tag, as TLS puts it on the wire). */
    size_t n = 0;
    TRY(crypto_psa_status(psa_aead_encrypt(im->id, im->alg, nonce, CRYPTO_AEAD_NONCE_LEN, aad,
                                           aad_len, in, len, out, len + tag_len, &n)));
    ENSURE(n == len + tag_len, COAPS_E_CRYPTO);
    return COAPS_OK;
}

coaps_status crypto_aead_open(struct crypto_aead *a, const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN],
                              const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
                              uint8_t *out)
{
    ENSURE(a != NULL && a->live && nonce != NULL && in != NULL, COAPS_E_INVALID);
    ENSURE(out != NULL || len == 0, COAPS_E_INVALID);
    ENSURE(aad != NULL || aad_len == 0, COAPS_E_INVALID);
    size_t tag_len = crypto_aead_tag_len(a->alg);
    ENSURE(len <= SIZE_MAX - tag_len, COAPS_E_INVALID);
    TRY(crypto_psa_ready());
    const struct aead_state *im = CRYPTO_CSTATE_OF(struct aead_state, a);
    uint8_t sink[1]; /* an output pointer even for 0 bytes */
    uint8_t *dst = out != NULL ? out : sink;
    size_t n = 0;
    /* In place, plaintext overwrites the ciphertext in front of the tag,
     * never the tag itself (it sits at in + len, past out + len). */
    psa_status_t s = psa_aead_decrypt(im->id, im->alg, nonce, CRYPTO_AEAD_NONCE_LEN, aad, aad_len,
                                      in, len + tag_len, dst, len, &n);
    if (s == PSA_SUCCESS && n == len)
        return COAPS_OK;
    /* Never release unauthenticated plaintext (RFC 5116 2.2). PSA wipes
     * its output on failure too; this does not depend on it. */
    crypto_wipe(out, len);
    /* A wrong tag is network input (COAPS_E_AUTH: the record is dropped and
     * counted); anything else is the backend failing. */
    if (s == PSA_ERROR_INVALID_SIGNATURE)
        return COAPS_E_AUTH;
    return s == PSA_SUCCESS ? COAPS_E_CRYPTO : crypto_psa_status(s);
}

void crypto_aead_clear(struct crypto_aead *a)
{
    if (a == NULL || !a->live)
        return;
    /* Frees the key slot; Mbed TLS wipes the key and its schedule. */
    (void)psa_destroy_key(CRYPTO_CSTATE_OF(struct aead_state, a)->id);
    crypto_wipe(&a->st, sizeof a->st);
    a->live = false;
}

bool crypto_aead_cool(struct crypto_aead *a)
{
    /* The key lives only in its key store slot (the context holds its id):
     * nothing can be given back without losing it. The slot, key and
     * schedule together are smaller than OpenSSL's EVP object. */
    (void)a;
    return false;
}

coaps_status crypto_aead_export_key(const struct crypto_aead *a, uint8_t key[CRYPTO_AEAD_KEY_MAX],
                                    size_t *key_len)
{
    ENSURE(a != NULL && key != NULL && key_len != NULL, COAPS_E_INVALID);
    ENSURE(a->live, COAPS_E_STATE);
#if COAPS_WITH_PERSIST
    TRY(crypto_psa_ready());
    const struct aead_state *im = CRYPTO_CSTATE_OF(struct aead_state, a);
    size_t n = 0;
    TRY(crypto_psa_status(psa_export_key(im->id, key, CRYPTO_AEAD_KEY_MAX, &n)));
    ENSURE(n == crypto_aead_key_len(a->alg), COAPS_E_CRYPTO);
    *key_len = n;
    return COAPS_OK;
#else
    return COAPS_E_UNSUPPORTED;
#endif
}
