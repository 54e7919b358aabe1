/* test_session_table.c - sessions by peer with LRU (src/net/session_table.c)
 * and the log rate limiter (src/net/dtls_server.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "net/dtls_server.h"
#include "net/session_table.h"

static coaps_peer peer(uint32_t n)
{
    coaps_peer p;
    memset(&p, 0, sizeof p);
    p.transport = COAPS_TRANSPORT_DTLS;
    p.addr_len = 8;
    memcpy(p.addr, &n, sizeof n);
    return p;
}

static void finds_inserts_and_removes(void **state)
{
    (void)state;
    struct net_session_table t;
    assert_int_equal(net_session_table_init(&t, 100), COAPS_OK);
    for (uint32_t n = 0; n < 100; n++) {
        coaps_peer p = peer(n);
        assert_int_equal(net_session_find(&t, &p), NET_SESSION_NONE);
        assert_int_not_equal(net_session_insert(&t, &p, n), NET_SESSION_NONE);
    }
    coaps_peer extra = peer(1000);
    assert_int_equal(net_session_insert(&t, &extra, 0), NET_SESSION_NONE); /* bounded */
    for (uint32_t n = 0; n < 100; n++) {
        coaps_peer p = peer(n);
        uint32_t i = net_session_find(&t, &p);
        assert_int_not_equal(i, NET_SESSION_NONE);
        assert_true(coaps_peer_equal(&net_session_at(&t, i)->peer, &p));
    }
    /* remove every other one; the rest are still found, freed slots reused */
    for (uint32_t n = 0; n < 100; n += 2) {
        coaps_peer p = peer(n);
        net_session_remove(&t, net_session_find(&t, &p));
        assert_int_equal(net_session_find(&t, &p), NET_SESSION_NONE);
    }
    assert_int_equal(t.count, 50);
    for (uint32_t n = 1; n < 100; n += 2) {
        coaps_peer p = peer(n);
        assert_int_not_equal(net_session_find(&t, &p), NET_SESSION_NONE);
    }
    for (uint32_t n = 200; n < 250; n++) {
        coaps_peer p = peer(n);
        assert_int_not_equal(net_session_insert(&t, &p, 0), NET_SESSION_NONE);
    }
    assert_int_equal(net_session_insert(&t, &extra, 0), NET_SESSION_NONE);
    /* the same address over another transport is another peer */
    coaps_peer udp = peer(1);
    udp.transport = COAPS_TRANSPORT_UDP;
    assert_int_equal(net_session_find(&t, &udp), NET_SESSION_NONE);
    net_session_table_free(&t);
}

/* Tables sharing a bound (a server's workers): each has slots of its own,
 * all together hold at most the shared cap; a remove, or a table freed
 * with sessions in it, gives room back; a table full of its own slots
 * refuses without taking from the count. */
static void tables_share_a_bound(void **state)
{
    (void)state;
    struct net_session_total total = {.cap = 10};
    struct net_session_table a, b;
    assert_int_equal(net_session_table_init(&a, 8), COAPS_OK);
    assert_int_equal(net_session_table_init(&b, 8), COAPS_OK);
    net_session_table_share(&a, &total);
    net_session_table_share(&b, &total);
    for (uint32_t n = 0; n < 7; n++) {
        coaps_peer p = peer(n);
        assert_int_not_equal(net_session_insert(&a, &p, 0), NET_SESSION_NONE);
    }
    for (uint32_t n = 100; n < 103; n++) {
        coaps_peer p = peer(n);
        assert_int_not_equal(net_session_insert(&b, &p, 0), NET_SESSION_NONE);
    }
    assert_int_equal(atomic_load(&total.count), 10);
    coaps_peer more = peer(200), more_a = peer(201);
    assert_int_equal(net_session_insert(&b, &more, 0), NET_SESSION_NONE); /* b has slots, */
    assert_int_equal(net_session_insert(&a, &more_a, 0), NET_SESSION_NONE); /* the server not */
    assert_int_equal(b.count, 3);
    coaps_peer p0 = peer(0);
    net_session_remove(&a, net_session_find(&a, &p0)); /* room in a: b may take it */
    assert_int_not_equal(net_session_insert(&b, &more, 0), NET_SESSION_NONE);
    assert_int_equal(atomic_load(&total.count), 10);
    net_session_table_free(&b); /* its 4 sessions leave the count */
    assert_int_equal(atomic_load(&total.count), 6);
    assert_int_not_equal(net_session_insert(&a, &p0, 0), NET_SESSION_NONE);
    assert_int_not_equal(net_session_insert(&a, &more_a, 0), NET_SESSION_NONE);
    coaps_peer p9 = peer(9);
    assert_int_equal(net_session_insert(&a, &p9, 0), NET_SESSION_NONE); /* a's 8 slots */
    assert_int_equal(atomic_load(&total.count), 8);
    net_session_table_free(&a);
    assert_int_equal(atomic_load(&total.count), 0);
}

