/*
 * test_store.c - the cluster's session store (src/net/store.h) on its
 * "memory:" implementation: sessions created, fetched, taken, their
 * blocks reserved, updated, touched and dropped; fencing (an old holder
 * refused after a take; blocks disjoint and increasing across any
 * sequence of takes and reserves by several handles); times to live;
 * events delivered on a second handle's loop; the sealing (a value
 * damaged in the store, moved under another key or another kind, or
 * sealed under another state key opens as COAPS_E_MALFORMED and is
 * counted); replies, shared values, counters and secrets; eviction of
 * the least recently used entry when full; and the URI's errors. The same semantics against a real Redis:
 * tests/net/test_store_redis.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "net/loop.h"
#include "net/store.h"
#include "net/store_impl.h"

static uint64_t fake_ms = 1000;
static uint64_t fake_now(void)
{
    return fake_ms;
}

static struct net_state_key key_a, key_b;

static int setup(void **state)
{
    (void)state;
    uint8_t k[NET_STATE_KEY_LEN];
    memset(k, 0x11, sizeof k);
    assert_int_equal(net_state_key_set(&key_a, k), COAPS_OK);
    memset(k, 0x22, sizeof k);
    assert_int_equal(net_state_key_set(&key_b, k), COAPS_OK);
    store_memory_set_clock(fake_now);
    return 0;
}

static struct net_store *open_store(const char *uri, const struct net_state_key *k,
                                    const char *node)
{
    struct net_store *st = NULL;
    char err[256] = "";
    assert_int_equal(net_store_open(&st, uri, k, node, NULL, err, sizeof err), COAPS_OK);
    assert_non_null(st);
    return st;
}

static const uint8_t K1[] = {'c', 1, 2, 3, 4, 5, 6, 7, 8};
static const uint8_t K2[] = {'c', 9, 9, 9, 9};
static const uint8_t REC[] = "a session record: keys, epoch, window, observers";

/* ---- the URI ---------------------------------------------------------------------- */

static void test_uri(void **state)
{
    (void)state;
    struct store_uri u;
    char err[256];
    assert_int_equal(store_uri_parse(&u, "memory:", err, sizeof err), COAPS_OK);
    assert_string_equal(u.scheme, "memory");
    assert_string_equal(u.name, "");
    assert_int_equal(store_uri_parse(&u, "memory:cluster-1", err, sizeof err), COAPS_OK);
    assert_string_equal(u.name, "cluster-1");
    assert_int_equal(store_uri_parse(&u, "redis://127.0.0.1:6379", err, sizeof err), COAPS_OK);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 6379);
    assert_int_equal(u.db, 0);
    assert_int_equal(store_uri_parse(&u, "redis://[::1]:7000/15", err, sizeof err), COAPS_OK);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 7000);
    assert_int_equal(u.db, 15);
    assert_int_equal(store_uri_parse(&u, "redis://redis.example-1.net:1/3", err, sizeof err),
                     COAPS_OK);
    assert_string_equal(u.host, "redis.example-1.net");
    assert_int_equal(u.db, 3);

    static const char *const bad[] = {
        "", "memory", "memory:a b", "memory:x/y", "redis://", "redis://host",
        "redis://host:", "redis://host:0", "redis://host:65536", "redis://host:12x",
        "redis://:6379", "redis://host:6379/16", "redis://host:6379/", "redis://host:6379/a",
        "redis://[::1:6379", "redis://[zz]:6379", "redis://::1:6379", "redis://1.2.3.256:1",
        "redis://ho st:1", "rediss://h:1", "http://h:1", "redis://-h:1",
        "memory:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        struct net_store *st = (struct net_store *)(uintptr_t)1; /* must be set to NULL */
        coaps_status s = net_store_open(&st, bad[i], &key_a, "n1", NULL, err, sizeof err);
        if (s != COAPS_E_INVALID)
            fail_msg("%s: %s, want COAPS_E_INVALID", bad[i], coaps_status_str(s));
        assert_null(st);
        assert_non_null(strstr(err, "store"));
        assert_null(strchr(err, '\n'));
    }
    struct net_store *st;
    assert_int_equal(net_store_open(&st, "memory:", &key_a, "", NULL, err, sizeof err),
                     COAPS_E_INVALID);
    assert_int_equal(net_store_open(&st, "memory:", &key_a, "a b", NULL, err, sizeof err),
                     COAPS_E_INVALID);
}

