/*
 * test_engine_cid.c - Connection ID (RFC 9146) in the engine, end to end
 * in memory: our client against our server with every combination of CID
 * lengths, the record format each direction uses, records that do not
 * belong (wrong CID, no CID where one is due, a CID where none is), and
 * the "newest record" signal an edge uses to follow an address change
 * (RFC 9146 6). Interoperability with Mbed TLS is tested by
 * tests/interop/test_dtls_mbedtls.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "coaps/dtls.h"
#include "common/try.h"
#include "common/wire.h"
#include "dtls/conn.h"
#include "engine_harness.h"
#include "engine_asserts.h"

static const uint16_t all_suites[] = {
    COAPS_DTLS_PSK_AES_128_CCM_8,      COAPS_DTLS_PSK_AES_128_CCM,
    COAPS_DTLS_PSK_AES_128_GCM_SHA256, COAPS_DTLS_PSK_AES_256_GCM_SHA384,
    COAPS_DTLS_PSK_CHACHA20_POLY1305_SHA256,
};

#define CT_TLS12_CID 25
#define CT_APP 23

/* A handshake with CIDs: client_len / server_len < 0 means that side does
 * not use the extension at all. */
static struct h_net *cid_handshake(int client_len, int server_len, uint16_t suite,
                                   uint64_t seed)
{
    struct h_net *n = h_new(seed);
    static uint16_t one[1];
    one[0] = suite;
    n->ccfg.suites = one;
    n->ccfg.suites_len = 1;
    n->ccfg.cid = client_len >= 0;
    n->ccfg.cid_len = (uint8_t)(client_len > 0 ? client_len : 0);
    n->scfg.cid = server_len >= 0;
    n->scfg.cid_len = (uint8_t)(server_len > 0 ? server_len : 0);
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 10000);
    assert_established(n);
    return n;
}

/* One record from -> to: its header says what RFC 9146 4 wants for
 * want_cid (the receiver's CID, length 0: a plain record), the headroom
 * matches, and the receiver reads it back. */
static void check_direction(struct h_net *n, coaps_dtls_conn *from, coaps_dtls_conn *to,
                            size_t want_cid_len)
{
    const uint8_t *want_cid;
    size_t own = coaps_dtls_own_cid(to, &want_cid);
    assert_true(own >= want_cid_len);
    uint8_t rec[H_DGRAM_MAX];
    size_t len;
    size_t room = coaps_dtls_write_headroom(from);
    static const char msg[] = "GET /light";
    assert_int_equal(
        coaps_dtls_write(from, (const uint8_t *)msg, sizeof msg - 1, rec, sizeof rec, &len),
        COAPS_OK);
    if (want_cid_len) {
        assert_int_equal(rec[0], CT_TLS12_CID);
        assert_memory_equal(rec + 11, want_cid, want_cid_len); /* after the seq */
        const uint8_t *seen;
        assert_true(coaps_dtls_datagram_cid(rec, len, want_cid_len, &seen));
        assert_memory_equal(seen, want_cid, want_cid_len);
        /* content, then the inner type: one byte more than without a CID */
        assert_int_equal(len, room + sizeof msg - 1 + 1 +
                                   (coaps_dtls_suite(from) ==
                                            COAPS_DTLS_PSK_AES_128_CCM_8
                                        ? 8
                                        : 16));
    } else {
        assert_int_equal(rec[0], CT_APP);
        const uint8_t *seen;
        assert_false(coaps_dtls_datagram_cid(rec, len, 8, &seen));
    }
    assert_int_equal(coaps_dtls_input(to, rec, len, n->now), COAPS_OK);
    const uint8_t *p;
    size_t plen;
    assert_int_equal(coaps_dtls_read(to, &p, &plen), COAPS_OK);
    assert_int_equal(plen, sizeof msg - 1);
    assert_memory_equal(p, msg, plen);
    assert_true(coaps_dtls_input_newest(to));
}

/* RFC 9146 3: each side names the CID it receives with; a zero-length CID
 * means plain records towards it. Every suite, every pairing. */
