/*
 * dtls-echo - a DTLS 1.2 PSK echo server and line client on the coaps
 * engine (coaps/dtls.h). A small example of driving the sans-IO engine
 * from a poll() loop; the engine never sees a socket or a clock.
 *
 *   dtls-echo -s [-A ADDRESS] -p PORT --psk IDENTITY:KEY [--hint TEXT]
 *             [--mtu N] [--ciphers LIST]
 *   dtls-echo -c HOST -p PORT --psk IDENTITY:KEY [--mtu N] [--ciphers LIST]
 *             [--no-echo] [--wait MS] [--timeout MS] [--sni NAME]
 * Both: [--require-ems] refuses peers without extended_master_secret.
 * Certificates (ECDHE_ECDSA suites, RFC 8422 / RFC 7250), libcoap style:
 *   [--cert CERTFILE] [-j KEYFILE] [-C CAFILE] [--ca-dir DIR]
 *   [--rpk-trust FILE] [--rpk] [--require-client-cert] [--server-name NAME]
 *   [--no-name-check]
 * (-c already names the client's HOST here, so the certificate is
 * --cert.) PSK and certificates may be given together; at least one.
 * The client checks the server's certificate names against --server-name
 * (else --sni, else HOST).
 *
 * KEY is text, or hex after "0x"; IDENTITY ends at the first colon.
 * LIST: suite names (IANA or OpenSSL style) separated by ',' or ':'.
 * The client sends each stdin line as one record, prints every record that
 * comes back on its own line, and exits 0 after stdin EOF once every line
 * was echoed (or at once with --no-echo); non-zero with a one-line reason
 * when the handshake fails.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "coaps/dtls.h"
#include "net/psk_store.h"

#define ECHO_DGRAM_MAX 2048 /* > any MTU we accept (the engine caps at cfg.mtu) */
#define ECHO_SESSIONS 64    /* concurrent clients of the server */
#define ECHO_IDLE_MS 120000 /* established sessions idle this long are dropped */
#define ECHO_LINE_MAX 1024

struct opts {
    bool server, client, no_echo, require_ems;
    const char *host, *addr, *port, *hint, *sni;
    bool psk;
    coaps_dtls_pki_files pki_files;
    bool pki_given;
    const char *server_name;
    coaps_dtls_pki *pki;
    uint8_t identity[COAPS_DTLS_PSK_IDENTITY_MAX];
    size_t identity_len;
    uint8_t key[COAPS_DTLS_PSK_KEY_MAX];
    size_t key_len;
    uint16_t suites[COAPS_DTLS_SUITES_MAX];
    size_t suites_len;
    unsigned mtu, wait_ms, timeout_ms;
    int cid_len; /* --cid LEN (RFC 9146); -1: no Connection ID */
    int verbose;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "dtls-echo: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

/* --psk IDENTITY:KEY */
static void parse_psk(struct opts *o, const char *arg)
{
    const char *colon = strchr(arg, ':');
    if (!colon)
        die("--psk wants IDENTITY:KEY, got '%s'", arg);
    size_t id_len = (size_t)(colon - arg);
    if (id_len > sizeof(o->identity))
        die("--psk identity longer than 128 bytes: '%s'", arg);
    memcpy(o->identity, arg, id_len);
    o->identity_len = id_len;
    const char *k = colon + 1, *why = NULL;
    if (coaps_dtls_psk_from_text(k, strlen(k), o->key, &o->key_len, &why) != COAPS_OK)
        die("--psk key '%s': %s", k, why);
}

static void parse_ciphers(struct opts *o, const char *arg)
{
    char buf[512];
    if (strlen(arg) >= sizeof(buf))
        die("--ciphers list too long: '%s'", arg);
    strcpy(buf, arg);
    for (char *save = NULL, *t = strtok_r(buf, ",:", &save); t; t = strtok_r(NULL, ",:", &save)) {
        uint16_t id = coaps_dtls_suite_by_name(t);
        if (!id)
            die("unknown cipher suite '%s'", t);
        if (o->suites_len == COAPS_DTLS_SUITES_MAX)
            die("--ciphers: too many suites in '%s'", arg);
        o->suites[o->suites_len++] = id;
    }
    if (!o->suites_len)
        die("--ciphers: empty list '%s'", arg);
}

static unsigned parse_uint(const char *name, const char *arg, unsigned lo, unsigned hi)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(arg, &end, 10);
    if (errno || *end || end == arg || v < lo || v > hi) {
        fprintf(stderr, "dtls-echo: %s must be a number in %u..%u, got '%s'\n", name, lo, hi,
                arg);
        exit(2);
    }
    return (unsigned)v;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: dtls-echo -s [-A ADDRESS] -p PORT --psk IDENTITY:KEY [--hint TEXT]\n"
            "                 [--mtu N] [--ciphers LIST] [--require-ems] [--cid LEN] [-v]\n"
            "       dtls-echo -c HOST -p PORT --psk IDENTITY:KEY [--mtu N] [--ciphers LIST]\n"
            "                 [--no-echo] [--wait MS] [--timeout MS] [--sni NAME]\n"
            "                 [--require-ems] [--cid LEN] [-v]\n"
            "  certificates instead of / with --psk: [--cert CERTFILE] [-j KEYFILE]\n"
            "                 [-C CAFILE] [--ca-dir DIR] [--rpk-trust FILE] [--rpk]\n"
            "                 [--require-client-cert] [--server-name NAME] [--no-name-check]\n");
    exit(2);
}

