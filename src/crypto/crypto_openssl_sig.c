/*
 * crypto_openssl_sig.c - peers' public keys and the verification of their
 * handshake signatures (ServerKeyExchange RFC 8422 5.4 / RFC 5246 7.4.3,
 * CertificateVerify RFC 5246 7.4.8) under TLS SignatureScheme codes.
 * Handshake path: allocates inside OpenSSL and frees before returning.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "common/try.h"
#include "crypto/crypto_openssl_pki.h"

/* RSA moduli we verify with: below 2048 bits is too weak (NIST SP 800-57
 * part 1, 112-bit security); above 8192 the signature would exceed
 * CRYPTO_SIG_VERIFY_MAX and cost a peer-chosen amount of work. */
#define RSA_BITS_MIN 2048
#define RSA_BITS_MAX 8192
/* Room for an EC group name such as "prime256v1". */
#define GROUP_NAME_MAX 32

enum sig_family { FAM_ECDSA, FAM_RSA_PKCS1, FAM_RSA_PSS };

/* The schemes we verify: hash and padding family per code (RFC 8446 4.2.3). */
static const struct scheme_row {
    uint16_t code;
    enum sig_family fam;
    const char *md;
} schemes[] = {
    {CRYPTO_SIG_ECDSA_SECP256R1_SHA256, FAM_ECDSA, "SHA256"},
    {CRYPTO_SIG_ECDSA_SECP384R1_SHA384, FAM_ECDSA, "SHA384"},
    {CRYPTO_SIG_ECDSA_SECP521R1_SHA512, FAM_ECDSA, "SHA512"},
    {CRYPTO_SIG_RSA_PKCS1_SHA256, FAM_RSA_PKCS1, "SHA256"},
    {CRYPTO_SIG_RSA_PKCS1_SHA384, FAM_RSA_PKCS1, "SHA384"},
    {CRYPTO_SIG_RSA_PKCS1_SHA512, FAM_RSA_PKCS1, "SHA512"},
    {CRYPTO_SIG_RSA_PSS_RSAE_SHA256, FAM_RSA_PSS, "SHA256"},
    {CRYPTO_SIG_RSA_PSS_RSAE_SHA384, FAM_RSA_PSS, "SHA384"},
    {CRYPTO_SIG_RSA_PSS_RSAE_SHA512, FAM_RSA_PSS, "SHA512"},
};

/* Preference order for what we offer (see crypto.h). */
static const uint16_t preferred[] = {
    CRYPTO_SIG_ECDSA_SECP256R1_SHA256, CRYPTO_SIG_ECDSA_SECP384R1_SHA384,
    CRYPTO_SIG_ECDSA_SECP521R1_SHA512, CRYPTO_SIG_RSA_PSS_RSAE_SHA256,
    CRYPTO_SIG_RSA_PSS_RSAE_SHA384,    CRYPTO_SIG_RSA_PSS_RSAE_SHA512,
    CRYPTO_SIG_RSA_PKCS1_SHA256,       CRYPTO_SIG_RSA_PKCS1_SHA384,
    CRYPTO_SIG_RSA_PKCS1_SHA512,
};
_Static_assert(COAPS_ARRAY_LEN(preferred) == COAPS_ARRAY_LEN(schemes),
               "every verifiable scheme is offered once");
_Static_assert(COAPS_ARRAY_LEN(preferred) <= CRYPTO_SIG_SCHEMES_MAX, "bound in crypto.h");

const uint16_t *crypto_sig_verify_schemes(size_t *n)
{
    if (n != NULL)
        *n = COAPS_ARRAY_LEN(preferred);
    return preferred;
}

static const struct scheme_row *scheme_find(uint16_t code)
{
    for (size_t i = 0; i < COAPS_ARRAY_LEN(schemes); i++)
        if (schemes[i].code == code)
            return &schemes[i];
    return NULL;
}

