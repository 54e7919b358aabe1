/*
 * dtls-peer - the scripted DTLS 1.2 PSK peer of the conformance suite
 * (tests/conformance/, docs/conformance.md): a client that deviates at any
 * step, or (-R client) a server that does.
 *
 *   dtls-peer [-k KEY] [-u IDENTITY] [-w WINDOW_MS] [-A] [-r] [-f FILTER]
 *             -c CATALOGUE ADDRESS PORT
 *   dtls-peer -R client -C COAPS_CLIENT [-k KEY] [-u IDENTITY] [-w WINDOW_MS]
 *             [-r] [-f FILTER] -c CATALOGUE
 *   -S: send what is injected from a raw socket with the honest peer's
 *       address and port forged as its source (IPv4; needs CAP_NET_RAW,
 *       exit 77 without it) instead of from the honest peer's own socket
 *   -N NETNS: with -S, open that raw socket in the network namespace NETNS
 *       (a path, e.g. /run/netns/NAME): the forged datagrams then leave
 *       from another host's stack and link, not from the honest peer's
 *   dtls-peer [-R client] -M -c CATALOGUE   (print the catalogue as markdown;
 *                                            exit 1 if the matrix has a hole)
 *
 * Each line of the catalogue is one case, "STATE MESSAGE EPOCH EXPECTED":
 * in STATE of the server's handshake, send MESSAGE at EPOCH, and the
 * server must react as EXPECTED. Per case the peer opens a new socket and
 * runs an honest PSK handshake with our own engine (coaps/dtls.h client),
 * holding its datagrams back so that it can stop at any point:
 *
 *   before_cookie   nothing sent yet
 *   after_hvr       ClientHello sent, HelloVerifyRequest received
 *   after_flight4   ClientHello with cookie sent, ServerHello..ServerHelloDone in
 *   after_cke       flight 5 cut into records: ClientKeyExchange sent alone
 *   after_ccs       ... then ChangeCipherSpec, Finished not yet
 *   established     the server's Finished received
 *
 * There it sends the injected datagram from the very same address and port
 * (what an attacker who spoofs the client's address sends), listens for
 * WINDOW_MS (default 300), then lets the honest handshake go on and, once
 * established, sends a CoAP GET /.well-known/core inside the session
 * (skipped with -A, for a peer that does not speak CoAP). The reaction:
 *
 *   answered        the server answered the injected datagram (not with an
 *                   alert), and the honest handshake and request completed
 *   silent          no answer, and the handshake and request completed
 *   fatal:NAME      an alert record came back (level and description byte
 *   warning:NAME    checked; epoch-1 alerts are decrypted with the session's keys)
 *   ended           no alert, but the handshake or the session ended: the
 *                   honest client's handshake, or its request, failed
 *
 * Messages are built with the engine's codecs and sealed with the honest
 * engine's epoch-1 write keys (src/dtls internals: a test tool may use
 * them) once those exist; before that an epoch-1 record is random bytes
 * behind a valid header. Handshake messages carry the message_seq the
 * server expects next in that state. Besides the 14 message kinds of the
 * matrix, attack kinds: forged_handshake / forged_appdata (an epoch-1
 * record of random bytes even when keys exist), client_hello_seq0 (a
 * ClientHello numbered as a new handshake), omit_ccs / reorder_flight5
 * (flight 5 without its ChangeCipherSpec / with its Finished first; server
 * role only), NAME*N (the datagram N times, each with a new record
 * sequence number), repeat_last (the honest peer's last datagram again).
 *
 * With -R client the roles turn: the peer is an honest PSK server (our
 * engine behind its stateless front door) on a port of its own, starts
 * the coaps-client given with -C against it for each case (killed by PID
 * when the case is over), and injects in the client's states after_ch,
 * after_ch2, in_flight4, wait_ccs, wait_finished and established (the
 * client's request came and is not yet answered); a case completes when
 * coaps-client gets the 2.05 response and exits 0.
 *
 * Prints one line per case: state message epoch expected actual, and
 * "MISMATCH" where they differ; exit 0 when none differs (with -r: record
 * mode, the actual reaction is printed as a catalogue line and the exit
 * status is 0), 1 on any mismatch, 2 for bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coaps/dtls.h"
#include "common/hex.h"
#include "common/try.h"
#include "common/wire.h"
#include "dtls/conn.h"
#include "dtls/handshake_msg.h"
#include "dtls/record.h"
#include "cli/cli.h"
#include "net/clock.h"

#define PEER_DGRAM_MAX 2048
#define PEER_FLIGHT_DGRAMS 8
#define PEER_STEP_MS 3000    /* one honest step on loopback (server under ASan) */
#define PEER_REPEAT_MAX 1000 /* NAME*N */
#define PEER_LINE_MAX 256
#define PEER_HELD_FDS 512    /* past cases' sockets kept open (ports not reused) */

#define USAGE                                                                          \
    "usage: dtls-peer [-k KEY] [-u IDENTITY] [-w WINDOW_MS] [-A] [-r] [-S [-N NETNS]] [-f FILTER] " \
    "-c CATALOGUE ADDRESS PORT\n"                                                  \
    "       dtls-peer -R client -C COAPS_CLIENT [-k KEY] [-u IDENTITY] [-w WINDOW_MS] " \
    "[-r] [-S] [-f FILTER] -c CATALOGUE\n"                                         \
    "       dtls-peer [-R client] -M -c CATALOGUE\n"

/* ---- states and messages --------------------------------------------------- */

enum peer_state {
    ST_BEFORE_COOKIE,
    ST_AFTER_HVR,
    ST_AFTER_FLIGHT4,
    ST_AFTER_CKE,
    ST_AFTER_CCS,
    ST_ESTABLISHED,
    ST_COUNT,
};

static const char *const server_state_names[ST_COUNT] = {
    "before_cookie", "after_hvr", "after_flight4", "after_cke", "after_ccs", "established",
};
/* message_seq the server expects next: ClientHello 0, ClientHello with
 * cookie 1, ClientKeyExchange 2, Finished 3; after the handshake 4. */
static const uint16_t server_next_seq[ST_COUNT] = {0, 1, 2, 3, 3, 4};

/* The client role (-R client): the peer is the server, the same indices
 * name the client's states. */