/* AUTH: the URI's USER:PASSWORD@ (percent-decoded) or COAPS_STORE_PASSWORD;
 * no message ever shows the password. */
static void test_uri_auth(void **state)
{
    (void)state;
    struct store_uri u;
    char err[256];
    unsetenv("COAPS_STORE_PASSWORD");
    assert_int_equal(store_uri_parse(&u, "redis://127.0.0.1:6379", err, sizeof err), COAPS_OK);
    assert_string_equal(u.user, "");
    assert_string_equal(u.password, "");
    assert_int_equal(store_uri_parse(&u, "redis://:s3cret@127.0.0.1:6379/2", err, sizeof err),
                     COAPS_OK);
    assert_string_equal(u.user, "");
    assert_string_equal(u.password, "s3cret");
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.db, 2);
    assert_int_equal(
        store_uri_parse(&u, "redis://coaps%2Dnode:p%40ss%3Aw%2Fd@[::1]:7000", err, sizeof err),
        COAPS_OK);
    assert_string_equal(u.user, "coaps-node");
    assert_string_equal(u.password, "p@ss:w/d");
    assert_string_equal(u.host, "::1");
    store_uri_wipe(&u);
    assert_string_equal(u.password, "");
    /* from the environment when the URI has none; the URI's wins */
    setenv("COAPS_STORE_PASSWORD", "from-env", 1);
    assert_int_equal(store_uri_parse(&u, "redis://h:1", err, sizeof err), COAPS_OK);
    assert_string_equal(u.password, "from-env");
    assert_int_equal(store_uri_parse(&u, "redis://:mine@h:1", err, sizeof err), COAPS_OK);
    assert_string_equal(u.password, "mine");
    unsetenv("COAPS_STORE_PASSWORD");

    static const char *const bad[] = {
        "redis://s3cret@h:1",       "redis://:@h:1",          "redis://u:s3cret%@h:1",
        "redis://u:s3cret%4@h:1",   "redis://u:s3cret%zz@h:1", "redis://u:s3cret%00@h:1",
        "redis://:s3cret@h",        "redis://:s3cret@h:0",    "redis://:s3cret@:1",
        "redis://:s3cret@h:1/99",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        struct net_store *st = NULL;
        coaps_status s = net_store_open(&st, bad[i], &key_a, "n1", NULL, err, sizeof err);
        if (s != COAPS_E_INVALID)
            fail_msg("%s: %s, want COAPS_E_INVALID", bad[i], coaps_status_str(s));
        assert_null(st);
        if (strstr(err, "s3cret") != NULL || strstr(err, "store") == NULL)
            fail_msg("%s: the message [%s] shows the password or no store", bad[i], err);
    }
    /* a password longer than AUTH takes */
    char longpw[300] = "redis://:";
    memset(longpw + 9, 'p', 200);
    strcpy(longpw + 209, "@h:1");
    assert_int_equal(store_uri_parse(&u, longpw, err, sizeof err), COAPS_E_INVALID);
    assert_string_equal(u.password, "");
}

/* ---- sessions ---------------------------------------------------------------------- */

