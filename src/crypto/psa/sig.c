/*
 * psa/sig.c - peers' public keys and the verification of their handshake
 * signatures (ServerKeyExchange RFC 8422 5.4 / RFC 5246 7.4.3,
 * CertificateVerify RFC 5246 7.4.8) under TLS SignatureScheme codes, with
 * PSA keys imported from the peer's SubjectPublicKeyInfo.
 *
 * RSA keys above PSA_VENDOR_RSA_MAX_KEY_BITS (4096 in Mbed TLS 3.6: a fixed
 * header constant, not configuration) cannot enter the PSA key store, yet
 * crypto.h accepts RSA up to 8192 bits; those few keys stay Mbed TLS pk
 * contexts and verify with Mbed TLS's RSA module. Handshake path: a peer key
 * holds one PSA key (or one heap pk) until crypto_peer_key_clear.
 */
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ecdsa.h>
#include <mbedtls/psa_util.h>
#include <mbedtls/rsa.h>

#include "common/try.h"
#include "crypto/psa/pki.h"

/* Backend state of struct crypto_peer_key: the key's id in the PSA key
 * store, or (RSA above PSA's limit) an Mbed TLS pk on the heap. */
struct peer_key_state {
    psa_key_id_t id;
    mbedtls_pk_context *big_rsa;
};
CRYPTO_STATE_FITS(struct peer_key_state, struct crypto_peer_key);

#define PEER_OF(key) CRYPTO_CSTATE_OF(struct peer_key_state, key)

/* The largest curve we verify with is P-384: r || s is 2 * 48 bytes, its DER
 * Ecdsa-Sig-Value at most 104. */
#define ECDSA_BITS_MAX 384
#define ECDSA_RAW_MAX PSA_ECDSA_SIGNATURE_SIZE(ECDSA_BITS_MAX)
#define ECDSA_DER_MAX MBEDTLS_ECDSA_MAX_SIG_LEN(ECDSA_BITS_MAX)

/* ---- key types ------------------------------------------------------------------ */

enum crypto_peer_key_type crypto_pki_key_type(const mbedtls_pk_context *pk)
{
    if (pk == NULL)
        return CRYPTO_PEER_KEY_NONE;
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    mbedtls_pk_type_t t = mbedtls_pk_get_type(pk);
    /* id-ecPublicKey and rsaEncryption only (not id-ecDH, not RSA-PSS keys) */
    if ((t != MBEDTLS_PK_ECKEY && t != MBEDTLS_PK_RSA) ||
        mbedtls_pk_get_psa_attributes(pk, PSA_KEY_USAGE_VERIFY_HASH, &attr) != 0)
        return CRYPTO_PEER_KEY_NONE;
    psa_key_type_t type = psa_get_key_type(&attr);
    size_t bits = psa_get_key_bits(&attr);
    psa_reset_key_attributes(&attr);
    if (type == PSA_KEY_TYPE_RSA_PUBLIC_KEY)
        return bits >= CRYPTO_RSA_BITS_MIN && bits <= CRYPTO_RSA_BITS_MAX ? CRYPTO_PEER_KEY_RSA
                                                                          : CRYPTO_PEER_KEY_NONE;
    if (type != PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_SECP_R1))
        return CRYPTO_PEER_KEY_NONE;
    return bits == 256 ? CRYPTO_PEER_KEY_EC_P256
           : bits == 384 ? CRYPTO_PEER_KEY_EC_P384
                         : CRYPTO_PEER_KEY_NONE;
}

/* ---- making a peer key ------------------------------------------------------------ */

/* Import pk's public key for verification. An EC key verifies ECDSA with
 * any hash (TLS 1.2 fixes only the hash: RFC 8422 5.10). An RSA key
 * verifies PSS and PKCS#1 v1.5: one policy plus PSA's enrollment algorithm.
 * That second algorithm is what PSA warns about for private keys (side
 * channels across algorithms); a public key only verifies, so there is no
 * secret to leak. */
