/*
 * test_reuseport.c - the SO_REUSEPORT group's steering program
 * (src/net/reuseport.c) on real sockets: groups of 2 and 3 sockets on
 * loopback (IPv4, and a dual-stack [::] group reached over IPv4 and IPv6),
 * datagrams from 48 source ports each, and the socket that got each one
 * must be the one net_reuseport_worker_of names (the address hash that
 * userspace and the program share: a restored session goes where its
 * peer's records arrive); tls12_cid records go to their tag's socket, a
 * tag beyond the group to the address's, and by address or to the next
 * socket in the other two modes. Every worker gets some datagrams.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "net/addr.h"
#include "net/reuseport.h"

#define GROUP_MAX 3
#define CLIENTS 48

struct group {
    int fd[GROUP_MAX];
    unsigned n;
    int family;
    uint16_t port;
};

static int bind_one(int family, uint16_t port)
{
    int fd = socket(family, SOCK_DGRAM, 0);
    if (fd < 0)
        return -1;
    int one = 1, zero = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *in;
    } else {
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        in6->sin6_addr = in6addr_any;
        len = sizeof *in6;
    }
    if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static uint16_t port_of(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &len);
    return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                         : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* n sockets in one group, in order, the program on it. false: no IPv6. */
static bool group_open(struct group *g, int family, unsigned n, enum net_reuseport_cid cid)
{
    memset(g, 0, sizeof *g);
    g->n = n;
    g->family = family;
    for (unsigned i = 0; i < n; i++) {
        g->fd[i] = bind_one(family, g->port);
        if (g->fd[i] < 0 && family == AF_INET6 && i == 0)
            return false;
        assert_true(g->fd[i] >= 0);
        if (i == 0)
            g->port = port_of(g->fd[0]);
    }
    assert_int_equal(net_reuseport_steer(g->fd[0], n, cid), COAPS_OK);
    return true;
}

static void group_close(struct group *g)
{
    for (unsigned i = 0; i < g->n; i++)
        close(g->fd[i]);
}

/* Send len bytes from a fresh socket of family to the group over the
 * loopback address of that family; *from: the client as the server sees
 * it. The index of the socket that received it (-1: none). */
static int send_and_see(const struct group *g, int family, const uint8_t *d, size_t len,
                        coaps_peer *from)
{
    int c = socket(family, SOCK_DGRAM, 0);
    assert_true(c >= 0);
    struct sockaddr_storage to;
    memset(&to, 0, sizeof to);
    socklen_t to_len;
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&to;
        in->sin_family = AF_INET;
        in->sin_port = htons(g->port);
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        to_len = sizeof *in;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&to;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(g->port);
        in6->sin6_addr = in6addr_loopback;
        to_len = sizeof *in6;
    }
    assert_int_equal(sendto(c, d, len, 0, (struct sockaddr *)&to, to_len), (ssize_t)len);
    struct pollfd p[GROUP_MAX];
    for (unsigned i = 0; i < g->n; i++)
        p[i] = (struct pollfd){.fd = g->fd[i], .events = POLLIN};
    assert_int_equal(poll(p, g->n, 2000), 1);
    int got = -1;
    for (unsigned i = 0; i < g->n; i++) {
        if (!(p[i].revents & POLLIN))
            continue;
        uint8_t buf[64];
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        assert_true(recvfrom(g->fd[i], buf, sizeof buf, 0, (struct sockaddr *)&ss, &sl) >= 0);
        assert_int_equal(net_peer_from_sockaddr((struct sockaddr *)&ss, sl,
                                                COAPS_TRANSPORT_DTLS, from), COAPS_OK);
        got = (int)i;
    }
    close(c);
    return got;
}

/* A plain DTLS record header (application data), and a tls12_cid one
 * whose CID starts with tag. */
static size_t plain_record(uint8_t *d)
{
    static const uint8_t rec[] = {23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 7, 0, 0};
    memcpy(d, rec, sizeof rec);
    return sizeof rec;
}

