/*
 * test_suites.c - the cipher-suite table (src/dtls/suites.c) against the
 * RFCs that define each suite: AEAD, PRF hash, key and IV lengths, record
 * expansion.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dtls/suites.h"

static void rows_match_their_rfcs(void **state)
{
    (void)state;
    const struct dtls_suite *s;
    /* RFC 6655 3/4: CCM_8 tag 8, salt 4 + explicit nonce 8, SHA-256 PRF */
    s = dtls_suite_find(0xC0A8);
    assert_non_null(s);
    assert_int_equal(s->aead, CRYPTO_AES_128_CCM_8);
    assert_int_equal(s->prf, CRYPTO_SHA256);
    assert_int_equal(s->key_len, 16);
    assert_int_equal(s->fixed_iv_len, 4);
    assert_int_equal(dtls_suite_overhead(s), 16);
    s = dtls_suite_find(0xC0A4);
    assert_int_equal(s->tag_len, 16);
    assert_int_equal(dtls_suite_overhead(s), 24);
    /* RFC 5487: the SHA384 suite uses a SHA-384 PRF and a 32-byte key */
    s = dtls_suite_find(0x00A9);
    assert_int_equal(s->aead, CRYPTO_AES_256_GCM);
    assert_int_equal(s->prf, CRYPTO_SHA384);
    assert_int_equal(s->key_len, 32);
    s = dtls_suite_find(0x00A8);
    assert_int_equal(s->prf, CRYPTO_SHA256);
    /* RFC 7905 2: 12-byte IV, no explicit nonce, tag 16 */
    s = dtls_suite_find(0xCCAB);
    assert_int_equal(s->fixed_iv_len, 12);
    assert_int_equal(s->explicit_nonce_len, 0);
    assert_int_equal(dtls_suite_overhead(s), 16);
    /* key lengths agree with the crypto layer */
    for (uint16_t id = 0; id < 0xffff; id++) {
        s = dtls_suite_find(id);
        if (!s)
            continue;
        assert_int_equal(s->key_len, crypto_aead_key_len(s->aead));
        assert_int_equal(s->tag_len, crypto_aead_tag_len(s->aead));
        /* the kind follows the IANA name */
        assert_int_equal(s->kx, strncmp(s->name, "TLS_PSK_", 8) == 0 ? DTLS_KX_PSK
                                                                       : DTLS_KX_ECDHE_ECDSA);
    }
    assert_non_null(dtls_suite_find(0xC0AE)); /* ECDHE_ECDSA CCM_8, RFC 7251 */
    assert_int_equal(dtls_suite_find(0xC0AE)->kx, DTLS_KX_ECDHE_ECDSA);
    assert_null(dtls_suite_find(0x008C)); /* CBC: never */
}

static void default_and_configured_order(void **state)
{
    (void)state;
    coaps_dtls_config cfg = {0};
    const uint16_t *list;
    size_t n = dtls_suites_configured(&cfg, &list);
    assert_int_equal(n, 10);
    assert_int_equal(list[0], 0xC0A8); /* RFC 7252 9.1.3.1: CCM_8 first */
    assert_int_equal(list[5], 0xC0AE); /* RFC 7252 9.1.3.2: CCM_8 first */
    static const uint16_t mine[] = {0xCCAB, 0x00A8};
    cfg.suites = mine;
    cfg.suites_len = 2;
    n = dtls_suites_configured(&cfg, &list);
    assert_int_equal(n, 2);
    assert_int_equal(list[0], 0xCCAB);
}

/* RFC 9147 4.5.3 and Appendix B: records that may fail authentication
 * under one key, per AEAD; every suite's AEAD has a row, and CCM_8, the
 * 64-bit tag, has by far the smallest (B.3: v <= 2^7). */
static void integrity_limits_per_aead(void **state)
{
    (void)state;
    assert_int_equal(dtls_aead_auth_fail_limit(CRYPTO_AES_128_CCM_8), 128);
    assert_int_equal(dtls_aead_auth_fail_limit(CRYPTO_AES_128_CCM), 11863283); /* 2^23.5 */
    assert_int_equal(dtls_aead_auth_fail_limit(CRYPTO_AES_128_GCM), UINT64_C(1) << 36);
    assert_int_equal(dtls_aead_auth_fail_limit(CRYPTO_AES_256_GCM), UINT64_C(1) << 36);
    assert_int_equal(dtls_aead_auth_fail_limit(CRYPTO_CHACHA20_POLY1305), UINT64_C(1) << 36);
    size_t n;
    const uint16_t *all = coaps_dtls_suites_all(&n);
    for (size_t i = 0; i < n; i++) {
        const struct dtls_suite *s = dtls_suite_find(all[i]);
        assert_non_null(s);
        assert_true(dtls_aead_auth_fail_limit(s->aead) >= 128);
        if (s->tag_len == 8)
            assert_int_equal(dtls_aead_auth_fail_limit(s->aead), 128);
        else
            assert_true(dtls_aead_auth_fail_limit(s->aead) > (UINT64_C(1) << 23));
    }
}

static void names(void **state)
{
    (void)state;
    assert_int_equal(coaps_dtls_suite_by_name("TLS_PSK_WITH_AES_128_CCM"), 0xC0A4);
    assert_int_equal(coaps_dtls_suite_by_name("psk-aes256-gcm-sha384"), 0x00A9);
    assert_int_equal(coaps_dtls_suite_by_name(""), 0);
    assert_int_equal(coaps_dtls_suite_by_name(NULL), 0);
    assert_null(coaps_dtls_suite_name(0x1234));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rows_match_their_rfcs),
        cmocka_unit_test(default_and_configured_order),
        cmocka_unit_test(integrity_limits_per_aead),
        cmocka_unit_test(names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