static void parse_args(struct opts *o, int argc, char **argv)
{
    static const struct option longs[] = {
        {"psk", required_argument, NULL, 'k'},   {"hint", required_argument, NULL, 'H'},
        {"mtu", required_argument, NULL, 'm'},   {"ciphers", required_argument, NULL, 'P'},
        {"no-echo", no_argument, NULL, 'n'},     {"wait", required_argument, NULL, 'w'},
        {"timeout", required_argument, NULL, 't'}, {"sni", required_argument, NULL, 'S'},
        {"require-ems", no_argument, NULL, 'E'}, {"help", no_argument, NULL, 'h'},
        {"cert", required_argument, NULL, 'X'},  {"key", required_argument, NULL, 'j'},
        {"ca", required_argument, NULL, 'Y'},    {"ca-dir", required_argument, NULL, 'D'},
        {"rpk-trust", required_argument, NULL, 'T'}, {"rpk", no_argument, NULL, 'R'},
        {"require-client-cert", no_argument, NULL, 'Q'},
        {"server-name", required_argument, NULL, 'N'},
        {"no-name-check", no_argument, NULL, 'K'},
        {"cid", required_argument, NULL, 'I'},
        {NULL, 0, NULL, 0},
    };
    bool psk = false;
    int ch;
    o->wait_ms = 3000;
    o->cid_len = -1;
    coaps_dtls_pki_files *pf = &o->pki_files;
    while ((ch = getopt_long(argc, argv, "sc:A:p:j:C:vh", longs, NULL)) != -1) {
        switch (ch) {
        case 's': o->server = true; break;
        case 'c': o->client = true; o->host = optarg; break;
        case 'A': o->addr = optarg; break;
        case 'p': o->port = optarg; break;
        case 'k': parse_psk(o, optarg); psk = true; break;
        case 'H': o->hint = optarg; break;
        case 'm': o->mtu = parse_uint("--mtu", optarg, COAPS_DTLS_MTU_MIN, ECHO_DGRAM_MAX); break;
        case 'P': parse_ciphers(o, optarg); break;
        case 'C': pf->ca_file = optarg; o->pki_given = true; break; /* libcoap -C */
        case 'X': pf->cert_file = optarg; o->pki_given = true; break;
        case 'j': pf->key_file = optarg; o->pki_given = true; break;
        case 'Y': pf->ca_file = optarg; o->pki_given = true; break;
        case 'D': pf->ca_dir = optarg; o->pki_given = true; break;
        case 'T': pf->rpk_trust_file = optarg; o->pki_given = true; break;
        case 'R': pf->use_rpk = true; break;
        case 'Q': pf->require_client_cert = true; break;
        case 'N': o->server_name = optarg; break;
        case 'K': pf->no_name_check = true; break;
        case 'n': o->no_echo = true; break;
        case 'w': o->wait_ms = parse_uint("--wait", optarg, 0, 600000); break;
        case 't': o->timeout_ms = parse_uint("--timeout", optarg, 1, 600000); break;
        case 'S': o->sni = optarg; break;
        case 'E': o->require_ems = true; break;
        case 'I': o->cid_len = (int)parse_uint("--cid", optarg, 0, COAPS_DTLS_CID_MAX); break;
        case 'v': o->verbose++; break;
        default: usage();
        }
    }
    if (optind != argc)
        die("unexpected argument '%s'", argv[optind]);
    if (o->server == o->client)
        die("%s", "give exactly one of -s (server) or -c HOST (client)");
    if (!o->port)
        die("%s", "-p PORT is required");
    o->psk = psk;
    if (!psk && !o->pki_given)
        die("%s", "--psk IDENTITY:KEY or certificates (--cert/-j/-C/--rpk-trust) are required");
    if (o->hint && strlen(o->hint) > COAPS_DTLS_PSK_HINT_MAX)
        die("--hint longer than 128 bytes: '%s'", o->hint);
}