enum crypto_peer_key_type crypto_pki_key_type(const EVP_PKEY *pk)
{
    if (pk == NULL)
        return CRYPTO_PEER_KEY_NONE;
    if (EVP_PKEY_is_a(pk, "RSA")) { /* rsaEncryption only: not RSA-PSS-restricted keys */
        int bits = EVP_PKEY_get_bits(pk);
        return bits >= RSA_BITS_MIN && bits <= RSA_BITS_MAX ? CRYPTO_PEER_KEY_RSA
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
    out->impl = pk;
    out->type = type;
    return COAPS_OK;
}

static bool family_fits(enum sig_family fam, enum crypto_peer_key_type type)
{
    if (fam == FAM_ECDSA)
        return type == CRYPTO_PEER_KEY_EC_P256 || type == CRYPTO_PEER_KEY_EC_P384;
    return type == CRYPTO_PEER_KEY_RSA;
}

bool crypto_peer_key_supports(const struct crypto_peer_key *key, uint16_t scheme)
{
    const struct scheme_row *row = scheme_find(scheme);
    return key != NULL && key->impl != NULL && row != NULL && family_fits(row->fam, key->type);
}

/* Padding for RSA: PKCS#1 v1.5, or PSS with MGF1 of the same hash and a
 * salt as long as the hash (RFC 8446 4.2.3, rsa_pss_rsae_*). */
static int set_padding(EVP_PKEY_CTX *pc, const struct scheme_row *row)
{
    if (row->fam == FAM_RSA_PKCS1)
        return EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING);
    if (row->fam == FAM_RSA_PSS)
        return EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) == 1 &&
               EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) == 1 &&
               EVP_PKEY_CTX_set_rsa_mgf1_md_name(pc, row->md, NULL) == 1;
    return 1;
}

coaps_status crypto_peer_key_verify(const struct crypto_peer_key *key, uint16_t scheme,
                                    const uint8_t *msg, size_t msg_len, const uint8_t *sig,
                                    size_t sig_len)
{
    ENSURE(key != NULL && key->impl != NULL, COAPS_E_INVALID);
    ENSURE((msg != NULL || msg_len == 0) && (sig != NULL || sig_len == 0), COAPS_E_INVALID);
    const struct scheme_row *row = scheme_find(scheme);
    ENSURE(row != NULL && family_fits(row->fam, key->type), COAPS_E_UNSUPPORTED);
    if (sig_len == 0 || sig_len > CRYPTO_SIG_VERIFY_MAX)
        return COAPS_E_VERIFY;

    coaps_status st = COAPS_E_CRYPTO;
    EVP_PKEY_CTX *pc = NULL; /* owned by mc */
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    if (mc == NULL || EVP_DigestVerifyInit_ex(mc, &pc, row->md, NULL, NULL, key->impl, NULL) != 1 ||
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

bool crypto_sig_scheme_hash(uint16_t scheme, enum crypto_hash_alg *alg)
{
    const struct scheme_row *row = scheme_find(scheme);
    if (row == NULL || alg == NULL)
        return false;
    if (strcmp(row->md, "SHA256") == 0)
        *alg = CRYPTO_SHA256;
    else if (strcmp(row->md, "SHA384") == 0)
        *alg = CRYPTO_SHA384;
    else
        return false;
    return true;
}

coaps_status crypto_peer_key_verify_digest(const struct crypto_peer_key *key, uint16_t scheme,
                                           const uint8_t *digest, size_t digest_len,
                                           const uint8_t *sig, size_t sig_len)
{
    ENSURE(key != NULL && key->impl != NULL && digest != NULL, COAPS_E_INVALID);
    ENSURE(sig != NULL || sig_len == 0, COAPS_E_INVALID);
    const struct scheme_row *row = scheme_find(scheme);
    ENSURE(row != NULL && family_fits(row->fam, key->type), COAPS_E_UNSUPPORTED);
    const EVP_MD *md = EVP_get_digestbyname(row->md);
    ENSURE(md != NULL, COAPS_E_CRYPTO);
    ENSURE(digest_len == (size_t)EVP_MD_get_size(md), COAPS_E_INVALID);
    if (sig_len == 0 || sig_len > CRYPTO_SIG_VERIFY_MAX)
        return COAPS_E_VERIFY;

    coaps_status st = COAPS_E_CRYPTO;
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(key->impl, NULL);
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
    EVP_PKEY_free(key->impl);
    key->impl = NULL;
    key->type = CRYPTO_PEER_KEY_NONE;
}
