/*
 * dtls-flood - abuse traffic for a coaps:// server, for the capacity test
 * (tests/interop/test_coaps_capacity.sh). Loopback only, bounded counts.
 *
 *   dtls-flood hello   --port P [--host H] [--sockets N] [--rounds R]
 *       N sockets (N source ports) each send R ClientHellos without a
 *       cookie: the server must answer statelessly (HelloVerifyRequest,
 *       RFC 6347 4.2.1) and keep nothing.
 *   dtls-flood half    --port P [--host H] [--sockets N]
 *       N sockets each do ClientHello, take the HelloVerifyRequest, send
 *       the ClientHello with the valid cookie, then fall silent: N
 *       half-finished handshakes.
 *   dtls-flood restart --port P [--host H] --key KEY
 *       one socket (one source port): a full PSK handshake and a CoAP GET
 *       /light, then a new handshake from the same port as a client that
 *       lost its state (RFC 6347 4.2.8) and the GET again; both GETs must
 *       be answered. Exit 0 only then.
 *   dtls-flood garbage --port P [--host H] [--sockets N] [--rounds R]
 *       random datagrams of 1..1400 bytes, and records with valid headers
 *       but nonsense bodies.
 * Prints one line "sent S answered A" (answered: datagrams that came back).
 * The ClientHellos are our engine's (coaps/dtls.h client, PSK).
 */
#include <errno.h>
#include <stdbool.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "coaps/dtls.h"

/* half mode keeps every socket open: stay under the usual 1024 fd limit */
#define FLOOD_SOCKETS_MAX 1000
#define FLOOD_ROUNDS_MAX 1000
#define FLOOD_DGRAM_MAX 2048
#define FLOOD_WAIT_MS 200 /* per socket, for the HelloVerifyRequest (loopback) */

