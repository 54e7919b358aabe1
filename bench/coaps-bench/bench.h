/*
 * bench.h - coaps-bench, a CoAP / CoAP-over-DTLS load generator.
 *
 * One process, one epoll loop, many sessions. A session is one connected
 * UDP socket (so the server sees one source port per session) and, for
 * coaps://, one DTLS client connection of our engine (coaps/dtls.h).
 * Requests are CON GETs built and parsed with our codec (coaps/coap.h);
 * the endpoint machinery is not used, so the client side costs as little as
 * possible and the server is what gets measured.
 *
 * Modes (see bench/README.md):
 *   requests    S sessions, W outstanding CON GETs each, for D seconds
 *   handshakes  S concurrent slots that each loop over: fresh socket, full
 *               DTLS handshake, one CON GET, close_notify
 *   idle        S sessions established (one GET each), then held open for
 *               D seconds, to read the server's memory per session
 * Handshakes are PSK (RFC 4279) by default, ECDHE_ECDSA (RFC 8422) with an
 * ECDHE --suite and the server's CA (--ca) or raw public key (--rpk-trust).
 */
#ifndef COAPS_BENCH_H
#define COAPS_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "coaps/coap.h"
#include "coaps/dtls.h"

#define BENCH_PROG "coaps-bench"

/* ---- bounds ---------------------------------------------------------- */

/* Sessions of one run: each is a socket and a source port. One source
 * address has Linux's default ephemeral port range (32768-60999, 28232
 * ports); past 20000 sessions spread them over --source-addrs addresses
 * (127.0.0.2, .3, ...: all of 127.0.0.0/8 is loopback) to reach the
 * 100,000 idle sessions the memory figure is measured at. */
#define BENCH_SESSIONS_MAX 100000
/* Source addresses of --source-addrs N --source-first K: 127.0.0.K ..
 * 127.0.0.(K + N - 1), within 127.0.0.2-254. A process whose descriptor
 * limit is below its sessions (an unprivileged one: 20,000 here) runs
 * beside others, each with its own first address. */
#define BENCH_SOURCE_ADDRS_MAX 253
/* Outstanding requests per session. The slot index travels in 16 bits of
 * the token; 256 is far more than any CoAP client keeps in flight
 * (RFC 7252 4.7 NSTART is 1). */
#define BENCH_WINDOW_MAX 256
/* Outstanding requests of a run (sessions x window): each slot keeps its
 * datagram for retransmission (about 360 bytes), so 2^20 slots is 360 MiB,
 * the most a load generator on a small machine should take. */
#define BENCH_SLOTS_MAX (1u << 20)
/* Longest run: an hour; a benchmark longer than that is a soak test. */
#define BENCH_DURATION_MAX_S 3600
/* --path: bytes and '/'-separated segments (Uri-Path options). */
#define BENCH_PATH_MAX 255
#define BENCH_PATH_SEGMENTS_MAX 16
/* Largest CON GET we build: 4-byte header + 8-byte token + path bytes +
 * up to 3 bytes of option header per segment (RFC 7252 3.1). */
#define BENCH_PDU_MAX (4 + 8 + BENCH_PATH_MAX + 3 * BENCH_PATH_SEGMENTS_MAX)
/* Datagrams we send or receive: an Ethernet MTU; our DTLS MTU is 1200. */
#define BENCH_DGRAM_MAX 1500
/* Token: 2 bytes of slot index + 4 bytes of generation, unique per session
 * for 2^32 requests per slot. */
#define BENCH_TOKEN_LEN 6

/* ---- timers ----------------------------------------------------------- */

/* Default first retransmission timeout of a CON. RFC 7252 4.8 says 2 s for
 * the Internet; on loopback an answer takes microseconds, and a second is
 * still far above any queueing delay a loaded server shows. */
#define BENCH_ACK_TIMEOUT_MS 1000
/* Retransmissions of one CON before it counts as a timeout ("a few";
 * RFC 7252 4.8 MAX_RETRANSMIT is 4). The wait doubles each time. */
#define BENCH_MAX_RETRANSMIT 3
/* Period of the timer scan over all sessions (retransmissions, DTLS
 * flights). Small against the 1 s timeouts, large against a loop turn. */
#define BENCH_TICK_MS 5
/* A DTLS handshake that has not completed after this long fails. */
#define BENCH_HANDSHAKE_TIMEOUT_MS 10000
/* Setting up the sessions of requests/idle may take at most this long. */
#define BENCH_SETUP_TIMEOUT_MS 60000
/* Handshakes in flight while setting up requests/idle sessions. libcoap's
 * server keeps at most 100 sessions in handshake (its default
 * max_handshake_sessions); 16 stays far below that. */
#define BENCH_SETUP_INFLIGHT 16

/* ---- options ---------------------------------------------------------- */

enum bench_mode { BENCH_REQUESTS = 0, BENCH_HANDSHAKES = 1, BENCH_IDLE = 2 };
enum bench_scheme { BENCH_COAP = 0, BENCH_COAPS = 1 };

