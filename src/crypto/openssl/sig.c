/*
 * openssl/sig.c - peers' public keys and the verification of their
 * handshake signatures (ServerKeyExchange RFC 8422 5.4 / RFC 5246 7.4.3,
 * CertificateVerify RFC 5246 7.4.8) under TLS SignatureScheme codes.
 * Handshake path: allocates inside OpenSSL and frees before returning.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "common/try.h"
#include "crypto/openssl/pki.h"

/* Backend state of struct crypto_peer_key: a reference to the key. */
struct peer_key_state {
    EVP_PKEY *pkey;
};
CRYPTO_STATE_FITS(struct peer_key_state, struct crypto_peer_key);

EVP_PKEY *crypto_pki_peer_key_pkey(const struct crypto_peer_key *key)
{
    return key != NULL && key->live ? CRYPTO_CSTATE_OF(struct peer_key_state, key)->pkey : NULL;
}

/* Room for an EC group name such as "prime256v1". */
#define GROUP_NAME_MAX 32

/* The OpenSSL digest name of a scheme's hash. */
static const char *scheme_md(const struct crypto_sig_scheme_info *row)
{
    switch (row->hash) {
    case CRYPTO_SIG_HASH_SHA256: return "SHA256";
    case CRYPTO_SIG_HASH_SHA384: return "SHA384";
    case CRYPTO_SIG_HASH_SHA512: return "SHA512";
    }
    return NULL;
}

enum crypto_peer_key_type crypto_pki_key_type(const EVP_PKEY *pk)
{
    if (pk == NULL)
        return CRYPTO_PEER_KEY_NONE;
    if (EVP_PKEY_is_a(pk, "RSA")) { /* rsaEncryption only: not RSA-PSS-restricted keys */
        int bits = EVP_PKEY_get_bits(pk);
        return bits >= CRYPTO_RSA_BITS_MIN && bits <= CRYPTO_RSA_BITS_MAX ? CRYPTO_PEER_KEY_RSA
                                                            : CRYPTO_PEER_KEY_NONE;
    }
    if (!EVP_PKEY_is_a(pk, "EC"))
        return CRYPTO_PEER_KEY_NONE;
    char group[GROUP_NAME_MAX];
    size_t glen = 0;
    if (EVP_PKEY_get_group_name(pk, group, sizeof group, &glen) != 1) {
        ERR_clear_error(); /* explicit curve parameters: not a named group */
        return CRYPTO_PEER_KEY_NONE;
    }
    if (strcmp(group, "prime256v1") == 0)
        return CRYPTO_PEER_KEY_EC_P256;
    if (strcmp(group, "secp384r1") == 0)
        return CRYPTO_PEER_KEY_EC_P384;
    return CRYPTO_PEER_KEY_NONE;
}

coaps_status crypto_pki_peer_key_set(struct crypto_peer_key *out, EVP_PKEY *pk)
{
    ENSURE(out != NULL && pk != NULL, COAPS_E_INVALID);
    enum crypto_peer_key_type type = crypto_pki_key_type(pk);
    ENSURE(type != CRYPTO_PEER_KEY_NONE, COAPS_E_UNSUPPORTED);
    ENSURE(EVP_PKEY_up_ref(pk) == 1, COAPS_E_CRYPTO);
    CRYPTO_STATE_OF(struct peer_key_state, out)->pkey = pk;
    out->live = true;
    out->type = type;
    return COAPS_OK;
}

bool crypto_peer_key_supports(const struct crypto_peer_key *key, uint16_t scheme)
{
    const struct crypto_sig_scheme_info *row = crypto_sig_scheme_find(scheme);
    return key != NULL && key->live && row != NULL && crypto_sig_family_fits(row->fam, key->type);
}

/* Padding for RSA: PKCS#1 v1.5, or PSS with MGF1 of the same hash and a
 * salt as long as the hash (RFC 8446 4.2.3, rsa_pss_rsae_*). */
