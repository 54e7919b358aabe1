/*
 * psa/pk.c - PSA Crypto backend of the public-key part of crypto.h:
 * ephemeral ECDH over P-256 and X25519 (RFC 8422, RFC 7748) and ECDSA
 * P-256 / SHA-256 signatures in DER.
 *
 * Memory: every key pair is a volatile key in the PSA key store (Mbed TLS
 * allocates the slot's key buffer when the key is generated or imported);
 * the caller's struct crypto_kx / crypto_sign_key holds only its id, and
 * *_clear destroys the key, which wipes it. A peer's ECDSA public key is
 * imported for one verification and destroyed before returning. Handshake
 * and set-up path only: nothing here runs per record.
 */
#include <string.h>

#include <mbedtls/psa_util.h>

#include "common/try.h"
#include "crypto/psa/psa_common.h"

#define P256_BITS 256
#define P256_FIELD_LEN 32    /* bytes of a P-256 coordinate or scalar */
#define P256_RAW_SIG_LEN 64  /* r || s, each 32 bytes (PSA's signature format) */
#define X25519_BITS 255      /* PSA sizes Curve25519 keys by the field, 2^255 - 19 */
#define X25519_LEN 32        /* RFC 7748 5: keys and outputs are 32 bytes */
#define POINT_UNCOMPRESSED 0x04 /* SEC 1 2.3.3, RFC 8422 5.4.1 */

#define P256_KEY_PAIR PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1)
#define P256_PUBLIC_KEY PSA_KEY_TYPE_ECC_PUBLIC_KEY(PSA_ECC_FAMILY_SECP_R1)
#define X25519_KEY_PAIR PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_MONTGOMERY)
#define ECDSA_SHA256 PSA_ALG_ECDSA(PSA_ALG_SHA_256)

/* Backend state of struct crypto_kx and struct crypto_sign_key: the key
 * pair's id in the PSA key store. */
struct key_state {
    psa_key_id_t id;
};
CRYPTO_STATE_FITS(struct key_state, struct crypto_kx);
CRYPTO_STATE_FITS(struct key_state, struct crypto_sign_key);
#define KEY_OF(ctx) (CRYPTO_CSTATE_OF(struct key_state, ctx)->id)
#define KEY_SET(ctx, k) (CRYPTO_STATE_OF(struct key_state, ctx)->id = (k))

/* Attributes of a volatile key of `type` and `bits` usable for `usage`
 * with exactly `alg`. */
static psa_key_attributes_t key_attributes(psa_key_type_t type, size_t bits,
                                           psa_key_usage_t usage, psa_algorithm_t alg)
{
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&attr, type);
    psa_set_key_bits(&attr, bits);
    psa_set_key_usage_flags(&attr, usage);
    psa_set_key_algorithm(&attr, alg);
    psa_set_key_lifetime(&attr, PSA_KEY_LIFETIME_VOLATILE);
    return attr;
}

/* A fresh key pair (priv == NULL) or one from its private value. PSA
 * refuses a P-256 scalar outside [1, n-1] with INVALID_ARGUMENT, which
 * crypto_psa_status turns into COAPS_E_INVALID as crypto.h asks. */
static coaps_status key_make(psa_key_attributes_t *attr, const uint8_t *priv, size_t priv_len,
                             psa_key_id_t *id)
{
    psa_status_t s = priv != NULL ? psa_import_key(attr, priv, priv_len, id)
                                  : psa_generate_key(attr, id);
    psa_reset_key_attributes(attr);
    return crypto_psa_status(s);
}

/* ---- ECDHE ----------------------------------------------------------------- */

static psa_key_attributes_t kx_attributes(enum crypto_kx_group group)
{
    bool p256 = group == CRYPTO_KX_P256;
    return key_attributes(p256 ? P256_KEY_PAIR : X25519_KEY_PAIR, p256 ? P256_BITS : X25519_BITS,
                          PSA_KEY_USAGE_DERIVE, PSA_ALG_ECDH);
}

/* Our public value: PSA exports exactly the wire form, 0x04 || X || Y for
 * P-256 (RFC 8422 5.4.1) and the 32-byte u-coordinate for X25519
 * (RFC 7748 6.1). */