struct bench_opts {
    enum bench_mode mode;
    enum bench_scheme scheme;
    const char *host;
    uint16_t port; /* 0: 5683 for coap, 5684 for coaps (RFC 7252 6.1, 6.2) */
    uint32_t sessions;
    uint32_t window;
    uint32_t duration_s;
    uint32_t ack_timeout_ms;
    const char *path;
    const char *psk_identity;
    const char *psk_key;
    uint16_t suite;
    /* ECDHE_ECDSA suites: how the server is authenticated, --ca (X.509
     * chain to a trusted CA) or --rpk-trust (pinned raw public key,
     * RFC 7250); PSK suites use psk_identity/psk_key instead. */
    coaps_dtls_pki_files pki;
    bool pki_given;
    bool ecdhe; /* the suite is ECDHE_ECDSA (set by bench_opts_parse) */
    bool json;
    bool gso;       /* UDP_SEGMENT sends and UDP_GRO receives (default on) */
    /* --fleet: the load of a device fleet, each session one CoAP client
     * at NSTART = 1 (RFC 7252 4.7): window 1, no GSO/GRO, so every request
     * is one datagram in one system call, as a device sends it. */
    bool fleet;
    /* --cid LEN: coaps:// sessions offer a Connection ID (RFC 9146) and ask
     * the server to send LEN bytes of it in every record to us (0: the
     * server sends plain records, we send with its CID). */
    bool cid;
    uint8_t cid_len;
    /* --resume: coaps:// sessions after the first resume the last session
     * made (RFC 5246 7.3, abbreviated handshake): handshakes mode then
     * measures resumptions. */
    bool resume;
    bool tickets; /* --tickets: ask for (and resume with) RFC 5077 tickets */
    /* --ignore-icmp: ECONNREFUSED (ICMP port unreachable: nothing bound
     * there, e.g. a server between two processes) is counted, the session
     * kept; its requests are retransmitted as for a lost datagram */
    bool ignore_icmp;
    /* --source-addrs N: session i binds to 127.0.0.(K + i % N) before it
     * connects, K = --source-first (default 2); 0: the kernel picks the
     * source address */
    uint32_t source_addrs;
    uint32_t source_first;
    int server_pid; /* 0: no server sampling */
};

/* Parse argv into *o. Returns 0 to run, 1 when help was printed, 2 after
 * printing one line naming a bad flag. */
int bench_opts_parse(int argc, char **argv, struct bench_opts *o);

/* ---- latency histogram ------------------------------------------------ */

/* Log-linear buckets: values below 32 us exactly, above that 32 buckets per
 * power of two (at most 3.2 % relative error); up to 2^27 us (134 s), more
 * than any request can wait before it times out. */
#define BENCH_HIST_SUB_BITS 5
#define BENCH_HIST_TOP_BIT 27
#define BENCH_HIST_BUCKETS ((BENCH_HIST_TOP_BIT - BENCH_HIST_SUB_BITS + 1) << BENCH_HIST_SUB_BITS)

struct bench_hist {
    uint64_t count;
    uint64_t buckets[BENCH_HIST_BUCKETS];
};

void bench_hist_add(struct bench_hist *h, uint64_t us);
/* The value at quantile q (0 < q <= 1), as the middle of its bucket; 0
 * when empty. */
uint64_t bench_hist_quantile(const struct bench_hist *h, double q);

/* ---- server process sampling (/proc) ---------------------------------- */

struct bench_proc_sample {
    bool ok;
    uint64_t cpu_us; /* utime + stime of /proc/PID/stat, in microseconds */
    uint64_t sys_us; /* stime alone: the kernel's part of cpu_us */
    uint64_t rss_kb; /* VmRSS of /proc/PID/status */
};

/* Read the process's CPU time and resident set; s->ok false when the
 * process is gone or /proc is unreadable. */
void bench_proc_sample(int pid, struct bench_proc_sample *s);

/* ---- results ------------------------------------------------------------ */

struct bench_result {
    uint64_t completed;   /* requests (requests/idle) or handshakes */
    uint64_t setup_ok;    /* sessions established before the measurement */
    uint64_t setup_failed;
    uint64_t failures;    /* handshakes mode: handshakes that did not finish */
    uint64_t timeouts;    /* CONs given up after the retransmissions */
    uint64_t retransmits;
    uint64_t errors;      /* wrong code/token, RST, malformed, socket errors */
    uint64_t stray;       /* responses matching no outstanding request */
    uint64_t elapsed_us;  /* length of the measured window */
    /* UDP payload bytes and datagrams sent and received in the measured
     * window (DTLS records included: what a radio would carry above UDP) */
    uint64_t tx_bytes, rx_bytes, tx_dgrams, rx_dgrams;
    uint64_t cid_sessions; /* sessions that negotiated a Connection ID */
    uint64_t resumed;      /* sessions established by an abbreviated handshake */
    uint64_t client_cpu_us;
    struct bench_proc_sample srv_before, srv_after;
    struct bench_hist hist;
    char first_error[160];
};

/* Run the benchmark described by o; fills *r. Returns 0 when it ran (even
 * with errors), non-zero after printing a one-line reason when it could not
 * (bad address, no session could be set up). */
int bench_run(const struct bench_opts *o, struct bench_result *r);

/* Print the result as one JSON line (o->json) or as text, on stdout. */
void bench_report(const struct bench_opts *o, const struct bench_result *r);

#endif /* COAPS_BENCH_H */