static void test_session_lifecycle(void **state)
{
    (void)state;
    struct net_store *a = open_store("memory:life", &key_a, "a");
    struct net_store *b = open_store("memory:life", &key_a, "b");
    struct net_store_lease la, lb;
    uint8_t buf[NET_STORE_VALUE_MAX];
    size_t n = 0;

    assert_int_equal(net_store_session_fetch(a, K1, sizeof K1, buf, sizeof buf, &n),
                     COAPS_E_NOT_FOUND);
    assert_int_equal(net_store_session_take(b, K1, sizeof K1, &lb), COAPS_E_NOT_FOUND);
    assert_int_equal(net_store_session_create(a, K1, sizeof K1, REC, sizeof REC, 100, 60000, &la),
                     COAPS_OK);
    assert_int_equal(la.fence, 1);
    assert_int_equal(la.seq_next, 100);
    assert_int_equal(la.seq_limit, 100 + NET_STORE_SEQ_BLOCK);

    /* the other handle sees the record: one store */
    assert_int_equal(net_store_session_fetch(b, K1, sizeof K1, buf, sizeof buf, &n), COAPS_OK);
    assert_int_equal(n, sizeof REC);
    assert_memory_equal(buf, REC, sizeof REC);
    /* too small a buffer */
    assert_int_equal(net_store_session_fetch(b, K1, sizeof K1, buf, 4, &n), COAPS_E_NOSPACE);

    /* the holder's next block follows its first */
    struct net_store_lease l2 = la;
    assert_int_equal(net_store_seq_reserve(a, K1, sizeof K1, &l2), COAPS_OK);
    assert_int_equal(l2.fence, 1);
    assert_int_equal(l2.seq_next, la.seq_limit);
    assert_int_equal(l2.seq_limit, la.seq_limit + NET_STORE_SEQ_BLOCK);

    static const uint8_t REC2[] = "a newer replay window";
    assert_int_equal(net_store_session_update(a, K1, sizeof K1, 1, REC2, sizeof REC2, 60000),
                     COAPS_OK);
    assert_int_equal(net_store_session_fetch(b, K1, sizeof K1, buf, sizeof buf, &n), COAPS_OK);
    assert_int_equal(n, sizeof REC2);
    assert_memory_equal(buf, REC2, sizeof REC2);

    /* b takes over: a new fence, a block past every earlier one */
    assert_int_equal(net_store_session_take(b, K1, sizeof K1, &lb), COAPS_OK);
    assert_int_equal(lb.fence, 2);
    assert_true(lb.seq_next >= l2.seq_limit);
    assert_int_equal(lb.seq_limit - lb.seq_next, NET_STORE_SEQ_BLOCK);

    /* the old holder is refused everything */
    struct net_store_lease old = l2;
    assert_int_equal(net_store_seq_reserve(a, K1, sizeof K1, &old), COAPS_E_STATE);
    assert_int_equal(net_store_session_update(a, K1, sizeof K1, 1, REC, sizeof REC, 60000),
                     COAPS_E_STATE);
    assert_int_equal(net_store_session_drop(a, K1, sizeof K1, 1), COAPS_E_STATE);
    assert_int_equal(net_store_session_fetch(a, K1, sizeof K1, buf, sizeof buf, &n), COAPS_OK);

    /* the new holder drops it: gone for everyone */
    assert_int_equal(net_store_session_drop(b, K1, sizeof K1, 2), COAPS_OK);
    assert_int_equal(net_store_session_fetch(a, K1, sizeof K1, buf, sizeof buf, &n),
                     COAPS_E_NOT_FOUND);
    assert_int_equal(net_store_session_take(a, K1, sizeof K1, &la), COAPS_E_NOT_FOUND);
    assert_int_equal(net_store_seq_reserve(b, K1, sizeof K1, &lb), COAPS_E_NOT_FOUND);
    /* created again: the fence goes past every earlier holder's */
    assert_int_equal(net_store_session_create(a, K1, sizeof K1, REC, sizeof REC, 0, 60000, &la),
                     COAPS_OK);
    assert_int_equal(la.fence, 3);

    /* bad arguments */
    uint8_t big[NET_STORE_KEY_MAX + 1] = {0};
    assert_int_equal(net_store_session_take(a, big, sizeof big, &la), COAPS_E_INVALID);
    assert_int_equal(net_store_session_take(a, K1, 0, &la), COAPS_E_INVALID);
    static uint8_t huge[NET_STORE_VALUE_MAX + 1];
    assert_int_equal(net_store_session_create(a, K2, sizeof K2, huge, sizeof huge, 0, 1000, &la),
                     COAPS_E_INVALID);

    const struct net_store_stats *s = net_store_get_stats(a);
    assert_true(s->calls >= 10);
    assert_int_equal(s->failed, 0);
    assert_int_equal(s->malformed, 0);
    assert_true(net_store_up(a));
    net_store_close(a);
    net_store_close(b);
}