static int open_socket(const char *host, const char *port, bool bind_it, struct sockaddr_storage *sa,
                       socklen_t *sa_len)
{
    struct addrinfo hints = {0}, *res;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = bind_it ? AI_PASSIVE : 0;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "dtls-echo: cannot resolve '%s' port '%s': %s\n", host ? host : "*",
                port, gai_strerror(rc));
        exit(2);
    }
    int fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || (bind_it ? bind(fd, res->ai_addr, res->ai_addrlen)
                           : connect(fd, res->ai_addr, res->ai_addrlen)) != 0) {
        fprintf(stderr, "dtls-echo: cannot %s %s port %s: %s\n", bind_it ? "bind" : "connect",
                host ? host : "*", port, strerror(errno));
        exit(2);
    }
    memcpy(sa, res->ai_addr, res->ai_addrlen);
    *sa_len = res->ai_addrlen;
    freeaddrinfo(res);
    return fd;
}

static coaps_status lookup_psk(void *user, const uint8_t *id, size_t id_len, uint8_t *key,
                               size_t cap, size_t *key_len)
{
    const struct opts *o = user;
    if (id_len != o->identity_len || memcmp(id, o->identity, id_len) != 0 || cap < o->key_len)
        return COAPS_E_PSK_IDENTITY;
    memcpy(key, o->key, o->key_len);
    *key_len = o->key_len;
    return COAPS_OK;
}

static void keylog_line(void *user, const char *line)
{
    (void)user;
    const char *path = getenv("SSLKEYLOGFILE");
    if (!path)
        return;
    FILE *f = fopen(path, "a");
    if (f) {
        fprintf(f, "%s\n", line);
        fclose(f);
    }
}

static void base_config(const struct opts *o, coaps_dtls_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->suites = o->suites_len ? o->suites : NULL;
    cfg->suites_len = o->suites_len;
    cfg->mtu = (uint16_t)o->mtu;
    cfg->keylog = keylog_line;
    cfg->handshake_timeout_ms = o->timeout_ms;
    cfg->require_ems = o->require_ems;
    cfg->cid = o->cid_len >= 0;
    cfg->cid_len = (uint8_t)(o->cid_len > 0 ? o->cid_len : 0);
    cfg->pki = o->pki;
}

/* Send every datagram the connection has queued. */
static void flush(int fd, coaps_dtls_conn *c, const struct sockaddr *to, socklen_t to_len)
{
    uint8_t out[ECHO_DGRAM_MAX];
    size_t len;
    while (coaps_dtls_output(c, out, sizeof(out), &len, now_ms()) == COAPS_OK)
        if (sendto(fd, out, len, 0, to, to_len) < 0 && errno != EAGAIN)
            perror("dtls-echo: sendto");
}

static int poll_timeout(uint64_t deadline)
{
    uint64_t now = now_ms();
    if (deadline == UINT64_MAX)
        return 1000;
    if (deadline <= now)
        return 0;
    return deadline - now > 1000 ? 1000 : (int)(deadline - now);
}

/* ---- server ---------------------------------------------------------------- */

struct session {
    bool used;
    struct sockaddr_storage sa;
    socklen_t sa_len;
    coaps_peer peer;
    coaps_dtls_conn conn;
    coaps_dtls_hs *hs; /* malloc'd while handshaking */
    uint64_t last_ms;
    bool announced;
    uint64_t hello_hash; /* of the ClientHello that made this session */
};


static void peer_of(const struct sockaddr_storage *sa, socklen_t len, coaps_peer *p)
{
    memset(p, 0, sizeof(*p));
    p->transport = COAPS_TRANSPORT_DTLS;
    p->addr_len = (uint8_t)(len < COAPS_PEER_ADDR_MAX ? len : COAPS_PEER_ADDR_MAX);
    memcpy(p->addr, sa, p->addr_len);
}

