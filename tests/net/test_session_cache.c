/*
 * test_session_cache.c - the server's resumable sessions
 * (src/net/session_cache.c): found by ID, replaced oldest first when full,
 * refreshed in place when stored again, never returned past their lifetime
 * (and wiped then), and every chain intact after many replacements.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "net/session_cache.h"

static coaps_dtls_session session(uint32_t n)
{
    coaps_dtls_session s;
    memset(&s, 0, sizeof s);
    s.version = COAPS_DTLS_SESSION_VERSION;
    s.suite = COAPS_DTLS_PSK_AES_128_CCM_8;
    s.id_len = 32;
    memcpy(s.id, &n, sizeof n);
    s.id[31] = 0x5a;
    s.master_secret[0] = (uint8_t)n;
    return s;
}

static bool has(struct net_session_cache *c, uint32_t n)
{
    coaps_dtls_session want = session(n), got;
    if (net_session_cache_find(c, want.id, want.id_len, &got) != COAPS_OK)
        return false;
    assert_memory_equal(&want, &got, sizeof want);
    return true;
}

static void oldest_replaced_first(void **state)
{
    (void)state;
    struct net_session_cache c;
    assert_int_equal(net_session_cache_init(&c, 4), COAPS_OK);
    for (uint32_t n = 0; n < 4; n++) {
        coaps_dtls_session s = session(n);
        net_session_cache_store(&c, &s);
    }
    for (uint32_t n = 0; n < 4; n++)
        assert_true(has(&c, n));
    coaps_dtls_session s = session(2); /* stored again: refreshed in place */
    net_session_cache_store(&c, &s);
    s = session(4);
    net_session_cache_store(&c, &s);
    assert_false(has(&c, 0)); /* the oldest went */
    assert_true(has(&c, 1) && has(&c, 2) && has(&c, 3) && has(&c, 4));
    uint8_t unknown[32] = {9};
    coaps_dtls_session out;
    assert_int_equal(net_session_cache_find(&c, unknown, 32, &out), COAPS_E_NOT_FOUND);
    assert_int_equal(net_session_cache_find(&c, unknown, 0, &out), COAPS_E_NOT_FOUND);
    net_session_cache_free(&c);
}

static void expired_never_returned(void **state)
{
    (void)state;
    struct net_session_cache c;
    assert_int_equal(net_session_cache_init(&c, 8), COAPS_OK);
    c.now_ms = 1000;
    coaps_dtls_session s = session(7);
    net_session_cache_store(&c, &s);
    c.now_ms = 1000 + NET_SESSION_CACHE_LIFETIME_MS - 1;
    assert_true(has(&c, 7));
    c.now_ms = 1000 + NET_SESSION_CACHE_LIFETIME_MS;
    assert_false(has(&c, 7));
    /* the entry was dropped and wiped, not only hidden */
    for (uint32_t i = 0; i < c.cap; i++)
        assert_int_equal(c.e[i].s.version, 0);
    net_session_cache_free(&c);
}

static void chains_intact_under_churn(void **state)
{
    (void)state;
    struct net_session_cache c;
    assert_int_equal(net_session_cache_init(&c, 64), COAPS_OK);
    for (uint32_t n = 0; n < 5000; n++) {
        coaps_dtls_session s = session(n);
        net_session_cache_store(&c, &s);
    }
    for (uint32_t n = 5000 - 64; n < 5000; n++)
        assert_true(has(&c, n));
    assert_false(has(&c, 5000 - 65));
    /* every entry once, in its own bucket */
    unsigned seen = 0;
    for (uint32_t b = 0; b <= c.bucket_mask; b++)
        for (uint32_t i = c.buckets[b]; i != UINT32_MAX; i = c.e[i].next)
            seen++;
    assert_int_equal(seen, 64);
    net_session_cache_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(oldest_replaced_first),
        cmocka_unit_test(expired_never_returned),
        cmocka_unit_test(chains_intact_under_churn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
