/* coaps_psa_crypto_config.h - the PSA algorithms of the firmware's Mbed TLS (see
 * coaps_mbedtls_config.h): AES-CCM (tag 16 and 8), SHA-256, HMAC. */
#ifndef COAPS_FW_PSA_CRYPTO_CONFIG_H
#define COAPS_FW_PSA_CRYPTO_CONFIG_H

#define PSA_WANT_ALG_CCM 1
#define PSA_WANT_ALG_SHA_256 1
#define PSA_WANT_ALG_HMAC 1
#define PSA_WANT_KEY_TYPE_AES 1
#define PSA_WANT_KEY_TYPE_HMAC 1
#define PSA_WANT_KEY_TYPE_RAW_DATA 1

#endif /* COAPS_FW_PSA_CRYPTO_CONFIG_H */