/* Three handles take and reserve in a pseudo-random order: every block
 * handed out is disjoint from every other and starts past all before. */
static void test_blocks_disjoint(void **state)
{
    (void)state;
    struct net_store *h[3] = {open_store("memory:blocks", &key_a, "n0"),
                              open_store("memory:blocks", &key_a, "n1"),
                              open_store("memory:blocks", &key_a, "n2")};
    struct net_store_lease l[3] = {{0}};
    bool holds[3] = {true, false, false};
    assert_int_equal(net_store_session_create(h[0], K1, sizeof K1, REC, sizeof REC, 7, 60000,
                                              &l[0]),
                     COAPS_OK);
    uint64_t high = l[0].seq_limit, fence = l[0].fence;
    uint32_t x = 12345;
    for (int i = 0; i < 2000; i++) {
        x = x * 1103515245u + 12345u;
        int who = (int)((x >> 16) % 3);
        bool take = ((x >> 8) & 3) == 0;
        struct net_store_lease got = l[who];
        coaps_status s = take ? net_store_session_take(h[who], K1, sizeof K1, &got)
                              : net_store_seq_reserve(h[who], K1, sizeof K1, &got);
        if (!take && !holds[who]) {
            assert_int_equal(s, COAPS_E_STATE);
            continue;
        }
        assert_int_equal(s, COAPS_OK);
        assert_true(got.seq_next >= high); /* past every block before: disjoint */
        assert_int_equal(got.seq_limit - got.seq_next, NET_STORE_SEQ_BLOCK);
        high = got.seq_limit;
        if (take) {
            assert_true(got.fence > fence);
            fence = got.fence;
            for (int j = 0; j < 3; j++)
                holds[j] = j == who;
        }
        assert_int_equal(got.fence, fence);
        l[who] = got;
    }
    for (int i = 0; i < 3; i++)
        net_store_close(h[i]);
}

static void test_ttl(void **state)
{
    (void)state;
    struct net_store *a = open_store("memory:ttl", &key_a, "a");
    struct net_store_lease la;
    uint8_t buf[NET_STORE_VALUE_MAX];
    size_t n;
    assert_int_equal(net_store_session_create(a, K1, sizeof K1, REC, sizeof REC, 0, 1000, &la),
                     COAPS_OK);
    assert_int_equal(net_store_session_create(a, K2, sizeof K2, REC, sizeof REC, 0, 1000, &la),
                     COAPS_OK);
    fake_ms += 900;
    /* K1 touched, K2 not: only K1 outlives its first second */
    const uint8_t *keys[] = {K1};
    size_t lens[] = {sizeof K1};
    assert_int_equal(net_store_session_touch(a, keys, lens, 1, 1000), COAPS_OK);
    fake_ms += 200;
    assert_int_equal(net_store_session_fetch(a, K1, sizeof K1, buf, sizeof buf, &n), COAPS_OK);
    assert_int_equal(net_store_session_fetch(a, K2, sizeof K2, buf, sizeof buf, &n),
                     COAPS_E_NOT_FOUND);
    assert_int_equal(net_store_session_take(a, K2, sizeof K2, &la), COAPS_E_NOT_FOUND);
    /* an update renews it too */
    fake_ms += 700;
    assert_int_equal(net_store_session_update(a, K1, sizeof K1, 1, REC, sizeof REC, 1000),
                     COAPS_OK);
    fake_ms += 900;
    assert_int_equal(net_store_session_fetch(a, K1, sizeof K1, buf, sizeof buf, &n), COAPS_OK);
    fake_ms += 101;
    assert_int_equal(net_store_session_fetch(a, K1, sizeof K1, buf, sizeof buf, &n),
                     COAPS_E_NOT_FOUND);

    /* replies live EXCHANGE_LIFETIME */
    static const uint8_t R[] = {0x60, 0x45, 0x12, 0x34};
    assert_int_equal(net_store_reply_put(a, K1, sizeof K1, 0x1234, R, sizeof R, 500), COAPS_OK);
    assert_int_equal(net_store_reply_get(a, K1, sizeof K1, 0x1234, buf, sizeof buf, &n),
                     COAPS_OK);
    assert_int_equal(n, sizeof R);
    assert_memory_equal(buf, R, sizeof R);
    assert_int_equal(net_store_reply_get(a, K1, sizeof K1, 0x1235, buf, sizeof buf, &n),
                     COAPS_E_NOT_FOUND);
    fake_ms += 500;
    assert_int_equal(net_store_reply_get(a, K1, sizeof K1, 0x1234, buf, sizeof buf, &n),
                     COAPS_E_NOT_FOUND);
    net_store_close(a);
}

