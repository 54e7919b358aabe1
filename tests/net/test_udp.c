/* test_udp.c - batched UDP I/O with segmentation offload (src/net/udp.c):
 * walking a UDP_GRO buffer (net_rx_next), and what net_udp_send_batch
 * groups into UDP_SEGMENT sends, seen from a real receiver on loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/addr.h"
#include "net/endpoint.h"
#include "net/udp.h"

/* ---- net_rx_next on buffers built by hand ------------------------------------ */

static struct net_rx_dgram *rx_buffer(size_t len, size_t seg)
{
    struct net_rx_dgram *d = calloc(1, sizeof *d);
    assert_non_null(d);
    for (size_t i = 0; i < len; i++)
        d->data[i] = (uint8_t)i;
    d->len = len;
    d->seg = seg;
    return d;
}

/* The lengths net_rx_next hands out, at most 8; returns how many. */
static size_t walk(const struct net_rx_dgram *d, size_t max, size_t lens[8], size_t *dropped)
{
    size_t off = 0, n = 0, len;
    const uint8_t *data;
    *dropped = 0;
    while (n < 8 && net_rx_next(d, &off, max, &data, &len, dropped)) {
        assert_true(data >= d->data && data + len <= d->data + d->len);
        lens[n++] = len;
    }
    return n;
}

static void rx_next_single_datagram(void **state)
{
    (void)state;
    struct net_rx_dgram *d = rx_buffer(20, 0);
    size_t lens[8], dropped;
    assert_int_equal(walk(d, NET_UDP_DGRAM_MAX, lens, &dropped), 1);
    assert_int_equal(lens[0], 20);
    assert_int_equal(dropped, 0);
    /* an empty datagram is still one datagram (an empty CoAP message is
     * malformed, but that is for the CoAP layer to say) */
    d->len = 0;
    assert_int_equal(walk(d, NET_UDP_DGRAM_MAX, lens, &dropped), 1);
    assert_int_equal(lens[0], 0);
    free(d);
}

/* seg 10, 25 bytes: 10 + 10 + 5, in order, each at its offset */
static void rx_next_walks_segments(void **state)
{
    (void)state;
    struct net_rx_dgram *d = rx_buffer(25, 10);
    size_t off = 0, len, dropped = 0;
    const uint8_t *data;
    size_t want[] = {10, 10, 5};
    for (size_t i = 0; i < 3; i++) {
        assert_true(net_rx_next(d, &off, NET_UDP_DGRAM_MAX, &data, &len, &dropped));
        assert_int_equal(len, want[i]);
        assert_ptr_equal(data, d->data + 10 * i);
        assert_int_equal(data[0], (uint8_t)(10 * i));
    }
    assert_false(net_rx_next(d, &off, NET_UDP_DGRAM_MAX, &data, &len, &dropped));
    assert_false(net_rx_next(d, &off, NET_UDP_DGRAM_MAX, &data, &len, &dropped));
    assert_int_equal(dropped, 0);
    free(d);
}

/* Longer than the caller takes: skipped and counted, the rest still come. */
static void rx_next_drops_what_is_too_long(void **state)
{
    (void)state;
    size_t lens[8], dropped;
    struct net_rx_dgram *d = rx_buffer(2000, 0);
    assert_int_equal(walk(d, NET_UDP_DGRAM_MAX, lens, &dropped), 0);
    assert_int_equal(dropped, 1);
    d->seg = 1600; /* 1600 + 400: the first is too long, the last fits */
    assert_int_equal(walk(d, NET_UDP_DGRAM_MAX, lens, &dropped), 1);
    assert_int_equal(lens[0], 400);
    assert_int_equal(dropped, 1);
    d->seg = 0;
    d->len = 10;
    d->truncated = true;
    assert_int_equal(walk(d, NET_UDP_DGRAM_MAX, lens, &dropped), 0);
    assert_int_equal(dropped, 1);
    free(d);
}

/* ---- net_udp_send_batch against a real receiver ------------------------------ */

struct pair {
    int tx, rx;
    struct sockaddr_storage rx_addr;
    socklen_t rx_len;
};

