/*
 * test_cold.c - cold connections (coaps_dtls_cool): an established
 * session gives back its crypto backend's contexts and keeps its keys; the
 * next record in or out re-keys on its own. Our client and server in
 * memory with a fake clock: after cooling, records go both ways with the
 * sequence numbers running on, the replay window still refuses an old
 * record, a forged record still counts against the AEAD's failure limit
 * (and reaching it still ends the session), the key digest is unchanged,
 * and a cold session exports and imports (durable sessions) like a warm
 * one. On OpenSSL cooling gives something back; on PSA it never does (the
 * keys live in the key store), and everything else must hold the same.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "coaps/dtls.h"
#include "crypto/crypto.h"
#include "engine_harness.h"
#include "engine_asserts.h"

/* The backend that cooling gives something back on. */
static bool backend_cools(void)
{
    return strcmp(crypto_backend_name(), "openssl") == 0;
}

/* The 48-bit sequence number of a record's header (RFC 6347 4.1). */
static uint64_t rec_seq(const uint8_t *rec)
{
    uint64_t s = 0;
    for (int i = 5; i < 11; i++)
        s = (s << 8) | rec[i];
    return s;
}

/* One record from `from`, its bytes to rec; returns its length. */
static size_t seal(coaps_dtls_conn *from, const char *msg, uint8_t *rec)
{
    size_t len = 0;
    assert_int_equal(coaps_dtls_write(from, (const uint8_t *)msg, strlen(msg), rec, H_DGRAM_MAX,
                                      &len),
                     COAPS_OK);
    return len;
}

/* from -> to, one record; returns the record's sequence number. */
static uint64_t app_seq(struct h_net *n, coaps_dtls_conn *from, coaps_dtls_conn *to,
                        const char *msg)
{
    uint8_t rec[H_DGRAM_MAX];
    size_t len = seal(from, msg, rec);
    uint64_t seq = rec_seq(rec);
    assert_int_equal(coaps_dtls_input(to, rec, len, n->now), COAPS_OK);
    const uint8_t *p;
    size_t plen;
    assert_int_equal(coaps_dtls_read(to, &p, &plen), COAPS_OK);
    assert_int_equal(plen, strlen(msg));
    assert_memory_equal(p, msg, plen);
    return seq;
}

/* A record `to` drops: read nothing from it. */
static void dropped(struct h_net *n, coaps_dtls_conn *to, uint8_t *rec, size_t len)
{
    assert_int_equal(coaps_dtls_input(to, rec, len, n->now), COAPS_OK);
    const uint8_t *p;
    size_t plen;
    assert_int_equal(coaps_dtls_read(to, &p, &plen), COAPS_E_AGAIN);
}

static struct h_net *session(uint64_t seed)
{
    struct h_net *n = h_new(seed);
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 10000);
    assert_established(n);
    for (int i = 0; i < 3; i++) {
        app_roundtrip(n, &n->cl, &n->sv, "GET /light");
        app_roundtrip(n, &n->sv, &n->cl, "2.05 {\"on\":true}");
    }
    assert_true(coaps_dtls_hs_released(&n->sv));
    assert_true(coaps_dtls_hs_released(&n->cl));
    return n;
}

/* Cool conn: true once on OpenSSL (then false: cold already), never on PSA. */
static void cool(coaps_dtls_conn *conn)
{
    assert_int_equal(coaps_dtls_cool(conn), backend_cools());
    assert_false(coaps_dtls_cool(conn));
}

