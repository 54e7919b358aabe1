/*
 * test_engine_resume.c - session resumption by session ID (RFC 5246 7.3)
 * in the engine, our client against our server in memory: a full
 * handshake stores the session on both ends, the next connection resumes
 * it with an abbreviated handshake (new keys from the same master secret),
 * lost flights are recovered, and whatever may not be resumed (an unknown
 * ID, a suite no longer offered, a damaged session) falls back to a full
 * handshake. Real peers: tests/interop/test_dtls_resume.sh.
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

/* The server's cache (one session is enough here) and the client's store. */
struct cache {
    coaps_dtls_session s;
    bool full;
    unsigned stores, finds;
};
static struct cache server_cache, client_saved;

static void store(void *user, const coaps_dtls_session *s)
{
    struct cache *c = user;
    c->s = *s;
    c->full = true;
    c->stores++;
}

static coaps_status find(void *user, const uint8_t *id, size_t id_len, coaps_dtls_session *out)
{
    struct cache *c = user;
    c->finds++;
    if (!c->full || c->s.id_len != id_len || memcmp(c->s.id, id, id_len) != 0)
        return COAPS_E_NOT_FOUND;
    *out = c->s;
    return COAPS_OK;
}

static struct h_net *net_with_sessions(uint64_t seed, const coaps_dtls_session *resume)
{
    struct h_net *n = h_new(seed);
    n->scfg.session_store = store;
    n->scfg.session_find = find;
    n->scfg.session_user = &server_cache;
    n->ccfg.session_store = store;
    n->ccfg.session_user = &client_saved;
    n->ccfg.resume = resume;
    return n;
}

static void key_digest(coaps_dtls_conn *c, uint8_t out[32])
{
    assert_int_equal(coaps_dtls_key_digest(c, out), COAPS_OK);
}

/* A full handshake with the caches empty: both ends store one session,
 * the same one. */
static struct h_net *first_handshake(uint64_t seed)
{
    memset(&server_cache, 0, sizeof server_cache);
    memset(&client_saved, 0, sizeof client_saved);
    struct h_net *n = net_with_sessions(seed, NULL);
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 10000);
    assert_established(n);
    assert_false(coaps_dtls_resumed(&n->cl));
    assert_false(coaps_dtls_resumed(&n->sv));
    assert_int_equal(server_cache.stores, 1);
    assert_int_equal(client_saved.stores, 1);
    assert_int_equal(client_saved.s.id_len, 32);
    assert_memory_equal(&client_saved.s, &server_cache.s, sizeof(coaps_dtls_session));
    return n;
}

static void full_then_resumed(void **state)
{
    (void)state;
    static const uint16_t suites[] = {
        COAPS_DTLS_PSK_AES_128_CCM_8,      COAPS_DTLS_PSK_AES_128_GCM_SHA256,
        COAPS_DTLS_PSK_AES_256_GCM_SHA384, COAPS_DTLS_PSK_CHACHA20_POLY1305_SHA256,
    };
    for (size_t i = 0; i < COAPS_ARRAY_LEN(suites); i++) {
        memset(&server_cache, 0, sizeof server_cache);
        memset(&client_saved, 0, sizeof client_saved);
        struct h_net *n = net_with_sessions(100 + i, NULL);
        static uint16_t one[1];
        one[0] = suites[i];
        n->ccfg.suites = one;
        n->ccfg.suites_len = 1;
        assert_int_equal(h_start(n), COAPS_OK);
        h_run(n, 10000);
        assert_established(n);
        uint8_t first[32];
        key_digest(&n->cl, first);
        h_free(n);

        coaps_dtls_session saved = client_saved.s;
        n = net_with_sessions(200 + i, &saved);
        n->ccfg.suites = one;
        n->ccfg.suites_len = 1;
        assert_int_equal(h_start(n), COAPS_OK);
        h_run(n, 10000);
        assert_established(n);
        assert_true(coaps_dtls_resumed(&n->cl));
        assert_true(coaps_dtls_resumed(&n->sv));
        assert_int_equal(coaps_dtls_suite(&n->cl), suites[i]);
        uint8_t second[32];
        key_digest(&n->cl, second);
        assert_memory_not_equal(first, second, 32); /* new randoms, new keys */
        app_roundtrip(n, &n->cl, &n->sv, "GET /light");
        app_roundtrip(n, &n->sv, &n->cl, "2.05 Content");
        /* the resumed session is stored again (same ID and secret) */
        assert_int_equal(client_saved.stores, 2);
        assert_memory_equal(client_saved.s.id, saved.id, saved.id_len);
        assert_memory_equal(client_saved.s.master_secret, saved.master_secret, 48);
        h_free(n);
    }
}

/* Drop the first copy of a datagram in one direction (counted in user). */
static int drop_first_c2s_after_hello(struct h_net *n, int dir, uint8_t *d, size_t *len)
{
    (void)len;
    unsigned *seen = n->user;
    /* the client's CCS+Finished: its first datagram with an epoch-1
     * record after the ClientHellos (content type CCS first) */
    if (dir == H_C2S && d[0] == 20 && (*seen)++ == 0)
        return 0;
    return 1;
}