static void pair_open(struct pair *p, const char *host)
{
    struct sockaddr_storage ss;
    socklen_t len;
    assert_int_equal(net_addr_parse_numeric(host, 0, &ss, &len), COAPS_OK);
    assert_int_equal(net_udp_open((struct sockaddr *)&ss, len, &p->tx, NULL), COAPS_OK);
    assert_int_equal(net_udp_open((struct sockaddr *)&ss, len, &p->rx, NULL), COAPS_OK);
    assert_int_equal(net_udp_local(p->rx, &p->rx_addr, &p->rx_len), COAPS_OK);
    int big = 1 << 20;
    setsockopt(p->rx, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
}

static void pair_close(struct pair *p)
{
    close(p->tx);
    close(p->rx);
}

static void dgram_to(struct net_dgram *d, const struct pair *p, size_t len, uint8_t tag)
{
    memcpy(&d->addr, &p->rx_addr, p->rx_len);
    d->addr_len = p->rx_len;
    memset(d->data, tag, len);
    d->len = len;
}

struct seen {
    size_t n;             /* datagrams */
    size_t buffers;       /* receive buffers they came in */
    size_t coalesced;     /* buffers holding more than one */
    size_t len[64];
    uint8_t tag[64];
};

/* Read from p->rx until `want` datagrams have come (or 1 s of silence). */
static void receive(const struct pair *p, size_t want, struct seen *s)
{
    static struct net_rx_dgram rx[NET_UDP_BATCH];
    memset(s, 0, sizeof *s);
    while (s->n < want) {
        struct pollfd pf = {p->rx, POLLIN, 0};
        if (poll(&pf, 1, 1000) != 1)
            fail_msg("%zu of %zu datagrams arrived", s->n, want);
        int got = net_udp_recv_batch(p->rx, rx, NET_UDP_BATCH);
        assert_true(got > 0);
        for (int i = 0; i < got; i++) {
            size_t off = 0, len, dropped = 0;
            const uint8_t *data;
            s->buffers++;
            s->coalesced += rx[i].seg > 0 && rx[i].len > rx[i].seg;
            while (net_rx_next(&rx[i], &off, NET_UDP_DGRAM_MAX, &data, &len, &dropped)) {
                assert_true(s->n < 64);
                s->len[s->n] = len;
                s->tag[s->n++] = len ? data[0] : 0;
            }
            assert_int_equal(dropped, 0);
        }
    }
}

/* Five equal datagrams to one address: one GSO send, one GRO buffer (where
 * the kernel has both), five datagrams in order either way. */
static void equal_run_goes_as_one(void **state)
{
    (void)state;
    struct pair p;
    pair_open(&p, "127.0.0.1");
    assert_true(net_udp_enable_gro(p.rx) || !net_udp_has_gso(p.tx));
    struct net_dgram d[5];
    for (uint8_t i = 0; i < 5; i++)
        dgram_to(&d[i], &p, 100, (uint8_t)(i + 1));
    bool gso = true;
    assert_int_equal(net_udp_send_batch(p.tx, d, 5, &gso), 5);
    struct seen s;
    receive(&p, 5, &s);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(s.len[i], 100);
        assert_int_equal(s.tag[i], i + 1);
    }
    if (net_udp_has_gso(p.tx)) {
        assert_true(gso);
        assert_int_equal(s.buffers, 1);
        assert_int_equal(s.coalesced, 1);
    }
    pair_close(&p);
}

/* A run ends at a new address, a longer datagram, or after a shorter one;
 * datagrams over NET_UDP_GSO_SEG_MAX never go as segments. Order holds. */
static void runs_split_where_they_must(void **state)
{
    (void)state;
    struct pair a, b;
    pair_open(&a, "127.0.0.1");
    pair_open(&b, "127.0.0.1");
    net_udp_enable_gro(a.rx);
    net_udp_enable_gro(b.rx);
    static struct net_dgram d[9];
    dgram_to(&d[0], &a, 100, 1);  /* run 1: 100 100 60 */
    dgram_to(&d[1], &a, 100, 2);
    dgram_to(&d[2], &a, 60, 3);
    dgram_to(&d[3], &a, 100, 4);  /* run 2: 100, then a longer one */
    dgram_to(&d[4], &a, 120, 5);  /* run 3: 120 */
    dgram_to(&d[5], &b, 120, 6);  /* another address */
    dgram_to(&d[6], &a, 1300, 7); /* too big for a segment: alone */
    dgram_to(&d[7], &a, 1300, 8);
    dgram_to(&d[8], &a, 1300, 9);
    bool gso = true;
    assert_int_equal(net_udp_send_batch(a.tx, d, 9, &gso), 9);
    struct seen s;
    receive(&a, 8, &s);
    size_t want_len[] = {100, 100, 60, 100, 120, 1300, 1300, 1300};
    uint8_t want_tag[] = {1, 2, 3, 4, 5, 7, 8, 9};
    for (size_t i = 0; i < 8; i++) {
        assert_int_equal(s.len[i], want_len[i]);
        assert_int_equal(s.tag[i], want_tag[i]);
    }
    if (net_udp_has_gso(a.tx))
        assert_int_equal(s.buffers, 6); /* [1 2 3] [4] [5] [7] [8] [9] */
    receive(&b, 1, &s);
    assert_int_equal(s.len[0], 120);
    assert_int_equal(s.tag[0], 6);
    pair_close(&a);
    pair_close(&b);
}

