/* test_loop.c - the epoll loop's timers and watches (src/net/loop.c) and
 * one datagram's path through the edge (src/net/edge.c) on loopback:
 * socket -> coaps_coap_input -> handler -> coaps_coap_output -> socket. */
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
#include "net/clock.h"
#include "net/edge.h"
#include "net/loop.h"
#include "net/udp.h"

struct fake_timer {
    uint64_t at;
    int id;
    int *order;
    size_t *n_order;
    struct net_loop *loop;
    bool stop_when_due;
};

static uint64_t fake_deadline(void *ctx)
{
    struct fake_timer *t = ctx;
    return t->at;
}

static void fake_due(void *ctx, uint64_t now_ms)
{
    struct fake_timer *t = ctx;
    assert_true(now_ms >= t->at);
    t->order[(*t->n_order)++] = t->id;
    t->at = NET_NO_DEADLINE;
    if (t->stop_when_due)
        net_loop_stop(t->loop);
}

/* Timers fire in deadline order, not registration order, and not early. */
static void timers_fire_in_deadline_order(void **state)
{
    (void)state;
    struct net_loop loop;
    assert_int_equal(net_loop_init(&loop, NULL, false), COAPS_OK);
    int order[2];
    size_t n = 0;
    uint64_t start = net_now_ms();
    struct fake_timer late = {start + 40, 2, order, &n, &loop, true};
    struct fake_timer early = {start + 10, 1, order, &n, &loop, false};
    assert_int_equal(net_loop_add_timer(&loop, fake_deadline, fake_due, &late), COAPS_OK);
    assert_int_equal(net_loop_add_timer(&loop, fake_deadline, fake_due, &early), COAPS_OK);
    assert_int_equal(net_loop_run(&loop), COAPS_OK);
    assert_int_equal(n, 2);
    assert_int_equal(order[0], 1);
    assert_int_equal(order[1], 2);
    assert_true(net_now_ms() - start >= 40);
    net_loop_close(&loop);
}

static void tables_are_bounded(void **state)
{
    (void)state;
    struct net_loop loop;
    assert_int_equal(net_loop_init(&loop, NULL, false), COAPS_OK);
    struct fake_timer t = {NET_NO_DEADLINE, 0, NULL, NULL, &loop, false};
    for (size_t i = 0; i < NET_LOOP_MAX_TIMERS; i++)
        assert_int_equal(net_loop_add_timer(&loop, fake_deadline, fake_due, &t), COAPS_OK);
    assert_int_equal(net_loop_add_timer(&loop, fake_deadline, fake_due, &t), COAPS_E_FULL);
    net_loop_close(&loop);
}

struct pipe_ctx {
    int fd;
    struct net_loop *loop;
    char got;
};

static void pipe_readable(void *ctx, uint64_t now_ms)
{
    (void)now_ms;
    struct pipe_ctx *p = ctx;
    assert_int_equal(read(p->fd, &p->got, 1), 1);
    net_loop_stop(p->loop);
}

static void watch_calls_back_when_readable(void **state)
{
    (void)state;
    struct net_loop loop;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(net_loop_init(&loop, NULL, false), COAPS_OK);
    struct pipe_ctx p = {fds[0], &loop, 0};
    assert_int_equal(net_loop_watch(&loop, fds[0], pipe_readable, &p), COAPS_OK);
    assert_int_equal(write(fds[1], "x", 1), 1);
    assert_int_equal(net_loop_run(&loop), COAPS_OK);
    assert_int_equal(p.got, 'x');
    net_loop_close(&loop);
    close(fds[0]);
    close(fds[1]);
}

/* ---- the edge with a real CoAP endpoint on loopback ---------------------- */

static coaps_status hello_get(void *user, const coaps_coap_request *req, coaps_coap_response *resp)
{
    (void)user;
    (void)req;
    return coaps_coap_response_set_payload(resp, "hi", 2);
}

