/*
 * test_key_schedule.c - PSK premaster layout (RFC 4279 2), master secret
 * with and without extended_master_secret (RFC 7627 4, RFC 5246 8.1), key
 * block split (RFC 5246 6.3) and Finished verify_data (RFC 5246 7.4.9).
 * Known answers come from the crypto library's own TLS 1.2 PRF (OpenSSL's
 * TLS1-PRF KDF, PSA's PSA_ALG_TLS12_PRF: tests/crypto/tls_prf_ref.h), an
 * implementation independent of ours (src/crypto builds the PRF on HMAC by
 * itself).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "crypto/tls_prf_ref.h"
#include "dtls/key_schedule.h"

static void fill(uint8_t *p, size_t n, uint8_t start)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(start + 7 * i);
}

/* RFC 4279 2: uint16 N, N zero octets, uint16 N, the PSK. */
static void psk_premaster_layout(void **state)
{
    (void)state;
    uint8_t out[DTLS_PSK_PREMASTER_MAX];
    size_t len = 0;
    assert_int_equal(dtls_psk_premaster((const uint8_t *)"abc", 3, out, sizeof out, &len),
                     COAPS_OK);
    const uint8_t want[] = {0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x03, 'a', 'b', 'c'};
    assert_int_equal(len, sizeof want);
    assert_memory_equal(out, want, sizeof want);
    /* a 64-byte key gives the largest layout */
    uint8_t key[64];
    fill(key, sizeof key, 1);
    assert_int_equal(dtls_psk_premaster(key, sizeof key, out, sizeof out, &len), COAPS_OK);
    assert_int_equal(len, 2 + 64 + 2 + 64);
    assert_int_equal(out[0], 0);
    assert_int_equal(out[1], 64);
    assert_int_equal(out[66], 0);
    assert_int_equal(out[67], 64);
    assert_memory_equal(out + 68, key, 64);
    /* empty or oversized keys are refused */
    assert_int_equal(dtls_psk_premaster(key, 0, out, sizeof out, &len), COAPS_E_INVALID);
    assert_int_equal(dtls_psk_premaster(key, 65, out, sizeof out, &len), COAPS_E_INVALID);
    assert_int_equal(dtls_psk_premaster(key, 64, out, 100, &len), COAPS_E_NOSPACE);
}

static void master_secret_matches_reference(void **state)
{
    (void)state;
    uint8_t pms[DTLS_PSK_PREMASTER_MAX], cr[32], sr[32], ms[48], want[48], seed[64];
    size_t pms_len;
    assert_int_equal(dtls_psk_premaster((const uint8_t *)"secretPSK", 9, pms, sizeof pms,
                                        &pms_len),
                     COAPS_OK);
    fill(cr, 32, 0x10);
    fill(sr, 32, 0x80);
    /* RFC 5246 8.1: seed = client_random + server_random */
    assert_int_equal(dtls_master_secret(CRYPTO_SHA256, pms, pms_len, false, NULL, 0, cr, sr, ms),
                     COAPS_OK);
    memcpy(seed, cr, 32);
    memcpy(seed + 32, sr, 32);
    tls_prf_ref("SHA256", pms, pms_len, "master secret", seed, 64, want, 48);
    assert_memory_equal(ms, want, 48);

    /* RFC 7627 4: seed = session_hash, for SHA-256 and SHA-384 PRFs */
    uint8_t sh[48];
    fill(sh, 48, 0x33);
    assert_int_equal(dtls_master_secret(CRYPTO_SHA256, pms, pms_len, true, sh, 32, cr, sr, ms),
                     COAPS_OK);
    tls_prf_ref("SHA256", pms, pms_len, "extended master secret", sh, 32, want, 48);
    assert_memory_equal(ms, want, 48);
    assert_int_equal(dtls_master_secret(CRYPTO_SHA384, pms, pms_len, true, sh, 48, cr, sr, ms),
                     COAPS_OK);
    tls_prf_ref("SHA384", pms, pms_len, "extended master secret", sh, 48, want, 48);
    assert_memory_equal(ms, want, 48);
}

/* RFC 5246 6.3: key_block = PRF(ms, "key expansion", server_random +
 * client_random), split client key, server key, client IV, server IV. */
static void key_block_per_suite(void **state)
{
    (void)state;
    static const struct {
        uint16_t id;
        const char *md;
        size_t key, iv;
    } cases[] = {
        {COAPS_DTLS_PSK_AES_128_CCM_8, "SHA256", 16, 4},
        {COAPS_DTLS_PSK_AES_128_CCM, "SHA256", 16, 4},
        {COAPS_DTLS_PSK_AES_128_GCM_SHA256, "SHA256", 16, 4},
        {COAPS_DTLS_PSK_AES_256_GCM_SHA384, "SHA384", 32, 4},
        {COAPS_DTLS_PSK_CHACHA20_POLY1305_SHA256, "SHA256", 32, 12},
    };
    uint8_t ms[48], cr[32], sr[32], seed[64], want[DTLS_KEY_BLOCK_MAX];
    fill(ms, 48, 0x55);
    fill(cr, 32, 0x01);
    fill(sr, 32, 0x02);
    memcpy(seed, sr, 32);
    memcpy(seed + 32, cr, 32);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct dtls_suite *s = dtls_suite_find(cases[i].id);
        assert_non_null(s);
        struct dtls_key_block kb;
        struct crypto_hmac_key key;
        assert_int_equal(dtls_ms_key(s->prf, ms, &key), COAPS_OK);
        assert_int_equal(dtls_key_block(s, &key, cr, sr, &kb), COAPS_OK);
        crypto_hmac_key_clear(&key);
        size_t k = cases[i].key, iv = cases[i].iv;
        assert_int_equal(kb.len, 2 * (k + iv));
        tls_prf_ref(cases[i].md, ms, 48, "key expansion", seed, 64, want, kb.len);
        assert_memory_equal(kb.client_key, want, k);
        assert_memory_equal(kb.server_key, want + k, k);
        assert_memory_equal(kb.client_iv, want + 2 * k, iv);
        assert_memory_equal(kb.server_iv, want + 2 * k + iv, iv);
    }
}

static void verify_data_matches_reference(void **state)
{
    (void)state;
    uint8_t ms[48], h[48], vd[12], want[12];
    fill(ms, 48, 0x21);
    fill(h, 48, 0x42);
    struct crypto_hmac_key k256, k384;
    assert_int_equal(dtls_ms_key(CRYPTO_SHA256, ms, &k256), COAPS_OK);
    assert_int_equal(dtls_ms_key(CRYPTO_SHA384, ms, &k384), COAPS_OK);
    assert_int_equal(dtls_verify_data(&k256, true, h, 32, vd), COAPS_OK);
    tls_prf_ref("SHA256", ms, 48, "client finished", h, 32, want, 12);
    assert_memory_equal(vd, want, 12);
    assert_int_equal(dtls_verify_data(&k384, false, h, 48, vd), COAPS_OK);
    tls_prf_ref("SHA384", ms, 48, "server finished", h, 48, want, 12);
    assert_memory_equal(vd, want, 12);
    /* client and server labels differ */
    uint8_t other[12];
    assert_int_equal(dtls_verify_data(&k384, true, h, 48, other), COAPS_OK);
    assert_memory_not_equal(vd, other, 12);
    crypto_hmac_key_clear(&k256);
    crypto_hmac_key_clear(&k384);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(psk_premaster_layout),
        cmocka_unit_test(master_secret_matches_reference),
        cmocka_unit_test(key_block_per_suite),
        cmocka_unit_test(verify_data_matches_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