/* ---- events ---------------------------------------------------------------------- */

struct seen {
    int lost, changed;
    uint8_t key[NET_STORE_KEY_MAX];
    size_t key_len;
    uint64_t fence;
    char name[NET_STORE_NAME_MAX];
    uint8_t val[64];
    size_t len;
};

static void on_lost(void *ctx, const uint8_t *key, size_t key_len, uint64_t fence)
{
    struct seen *s = ctx;
    s->lost++;
    memcpy(s->key, key, key_len);
    s->key_len = key_len;
    s->fence = fence;
}

static void on_changed(void *ctx, const char *name, const uint8_t *value, size_t len)
{
    struct seen *s = ctx;
    s->changed++;
    snprintf(s->name, sizeof s->name, "%s", name);
    assert_true(len <= sizeof s->val);
    memcpy(s->val, value, len);
    s->len = len;
}

static void test_events(void **state)
{
    (void)state;
    struct net_loop loop;
    assert_int_equal(net_loop_init(&loop, NULL, false), COAPS_OK);
    struct seen sa = {0}, sb = {0};
    struct net_store *a = open_store("memory:ev", &key_a, "a");
    struct net_store *b = open_store("memory:ev", &key_a, "b");
    struct net_store_events ea = {on_lost, on_changed, &sa}, eb = {on_lost, on_changed, &sb};
    assert_int_equal(net_store_attach(a, &loop, &ea), COAPS_OK);
    assert_int_equal(net_store_attach(b, &loop, &eb), COAPS_OK);

    struct net_store_lease la, lb;
    assert_int_equal(net_store_session_create(a, K1, sizeof K1, REC, sizeof REC, 0, 60000, &la),
                     COAPS_OK);
    assert_int_equal(net_store_session_take(b, K1, sizeof K1, &lb), COAPS_OK);
    /* nothing is delivered inside the call: only from the loop */
    assert_int_equal(sa.lost, 0);
    assert_int_equal(net_loop_turn(&loop, 0), COAPS_OK);
    assert_int_equal(sa.lost, 1);
    assert_int_equal(sa.key_len, sizeof K1);
    assert_memory_equal(sa.key, K1, sizeof K1);
    assert_int_equal(sa.fence, lb.fence);
    assert_int_equal(sb.lost, 0); /* the taker is not told of its own take */

    static const uint8_t V[] = "{\"on\":true}";
    assert_int_equal(net_store_value_set(b, "light", V, sizeof V), COAPS_OK);
    assert_int_equal(net_loop_turn(&loop, 0), COAPS_OK);
    assert_int_equal(sa.changed, 1); /* every node, the setter included */
    assert_int_equal(sb.changed, 1);
    assert_string_equal(sa.name, "light");
    assert_int_equal(sa.len, sizeof V);
    assert_memory_equal(sa.val, V, sizeof V);
    uint8_t buf[64];
    size_t n;
    assert_int_equal(net_store_value_get(a, "light", buf, sizeof buf, &n), COAPS_OK);
    assert_memory_equal(buf, V, sizeof V);
    assert_int_equal(net_store_value_get(a, "dark", buf, sizeof buf, &n), COAPS_E_NOT_FOUND);
    assert_int_equal(net_store_value_set(a, "bad name", V, sizeof V), COAPS_E_INVALID);

    net_store_close(a);
    net_store_close(b);
    net_loop_close(&loop);
}

