/*
 * coap-floor - the least a CoAP server can cost per request on this
 * machine, for bench/compare's fleet table.
 *
 *   coap-floor [-A ADDRESS] [-p PORT]
 *
 * It answers every confirmable request, whatever its method and path, with
 * the piggybacked 2.05 Content {"status": true} (Content-Format 50) that
 * GET /light gets from coaps-server, and a CoAP ping with a Reset. It reads
 * nothing past the token, keeps no state and does no deduplication: it is
 * not a server, it is what remains of one when the server's own work is
 * taken away. What is left is the kernel's: the socket calls, and on
 * loopback the delivery of every reply into the client's socket.
 *
 * It moves datagrams as coaps-server does (src/net/edge.c): a
 * level-triggered epoll, then up to FLOOR_DRAIN reads of recvmmsg with
 * FLOOR_BATCH buffers, answered with one sendmmsg per read, and a 4 MiB
 * receive buffer. Its CPU per request is therefore a floor under any
 * server that uses the socket API the same way, ours included; the fleet
 * table divides it by libcoap's to show the lowest ratio a server could
 * reach there (bench/README.md).
 */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define FLOOR_PROG "coap-floor"
/* As NET_UDP_BATCH and NET_EDGE_DRAIN_BATCHES at the edge. */
#define FLOOR_BATCH 16
#define FLOOR_DRAIN 4
#define FLOOR_DGRAM_MAX 1280
#define FLOOR_RCVBUF (4 << 20)

/* RFC 7252 3: Ver 1, the type in bits 4-5, TKL in bits 0-3. */
#define COAP_TYPE_CON 0
#define COAP_TYPE_ACK 2
#define COAP_TYPE_RST 3
#define COAP_CODE_CONTENT 0x45 /* 2.05 */
#define COAP_OPT_CONTENT_FORMAT 12
#define COAP_CF_JSON 50
#define COAP_PAYLOAD_MARKER 0xff

static const char floor_payload[] = "{\"status\": true}";

/* Room for the reply: header 4, token 8, Content-Format 2, marker 1, body. */
#define FLOOR_REPLY_MAX (4 + 8 + 2 + 1 + sizeof(floor_payload) - 1)

struct floor_io {
    uint8_t in[FLOOR_BATCH][FLOOR_DGRAM_MAX];
    uint8_t out[FLOOR_BATCH][FLOOR_REPLY_MAX];
    struct sockaddr_storage peer[FLOOR_BATCH];
    struct iovec in_iov[FLOOR_BATCH], out_iov[FLOOR_BATCH];
    struct mmsghdr rx[FLOOR_BATCH], tx[FLOOR_BATCH];
};

/* The reply to the request q[0..len), into out; 0 when there is none (not
 * a CON request or ping, or not CoAP version 1). */
static size_t floor_reply(const uint8_t *q, size_t len, uint8_t *out)
{
    if (len < 4 || q[0] >> 6 != 1 || ((q[0] >> 4) & 3) != COAP_TYPE_CON)
        return 0;
    size_t tkl = q[0] & 0x0f;
    if (q[1] == 0) { /* a ping (RFC 7252 4.3): Reset, no token */
        out[0] = (uint8_t)(0x40 | COAP_TYPE_RST << 4);
        out[1] = 0;
        memcpy(out + 2, q + 2, 2);
        return 4;
    }
    if (tkl > 8 || len < 4 + tkl || q[1] >> 5 != 0) /* a request: class 0 */
        return 0;
    size_t n = 0;
    out[n++] = (uint8_t)(0x40 | COAP_TYPE_ACK << 4 | tkl);
    out[n++] = COAP_CODE_CONTENT;
    out[n++] = q[2]; /* the Message ID echoed */
    out[n++] = q[3];
    memcpy(out + n, q + 4, tkl);
    n += tkl;
    out[n++] = COAP_OPT_CONTENT_FORMAT << 4 | 1;
    out[n++] = COAP_CF_JSON;
    out[n++] = COAP_PAYLOAD_MARKER;
    memcpy(out + n, floor_payload, sizeof(floor_payload) - 1);
    return n + sizeof(floor_payload) - 1;
}

