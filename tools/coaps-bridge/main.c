/*
 * coaps-bridge - the host side of the firmware's UART: UDP datagrams on
 * 127.0.0.1 (coap:// and coaps:// ports) become frames on the emulated
 * serial line (link/frame.h, docs/firmware.md), and frames from the
 * firmware become datagrams to the peer their header names. With it any
 * CoAP client talks to the light in QEMU as to a device on the network.
 *
 *   coaps-bridge [-A address] [-p port] [--coaps-port N] [--inject-port N]
 *                --uart PATH|-
 *
 * --uart PATH connects to QEMU's serial chardev (a Unix socket QEMU serves);
 * "-" uses stdin/stdout instead (tests feed the decoder with it). The
 * bridge prints the `listening on` lines when the firmware says it is up
 * (a READY frame), the firmware's log lines on stderr, and its counters on
 * SIGUSR1 and at exit. --inject-port takes datagrams whose bytes go to the
 * UART as they are, unframed: for the tests of bad frames.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "link/frame.h"
#include "net/addr.h"
#include "cli/cli.h"

#define PROG "coaps-bridge"
#define BRIDGE_DEFAULT_HOST "127.0.0.1"
#define BRIDGE_DEFAULT_PORT 5683 /* RFC 7252 6.1; coaps:// is this + 1 (6.2: 5684) */
/* QEMU creates its socket a moment after it starts: retry this long. */
#define BRIDGE_CONNECT_MS 10000
#define BRIDGE_CONNECT_STEP_MS 50
/* Bytes read from the UART at once; the decoder takes them one by one. */
#define BRIDGE_UART_CHUNK 4096
/* Sockets polled: UART in, coap://, coaps://, injection. */
#define BRIDGE_FDS 4

struct bridge_stats {
    uint32_t udp_in, udp_out;
    uint32_t udp_oversize;   /* datagram bigger than LINK_PAYLOAD_MAX */
    uint32_t unroutable;     /* frame for a peer we cannot send to */
    uint32_t injected;
};

struct bridge {
    int uart_in, uart_out;
    int udp[LINK_CH_COUNT];
    struct sockaddr_storage bound[LINK_CH_COUNT];
    socklen_t bound_len[LINK_CH_COUNT];
    int inject;
    struct link_rx rx;
    struct bridge_stats stats;
    uint8_t enc[LINK_ENCODED_MAX(LINK_PAYLOAD_MAX)];
    size_t enc_len;
};

static volatile sig_atomic_t stop_requested, stats_requested;

static void on_signal(int sig)
{
    if (sig == SIGUSR1)
        stats_requested = 1;
    else
        stop_requested = 1;
}

static void print_stats(const struct bridge *b)
{
    const struct link_stats *u = &b->rx.stats;
    fprintf(stderr,
            PROG ": uart frames in: %u ok, %u bad crc, %u oversize, %u malformed; "
                 "udp: %u in, %u out, %u oversize, %u unroutable, %u injected\n",
            u->ok, u->bad_crc, u->oversize, u->malformed, b->stats.udp_in, b->stats.udp_out,
            b->stats.udp_oversize, b->stats.unroutable, b->stats.injected);
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void enc_put(void *ctx, uint8_t byte)
{
    struct bridge *b = ctx;
    if (b->enc_len < sizeof b->enc)
        b->enc[b->enc_len++] = byte;
}

static void sockaddr_to_hdr(const struct sockaddr_storage *ss, struct link_hdr *h)
{
    static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    memset(h->addr, 0, sizeof h->addr);
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        h->family = LINK_AF_INET;
        memcpy(h->addr, &in->sin_addr, 4);
        h->port = ntohs(in->sin_port);
        return;
    }
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
    h->port = ntohs(in6->sin6_port);
    if (memcmp(in6->sin6_addr.s6_addr, v4mapped, sizeof v4mapped) == 0) {
        h->family = LINK_AF_INET;
        memcpy(h->addr, in6->sin6_addr.s6_addr + 12, 4);
    } else {
        h->family = LINK_AF_INET6;
        memcpy(h->addr, in6->sin6_addr.s6_addr, 16);
    }
}

/* The socket address of the frame's peer, in the family of the socket the
 * channel is bound with. false when it cannot be reached from there. */
static bool hdr_to_sockaddr(const struct link_hdr *h, int family, struct sockaddr_storage *ss,
                            socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    if (family == AF_INET) {
        if (h->family != LINK_AF_INET)
            return false;
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        in->sin_family = AF_INET;
        memcpy(&in->sin_addr, h->addr, 4);
        in->sin_port = htons(h->port);
        *len = sizeof *in;
        return true;
    }
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(h->port);
    if (h->family == LINK_AF_INET) {
        in6->sin6_addr.s6_addr[10] = 0xff;
        in6->sin6_addr.s6_addr[11] = 0xff;
        memcpy(in6->sin6_addr.s6_addr + 12, h->addr, 4);
    } else {
        memcpy(in6->sin6_addr.s6_addr, h->addr, 16);
    }
    *len = sizeof *in6;
    return true;
}

