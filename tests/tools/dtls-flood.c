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
 *   dtls-flood reflood --port P [--host H] [--sockets N] --rate R --duration S
 *       N sockets each complete the cookie exchange (ClientHello,
 *       HelloVerifyRequest, ClientHello with the cookie), then keep
 *       re-sending that cookie-valid ClientHello, R a second in all
 *       (round robin over the sockets), for S seconds: validated
 *       addresses that hold handshakes and never progress (issue 18).
 *       Prints "validated V sent S answered A" at the end.
 *   dtls-flood client  --port P [--host H] --key KEY [--think MS]
 *       one honest PSK client (identity "slow") that waits MS ms before
 *       each flight it sends in answer to the server's (a device with a
 *       slow link or CPU), then GETs /light. Prints "handshake T ms,
 *       answered|failed"; exit 0 only when answered within 20 s.
 * Every mode takes --bind ADDR: the source address of its sockets (e.g.
 * 127.0.0.2, another host on loopback); reflood also --hosts N: socket n
 * binds to the IPv4 address ADDR + (n mod N), a flood from N hosts.
 * Prints one line "sent S answered A" (answered: datagrams that came back).
 * The ClientHellos are our engine's (coaps/dtls.h client, PSK).
 */
#include <arpa/inet.h>
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
#define FLOOD_RATE_MAX 1000000 /* ClientHellos a second, all sockets */
#define FLOOD_DURATION_MAX 600 /* seconds */
#define FLOOD_THINK_MAX 10000  /* ms between flights */
#define CLIENT_LIMIT_MS 20000  /* the honest client's handshake + GET */