enum client_state {
    CS_AFTER_CH,       /* got the ClientHello, no HelloVerifyRequest yet */
    CS_AFTER_CH2,      /* got the ClientHello with the cookie, no flight 4 yet */
    CS_IN_FLIGHT4,     /* sent the ServerHello, not yet the rest of flight 4 */
    CS_WAIT_CCS,       /* got flight 5, sent nothing of flight 6 */
    CS_WAIT_FINISHED,  /* sent the ChangeCipherSpec of flight 6, not the Finished */
    CS_ESTABLISHED,    /* got the client's request in the session, not answered */
};
static const char *const client_state_names[ST_COUNT] = {
    "after_ch", "after_ch2", "in_flight4", "wait_ccs", "wait_finished", "established",
};
/* message_seq the client expects next: HelloVerifyRequest 0, ServerHello 1
 * (it takes the second ClientHello's), ServerKeyExchange 2 (the hint),
 * Finished 4 (after ServerHelloDone 3); after the handshake 5. */
static const uint16_t client_next_seq[ST_COUNT] = {0, 1, 2, 4, 4, 5};

static bool role_client;
static const char *const *state_names = server_state_names;
static const uint16_t *state_next_seq = server_next_seq;

enum msg_flag {
    MSG_FORGED = 1, /* epoch-1 random bytes even when keys exist */
    MSG_REPEAT = 2, /* the honest peer's last datagram */
    MSG_CKE = 4,    /* body: our PSK identity */
    /* changes to the honest flight 5 instead of an extra datagram; what
     * comes back in the window is fed to the honest engine too */
    MSG_OMIT_CCS = 8, /* ClientKeyExchange, Finished: no ChangeCipherSpec */
    MSG_REORDER = 16, /* Finished, ChangeCipherSpec, ClientKeyExchange */
    MSG_SEQ0 = 32,    /* message_seq 0, as a new handshake starts (RFC 6347 4.2.2) */
};
/* kinds outside the matrix of message x epoch x state */
#define MSG_ATTACK (MSG_FORGED | MSG_REPEAT | MSG_OMIT_CCS | MSG_REORDER | MSG_SEQ0)

struct msg_kind {
    const char *name;
    uint8_t ct;      /* record ContentType */
    int hs_type;     /* handshake type, -1 for other records */
    const char *hex; /* body */
    unsigned flags;
};

/* Bodies: the smallest well-formed message of each type for a PSK
 * handshake; a ClientHello offering PSK-AES128-CCM8 without a cookie; a
 * Finished of zeros (a wrong verify_data); a fatal handshake_failure alert;
 * application data: a CoAP GET /.well-known/core. */
#define GET_WKC "4001babebb2e77656c6c2d6b6e6f776e04636f7265"
#define RANDOM32 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
static const struct msg_kind msg_kinds[] = {
    {"hello_request", DTLS_CT_HANDSHAKE, 0, "", 0},
    {"client_hello", DTLS_CT_HANDSHAKE, 1, "fefd" RANDOM32 "0000" "0002c0a8" "0100", 0},
    {"server_hello", DTLS_CT_HANDSHAKE, 2, "fefd" RANDOM32 "00c0a800", 0},
    {"hello_verify_request", DTLS_CT_HANDSHAKE, 3, "fefd080001020304050607", 0},
    {"new_session_ticket", DTLS_CT_HANDSHAKE, 4, "000000000000", 0},
    {"certificate", DTLS_CT_HANDSHAKE, 11, "000000", 0},
    {"server_key_exchange", DTLS_CT_HANDSHAKE, 12, "0000", 0},
    {"certificate_request", DTLS_CT_HANDSHAKE, 13, "0140000204030000", 0},
    {"server_hello_done", DTLS_CT_HANDSHAKE, 14, "", 0},
    {"certificate_verify", DTLS_CT_HANDSHAKE, 15, "04030000", 0},
    {"client_key_exchange", DTLS_CT_HANDSHAKE, 16, "", MSG_CKE},
    {"finished", DTLS_CT_HANDSHAKE, 20, "000000000000000000000000", 0},
    {"change_cipher_spec", DTLS_CT_CHANGE_CIPHER_SPEC, -1, "01", 0},
    {"alert", DTLS_CT_ALERT, -1, "0228", 0},
    {"application_data", DTLS_CT_APPLICATION_DATA, -1, GET_WKC, 0},
    {"forged_handshake", DTLS_CT_HANDSHAKE, -1, "000102030405060708090a0b0c0d0e0f", MSG_FORGED},
    {"forged_appdata", DTLS_CT_APPLICATION_DATA, -1, GET_WKC, MSG_FORGED},
    {"repeat_last", 0, -1, "", MSG_REPEAT},
    {"omit_ccs", 0, -1, "", MSG_OMIT_CCS},
    {"client_hello_seq0", DTLS_CT_HANDSHAKE, 1, "fefd" RANDOM32 "0000" "0002c0a8" "0100", MSG_SEQ0},
    {"reorder_flight5", 0, -1, "", MSG_REORDER},
};
#define MSG_KIND_COUNT (sizeof msg_kinds / sizeof msg_kinds[0])

/* ---- the peer ----------------------------------------------------------------- */

struct dgram {
    size_t len;
    uint8_t b[PEER_DGRAM_MAX];
};

struct peer {
    const char *host, *port;
    const char *key, *identity;
    uint32_t window_ms;
    bool app_check;
    int fd;
    coaps_dtls_config cfg;
    coaps_dtls_conn conn;
    coaps_dtls_hs hs;
    struct dgram rx, scratch, last, inj;
    struct dgram flight[PEER_FLIGHT_DGRAMS];
    size_t flight_n;
    /* what the case saw */
    bool answered;
    int alert_level, alert_desc; /* first alert record; -1: none */
    char detail[128];
    int held_fds[PEER_HELD_FDS]; /* sockets of past cases, see run_case */
    unsigned held_n;
    /* client role: the front door of our honest server, the client process */
    coaps_dtls_server srv;
    const char *client_bin;
    pid_t pid;
    int exit_status; /* of the client process; -1 while it runs */
    int raw_fd;      /* -S: injected datagrams go out here, source forged */
};

static struct conn *peer_conn(struct peer *p)
{
    return conn_of(&p->conn);
}

static void note(struct peer *p, const char *what)
{
    if (p->detail[0] == '\0')
        snprintf(p->detail, sizeof p->detail, "%s", what);
}