static coaps_status kx_public(const struct crypto_kx *kx, uint8_t *pub, size_t *pub_len)
{
    size_t want = crypto_kx_public_len(kx->group), n = 0;
    TRY(crypto_psa_status(psa_export_public_key(KEY_OF(kx), pub, CRYPTO_KX_PUBLIC_MAX, &n)));
    ENSURE(n == want, COAPS_E_CRYPTO);
    *pub_len = n;
    return COAPS_OK;
}

/* Common body of generate and import: make the key, keep it, export the
 * public value (on failure nothing is kept). */
static coaps_status kx_start(struct crypto_kx *kx, enum crypto_kx_group group,
                             const uint8_t *priv, size_t priv_len, uint8_t *pub, size_t *pub_len)
{
    TRY(crypto_psa_ready());
    psa_key_attributes_t attr = kx_attributes(group);
    psa_key_id_t id = PSA_KEY_ID_NULL;
    TRY(key_make(&attr, priv, priv_len, &id));
    KEY_SET(kx, id);
    kx->group = group;
    kx->live = true;
    coaps_status st = kx_public(kx, pub, pub_len);
    if (st != COAPS_OK)
        crypto_kx_clear(kx);
    return st;
}

coaps_status crypto_kx_generate(struct crypto_kx *kx, enum crypto_kx_group group,
                                uint8_t pub[CRYPTO_KX_PUBLIC_MAX], size_t *pub_len)
{
    ENSURE(kx != NULL, COAPS_E_INVALID);
    kx->live = false;
    ENSURE(pub != NULL && pub_len != NULL && crypto_kx_public_len(group) != 0, COAPS_E_INVALID);
    return kx_start(kx, group, NULL, 0, pub, pub_len);
}

coaps_status crypto_kx_import_private(struct crypto_kx *kx, enum crypto_kx_group group,
                                      const uint8_t *priv, size_t priv_len,
                                      uint8_t pub[CRYPTO_KX_PUBLIC_MAX], size_t *pub_len)
{
    ENSURE(kx != NULL, COAPS_E_INVALID);
    kx->live = false;
    ENSURE(priv != NULL && pub != NULL && pub_len != NULL, COAPS_E_INVALID);
    ENSURE(crypto_kx_public_len(group) != 0, COAPS_E_INVALID);
    /* A P-256 scalar (big-endian) or an X25519 scalar (RFC 7748 5). */
    ENSURE(priv_len == (group == CRYPTO_KX_P256 ? P256_FIELD_LEN : X25519_LEN), COAPS_E_INVALID);
    return kx_start(kx, group, priv, priv_len, pub, pub_len);
}

/* The peer's value has the one form we accept: 32 bytes for X25519; for
 * P-256 the uncompressed point (RFC 8422 5.4.1, we offer no other point
 * format), whose being on the curve PSA checks when agreeing. */
static bool kx_peer_well_formed(enum crypto_kx_group group, const uint8_t *peer, size_t len)
{
    if (peer == NULL || len != crypto_kx_public_len(group))
        return false;
    return group == CRYPTO_KX_X25519 || peer[0] == POINT_UNCOMPRESSED;
}

/* A failed agreement: PSA says INVALID_ARGUMENT (or NOT_SUPPORTED, for an
 * encoding it has no code for) when the peer's value is not a valid public
 * key of the group: network input. */
static coaps_status kx_agreement_status(psa_status_t s)
{
    if (s == PSA_ERROR_INVALID_ARGUMENT || s == PSA_ERROR_NOT_SUPPORTED)
        return COAPS_E_MALFORMED;
    return crypto_psa_status(s);
}

