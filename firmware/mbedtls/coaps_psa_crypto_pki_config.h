/* coaps_psa_crypto_pki_config.h - the PSA algorithms of the ECDHE-ECDSA
 * build of the firmware's Mbed TLS (see coaps_mbedtls_pki_config.h): those
 * of the PSK build, ECDH and ECDSA on secp256r1, and SHA-384. */
#ifndef COAPS_FW_PSA_CRYPTO_PKI_CONFIG_H
#define COAPS_FW_PSA_CRYPTO_PKI_CONFIG_H

#include "coaps_psa_crypto_config.h"

/* The handshake keeps a SHA-384 transcript beside the SHA-256 one until it
 * knows the hash of the client's CertificateVerify (RFC 5246 7.4.8 lets it
 * be either of those the server lists). */
#define PSA_WANT_ALG_SHA_384 1
#define PSA_WANT_ALG_ECDH 1
#define PSA_WANT_ALG_ECDSA 1
#define PSA_WANT_ECC_SECP_R1_256 1
#define PSA_WANT_KEY_TYPE_ECC_PUBLIC_KEY 1
#define PSA_WANT_KEY_TYPE_ECC_KEY_PAIR_BASIC 1
#define PSA_WANT_KEY_TYPE_ECC_KEY_PAIR_IMPORT 1
#define PSA_WANT_KEY_TYPE_ECC_KEY_PAIR_EXPORT 1
#define PSA_WANT_KEY_TYPE_ECC_KEY_PAIR_GENERATE 1

#endif /* COAPS_FW_PSA_CRYPTO_PKI_CONFIG_H */