static size_t cid_record(uint8_t *d, uint8_t tag)
{
    static const uint8_t rec[] = {NET_REUSEPORT_CT_TLS12_CID, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 7,
                                  0, 0xaa, 0xbb, 0xcc, 0, 0};
    memcpy(d, rec, sizeof rec);
    d[NET_REUSEPORT_CID_OFFSET] = tag;
    return sizeof rec;
}

/* CLIENTS plain records from `family` clients: each where the hash says,
 * and every socket used. */
static void check_address_hash(const struct group *g, int family)
{
    unsigned per[GROUP_MAX] = {0};
    uint8_t d[32];
    size_t len = plain_record(d);
    for (int k = 0; k < CLIENTS; k++) {
        coaps_peer from;
        int got = send_and_see(g, family, d, len, &from);
        assert_int_equal(got, (int)net_reuseport_worker_of(&from, g->n));
        per[got]++;
    }
    for (unsigned i = 0; i < g->n; i++)
        assert_true(per[i] > 0); /* 48 clients all on one of 2-3: < 2^-25 */
}

static void by_address_ipv4(void **state)
{
    (void)state;
    for (unsigned n = 2; n <= GROUP_MAX; n++) {
        struct group g;
        assert_true(group_open(&g, AF_INET, n, NET_REUSEPORT_CID_TAG));
        check_address_hash(&g, AF_INET);
        group_close(&g);
    }
}

static void by_address_dual_stack(void **state)
{
    (void)state;
    struct group g;
    if (!group_open(&g, AF_INET6, 3, NET_REUSEPORT_CID_TAG))
        skip();
    check_address_hash(&g, AF_INET); /* IPv4-mapped: hashed as IPv4 */
    check_address_hash(&g, AF_INET6);
    group_close(&g);
}

/* The CID records of each mode: tag t to t, a tag beyond the group by
 * address; by address; to t + 1. */
static void cid_records(void **state)
{
    (void)state;
    const enum net_reuseport_cid modes[] = {NET_REUSEPORT_CID_TAG, NET_REUSEPORT_CID_ADDRESS,
                                            NET_REUSEPORT_CID_MISROUTE};
    for (size_t m = 0; m < 3; m++) {
        struct group g;
        assert_true(group_open(&g, AF_INET, 3, modes[m]));
        for (unsigned tag = 0; tag < 8; tag++) {
            uint8_t d[32];
            size_t len = cid_record(d, (uint8_t)tag);
            coaps_peer from;
            int got = send_and_see(&g, AF_INET, d, len, &from);
            unsigned by_addr = net_reuseport_worker_of(&from, g.n);
            unsigned want = modes[m] == NET_REUSEPORT_CID_ADDRESS ? by_addr
                            : modes[m] == NET_REUSEPORT_CID_TAG   ? (tag < g.n ? tag : by_addr)
                                                                  : (tag + 1 < g.n ? tag + 1 : 0);
            assert_int_equal(got, (int)want);
        }
        /* plain records go by address in every mode */
        uint8_t d[32];
        size_t len = plain_record(d);
        for (int k = 0; k < 8; k++) {
            coaps_peer from;
            int got = send_and_see(&g, AF_INET, d, len, &from);
            assert_int_equal(got, (int)net_reuseport_worker_of(&from, g.n));
        }
        group_close(&g);
    }
}

static void bad_group_size(void **state)
{
    (void)state;
    int fd = bind_one(AF_INET, 0);
    assert_true(fd >= 0);
    assert_int_equal(net_reuseport_steer(fd, 1, NET_REUSEPORT_CID_TAG), COAPS_E_INVALID);
    assert_int_equal(net_reuseport_steer(fd, 256, NET_REUSEPORT_CID_TAG), COAPS_E_INVALID);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(by_address_ipv4),
        cmocka_unit_test(by_address_dual_stack),
        cmocka_unit_test(cid_records),
        cmocka_unit_test(bad_group_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
