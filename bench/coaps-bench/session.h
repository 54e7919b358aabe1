/*
 * session.h - one benchmark session (socket + optional DTLS connection +
 * window of outstanding CON GETs) and the context the event loop shares
 * with it. Internal to coaps-bench.
 */
#ifndef COAPS_BENCH_SESSION_H
#define COAPS_BENCH_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "bench.h"
#include "net/udp.h"

/* Datagrams moved per recvmmsg / sendmmsg call: a window's worth of
 * responses for the usual windows, and enough to make the system call
 * cost per datagram small against the server's work (the client shares
 * the machine). */
#define BENCH_BATCH 16
_Static_assert(BENCH_BATCH <= NET_UDP_BATCH, "one batch is one net_udp call");

/* One outstanding CON GET (RFC 7252 4.2). */
struct bench_req {
    bool busy;
    bool acked;      /* empty ACK seen: a separate response follows */
    uint8_t retries; /* retransmissions so far */
    uint16_t mid;
    uint32_t gen;    /* token = slot index + gen */
    uint32_t rto_ms; /* current retransmission timeout */
    uint64_t start_us;    /* first transmission: latency is measured from it */
    uint64_t deadline_us; /* next retransmission, or give-up time once acked */
    size_t pdu_len;
    uint8_t pdu[BENCH_PDU_MAX]; /* kept to retransmit the same MID and token */
};

enum bench_sess_state {
    SESS_CLOSED = 0,
    SESS_HANDSHAKING, /* coaps: DTLS handshake running */
    SESS_SETUP_GET,   /* idle/handshakes: the one GET before counting */
    SESS_READY,       /* requests: may carry requests */
};

struct bench_session {
    coaps_dtls_conn conn; /* first: keeps its 8-byte alignment */
    coaps_dtls_hs *hs;    /* handshake context while one runs, else NULL */
    struct bench_req *reqs; /* the window: o->window slots */
    int fd;
    uint32_t epoch;     /* bumped by every open: detects a session reopened under us */
    enum bench_sess_state state;
    bool conn_live;     /* conn is initialised (coaps) */
    uint32_t busy;      /* slots in use */
    uint64_t timer_us;  /* no request deadline is earlier than this */
    uint16_t next_mid;
    uint32_t next_gen;
    uint64_t started_us; /* socket opened (handshakes mode latency) */
};

struct bench_ctx {
    const struct bench_opts *o;
    struct bench_result *r;
    int epfd;
    struct sockaddr_storage server;
    socklen_t server_len;
    coaps_peer peer;
    coaps_dtls_config dtls;
    coaps_dtls_pki *pki; /* ECDHE_ECDSA: the trusted CA or pinned keys */
    coaps_dtls_session resume; /* --resume: the last session made */
    uint16_t suites[1];
    /* --path split into Uri-Path segments (RFC 7252 6.4 step 8) */
    char path_buf[BENCH_PATH_MAX + 1];
    const char *segs[BENCH_PATH_SEGMENTS_MAX];
    size_t seg_len[BENCH_PATH_SEGMENTS_MAX];
    size_t nsegs;
    struct bench_session *sessions;
    uint32_t opened;    /* sessions opened so far during set-up */
    uint32_t in_setup;  /* sessions between open and ready/established */
    bool counting;      /* errors, timeouts and failures count */
    bool measuring;     /* completions count */
    bool issuing;       /* start new requests/handshakes after a completion */
    uint64_t now_us;
    /* buffers of one recvmmsg call (64 KiB each, for GRO) */
    struct net_rx_dgram rx[BENCH_BATCH];
    /* datagrams of one session (tx_owner) waiting for one sendmmsg call;
     * connected socket: no address */
    struct net_dgram tx[BENCH_BATCH];
    size_t tx_count;
    struct bench_session *tx_owner;
};

uint64_t bench_now_us(void);

/* Open s: a socket connected to the server (a new source port), and for
 * coaps a DTLS client connection whose ClientHello is sent at once.
 * False (and the reason recorded) when the socket cannot be made. */
bool sess_open(struct bench_ctx *c, struct bench_session *s);
/* Send close_notify (coaps), close the socket, forget every request. */
void sess_close(struct bench_ctx *c, struct bench_session *s);
/* Send the datagrams batched for one session (sendmmsg). Every entry point
 * below leaves the batch empty when it returns; sess_issue alone batches. */
void sess_flush(struct bench_ctx *c);
/* Start a CON GET in slot idx. */
void sess_issue(struct bench_ctx *c, struct bench_session *s, uint32_t idx);
/* Fill every free slot of the window. */
void sess_fill_window(struct bench_ctx *c, struct bench_session *s);
/* Read every datagram waiting on the socket and act on it. */
void sess_on_readable(struct bench_ctx *c, struct bench_session *s);
/* Run timers: DTLS flights, CON retransmissions and timeouts. */
void sess_on_timer(struct bench_ctx *c, struct bench_session *s);

/* Record the first error seen (for stderr) and count it. */
void bench_note_error(struct bench_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* COAPS_BENCH_SESSION_H */