/* ---- sealing ---------------------------------------------------------------------- */

static void test_sealing(void **state)
{
    (void)state;
    struct net_store *a = open_store("memory:seal", &key_a, "a");
    struct net_store_lease la;
    uint8_t buf[NET_STORE_VALUE_MAX], raw[STORE_SEALED_MAX];
    size_t n, rn;
    assert_int_equal(net_store_session_create(a, K1, sizeof K1, REC, sizeof REC, 0, 60000, &la),
                     COAPS_OK);
    assert_int_equal(net_store_session_create(a, K2, sizeof K2, REC, sizeof REC, 0, 60000, &la),
                     COAPS_OK);
    assert_int_equal(net_store_raw(a, STORE_KIND_SESSION, K1, sizeof K1, false, raw, sizeof raw,
                                   &rn),
                     COAPS_OK);
    assert_int_equal(rn, sizeof REC + STORE_SEAL_OVERHEAD);
    /* the record is not in clear */
    assert_null(memmem(raw, rn, "session record", 14));

    /* every bit flipped in turn: never opens */
    uint64_t mal = net_store_get_stats(a)->malformed;
    for (size_t bit = 0; bit < rn * 8; bit += 7) {
        uint8_t copy[STORE_SEALED_MAX];
        memcpy(copy, raw, rn);
        copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        size_t cn = rn;
        assert_int_equal(net_store_raw(a, STORE_KIND_SESSION, K1, sizeof K1, true, copy,
                                       sizeof copy, &cn),
                         COAPS_OK);
        assert_int_equal(net_store_session_fetch(a, K1, sizeof K1, buf, sizeof buf, &n),
                         COAPS_E_MALFORMED);
        mal++;
        assert_int_equal(net_store_get_stats(a)->malformed, mal);
    }
    /* truncated */
    size_t short_len = STORE_SEAL_OVERHEAD - 1;
    assert_int_equal(net_store_raw(a, STORE_KIND_SESSION, K1, sizeof K1, true, raw, sizeof raw,
                                   &short_len),
                     COAPS_OK);
    assert_int_equal(net_store_session_fetch(a, K1, sizeof K1, buf, sizeof buf, &n),
                     COAPS_E_MALFORMED);
    /* K1's record copied under K2: its key is in the tag */
    assert_int_equal(net_store_raw(a, STORE_KIND_SESSION, K2, sizeof K2, true, raw, sizeof raw,
                                   &rn),
                     COAPS_OK);
    assert_int_equal(net_store_session_fetch(a, K2, sizeof K2, buf, sizeof buf, &n),
                     COAPS_E_MALFORMED);
    /* a session record copied as a reply: its kind is in the tag */
    static const uint8_t R[] = {1, 2, 3};
    assert_int_equal(net_store_reply_put(a, K1, sizeof K1, 7, R, sizeof R, 60000), COAPS_OK);
    uint8_t rid[sizeof K1 + 2];
    memcpy(rid, K1, sizeof K1);
    rid[sizeof K1] = 0;
    rid[sizeof K1 + 1] = 7;
    assert_int_equal(net_store_raw(a, STORE_KIND_REPLY, rid, sizeof rid, true, raw, sizeof raw,
                                   &rn),
                     COAPS_OK);
    assert_int_equal(net_store_reply_get(a, K1, sizeof K1, 7, buf, sizeof buf, &n),
                     COAPS_E_MALFORMED);
    /* another version byte */
    raw[0] ^= 0x80;
    assert_int_equal(net_store_raw(a, STORE_KIND_SESSION, K2, sizeof K2, true, raw, sizeof raw,
                                   &rn),
                     COAPS_OK);
    assert_int_equal(net_store_session_fetch(a, K2, sizeof K2, buf, sizeof buf, &n),
                     COAPS_E_MALFORMED);

    /* sealed under another state key: a node with the wrong --state-key */
    struct net_store *b = open_store("memory:seal", &key_b, "b");
    assert_int_equal(net_store_session_create(a, K2, sizeof K2, REC, sizeof REC, 0, 60000, &la),
                     COAPS_OK);
    assert_int_equal(net_store_session_fetch(b, K2, sizeof K2, buf, sizeof buf, &n),
                     COAPS_E_MALFORMED);
    assert_int_equal(net_store_get_stats(b)->malformed, 1);
    assert_int_equal(net_store_session_fetch(a, K2, sizeof K2, buf, sizeof buf, &n), COAPS_OK);
    net_store_close(a);
    net_store_close(b);
}