static coaps_status peer_key_import(const mbedtls_pk_context *pk, bool rsa, psa_key_id_t *id)
{
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    if (mbedtls_pk_get_psa_attributes(pk, PSA_KEY_USAGE_VERIFY_HASH, &attr) != 0)
        return COAPS_E_UNSUPPORTED;
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_VERIFY_HASH | PSA_KEY_USAGE_VERIFY_MESSAGE);
    if (rsa) {
        psa_set_key_algorithm(&attr, PSA_ALG_RSA_PSS(PSA_ALG_ANY_HASH));
        psa_set_key_enrollment_algorithm(&attr, PSA_ALG_RSA_PKCS1V15_SIGN(PSA_ALG_ANY_HASH));
    } else {
        psa_set_key_algorithm(&attr, PSA_ALG_ECDSA(PSA_ALG_ANY_HASH));
    }
    mbedtls_svc_key_id_t k = MBEDTLS_SVC_KEY_ID_INIT;
    int r = mbedtls_pk_import_into_psa(pk, &attr, &k);
    psa_reset_key_attributes(&attr);
    ENSURE(r != MBEDTLS_ERR_PK_ALLOC_FAILED && r != PSA_ERROR_INSUFFICIENT_MEMORY, COAPS_E_NOMEM);
    ENSURE(r == 0, COAPS_E_CRYPTO);
    *id = k;
    return COAPS_OK;
}

/* A heap copy of the key, parsed again from its SPKI (pk has no copy
 * function), for RSA keys PSA cannot hold. */
static coaps_status peer_key_big_rsa(const uint8_t *spki, size_t spki_len,
                                     mbedtls_pk_context **out)
{
    mbedtls_pk_context *pk = malloc(sizeof *pk);
    ENSURE(pk != NULL, COAPS_E_NOMEM);
    mbedtls_pk_init(pk);
    coaps_status st = crypto_pki_spki_parse(pk, spki, spki_len);
    if (st != COAPS_OK) {
        mbedtls_pk_free(pk);
        free(pk);
        return st;
    }
    *out = pk;
    return COAPS_OK;
}

coaps_status crypto_pki_peer_key_set(struct crypto_peer_key *out, const mbedtls_pk_context *pk,
                                     const uint8_t *spki, size_t spki_len)
{
    ENSURE(out != NULL && pk != NULL, COAPS_E_INVALID);
    out->live = false;
    out->type = CRYPTO_PEER_KEY_NONE;
    enum crypto_peer_key_type type = crypto_pki_key_type(pk);
    ENSURE(type != CRYPTO_PEER_KEY_NONE, COAPS_E_UNSUPPORTED);
    TRY(crypto_psa_ready());
    struct peer_key_state *s = CRYPTO_STATE_OF(struct peer_key_state, out);
    s->id = PSA_KEY_ID_NULL;
    s->big_rsa = NULL;
    if (type == CRYPTO_PEER_KEY_RSA && mbedtls_pk_get_bitlen(pk) > PSA_VENDOR_RSA_MAX_KEY_BITS)
        TRY(peer_key_big_rsa(spki, spki_len, &s->big_rsa));
    else
        TRY(peer_key_import(pk, type == CRYPTO_PEER_KEY_RSA, &s->id));
    out->type = type;
    out->live = true;
    return COAPS_OK;
}

coaps_status crypto_pki_peer_key_from_spki(struct crypto_peer_key *out, const uint8_t *spki,
                                           size_t spki_len)
{
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    coaps_status st = crypto_pki_spki_parse(&pk, spki, spki_len);
    if (st == COAPS_OK)
        st = crypto_pki_peer_key_set(out, &pk, spki, spki_len);
    mbedtls_pk_free(&pk);
    return st;
}

bool crypto_peer_key_supports(const struct crypto_peer_key *key, uint16_t scheme)
{
    const struct crypto_sig_scheme_info *row = crypto_sig_scheme_find(scheme);
    return key != NULL && key->live && row != NULL && crypto_sig_family_fits(row->fam, key->type);
}

void crypto_peer_key_clear(struct crypto_peer_key *key)
{
    if (key == NULL)
        return;
    if (key->live) {
        struct peer_key_state *s = CRYPTO_STATE_OF(struct peer_key_state, key);
        if (s->big_rsa != NULL) {
            mbedtls_pk_free(s->big_rsa);
            free(s->big_rsa);
        } else {
            (void)psa_destroy_key(s->id);
        }
        s->id = PSA_KEY_ID_NULL;
        s->big_rsa = NULL;
    }
    key->live = false;
    key->type = CRYPTO_PEER_KEY_NONE;
}

