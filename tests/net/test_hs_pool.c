/* test_hs_pool.c - handshake slots and whom a full pool displaces
 * (src/net/hs_pool.c), with a fake clock: the issue-18 flood in miniature. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "net/hs_pool.h"

/* 127.0.0.<host>:<port>, laid out as net/addr.c lays it out */
static coaps_peer v4(uint8_t host, uint16_t port)
{
    coaps_peer p;
    memset(&p, 0, sizeof p);
    struct sockaddr_in s4;
    memset(&s4, 0, sizeof s4);
    s4.sin_family = AF_INET;
    s4.sin_port = htons(port);
    s4.sin_addr.s_addr = htonl(0x7f000000u | host);
    memcpy(p.addr, &s4, sizeof s4);
    p.addr_len = sizeof s4;
    p.transport = COAPS_TRANSPORT_DTLS;
    return p;
}

static uint64_t host_of(uint8_t host, uint16_t port)
{
    coaps_peer p = v4(host, port);
    return net_hs_host_key(&p);
}

/* The host key ignores the port (IPv4) and the interface identifier (IPv6
 * /64), and tells hosts apart. */
static void host_key_is_the_address(void **state)
{
    (void)state;
    assert_true(host_of(1, 1000) == host_of(1, 2000));
    assert_true(host_of(1, 1000) != host_of(2, 1000));
    coaps_peer a, b;
    memset(&a, 0, sizeof a);
    struct sockaddr_in6 s6;
    memset(&s6, 0, sizeof s6);
    s6.sin6_family = AF_INET6;
    s6.sin6_port = htons(5684);
    inet_pton(AF_INET6, "2001:db8:1:2::1", &s6.sin6_addr);
    memcpy(a.addr, &s6, sizeof s6);
    a.addr_len = sizeof s6;
    b = a;
    inet_pton(AF_INET6, "2001:db8:1:2:ffff::9", &s6.sin6_addr);
    s6.sin6_port = htons(40000);
    memcpy(b.addr, &s6, sizeof s6);
    assert_true(net_hs_host_key(&a) == net_hs_host_key(&b)); /* same /64 */
    inet_pton(AF_INET6, "2001:db8:1:3::1", &s6.sin6_addr);
    memcpy(b.addr, &s6, sizeof s6);
    assert_true(net_hs_host_key(&a) != net_hs_host_key(&b));
}

/* Bounded, O(1) lending; the lent slots stay dense in used[]; a slot
 * given back is lent again; counts per host follow. */
static void take_give_and_count(void **state)
{
    (void)state;
    struct net_hs_pool p;
    assert_int_equal(net_hs_pool_init(&p, 8), COAPS_OK);
    uint32_t h[8];
    for (uint32_t i = 0; i < 8; i++) {
        h[i] = net_hs_pool_take(&p, 100 + i, host_of(i < 6 ? 1 : 2, (uint16_t)i), i);
        assert_int_not_equal(h[i], NET_HS_NONE);
    }
    assert_int_equal(net_hs_pool_take(&p, 200, host_of(3, 1), 9), NET_HS_NONE); /* full */
    assert_int_equal(p.in_use, 8);
    assert_int_equal(net_hs_pool_host_count(&p, host_of(1, 0)), 6);
    assert_int_equal(net_hs_pool_host_count(&p, host_of(2, 0)), 2);
    assert_int_equal(net_hs_pool_host_count(&p, host_of(3, 0)), 0);
    net_hs_pool_give(&p, h[2]);
    net_hs_pool_give(&p, h[2]); /* twice: no-op */
    net_hs_pool_give(&p, h[7]);
    assert_int_equal(p.in_use, 6);
    assert_int_equal(net_hs_pool_host_count(&p, host_of(1, 0)), 5);
    assert_int_equal(net_hs_pool_host_count(&p, host_of(2, 0)), 1);
    bool seen[8] = {false};
    for (uint32_t i = 0; i < p.in_use; i++) {
        uint32_t s = p.used[i];
        assert_true(s < 8 && !seen[s]);
        seen[s] = true;
        assert_int_equal(p.slot[s].pos, i);
        assert_int_not_equal(p.slot[s].owner, NET_HS_NONE);
    }
    assert_false(seen[h[2]] || seen[h[7]]);
    uint32_t again = net_hs_pool_take(&p, 300, host_of(3, 1), 10);
    assert_true(again == h[2] || again == h[7]);
    assert_int_equal(p.slot[again].owner, 300);
    net_hs_pool_free(&p);
}