static void cold_server_goes_on(void **state)
{
    (void)state;
    struct h_net *n = session(1);
    uint8_t before[32], after[32];
    assert_int_equal(coaps_dtls_key_digest(&n->sv, before), COAPS_OK);
    uint64_t last_out = app_seq(n, &n->sv, &n->cl, "before");
    /* a client record the server reads before cooling, to replay after */
    uint8_t old[H_DGRAM_MAX], copy[H_DGRAM_MAX];
    size_t old_len = seal(&n->cl, "old", old);
    memcpy(copy, old, old_len);
    assert_int_equal(coaps_dtls_input(&n->sv, copy, old_len, n->now), COAPS_OK);
    const uint8_t *p;
    size_t plen;
    assert_int_equal(coaps_dtls_read(&n->sv, &p, &plen), COAPS_OK);
    coaps_dtls_stats st0 = coaps_dtls_get_stats(&n->sv);

    cool(&n->sv);
    assert_int_equal(coaps_dtls_state(&n->sv), COAPS_DTLS_ESTABLISHED);
    assert_int_equal(coaps_dtls_key_digest(&n->sv, after), COAPS_OK);
    assert_memory_equal(before, after, 32);
    /* out first: the write direction wakes, its numbers run on */
    assert_int_equal(app_seq(n, &n->sv, &n->cl, "after"), last_out + 1);
    /* the replay window is intact: the old record is refused (its read
     * key wakes on the way) */
    memcpy(copy, old, old_len);
    dropped(n, &n->sv, copy, old_len);
    assert_int_equal(coaps_dtls_get_stats(&n->sv).replays, st0.replays + 1);
    assert_int_equal(coaps_dtls_get_stats(&n->sv).auth_failures, st0.auth_failures);
    app_roundtrip(n, &n->cl, &n->sv, "GET /light again");

    /* cold again, and in first this time: a forgery still counts */
    cool(&n->sv);
    uint8_t rec[H_DGRAM_MAX];
    size_t len = seal(&n->cl, "forged", rec);
    rec[len - 1] ^= 0x01; /* the tag */
    dropped(n, &n->sv, rec, len);
    assert_int_equal(coaps_dtls_get_stats(&n->sv).auth_failures, st0.auth_failures + 1);
    assert_int_equal(coaps_dtls_state(&n->sv), COAPS_DTLS_ESTABLISHED);
    app_roundtrip(n, &n->cl, &n->sv, "GET /light once more");
    app_roundtrip(n, &n->sv, &n->cl, "2.05 once more");
    assert_int_equal(coaps_dtls_get_stats(&n->sv).auth_failures, st0.auth_failures + 1);
    h_free(n);
}

static void cold_client_goes_on(void **state)
{
    (void)state;
    struct h_net *n = session(2);
    uint64_t last_out = app_seq(n, &n->cl, &n->sv, "before");
    cool(&n->cl);
    cool(&n->sv);
    /* in first on the client, out first on the server */
    app_roundtrip(n, &n->sv, &n->cl, "2.05 notification");
    assert_int_equal(app_seq(n, &n->cl, &n->sv, "after"), last_out + 1);
    uint8_t a[32], b[32];
    assert_int_equal(coaps_dtls_key_digest(&n->cl, a), COAPS_OK);
    assert_int_equal(coaps_dtls_key_digest(&n->sv, b), COAPS_OK);
    assert_memory_equal(a, b, 32);
    h_free(n);
}

/* The AEAD failure limit (RFC 9147 4.5.3) is the connection's, not the
 * backend context's: cooling between forgeries does not reset it. */
static void cold_keeps_failure_limit(void **state)
{
    (void)state;
    struct h_net *n = h_new(3);
    n->scfg.auth_fail_limit = 3;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 10000);
    assert_established(n);
    app_roundtrip(n, &n->cl, &n->sv, "GET /light");
    for (int i = 0; i < 2; i++) {
        cool(&n->sv);
        uint8_t rec[H_DGRAM_MAX];
        size_t len = seal(&n->cl, "forged", rec);
        rec[len - 1] ^= 0x80;
        dropped(n, &n->sv, rec, len);
        assert_int_equal(coaps_dtls_get_stats(&n->sv).auth_failures, (uint64_t)i + 1);
        assert_int_equal(coaps_dtls_state(&n->sv), COAPS_DTLS_ESTABLISHED);
    }
    cool(&n->sv);
    uint8_t rec[H_DGRAM_MAX];
    size_t len = seal(&n->cl, "forged", rec);
    rec[len - 2] ^= 0x01;
    (void)coaps_dtls_input(&n->sv, rec, len, n->now);
    assert_int_equal(coaps_dtls_state(&n->sv), COAPS_DTLS_FAILED);
    assert_int_equal(coaps_dtls_error_reason(&n->sv).status, COAPS_E_AUTH_LIMIT);
    /* a failed connection is not cooled */
    assert_false(coaps_dtls_cool(&n->sv));
    h_free(n);
}