/* ---- verification ------------------------------------------------------------------- */

static psa_algorithm_t scheme_hash(const struct crypto_sig_scheme_info *row)
{
    switch (row->hash) {
    case CRYPTO_SIG_HASH_SHA256: return PSA_ALG_SHA_256;
    case CRYPTO_SIG_HASH_SHA384: return PSA_ALG_SHA_384;
    case CRYPTO_SIG_HASH_SHA512: return PSA_ALG_SHA_512;
    }
    return PSA_ALG_NONE;
}

/* The PSA algorithm of a scheme: PSS here is salt = hash length (PSA_ALG_RSA_PSS
 * accepts exactly that on keys of 2048 bits and more: RFC 8446 4.2.3). */
static psa_algorithm_t scheme_alg(const struct crypto_sig_scheme_info *row)
{
    psa_algorithm_t h = scheme_hash(row);
    switch (row->fam) {
    case CRYPTO_SIG_FAM_ECDSA: return PSA_ALG_ECDSA(h);
    case CRYPTO_SIG_FAM_RSA_PKCS1: return PSA_ALG_RSA_PKCS1V15_SIGN(h);
    case CRYPTO_SIG_FAM_RSA_PSS: return PSA_ALG_RSA_PSS(h);
    }
    return PSA_ALG_NONE;
}

/* A verification's outcome on network input: anything but a valid
 * signature or a failure of our own is "does not verify". */
static coaps_status verify_status(psa_status_t s)
{
    if (s == PSA_SUCCESS)
        return COAPS_OK;
    if (s == PSA_ERROR_INVALID_SIGNATURE || s == PSA_ERROR_INVALID_ARGUMENT)
        return COAPS_E_VERIFY;
    return crypto_psa_status(s);
}

/* ECDSA signatures arrive as DER Ecdsa-Sig-Value (RFC 8422 5.4); PSA wants
 * r || s. Only strict DER is accepted: the conversion back must give the
 * same bytes (no extra leading zeros, long-form lengths or trailing data,
 * which Mbed TLS's reader tolerates). */
static coaps_status ecdsa_raw(enum crypto_peer_key_type type, const uint8_t *sig, size_t sig_len,
                              uint8_t raw[ECDSA_RAW_MAX], size_t *raw_len)
{
    size_t bits = type == CRYPTO_PEER_KEY_EC_P384 ? 384 : 256;
    uint8_t again[ECDSA_DER_MAX];
    size_t again_len = 0;
    if (mbedtls_ecdsa_der_to_raw(bits, sig, sig_len, raw, ECDSA_RAW_MAX, raw_len) != 0 ||
        mbedtls_ecdsa_raw_to_der(bits, raw, *raw_len, again, sizeof again, &again_len) != 0)
        return COAPS_E_VERIFY;
    return again_len == sig_len && memcmp(again, sig, sig_len) == 0 ? COAPS_OK : COAPS_E_VERIFY;
}

/* RSA above PSA's size limit, with Mbed TLS's own RSA code (called
 * directly: with MBEDTLS_USE_PSA_CRYPTO, mbedtls_pk_verify_ext would hand
 * the key to PSA again, and accept any PSS salt). The same paddings: PSS
 * with MGF1 of the scheme's hash and salt = hash length. Both read exactly
 * one modulus length of signature. An Mbed TLS without RSA (the
 * ECDHE-ECDSA firmware's) parses no RSA key, so no big_rsa is ever made
 * and there is nothing to verify with. */
#if defined(MBEDTLS_RSA_C)
static mbedtls_md_type_t scheme_md(const struct crypto_sig_scheme_info *row)
{
    switch (row->hash) {
    case CRYPTO_SIG_HASH_SHA256: return MBEDTLS_MD_SHA256;
    case CRYPTO_SIG_HASH_SHA384: return MBEDTLS_MD_SHA384;
    case CRYPTO_SIG_HASH_SHA512: return MBEDTLS_MD_SHA512;
    }
    return MBEDTLS_MD_NONE;
}