coaps_status crypto_kx_derive(const struct crypto_kx *kx, const uint8_t *peer, size_t peer_len,
                              uint8_t secret[CRYPTO_KX_SECRET_MAX], size_t *secret_len)
{
    ENSURE(kx != NULL && kx->live && secret != NULL && secret_len != NULL, COAPS_E_INVALID);
    ENSURE(kx_peer_well_formed(kx->group, peer, peer_len), COAPS_E_MALFORMED);
    TRY(crypto_psa_ready());
    size_t n = 0;
    coaps_status st = kx_agreement_status(psa_raw_key_agreement(
        PSA_ALG_ECDH, KEY_OF(kx), peer, peer_len, secret, CRYPTO_KX_SECRET_MAX, &n));
    if (st == COAPS_OK && n != CRYPTO_KX_SECRET_MAX)
        st = COAPS_E_CRYPTO;
    static const uint8_t zero[CRYPTO_KX_SECRET_MAX] = {0};
    /* RFC 7748 6.1: a small-order X25519 peer value gives all zeros;
     * RFC 8422 5.11 asks to refuse it. Mbed TLS 3.6 already fails those
     * with INVALID_ARGUMENT (u = 0, 1, p - 1 tried); this states the rule
     * ourselves rather than lean on that. (P-256 cannot give zeros: the
     * point at infinity has no X to share.) */
    if (st == COAPS_OK && crypto_ct_equal(secret, zero, sizeof zero))
        st = COAPS_E_MALFORMED;
    if (st != COAPS_OK) {
        crypto_wipe(secret, CRYPTO_KX_SECRET_MAX);
        return st;
    }
    *secret_len = n;
    return COAPS_OK;
}

void crypto_kx_clear(struct crypto_kx *kx)
{
    if (kx == NULL || !kx->live)
        return;
    (void)psa_destroy_key(KEY_OF(kx)); /* Mbed TLS wipes the private key */
    crypto_wipe(&kx->st, sizeof kx->st);
    kx->live = false;
}

/* ---- ECDSA P-256 / SHA-256 -------------------------------------------------- */

/* Our signing key: sign a SHA-256 digest with ECDSA (randomized k, as
 * PSA_ALG_ECDSA is; not RFC 6979). */
static coaps_status sign_key_make(struct crypto_sign_key *k, const uint8_t *priv)
{
    TRY(crypto_psa_ready());
    psa_key_attributes_t attr =
        key_attributes(P256_KEY_PAIR, P256_BITS, PSA_KEY_USAGE_SIGN_HASH, ECDSA_SHA256);
    psa_key_id_t id = PSA_KEY_ID_NULL;
    TRY(key_make(&attr, priv, priv != NULL ? CRYPTO_P256_PRIVATE_LEN : 0, &id));
    KEY_SET(k, id);
    k->live = true;
    return COAPS_OK;
}

coaps_status crypto_ecdsa_p256_generate(struct crypto_sign_key *k)
{
    ENSURE(k != NULL, COAPS_E_INVALID);
    k->live = false;
    return sign_key_make(k, NULL);
}

coaps_status crypto_ecdsa_p256_import(struct crypto_sign_key *k,
                                      const uint8_t priv[CRYPTO_P256_PRIVATE_LEN])
{
    ENSURE(k != NULL, COAPS_E_INVALID);
    k->live = false;
    ENSURE(priv != NULL, COAPS_E_INVALID);
    return sign_key_make(k, priv);
}

coaps_status crypto_ecdsa_p256_public(const struct crypto_sign_key *k,
                                      uint8_t pub[CRYPTO_P256_PUBLIC_LEN])
{
    ENSURE(k != NULL && k->live && pub != NULL, COAPS_E_INVALID);
    TRY(crypto_psa_ready());
    size_t n = 0;
    TRY(crypto_psa_status(psa_export_public_key(KEY_OF(k), pub, CRYPTO_P256_PUBLIC_LEN, &n)));
    ENSURE(n == CRYPTO_P256_PUBLIC_LEN && pub[0] == POINT_UNCOMPRESSED, COAPS_E_CRYPTO);
    return COAPS_OK;
}

coaps_status crypto_ecdsa_p256_sign(const struct crypto_sign_key *k, const uint8_t digest[32],
                                    uint8_t sig[CRYPTO_ECDSA_SIG_MAX], size_t *sig_len)
{
    ENSURE(k != NULL && k->live && digest != NULL && sig != NULL && sig_len != NULL,
           COAPS_E_INVALID);
    TRY(crypto_psa_ready());
    /* PSA signs into r || s; TLS carries the DER Ecdsa-Sig-Value (RFC 8422
     * 5.4), which Mbed TLS's converter writes in minimal form. */
    uint8_t raw[P256_RAW_SIG_LEN];
    size_t raw_len = 0, n = 0;
    TRY(crypto_psa_status(psa_sign_hash(KEY_OF(k), ECDSA_SHA256, digest, 32, raw, sizeof raw,
                                        &raw_len)));
    ENSURE(raw_len == sizeof raw, COAPS_E_CRYPTO);
    ENSURE(mbedtls_ecdsa_raw_to_der(P256_BITS, raw, raw_len, sig, CRYPTO_ECDSA_SIG_MAX, &n) == 0,
           COAPS_E_CRYPTO);
    *sig_len = n;
    return COAPS_OK;
}