/* A datagram from a client on channel ch: frame it onto the UART. */
static int udp_to_uart(struct bridge *b, int ch)
{
    uint8_t buf[LINK_PAYLOAD_MAX + 1];
    struct sockaddr_storage from;
    socklen_t from_len = sizeof from;
    ssize_t n = recvfrom(b->udp[ch], buf, sizeof buf, MSG_TRUNC, (struct sockaddr *)&from,
                         &from_len);
    if (n < 0)
        return errno == EINTR || errno == EAGAIN ? 0 : -1;
    b->stats.udp_in++;
    if ((size_t)n > LINK_PAYLOAD_MAX) {
        b->stats.udp_oversize++; /* the firmware could not take it */
        return 0;
    }
    struct link_hdr h = {.type = LINK_T_DATAGRAM, .channel = (uint8_t)ch};
    sockaddr_to_hdr(&from, &h);
    b->enc_len = 0;
    if (link_encode(&h, buf, (size_t)n, enc_put, b) != COAPS_OK)
        return 0;
    return write_all(b->uart_out, b->enc, b->enc_len);
}

static int inject_to_uart(struct bridge *b)
{
    uint8_t buf[LINK_ENCODED_MAX(LINK_PAYLOAD_MAX)];
    ssize_t n = recv(b->inject, buf, sizeof buf, 0);
    if (n < 0)
        return errno == EINTR || errno == EAGAIN ? 0 : -1;
    b->stats.injected++;
    return write_all(b->uart_out, buf, (size_t)n);
}

static void print_listening(const struct bridge *b, const uint8_t *channels, size_t n)
{
    static const char *const scheme[LINK_CH_COUNT] = {"coap", "coaps"};
    for (size_t i = 0; i < n; i++) {
        if (channels[i] >= LINK_CH_COUNT)
            continue;
        char addr[NET_ADDR_STR_MAX];
        net_addr_format((const struct sockaddr *)&b->bound[channels[i]],
                        addr, sizeof addr);
        printf("listening on %s://%s\n", scheme[channels[i]], addr);
    }
    fflush(stdout);
}

static void frame_from_uart(struct bridge *b, const struct link_frame *f)
{
    if (f->hdr.type == LINK_T_LOG) {
        fprintf(stderr, "%.*s\n", (int)f->len, (const char *)f->payload);
        return;
    }
    if (f->hdr.type == LINK_T_READY) {
        print_listening(b, f->payload, f->len);
        return;
    }
    int sock = b->udp[f->hdr.channel];
    struct sockaddr_storage to;
    socklen_t to_len;
    if (!hdr_to_sockaddr(&f->hdr, b->bound[f->hdr.channel].ss_family, &to, &to_len)) {
        b->stats.unroutable++;
        return;
    }
    if (sendto(sock, f->payload, f->len, 0, (struct sockaddr *)&to, to_len) < 0)
        b->stats.unroutable++;
    else
        b->stats.udp_out++;
}

/* Bytes from the firmware. 0 at end of line (QEMU gone), -1 on error. */
static int uart_read(struct bridge *b)
{
    uint8_t buf[BRIDGE_UART_CHUNK];
    ssize_t n = read(b->uart_in, buf, sizeof buf);
    if (n < 0)
        return errno == EINTR || errno == EAGAIN ? 1 : -1;
    for (ssize_t i = 0; i < n; i++) {
        struct link_frame f;
        if (link_rx_byte(&b->rx, buf[i], &f))
            frame_from_uart(b, &f);
    }
    return n > 0;
}

static int udp_open(const char *host, uint16_t port, struct sockaddr_storage *bound,
                    socklen_t *bound_len)
{
    const char *err = NULL;
    struct sockaddr_storage ss;
    socklen_t len;
    if (net_addr_resolve(host, port, true, &ss, &len, &err) != COAPS_OK) {
        fprintf(stderr, PROG ": -A '%s': %s\n", host, err ? err : "does not resolve");
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int off = 0;
    if (ss.ss_family == AF_INET6) /* [::] serves IPv4 clients too */
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
        char a[NET_ADDR_STR_MAX];
        fprintf(stderr, PROG ": bind %s: %s\n", net_addr_format((struct sockaddr *)&ss, a, sizeof a),
                strerror(errno));
        close(fd);
        return -1;
    }
    *bound_len = sizeof *bound;
    getsockname(fd, (struct sockaddr *)bound, bound_len); /* the port, if 0 was asked */
    return fd;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Connect to QEMU's chardev socket, waiting for QEMU to create it. */
static int uart_connect(const char *path)
{
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof un.sun_path) {
        fprintf(stderr, PROG ": --uart '%s': path too long\n", path);
        return -1;
    }
    memcpy(un.sun_path, path, strlen(path) + 1);
    for (long waited = 0; waited < BRIDGE_CONNECT_MS && !stop_requested;
         waited += BRIDGE_CONNECT_STEP_MS) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return -1;
        if (connect(fd, (struct sockaddr *)&un, sizeof un) == 0)
            return fd;
        close(fd);
        sleep_ms(BRIDGE_CONNECT_STEP_MS);
    }
    fprintf(stderr, PROG ": cannot connect to the UART at %s\n", path);
    return -1;
}

