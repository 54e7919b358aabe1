/*
 * udp-send - send one datagram given in hex and print every reply in hex.
 *
 *   udp-send [-t timeout_ms] [-c max_replies] [-n count -i interval_ms]
 *            ADDRESS PORT HEX
 *
 * For the bad-input tests: HEX may be "" (an empty datagram). Each reply
 * is printed as one line of lowercase hex on stdout. The tool waits until
 * timeout_ms (default 1000) pass without a reply, or max_replies arrived.
 * With -n the same datagram goes count times from the same socket (the
 * same source port: to the server, the same peer), each interval_ms
 * (default 1000) after the one before, and the replies to each are
 * awaited as above: the deduplication tests resend a request this way.
 * Exit 0 when the datagrams were sent, 2 for bad usage, 1 for socket
 * errors.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/hex.h"
#include "net/addr.h"
#include "cli/cli.h"
#include "net/clock.h"

/* Largest datagram sent or printed: a test input, not a stream. */
#define UDP_SEND_MAX 2048

static int parse_hex(const char *s, uint8_t *out, size_t cap, size_t *len)
{
    size_t n = 0;
    while (*s) {
        if (*s == ' ' || *s == ':') {
            s++;
            continue;
        }
        int hi = hex_digit(s[0]), lo = s[1] ? hex_digit(s[1]) : -1;
        if (hi < 0 || lo < 0 || n == cap)
            return -1;
        out[n++] = (uint8_t)(hi << 4 | lo);
        s += 2;
    }
    *len = n;
    return 0;
}

#define USAGE "usage: udp-send [-t timeout_ms] [-c max_replies] [-n count -i interval_ms] " \
              "ADDRESS PORT HEX\n"


/* Print replies on fd until timeout_ms of silence or max_replies. 0, or 1
 * when the port is unreachable. */
static int print_replies(int fd, uint64_t timeout_ms, uint64_t max_replies, uint8_t *buf,
                         size_t cap)
{
    for (uint64_t replies = 0; replies < max_replies;) {
        struct pollfd p = {fd, POLLIN, 0};
        int rc = poll(&p, 1, (int)timeout_ms);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            break;
        ssize_t got = recv(fd, buf, cap, 0);
        if (got < 0) {
            if (errno == ECONNREFUSED) { /* ICMP port unreachable: nobody there */
                fprintf(stderr, "udp-send: connection refused\n");
                return 1;
            }
            continue;
        }
        for (ssize_t i = 0; i < got; i++)
            printf("%02x", buf[i]);
        printf("\n");
        fflush(stdout);
        replies++;
    }
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t timeout_ms = 1000, max_replies = 1000, count = 1, interval_ms = 1000;
    int opt;
    while ((opt = getopt(argc, argv, "t:c:n:i:")) != -1) {
        if (opt == 't' && cli_parse_uint(optarg, 1, 60000, &timeout_ms))
            continue;
        if (opt == 'c' && cli_parse_uint(optarg, 1, 1000, &max_replies))
            continue;
        if (opt == 'n' && cli_parse_uint(optarg, 1, 1000, &count))
            continue;
        if (opt == 'i' && cli_parse_uint(optarg, 0, 600000, &interval_ms))
            continue;
        fprintf(stderr, USAGE);
        return 2;
    }
    if (argc - optind != 3) {
        fprintf(stderr, USAGE);
        return 2;
    }
    uint16_t port;
    struct sockaddr_storage dst;
    socklen_t dst_len;
    static uint8_t out[UDP_SEND_MAX], buf[UDP_SEND_MAX];
    size_t len;
    if (!cli_parse_port(argv[optind + 1], &port) ||
        net_addr_parse_numeric(argv[optind], port, &dst, &dst_len) != COAPS_OK) {
        fprintf(stderr, "udp-send: bad address or port\n");
        return 2;
    }
    if (parse_hex(argv[optind + 2], out, sizeof out, &len) != 0) {
        fprintf(stderr, "udp-send: bad hex '%s'\n", argv[optind + 2]);
        return 2;
    }
    int fd = socket(dst.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fprintf(stderr, "udp-send: socket: %s\n", strerror(errno));
        return 1;
    }
    uint64_t next = net_now_ms();
    for (uint64_t k = 0; k < count; k++) {
        net_sleep_until_ms(next);
        next = net_now_ms() + interval_ms;
        if (sendto(fd, out, len, 0, (struct sockaddr *)&dst, dst_len) != (ssize_t)len) {
            fprintf(stderr, "udp-send: send failed: %s\n", strerror(errno));
            close(fd);
            return 1;
        }
        if (print_replies(fd, timeout_ms, max_replies, buf, sizeof buf) != 0) {
            close(fd);
            return 1;
        }
    }
    close(fd);
    return 0;
}
