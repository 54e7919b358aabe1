/*
 * crypto_sig.c - the TLS SignatureSchemes we verify (RFC 8446 4.2.3; in
 * TLS 1.2 the SignatureAndHashAlgorithm pairs of RFC 5246 7.4.1.4.1), the
 * order we offer them in, and which key type each needs: one table for
 * every backend.
 */
#include "common/try.h"
#include "crypto/crypto_backend.h"

static const struct crypto_sig_scheme_info schemes[] = {
    {CRYPTO_SIG_ECDSA_SECP256R1_SHA256, CRYPTO_SIG_FAM_ECDSA, CRYPTO_SIG_HASH_SHA256, 32},
    {CRYPTO_SIG_ECDSA_SECP384R1_SHA384, CRYPTO_SIG_FAM_ECDSA, CRYPTO_SIG_HASH_SHA384, 48},
    {CRYPTO_SIG_ECDSA_SECP521R1_SHA512, CRYPTO_SIG_FAM_ECDSA, CRYPTO_SIG_HASH_SHA512, 64},
    {CRYPTO_SIG_RSA_PKCS1_SHA256, CRYPTO_SIG_FAM_RSA_PKCS1, CRYPTO_SIG_HASH_SHA256, 32},
    {CRYPTO_SIG_RSA_PKCS1_SHA384, CRYPTO_SIG_FAM_RSA_PKCS1, CRYPTO_SIG_HASH_SHA384, 48},
    {CRYPTO_SIG_RSA_PKCS1_SHA512, CRYPTO_SIG_FAM_RSA_PKCS1, CRYPTO_SIG_HASH_SHA512, 64},
    {CRYPTO_SIG_RSA_PSS_RSAE_SHA256, CRYPTO_SIG_FAM_RSA_PSS, CRYPTO_SIG_HASH_SHA256, 32},
    {CRYPTO_SIG_RSA_PSS_RSAE_SHA384, CRYPTO_SIG_FAM_RSA_PSS, CRYPTO_SIG_HASH_SHA384, 48},
    {CRYPTO_SIG_RSA_PSS_RSAE_SHA512, CRYPTO_SIG_FAM_RSA_PSS, CRYPTO_SIG_HASH_SHA512, 64},
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

const struct crypto_sig_scheme_info *crypto_sig_scheme_find(uint16_t code)
{
    for (size_t i = 0; i < COAPS_ARRAY_LEN(schemes); i++)
        if (schemes[i].code == code)
            return &schemes[i];
    return NULL;
}

bool crypto_sig_family_fits(enum crypto_sig_family fam, enum crypto_peer_key_type type)
{
    if (fam == CRYPTO_SIG_FAM_ECDSA)
        return type == CRYPTO_PEER_KEY_EC_P256 || type == CRYPTO_PEER_KEY_EC_P384;
    return type == CRYPTO_PEER_KEY_RSA;
}

bool crypto_sig_scheme_hash(uint16_t scheme, enum crypto_hash_alg *alg)
{
    const struct crypto_sig_scheme_info *row = crypto_sig_scheme_find(scheme);
    if (row == NULL || alg == NULL)
        return false;
    switch (row->hash) {
    case CRYPTO_SIG_HASH_SHA256: *alg = CRYPTO_SHA256; return true;
    case CRYPTO_SIG_HASH_SHA384: *alg = CRYPTO_SHA384; return true;
    case CRYPTO_SIG_HASH_SHA512: return false; /* no running SHA-512 transcript */
    }
    return false;
}