static void cid_every_length_and_suite(void **state)
{
    (void)state;
    static const int pairs[][2] = {{0, 8}, {4, 8}, {4, 0}, {0, 0}, {16, 1}};
    for (size_t s = 0; s < COAPS_ARRAY_LEN(all_suites); s++) {
        for (size_t i = 0; i < COAPS_ARRAY_LEN(pairs); i++) {
            struct h_net *n = cid_handshake(pairs[i][0], pairs[i][1], all_suites[s], 40 + s * 8 + i);
            assert_true(coaps_dtls_cid_negotiated(&n->cl));
            assert_true(coaps_dtls_cid_negotiated(&n->sv));
            check_direction(n, &n->cl, &n->sv, (size_t)pairs[i][1]);
            check_direction(n, &n->sv, &n->cl, (size_t)pairs[i][0]);
            size_t base = all_suites[s] == COAPS_DTLS_PSK_CHACHA20_POLY1305_SHA256 ? 13 : 21;
            assert_int_equal(coaps_dtls_write_headroom(&n->cl), base + (size_t)pairs[i][1]);
            assert_int_equal(coaps_dtls_write_headroom(&n->sv), base + (size_t)pairs[i][0]);
            app_roundtrip(n, &n->sv, &n->cl, "notification");
            h_free(n);
        }
    }
}

/* Only one side asks: nothing is negotiated, records stay plain. */
static void cid_one_side_only(void **state)
{
    (void)state;
    struct h_net *n = cid_handshake(8, -1, COAPS_DTLS_PSK_AES_128_CCM_8, 60);
    assert_false(coaps_dtls_cid_negotiated(&n->cl));
    assert_false(coaps_dtls_cid_negotiated(&n->sv));
    check_direction(n, &n->cl, &n->sv, 0);
    check_direction(n, &n->sv, &n->cl, 0);
    h_free(n);
    n = cid_handshake(-1, 8, COAPS_DTLS_PSK_AES_128_CCM_8, 61);
    assert_false(coaps_dtls_cid_negotiated(&n->sv));
    check_direction(n, &n->cl, &n->sv, 0);
    check_direction(n, &n->sv, &n->cl, 0);
    h_free(n);
}

/* RFC 9146 6 / issue item 5: a record with another CID, a plain record on
 * a session that negotiated a CID, and a CID record on one that did not,
 * are dropped before any crypto (no authentication failure is counted),
 * and change nothing. */