/* One recvmmsg and the sendmmsg of its replies. Returns the datagrams read. */
static int floor_turn(int fd, struct floor_io *io)
{
    for (int i = 0; i < FLOOR_BATCH; i++) {
        io->in_iov[i] = (struct iovec){io->in[i], sizeof io->in[i]};
        io->rx[i].msg_hdr = (struct msghdr){.msg_name = &io->peer[i],
                                            .msg_namelen = sizeof io->peer[i],
                                            .msg_iov = &io->in_iov[i],
                                            .msg_iovlen = 1};
    }
    int n = recvmmsg(fd, io->rx, FLOOR_BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0)
        return 0;
    unsigned m = 0;
    for (int i = 0; i < n; i++) {
        size_t len = floor_reply(io->in[i], io->rx[i].msg_len, io->out[m]);
        if (len == 0)
            continue;
        io->out_iov[m] = (struct iovec){io->out[m], len};
        io->tx[m].msg_hdr = (struct msghdr){.msg_name = &io->peer[i],
                                            .msg_namelen = io->rx[i].msg_hdr.msg_namelen,
                                            .msg_iov = &io->out_iov[m],
                                            .msg_iovlen = 1};
        m++;
    }
    /* A reply the kernel will not take is lost, as a server's would be. */
    for (unsigned done = 0; done < m;) {
        int s = sendmmsg(fd, io->tx + done, m - done, MSG_DONTWAIT);
        if (s <= 0)
            break;
        done += (unsigned)s;
    }
    return n;
}

static int floor_socket(const char *addr, const char *port)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_DGRAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(addr, port, &hints, &ai);
    if (rc != 0) {
        fprintf(stderr, FLOOR_PROG ": -A %s -p %s: %s\n", addr ? addr : "(any)", port,
                gai_strerror(rc));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        int size = FLOOR_RCVBUF;
        /* SO_RCVBUFFORCE needs CAP_NET_ADMIN; without it the capped size */
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
            (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            fprintf(stderr, FLOOR_PROG ": bind to port %s: %s\n", port, strerror(errno));
            close(fd);
            fd = -1;
        }
    } else {
        fprintf(stderr, FLOOR_PROG ": socket: %s\n", strerror(errno));
    }
    freeaddrinfo(ai);
    return fd;
}

static void floor_usage(FILE *f)
{
    fprintf(f, "usage: " FLOOR_PROG " [-A ADDRESS] [-p PORT]\n"
               "  answers every CoAP CON request with 2.05 {\"status\": true}, nothing else:\n"
               "  the kernel's floor under a server's CPU per request (bench/README.md)\n"
               "  -A ADDRESS  numeric address to bind (default: any IPv6/IPv4)\n"
               "  -p PORT     UDP port (default 5683)\n");
}

int main(int argc, char **argv)
{
    const char *addr = NULL, *port = "5683";
    int opt;
    while ((opt = getopt(argc, argv, "A:p:h")) != -1) {
        switch (opt) {
        case 'A': addr = optarg; break;
        case 'p': port = optarg; break;
        case 'h': floor_usage(stdout); return 0;
        default: floor_usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, FLOOR_PROG ": unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int fd = floor_socket(addr, port);
    if (fd < 0)
        return 1;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        fprintf(stderr, FLOOR_PROG ": epoll: %s\n", strerror(errno));
        return 1;
    }
    static struct floor_io io;
    for (;;) {
        struct epoll_event got;
        int n = epoll_wait(ep, &got, 1, -1);
        if (n < 0 && errno != EINTR) {
            fprintf(stderr, FLOOR_PROG ": epoll_wait: %s\n", strerror(errno));
            return 1;
        }
        for (int b = 0; n > 0 && b < FLOOR_DRAIN; b++)
            if (floor_turn(fd, &io) < FLOOR_BATCH)
                break;
    }
}