/* A sealed value opens to what was sealed, and reseals fresh (a new
 * nonce: the same value never seals to the same bytes). */
static void test_seal_roundtrip(void **state)
{
    (void)state;
    struct crypto_aead a;
    assert_int_equal(crypto_aead_init(&a, CRYPTO_AES_256_GCM, key_a.key, NET_STATE_KEY_LEN),
                     COAPS_OK);
    uint8_t s1[STORE_SEALED_MAX], s2[STORE_SEALED_MAX], out[NET_STORE_VALUE_MAX];
    size_t n1, n2, on;
    assert_int_equal(store_seal(&a, STORE_KIND_VALUE, (const uint8_t *)"x", 1, REC, sizeof REC,
                                s1, sizeof s1, &n1),
                     COAPS_OK);
    assert_int_equal(store_seal(&a, STORE_KIND_VALUE, (const uint8_t *)"x", 1, REC, sizeof REC,
                                s2, sizeof s2, &n2),
                     COAPS_OK);
    assert_int_equal(n1, n2);
    assert_memory_not_equal(s1, s2, n1);
    assert_int_equal(store_open(&a, STORE_KIND_VALUE, (const uint8_t *)"x", 1, s1, n1, out,
                                sizeof out, &on),
                     COAPS_OK);
    assert_int_equal(on, sizeof REC);
    assert_memory_equal(out, REC, on);
    assert_int_equal(store_open(&a, STORE_KIND_VALUE, (const uint8_t *)"y", 1, s1, n1, out,
                                sizeof out, &on),
                     COAPS_E_MALFORMED);
    assert_int_equal(store_open(&a, STORE_KIND_SECRET, (const uint8_t *)"x", 1, s1, n1, out,
                                sizeof out, &on),
                     COAPS_E_MALFORMED);
    /* an empty value seals too */
    assert_int_equal(store_seal(&a, STORE_KIND_VALUE, (const uint8_t *)"x", 1, REC, 0, s1,
                                sizeof s1, &n1),
                     COAPS_OK);
    assert_int_equal(n1, STORE_SEAL_OVERHEAD);
    assert_int_equal(store_open(&a, STORE_KIND_VALUE, (const uint8_t *)"x", 1, s1, n1, out,
                                sizeof out, &on),
                     COAPS_OK);
    assert_int_equal(on, 0);
    crypto_aead_clear(&a);
}

/* ---- shared state ---------------------------------------------------------------- */

