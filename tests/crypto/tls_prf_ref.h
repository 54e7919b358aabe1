/*
 * tls_prf_ref.h - test helper: the TLS 1.2 PRF (RFC 5246 5) straight from the
 * crypto library, as a reference independent of ours (src/crypto/crypto_prf.c
 * builds P_hash on crypto_hmac_key_* by itself):
 *   OpenSSL: the EVP_KDF "TLS1-PRF" (its seed is label || seed);
 *   PSA: the key derivation PSA_ALG_TLS12_PRF(hash), whose inputs are the
 *     seed, the secret and the label, in that order (psa/crypto_values.h).
 * Header-only (like hexutil.h), included as "crypto/tls_prf_ref.h" after
 * <cmocka.h>; md is "SHA256" or "SHA384".
 */
#ifndef COAPS_TEST_TLS_PRF_REF_H
#define COAPS_TEST_TLS_PRF_REF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(COAPS_CRYPTO_PSA)
#include <psa/crypto.h>
#else
#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#endif

#if defined(COAPS_CRYPTO_PSA)

static inline void tls_prf_ref(const char *md, const uint8_t *secret, size_t secret_len,
                               const char *label, const uint8_t *seed, size_t seed_len,
                               uint8_t *out, size_t out_len)
{
    psa_algorithm_t hash = strcmp(md, "SHA384") == 0 ? PSA_ALG_SHA_384 : PSA_ALG_SHA_256;
    assert_true(strcmp(md, "SHA256") == 0 || strcmp(md, "SHA384") == 0);
    assert_int_equal(psa_crypto_init(), PSA_SUCCESS);
    psa_key_derivation_operation_t op = PSA_KEY_DERIVATION_OPERATION_INIT;
    assert_int_equal(psa_key_derivation_setup(&op, PSA_ALG_TLS12_PRF(hash)), PSA_SUCCESS);
    assert_int_equal(psa_key_derivation_input_bytes(&op, PSA_KEY_DERIVATION_INPUT_SEED, seed,
                                                    seed_len),
                     PSA_SUCCESS);
    assert_int_equal(psa_key_derivation_input_bytes(&op, PSA_KEY_DERIVATION_INPUT_SECRET, secret,
                                                    secret_len),
                     PSA_SUCCESS);
    assert_int_equal(psa_key_derivation_input_bytes(&op, PSA_KEY_DERIVATION_INPUT_LABEL,
                                                    (const uint8_t *)label, strlen(label)),
                     PSA_SUCCESS);
    assert_int_equal(psa_key_derivation_output_bytes(&op, out, out_len), PSA_SUCCESS);
    assert_int_equal(psa_key_derivation_abort(&op), PSA_SUCCESS);
}

#else

static inline void tls_prf_ref(const char *md, const uint8_t *secret, size_t secret_len,
                               const char *label, const uint8_t *seed, size_t seed_len,
                               uint8_t *out, size_t out_len)
{
    uint8_t full_seed[256];
    size_t label_len = strlen(label);
    assert_true(label_len + seed_len <= sizeof full_seed);
    memcpy(full_seed, label, label_len);
    memcpy(full_seed + label_len, seed, seed_len);
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
    assert_non_null(kdf);
    EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf);
    assert_non_null(ctx);
    OSSL_PARAM params[4];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md, 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)secret,
                                                  secret_len);
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, full_seed,
                                                  label_len + seed_len);
    params[3] = OSSL_PARAM_construct_end();
    assert_int_equal(EVP_KDF_derive(ctx, out, out_len, params), 1);
    EVP_KDF_CTX_free(ctx);
}

#endif /* COAPS_CRYPTO_PSA */

#endif /* COAPS_TEST_TLS_PRF_REF_H */