struct stopper {
    uint64_t at;
    struct net_loop *loop;
};

static uint64_t stopper_deadline(void *ctx)
{
    return ((struct stopper *)ctx)->at;
}

static void stopper_due(void *ctx, uint64_t now_ms)
{
    (void)now_ms;
    net_loop_stop(((struct stopper *)ctx)->loop);
}

/* Send `count` CON GETs /hello (MIDs 0x1234, 0x1235, ...) from a client
 * socket to an edge bound to server_addr, all before the loop runs, so
 * they arrive as one burst; every ACK must come back to the client. With
 * gso the requests go NET_UDP_BATCH at a time as UDP_SEGMENT sends, which
 * the edge's UDP_GRO socket reads as one buffer each. */
static void round_trip_n(const char *server_addr, const char *client_addr, unsigned count,
                         bool gso)
{
    coaps_coap_config cfg;
    coaps_coap_config_default(&cfg);
    size_t size = coaps_coap_endpoint_size(&cfg);
    void *mem = malloc(size);
    coaps_coap_endpoint *coap;
    assert_non_null(mem);
    assert_int_equal(coaps_coap_endpoint_init(mem, size, &cfg, &coap), COAPS_OK);
    coaps_coap_resource_def def;
    memset(&def, 0, sizeof def);
    def.path = "hello";
    def.handler[COAPS_COAP_GET] = hello_get;
    def.ct = COAPS_COAP_CF_NONE;
    for (size_t i = 0; i < 4; i++)
        def.accept_cf[i] = COAPS_COAP_CF_NONE;
    assert_int_equal(coaps_coap_resource_add(coap, &def, NULL), COAPS_OK);

    struct net_edge *edge = calloc(1, sizeof *edge);
    assert_non_null(edge);
    net_edge_init(edge, coap, NULL);
    struct sockaddr_storage ss;
    socklen_t len;
    assert_int_equal(net_addr_parse_numeric(server_addr, 0, &ss, &len), COAPS_OK);
    struct net_endpoint *ep;
    int err_no = 0;
    assert_int_equal(net_edge_open(edge, (struct sockaddr *)&ss, len, COAPS_TRANSPORT_UDP, &ep,
                                   &err_no), COAPS_OK);
    struct net_loop loop;
    assert_int_equal(net_loop_init(&loop, NULL, false), COAPS_OK);
    assert_int_equal(net_edge_attach(edge, &loop), COAPS_OK);

    /* the client: a plain socket; the server's port from its local address */
    uint16_t port;
    if (ep->local.ss_family == AF_INET6) {
        struct sockaddr_in6 s6;
        memcpy(&s6, &ep->local, sizeof s6);
        port = ntohs(s6.sin6_port);
    } else {
        struct sockaddr_in s4;
        memcpy(&s4, &ep->local, sizeof s4);
        port = ntohs(s4.sin_port);
    }
    struct sockaddr_storage dst;
    socklen_t dst_len;
    assert_int_equal(net_addr_parse_numeric(client_addr, port, &dst, &dst_len), COAPS_OK);
    int cfd = socket(dst.ss_family, SOCK_DGRAM, 0);
    assert_true(cfd >= 0);
    /* CON GET, MID 0x1234 + i, token 0x7a, Uri-Path "hello" (RFC 7252 3) */
    uint8_t get[] = {0x41, 0x01, 0x12, 0x34, 0x7a, 0xb5, 'h', 'e', 'l', 'l', 'o'};
    static struct net_dgram burst[NET_UDP_BATCH];
    size_t queued = 0;
    for (unsigned i = 0; i < count; i++) {
        get[2] = (uint8_t)((0x1234 + i) >> 8);
        get[3] = (uint8_t)(0x1234 + i);
        if (!gso) {
            assert_int_equal(sendto(cfd, get, sizeof get, 0, (struct sockaddr *)&dst, dst_len),
                             sizeof get);
            continue;
        }
        memcpy(&burst[queued].addr, &dst, dst_len);
        burst[queued].addr_len = dst_len;
        memcpy(burst[queued].data, get, sizeof get);
        burst[queued++].len = sizeof get;
        if (queued == NET_UDP_BATCH || i + 1 == count) {
            bool on = true;
            assert_int_equal(net_udp_send_batch(cfd, burst, queued, &on), queued);
            queued = 0;
        }
    }
    struct stopper stop = {net_now_ms() + 300, &loop};
    assert_int_equal(net_loop_add_timer(&loop, stopper_deadline, stopper_due, &stop), COAPS_OK);
    assert_int_equal(net_loop_run(&loop), COAPS_OK);

    for (unsigned i = 0; i < count; i++) {
        struct pollfd p = {cfd, POLLIN, 0};
        if (poll(&p, 1, 1000) != 1)
            fail_msg("reply %u of %u missing", i, count);
        uint8_t reply[64];
        ssize_t n = recv(cfd, reply, sizeof reply, 0);
        assert_true(n >= 8);
        /* ACK (2), TKL 1, 2.05 Content, the request's MID and token, "hi" */
        assert_int_equal(reply[0], 0x61);
        assert_int_equal(reply[1], COAPS_COAP_CONTENT);
        assert_int_equal((reply[2] << 8 | reply[3]), (0x1234 + i) & 0xffff);
        assert_int_equal(reply[4], 0x7a);
        assert_memory_equal(reply + n - 3, "\xff" "hi", 3);
    }
    assert_true(ep->stats.rx_datagrams == count);
    assert_true(ep->stats.tx_datagrams == count);
    /* where the kernel has GSO, the segmented bursts came in whole */
    if (gso && net_udp_has_gso(cfd))
        assert_true(ep->stats.rx_coalesced > 0);

    close(cfd);
    net_edge_close(edge);
    net_loop_close(&loop);
    free(edge);
    free(mem);
}