static int drop_first_s2c(struct h_net *n, int dir, uint8_t *d, size_t *len)
{
    (void)d, (void)len;
    unsigned *seen = n->user;
    /* the server's abbreviated flight: its first datagram after the HVR */
    if (dir == H_S2C && d[13] != 3 && (*seen)++ == 0)
        return 0;
    return 1;
}

/* RFC 6347 4.2.4: the client's final flight lost -> the server resends
 * its flight -> the client resends its retained CCS + Finished; and the
 * server's flight lost -> the client's ClientHello goes again. */
static void lost_flights(void **state)
{
    (void)state;
    struct h_net *n = first_handshake(300);
    h_free(n);
    coaps_dtls_session saved = client_saved.s;
    unsigned seen = 0;
    n = net_with_sessions(301, &saved);
    n->filter = drop_first_c2s_after_hello;
    n->user = &seen;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 20000);
    assert_established(n);
    assert_true(coaps_dtls_resumed(&n->sv));
    assert_int_equal(seen, 2); /* one dropped, the resent one delivered */
    app_roundtrip(n, &n->cl, &n->sv, "after loss");
    h_free(n);

    seen = 0;
    n = net_with_sessions(302, &saved);
    n->filter = drop_first_s2c;
    n->user = &seen;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 20000);
    assert_established(n);
    assert_true(coaps_dtls_resumed(&n->cl));
    assert_true(seen >= 2);
    h_free(n);
}

/* What may not be resumed gets a full handshake, never a failure: an ID
 * the server does not know, a suite the client no longer offers, a
 * session of another version. */
static void falls_back_to_full(void **state)
{
    (void)state;
    struct h_net *n = first_handshake(400);
    h_free(n);
    coaps_dtls_session saved = client_saved.s;

    coaps_dtls_session unknown = saved;
    unknown.id[0] ^= 1;
    n = net_with_sessions(401, &unknown);
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 10000);
    assert_established(n);
    assert_false(coaps_dtls_resumed(&n->cl));
    assert_false(coaps_dtls_resumed(&n->sv));
    h_free(n);

    /* the session's suite not offered this time */
    n = net_with_sessions(402, &client_saved.s);
    static const uint16_t other[] = {COAPS_DTLS_PSK_AES_128_GCM_SHA256};
    assert_int_not_equal(client_saved.s.suite, other[0]);
    n->ccfg.suites = other;
    n->ccfg.suites_len = 1;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 10000);
    assert_established(n);
    assert_false(coaps_dtls_resumed(&n->sv));
    assert_int_equal(coaps_dtls_suite(&n->sv), other[0]);
    h_free(n);

    /* a session of a layout we do not know is not even offered */
    coaps_dtls_session foreign = server_cache.s;
    foreign.version = 99;
    n = net_with_sessions(403, &foreign);
    unsigned finds = server_cache.finds;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 10000);
    assert_established(n);
    assert_false(coaps_dtls_resumed(&n->sv));
    assert_int_equal(server_cache.finds, finds); /* empty session_id: no lookup */
    h_free(n);
}

/* A server without a cache never resumes, and gives no session ID; a
 * client that was handed a wrong master secret cannot open the server's
 * Finished (its keys differ) and ends as with a wrong PSK: bad_record_mac
 * once the server's flight failed twice (engine.c psk_mismatch). */
static void no_cache_and_wrong_secret(void **state)
{
    (void)state;
    struct h_net *n = first_handshake(500);
    h_free(n);
    coaps_dtls_session saved = client_saved.s;
    n = net_with_sessions(501, &saved);
    n->scfg.session_find = NULL;
    n->scfg.session_store = NULL;
    unsigned stores = client_saved.stores;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 10000);
    assert_established(n);
    assert_false(coaps_dtls_resumed(&n->cl));
    assert_int_equal(client_saved.stores, stores); /* no ID from the server: nothing kept */
    h_free(n);

    coaps_dtls_session bad = saved;
    bad.master_secret[0] ^= 1;
    n = net_with_sessions(502, &bad);
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 60000);
    assert_int_equal(coaps_dtls_state(&n->cl), COAPS_DTLS_FAILED);
    assert_int_equal(coaps_dtls_error_reason(&n->cl).alert, 20); /* bad_record_mac */
    assert_true(coaps_dtls_error_reason(&n->cl).alert_sent);
    h_free(n);
}

/* RFC 9146 3: a resumed session negotiates its Connection IDs afresh. */
static void resumed_with_cid(void **state)
{
    (void)state;
    struct h_net *n = first_handshake(600);
    h_free(n);
    coaps_dtls_session saved = client_saved.s;
    n = net_with_sessions(601, &saved);
    n->ccfg.cid = n->scfg.cid = true;
    n->scfg.cid_len = 8;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 10000);
    assert_established(n);
    assert_true(coaps_dtls_resumed(&n->cl));
    assert_true(coaps_dtls_cid_negotiated(&n->sv));
    app_roundtrip(n, &n->cl, &n->sv, "with a CID");
    h_free(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_then_resumed),
        cmocka_unit_test(lost_flights),
        cmocka_unit_test(falls_back_to_full),
        cmocka_unit_test(no_cache_and_wrong_secret),
        cmocka_unit_test(resumed_with_cid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
