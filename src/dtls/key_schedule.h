/*
 * key_schedule.h - TLS 1.2 secrets for DTLS 1.2 PSK suites:
 * PSK premaster secret (RFC 4279 2), master secret with or without the
 * extended master secret (RFC 7627 4 / RFC 5246 8.1), key block
 * (RFC 5246 6.3) and Finished verify_data (RFC 5246 7.4.9).
 * Pure functions over the crypto interface; no state.
 */
#ifndef COAPS_DTLS_KEY_SCHEDULE_H
#define COAPS_DTLS_KEY_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "dtls/handshake_msg.h" /* DTLS_RANDOM_LEN, DTLS_VERIFY_DATA_LEN */
#include "dtls/suites.h"

#define DTLS_MASTER_SECRET_LEN 48 /* RFC 5246 8.1 */
/* RFC 4279 2: uint16 N, N zeros, uint16 N, psk. */
#define DTLS_PSK_PREMASTER_MAX (2 + COAPS_DTLS_PSK_KEY_MAX + 2 + COAPS_DTLS_PSK_KEY_MAX)
/* 2 x (key + fixed IV), no MAC keys for AEAD suites (RFC 5246 6.3). */
#define DTLS_KEY_BLOCK_MAX (2 * (CRYPTO_AEAD_KEY_MAX + CRYPTO_AEAD_NONCE_LEN))

coaps_status dtls_psk_premaster(const uint8_t *psk, size_t psk_len, uint8_t *out, size_t cap,
                                size_t *out_len);

/* ems: session_hash (hash_len bytes) is the transcript hash up to and
 * including ClientKeyExchange (RFC 7627 3); otherwise the randoms are used. */
coaps_status dtls_master_secret(enum crypto_hash_alg prf, const uint8_t *pms, size_t pms_len,
                                bool ems, const uint8_t *session_hash, size_t hash_len,
                                const uint8_t client_random[DTLS_RANDOM_LEN],
                                const uint8_t server_random[DTLS_RANDOM_LEN],
                                uint8_t ms[DTLS_MASTER_SECRET_LEN]);

/* The key block split into its parts. */
struct dtls_key_block {
    uint8_t bytes[DTLS_KEY_BLOCK_MAX];
    size_t len;
    const uint8_t *client_key, *server_key, *client_iv, *server_iv;
};

/* The master secret prepared once as an HMAC key (crypto_hmac_key_clear
 * when done): the key block and both Finished messages come from this one
 * preparation. */
coaps_status dtls_ms_key(enum crypto_hash_alg prf, const uint8_t ms[DTLS_MASTER_SECRET_LEN],
                         struct crypto_hmac_key *ms_key);

/* key_block = PRF(ms, "key expansion", server_random + client_random);
 * ms_key's hash must be the suite's PRF hash. */
coaps_status dtls_key_block(const struct dtls_suite *suite, const struct crypto_hmac_key *ms_key,
                            const uint8_t client_random[DTLS_RANDOM_LEN],
                            const uint8_t server_random[DTLS_RANDOM_LEN],
                            struct dtls_key_block *kb);

/* verify_data = PRF(ms, "client finished"|"server finished", hash)[0..11]. */
coaps_status dtls_verify_data(const struct crypto_hmac_key *ms_key, bool client,
                              const uint8_t *transcript_hash, size_t hash_len,
                              uint8_t out[DTLS_VERIFY_DATA_LEN]);

#endif /* COAPS_DTLS_KEY_SCHEDULE_H */
