/*
 * dtls-send - udp-send over DTLS: a PSK handshake with our engine, then one
 * CoAP datagram given in hex, sent as application data, possibly several
 * times on the same session; every reply printed in hex (the plaintext).
 *
 *   dtls-send [-t timeout_ms] [-c max_replies] [-n count -i interval_ms]
 *             -k KEY [-u IDENTITY] ADDRESS PORT HEX
 *
 * The deduplication tests need what coaps-client never does: the very
 * same CoAP message (same Message ID) again, seconds later, inside the
 * same session, i.e. from the same peer (RFC 7252 4.5). Each copy goes as
 * a new record (DTLS's own replay window must not drop it, RFC 6347
 * 4.1.2.6: only CoAP knows it is a duplicate). Replies are awaited until
 * timeout_ms (default 1000) of silence or max_replies per copy; copies
 * interval_ms (default 1000) apart; then close_notify.
 * Exit 0 when the handshake completed and every copy was sent, 1 when the
 * handshake failed, 2 for bad usage.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "coaps/dtls.h"
#include "common/hex.h"
#include "cli/cli.h"
#include "net/clock.h"

/* Largest datagram sent or received: a test input, not a stream. */
#define DTLS_SEND_MAX 2048
/* How long the handshake may take on loopback before we give up. */
#define DTLS_SEND_HANDSHAKE_MS 10000

#define USAGE                                                                       \
    "usage: dtls-send [-t timeout_ms] [-c max_replies] [-n count -i interval_ms] " \
    "-k KEY [-u IDENTITY] ADDRESS PORT HEX\n"


struct sender {
    int fd;
    coaps_dtls_conn conn;
    coaps_dtls_hs hs;
    uint8_t buf[DTLS_SEND_MAX];
};

/* Send whatever the engine has queued. */
static void flush(struct sender *s)
{
    size_t len;
    while (coaps_dtls_output(&s->conn, s->buf, sizeof s->buf, &len, net_now_ms()) == COAPS_OK)
        (void)send(s->fd, s->buf, len, 0);
}

/* Wait up to wait_ms for one datagram and feed it to the engine; print the
 * application data it carried. Returns the number of records printed, or
 * -1 when the connection ended. */
static int receive(struct sender *s, int wait_ms)
{
    struct pollfd p = {s->fd, POLLIN, 0};
    if (poll(&p, 1, wait_ms) <= 0)
        return 0;
    ssize_t got = recv(s->fd, s->buf, sizeof s->buf, 0);
    if (got <= 0)
        return 0;
    if (coaps_dtls_input(&s->conn, s->buf, (size_t)got, net_now_ms()) != COAPS_OK)
        return -1;
    int printed = 0;
    const uint8_t *d;
    size_t len;
    while (coaps_dtls_read(&s->conn, &d, &len) == COAPS_OK) {
        for (size_t i = 0; i < len; i++)
            printf("%02x", d[i]);
        printf("\n");
        printed++;
    }
    fflush(stdout);
    flush(s);
    return printed;
}

static bool handshake(struct sender *s)
{
    uint64_t end = net_now_ms() + DTLS_SEND_HANDSHAKE_MS;
    while (coaps_dtls_state(&s->conn) == COAPS_DTLS_HANDSHAKING && net_now_ms() < end) {
        flush(s);
        if (receive(s, 50) < 0)
            break;
        (void)coaps_dtls_tick(&s->conn, net_now_ms());
    }
    if (coaps_dtls_state(&s->conn) == COAPS_DTLS_ESTABLISHED)
        return true;
    char why[128];
    fprintf(stderr, "dtls-send: handshake failed: %s\n",
            coaps_dtls_error_str(&s->conn, why, sizeof why));
    return false;
}

static int open_connected(const char *host, const char *port)
{
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV; /* literals only, no lookups */
    if (getaddrinfo(host, port, &hints, &res) != 0)
        return -1;
    int fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

int main(int argc, char **argv)
{
    uint64_t timeout_ms = 1000, max_replies = 1000, count = 1, interval_ms = 1000;
    const char *key = NULL, *identity = "dtls-send";
    int opt;
    while ((opt = getopt(argc, argv, "t:c:n:i:k:u:")) != -1) {
        if ((opt == 't' && cli_parse_uint(optarg, 1, 60000, &timeout_ms)) ||
            (opt == 'c' && cli_parse_uint(optarg, 1, 1000, &max_replies)) ||
            (opt == 'n' && cli_parse_uint(optarg, 1, 1000, &count)) ||
            (opt == 'i' && cli_parse_uint(optarg, 0, 600000, &interval_ms)))
            continue;
        if (opt == 'k' && strlen(optarg) <= COAPS_DTLS_PSK_KEY_MAX) {
            key = optarg;
            continue;
        }
        if (opt == 'u' && strlen(optarg) <= COAPS_DTLS_PSK_IDENTITY_MAX) {
            identity = optarg;
            continue;
        }
        fprintf(stderr, USAGE);
        return 2;
    }
    static uint8_t msg[DTLS_SEND_MAX];
    size_t msg_len;
    if (argc - optind != 3 || key == NULL || *key == '\0' ||
        !hex_to_bytes(argv[optind + 2], strlen(argv[optind + 2]), msg, sizeof msg, &msg_len)) {
        fprintf(stderr, USAGE);
        return 2;
    }
    static struct sender s;
    s.fd = open_connected(argv[optind], argv[optind + 1]);
    if (s.fd < 0) {
        fprintf(stderr, "dtls-send: bad address or port\n");
        return 2;
    }
    coaps_dtls_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.role = COAPS_DTLS_CLIENT;
    cfg.psk_identity = (const uint8_t *)identity;
    cfg.psk_identity_len = strlen(identity);
    cfg.psk_key = (const uint8_t *)key;
    cfg.psk_key_len = strlen(key);
    coaps_peer peer;
    memset(&peer, 0, sizeof peer);
    if (coaps_dtls_conn_init(&s.conn, &cfg, &s.hs, &peer, net_now_ms()) != COAPS_OK ||
        !handshake(&s)) {
        coaps_dtls_conn_clear(&s.conn);
        close(s.fd);
        return 1;
    }
    int rc = 0;
    uint64_t next = net_now_ms();
    for (uint64_t k = 0; k < count && rc == 0; k++) {
        net_sleep_until_ms(next);
        next = net_now_ms() + interval_ms;
        size_t len;
        if (coaps_dtls_write(&s.conn, msg, msg_len, s.buf, sizeof s.buf, &len) != COAPS_OK ||
            send(s.fd, s.buf, len, 0) != (ssize_t)len) {
            fprintf(stderr, "dtls-send: send failed: %s\n", strerror(errno));
            rc = 1;
            break;
        }
        for (uint64_t replies = 0; replies < max_replies;) {
            int n = receive(&s, (int)timeout_ms);
            if (n <= 0)
                break;
            replies += (uint64_t)n;
        }
    }
    (void)coaps_dtls_close(&s.conn);
    flush(&s);
    coaps_dtls_conn_clear(&s.conn);
    close(s.fd);
    return rc;
}