static void lru_orders_by_last_traffic(void **state)
{
    (void)state;
    struct net_session_table t;
    assert_int_equal(net_session_table_init(&t, 8), COAPS_OK);
    uint32_t s[4];
    for (uint32_t n = 0; n < 4; n++) {
        coaps_peer p = peer(n);
        s[n] = net_session_insert(&t, &p, 0);
    }
    /* handshaking sessions (not on the list) are never victims */
    assert_int_equal(net_session_lru_oldest(&t), NET_SESSION_NONE);
    assert_int_equal(net_session_victim(&t, 1000000, 10), NET_SESSION_NONE);
    for (uint32_t n = 0; n < 4; n++)
        net_session_lru_add(&t, s[n], 100 + n);
    assert_int_equal(net_session_lru_oldest(&t), s[0]);
    net_session_touch(&t, s[0], 200);
    assert_int_equal(net_session_lru_oldest(&t), s[1]);
    net_session_remove(&t, s[1]);
    assert_int_equal(net_session_lru_oldest(&t), s[2]);
    net_session_touch(&t, s[2], 201);
    net_session_touch(&t, s[3], 202);
    assert_int_equal(net_session_lru_oldest(&t), s[0]);
    net_session_table_free(&t);
}

/* Eviction picks the least recently used session only when it has been
 * silent for busy_ms (RFC 7252 4.8.2: no exchange can be in progress). */
static void victim_only_when_idle_enough(void **state)
{
    (void)state;
    struct net_session_table t;
    assert_int_equal(net_session_table_init(&t, 2), COAPS_OK);
    coaps_peer a = peer(1), b = peer(2);
    uint32_t ia = net_session_insert(&t, &a, 0), ib = net_session_insert(&t, &b, 0);
    net_session_lru_add(&t, ia, 1000);
    net_session_lru_add(&t, ib, 5000);
    assert_int_equal(net_session_victim(&t, 1000 + 93000 - 1, 93000), NET_SESSION_NONE);
    assert_int_equal(net_session_victim(&t, 1000 + 93000, 93000), ia);
    net_session_touch(&t, ia, 94000);
    assert_int_equal(net_session_victim(&t, 94000, 93000), NET_SESSION_NONE);
    assert_int_equal(net_session_victim(&t, 5000 + 93000, 93000), ib);
    net_session_table_free(&t);
}

/* The slots on the LRU list, most recent first; returns how many. */
static uint32_t lru_walk(const struct net_session_table *t, uint32_t *out, uint32_t max)
{
    uint32_t n = 0;
    for (uint32_t i = t->lru_head; i != NET_SESSION_NONE && n < max; i = t->slots[i].lru_next)
        out[n++] = i;
    return n;
}

/* A moved session keeps its slot, its LRU place and its time, and is found
 * only under its new address (RFC 9146: the peer's address changed). */