static void records_that_do_not_belong(void **state)
{
    (void)state;
    struct h_net *n = cid_handshake(0, 8, COAPS_DTLS_PSK_AES_128_CCM_8, 62);
    uint8_t rec[H_DGRAM_MAX];
    size_t len;
    const uint8_t *p;
    size_t plen;
    /* wrong CID */
    assert_int_equal(coaps_dtls_write(&n->cl, (const uint8_t *)"x", 1, rec, sizeof rec, &len),
                     COAPS_OK);
    rec[11] ^= 1;
    coaps_dtls_stats before = coaps_dtls_get_stats(&n->sv);
    assert_int_equal(coaps_dtls_input(&n->sv, rec, len, n->now), COAPS_OK);
    assert_int_equal(coaps_dtls_read(&n->sv, &p, &plen), COAPS_E_AGAIN);
    assert_false(coaps_dtls_input_newest(&n->sv));
    coaps_dtls_stats after = coaps_dtls_get_stats(&n->sv);
    assert_int_equal(after.records_dropped, before.records_dropped + 1);
    assert_int_equal(after.auth_failures, before.auth_failures);
    /* the same record, CID restored, still opens: nothing was marked */
    rec[11] ^= 1;
    assert_int_equal(coaps_dtls_input(&n->sv, rec, len, n->now), COAPS_OK);
    assert_int_equal(coaps_dtls_read(&n->sv, &p, &plen), COAPS_OK);
    /* a plain record (the server's record to the client is one: the
     * client asked for a zero-length CID) fed to the server */
    assert_int_equal(coaps_dtls_write(&n->sv, (const uint8_t *)"y", 1, rec, sizeof rec, &len),
                     COAPS_OK);
    assert_int_equal(rec[0], CT_APP);
    before = coaps_dtls_get_stats(&n->sv);
    assert_int_equal(coaps_dtls_input(&n->sv, rec, len, n->now), COAPS_OK);
    assert_int_equal(coaps_dtls_read(&n->sv, &p, &plen), COAPS_E_AGAIN);
    assert_int_equal(coaps_dtls_get_stats(&n->sv).records_dropped, before.records_dropped + 1);
    assert_int_equal(coaps_dtls_get_stats(&n->sv).auth_failures, before.auth_failures);
    assert_int_equal(coaps_dtls_state(&n->sv), COAPS_DTLS_ESTABLISHED);
    h_free(n);

    /* a CID record to a session without CIDs */
    n = cid_handshake(-1, -1, COAPS_DTLS_PSK_AES_128_CCM_8, 63);
    struct h_net *m = cid_handshake(0, 8, COAPS_DTLS_PSK_AES_128_CCM_8, 64);
    assert_int_equal(coaps_dtls_write(&m->cl, (const uint8_t *)"z", 1, rec, sizeof rec, &len),
                     COAPS_OK);
    assert_int_equal(rec[0], CT_TLS12_CID);
    before = coaps_dtls_get_stats(&n->sv);
    assert_int_equal(coaps_dtls_input(&n->sv, rec, len, n->now), COAPS_OK);
    assert_int_equal(coaps_dtls_read(&n->sv, &p, &plen), COAPS_E_AGAIN);
    assert_int_equal(coaps_dtls_get_stats(&n->sv).records_dropped, before.records_dropped + 1);
    assert_int_equal(coaps_dtls_get_stats(&n->sv).auth_failures, before.auth_failures);
    h_free(m);
    h_free(n);
}

/* RFC 9146 6: only an authenticated record newer than every one before
 * may move the peer's address. A reordered (older) one, a replay and a
 * forgery with a valid CID do not signal it. */
static void newest_record_signal(void **state)
{
    (void)state;
    struct h_net *n = cid_handshake(0, 8, COAPS_DTLS_PSK_AES_128_GCM_SHA256, 65);
    uint8_t a[H_DGRAM_MAX], b[H_DGRAM_MAX], copy[H_DGRAM_MAX];
    size_t alen, blen;
    const uint8_t *p;
    size_t plen;
    assert_int_equal(coaps_dtls_write(&n->cl, (const uint8_t *)"1", 1, a, sizeof a, &alen),
                     COAPS_OK);
    assert_int_equal(coaps_dtls_write(&n->cl, (const uint8_t *)"2", 1, b, sizeof b, &blen),
                     COAPS_OK);
    memcpy(copy, b, blen);
    assert_int_equal(coaps_dtls_input(&n->sv, b, blen, n->now), COAPS_OK); /* newer first */
    assert_true(coaps_dtls_input_newest(&n->sv));
    assert_int_equal(coaps_dtls_input(&n->sv, a, alen, n->now), COAPS_OK); /* reordered */
    assert_int_equal(coaps_dtls_read(&n->sv, &p, &plen), COAPS_OK);        /* accepted... */
    assert_false(coaps_dtls_input_newest(&n->sv));                          /* ...not newest */
    assert_int_equal(coaps_dtls_input(&n->sv, copy, blen, n->now), COAPS_OK); /* replay */
    assert_false(coaps_dtls_input_newest(&n->sv));
    /* forged: a later sequence number, the right CID, a bad tag */
    assert_int_equal(coaps_dtls_write(&n->cl, (const uint8_t *)"3", 1, a, sizeof a, &alen),
                     COAPS_OK);
    a[alen - 1] ^= 0x80;
    assert_int_equal(coaps_dtls_input(&n->sv, a, alen, n->now), COAPS_OK);
    assert_false(coaps_dtls_input_newest(&n->sv));
    assert_int_equal(coaps_dtls_get_stats(&n->sv).auth_failures, 1);
    h_free(n);
}

