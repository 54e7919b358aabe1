/*
 * coaps_mbedtls_pki_config.h - Mbed TLS 3.6 for the ECDHE-ECDSA build of
 * the firmware (FW_PKI, docs/firmware.md): everything of the PSK build
 * (coaps_mbedtls_config.h, included first and left as it is) and what
 * certificates add:
 *   ECDH and ECDSA on secp256r1 (RFC 8422: the one curve of
 *   TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, RFC 7252 9.1.3.3), through PSA;
 *   X.509 certificate parsing and path validation, the pk layer that turns
 *   a certificate's key into a PSA key, and PEM (our chain, key and CAs
 *   are PEM in flash).
 * No RSA, no other curve: a peer's certificate signed with either is
 * refused (unsupported_certificate or unknown_ca), never half-checked.
 * Built by scripts/install-mbedtls-rv32 --pki, cached apart from the PSK
 * build's library.
 */
#ifndef COAPS_FW_MBEDTLS_PKI_CONFIG_H
#define COAPS_FW_MBEDTLS_PKI_CONFIG_H

#include "coaps_mbedtls_config.h"

#undef MBEDTLS_PSA_CRYPTO_CONFIG_FILE
#define MBEDTLS_PSA_CRYPTO_CONFIG_FILE "coaps_psa_crypto_pki_config.h"

/* Memory: this build has a heap (firmware/crypto/alloc_heap.c gives
 * coaps_fw_calloc picolibc's malloc on a fixed region): Mbed TLS's bignums
 * and X.509 parser allocate, unlike anything of the PSK build. */

/* Certificates: parse, check a path (x509.c), read keys (cred.c). */
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PK_WRITE_C /* a key's canonical SubjectPublicKeyInfo */
#define MBEDTLS_OID_C
/* X.509 and pk hash and verify through PSA, as on the host (no MD module) */
#define MBEDTLS_USE_PSA_CRYPTO
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_BASE64_C

/* SHA-384 (for a CertificateVerify that uses it) with SHA-512's loop not
 * unrolled, as SHA-256's. */
#define MBEDTLS_SHA512_SMALLER

/* secp256r1 with its fast reduction (FIPS 186-3 D.2): a few KB of code for
 * several times fewer instructions per handshake. */
#define MBEDTLS_ECP_NIST_OPTIM

/* Key slots: the PSK build's 13, and our signing key (for life), the
 * handshake's ECDHE key, the CA's key while a path is checked and the
 * client's key for its CertificateVerify: 17, and one spare. A slot holds
 * up to an uncompressed P-256 public key (65 bytes); the HMAC keys of the
 * PSK build (64) still fit. */
#undef MBEDTLS_PSA_KEY_SLOT_COUNT
#define MBEDTLS_PSA_KEY_SLOT_COUNT 18
#undef MBEDTLS_PSA_STATIC_KEY_SLOT_BUFFER_SIZE
#define MBEDTLS_PSA_STATIC_KEY_SLOT_BUFFER_SIZE 72

#endif /* COAPS_FW_MBEDTLS_PKI_CONFIG_H */
