/*
 * openssl/pk.c - OpenSSL 3 backend of the public-key part of
 * crypto.h: ephemeral ECDH over P-256 and X25519 (RFC 8422, RFC 7748) and
 * ECDSA P-256 / SHA-256 signatures in DER. Handshake path only: these
 * functions allocate inside OpenSSL and free before returning (except the
 * key pairs, which live until *_clear).
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include "common/try.h"
#include "crypto/crypto_backend.h"

#define P256_FIELD_LEN 32 /* bytes of a P-256 coordinate or scalar */
#define X25519_LEN 32     /* RFC 7748 5: keys and outputs are 32 bytes */

/* Backend state of struct crypto_kx and struct crypto_sign_key: the key
 * pair, held by libcrypto. */
struct pkey_state {
    EVP_PKEY *pkey;
};
CRYPTO_STATE_FITS(struct pkey_state, struct crypto_kx);
CRYPTO_STATE_FITS(struct pkey_state, struct crypto_sign_key);
#define PKEY_OF(ctx) (CRYPTO_CSTATE_OF(struct pkey_state, ctx)->pkey)
#define PKEY_SET(ctx, pk) (CRYPTO_STATE_OF(struct pkey_state, ctx)->pkey = (pk))

/* ---- P-256 helpers -------------------------------------------------------- */

/* pub = priv * G, uncompressed. COAPS_E_INVALID unless 1 <= priv < n. */
static coaps_status p256_public_of(const uint8_t priv[P256_FIELD_LEN],
                                   uint8_t pub[CRYPTO_P256_PUBLIC_LEN])
{
    coaps_status st = COAPS_E_CRYPTO;
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    BIGNUM *d = BN_bin2bn(priv, P256_FIELD_LEN, NULL);
    EC_POINT *p = g ? EC_POINT_new(g) : NULL;
    if (g == NULL || d == NULL || p == NULL)
        goto out;
    if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(g)) >= 0) {
        st = COAPS_E_INVALID;
        goto out;
    }
    if (EC_POINT_mul(g, p, d, NULL, NULL, NULL) == 1 &&
        EC_POINT_point2oct(g, p, POINT_CONVERSION_UNCOMPRESSED, pub, CRYPTO_P256_PUBLIC_LEN,
                           NULL) == CRYPTO_P256_PUBLIC_LEN)
        st = COAPS_OK;
out:
    EC_POINT_free(p);
    BN_clear_free(d);
    EC_GROUP_free(g);
    return st;
}

/* An EVP_PKEY for P-256 from a private scalar (may be NULL) and an
 * uncompressed public point. NULL when OpenSSL refuses it (for a peer's
 * point: not on the curve). */
static EVP_PKEY *p256_pkey(const uint8_t *priv, const uint8_t *pub)
{
    EVP_PKEY *pkey = NULL;
    BIGNUM *d = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *pc = NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    if (bld == NULL)
        return NULL;
    int ok = OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
             OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub,
                                              CRYPTO_P256_PUBLIC_LEN);
    if (ok && priv != NULL) {
        d = BN_secure_new();
        ok = d != NULL && BN_bin2bn(priv, P256_FIELD_LEN, d) != NULL &&
             OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d);
    }
    if (ok)
        params = OSSL_PARAM_BLD_to_param(bld);
    if (params != NULL)
        pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (pc != NULL && EVP_PKEY_fromdata_init(pc) == 1)
        (void)EVP_PKEY_fromdata(pc, &pkey, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params);
    EVP_PKEY_CTX_free(pc);
    OSSL_PARAM_free(params); /* BLD_to_param copies into secure memory as needed */
    BN_clear_free(d);
    OSSL_PARAM_BLD_free(bld);
    return pkey;
}

/* Our uncompressed point out of a P-256 key pair. */
static coaps_status p256_public_get(EVP_PKEY *pkey, uint8_t pub[CRYPTO_P256_PUBLIC_LEN])
{
    size_t n = 0;
    ENSURE(EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub,
                                           CRYPTO_P256_PUBLIC_LEN, &n) == 1,
           COAPS_E_CRYPTO);
    ENSURE(n == CRYPTO_P256_PUBLIC_LEN && pub[0] == POINT_CONVERSION_UNCOMPRESSED,
           COAPS_E_CRYPTO);
    return COAPS_OK;
}

/* A peer's P-256 point: only the uncompressed form (RFC 8422 5.4.1, we
 * offer no other point format) and it must lie on the curve. */
