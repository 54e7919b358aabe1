/*
 * crypto_state.h - how many bytes of backend state each crypto context
 * (crypto.h) holds in the caller's memory, for the backend chosen at
 * configure time (COAPS_CRYPTO_PSA defined: PSA Crypto on Mbed TLS 3.6;
 * otherwise OpenSSL 3). Each backend _Static_asserts that its state fits,
 * so a size here that is too small fails the build, never a session.
 */
#ifndef COAPS_CRYPTO_STATE_H
#define COAPS_CRYPTO_STATE_H

#if defined(COAPS_CRYPTO_PSA)
/* PSA: a running hash is a psa_hash_operation_t held in place (232 bytes
 * on Mbed TLS 3.6 with SHA-512 built in); keys are psa_key_id_t handles
 * into the PSA key store plus the algorithm; the trust store and our
 * credential (configuration, loaded once) point to what Mbed TLS's x509
 * module parsed. */
#define CRYPTO_HASH_STATE_SIZE 232
#define CRYPTO_HMAC_KEY_STATE_SIZE 16
#define CRYPTO_AEAD_STATE_SIZE 16
#define CRYPTO_KX_STATE_SIZE 16
#define CRYPTO_SIGN_KEY_STATE_SIZE 16
#define CRYPTO_TRUST_STATE_SIZE 8
#define CRYPTO_PEER_KEY_STATE_SIZE 16
#define CRYPTO_CREDENTIAL_STATE_SIZE 8
#else
/* OpenSSL: a running hash is libcrypto's SHA-2 context held in place
 * (SHA512_CTX, 216 bytes, for SHA-384; openssl/hash.c); a prepared HMAC
 * key points to its two prepared SHA-2 states. EVP objects are opaque and
 * live in libcrypto; we hold their pointers, plus, for an AEAD, the
 * direction it is keyed for and the key (OpenSSL binds the direction at
 * keying time: see openssl/aead.c). */
#define CRYPTO_HASH_STATE_SIZE 216
#define CRYPTO_HMAC_KEY_STATE_SIZE 8
#define CRYPTO_AEAD_STATE_SIZE 56
#define CRYPTO_KX_STATE_SIZE 8
#define CRYPTO_SIGN_KEY_STATE_SIZE 8
#define CRYPTO_TRUST_STATE_SIZE 8
#define CRYPTO_PEER_KEY_STATE_SIZE 8
#define CRYPTO_CREDENTIAL_STATE_SIZE 8
#endif

#endif /* COAPS_CRYPTO_STATE_H */