static int set_padding(EVP_PKEY_CTX *pc, const struct crypto_sig_scheme_info *row)
{
    if (row->fam == CRYPTO_SIG_FAM_RSA_PKCS1)
        return EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING);
    if (row->fam == CRYPTO_SIG_FAM_RSA_PSS)
        return EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) == 1 &&
               EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) == 1 &&
               EVP_PKEY_CTX_set_rsa_mgf1_md_name(pc, scheme_md(row), NULL) == 1;
    return 1;
}

coaps_status crypto_peer_key_verify(const struct crypto_peer_key *key, uint16_t scheme,
                                    const uint8_t *msg, size_t msg_len, const uint8_t *sig,
                                    size_t sig_len)
{
    ENSURE(key != NULL && key->live, COAPS_E_INVALID);
    ENSURE((msg != NULL || msg_len == 0) && (sig != NULL || sig_len == 0), COAPS_E_INVALID);
    const struct crypto_sig_scheme_info *row = crypto_sig_scheme_find(scheme);
    ENSURE(row != NULL && crypto_sig_family_fits(row->fam, key->type), COAPS_E_UNSUPPORTED);
    if (sig_len == 0 || sig_len > CRYPTO_SIG_VERIFY_MAX)
        return COAPS_E_VERIFY;

    coaps_status st = COAPS_E_CRYPTO;
    EVP_PKEY_CTX *pc = NULL; /* owned by mc */
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    if (mc == NULL || EVP_DigestVerifyInit_ex(mc, &pc, scheme_md(row), NULL, NULL, crypto_pki_peer_key_pkey(key), NULL) != 1 ||
        set_padding(pc, row) != 1)
        goto out;
    /* 1 = valid; 0 = bad signature; <0 = malformed signature (e.g. not DER
     * or wrong RSA length): all network input, all just "does not verify" */
    const uint8_t *m = msg_len ? msg : (const uint8_t *)""; /* never a NULL pointer */
    st = EVP_DigestVerify(mc, sig, sig_len, m, msg_len) == 1 ? COAPS_OK : COAPS_E_VERIFY;
out:
    ERR_clear_error();
    EVP_MD_CTX_free(mc);
    return st;
}

coaps_status crypto_peer_key_verify_digest(const struct crypto_peer_key *key, uint16_t scheme,
                                           const uint8_t *digest, size_t digest_len,
                                           const uint8_t *sig, size_t sig_len)
{
    ENSURE(key != NULL && key->live && digest != NULL, COAPS_E_INVALID);
    ENSURE(sig != NULL || sig_len == 0, COAPS_E_INVALID);
    const struct crypto_sig_scheme_info *row = crypto_sig_scheme_find(scheme);
    ENSURE(row != NULL && crypto_sig_family_fits(row->fam, key->type), COAPS_E_UNSUPPORTED);
    const EVP_MD *md = EVP_get_digestbyname(scheme_md(row));
    ENSURE(md != NULL, COAPS_E_CRYPTO);
    ENSURE(digest_len == (size_t)EVP_MD_get_size(md), COAPS_E_INVALID);
    if (sig_len == 0 || sig_len > CRYPTO_SIG_VERIFY_MAX)
        return COAPS_E_VERIFY;

    coaps_status st = COAPS_E_CRYPTO;
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(crypto_pki_peer_key_pkey(key), NULL);
    if (pc == NULL || EVP_PKEY_verify_init(pc) != 1 || EVP_PKEY_CTX_set_signature_md(pc, md) != 1 ||
        set_padding(pc, row) != 1)
        goto out;
    st = EVP_PKEY_verify(pc, sig, sig_len, digest, digest_len) == 1 ? COAPS_OK : COAPS_E_VERIFY;
out:
    ERR_clear_error();
    EVP_PKEY_CTX_free(pc);
    return st;
}

void crypto_peer_key_clear(struct crypto_peer_key *key)
{
    if (key == NULL)
        return;
    EVP_PKEY_free(crypto_pki_peer_key_pkey(key));
    key->live = false;
    key->type = CRYPTO_PEER_KEY_NONE;
}