/* Issue 18 in miniature: a pool of 64, full of a flooder's handshakes
 * (one host, many ports, none progressing), and honest devices from other
 * hosts thinking between flights. Each newcomer displaces a flood slot,
 * never an honest one, however old the honest handshake grows: the
 * victim is the host holding the most. */
static void flood_from_one_host_displaces_itself(void **state)
{
    (void)state;
    struct net_hs_pool p;
    assert_int_equal(net_hs_pool_init(&p, 64), COAPS_OK);
    uint64_t now = 1000;
    /* two honest devices first (the oldest: oldest-first would take them) */
    uint32_t honest[2];
    honest[0] = net_hs_pool_take(&p, 1, host_of(200, 5000), now);
    honest[1] = net_hs_pool_take(&p, 2, host_of(201, 5000), now);
    uint32_t owner = 1000;
    while (p.in_use < p.cap) {
        assert_int_not_equal(net_hs_pool_take(&p, owner, host_of(1, (uint16_t)owner), ++now),
                             NET_HS_NONE);
        owner++;
    }
    /* 3,000 newcomers a second for 2 s (1 per 1/3 ms; the clock in ms) */
    for (unsigned i = 0; i < 6000; i++) {
        now = 1000 + 100 + i / 3;
        uint32_t v = net_hs_pool_victim(&p);
        assert_true(v != honest[0] && v != honest[1]);
        assert_true(p.slot[v].owner >= 1000);
        net_hs_pool_give(&p, v);
        assert_int_not_equal(net_hs_pool_take(&p, owner, host_of(1, (uint16_t)owner), now),
                             NET_HS_NONE);
        owner++;
    }
    assert_int_equal(p.slot[honest[0]].owner, 1);
    assert_int_equal(p.slot[honest[1]].owner, 2);
    net_hs_pool_free(&p);
}

/* No progress goes before progress, whatever the host holds; among equals
 * the host holding the most, then the oldest. */
static void victim_order(void **state)
{
    (void)state;
    struct net_hs_pool p;
    assert_int_equal(net_hs_pool_init(&p, 6), COAPS_OK);
    assert_int_equal(net_hs_pool_victim(&p), NET_HS_NONE);
    /* host 1 holds 3, host 2 holds 2, host 3 holds 1 */
    uint32_t a1 = net_hs_pool_take(&p, 1, host_of(1, 1), 10);
    uint32_t a2 = net_hs_pool_take(&p, 2, host_of(1, 2), 20);
    uint32_t a3 = net_hs_pool_take(&p, 3, host_of(1, 3), 30);
    uint32_t b1 = net_hs_pool_take(&p, 4, host_of(2, 1), 5);
    uint32_t b2 = net_hs_pool_take(&p, 5, host_of(2, 2), 6);
    uint32_t c1 = net_hs_pool_take(&p, 6, host_of(3, 1), 1);
    /* all without progress: host 1, its oldest */
    assert_int_equal(net_hs_pool_victim(&p), a1);
    /* host 1's all progressed: host 2 (holds more than host 3), oldest */
    net_hs_pool_set_progress(&p, a1, true);
    net_hs_pool_set_progress(&p, a2, true);
    net_hs_pool_set_progress(&p, a3, true);
    assert_int_equal(net_hs_pool_victim(&p), b1);
    /* host 2's progressed too: host 3's, the only one without */
    net_hs_pool_set_progress(&p, b1, true);
    net_hs_pool_set_progress(&p, b2, true);
    assert_int_equal(net_hs_pool_victim(&p), c1);
    /* everyone progressed: host 1 again (holds most), oldest */
    net_hs_pool_set_progress(&p, c1, true);
    assert_int_equal(net_hs_pool_victim(&p), a1);
    /* after a1 leaves, hosts 1 and 2 hold 2 each: the oldest of those */
    net_hs_pool_give(&p, a1);
    assert_int_equal(net_hs_pool_victim(&p), b1);
    net_hs_pool_free(&p);
}