/* A cold session exports what a warm one does, and its import goes on. */
static void cold_exports(void **state)
{
    (void)state;
    struct h_net *n = session(4);
    uint8_t warm[COAPS_DTLS_EXPORT_MAX], cold[COAPS_DTLS_EXPORT_MAX];
    size_t warm_len = 0, cold_len = 0;
    coaps_status st = coaps_dtls_export(&n->sv, warm, sizeof warm, &warm_len);
    if (st == COAPS_E_UNSUPPORTED) { /* a build without durable sessions */
        h_free(n);
        skip();
    }
    assert_int_equal(st, COAPS_OK);
    cool(&n->sv);
    assert_int_equal(coaps_dtls_export(&n->sv, cold, sizeof cold, &cold_len), COAPS_OK);
    assert_int_equal(cold_len, warm_len);
    assert_memory_equal(cold, warm, warm_len);
    coaps_dtls_conn_clear(&n->sv);
    assert_int_equal(coaps_dtls_import(&n->sv, &n->scfg, cold, cold_len), COAPS_OK);
    app_roundtrip(n, &n->cl, &n->sv, "GET /light after restart");
    app_roundtrip(n, &n->sv, &n->cl, "2.05 after restart");
    h_free(n);
}

/* Only an established connection with its handshake context released
 * goes cold: a handshake keeps its contexts. */
static void handshake_stays_warm(void **state)
{
    (void)state;
    struct h_net *n = h_new(5);
    assert_int_equal(h_start(n), COAPS_OK);
    assert_false(coaps_dtls_cool(&n->cl));
    h_run(n, 10000);
    assert_established(n);
    app_roundtrip(n, &n->cl, &n->sv, "GET /light");
    h_free(n);
}

/* The crypto layer alone: a cold context seals what a warm one with the
 * same key seals, opens it, and exports the same key. */
static void aead_cold_equals_warm(void **state)
{
    (void)state;
    static const uint8_t key[16] = {0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
                                    0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f};
    static const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    static const uint8_t aad[13] = {23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 7, 0, 5};
    static const uint8_t msg[5] = {'h', 'e', 'l', 'l', 'o'};
    const enum crypto_aead_alg algs[] = {CRYPTO_AES_128_CCM_8, CRYPTO_AES_128_GCM};
    for (size_t k = 0; k < sizeof algs / sizeof algs[0]; k++) {
        struct crypto_aead warm, cold;
        assert_int_equal(crypto_aead_init(&warm, algs[k], key, sizeof key), COAPS_OK);
        assert_int_equal(crypto_aead_init(&cold, algs[k], key, sizeof key), COAPS_OK);
        assert_int_equal(crypto_aead_cool(&cold), backend_cools());
        uint8_t a[sizeof msg + CRYPTO_AEAD_TAG_MAX], b[sizeof a];
        assert_int_equal(crypto_aead_seal(&warm, nonce, aad, sizeof aad, msg, sizeof msg, a),
                         COAPS_OK);
        assert_int_equal(crypto_aead_seal(&cold, nonce, aad, sizeof aad, msg, sizeof msg, b),
                         COAPS_OK);
        size_t tag = crypto_aead_tag_len(algs[k]);
        assert_memory_equal(a, b, sizeof msg + tag);
        (void)crypto_aead_cool(&cold);
        assert_int_equal(crypto_aead_open(&cold, nonce, aad, sizeof aad, b, sizeof msg, b),
                         COAPS_OK);
        assert_memory_equal(b, msg, sizeof msg);
        (void)crypto_aead_cool(&cold);
        uint8_t kw[CRYPTO_AEAD_KEY_MAX], kc[CRYPTO_AEAD_KEY_MAX];
        size_t lw = 0, lc = 0;
        coaps_status sw = crypto_aead_export_key(&warm, kw, &lw);
        assert_int_equal(crypto_aead_export_key(&cold, kc, &lc), sw);
        if (sw == COAPS_OK) {
            assert_int_equal(lw, lc);
            assert_memory_equal(kw, kc, lw);
        }
        crypto_aead_clear(&warm);
        crypto_aead_clear(&cold); /* cold: nothing outside to free, no leak */
        assert_false(crypto_aead_cool(&cold));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cold_server_goes_on),      cmocka_unit_test(cold_client_goes_on),
        cmocka_unit_test(cold_keeps_failure_limit), cmocka_unit_test(cold_exports),
        cmocka_unit_test(handshake_stays_warm),     cmocka_unit_test(aead_cold_equals_warm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
