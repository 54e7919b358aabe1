/*
 * coaps_mbedtls_config.h - Mbed TLS 3.6 for the firmware (rv32, no OS): PSA
 * Crypto with exactly what the PSK light needs, built by
 * scripts/install-mbedtls-rv32 from the same source as the host build.
 *   AES-128-CCM and CCM_8 (RFC 6655 suites), SHA-256 and HMAC-SHA-256 (the
 *   TLS 1.2 PRF, cookies, Finished). Nothing else: no X.509, no ECC, no
 *   files, no threads, no generic cipher layer.
 * Entropy comes from the port (coaps_port_entropy), given to PSA through
 * MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG: the firmware defines
 * mbedtls_psa_external_get_random(). Key material lives in static slots
 * (MBEDTLS_PSA_STATIC_KEY_SLOTS): no heap for keys.
 */
#ifndef COAPS_FW_MBEDTLS_CONFIG_H
#define COAPS_FW_MBEDTLS_CONFIG_H

/* PSA Crypto, algorithms chosen in psa_crypto_config.h (PSA_WANT_*) */
#define MBEDTLS_PSA_CRYPTO_C
#define MBEDTLS_PSA_CRYPTO_CONFIG
#define MBEDTLS_PSA_CRYPTO_CONFIG_FILE "coaps_psa_crypto_config.h"
#define MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG
#define MBEDTLS_PSA_ASSUME_EXCLUSIVE_BUFFERS /* one security domain: no copies */

/* Keys (about 100 bytes of RAM each): two AEAD keys per session, 8 for
 * the 4 session slots (a handshaking session is one of them); one HMAC key
 * for the handshake (the premaster secret's, then the master secret's,
 * never both); the cookie keys, current and previous, and for a moment a
 * third while they rotate: 12 at most, and one spare. tests/firmware holds
 * the 4 sessions at once. */
#define MBEDTLS_PSA_STATIC_KEY_SLOTS
#define MBEDTLS_PSA_KEY_SLOT_COUNT 13
/* the largest key: an HMAC key of a 48-byte master secret, or a PSK */
#define MBEDTLS_PSA_STATIC_KEY_SLOT_BUFFER_SIZE 64

/* Memory: the firmware has no heap. Any allocation Mbed TLS attempts goes
 * to coaps_fw_calloc (firmware/crypto/alloc_none.c), which refuses it
 * and counts it, so /stats shows whether the PSK path ever asked (it does
 * not: static key slots, AEAD and MAC contexts on the caller's side). */
#include <stddef.h>
void *coaps_fw_calloc(size_t n, size_t size);
void coaps_fw_free(void *p);
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_PLATFORM_CALLOC_MACRO coaps_fw_calloc
#define MBEDTLS_PLATFORM_FREE_MACRO coaps_fw_free
#define MBEDTLS_NO_PLATFORM_ENTROPY

/* Small rather than fast: AES tables in flash and only one of them,
 * SHA-256 with its loop not unrolled. */
#define MBEDTLS_AES_ROM_TABLES
#define MBEDTLS_AES_FEWER_TABLES
#define MBEDTLS_SHA256_SMALLER
/* CCM runs AES forward only (counter mode and CBC-MAC, RFC 3610 2): no
 * inverse cipher, no decryption key schedule or tables. */
#define MBEDTLS_BLOCK_CIPHER_NO_DECRYPT

#endif /* COAPS_FW_MBEDTLS_CONFIG_H */