static coaps_status verify_big_rsa(const mbedtls_pk_context *pk,
                                   const struct crypto_sig_scheme_info *row, const uint8_t *digest,
                                   const uint8_t *sig, size_t sig_len)
{
    mbedtls_rsa_context *rsa = mbedtls_pk_rsa(*pk);
    if (rsa == NULL || sig_len != mbedtls_rsa_get_len(rsa))
        return COAPS_E_VERIFY;
    mbedtls_md_type_t md = scheme_md(row);
    unsigned hash_len = (unsigned)row->hash_len;
    int r = row->fam == CRYPTO_SIG_FAM_RSA_PSS
                ? mbedtls_rsa_rsassa_pss_verify_ext(rsa, md, hash_len, digest, md, (int)hash_len,
                                                    sig)
                : mbedtls_rsa_rsassa_pkcs1_v15_verify(rsa, md, hash_len, digest, sig);
    return r == 0 ? COAPS_OK : COAPS_E_VERIFY;
}
#else
static coaps_status verify_big_rsa(const mbedtls_pk_context *pk,
                                   const struct crypto_sig_scheme_info *row, const uint8_t *digest,
                                   const uint8_t *sig, size_t sig_len)
{
    (void)pk, (void)row, (void)digest, (void)sig, (void)sig_len;
    return COAPS_E_VERIFY;
}
#endif

static coaps_status verify_hash(const struct crypto_peer_key *key,
                                const struct crypto_sig_scheme_info *row, const uint8_t *digest,
                                const uint8_t *sig, size_t sig_len)
{
    const struct peer_key_state *s = PEER_OF(key);
    if (sig_len == 0 || sig_len > CRYPTO_SIG_VERIFY_MAX)
        return COAPS_E_VERIFY;
    if (s->big_rsa != NULL)
        return verify_big_rsa(s->big_rsa, row, digest, sig, sig_len);
    if (row->fam != CRYPTO_SIG_FAM_ECDSA)
        return verify_status(
            psa_verify_hash(s->id, scheme_alg(row), digest, row->hash_len, sig, sig_len));
    uint8_t raw[ECDSA_RAW_MAX];
    size_t raw_len = 0;
    TRY(ecdsa_raw(key->type, sig, sig_len, raw, &raw_len));
    return verify_status(
        psa_verify_hash(s->id, scheme_alg(row), digest, row->hash_len, raw, raw_len));
}

coaps_status crypto_peer_key_verify(const struct crypto_peer_key *key, uint16_t scheme,
                                    const uint8_t *msg, size_t msg_len, const uint8_t *sig,
                                    size_t sig_len)
{
    ENSURE(key != NULL && key->live, COAPS_E_INVALID);
    ENSURE((msg != NULL || msg_len == 0) && (sig != NULL || sig_len == 0), COAPS_E_INVALID);
    const struct crypto_sig_scheme_info *row = crypto_sig_scheme_find(scheme);
    ENSURE(row != NULL && crypto_sig_family_fits(row->fam, key->type), COAPS_E_UNSUPPORTED);
    TRY(crypto_psa_ready());
    uint8_t digest[PSA_HASH_MAX_SIZE];
    size_t digest_len = 0;
    const uint8_t *m = msg_len ? msg : (const uint8_t *)""; /* never a NULL pointer */
    TRY(crypto_psa_status(psa_hash_compute(scheme_hash(row), m, msg_len, digest, sizeof digest,
                                           &digest_len)));
    return verify_hash(key, row, digest, sig, sig_len);
}

coaps_status crypto_peer_key_verify_digest(const struct crypto_peer_key *key, uint16_t scheme,
                                           const uint8_t *digest, size_t digest_len,
                                           const uint8_t *sig, size_t sig_len)
{
    ENSURE(key != NULL && key->live && digest != NULL, COAPS_E_INVALID);
    ENSURE(sig != NULL || sig_len == 0, COAPS_E_INVALID);
    const struct crypto_sig_scheme_info *row = crypto_sig_scheme_find(scheme);
    ENSURE(row != NULL && crypto_sig_family_fits(row->fam, key->type), COAPS_E_UNSUPPORTED);
    ENSURE(digest_len == row->hash_len, COAPS_E_INVALID);
    TRY(crypto_psa_ready());
    return verify_hash(key, row, digest, sig, sig_len);
}