/* r || s from a DER signature, only if it is strict DER. Mbed TLS's
 * mbedtls_ecdsa_der_to_raw is lenient: it takes a needless leading zero
 * on an INTEGER (00 01 ...) and long-form lengths where the short form
 * fits. A signature is someone else's bytes (network input), and a lenient
 * parser makes them malleable, so it is re-encoded (DER is unique, X.690
 * 10) and must come out byte for byte the same. */
static bool ecdsa_strict_der_to_raw(const uint8_t *sig, size_t sig_len,
                                    uint8_t raw[P256_RAW_SIG_LEN])
{
    uint8_t again[CRYPTO_ECDSA_SIG_MAX];
    size_t raw_len = 0, again_len = 0;
    if (sig_len == 0 || sig_len > CRYPTO_ECDSA_SIG_MAX)
        return false;
    if (mbedtls_ecdsa_der_to_raw(P256_BITS, sig, sig_len, raw, P256_RAW_SIG_LEN, &raw_len) != 0 ||
        raw_len != P256_RAW_SIG_LEN)
        return false;
    if (mbedtls_ecdsa_raw_to_der(P256_BITS, raw, raw_len, again, sizeof again, &again_len) != 0)
        return false; /* r or s is zero */
    return again_len == sig_len && memcmp(again, sig, sig_len) == 0;
}

/* The peer's public point as a PSA key allowed to verify ECDSA-SHA256.
 * Only the uncompressed form; PSA checks that it lies on the curve. */
static coaps_status ecdsa_peer_key(const uint8_t *pub, size_t pub_len, psa_key_id_t *id)
{
    ENSURE(pub != NULL && pub_len == CRYPTO_P256_PUBLIC_LEN && pub[0] == POINT_UNCOMPRESSED,
           COAPS_E_MALFORMED);
    psa_key_attributes_t attr =
        key_attributes(P256_PUBLIC_KEY, P256_BITS, PSA_KEY_USAGE_VERIFY_HASH, ECDSA_SHA256);
    psa_status_t s = psa_import_key(&attr, pub, pub_len, id);
    psa_reset_key_attributes(&attr);
    if (s == PSA_ERROR_INVALID_ARGUMENT || s == PSA_ERROR_NOT_SUPPORTED)
        return COAPS_E_MALFORMED;
    return crypto_psa_status(s);
}

coaps_status crypto_ecdsa_p256_verify(const uint8_t *pub, size_t pub_len, const uint8_t digest[32],
                                      const uint8_t *sig, size_t sig_len)
{
    ENSURE(digest != NULL && (sig != NULL || sig_len == 0), COAPS_E_INVALID);
    TRY(crypto_psa_ready());
    psa_key_id_t id = PSA_KEY_ID_NULL;
    TRY(ecdsa_peer_key(pub, pub_len, &id));
    uint8_t raw[P256_RAW_SIG_LEN];
    coaps_status st = COAPS_E_VERIFY;
    if (ecdsa_strict_der_to_raw(sig, sig_len, raw)) {
        psa_status_t s = psa_verify_hash(id, ECDSA_SHA256, digest, 32, raw, sizeof raw);
        st = s == PSA_ERROR_INVALID_SIGNATURE ? COAPS_E_VERIFY : crypto_psa_status(s);
    }
    (void)psa_destroy_key(id);
    return st;
}

void crypto_sign_key_clear(struct crypto_sign_key *k)
{
    if (k == NULL || !k->live)
        return;
    (void)psa_destroy_key(KEY_OF(k)); /* Mbed TLS wipes the private key */
    crypto_wipe(&k->st, sizeof k->st);
    k->live = false;
}