/* Many hosts, one slot each (a flood from many addresses): the victim is
 * then the oldest handshake without progress; an honest handshake that
 * progressed is not taken while one without progress remains. */
static void many_hosts_oldest_without_progress(void **state)
{
    (void)state;
    struct net_hs_pool p;
    assert_int_equal(net_hs_pool_init(&p, 100), COAPS_OK);
    uint32_t h[100];
    for (uint32_t i = 0; i < 100; i++)
        h[i] = net_hs_pool_take(&p, i, host_of((uint8_t)i, 1), 1000 + i);
    net_hs_pool_set_progress(&p, h[0], true);
    assert_int_equal(net_hs_pool_victim(&p), h[1]);
    for (uint32_t i = 1; i < 100; i++)
        if (i != 50)
            net_hs_pool_set_progress(&p, h[i], true);
    assert_int_equal(net_hs_pool_victim(&p), h[50]);
    net_hs_pool_free(&p);
}

/* The per-host counts stay exact through any order of lending and
 * returning (the table's backward-shift deletion), against a plain count;
 * a small pool, so that hosts collide in the table. */
static void host_counts_exact_under_churn(void **state)
{
    (void)state;
    struct net_hs_pool p;
    assert_int_equal(net_hs_pool_init(&p, 16), COAPS_OK);
    uint32_t held[16], host[16], naive[40] = {0};
    uint32_t n = 0, rng = 12345;
    for (unsigned step = 0; step < 20000; step++) {
        rng = rng * 1103515245u + 12345u;
        uint32_t r = rng >> 8;
        if (n < 16 && (n == 0 || r % 3)) {
            uint32_t hst = r % 40;
            held[n] = net_hs_pool_take(&p, step, host_of((uint8_t)hst, 1), step);
            assert_int_not_equal(held[n], NET_HS_NONE);
            host[n++] = hst;
            naive[hst]++;
        } else {
            uint32_t k = r % n;
            net_hs_pool_give(&p, held[k]);
            naive[host[k]]--;
            held[k] = held[--n];
            host[k] = host[n];
        }
        for (uint8_t h = 0; h < 40; h++)
            assert_int_equal(net_hs_pool_host_count(&p, host_of(h, 9)), naive[h]);
    }
    net_hs_pool_free(&p);
}

/* A host at the server's per-host bound gives up one of its own
 * (net_hs_pool_host_victim): no progress first, then its oldest; never
 * another host's slot. */
static void host_victim_is_its_own(void **state)
{
    (void)state;
    struct net_hs_pool p;
    assert_int_equal(net_hs_pool_init(&p, 8), COAPS_OK);
    assert_int_equal(net_hs_pool_host_victim(&p, host_of(1, 1)), NET_HS_NONE);
    uint32_t o1 = net_hs_pool_take(&p, 1, host_of(2, 1), 1); /* other host, oldest */
    uint32_t a1 = net_hs_pool_take(&p, 2, host_of(1, 1), 10);
    uint32_t a2 = net_hs_pool_take(&p, 3, host_of(1, 2), 20);
    uint32_t a3 = net_hs_pool_take(&p, 4, host_of(1, 3), 30);
    (void)o1;
    assert_int_equal(net_hs_pool_host_count(&p, host_of(1, 9)), 3);
    assert_int_equal(net_hs_pool_host_victim(&p, host_of(1, 9)), a1);
    net_hs_pool_set_progress(&p, a1, true);
    assert_int_equal(net_hs_pool_host_victim(&p, host_of(1, 9)), a2);
    net_hs_pool_set_progress(&p, a2, true);
    net_hs_pool_set_progress(&p, a3, true);
    assert_int_equal(net_hs_pool_host_victim(&p, host_of(1, 9)), a1);
    assert_int_equal(net_hs_pool_host_victim(&p, host_of(3, 1)), NET_HS_NONE);
    net_hs_pool_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(host_key_is_the_address),
        cmocka_unit_test(take_give_and_count),
        cmocka_unit_test(flood_from_one_host_displaces_itself),
        cmocka_unit_test(victim_order),
        cmocka_unit_test(many_hosts_oldest_without_progress),
        cmocka_unit_test(host_counts_exact_under_churn),
        cmocka_unit_test(host_victim_is_its_own),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