static void move_rekeys_a_slot(void **state)
{
    (void)state;
    struct net_session_table t;
    assert_int_equal(net_session_table_init(&t, 16), COAPS_OK);
    uint32_t s[8], before[16], after[16];
    for (uint32_t n = 0; n < 8; n++) {
        coaps_peer p = peer(n);
        s[n] = net_session_insert(&t, &p, n);
        net_session_lru_add(&t, s[n], 100 + n);
    }
    uint32_t nb = lru_walk(&t, before, 16);
    assert_int_equal(nb, 8);
    coaps_peer old = peer(3), to = peer(1003);
    net_session_move(&t, s[3], &to);
    assert_int_equal(net_session_find(&t, &to), s[3]);
    assert_int_equal(net_session_find(&t, &old), NET_SESSION_NONE);
    assert_true(coaps_peer_equal(&net_session_at(&t, s[3])->peer, &to));
    assert_int_equal(net_session_at(&t, s[3])->last_ms, 103);
    assert_int_equal(t.count, 8);
    assert_int_equal(lru_walk(&t, after, 16), nb);
    assert_memory_equal(before, after, nb * sizeof before[0]);
    for (uint32_t n = 0; n < 8; n++) {
        coaps_peer p = peer(n);
        if (n != 3)
            assert_int_equal(net_session_find(&t, &p), s[n]);
    }
    /* the oldest moved is still the victim, and removal still unlinks it */
    net_session_move(&t, s[0], &old);
    assert_int_equal(net_session_victim(&t, 100 + 93000, 93000), s[0]);
    net_session_remove(&t, s[0]);
    assert_int_equal(net_session_find(&t, &old), NET_SESSION_NONE);
    assert_int_equal(t.count, 7);
    net_session_table_free(&t);
}

/* Thousands of moves (many within one bucket: 64 slots, 128 buckets) with
 * removals and inserts between them keep every chain exact: each used
 * slot on exactly one chain, the one of its address. */
static void many_moves_keep_the_table_consistent(void **state)
{
    (void)state;
    enum { CAP = 64 };
    struct net_session_table t;
    assert_int_equal(net_session_table_init(&t, CAP), COAPS_OK);
    uint32_t addr[CAP], next = 10000, rng = 12345;
    for (uint32_t n = 0; n < CAP; n++) {
        coaps_peer p = peer(n);
        uint32_t i = net_session_insert(&t, &p, 0);
        addr[i] = n;
        net_session_lru_add(&t, i, n);
    }
    uint32_t before[CAP], after[CAP];
    uint32_t nb = lru_walk(&t, before, CAP);
    for (uint32_t k = 0; k < 5000; k++) {
        rng = rng * 1103515245u + 12345u;
        uint32_t i = (rng >> 8) % CAP;
        coaps_peer from = peer(addr[i]), to = peer(next);
        net_session_move(&t, i, &to);
        assert_int_equal(net_session_find(&t, &to), i);
        assert_int_equal(net_session_find(&t, &from), NET_SESSION_NONE);
        addr[i] = next++;
        if (k % 97 == 0) { /* a session ends and another takes its slot */
            net_session_remove(&t, i);
            coaps_peer fresh = peer(next);
            uint32_t j = net_session_insert(&t, &fresh, k);
            assert_int_equal(j, i);
            net_session_lru_add(&t, j, 1000 + k);
            addr[j] = next++;
            nb = lru_walk(&t, before, CAP);
        }
    }
    assert_int_equal(t.count, CAP);
    assert_int_equal(lru_walk(&t, after, CAP), nb);
    assert_memory_equal(before, after, nb * sizeof before[0]);
    uint32_t seen[CAP] = {0}, chained = 0;
    for (uint32_t b = 0; b <= t.bucket_mask; b++) {
        for (uint32_t i = t.buckets[b]; i != NET_SESSION_NONE; i = t.slots[i].hash_next) {
            assert_true(i < CAP);
            assert_int_equal((coaps_peer_hash(&t.slots[i].peer) & t.bucket_mask), b);
            seen[i]++;
            chained++;
        }
    }
    assert_int_equal(chained, CAP);
    for (uint32_t i = 0; i < CAP; i++) {
        coaps_peer p = peer(addr[i]);
        assert_int_equal(seen[i], 1);
        assert_int_equal(net_session_find(&t, &p), i);
    }
    net_session_table_free(&t);
}

/* Cold sessions (net_session_cool_next): each cooled once per silence, in
 * LRU order, and after the walk every session silent long enough is cold,
 * whatever traffic, removals and re-adds came between. A model (cold[],
 * alive[]) checked against the table after random operations. */