static int open_connected(const char *host, const char *port)
{
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV; /* literals only */
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

static void send_raw(struct peer *p, const uint8_t *b, size_t len)
{
    (void)send(p->fd, b, len, 0);
}

/* -S: the injected datagram from another socket, a raw one, with the
 * honest peer's address and port written into its IPv4 and UDP headers:
 * a spoofed source, as an attacker elsewhere would send it (the kernel
 * fills in the IP checksum and length; a UDP checksum of 0 means none). */
static coaps_status spoofed_packet(struct wire_wr *w, const struct sockaddr_in *src,
                                   const struct sockaddr_in *dst, const uint8_t *b, size_t len)
{
    TRY(wire_wr_u8(w, 0x45)); /* IPv4, 20-byte header */
    TRY(wire_wr_u8(w, 0));
    TRY(wire_wr_u16(w, (uint16_t)(28 + len)));
    TRY(wire_wr_u32(w, 0x00004000)); /* id 0, don't fragment */
    TRY(wire_wr_u8(w, 64));          /* TTL */
    TRY(wire_wr_u8(w, IPPROTO_UDP));
    TRY(wire_wr_u16(w, 0)); /* header checksum: the kernel's */
    TRY(wire_wr_bytes(w, &src->sin_addr, 4));
    TRY(wire_wr_bytes(w, &dst->sin_addr, 4));
    TRY(wire_wr_bytes(w, &src->sin_port, 2));
    TRY(wire_wr_bytes(w, &dst->sin_port, 2));
    TRY(wire_wr_u16(w, (uint16_t)(8 + len)));
    TRY(wire_wr_u16(w, 0)); /* no UDP checksum */
    return wire_wr_bytes(w, b, len);
}

/* -S: the raw socket, with -N made in another network namespace (a
 * socket stays in the namespace it was made in, so the process goes there
 * for the socket() call only and comes back). -1 on failure, errno set. */
static int open_raw(const char *netns)
{
    int home = -1, there = -1, fd = -1;
    if (netns != NULL) {
        home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        there = open(netns, O_RDONLY | O_CLOEXEC);
        if (home < 0 || there < 0 || setns(there, CLONE_NEWNET) != 0)
            goto out;
    }
    fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
    if (netns != NULL && setns(home, CLONE_NEWNET) != 0) {
        fprintf(stderr, "dtls-peer: cannot return to our network namespace: %s\n", strerror(errno));
        exit(2);
    }
out:;
    int e = errno;
    if (home >= 0)
        close(home);
    if (there >= 0)
        close(there);
    errno = e;
    return fd;
}

static void send_spoofed(struct peer *p, const uint8_t *b, size_t len)
{
    struct sockaddr_in src, dst;
    socklen_t sl = sizeof src, dl = sizeof dst;
    uint8_t pkt[20 + 8 + PEER_DGRAM_MAX];
    struct wire_wr w = wire_wr_init(pkt, sizeof pkt);
    if (getsockname(p->fd, (struct sockaddr *)&src, &sl) == 0 &&
        getpeername(p->fd, (struct sockaddr *)&dst, &dl) == 0 && src.sin_family == AF_INET &&
        spoofed_packet(&w, &src, &dst, b, len) == COAPS_OK)
        (void)sendto(p->raw_fd, pkt, w.off, 0, (const struct sockaddr *)&dst, sizeof dst);
}

static void send_inject(struct peer *p, const uint8_t *b, size_t len)
{
    if (p->raw_fd >= 0)
        send_spoofed(p, b, len);
    else
        send_raw(p, b, len);
}

/* An honest datagram: sent, and remembered for repeat_last. */
static void send_honest(struct peer *p, const uint8_t *b, size_t len)
{
    memcpy(p->last.b, b, len);
    p->last.len = len;
    send_raw(p, b, len);
}

static bool recv_one(struct peer *p, int wait_ms)
{
    struct pollfd pfd = {p->fd, POLLIN, 0};
    if (poll(&pfd, 1, wait_ms) <= 0)
        return false;
    ssize_t got = recv(p->fd, p->rx.b, sizeof p->rx.b, 0);
    if (got <= 0)
        return false;
    p->rx.len = (size_t)got;
    return true;
}

static void saw_alert(struct peer *p, uint8_t level, uint8_t desc)
{
    if (p->alert_level < 0) {
        p->alert_level = level;
        p->alert_desc = desc;
    }
}

/* Look for alert records in a received datagram (on a copy: decrypting
 * epoch-1 records in place would spoil it for the engine). Epoch-1 alerts
 * are opened with the honest engine's read keys when decrypt is set. */
static void sniff(struct peer *p, const struct dgram *d, bool decrypt)
{
    memcpy(p->scratch.b, d->b, d->len);
    p->scratch.len = d->len;
    struct wire_rd rd = wire_rd_init(p->scratch.b, p->scratch.len);
    struct dtls_record rec;
    while (wire_rd_left(&rd) > 0 && dtls_record_next(&rd, &rec) == COAPS_OK) {
        if (rec.type != DTLS_CT_ALERT)
            continue;
        if (rec.epoch == 0 && rec.fragment_len == 2) {
            saw_alert(p, rec.fragment[0], rec.fragment[1]);
            continue;
        }
        struct conn *c = peer_conn(p);
        uint8_t *pt, type;
        size_t pt_len;
        if (rec.epoch == 1 && decrypt && c->read_keys &&
            conn_open_record(c, &rec, p->scratch.b, p->scratch.len, &pt, &pt_len, &type) ==
                COAPS_OK &&
            pt_len == 2)
            saw_alert(p, pt[0], pt[1]);
    }
}

/* The engine's pending datagrams into p->flight. */
static void take_flight(struct peer *p)
{
    p->flight_n = 0;
    size_t len;
    while (p->flight_n < PEER_FLIGHT_DGRAMS &&
           coaps_dtls_output(&p->conn, p->flight[p->flight_n].b, PEER_DGRAM_MAX, &len,
                             net_now_ms()) == COAPS_OK)
        p->flight[p->flight_n++].len = len;
}

static void send_flight(struct peer *p)
{
    for (size_t i = 0; i < p->flight_n; i++)
        send_honest(p, p->flight[i].b, p->flight[i].len);
}

static bool engine_failed(struct peer *p)
{
    enum coaps_dtls_state st = coaps_dtls_state(&p->conn);
    if (st != COAPS_DTLS_FAILED && st != COAPS_DTLS_CLOSED)
        return false;
    coaps_dtls_error e = coaps_dtls_error_reason(&p->conn);
    if (st == COAPS_DTLS_FAILED && e.alert >= 0 && !e.alert_sent) /* not close_notify */
        saw_alert(p, 2, (uint8_t)e.alert);
    char why[96];
    note(p, coaps_dtls_error_str(&p->conn, why, sizeof why));
    return true;
}

typedef bool (*peer_goal)(struct peer *p);

static bool goal_hvr(struct peer *p)
{
    return peer_conn(p)->hs && peer_conn(p)->hs->state == HS_C_WAIT_SH;
}
static bool goal_flight4(struct peer *p)
{
    return peer_conn(p)->hs && peer_conn(p)->hs->state == HS_C_WAIT_FINISHED;
}
static bool goal_established(struct peer *p)
{
    return coaps_dtls_state(&p->conn) == COAPS_DTLS_ESTABLISHED;
}

/* Feed the server's datagrams to the honest engine until goal (its next
 * flight is then left queued, unsent) or failure or timeout. The engine's
 * retransmissions go out as they come. */
static bool pump(struct peer *p, peer_goal goal)
{
    uint64_t end = net_now_ms() + PEER_STEP_MS;
    while (!goal(p)) {
        if (engine_failed(p) || net_now_ms() >= end)
            return false;
        size_t len;
        while (coaps_dtls_output(&p->conn, p->scratch.b, PEER_DGRAM_MAX, &len, net_now_ms()) ==
               COAPS_OK)
            send_honest(p, p->scratch.b, len);
        if (recv_one(p, 20)) {
            sniff(p, &p->rx, false);
            (void)coaps_dtls_input(&p->conn, p->rx.b, p->rx.len, net_now_ms());
            continue; /* check the goal before anything is flushed */
        }
        (void)coaps_dtls_tick(&p->conn, net_now_ms());
    }
    return true;
}

/* ---- building the injected datagram ----------------------------------------------- */

static coaps_status forge_record(struct wire_wr *w, uint8_t ct, size_t pt_len)
{
    static uint64_t forged_seq = 1000;
    uint8_t junk[DTLS_EXPLICIT_NONCE_LEN + 256 + 16];
    size_t n = DTLS_EXPLICIT_NONCE_LEN + pt_len + 8; /* a CCM_8-sized record */
    ENSURE(n <= sizeof junk, COAPS_E_NOSPACE);
    ENSURE(getrandom(junk, n, 0) == (ssize_t)n, COAPS_E_CRYPTO);
    TRY(wire_wr_u8(w, ct));
    TRY(wire_wr_u16(w, DTLS_VERSION_1_2));
    TRY(wire_wr_u16(w, 1));
    TRY(wire_wr_u48(w, forged_seq++));
    TRY(wire_wr_u16(w, (uint16_t)n));
    return wire_wr_bytes(w, junk, n);
}

/* One record of kind k at epoch into w. */
static coaps_status build_record(struct peer *p, const struct msg_kind *k, uint16_t epoch,
                                 uint16_t seq, struct wire_wr *w)
{
    uint8_t body[PEER_LINE_MAX], pt[PEER_LINE_MAX + 12];
    size_t body_len = 0;
    if (k->flags & MSG_CKE) {
        struct wire_wr bw = wire_wr_init(body, sizeof body);
        size_t n = strlen(p->identity);
        TRY(wire_wr_u16(&bw, (uint16_t)n));
        TRY(wire_wr_bytes(&bw, p->identity, n));
        body_len = bw.off;
    } else {
        ENSURE(hex_to_bytes(k->hex, strlen(k->hex), body, sizeof body, &body_len),
               COAPS_E_INVALID);
    }
    struct wire_wr pw = wire_wr_init(pt, sizeof pt);
    if (k->hs_type >= 0)
        TRY(dtls_hs_header_write_whole(&pw, (uint8_t)k->hs_type, seq, body_len));
    TRY(wire_wr_bytes(&pw, body, body_len));
    struct conn *c = peer_conn(p);
    if (epoch == 1 && ((k->flags & MSG_FORGED) || !c->write_keys))
        return forge_record(w, k->ct, pw.off);
    return conn_write_record(c, w, k->ct, epoch, pt, pw.off);
}

/* Listen for the window: any datagram is an answer to what we injected.
 * feed: hand it to the honest engine too (it answered an honest flight
 * that was altered, not an extra datagram). */
static void listen_window(struct peer *p, bool feed)
{
    uint64_t end = net_now_ms() + p->window_ms;
    for (uint64_t now = net_now_ms(); now < end; now = net_now_ms()) {
        if (!recv_one(p, (int)(end - now)))
            continue;
        if (!p->answered && p->rx.len >= DTLS_RECORD_HEADER_LEN) {
            char what[64];
            snprintf(what, sizeof what, "answer: type %u epoch %u, %zu bytes", p->rx.b[0],
                     (unsigned)(p->rx.b[3] << 8 | p->rx.b[4]), p->rx.len);
            note(p, what);
        }
        p->answered = true;
        sniff(p, &p->rx, !feed);
        if (feed)
            (void)coaps_dtls_input(&p->conn, p->rx.b, p->rx.len, net_now_ms());
    }
}

/* Send kind k at epoch, count times; then listen for the window. */
static coaps_status inject(struct peer *p, const struct msg_kind *k, uint16_t epoch,
                           unsigned count, enum peer_state st)
{
    for (unsigned i = 0; i < count; i++) {
        if (k->flags & MSG_REPEAT) {
            if (p->last.len > 0)
                send_inject(p, p->last.b, p->last.len);
            continue;
        }
        struct wire_wr w = wire_wr_init(p->inj.b, sizeof p->inj.b);
        TRY(build_record(p, k, epoch, (k->flags & MSG_SEQ0) ? 0 : state_next_seq[st], &w));
        send_inject(p, p->inj.b, w.off);
    }
    listen_window(p, false);
    /* after a fatal alert the server has ended the handshake: waiting for
     * the honest one to time out would tell nothing more */
    return p->alert_level == 2 ? COAPS_E_ALERT : COAPS_OK;
}

/* ---- one case ------------------------------------------------------------------- */

/* Flight 5 cut at its records: [0] ClientKeyExchange, [1] ChangeCipherSpec,
 * [2] Finished, each its own datagram. */
static bool cut_flight5(struct peer *p, struct dgram parts[3])
{
    for (int i = 0; i < 3; i++)
        parts[i].len = 0;
    for (size_t i = 0; i < p->flight_n; i++) {
        struct wire_rd rd = wire_rd_init(p->flight[i].b, p->flight[i].len);
        struct dtls_record rec;
        while (wire_rd_left(&rd) > 0 && dtls_record_next(&rd, &rec) == COAPS_OK) {
            int part = rec.type == DTLS_CT_CHANGE_CIPHER_SPEC ? 1 : rec.epoch == 1 ? 2 : 0;
            size_t n = DTLS_RECORD_HEADER_LEN + rec.fragment_len;
            if (parts[part].len + n > PEER_DGRAM_MAX)
                return false;
            memcpy(parts[part].b + parts[part].len, rec.header, n);
            parts[part].len += n;
        }
    }
    return parts[0].len > 0 && parts[1].len > 0 && parts[2].len > 0;
}

/* A CoAP GET inside the session, answered? Two tries, as CoAP would. */
static bool app_works(struct peer *p)
{
    static const char get[] = GET_WKC;
    uint8_t msg[64];
    size_t msg_len;
    if (!hex_to_bytes(get, strlen(get), msg, sizeof msg, &msg_len))
        return false;
    for (int attempt = 0; attempt < 2; attempt++) {
        size_t len;
        if (coaps_dtls_write(&p->conn, msg, msg_len, p->scratch.b, PEER_DGRAM_MAX, &len) !=
            COAPS_OK)
            return false;
        send_honest(p, p->scratch.b, len);
        uint64_t end = net_now_ms() + 1000;
        while (net_now_ms() < end) {
            if (!recv_one(p, 50))
                continue;
            sniff(p, &p->rx, false);
            if (coaps_dtls_input(&p->conn, p->rx.b, p->rx.len, net_now_ms()) != COAPS_OK ||
                engine_failed(p))
                return false;
            const uint8_t *d;
            size_t n;
            if (coaps_dtls_read(&p->conn, &d, &n) == COAPS_OK)
                return true;
        }
    }
    note(p, "no answer to GET in the session");
    return false;
}

/* Flight 5 altered: sent, then the window (the server's Finished flight
 * in it means the altered flight completed the handshake at once), then
 * the honest engine goes on (it resends flight 5 whole on its timer). */
static bool altered_flight5(struct peer *p, const struct msg_kind *k, const struct dgram parts[3])
{
    static const int omit_ccs[] = {0, 2, -1}, reorder[] = {2, 1, 0, -1};
    for (const int *i = (k->flags & MSG_OMIT_CCS) ? omit_ccs : reorder; *i >= 0; i++)
        send_honest(p, parts[*i].b, parts[*i].len);
    listen_window(p, true);
    if (p->alert_level == 2 || !pump(p, goal_established))
        return note(p, "handshake did not complete"), false;
    return !p->app_check || app_works(p);
}

/* The honest handshake, with the injection at st. Returns whether the
 * handshake (and, with app_check, a request in the session) completed. */
static bool run_handshake(struct peer *p, const struct msg_kind *k, uint16_t epoch,
                          unsigned count, enum peer_state st)
{
    coaps_peer peer;
    memset(&peer, 0, sizeof peer);
    if (coaps_dtls_conn_init(&p->conn, &p->cfg, &p->hs, &peer, net_now_ms()) != COAPS_OK)
        return false;
    if (st == ST_BEFORE_COOKIE && inject(p, k, epoch, count, st) != COAPS_OK)
        return false;
    take_flight(p);
    send_flight(p);
    if (!pump(p, goal_hvr))
        return note(p, "no HelloVerifyRequest"), false;
    if (st == ST_AFTER_HVR && inject(p, k, epoch, count, st) != COAPS_OK)
        return false;
    take_flight(p);
    send_flight(p);
    if (!pump(p, goal_flight4))
        return note(p, "no ServerHelloDone"), false;
    if (st == ST_AFTER_FLIGHT4 && inject(p, k, epoch, count, st) != COAPS_OK)
        return false;
    take_flight(p);
    struct dgram parts[3];
    if (!cut_flight5(p, parts))
        return note(p, "flight 5 not as expected"), false;
    if (k->flags & (MSG_OMIT_CCS | MSG_REORDER))
        return altered_flight5(p, k, parts);
    send_honest(p, parts[0].b, parts[0].len);
    if (st == ST_AFTER_CKE && inject(p, k, epoch, count, st) != COAPS_OK)
        return false;
    send_honest(p, parts[1].b, parts[1].len);
    if (st == ST_AFTER_CCS && inject(p, k, epoch, count, st) != COAPS_OK)
        return false;
    send_honest(p, parts[2].b, parts[2].len);
    if (!pump(p, goal_established))
        return note(p, "handshake did not complete"), false;
    if (st == ST_ESTABLISHED && inject(p, k, epoch, count, st) != COAPS_OK)
        return false;
    return !p->app_check || app_works(p);
}

static void reaction(const struct peer *p, bool completed, char *out, size_t cap)
{
    if (p->alert_level >= 0)
        snprintf(out, cap, "%s:%s", p->alert_level == 1 ? "warning" : "fatal",
                 coaps_dtls_alert_name(p->alert_desc));
    else if (!completed)
        snprintf(out, cap, "ended");
    else
        snprintf(out, cap, "%s", p->answered ? "answered" : "silent");
}

static bool client_case(struct peer *p, enum peer_state st, const struct msg_kind *k,
                        uint16_t epoch, unsigned count, bool *completed);

static bool run_case(struct peer *p, enum peer_state st, const struct msg_kind *k,
                     uint16_t epoch, unsigned count, char *out, size_t cap)
{
    if (p->held_n >= PEER_HELD_FDS)
        close(p->held_fds[p->held_n % PEER_HELD_FDS]);
    p->answered = false;
    p->alert_level = p->alert_desc = -1;
    p->detail[0] = '\0';
    p->last.len = 0;
    bool completed = false;
    if (role_client) {
        if (!client_case(p, st, k, epoch, count, &completed))
            return false;
    } else {
        p->fd = open_connected(p->host, p->port);
        if (p->fd < 0)
            return false;
        completed = run_handshake(p, k, epoch, count, st);
    }
    reaction(p, completed, out, cap);
    /* leave the server nothing half-open to keep: close_notify */
    if (coaps_dtls_state(&p->conn) == COAPS_DTLS_ESTABLISHED &&
        coaps_dtls_close(&p->conn) == COAPS_OK) {
        size_t len;
        while (coaps_dtls_output(&p->conn, p->scratch.b, PEER_DGRAM_MAX, &len, net_now_ms()) ==
               COAPS_OK)
            send_raw(p, p->scratch.b, len);
    }
    coaps_dtls_conn_clear(&p->conn);
    /* The socket stays open: were its port reused by a later case, the
     * server's state for this case (a handshake it still retransmits)
     * would answer that case. */
    p->held_fds[p->held_n++ % PEER_HELD_FDS] = p->fd;
    return true;
}


/* ---- the client role: the peer is the server, coaps-client the client ---------- */

extern char **environ;

static coaps_status psk_any(void *user, const uint8_t *identity, size_t identity_len,
                            uint8_t *key, size_t key_cap, size_t *key_len)
{
    const char *k = user;
    (void)identity;
    (void)identity_len;
    size_t n = strlen(k);
    ENSURE(n <= key_cap, COAPS_E_NOSPACE);
    memcpy(key, k, n);
    *key_len = n;
    return COAPS_OK;
}

/* Whether the client process has exited (its status then in exit_status). */
static bool client_exited(struct peer *p)
{
    if (p->exit_status >= 0)
        return true;
    int ws;
    if (waitpid(p->pid, &ws, WNOHANG) != p->pid)
        return false;
    p->exit_status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    return true;
}

static bool spawn_client(struct peer *p, uint16_t port)
{
    char uri[64];
    snprintf(uri, sizeof uri, "coaps://127.0.0.1:%u/conformance", (unsigned)port);
    char opt_b[] = "-B", opt_b_val[] = "8", opt_k[] = "-k", opt_u[] = "-u";
    char *argv[] = {(char *)p->client_bin, opt_b, opt_b_val, opt_k, (char *)p->key, opt_u,
                    (char *)p->identity, uri, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawn(&p->pid, p->client_bin, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    p->exit_status = -1;
    return rc == 0;
}

/* The client's first datagram: learn its address and connect to it, so
 * that the rest of the peer sends and receives as in the server role. */
static bool recv_first(struct peer *p, struct sockaddr_in *from)
{
    uint64_t end = net_now_ms() + PEER_STEP_MS;
    while (net_now_ms() < end) {
        struct pollfd pfd = {p->fd, POLLIN, 0};
        if (poll(&pfd, 1, 50) <= 0)
            continue;
        socklen_t fl = sizeof *from;
        ssize_t got = recvfrom(p->fd, p->rx.b, sizeof p->rx.b, 0, (struct sockaddr *)from, &fl);
        if (got <= 0)
            continue;
        p->rx.len = (size_t)got;
        return connect(p->fd, (const struct sockaddr *)from, fl) == 0;
    }
    return false;
}

/* Front door until the ClientHello with a valid cookie is in p->rx. */
static bool front_door(struct peer *p, const coaps_peer *cp, bool have_dgram)
{
    uint64_t end = net_now_ms() + PEER_STEP_MS;
    while (net_now_ms() < end) {
        if (!have_dgram && !recv_one(p, 50))
            continue;
        have_dgram = false;
        sniff(p, &p->rx, false);
        enum coaps_dtls_accept v;
        size_t len;
        if (coaps_dtls_server_accept(&p->srv, cp, p->rx.b, p->rx.len, net_now_ms(), p->scratch.b,
                                     PEER_DGRAM_MAX, &len, &v) != COAPS_OK)
            continue;
        if (v == COAPS_DTLS_ACCEPT_NEW)
            return true;
        if (v == COAPS_DTLS_ACCEPT_SEND)
            send_honest(p, p->scratch.b, len);
    }
    return false;
}

/* Cut p->flight after its first record (split_first) or at the
 * ChangeCipherSpec: parts[0] before, parts[1] the rest. */
static bool cut_two(struct peer *p, struct dgram parts[2], bool split_first)
{
    parts[0].len = parts[1].len = 0;
    int part = 0;
    for (size_t i = 0; i < p->flight_n; i++) {
        struct wire_rd rd = wire_rd_init(p->flight[i].b, p->flight[i].len);
        struct dtls_record rec;
        while (wire_rd_left(&rd) > 0 && dtls_record_next(&rd, &rec) == COAPS_OK) {
            size_t n = DTLS_RECORD_HEADER_LEN + rec.fragment_len;
            if (!split_first && rec.epoch == 1)
                part = 1;
            if (parts[part].len + n > PEER_DGRAM_MAX)
                return false;
            memcpy(parts[part].b + parts[part].len, rec.header, n);
            parts[part].len += n;
            if (split_first)
                part = 1;
        }
    }
    return parts[0].len > 0 && parts[1].len > 0;
}

/* The client's request in the session; answered with a 2.05 ACK. */
static bool serve_request(struct peer *p, enum peer_state st, const struct msg_kind *k,
                          uint16_t epoch, unsigned count)
{
    uint64_t end = net_now_ms() + PEER_STEP_MS;
    uint8_t req[64];
    size_t req_len = 0;
    while (req_len == 0) {
        if (engine_failed(p) || net_now_ms() >= end)
            return note(p, "no request in the session"), false;
        if (!recv_one(p, 50)) {
            /* only once nothing is left to read: its last datagram may
             * be the alert it ended with */
            if (client_exited(p))
                return note(p, "no request in the session"), false;
            continue;
        }
        sniff(p, &p->rx, false);
        (void)coaps_dtls_input(&p->conn, p->rx.b, p->rx.len, net_now_ms());
        const uint8_t *d;
        size_t n;
        if (coaps_dtls_read(&p->conn, &d, &n) == COAPS_OK && n >= 4 && n <= sizeof req) {
            memcpy(req, d, n);
            req_len = n;
        }
    }
    if (st == CS_ESTABLISHED && inject(p, k, epoch, count, st) != COAPS_OK)
        return false;
    size_t tkl = req[0] & 0x0f;
    uint8_t resp[32] = {(uint8_t)(0x60 | tkl), 0x45, req[2], req[3]};
    if (tkl > 8 || 4 + tkl > req_len)
        return note(p, "malformed request"), false;
    memcpy(resp + 4, req + 4, tkl);
    memcpy(resp + 4 + tkl, "\xffok", 3);
    size_t len;
    if (coaps_dtls_write(&p->conn, resp, 7 + tkl, p->scratch.b, PEER_DGRAM_MAX, &len) != COAPS_OK)
        return note(p, "session gone before the response"), false;
    send_honest(p, p->scratch.b, len);
    return true;
}

/* Until the client process ends (answering its retransmissions). */
static void await_client(struct peer *p)
{
    uint64_t end = net_now_ms() + PEER_STEP_MS;
    while (!client_exited(p) && net_now_ms() < end) {
        size_t len;
        while (coaps_dtls_output(&p->conn, p->scratch.b, PEER_DGRAM_MAX, &len, net_now_ms()) ==
               COAPS_OK)
            send_raw(p, p->scratch.b, len);
        if (recv_one(p, 20)) {
            sniff(p, &p->rx, false);
            (void)coaps_dtls_input(&p->conn, p->rx.b, p->rx.len, net_now_ms());
        }
        (void)coaps_dtls_tick(&p->conn, net_now_ms());
    }
    while (recv_one(p, 0)) { /* what it sent before it went: an alert? */
        sniff(p, &p->rx, false);
        (void)coaps_dtls_input(&p->conn, p->rx.b, p->rx.len, net_now_ms());
    }
    (void)engine_failed(p);
}

static bool run_client_role(struct peer *p, const struct msg_kind *k, uint16_t epoch,
                            unsigned count, enum peer_state st)
{
    struct sockaddr_in from;
    if (!recv_first(p, &from))
        return note(p, "no ClientHello"), false;
    coaps_peer cp;
    memset(&cp, 0, sizeof cp);
    static struct dgram first; /* the window below may overwrite p->rx */
    first = p->rx;
    if (st == CS_AFTER_CH && inject(p, k, epoch, count, st) != COAPS_OK)
        return false;
    p->rx = first;
    if (!front_door(p, &cp, true))
        return note(p, "no ClientHello with a cookie"), false;
    if (coaps_dtls_conn_init(&p->conn, &p->cfg, &p->hs, &cp, net_now_ms()) != COAPS_OK)
        return false;
    (void)coaps_dtls_input(&p->conn, p->rx.b, p->rx.len, net_now_ms());
    if (st == CS_AFTER_CH2 && inject(p, k, epoch, count, st) != COAPS_OK)
        return false;
    take_flight(p);
    struct dgram parts[2];
    if (!cut_two(p, parts, true))
        return note(p, "flight 4 not as expected"), false;
    send_honest(p, parts[0].b, parts[0].len);
    if (st == CS_IN_FLIGHT4 && inject(p, k, epoch, count, st) != COAPS_OK)
        return false;
    send_honest(p, parts[1].b, parts[1].len);
    if (!pump(p, goal_established))
        return note(p, "handshake did not complete"), false;
    take_flight(p);
    if (!cut_two(p, parts, false))
        return note(p, "flight 6 not as expected"), false;
    if (st == CS_WAIT_CCS && inject(p, k, epoch, count, st) != COAPS_OK)
        return false;
    send_honest(p, parts[0].b, parts[0].len);
    if (st == CS_WAIT_FINISHED && inject(p, k, epoch, count, st) != COAPS_OK)
        return false;
    send_honest(p, parts[1].b, parts[1].len);
    if (!serve_request(p, st, k, epoch, count))
        return false;
    await_client(p);
    if (p->exit_status != 0) {
        char what[48];
        snprintf(what, sizeof what, "coaps-client exit %d", p->exit_status);
        note(p, what);
    }
    return p->exit_status == 0;
}

/* One client-role case: a bound socket, coaps-client started against it. */
static bool client_case(struct peer *p, enum peer_state st, const struct msg_kind *k,
                        uint16_t epoch, unsigned count, bool *completed)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (p->fd < 0 || bind(p->fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(p->fd, (struct sockaddr *)&a, &al) != 0 || !spawn_client(p, ntohs(a.sin_port)))
        return false;
    *completed = run_client_role(p, k, epoch, count, st);
    if (!client_exited(p)) {
        kill(p->pid, SIGKILL);
        (void)waitpid(p->pid, NULL, 0);
    }
    return true;
}

/* ---- the catalogue -------------------------------------------------------------- */

struct cat_line {
    enum peer_state st;
    const struct msg_kind *k;
    unsigned count;
    int epoch; /* -1: "-" (repeat_last) */
    char expected[48];
    char msg[48];
};

static bool parse_line(char *line, struct cat_line *cl)
{
    char st[32], ep[8];
    if (sscanf(line, "%31s %47s %7s %47s", st, cl->msg, ep, cl->expected) != 4)
        return false;
    cl->st = ST_COUNT;
    for (int i = 0; i < ST_COUNT; i++)
        if (strcmp(st, state_names[i]) == 0)
            cl->st = (enum peer_state)i;
    char name[48];
    snprintf(name, sizeof name, "%s", cl->msg);
    cl->count = 1;
    char *star = strchr(name, '*');
    if (star) {
        *star = '\0';
        uint64_t n;
        if (!cli_parse_uint(star + 1, 1, PEER_REPEAT_MAX, &n))
            return false;
        cl->count = (unsigned)n;
    }
    cl->k = NULL;
    for (size_t i = 0; i < MSG_KIND_COUNT; i++)
        if (strcmp(name, msg_kinds[i].name) == 0)
            cl->k = &msg_kinds[i];
    cl->epoch = strcmp(ep, "-") == 0 ? -1 : strcmp(ep, "0") == 0 ? 0 : strcmp(ep, "1") == 0 ? 1 : -2;
    if (cl->k && role_client && (cl->k->flags & (MSG_OMIT_CCS | MSG_REORDER)))
        return false; /* they alter the client's flight 5 */
    return cl->st != ST_COUNT && cl->k != NULL && cl->epoch >= -1;
}

/* Markdown: a table per epoch, messages down, states across, then the
 * attack cases as a list. */
static int print_markdown(FILE *f)
{
    static struct cat_line lines[512];
    size_t n = 0;
    char line[PEER_LINE_MAX];
    int lineno = 0, untested = 0;
    while (fgets(line, sizeof line, f) && n < sizeof lines / sizeof lines[0]) {
        lineno++;
        if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0')
            continue;
        if (!parse_line(line, &lines[n])) {
            fprintf(stderr, "dtls-peer: catalogue line %d: bad case\n", lineno);
            return 2;
        }
        n++;
    }
    for (int epoch = 0; epoch <= 1; epoch++) {
        printf("\n**Epoch %d**\n\n| message |", epoch);
        for (int s = 0; s < ST_COUNT; s++)
            printf(" %s |", state_names[s]);
        printf("\n| --- |");
        for (int s = 0; s < ST_COUNT; s++)
            printf(" --- |");
        printf("\n");
        for (size_t m = 0; m < MSG_KIND_COUNT; m++) {
            if (msg_kinds[m].flags & MSG_ATTACK)
                continue;
            printf("| %s |", msg_kinds[m].name);
            for (int s = 0; s < ST_COUNT; s++) {
                const char *cell = "**untested**";
                untested++;
                for (size_t i = 0; i < n; i++)
                    if (lines[i].st == (enum peer_state)s && lines[i].k == &msg_kinds[m] &&
                        lines[i].count == 1 && lines[i].epoch == epoch) {
                        cell = lines[i].expected;
                        untested--;
                        break;
                    }
                printf(" %s |", cell);
            }
            printf("\n");
        }
    }
    printf("\n**Attack cases**\n\n| state | sent | epoch | reaction |\n| --- | --- | --- | --- |\n");
    for (size_t i = 0; i < n; i++)
        if ((lines[i].k->flags & MSG_ATTACK) || lines[i].count > 1)
            printf("| %s | %s | %s | %s |\n", state_names[lines[i].st], lines[i].msg,
                   lines[i].epoch < 0 ? "-" : lines[i].epoch ? "1" : "0", lines[i].expected);
    if (untested > 0) /* the matrix must have no hole */
        fprintf(stderr, "dtls-peer: %d pairs of the matrix untested\n", untested);
    return untested > 0 ? 1 : 0;
}

static int run_catalogue(struct peer *p, FILE *f, bool record, const char *filter)
{
    char line[PEER_LINE_MAX];
    int lineno = 0, mismatches = 0, cases = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0') {
            if (record)
                fputs(line, stdout);
            continue;
        }
        struct cat_line cl;
        if (!parse_line(line, &cl)) {
            fprintf(stderr, "dtls-peer: catalogue line %d: bad case\n", lineno);
            return 2;
        }
        if (filter && !strstr(line, filter))
            continue;
        char actual[64];
        if (!run_case(p, cl.st, cl.k, cl.epoch < 0 ? 0 : (uint16_t)cl.epoch, cl.count, actual,
                      sizeof actual)) {
            fprintf(stderr, "dtls-peer: cannot reach %s port %s\n", p->host, p->port);
            return 2;
        }
        cases++;
        const char *ep = cl.epoch < 0 ? "-" : cl.epoch ? "1" : "0";
        if (record) {
            printf("%-14s %-26s %s %s\n", state_names[cl.st], cl.msg, ep, actual);
        } else {
            bool ok = strcmp(actual, cl.expected) == 0;
            mismatches += !ok;
            printf("%-14s %-26s %s %-28s %-28s%s%s%s\n", state_names[cl.st], cl.msg, ep,
                   cl.expected, actual, ok ? "" : " MISMATCH", p->detail[0] ? " # " : "",
                   p->detail);
        }
        fflush(stdout);
    }
    if (!record)
        printf("dtls-peer: %d cases, %d mismatches\n", cases, mismatches);
    return mismatches ? 1 : 0;
}

int main(int argc, char **argv)
{
    static struct peer p;
    p.key = "esp32c3_key";
    p.identity = "dtls-peer";
    p.window_ms = 300;
    p.app_check = true;
    const char *catalogue = NULL, *filter = NULL, *netns = NULL;
    bool record = false, markdown = false;
    uint64_t v;
    int opt;
    p.raw_fd = -1;
    bool spoof = false;
    while ((opt = getopt(argc, argv, "k:u:w:Arf:c:MR:C:SN:")) != -1) {
        switch (opt) {
        case 'k': p.key = optarg; break;
        case 'u': p.identity = optarg; break;
        case 'w':
            if (!cli_parse_uint(optarg, 10, 10000, &v)) {
                fprintf(stderr, USAGE);
                return 2;
            }
            p.window_ms = (uint32_t)v;
            break;
        case 'A': p.app_check = false; break;
        case 'r': record = true; break;
        case 'f': filter = optarg; break;
        case 'c': catalogue = optarg; break;
        case 'M': markdown = true; break;
        case 'R':
            if (strcmp(optarg, "client") != 0 && strcmp(optarg, "server") != 0) {
                fprintf(stderr, USAGE);
                return 2;
            }
            role_client = strcmp(optarg, "client") == 0;
            break;
        case 'C': p.client_bin = optarg; break;
        case 'S': spoof = true; break;
        case 'N': netns = optarg; break;
        default: fprintf(stderr, USAGE); return 2;
        }
    }
    if (role_client) {
        state_names = client_state_names;
        state_next_seq = client_next_seq;
    }
    if (catalogue == NULL || (!markdown && !role_client && argc - optind != 2) ||
        (!markdown && role_client && (argc != optind || p.client_bin == NULL)) || strlen(p.key) == 0 ||
        strlen(p.key) > COAPS_DTLS_PSK_KEY_MAX || strlen(p.identity) > COAPS_DTLS_PSK_IDENTITY_MAX ||
        (netns != NULL && !spoof)) {
        fprintf(stderr, USAGE);
        return 2;
    }
    if (netns != NULL && access(netns, R_OK) != 0) {
        fprintf(stderr, "dtls-peer: -N %s: %s\n", netns, strerror(errno));
        return 2;
    }
    if (spoof && (p.raw_fd = open_raw(netns)) < 0) {
        fprintf(stderr, "dtls-peer: -S needs a raw socket (CAP_NET_RAW%s): %s\n",
                netns ? ", and CAP_SYS_ADMIN for -N" : "", strerror(errno));
        return 77;
    }
    FILE *f = fopen(catalogue, "r");
    if (f == NULL) {
        fprintf(stderr, "dtls-peer: %s: %s\n", catalogue, strerror(errno));
        return 2;
    }
    int rc;
    if (markdown) {
        rc = print_markdown(f);
    } else {
        if (role_client) {
            static const char hint[] = "CoAP";
            p.host = "127.0.0.1";
            p.port = "(ours)";
            p.cfg.role = COAPS_DTLS_SERVER;
            p.cfg.psk_lookup = psk_any;
            p.cfg.psk_user = (void *)p.key;
            p.cfg.psk_hint = (const uint8_t *)hint;
            p.cfg.psk_hint_len = strlen(hint);
            if (coaps_dtls_server_init(&p.srv, &p.cfg, net_now_ms()) != COAPS_OK) {
                fprintf(stderr, "dtls-peer: cannot set up the server side\n");
                fclose(f);
                return 2;
            }
        } else {
            p.host = argv[optind];
            p.port = argv[optind + 1];
            p.cfg.role = COAPS_DTLS_CLIENT;
            p.cfg.psk_identity = (const uint8_t *)p.identity;
            p.cfg.psk_identity_len = strlen(p.identity);
            p.cfg.psk_key = (const uint8_t *)p.key;
            p.cfg.psk_key_len = strlen(p.key);
        }
        rc = run_catalogue(&p, f, record, filter);
    }
    fclose(f);
    return rc;
}