static void session_free(struct session *s)
{
    coaps_dtls_conn_clear(&s->conn);
    free(s->hs);
    memset(s, 0, sizeof(*s));
}

static struct session *session_find(struct session *tab, const coaps_peer *p)
{
    for (size_t i = 0; i < ECHO_SESSIONS; i++)
        if (tab[i].used && coaps_peer_equal(&tab[i].peer, p))
            return &tab[i];
    return NULL;
}

static struct session *session_new(struct session *tab)
{
    for (size_t i = 0; i < ECHO_SESSIONS; i++)
        if (!tab[i].used)
            return &tab[i];
    return NULL;
}

/* After input or tick: echo, send, report, clean up. */
static void session_service(int fd, struct session *s, const struct opts *o)
{
    const uint8_t *data;
    size_t len;
    while (coaps_dtls_read(&s->conn, &data, &len) == COAPS_OK) {
        uint8_t rec[ECHO_DGRAM_MAX];
        size_t rlen;
        if (o->verbose)
            fprintf(stderr, "dtls-echo: echo %zu bytes\n", len);
        if (coaps_dtls_write(&s->conn, data, len, rec, sizeof(rec), &rlen) == COAPS_OK)
            (void)sendto(fd, rec, rlen, 0, (struct sockaddr *)&s->sa, s->sa_len);
    }
    flush(fd, &s->conn, (struct sockaddr *)&s->sa, s->sa_len);
    enum coaps_dtls_state st = coaps_dtls_state(&s->conn);
    if (st == COAPS_DTLS_ESTABLISHED && !s->announced) {
        s->announced = true;
        fprintf(stderr, "dtls-echo: session established, %s\n",
                coaps_dtls_suite_name(coaps_dtls_suite(&s->conn)));
    }
    if (s->hs && coaps_dtls_hs_released(&s->conn)) {
        free(s->hs); /* the handshake context is only needed while handshaking */
        s->hs = NULL;
    }
    if (st == COAPS_DTLS_FAILED || st == COAPS_DTLS_CLOSED) {
        char why[256];
        fprintf(stderr, "dtls-echo: session ended: %s\n",
                coaps_dtls_error_str(&s->conn, why, sizeof(why)));
        session_free(s);
    }
}

static void server_datagram(int fd, coaps_dtls_server *front, const coaps_dtls_config *cfg,
                            struct session *tab, const struct opts *o, uint8_t *d, size_t len,
                            const struct sockaddr_storage *sa, socklen_t sa_len)
{
    coaps_peer peer;
    peer_of(sa, sa_len, &peer);
    struct session *s = session_find(tab, &peer);
    uint64_t now = now_ms();
    if (s && coaps_dtls_is_client_hello(d, len) && coaps_dtls_client_hello_hash(d, len) == s->hello_hash)
        return; /* a late copy of the ClientHello that made this session: it
                   must not restart it (only a new ClientHello does, RFC 6347 4.2.8) */
    if (!s || (coaps_dtls_is_client_hello(d, len) && coaps_dtls_state(&s->conn) != COAPS_DTLS_HANDSHAKING)) {
        uint8_t out[512];
        size_t out_len;
        enum coaps_dtls_accept v;
        if (coaps_dtls_server_accept(front, &peer, d, len, now, out, sizeof(out), &out_len, &v) !=
            COAPS_OK)
            return;
        if (v == COAPS_DTLS_ACCEPT_SEND) {
            (void)sendto(fd, out, out_len, 0, (const struct sockaddr *)sa, sa_len);
            return;
        }
        if (v == COAPS_DTLS_ACCEPT_DROP) {
            if (!s)
                return;
        } else {
            if (s)
                session_free(s); /* the client started over (RFC 6347 4.2.8) */
            s = session_new(tab);
            if (!s) {
                fprintf(stderr, "dtls-echo: session table full, dropping a client\n");
                return;
            }
            s->hs = calloc(1, sizeof(*s->hs));
            if (!s->hs || coaps_dtls_conn_init(&s->conn, cfg, s->hs, &peer, now) != COAPS_OK) {
                free(s->hs);
                s->hs = NULL;
                return;
            }
            s->used = true;
            s->hello_hash = coaps_dtls_client_hello_hash(d, len);
            s->peer = peer;
            memcpy(&s->sa, sa, sa_len);
            s->sa_len = sa_len;
        }
    }
    s->last_ms = now;
    (void)coaps_dtls_input(&s->conn, d, len, now);
    session_service(fd, s, o);
}