static void round_trip(const char *server_addr, const char *client_addr)
{
    round_trip_n(server_addr, client_addr, 1, false);
}

/* A burst larger than the core's output queue (outq_entries, 64 by
 * default) is answered in full: the edge flushes after every
 * NET_UDP_BATCH datagrams instead of after draining the socket. */
static void edge_answers_a_burst(void **state)
{
    (void)state;
    round_trip_n("127.0.0.1", "127.0.0.1", 120, false);
}

/* The same burst sent as UDP_SEGMENT runs: one receive buffer holds 16
 * requests (UDP_GRO), each is answered, counted, and the flushes still
 * keep the output queue from overflowing. */
static void edge_answers_a_segmented_burst(void **state)
{
    (void)state;
    round_trip_n("127.0.0.1", "127.0.0.1", 120, true);
    round_trip_n("::1", "::1", 40, true);
    round_trip_n("::", "127.0.0.1", 40, true); /* dual stack: IPv4-mapped runs */
}

static void edge_answers_ipv4(void **state)
{
    (void)state;
    round_trip("127.0.0.1", "127.0.0.1");
}

static void edge_answers_ipv6(void **state)
{
    (void)state;
    round_trip("::1", "::1");
}

/* A dual-stack [::] socket sees ::ffff:127.0.0.1; the peer is normalised
 * to IPv4 and the reply must be mapped back on the way out. */
static void dual_stack_edge_answers_ipv4(void **state)
{
    (void)state;
    round_trip("::", "127.0.0.1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(timers_fire_in_deadline_order),
        cmocka_unit_test(tables_are_bounded),
        cmocka_unit_test(watch_calls_back_when_readable),
        cmocka_unit_test(edge_answers_ipv4),
        cmocka_unit_test(edge_answers_ipv6),
        cmocka_unit_test(dual_stack_edge_answers_ipv4),
        cmocka_unit_test(edge_answers_a_burst),
        cmocka_unit_test(edge_answers_a_segmented_burst),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