static EVP_PKEY *p256_peer(const uint8_t *pub, size_t len)
{
    if (pub == NULL || len != CRYPTO_P256_PUBLIC_LEN || pub[0] != POINT_CONVERSION_UNCOMPRESSED)
        return NULL;
    return p256_pkey(NULL, pub);
}

/* ---- ECDHE ----------------------------------------------------------------- */

static coaps_status kx_public(struct crypto_kx *kx, uint8_t *pub, size_t *pub_len)
{
    size_t n = X25519_LEN;
    if (kx->group == CRYPTO_KX_P256) {
        TRY(p256_public_get(PKEY_OF(kx), pub));
        *pub_len = CRYPTO_P256_PUBLIC_LEN;
        return COAPS_OK;
    }
    ENSURE(EVP_PKEY_get_raw_public_key(PKEY_OF(kx), pub, &n) == 1 && n == X25519_LEN,
           COAPS_E_CRYPTO);
    *pub_len = n;
    return COAPS_OK;
}

/* Common tail of generate/import: keep the key, export the public value. */
static coaps_status kx_adopt(struct crypto_kx *kx, EVP_PKEY *pkey, enum crypto_kx_group group,
                             uint8_t *pub, size_t *pub_len)
{
    PKEY_SET(kx, pkey);
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
    EVP_PKEY *pkey = group == CRYPTO_KX_P256 ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")
                                             : EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    ENSURE(pkey != NULL, COAPS_E_CRYPTO);
    return kx_adopt(kx, pkey, group, pub, pub_len);
}

coaps_status crypto_kx_import_private(struct crypto_kx *kx, enum crypto_kx_group group,
                                      const uint8_t *priv, size_t priv_len,
                                      uint8_t pub[CRYPTO_KX_PUBLIC_MAX], size_t *pub_len)
{
    ENSURE(kx != NULL, COAPS_E_INVALID);
    kx->live = false;
    ENSURE(priv != NULL && pub != NULL && pub_len != NULL, COAPS_E_INVALID);
    EVP_PKEY *pkey = NULL;
    if (group == CRYPTO_KX_P256) {
        ENSURE(priv_len == P256_FIELD_LEN, COAPS_E_INVALID);
        uint8_t point[CRYPTO_P256_PUBLIC_LEN];
        TRY(p256_public_of(priv, point));
        pkey = p256_pkey(priv, point);
    } else if (group == CRYPTO_KX_X25519) {
        ENSURE(priv_len == X25519_LEN, COAPS_E_INVALID);
        pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, priv_len);
    } else {
        return COAPS_E_INVALID;
    }
    ENSURE(pkey != NULL, COAPS_E_CRYPTO);
    return kx_adopt(kx, pkey, group, pub, pub_len);
}

coaps_status crypto_kx_derive(const struct crypto_kx *kx, const uint8_t *peer, size_t peer_len,
                              uint8_t secret[CRYPTO_KX_SECRET_MAX], size_t *secret_len)
{
    ENSURE(kx != NULL && kx->live && secret != NULL && secret_len != NULL,
           COAPS_E_INVALID);
    bool x25519 = kx->group == CRYPTO_KX_X25519;
    EVP_PKEY *pk = NULL;
    if (x25519) {
        if (peer != NULL && peer_len == X25519_LEN)
            pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, peer_len);
    } else {
        pk = p256_peer(peer, peer_len);
    }
    ENSURE(pk != NULL, COAPS_E_MALFORMED);

    coaps_status st = COAPS_E_CRYPTO;
    size_t n = CRYPTO_KX_SECRET_MAX;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, PKEY_OF(kx), NULL);
    if (c == NULL || EVP_PKEY_derive_init(c) != 1)
        goto out;
    /* validate_peer = 1: the point must be a valid public key of the group */
    if (EVP_PKEY_derive_set_peer_ex(c, pk, 1) != 1) {
        st = COAPS_E_MALFORMED;
        goto out;
    }
    if (EVP_PKEY_derive(c, secret, &n) != 1 || n != CRYPTO_KX_SECRET_MAX) {
        /* OpenSSL's X25519 refuses an all-zero result here */
        st = x25519 ? COAPS_E_MALFORMED : COAPS_E_CRYPTO;
        goto out;
    }
    static const uint8_t zero[CRYPTO_KX_SECRET_MAX] = {0};
    if (crypto_ct_equal(secret, zero, sizeof zero)) { /* RFC 8422 5.11, RFC 7748 6.1 */
        st = COAPS_E_MALFORMED;
        goto out;
    }
    *secret_len = n;
    st = COAPS_OK;