struct flood {
    const char *mode, *host, *port, *key;
    unsigned sockets, rounds;
    struct sockaddr_storage sa;
    socklen_t sa_len;
    unsigned long sent, answered;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int open_connected(const struct flood *f)
{
    int fd = socket(f->sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (const struct sockaddr *)&f->sa, f->sa_len) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static void client_config(coaps_dtls_config *cfg)
{
    static const uint8_t id[] = "flood";
    static const uint8_t key[] = "flood-key";
    memset(cfg, 0, sizeof *cfg);
    cfg->role = COAPS_DTLS_CLIENT;
    cfg->psk_identity = id;
    cfg->psk_identity_len = sizeof id - 1;
    cfg->psk_key = key;
    cfg->psk_key_len = sizeof key - 1;
}

static void drain(int fd, struct flood *f, int wait_ms)
{
    uint8_t buf[FLOOD_DGRAM_MAX];
    struct pollfd p = {fd, POLLIN, 0};
    while (poll(&p, 1, wait_ms) > 0 && recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
        f->answered++;
        wait_ms = 0;
    }
}

/* One ClientHello (no cookie) from our engine. */
static size_t first_hello(const coaps_dtls_config *cfg, uint8_t *out, size_t cap)
{
    static coaps_dtls_conn conn;
    static coaps_dtls_hs hs;
    coaps_peer peer;
    memset(&peer, 0, sizeof peer);
    size_t len = 0;
    if (coaps_dtls_conn_init(&conn, cfg, &hs, &peer, now_ms()) != COAPS_OK ||
        coaps_dtls_output(&conn, out, cap, &len, now_ms()) != COAPS_OK)
        len = 0;
    coaps_dtls_conn_clear(&conn);
    return len;
}

static int flood_hello(struct flood *f)
{
    coaps_dtls_config cfg;
    client_config(&cfg);
    uint8_t hello[FLOOD_DGRAM_MAX];
    size_t len = first_hello(&cfg, hello, sizeof hello);
    if (len == 0)
        return 1;
    for (unsigned s = 0; s < f->sockets; s++) {
        int fd = open_connected(f);
        if (fd < 0)
            return 1;
        for (unsigned r = 0; r < f->rounds; r++)
            if (send(fd, hello, len, 0) > 0)
                f->sent++;
        drain(fd, f, 1);
        close(fd);
    }
    return 0;
}

/* ClientHello, HelloVerifyRequest, ClientHello with cookie, then silence.
 * The sockets stay open (so the server's flight is not refused by ICMP)
 * until the program ends. */
static int flood_half(struct flood *f)
{
    static coaps_dtls_conn conn;
    static coaps_dtls_hs hs;
    coaps_dtls_config cfg;
    client_config(&cfg);
    int *fds = calloc(f->sockets, sizeof *fds);
    if (fds == NULL)
        return 1;
    for (unsigned s = 0; s < f->sockets; s++) {
        fds[s] = open_connected(f);
        if (fds[s] < 0) {
            fprintf(stderr, "dtls-flood: socket %u: %s\n", s, strerror(errno));
            return 1;
        }
        coaps_peer peer;
        memset(&peer, 0, sizeof peer);
        uint8_t buf[FLOOD_DGRAM_MAX];
        size_t len;
        if (coaps_dtls_conn_init(&conn, &cfg, &hs, &peer, now_ms()) != COAPS_OK)
            return 1;
        while (coaps_dtls_output(&conn, buf, sizeof buf, &len, now_ms()) == COAPS_OK)
            if (send(fds[s], buf, len, 0) > 0)
                f->sent++;
        struct pollfd p = {fds[s], POLLIN, 0};
        ssize_t r = poll(&p, 1, FLOOD_WAIT_MS) > 0 ? recv(fds[s], buf, sizeof buf, 0) : -1;
        if (r > 0) {
            f->answered++;
            (void)coaps_dtls_input(&conn, buf, (size_t)r, now_ms());
            /* the ClientHello with the cookie; then nothing more */
            while (coaps_dtls_output(&conn, buf, sizeof buf, &len, now_ms()) == COAPS_OK)
                if (send(fds[s], buf, len, 0) > 0)
                    f->sent++;
        }
        coaps_dtls_conn_clear(&conn);
        drain(fds[s], f, 0);
    }
    for (unsigned s = 0; s < f->sockets; s++) {
        drain(fds[s], f, 0);
        close(fds[s]);
    }
    free(fds);
    return 0;
}

/* Handshake on fd, send one CON GET /light (RFC 7252 3), wait for a
 * record back. true when the answer came. */
static bool handshake_and_get(struct flood *f, int fd, const coaps_dtls_config *cfg)
{
    static coaps_dtls_conn conn;
    static coaps_dtls_hs hs;
    static const uint8_t get[] = {0x40, 0x01, 0x12, 0x34, 0xb5, 'l', 'i', 'g', 'h', 't'};
    coaps_peer peer;
    memset(&peer, 0, sizeof peer);
    uint8_t buf[FLOOD_DGRAM_MAX];
    size_t len;
    bool sent_get = false, answered = false;
    if (coaps_dtls_conn_init(&conn, cfg, &hs, &peer, now_ms()) != COAPS_OK)
        return false;
    uint64_t end = now_ms() + 10000;
    while (!answered && now_ms() < end && coaps_dtls_state(&conn) <= COAPS_DTLS_ESTABLISHED) {
        while (coaps_dtls_output(&conn, buf, sizeof buf, &len, now_ms()) == COAPS_OK)
            if (send(fd, buf, len, 0) > 0)
                f->sent++;
        if (coaps_dtls_state(&conn) == COAPS_DTLS_ESTABLISHED && !sent_get &&
            coaps_dtls_write(&conn, get, sizeof get, buf, sizeof buf, &len) == COAPS_OK &&
            send(fd, buf, len, 0) > 0)
            sent_get = true;
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 50) > 0) {
            ssize_t r = recv(fd, buf, sizeof buf, 0);
            if (r > 0) {
                f->answered++;
                (void)coaps_dtls_input(&conn, buf, (size_t)r, now_ms());
                const uint8_t *d;
                size_t dl;
                while (coaps_dtls_read(&conn, &d, &dl) == COAPS_OK)
                    answered = sent_get && dl >= 4 && d[1] == 0x45; /* 2.05 Content */
            }
        }
        (void)coaps_dtls_tick(&conn, now_ms());
    }
    coaps_dtls_conn_clear(&conn); /* no close_notify: the client "lost its state" */
    return answered;
}

