/*
 * engine_asserts.h - cmocka checks shared by the engine tests that drive a
 * client and a server through engine_harness.h: both ends established with
 * the same keys, and one application record crossing intact. Include after
 * <cmocka.h> and "dtls/engine_harness.h".
 */
#ifndef COAPS_TEST_ENGINE_ASSERTS_H
#define COAPS_TEST_ENGINE_ASSERTS_H

/* Both ends agree on the session's keys (a digest of them, not the keys). */
static void assert_same_keys(struct h_net *n)
{
    uint8_t a[32], b[32];
    assert_int_equal(coaps_dtls_key_digest(&n->cl, a), COAPS_OK);
    assert_int_equal(coaps_dtls_key_digest(&n->sv, b), COAPS_OK);
    assert_memory_equal(a, b, 32);
}

/* Both ends established, their handshake contexts given back, same keys;
 * a failure says why each end stopped. */
static void assert_established(struct h_net *n)
{
    char buf[256];
    if (coaps_dtls_state(&n->cl) != COAPS_DTLS_ESTABLISHED)
        fail_msg("client not established: %s", coaps_dtls_error_str(&n->cl, buf, sizeof buf));
    assert_true(n->sv_up);
    if (coaps_dtls_state(&n->sv) != COAPS_DTLS_ESTABLISHED)
        fail_msg("server not established: %s", coaps_dtls_error_str(&n->sv, buf, sizeof buf));
    assert_true(coaps_dtls_hs_released(&n->cl));
    assert_true(coaps_dtls_hs_released(&n->sv));
    assert_same_keys(n);
}

/* Send one application record from->to and check it arrives intact, and
 * alone. */
static void app_roundtrip(struct h_net *n, coaps_dtls_conn *from, coaps_dtls_conn *to,
                          const char *msg)
{
    uint8_t rec[H_DGRAM_MAX];
    size_t len = 0;
    assert_int_equal(coaps_dtls_write(from, (const uint8_t *)msg, strlen(msg), rec, sizeof rec,
                                      &len),
                     COAPS_OK);
    assert_int_equal(coaps_dtls_input(to, rec, len, n->now), COAPS_OK);
    const uint8_t *p;
    size_t plen;
    assert_int_equal(coaps_dtls_read(to, &p, &plen), COAPS_OK);
    assert_int_equal(plen, strlen(msg));
    assert_memory_equal(p, msg, plen);
    assert_int_equal(coaps_dtls_read(to, &p, &plen), COAPS_E_AGAIN);
}

#endif /* COAPS_TEST_ENGINE_ASSERTS_H */