static int run_server(const struct opts *o)
{
    coaps_dtls_config cfg;
    base_config(o, &cfg);
    cfg.role = COAPS_DTLS_SERVER;
    cfg.psk_lookup = o->psk ? lookup_psk : NULL;
    cfg.psk_user = (void *)o;
    if (o->hint) {
        cfg.psk_hint = (const uint8_t *)o->hint;
        cfg.psk_hint_len = strlen(o->hint);
    }
    coaps_dtls_server front;
    if (coaps_dtls_server_init(&front, &cfg, now_ms()) != COAPS_OK)
        die("%s", "cannot set up the server (bad configuration)");
    struct sockaddr_storage sa;
    socklen_t sa_len;
    int fd = open_socket(o->addr, o->port, true, &sa, &sa_len);
    static struct session tab[ECHO_SESSIONS];
    fprintf(stderr, "dtls-echo: serving on %s port %s\n", o->addr ? o->addr : "*", o->port);
    while (!stop) {
        uint64_t deadline = UINT64_MAX;
        for (size_t i = 0; i < ECHO_SESSIONS; i++)
            if (tab[i].used) {
                uint64_t d = coaps_dtls_next_deadline(&tab[i].conn);
                deadline = d < deadline ? d : deadline;
            }
        struct pollfd pfd = {fd, POLLIN, 0};
        int n = poll(&pfd, 1, poll_timeout(deadline));
        if (n < 0 && errno != EINTR)
            break;
        if (n > 0) {
            uint8_t buf[ECHO_DGRAM_MAX];
            struct sockaddr_storage from;
            socklen_t from_len = sizeof(from);
            ssize_t r = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &from_len);
            if (r > 0)
                server_datagram(fd, &front, &cfg, tab, o, buf, (size_t)r, &from, from_len);
        }
        uint64_t now = now_ms();
        for (size_t i = 0; i < ECHO_SESSIONS; i++) {
            struct session *s = &tab[i];
            if (!s->used)
                continue;
            if (coaps_dtls_state(&s->conn) == COAPS_DTLS_ESTABLISHED &&
                now - s->last_ms > ECHO_IDLE_MS) {
                session_free(s);
                continue;
            }
            if (coaps_dtls_next_deadline(&s->conn) <= now) {
                (void)coaps_dtls_tick(&s->conn, now);
                session_service(fd, s, o);
            }
        }
    }
    for (size_t i = 0; i < ECHO_SESSIONS; i++)
        if (tab[i].used)
            session_free(&tab[i]);
    coaps_dtls_server_clear(&front);
    close(fd);
    return 0;
}

/* ---- client ----------------------------------------------------------------- */

struct client {
    int fd;
    coaps_dtls_conn conn;
    coaps_dtls_hs *hs;
    unsigned sent, received;
    bool eof;
    uint64_t eof_ms;
    char line[ECHO_LINE_MAX];
    size_t line_len;
};

static void client_send_line(struct client *cl, const char *p, size_t n)
{
    uint8_t rec[ECHO_DGRAM_MAX];
    size_t len;
    size_t max = coaps_dtls_max_plaintext(&cl->conn);
    if (n > max)
        n = max; /* one record per line; longer lines are cut */
    if (coaps_dtls_write(&cl->conn, (const uint8_t *)p, n, rec, sizeof(rec), &len) == COAPS_OK &&
        send(cl->fd, rec, len, 0) >= 0)
        cl->sent++;
}

/* Read what stdin has, send complete lines. */
static void client_stdin(struct client *cl)
{
    char buf[ECHO_LINE_MAX];
    ssize_t r = read(STDIN_FILENO, buf, sizeof(buf));
    if (r <= 0) {
        if (cl->line_len)
            client_send_line(cl, cl->line, cl->line_len);
        cl->line_len = 0;
        cl->eof = true;
        cl->eof_ms = now_ms();
        return;
    }
    for (ssize_t i = 0; i < r; i++) {
        if (buf[i] == '\n' || cl->line_len == sizeof(cl->line)) {
            client_send_line(cl, cl->line, cl->line_len);
            cl->line_len = 0;
            if (buf[i] == '\n')
                continue;
        }
        cl->line[cl->line_len++] = buf[i];
    }
}