static void cold_run_follows_the_lru(void **state)
{
    (void)state;
    enum { N = 64, COLD_MS = 100 };
    struct net_session_table t;
    assert_int_equal(net_session_table_init(&t, N), COAPS_OK);
    uint32_t slot[N];
    bool alive[N] = {false}, cold[N] = {false};
    uint64_t now = 1000, rng = 0x9e3779b97f4a7c15u;
    assert_int_equal(net_session_cool_due(&t, COLD_MS), UINT64_MAX);
    for (unsigned step = 0; step < 20000; step++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        uint32_t k = (uint32_t)(rng % N);
        now += rng >> 60; /* 0-15 ms a step */
        switch ((rng >> 8) % 4) {
        case 0: /* a session comes, or goes */
            if (!alive[k]) {
                coaps_peer p = peer(k);
                slot[k] = net_session_insert(&t, &p, now);
                assert_int_not_equal(slot[k], NET_SESSION_NONE);
                net_session_lru_add(&t, slot[k], now);
                alive[k] = true;
            } else {
                net_session_remove(&t, slot[k]);
                alive[k] = cold[k] = false;
            }
            break;
        case 1:
        case 2: /* traffic */
            if (alive[k]) {
                net_session_touch(&t, slot[k], now);
                cold[k] = false;
            }
            break;
        default: { /* the timer: cool what is due */
            uint32_t i;
            while ((i = net_session_cool_next(&t, now, COLD_MS)) != NET_SESSION_NONE) {
                uint32_t who = UINT32_MAX;
                for (uint32_t m = 0; m < N; m++)
                    if (alive[m] && slot[m] == i)
                        who = m;
                assert_int_not_equal(who, UINT32_MAX);
                assert_false(cold[who]); /* once per silence */
                assert_true(now - net_session_at(&t, i)->last_ms >= COLD_MS);
                cold[who] = true;
            }
            uint64_t due = net_session_cool_due(&t, COLD_MS);
            for (uint32_t m = 0; m < N; m++) {
                if (!alive[m])
                    continue;
                uint64_t last = net_session_at(&t, slot[m])->last_ms;
                /* silent long enough means cold; a warm one is not due yet */
                assert_int_equal(cold[m], now - last >= COLD_MS);
                if (!cold[m])
                    assert_true(due <= last + COLD_MS && due > now);
            }
            break;
        }
        }
    }
    net_session_table_free(&t);
}

static void bad_sizes_refused(void **state)
{
    (void)state;
    struct net_session_table t;
    assert_int_equal(net_session_table_init(&t, 0), COAPS_E_INVALID);
    assert_int_equal(net_session_table_init(&t, NET_SESSION_TABLE_MAX + 1), COAPS_E_INVALID);
}

static void ratelimit_allows_a_burst_per_window(void **state)
{
    (void)state;
    struct net_ratelimit rl;
    memset(&rl, 0, sizeof rl);
    uint32_t sup = 0;
    for (int i = 0; i < 3; i++)
        assert_true(net_ratelimit_allow(&rl, 1000, 3, 10000, &sup));
    assert_false(net_ratelimit_allow(&rl, 1001, 3, 10000, &sup));
    assert_false(net_ratelimit_allow(&rl, 10999, 3, 10000, &sup));
    assert_int_equal(sup, 0);
    assert_true(net_ratelimit_allow(&rl, 11000, 3, 10000, &sup));
    assert_int_equal(sup, 2); /* the two held back are reported once */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(finds_inserts_and_removes),
        cmocka_unit_test(tables_share_a_bound),
        cmocka_unit_test(lru_orders_by_last_traffic),
        cmocka_unit_test(victim_only_when_idle_enough),
        cmocka_unit_test(move_rekeys_a_slot),
        cmocka_unit_test(many_moves_keep_the_table_consistent),
        cmocka_unit_test(cold_run_follows_the_lru),
        cmocka_unit_test(bad_sizes_refused),
        cmocka_unit_test(ratelimit_allows_a_burst_per_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