struct flood {
    const char *mode, *host, *port, *key, *bind;
    unsigned sockets, rounds, rate, duration, think, hosts;
    struct sockaddr_storage sa;
    socklen_t sa_len;
    struct sockaddr_storage src;
    socklen_t src_len; /* 0: any source address */
    unsigned long sent, answered;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A socket connected to the server; with --bind, from that address, or
 * with --hosts N from the IPv4 address --bind + (n mod N). */
static int open_connected_n(const struct flood *f, unsigned n)
{
    int fd = socket(f->sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_storage src = f->src;
    if (f->hosts > 1 && src.ss_family == AF_INET) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&src;
        s4->sin_addr.s_addr = htonl(ntohl(s4->sin_addr.s_addr) + n % f->hosts);
    }
    if (fd >= 0 && f->src_len && bind(fd, (const struct sockaddr *)&src, f->src_len) != 0) {
        close(fd);
        return -1;
    }
    if (fd >= 0 && connect(fd, (const struct sockaddr *)&f->sa, f->sa_len) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static int open_connected(const struct flood *f)
{
    return open_connected_n(f, 0);
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

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Handshake on fd, send one CON GET /light (RFC 7252 3), wait for a
 * record back. true when the answer came. With f->think, each flight that
 * answers the server's waits that long first (retransmissions by the
 * timer do not); *hs_ms receives the handshake's duration. */
static bool handshake_and_get_timed(struct flood *f, int fd, const coaps_dtls_config *cfg,
                                    uint64_t limit_ms, uint64_t *hs_ms)
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
    uint64_t start = now_ms(), end = start + limit_ms;
    bool think_due = false, done_hs = false;
    uint64_t get_at = 0;
    while (!answered && now_ms() < end && coaps_dtls_state(&conn) <= COAPS_DTLS_ESTABLISHED) {
        if (!done_hs && coaps_dtls_state(&conn) == COAPS_DTLS_ESTABLISHED) {
            done_hs = true;
            think_due = false; /* the GET goes at once */
            if (hs_ms)
                *hs_ms = now_ms() - start;
        }
        if (think_due && f->think)
            sleep_ms(f->think); /* the device thinks before its next flight */
        think_due = false;
        while (coaps_dtls_output(&conn, buf, sizeof buf, &len, now_ms()) == COAPS_OK)
            if (send(fd, buf, len, 0) > 0)
                f->sent++;
        /* RFC 7252 4.2: the CON GET again (same Message ID) when no answer
         * came within ACK_TIMEOUT (2 s) */
        if (sent_get && now_ms() - get_at >= 2000)
            sent_get = false;
        if (coaps_dtls_state(&conn) == COAPS_DTLS_ESTABLISHED && !sent_get &&
            coaps_dtls_write(&conn, get, sizeof get, buf, sizeof buf, &len) == COAPS_OK &&
            send(fd, buf, len, 0) > 0) {
            sent_get = true;
            get_at = now_ms();
        }
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 50) > 0) {
            ssize_t r = recv(fd, buf, sizeof buf, 0);
            if (r > 0) {
                f->answered++;
                bool was_hs = coaps_dtls_state(&conn) == COAPS_DTLS_HANDSHAKING;
                (void)coaps_dtls_input(&conn, buf, (size_t)r, now_ms());
                think_due = was_hs;
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

static bool handshake_and_get(struct flood *f, int fd, const coaps_dtls_config *cfg)
{
    return handshake_and_get_timed(f, fd, cfg, 10000, NULL);
}

/* One honest, slow client (see the header). */
static int flood_client(struct flood *f)
{
    static const uint8_t id[] = "slow";
    if (f->key == NULL) {
        fprintf(stderr, "dtls-flood: client needs --key\n");
        return 2;
    }
    coaps_dtls_config cfg;
    client_config(&cfg);
    cfg.psk_identity = id;
    cfg.psk_identity_len = sizeof id - 1;
    cfg.psk_key = (const uint8_t *)f->key;
    cfg.psk_key_len = strlen(f->key);
    int fd = open_connected(f);
    if (fd < 0) {
        fprintf(stderr, "dtls-flood: socket: %s\n", strerror(errno));
        return 1;
    }
    uint64_t hs_ms = 0;
    bool ok = handshake_and_get_timed(f, fd, &cfg, CLIENT_LIMIT_MS, &hs_ms);
    close(fd);
    printf("think %u ms: handshake %llu ms, %s\n", f->think, (unsigned long long)hs_ms,
           ok ? "answered" : "failed");
    return ok ? 0 : 1;
}

/* The cookie exchange on fd: our ClientHello, the server's
 * HelloVerifyRequest, and the ClientHello with the cookie, which goes out
 * and is kept in hello (*len bytes). false when no HVR came. */
static bool validate(struct flood *f, int fd, const coaps_dtls_config *cfg, uint8_t *hello,
                     size_t cap, size_t *len)
{
    static coaps_dtls_conn conn;
    static coaps_dtls_hs hs;
    coaps_peer peer;
    memset(&peer, 0, sizeof peer);
    uint8_t buf[FLOOD_DGRAM_MAX];
    size_t n;
    *len = 0;
    if (coaps_dtls_conn_init(&conn, cfg, &hs, &peer, now_ms()) != COAPS_OK)
        return false;
    while (coaps_dtls_output(&conn, buf, sizeof buf, &n, now_ms()) == COAPS_OK)
        if (send(fd, buf, n, 0) > 0)
            f->sent++;
    struct pollfd p = {fd, POLLIN, 0};
    ssize_t r = poll(&p, 1, FLOOD_WAIT_MS) > 0 ? recv(fd, buf, sizeof buf, 0) : -1;
    if (r > 0) {
        f->answered++;
        (void)coaps_dtls_input(&conn, buf, (size_t)r, now_ms());
        if (coaps_dtls_output(&conn, hello, cap, len, now_ms()) != COAPS_OK)
            *len = 0;
        else if (send(fd, hello, *len, 0) > 0)
            f->sent++;
    }
    coaps_dtls_conn_clear(&conn);
    return *len > 0;
}

/* Validated ports re-sending their ClientHello (see the header). */
static int flood_reflood(struct flood *f)
{
    if (f->rate == 0 || f->duration == 0) {
        fprintf(stderr, "dtls-flood: reflood needs --rate and --duration\n");
        return 2;
    }
    coaps_dtls_config cfg;
    client_config(&cfg);
    int *fds = calloc(f->sockets, sizeof *fds);
    uint8_t(*hello)[FLOOD_DGRAM_MAX] = calloc(f->sockets, sizeof *hello);
    size_t *len = calloc(f->sockets, sizeof *len);
    if (!fds || !hello || !len)
        return 1;
    unsigned validated = 0;
    for (unsigned s = 0; s < f->sockets; s++) {
        fds[s] = open_connected_n(f, s);
        if (fds[s] < 0) {
            fprintf(stderr, "dtls-flood: socket %u: %s\n", s, strerror(errno));
            return 1;
        }
        if (validate(f, fds[s], &cfg, hello[s], sizeof hello[s], &len[s]))
            validated++;
        drain(fds[s], f, 0);
    }
    fprintf(stderr, "dtls-flood: %u of %u ports validated; re-sending at %u/s for %u s\n",
            validated, f->sockets, f->rate, f->duration);
    /* Pace by the clock: every millisecond, send what is due since the
     * start (rate * elapsed / 1000), round robin over the validated ports. */
    uint64_t start = now_ms(), end = start + (uint64_t)f->duration * 1000u;
    uint64_t due_sent = 0;
    unsigned next = 0;
    while (validated && now_ms() < end) {
        uint64_t due = (uint64_t)f->rate * (now_ms() - start) / 1000u;
        while (due_sent < due) {
            while (len[next] == 0)
                next = (next + 1) % f->sockets;
            if (send(fds[next], hello[next], len[next], MSG_DONTWAIT) > 0)
                f->sent++;
            drain(fds[next], f, 0); /* keep its receive queue short */
            due_sent++;
            next = (next + 1) % f->sockets;
        }
        sleep_ms(1);
    }
    for (unsigned s = 0; s < f->sockets; s++)
        close(fds[s]);
    printf("validated %u ", validated);
    free(fds);
    free(hello);
    free(len);
    return validated ? 0 : 1;
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

static unsigned arg_uint_from(const char *name, const char *s, unsigned min, unsigned max)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == '\0' || *end || v < min || v > max) {
        fprintf(stderr, "dtls-flood: %s '%s': not a number %u-%u\n", name, s, min, max);
        exit(2);
    }
    return (unsigned)v;
}

static unsigned arg_uint(const char *name, const char *s, unsigned max)
{
    return arg_uint_from(name, s, 1, max);
}

int main(int argc, char **argv)
{
    struct flood f;
    memset(&f, 0, sizeof f);
    f.host = "127.0.0.1";
    f.sockets = 100;
    f.rounds = 1;
    if (argc < 2) {
        fprintf(stderr, "usage: dtls-flood hello|half|garbage|restart|reflood|client --port P "
                        "[--host H] [--bind ADDR] [--sockets N] [--rounds R] [--key KEY] "
                        "[--rate R] [--duration S] [--think MS] [--hosts N]\n");
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
        else if (strcmp(argv[i], "--rate") == 0)
            f.rate = arg_uint("--rate", argv[i + 1], FLOOD_RATE_MAX);
        else if (strcmp(argv[i], "--duration") == 0)
            f.duration = arg_uint("--duration", argv[i + 1], FLOOD_DURATION_MAX);
        else if (strcmp(argv[i], "--think") == 0)
            f.think = arg_uint_from("--think", argv[i + 1], 0, FLOOD_THINK_MAX);
        else if (strcmp(argv[i], "--bind") == 0)
            f.bind = argv[i + 1];
        else if (strcmp(argv[i], "--hosts") == 0)
            f.hosts = arg_uint("--hosts", argv[i + 1], 250);
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
    if (f.bind) {
        hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
        if (getaddrinfo(f.bind, "0", &hints, &res) != 0) {
            fprintf(stderr, "dtls-flood: --bind must be a numeric address: '%s'\n", f.bind);
            return 2;
        }
        memcpy(&f.src, res->ai_addr, res->ai_addrlen);
        f.src_len = res->ai_addrlen;
        freeaddrinfo(res);
    }
    int rc;
    if (strcmp(f.mode, "hello") == 0)
        rc = flood_hello(&f);
    else if (strcmp(f.mode, "half") == 0)
        rc = flood_half(&f);
    else if (strcmp(f.mode, "garbage") == 0)
        rc = flood_garbage(&f);
    else if (strcmp(f.mode, "restart") == 0)
        return flood_restart(&f);
    else if (strcmp(f.mode, "client") == 0)
        return flood_client(&f);
    else if (strcmp(f.mode, "reflood") == 0)
        rc = flood_reflood(&f);
    else {
        fprintf(stderr, "dtls-flood: unknown mode '%s'\n", f.mode);
        return 2;
    }
    printf("sent %lu answered %lu\n", f.sent, f.answered);
    return rc;
}
