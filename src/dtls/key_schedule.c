/* key_schedule.c - TLS 1.2 PRF-based secrets (see key_schedule.h). */
#include "dtls/key_schedule.h"

#include <string.h>

#include "common/try.h"
#include "common/wire.h"

coaps_status dtls_psk_premaster(const uint8_t *psk, size_t psk_len, uint8_t *out, size_t cap,
                                size_t *out_len)
{
    ENSURE(psk_len > 0 && psk_len <= COAPS_DTLS_PSK_KEY_MAX, COAPS_E_INVALID);
    struct wire_wr w = wire_wr_init(out, cap);
    size_t zeros;
    /* RFC 4279 2: "other_secret" is N zero octets for plain PSK. */
    TRY(wire_wr_u16(&w, (uint16_t)psk_len));
    TRY(wire_wr_reserve(&w, psk_len, &zeros));
    TRY(wire_wr_u16(&w, (uint16_t)psk_len));
    TRY(wire_wr_bytes(&w, psk, psk_len));
    *out_len = w.off;
    return COAPS_OK;
}

coaps_status dtls_master_secret(enum crypto_hash_alg prf, const uint8_t *pms, size_t pms_len,
                                bool ems, const uint8_t *session_hash, size_t hash_len,
                                const uint8_t client_random[DTLS_RANDOM_LEN],
                                const uint8_t server_random[DTLS_RANDOM_LEN],
                                uint8_t ms[DTLS_MASTER_SECRET_LEN])
{
    if (ems) /* RFC 7627 4 */
        return crypto_tls12_prf(prf, pms, pms_len, "extended master secret", session_hash,
                                hash_len, ms, DTLS_MASTER_SECRET_LEN);
    uint8_t seed[2 * DTLS_RANDOM_LEN]; /* RFC 5246 8.1: client_random + server_random */
    memcpy(seed, client_random, DTLS_RANDOM_LEN);
    memcpy(seed + DTLS_RANDOM_LEN, server_random, DTLS_RANDOM_LEN);
    return crypto_tls12_prf(prf, pms, pms_len, "master secret", seed, sizeof(seed), ms,
                            DTLS_MASTER_SECRET_LEN);
}

coaps_status dtls_ms_key(enum crypto_hash_alg prf, const uint8_t ms[DTLS_MASTER_SECRET_LEN],
                         struct crypto_hmac_key *ms_key)
{
    return crypto_hmac_key_init(ms_key, prf, ms, DTLS_MASTER_SECRET_LEN);
}

coaps_status dtls_key_block(const struct dtls_suite *suite, const struct crypto_hmac_key *ms_key,
                            const uint8_t client_random[DTLS_RANDOM_LEN],
                            const uint8_t server_random[DTLS_RANDOM_LEN],
                            struct dtls_key_block *kb)
{
    uint8_t seed[2 * DTLS_RANDOM_LEN]; /* RFC 5246 6.3: server_random + client_random */
    memcpy(seed, server_random, DTLS_RANDOM_LEN);
    memcpy(seed + DTLS_RANDOM_LEN, client_random, DTLS_RANDOM_LEN);
    size_t k = suite->key_len, iv = suite->fixed_iv_len;
    kb->len = 2 * (k + iv);
    ENSURE(kb->len <= sizeof(kb->bytes), COAPS_E_INVALID);
    ENSURE(ms_key->alg == suite->prf, COAPS_E_INVALID);
    TRY(crypto_tls12_prf_keyed(ms_key, "key expansion", seed, sizeof(seed), kb->bytes, kb->len));
    /* RFC 5246 6.3 order; AEAD suites have no MAC keys. */
    kb->client_key = kb->bytes;
    kb->server_key = kb->bytes + k;
    kb->client_iv = kb->bytes + 2 * k;
    kb->server_iv = kb->bytes + 2 * k + iv;
    return COAPS_OK;
}

coaps_status dtls_verify_data(const struct crypto_hmac_key *ms_key, bool client,
                              const uint8_t *transcript_hash, size_t hash_len,
                              uint8_t out[DTLS_VERIFY_DATA_LEN])
{
    return crypto_tls12_prf_keyed(ms_key, client ? "client finished" : "server finished",
                                  transcript_hash, hash_len, out, DTLS_VERIFY_DATA_LEN);
}