static void test_counter_secret(void **state)
{
    (void)state;
    struct net_store *a = open_store("memory:shared", &key_a, "a");
    struct net_store *b = open_store("memory:shared", &key_a, "b");
    uint64_t v;
    assert_int_equal(net_store_counter_incr(a, "counter", &v), COAPS_OK);
    assert_int_equal(v, 1);
    assert_int_equal(net_store_counter_incr(b, "counter", &v), COAPS_OK);
    assert_int_equal(v, 2);
    assert_int_equal(net_store_counter_incr(b, "other", &v), COAPS_OK);
    assert_int_equal(v, 1);

    uint8_t s1[32], s2[32], s3[32], zero[32] = {0};
    assert_int_equal(net_store_secret(a, "cookie", s1), COAPS_OK);
    assert_int_equal(net_store_secret(b, "cookie", s2), COAPS_OK);
    assert_memory_equal(s1, s2, 32); /* the first node's, for every node */
    assert_memory_not_equal(s1, zero, 32);
    assert_int_equal(net_store_secret(b, "ticket", s3), COAPS_OK);
    assert_memory_not_equal(s1, s3, 32);
    /* a separate memory: another secret */
    struct net_store *c = open_store("memory:elsewhere", &key_a, "c");
    assert_int_equal(net_store_secret(c, "cookie", s3), COAPS_OK);
    assert_memory_not_equal(s1, s3, 32);
    /* a secret damaged in the store is refused, not handed out */
    uint8_t raw[STORE_SEALED_MAX];
    size_t rn;
    assert_int_equal(net_store_raw(a, STORE_KIND_SECRET, (const uint8_t *)"cookie", 6, false, raw,
                                   sizeof raw, &rn),
                     COAPS_OK);
    raw[rn - 1] ^= 1;
    assert_int_equal(net_store_raw(a, STORE_KIND_SECRET, (const uint8_t *)"cookie", 6, true, raw,
                                   sizeof raw, &rn),
                     COAPS_OK);
    assert_int_equal(net_store_secret(b, "cookie", s2), COAPS_E_MALFORMED);
    net_store_close(a);
    net_store_close(b);
    net_store_close(c);
    /* the last handle closed frees the memory: a new one starts empty */
    a = open_store("memory:shared", &key_a, "a");
    assert_int_equal(net_store_counter_incr(a, "counter", &v), COAPS_OK);
    assert_int_equal(v, 1);
    net_store_close(a);
}

/* A full store evicts its least recently used entry: a session used
 * recently stays, the oldest goes (its device makes a full handshake). */
static void test_lru(void **state)
{
    (void)state;
    store_memory_set_capacity(8);
    struct net_store *a = open_store("memory:lru", &key_a, "a");
    store_memory_set_capacity(0);
    struct net_store_lease l;
    uint8_t key[3] = {'k', 0, 0}, buf[NET_STORE_VALUE_MAX];
    size_t n;
    for (uint8_t i = 0; i < 8; i++) {
        key[1] = i;
        assert_int_equal(net_store_session_create(a, key, sizeof key, REC, sizeof REC, 0, 60000,
                                                  &l),
                         COAPS_OK);
    }
    key[1] = 0; /* the oldest, used again: now the newest */
    assert_int_equal(net_store_session_fetch(a, key, sizeof key, buf, sizeof buf, &n), COAPS_OK);
    for (uint8_t i = 8; i < 10; i++) { /* two more: keys 1 and 2 go */
        key[1] = i;
        assert_int_equal(net_store_session_create(a, key, sizeof key, REC, sizeof REC, 0, 60000,
                                                  &l),
                         COAPS_OK);
    }
    static const coaps_status want[10] = {COAPS_OK, COAPS_E_NOT_FOUND, COAPS_E_NOT_FOUND,
                                          COAPS_OK, COAPS_OK, COAPS_OK, COAPS_OK, COAPS_OK,
                                          COAPS_OK, COAPS_OK};
    for (uint8_t i = 0; i < 10; i++) {
        key[1] = i;
        assert_int_equal(net_store_session_fetch(a, key, sizeof key, buf, sizeof buf, &n),
                         want[i]);
    }
    net_store_close(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uri),
        cmocka_unit_test(test_uri_auth),
        cmocka_unit_test(test_session_lifecycle),
        cmocka_unit_test(test_blocks_disjoint),
        cmocka_unit_test(test_ttl),
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_sealing),
        cmocka_unit_test(test_seal_roundtrip),
        cmocka_unit_test(test_counter_secret),
        cmocka_unit_test(test_lru),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