/* Until the UART closes or a signal asks to stop. 0, or 1 on an error. */
static int bridge_run(struct bridge *b)
{
    struct pollfd fds[BRIDGE_FDS] = {
        {b->uart_in, POLLIN, 0}, {b->udp[LINK_CH_COAP], POLLIN, 0},
        {b->udp[LINK_CH_COAPS], POLLIN, 0}, {b->inject, POLLIN, 0},
    };
    while (!stop_requested) {
        if (stats_requested) {
            stats_requested = 0;
            print_stats(b);
        }
        if (poll(fds, BRIDGE_FDS, -1) < 0) {
            if (errno == EINTR)
                continue;
            return 1;
        }
        if (fds[0].revents) {
            int r = uart_read(b);
            if (r <= 0)
                return r < 0;
        }
        for (int ch = 0; ch < LINK_CH_COUNT; ch++)
            if (fds[1 + ch].revents && udp_to_uart(b, ch) < 0)
                return 1;
        if (fds[3].revents && inject_to_uart(b) < 0)
            return 1;
    }
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " PROG " [-A address] [-p port] [--coaps-port N] [--inject-port N]\n"
            "                    --uart PATH|-\n"
            "Carries UDP datagrams to and from the firmware's UART (SLIP frames, docs/firmware.md).\n"
            "  -A address        bind address (default " BRIDGE_DEFAULT_HOST ")\n"
            "  -p port           UDP port for coap:// (default 5683)\n"
            "  --coaps-port N    UDP port for coaps:// (default: the coap:// port + 1)\n"
            "  --inject-port N   UDP port whose datagrams go to the UART raw (tests)\n"
            "  --uart PATH       QEMU's serial chardev Unix socket; - = stdin/stdout\n"
            "  SIGUSR1 prints the counters; they are printed at exit too.\n");
}

struct bridge_opts {
    const char *host, *uart;
    uint16_t port, coaps_port, inject_port;
    bool coaps_port_set;
};

enum { OPT_COAPS_PORT = 256, OPT_INJECT_PORT, OPT_UART };

static int parse_opts(int argc, char **argv, struct bridge_opts *o)
{
    static const struct option longopts[] = {
        {"coaps-port", required_argument, NULL, OPT_COAPS_PORT},
        {"inject-port", required_argument, NULL, OPT_INJECT_PORT},
        {"uart", required_argument, NULL, OPT_UART},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "A:p:h", longopts, NULL)) != -1) {
        uint16_t *port = c == 'p' ? &o->port : c == OPT_COAPS_PORT ? &o->coaps_port
                                                                   : &o->inject_port;
        if (c == 'A' || c == OPT_UART) {
            *(c == 'A' ? &o->host : &o->uart) = optarg;
        } else if (c == 'p' || c == OPT_COAPS_PORT || c == OPT_INJECT_PORT) {
            if (!cli_parse_port(optarg, port)) {
                fprintf(stderr, PROG ": '%s' is not a UDP port (see " PROG " -h)\n", optarg);
                return 2;
            }
            o->coaps_port_set |= c == OPT_COAPS_PORT;
        } else {
            usage(c == 'h' ? stdout : stderr);
            return c == 'h' ? 1 : 2;
        }
    }
    if (!o->uart || optind != argc) {
        usage(stderr);
        return 2;
    }
    if (!o->coaps_port_set)
        o->coaps_port = o->port == 0 ? 0 : (uint16_t)(o->port + 1);
    return 0;
}

static int bridge_open(struct bridge *b, const struct bridge_opts *o)
{
    b->inject = -1;
    b->udp[LINK_CH_COAP] = udp_open(o->host, o->port, &b->bound[0], &b->bound_len[0]);
    b->udp[LINK_CH_COAPS] = udp_open(o->host, o->coaps_port, &b->bound[1], &b->bound_len[1]);
    if (b->udp[0] < 0 || b->udp[1] < 0)
        return -1;
    if (o->inject_port) {
        struct sockaddr_storage ss;
        socklen_t len;
        b->inject = udp_open(o->host, o->inject_port, &ss, &len);
        if (b->inject < 0)
            return -1;
    }
    if (strcmp(o->uart, "-") == 0) {
        b->uart_in = STDIN_FILENO;
        b->uart_out = STDOUT_FILENO;
        return 0;
    }
    b->uart_in = b->uart_out = uart_connect(o->uart);
    return b->uart_in < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
    struct bridge_opts o = {.host = BRIDGE_DEFAULT_HOST, .port = BRIDGE_DEFAULT_PORT};
    int r = parse_opts(argc, argv, &o);
    if (r != 0)
        return r == 1 ? 0 : r;
    struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: poll returns */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* QEMU gone: write fails, we exit */
    static struct bridge b; /* 4 KiB of buffers: not on the stack */
    link_rx_init(&b.rx);
    if (bridge_open(&b, &o) < 0)
        return 1;
    r = bridge_run(&b);
    print_stats(&b);
    return r;
}