/* A wrong PSK still ends the handshake with bad_record_mac when the
 * Finished comes in a tls12_cid record, whose type is hidden. */
static void wrong_psk_with_cid(void **state)
{
    (void)state;
    struct h_net *n = h_new(66);
    static const uint8_t other[16] = "another-key-9999";
    n->ccfg.psk_key = other;
    n->ccfg.cid = n->scfg.cid = true;
    n->ccfg.cid_len = 4;
    n->scfg.cid_len = 8;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 60000);
    assert_int_equal(coaps_dtls_state(&n->sv), COAPS_DTLS_FAILED);
    assert_int_equal(coaps_dtls_error_reason(&n->sv).alert, 20);
    h_free(n);
}

/* The prefix of a server's CIDs (a routing tag) and replacing our CID
 * before the hello; bad settings are refused. */
static void prefix_and_set_own(void **state)
{
    (void)state;
    struct h_net *n = h_new(67);
    static const uint8_t tag[2] = {0xab, 0xcd};
    n->ccfg.cid = n->scfg.cid = true;
    n->scfg.cid_len = 6;
    n->scfg.cid_prefix = tag;
    n->scfg.cid_prefix_len = 2;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 10000);
    assert_established(n);
    const uint8_t *cid;
    assert_int_equal(coaps_dtls_own_cid(&n->sv, &cid), 6);
    assert_memory_equal(cid, tag, 2);
    static const uint8_t mine[6] = {1, 2, 3, 4, 5, 6};
    assert_int_equal(coaps_dtls_set_own_cid(&n->sv, mine, 6), COAPS_E_STATE); /* too late */
    h_free(n);

    coaps_dtls_config cfg = {0};
    cfg.role = COAPS_DTLS_SERVER;
    cfg.psk_lookup = h_lookup;
    cfg.cid = true;
    cfg.cid_len = COAPS_DTLS_CID_MAX + 1;
    assert_int_equal(coaps_dtls_config_check(&cfg), COAPS_E_CONFIG);
    cfg.cid_len = 2;
    cfg.cid_prefix = tag;
    cfg.cid_prefix_len = 3;
    assert_int_equal(coaps_dtls_config_check(&cfg), COAPS_E_CONFIG);
    cfg.cid_prefix_len = 2;
    assert_int_equal(coaps_dtls_config_check(&cfg), COAPS_OK);

    /* set_own before the ClientHello: the records then carry it */
    n = h_new(68);
    n->ccfg.cid = n->scfg.cid = true;
    n->scfg.cid_len = 6;
    coaps_peer cp = {{1, 2, 3, 4}, 4, COAPS_TRANSPORT_DTLS};
    assert_int_equal(coaps_dtls_conn_init(&n->sv, &n->scfg, n->shs, &cp, n->now), COAPS_OK);
    assert_int_equal(coaps_dtls_set_own_cid(&n->sv, mine, 5), COAPS_E_INVALID);
    assert_int_equal(coaps_dtls_set_own_cid(&n->sv, mine, 6), COAPS_OK);
    assert_int_equal(coaps_dtls_own_cid(&n->sv, &cid), 6);
    assert_memory_equal(cid, mine, 6);
    coaps_dtls_conn_clear(&n->sv);
    h_free(n);

    /* a client's CID already went out with its ClientHello */
    n = h_new(69);
    n->ccfg.cid = true;
    n->ccfg.cid_len = 6;
    assert_int_equal(h_start(n), COAPS_OK);
    assert_int_equal(coaps_dtls_set_own_cid(&n->cl, mine, 6), COAPS_E_STATE);
    h_free(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cid_every_length_and_suite),
        cmocka_unit_test(cid_one_side_only),
        cmocka_unit_test(records_that_do_not_belong),
        cmocka_unit_test(newest_record_signal),
        cmocka_unit_test(wrong_psk_with_cid),
        cmocka_unit_test(prefix_and_set_own),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