static int client_fail(struct client *cl)
{
    char why[256];
    fprintf(stderr, "dtls-echo: handshake failed: %s\n",
            coaps_dtls_error_str(&cl->conn, why, sizeof(why)));
    return 1;
}

static int run_client(const struct opts *o)
{
    coaps_dtls_config cfg;
    base_config(o, &cfg);
    cfg.role = COAPS_DTLS_CLIENT;
    if (o->psk) {
        cfg.psk_identity = o->identity;
        cfg.psk_identity_len = o->identity_len;
        cfg.psk_key = o->key;
        cfg.psk_key_len = o->key_len;
    }
    /* The name sent as SNI and checked against the certificate. */
    cfg.server_name = o->server_name ? o->server_name : o->sni ? o->sni : o->pki ? o->host : NULL;
    static struct client cl;
    struct sockaddr_storage sa;
    socklen_t sa_len;
    cl.fd = open_socket(o->host, o->port, false, &sa, &sa_len);
    cl.hs = calloc(1, sizeof(*cl.hs));
    coaps_peer peer;
    peer_of(&sa, sa_len, &peer);
    if (!cl.hs || coaps_dtls_conn_init(&cl.conn, &cfg, cl.hs, &peer, now_ms()) != COAPS_OK)
        die("%s", "cannot start the client (bad configuration)");
    int rc = 0;
    bool announced = false;
    while (!stop) {
        flush(cl.fd, &cl.conn, NULL, 0);
        enum coaps_dtls_state st = coaps_dtls_state(&cl.conn);
        if (st == COAPS_DTLS_FAILED || (st == COAPS_DTLS_CLOSED && !announced)) {
            rc = client_fail(&cl);
            break;
        }
        if (st == COAPS_DTLS_CLOSED)
            break;
        if (st == COAPS_DTLS_ESTABLISHED && !announced) {
            announced = true;
            free(cl.hs);
            cl.hs = NULL;
            if (o->verbose)
                fprintf(stderr, "dtls-echo: connected, %s\n",
                        coaps_dtls_suite_name(coaps_dtls_suite(&cl.conn)));
        }
        if (cl.eof && (o->no_echo || cl.received >= cl.sent)) {
            (void)coaps_dtls_close(&cl.conn);
            flush(cl.fd, &cl.conn, NULL, 0);
            break;
        }
        if (cl.eof && now_ms() - cl.eof_ms > o->wait_ms) {
            fprintf(stderr, "dtls-echo: %u of %u lines echoed before the wait ended\n",
                    cl.received, cl.sent);
            rc = 1;
            break;
        }
        struct pollfd pfd[2] = {{cl.fd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
        nfds_t nfds = (announced && !cl.eof) ? 2 : 1;
        int n = poll(pfd, nfds, poll_timeout(coaps_dtls_next_deadline(&cl.conn)));
        if (n < 0 && errno != EINTR)
            break;
        if (n > 0 && (pfd[0].revents & POLLIN)) {
            uint8_t buf[ECHO_DGRAM_MAX];
            ssize_t r = recv(cl.fd, buf, sizeof(buf), 0);
            if (r > 0) {
                (void)coaps_dtls_input(&cl.conn, buf, (size_t)r, now_ms());
                const uint8_t *data;
                size_t len;
                while (coaps_dtls_read(&cl.conn, &data, &len) == COAPS_OK) {
                    fwrite(data, 1, len, stdout);
                    if (len == 0 || data[len - 1] != '\n')
                        fputc('\n', stdout);
                    fflush(stdout);
                    cl.received++;
                }
            }
        }
        if (nfds == 2 && n > 0 && (pfd[1].revents & (POLLIN | POLLHUP)))
            client_stdin(&cl);
        (void)coaps_dtls_tick(&cl.conn, now_ms());
    }
    coaps_dtls_conn_clear(&cl.conn);
    free(cl.hs);
    close(cl.fd);
    return rc;
}

int main(int argc, char **argv)
{
    static struct opts o;
    parse_args(&o, argc, argv);
    if (o.pki_given) {
        char err[256];
        if (coaps_dtls_pki_new(&o.pki, &o.pki_files, err, sizeof err) != COAPS_OK)
            die("%s", err);
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    int rc = o.server ? run_server(&o) : run_client(&o);
    coaps_dtls_pki_free(o.pki);
    return rc;
}
