/*
 * coap-observers - register many observers at once, for the observe load
 * test: N UDP sockets each send CON GET PATH with Observe=0 (RFC 7641 2),
 * then count what arrives for wait_ms, ACKing every CON notification.
 *
 *   coap-observers [-n count] [-t wait_ms] ADDRESS PORT PATH
 *
 * Prints "registered R" once every socket got its first response (or after
 * 2 s), then "notified K" at the end: K sockets received at least one
 * further message (a notification). Exit 0, 2 for bad usage, 1 on errors.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/wire.h"
#include "net/addr.h"
#include "cli/cli.h"
#include "net/clock.h"

/* Observers one run opens: enough to go past the server's default tables
 * (32 observers, 64 queued datagrams), well below the fd limit. */
#define OBSERVERS_MAX 256
/* Path segment length that fits a one-nibble option length (RFC 7252 3.1). */
#define OBSERVERS_PATH_MAX 12
/* Time to wait for the registration responses. */
#define OBSERVERS_REGISTER_MS 2000

struct observer {
    int fd;
    unsigned rx;
};

/* CON GET, MID, token 0x7a, Observe (6) = 0 (empty), Uri-Path (11) = path. */
static coaps_status build_request(uint16_t mid, const char *path, uint8_t *buf, size_t cap,
                                  size_t *len)
{
    struct wire_wr w = wire_wr_init(buf, cap);
    size_t plen = strlen(path);
    if (plen > OBSERVERS_PATH_MAX)
        return COAPS_E_INVALID;
    if (wire_wr_u8(&w, 0x41) || wire_wr_u8(&w, 0x01) || wire_wr_u16(&w, mid) ||
        wire_wr_u8(&w, 0x7a) || wire_wr_u8(&w, 0x60) || wire_wr_u8(&w, (uint8_t)(0x50 | plen)) ||
        wire_wr_bytes(&w, path, plen))
        return COAPS_E_NOSPACE;
    *len = w.off;
    return COAPS_OK;
}

/* Read what is waiting on every socket; ACK CONs (RFC 7252 4.2). */
static void drain(struct observer *obs, size_t n, int timeout_ms)
{
    static struct pollfd pfds[OBSERVERS_MAX];
    for (size_t i = 0; i < n; i++) {
        pfds[i].fd = obs[i].fd;
        pfds[i].events = POLLIN;
    }
    if (poll(pfds, n, timeout_ms) <= 0)
        return;
    for (size_t i = 0; i < n; i++) {
        uint8_t buf[1500];
        ssize_t got;
        while ((got = recv(obs[i].fd, buf, sizeof buf, MSG_DONTWAIT)) >= 4) {
            obs[i].rx++;
            struct wire_rd r = wire_rd_init(buf, (size_t)got);
            uint8_t first;
            uint16_t mid;
            (void)wire_rd_u8(&r, &first);
            (void)wire_rd_skip(&r, 1);
            (void)wire_rd_u16(&r, &mid);
            if (((first >> 4) & 3) == 0) { /* CON: send an empty ACK */
                uint8_t ack[4];
                struct wire_wr w = wire_wr_init(ack, sizeof ack);
                (void)wire_wr_u8(&w, 0x60);
                (void)wire_wr_u8(&w, 0x00);
                (void)wire_wr_u16(&w, mid);
                (void)send(obs[i].fd, ack, sizeof ack, 0);
            }
        }
    }
}

static size_t count_at_least(const struct observer *obs, size_t n, unsigned k)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += obs[i].rx >= k;
    return c;
}

int main(int argc, char **argv)
{
    uint64_t n = 100, wait_ms = 3000;
    int opt;
    while ((opt = getopt(argc, argv, "n:t:")) != -1) {
        if (opt == 'n' && cli_parse_uint(optarg, 1, OBSERVERS_MAX, &n))
            continue;
        if (opt == 't' && cli_parse_uint(optarg, 1, 60000, &wait_ms))
            continue;
        fprintf(stderr, "usage: coap-observers [-n count] [-t wait_ms] ADDRESS PORT PATH\n");
        return 2;
    }
    uint16_t port;
    struct sockaddr_storage dst;
    socklen_t dst_len;
    if (argc - optind != 3 || !cli_parse_port(argv[optind + 1], &port) ||
        net_addr_parse_numeric(argv[optind], port, &dst, &dst_len) != COAPS_OK) {
        fprintf(stderr, "usage: coap-observers [-n count] [-t wait_ms] ADDRESS PORT PATH\n");
        return 2;
    }
    static struct observer obs[OBSERVERS_MAX];
    for (size_t i = 0; i < n; i++) {
        uint8_t req[32];
        size_t len;
        obs[i].fd = socket(dst.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (obs[i].fd < 0 || connect(obs[i].fd, (struct sockaddr *)&dst, dst_len) != 0 ||
            build_request((uint16_t)(0x4000 + i), argv[optind + 2], req, sizeof req, &len) ||
            send(obs[i].fd, req, len, 0) != (ssize_t)len) {
            fprintf(stderr, "coap-observers: socket %zu: %s\n", i, strerror(errno));
            return 1;
        }
    }
    uint64_t end = net_now_ms() + OBSERVERS_REGISTER_MS;
    while (count_at_least(obs, n, 1) < n && net_now_ms() < end)
        drain(obs, n, 50);
    printf("registered %zu\n", count_at_least(obs, n, 1));
    fflush(stdout);
    end = net_now_ms() + wait_ms;
    while (net_now_ms() < end)
        drain(obs, n, 50);
    printf("notified %zu\n", count_at_least(obs, n, 2));
    for (size_t i = 0; i < n; i++)
        close(obs[i].fd);
    return 0;
}