static int flood_restart(struct flood *f)
{
    static const uint8_t id[] = "restart";
    if (f->key == NULL) {
        fprintf(stderr, "dtls-flood: restart needs --key\n");
        return 2;
    }
    coaps_dtls_config cfg;
    client_config(&cfg);
    cfg.psk_identity = id;
    cfg.psk_identity_len = sizeof id - 1;
    cfg.psk_key = (const uint8_t *)f->key;
    cfg.psk_key_len = strlen(f->key);
    int fd = open_connected(f);
    if (fd < 0)
        return 1;
    bool first = handshake_and_get(f, fd, &cfg);
    bool second = first && handshake_and_get(f, fd, &cfg);
    close(fd);
    printf("first %s, restarted %s\n", first ? "answered" : "failed",
           second ? "answered" : "failed");
    return first && second ? 0 : 1;
}

static int flood_garbage(struct flood *f)
{
    uint8_t buf[FLOOD_DGRAM_MAX];
    for (unsigned s = 0; s < f->sockets; s++) {
        int fd = open_connected(f);
        if (fd < 0)
            return 1;
        for (unsigned r = 0; r < f->rounds; r++) {
            uint16_t len16;
            if (getrandom(&len16, sizeof len16, 0) != sizeof len16 ||
                getrandom(buf, sizeof buf, 0) != (ssize_t)sizeof buf)
                return 1;
            size_t len = 1 + len16 % 1400;
            if (r % 2) {
                /* a plausible DTLS 1.2 record header (RFC 6347 4.1) */
                static const uint8_t types[] = {20, 21, 22, 23};
                buf[0] = types[len16 % 4];
                buf[1] = 0xfe;
                buf[2] = 0xfd;
                if (len >= 13) {
                    buf[11] = (uint8_t)((len - 13) >> 8);
                    buf[12] = (uint8_t)(len - 13);
                }
            }
            if (send(fd, buf, len, 0) > 0)
                f->sent++;
        }
        drain(fd, f, 1);
        close(fd);
    }
    return 0;
}

static unsigned arg_uint(const char *name, const char *s, unsigned max)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == '\0' || *end || v == 0 || v > max) {
        fprintf(stderr, "dtls-flood: %s '%s': not a number 1-%u\n", name, s, max);
        exit(2);
    }
    return (unsigned)v;
}

int main(int argc, char **argv)
{
    struct flood f;
    memset(&f, 0, sizeof f);
    f.host = "127.0.0.1";
    f.sockets = 100;
    f.rounds = 1;
    if (argc < 2) {
        fprintf(stderr, "usage: dtls-flood hello|half|garbage|restart --port P [--host H] "
                        "[--sockets N] [--rounds R] [--key KEY]\n");
        return 2;
    }
    f.mode = argv[1];
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--port") == 0)
            f.port = argv[i + 1];
        else if (strcmp(argv[i], "--host") == 0)
            f.host = argv[i + 1];
        else if (strcmp(argv[i], "--sockets") == 0)
            f.sockets = arg_uint("--sockets", argv[i + 1], FLOOD_SOCKETS_MAX);
        else if (strcmp(argv[i], "--key") == 0)
            f.key = argv[i + 1];
        else if (strcmp(argv[i], "--rounds") == 0)
            f.rounds = arg_uint("--rounds", argv[i + 1], FLOOD_ROUNDS_MAX);
        else {
            fprintf(stderr, "dtls-flood: unknown option '%s'\n", argv[i]);
            return 2;
        }
    }
    if (f.port == NULL) {
        fprintf(stderr, "dtls-flood: --port is required\n");
        return 2;
    }
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICHOST; /* loopback literals only, no lookups */
    if (getaddrinfo(f.host, f.port, &hints, &res) != 0) {
        fprintf(stderr, "dtls-flood: --host must be a numeric address: '%s'\n", f.host);
        return 2;
    }
    memcpy(&f.sa, res->ai_addr, res->ai_addrlen);
    f.sa_len = res->ai_addrlen;
    freeaddrinfo(res);
    int rc;
    if (strcmp(f.mode, "hello") == 0)
        rc = flood_hello(&f);
    else if (strcmp(f.mode, "half") == 0)
        rc = flood_half(&f);
    else if (strcmp(f.mode, "garbage") == 0)
        rc = flood_garbage(&f);
    else if (strcmp(f.mode, "restart") == 0)
        return flood_restart(&f);
    else {
        fprintf(stderr, "dtls-flood: unknown mode '%s'\n", f.mode);
        return 2;
    }
    printf("sent %lu answered %lu\n", f.sent, f.answered);
    return rc;
}