/* Without *gso (or with NULL) every datagram goes on its own. */
static void no_gso_sends_one_by_one(void **state)
{
    (void)state;
    struct pair p;
    pair_open(&p, "::1");
    net_udp_enable_gro(p.rx);
    struct net_dgram d[4];
    for (uint8_t i = 0; i < 4; i++)
        dgram_to(&d[i], &p, 50, (uint8_t)(i + 1));
    bool gso = false;
    assert_int_equal(net_udp_send_batch(p.tx, d, 4, &gso), 4);
    assert_int_equal(net_udp_send_batch(p.tx, d, 4, NULL), 4);
    struct seen s;
    receive(&p, 8, &s);
    assert_int_equal(s.buffers, 8);
    assert_int_equal(s.coalesced, 0);
    pair_close(&p);
}

/* ---- kernel drops: SO_RXQ_OVFL and SO_MEMINFO --------------------------------- */

/* Datagrams the kernel drops at a full receive buffer are counted: a
 * socket with a tiny buffer is sent 500 datagrams it does not read; the
 * next datagram after draining it carries the drop count (SO_RXQ_OVFL),
 * SO_MEMINFO says the same, and received + dropped = sent. */
static void kernel_drops_are_counted(void **state)
{
    (void)state;
    struct pair p;
    pair_open(&p, "127.0.0.1");
    int got = 0;
    assert_int_equal(net_udp_set_rcvbuf(p.rx, 4096, &got), COAPS_OK);
    assert_true(got > 0 && got < 64 * 1024);
    assert_true(net_udp_enable_drop_count(p.rx));
    static struct net_dgram d[NET_UDP_BATCH];
    for (size_t i = 0; i < NET_UDP_BATCH; i++)
        dgram_to(&d[i], &p, 100, 1);
    const size_t sent = 500 / NET_UDP_BATCH * NET_UDP_BATCH;
    for (size_t i = 0; i < sent; i += NET_UDP_BATCH)
        assert_int_equal(net_udp_send_batch(p.tx, d, NET_UDP_BATCH, NULL), NET_UDP_BATCH);
    static struct net_rx_dgram rx[NET_UDP_BATCH];
    size_t received = 0;
    int n;
    while ((n = net_udp_recv_batch(p.rx, rx, NET_UDP_BATCH)) > 0)
        for (int i = 0; i < n; i++)
            received += rx[i].seg ? (rx[i].len + rx[i].seg - 1) / rx[i].seg : 1;
    uint32_t meminfo = 0;
    assert_true(net_udp_drops(p.rx, &meminfo));
    assert_true(meminfo > 0);
    assert_int_equal(received + meminfo, sent);
    assert_int_equal(net_udp_send_batch(p.tx, d, 1, NULL), 1); /* one more */
    struct pollfd pf = {p.rx, POLLIN, 0};
    assert_int_equal(poll(&pf, 1, 1000), 1);
    assert_int_equal(net_udp_recv_batch(p.rx, rx, 1), 1);
    assert_int_equal(rx[0].drops, meminfo);
    pair_close(&p);
}

/* An endpoint adds only what is new in the socket's (wrapping) count: a
 * count older than one already seen, e.g. stamped on a datagram queued
 * before an SO_MEMINFO read, adds nothing. */
static void endpoint_accounts_drop_counts(void **state)
{
    (void)state;
    struct net_endpoint ep;
    memset(&ep, 0, sizeof ep);
    ep.fd = -1;
    net_endpoint_note_drops(&ep, 5);
    assert_int_equal(ep.stats.rx_kernel_dropped, 5);
    net_endpoint_note_drops(&ep, 3); /* older: nothing */
    net_endpoint_note_drops(&ep, 5);
    assert_int_equal(ep.stats.rx_kernel_dropped, 5);
    net_endpoint_note_drops(&ep, 9);
    assert_int_equal(ep.stats.rx_kernel_dropped, 9);
    ep.rx_drops_seen = UINT32_MAX - 1; /* the count wraps */
    net_endpoint_note_drops(&ep, 2);
    assert_int_equal(ep.stats.rx_kernel_dropped, 9 + 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rx_next_single_datagram),
        cmocka_unit_test(rx_next_walks_segments),
        cmocka_unit_test(rx_next_drops_what_is_too_long),
        cmocka_unit_test(equal_run_goes_as_one),
        cmocka_unit_test(runs_split_where_they_must),
        cmocka_unit_test(no_gso_sends_one_by_one),
        cmocka_unit_test(kernel_drops_are_counted),
        cmocka_unit_test(endpoint_accounts_drop_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