out:
    if (st != COAPS_OK)
        crypto_wipe(secret, CRYPTO_KX_SECRET_MAX);
    EVP_PKEY_CTX_free(c);
    EVP_PKEY_free(pk);
    return st;
}

void crypto_kx_clear(struct crypto_kx *kx)
{
    if (kx == NULL || !kx->live)
        return;
    EVP_PKEY_free(PKEY_OF(kx)); /* OpenSSL clears private key material on free */
    PKEY_SET(kx, NULL);
    kx->live = false;
}

/* ---- ECDSA P-256 / SHA-256 -------------------------------------------------- */

coaps_status crypto_ecdsa_p256_generate(struct crypto_sign_key *k)
{
    ENSURE(k != NULL, COAPS_E_INVALID);
    k->live = false;
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    ENSURE(pk != NULL, COAPS_E_CRYPTO);
    PKEY_SET(k, pk);
    k->live = true;
    return COAPS_OK;
}

coaps_status crypto_ecdsa_p256_import(struct crypto_sign_key *k,
                                      const uint8_t priv[CRYPTO_P256_PRIVATE_LEN])
{
    ENSURE(k != NULL, COAPS_E_INVALID);
    k->live = false;
    ENSURE(priv != NULL, COAPS_E_INVALID);
    uint8_t pub[CRYPTO_P256_PUBLIC_LEN];
    TRY(p256_public_of(priv, pub));
    EVP_PKEY *pk = p256_pkey(priv, pub);
    ENSURE(pk != NULL, COAPS_E_CRYPTO);
    PKEY_SET(k, pk);
    k->live = true;
    return COAPS_OK;
}

coaps_status crypto_ecdsa_p256_public(const struct crypto_sign_key *k,
                                      uint8_t pub[CRYPTO_P256_PUBLIC_LEN])
{
    ENSURE(k != NULL && k->live && pub != NULL, COAPS_E_INVALID);
    return p256_public_get(PKEY_OF(k), pub);
}

coaps_status crypto_ecdsa_p256_sign(const struct crypto_sign_key *k, const uint8_t digest[32],
                                    uint8_t sig[CRYPTO_ECDSA_SIG_MAX], size_t *sig_len)
{
    ENSURE(k != NULL && k->live && digest != NULL && sig != NULL && sig_len != NULL,
           COAPS_E_INVALID);
    coaps_status st = COAPS_E_CRYPTO;
    size_t n = CRYPTO_ECDSA_SIG_MAX;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, PKEY_OF(k), NULL);
    if (c != NULL && EVP_PKEY_sign_init(c) == 1 &&
        EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) == 1 &&
        EVP_PKEY_sign(c, sig, &n, digest, 32) == 1 && n <= CRYPTO_ECDSA_SIG_MAX) {
        *sig_len = n;
        st = COAPS_OK;
    }
    EVP_PKEY_CTX_free(c);
    return st;
}

coaps_status crypto_ecdsa_p256_verify(const uint8_t *pub, size_t pub_len, const uint8_t digest[32],
                                      const uint8_t *sig, size_t sig_len)
{
    ENSURE(digest != NULL && (sig != NULL || sig_len == 0), COAPS_E_INVALID);
    EVP_PKEY *pk = p256_peer(pub, pub_len);
    ENSURE(pk != NULL, COAPS_E_MALFORMED);
    coaps_status st = COAPS_E_CRYPTO;
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
    if (c != NULL && EVP_PKEY_verify_init(c) == 1 &&
        EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) == 1) {
        /* OpenSSL re-encodes the parsed signature and compares, so only
         * strict DER verifies. */
        st = sig_len > 0 && EVP_PKEY_verify(c, sig, sig_len, digest, 32) == 1 ? COAPS_OK
                                                                              : COAPS_E_VERIFY;
    }
    EVP_PKEY_CTX_free(c);
    EVP_PKEY_free(pk);
    return st;
}

void crypto_sign_key_clear(struct crypto_sign_key *k)
{
    if (k == NULL || !k->live)
        return;
    EVP_PKEY_free(PKEY_OF(k));
    PKEY_SET(k, NULL);
    k->live = false;
}
