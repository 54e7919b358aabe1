/*
 * session.c - one benchmark session: its socket, its DTLS connection, its
 * window of CON GETs (RFC 7252 4.2 retransmission, 5.3.2 token matching).
 * What a completed or failed request means for the run (count it, issue the
 * next, close the session) is decided in run.c through the run_on_* hooks.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/wire.h"
#include "run.h"
#include "session.h"

/* After an empty ACK (RFC 7252 5.2.2) the separate response may take a
 * while; give it the time the whole retransmission schedule would take. */
#define SEPARATE_WAIT_FACTOR (2u << BENCH_MAX_RETRANSMIT)

_Static_assert(BENCH_PDU_MAX < BENCH_DGRAM_MAX, "a request fits a datagram buffer");

uint64_t bench_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void bench_note_error(struct bench_ctx *c, const char *fmt, ...)
{
    if (c->r->first_error[0] != '\0')
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->r->first_error, sizeof c->r->first_error, fmt, ap);
    va_end(ap);
}

static bool is_coaps(const struct bench_ctx *c)
{
    return c->o->scheme == BENCH_COAPS;
}

/* UDP may drop: a full socket buffer is a lost datagram that the
 * retransmission covers (RFC 7252 4.2); anything else is an error. */
static void send_failed(struct bench_ctx *c)
{
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
        return;
    if (c->counting)
        c->r->errors++;
    bench_note_error(c, "send: %s", strerror(errno));
}

/* One session's batch: with --gso (the default) a burst of equal-size
 * requests is one UDP_SEGMENT send, one trip through the kernel. */
void sess_flush(struct bench_ctx *c)
{
    size_t count = c->tx_count;
    if (count == 0)
        return;
    bool gso = c->o->gso;
    errno = 0;
    size_t sent = net_udp_send_batch(c->tx_owner->fd, c->tx, count, &gso);
    if (c->measuring) {
        for (size_t i = 0; i < sent; i++)
            c->r->tx_bytes += c->tx[i].len;
        c->r->tx_dgrams += sent;
    }
    if (sent < count)
        send_failed(c); /* lost datagrams: errno says why */
    c->tx_count = 0;
    c->tx_owner = NULL;
}

/* Room for one more datagram of s in the send batch (flushing another
 * session's datagrams, or a full batch, first). */
static uint8_t *tx_slot(struct bench_ctx *c, struct bench_session *s)
{
    if (c->tx_count > 0 && (c->tx_owner != s || c->tx_count == BENCH_BATCH))
        sess_flush(c);
    c->tx_owner = s;
    return c->tx[c->tx_count].data;
}

static void tx_commit(struct bench_ctx *c, size_t len)
{
    c->tx[c->tx_count].addr_len = 0; /* connected socket */
    c->tx[c->tx_count++].len = len;
}

static void flush_dtls(struct bench_ctx *c, struct bench_session *s)
{
    size_t len;
    while (coaps_dtls_output(&s->conn, tx_slot(c, s), BENCH_DGRAM_MAX, &len, c->now_us / 1000) ==
           COAPS_OK)
        tx_commit(c, len);
}

/* A CoAP message goes out as is (coap://) or in one DTLS record. */
static void send_pdu(struct bench_ctx *c, struct bench_session *s, const uint8_t *pdu, size_t len)
{
    uint8_t *out = tx_slot(c, s);
    if (!is_coaps(c)) {
        memcpy(out, pdu, len); /* len <= BENCH_PDU_MAX < BENCH_DGRAM_MAX */
        tx_commit(c, len);
        return;
    }
    size_t out_len;
    coaps_status st = coaps_dtls_write(&s->conn, pdu, len, out, BENCH_DGRAM_MAX, &out_len);
    if (st != COAPS_OK) {
        if (c->counting)
            c->r->errors++;
        bench_note_error(c, "dtls write: %s", coaps_status_str(st));
        return;
    }
    tx_commit(c, out_len);
}

/* --source-addrs: bind s to its source address, 127.0.0.(K + index % N),
 * port 0 (the kernel picks a port free on that address). */
static bool bind_source(struct bench_ctx *c, struct bench_session *s)
{
    if (c->o->source_addrs == 0)
        return true;
    if (c->server.ss_family != AF_INET) {
        bench_note_error(c, "--source-addrs needs an IPv4 server address");
        return false;
    }
    uint32_t i = (uint32_t)(s - c->sessions);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    sin.sin_addr.s_addr = htonl(0x7f000000u + c->o->source_first + i % c->o->source_addrs);
    if (bind(s->fd, (const struct sockaddr *)&sin, sizeof sin) != 0) {
        bench_note_error(c, "bind: %s", strerror(errno));
        return false;
    }
    return true;
}

/* A socket of its own, connected to the server: the kernel picks the source
 * port, and only the server's datagrams reach it. */
static bool open_socket(struct bench_ctx *c, struct bench_session *s)
{
    s->fd = socket(c->server.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0) {
        bench_note_error(c, "socket: %s", strerror(errno));
        return false;
    }
    if (!bind_source(c, s)) {
        close(s->fd);
        s->fd = -1;
        return false;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
    if (connect(s->fd, (const struct sockaddr *)&c->server, c->server_len) != 0 ||
        epoll_ctl(c->epfd, EPOLL_CTL_ADD, s->fd, &ev) != 0) {
        bench_note_error(c, "connect: %s", strerror(errno));
        close(s->fd);
        s->fd = -1;
        return false;
    }
    if (c->o->gso)
        (void)net_udp_enable_gro(s->fd); /* where the kernel has it */
    return true;
}

bool sess_open(struct bench_ctx *c, struct bench_session *s)
{
    s->epoch++;
    if (!open_socket(c, s))
        return false;
    c->now_us = bench_now_us();
    s->started_us = c->now_us;
    s->busy = 0;
    s->timer_us = UINT64_MAX;
    /* RFC 7252 4.4: start the Message IDs anywhere. */
    s->next_mid = (uint16_t)((c->now_us * 2654435761u) >> 16);
    s->next_gen = 0;
    if (!is_coaps(c)) {
        s->state = SESS_SETUP_GET;
        run_on_established(c, s);
        sess_flush(c);
        return true;
    }
    if (s->hs == NULL)
        s->hs = malloc(sizeof *s->hs);
    coaps_status st = s->hs ? coaps_dtls_conn_init(&s->conn, &c->dtls, s->hs, &c->peer,
                                                   c->now_us / 1000)
                            : COAPS_E_NOMEM;
    if (st != COAPS_OK) {
        bench_note_error(c, "dtls init: %s", coaps_status_str(st));
        close(s->fd);
        s->fd = -1;
        return false;
    }
    s->conn_live = true;
    s->state = SESS_HANDSHAKING;
    flush_dtls(c, s);
    sess_flush(c);
    return true;
}

void sess_close(struct bench_ctx *c, struct bench_session *s)
{
    if (s->state == SESS_CLOSED)
        return;
    if (s->conn_live) {
        /* RFC 5246 7.2.1: say goodbye, so the server can free the session
         * now instead of when it times out. */
        if (coaps_dtls_state(&s->conn) == COAPS_DTLS_ESTABLISHED &&
            coaps_dtls_close(&s->conn) == COAPS_OK)
            flush_dtls(c, s);
        coaps_dtls_conn_clear(&s->conn);
        s->conn_live = false;
    }
    if (c->tx_owner == s)
        sess_flush(c); /* before the socket goes */
    /* The handshake context is reused by the next handshake of the slot;
     * requests and idle sessions do not handshake again. */
    if (c->o->mode != BENCH_HANDSHAKES) {
        free(s->hs);
        s->hs = NULL;
    }
    close(s->fd); /* also leaves the epoll set */
    s->fd = -1;
    for (uint32_t i = 0; i < c->o->window; i++)
        s->reqs[i].busy = false;
    s->busy = 0;
    s->state = SESS_CLOSED;
}

void sess_issue(struct bench_ctx *c, struct bench_session *s, uint32_t idx)
{
    struct bench_req *q = &s->reqs[idx];
    uint8_t token[BENCH_TOKEN_LEN];
    struct wire_wr w = wire_wr_init(token, sizeof token);
    q->gen = s->next_gen++;
    q->mid = s->next_mid++;
    (void)wire_wr_u16(&w, (uint16_t)idx);
    (void)wire_wr_u32(&w, q->gen);

    coaps_coap_msg m;
    coaps_coap_msg_init(&m, COAPS_COAP_CON, COAPS_COAP_GET, q->mid);
    coaps_status st = coaps_coap_msg_set_token(&m, token, sizeof token);
    for (size_t i = 0; st == COAPS_OK && i < c->nsegs; i++)
        st = coaps_coap_msg_add_option(&m, COAPS_COAP_OPT_URI_PATH, c->segs[i], c->seg_len[i]);
    if (st == COAPS_OK)
        st = coaps_coap_msg_encode(&m, q->pdu, sizeof q->pdu, &q->pdu_len);
    if (st != COAPS_OK) { /* cannot happen with a path checked by the options */
        bench_note_error(c, "encode: %s", coaps_status_str(st));
        return;
    }
    q->busy = true;
    q->acked = false;
    q->retries = 0;
    q->rto_ms = c->o->ack_timeout_ms;
    q->start_us = c->now_us;
    q->deadline_us = c->now_us + (uint64_t)q->rto_ms * 1000u;
    if (q->deadline_us < s->timer_us)
        s->timer_us = q->deadline_us;
    s->busy++;
    send_pdu(c, s, q->pdu, q->pdu_len);
}

void sess_fill_window(struct bench_ctx *c, struct bench_session *s)
{
    for (uint32_t i = 0; i < c->o->window && s->state == SESS_READY; i++)
        if (!s->reqs[i].busy)
            sess_issue(c, s, i);
    sess_flush(c);
}

static void req_free(struct bench_session *s, uint32_t idx)
{
    s->reqs[idx].busy = false;
    s->busy--;
}

static bool find_by_mid(const struct bench_ctx *c, const struct bench_session *s, uint16_t mid,
                        uint32_t *idx)
{
    for (uint32_t i = 0; i < c->o->window; i++)
        if (s->reqs[i].busy && s->reqs[i].mid == mid) {
            *idx = i;
            return true;
        }
    return false;
}

/* RFC 7252 5.3.2: the token matches a response to its request. Ours names
 * the slot and the generation in it. */
static bool token_matches(const struct bench_ctx *c, const struct bench_session *s,
                          const coaps_coap_msg *m, uint32_t *idx)
{
    if (m->token_len != BENCH_TOKEN_LEN)
        return false;
    struct wire_rd r = wire_rd_init(m->token, m->token_len);
    uint16_t slot;
    uint32_t gen;
    if (wire_rd_u16(&r, &slot) != COAPS_OK || wire_rd_u32(&r, &gen) != COAPS_OK)
        return false;
    if (slot >= c->o->window || !s->reqs[slot].busy || s->reqs[slot].gen != gen)
        return false;
    *idx = slot;
    return true;
}

static void request_failed(struct bench_ctx *c, struct bench_session *s, uint32_t idx,
                           const char *why, unsigned code)
{
    if (c->counting)
        c->r->errors++;
    bench_note_error(c, "%s%s%u.%02u", why, code ? " " : "", code >> 5, code & 0x1f);
    req_free(s, idx);
    run_on_request_failed(c, s, idx, false);
}

static void complete(struct bench_ctx *c, struct bench_session *s, uint32_t idx,
                     const coaps_coap_msg *m)
{
    uint32_t by_token;
    if (!token_matches(c, s, m, &by_token) || by_token != idx) {
        request_failed(c, s, idx, "response with a token we did not send, code ", m->code);
        return;
    }
    if (m->code != COAPS_COAP_CONTENT) {
        request_failed(c, s, idx, "response code", m->code);
        return;
    }
    uint64_t latency = c->now_us - s->reqs[idx].start_us;
    req_free(s, idx);
    run_on_response(c, s, idx, latency);
}

/* RFC 7252 5.2.2: a separate response comes as CON (we ACK it) or NON. */
static void on_separate(struct bench_ctx *c, struct bench_session *s, const coaps_coap_msg *m)
{
    if (m->type == COAPS_COAP_CON) {
        coaps_coap_msg ack;
        uint8_t buf[4];
        size_t len;
        coaps_coap_msg_init(&ack, COAPS_COAP_ACK, COAPS_COAP_EMPTY, m->mid);
        if (coaps_coap_msg_encode(&ack, buf, sizeof buf, &len) == COAPS_OK)
            send_pdu(c, s, buf, len);
    }
    uint32_t idx;
    if (!token_matches(c, s, m, &idx)) {
        c->r->stray++;
        return;
    }
    complete(c, s, idx, m);
}

static void on_coap(struct bench_ctx *c, struct bench_session *s, const uint8_t *d, size_t len)
{
    coaps_coap_msg m;
    if (coaps_coap_msg_parse(&m, d, len) != COAPS_OK) {
        if (c->counting)
            c->r->errors++;
        bench_note_error(c, "malformed CoAP message (%zu bytes)", len);
        return;
    }
    if (m.type == COAPS_COAP_CON || m.type == COAPS_COAP_NON) {
        on_separate(c, s, &m);
        return;
    }
    uint32_t idx;
    if (!find_by_mid(c, s, m.mid, &idx)) {
        c->r->stray++; /* late answer to a retransmission or a timed-out CON */
        return;
    }
    if (m.type == COAPS_COAP_RST) {
        request_failed(c, s, idx, "reset", 0);
        return;
    }
    if (m.code == COAPS_COAP_EMPTY) {
        struct bench_req *q = &s->reqs[idx];
        q->acked = true;
        q->deadline_us = c->now_us + (uint64_t)c->o->ack_timeout_ms * 1000u * SEPARATE_WAIT_FACTOR;
        return;
    }
    complete(c, s, idx, &m);
}

static void dtls_failed(struct bench_ctx *c, struct bench_session *s)
{
    char why[128];
    bench_note_error(c, "dtls: %s", coaps_dtls_error_str(&s->conn, why, sizeof why));
    run_on_session_failed(c, s);
}

static void after_dtls_step(struct bench_ctx *c, struct bench_session *s)
{
    if (s->hs != NULL && c->o->mode != BENCH_HANDSHAKES && coaps_dtls_hs_released(&s->conn)) {
        free(s->hs);
        s->hs = NULL;
    }
}

static void on_dtls(struct bench_ctx *c, struct bench_session *s, uint8_t *dgram, size_t len)
{
    uint32_t epoch = s->epoch;
    coaps_status st = coaps_dtls_input(&s->conn, dgram, len, c->now_us / 1000);
    flush_dtls(c, s);
    after_dtls_step(c, s);
    enum coaps_dtls_state ds = coaps_dtls_state(&s->conn);
    if (st != COAPS_OK || ds == COAPS_DTLS_FAILED || ds == COAPS_DTLS_CLOSED) {
        dtls_failed(c, s);
        return;
    }
    if (s->state == SESS_HANDSHAKING && ds == COAPS_DTLS_ESTABLISHED) {
        if (coaps_dtls_cid_negotiated(&s->conn))
            c->r->cid_sessions++;
        if (coaps_dtls_resumed(&s->conn))
            c->r->resumed++;
        run_on_established(c, s);
        if (s->epoch != epoch || s->state == SESS_CLOSED)
            return;
    }
    const uint8_t *data;
    size_t dlen;
    while (coaps_dtls_read(&s->conn, &data, &dlen) == COAPS_OK) {
        on_coap(c, s, data, dlen);
        if (s->epoch != epoch || s->state == SESS_CLOSED)
            return;
    }
}

void sess_on_readable(struct bench_ctx *c, struct bench_session *s)
{
    /* One batch per wake-up: epoll is level-triggered and comes back for
     * the rest, which saves the recv that would only say EAGAIN. */
    int n = net_udp_recv_batch(s->fd, c->rx, BENCH_BATCH);
    if (n < 0) {
        if (errno == EINTR)
            return;
        /* e.g. ECONNREFUSED: ICMP port unreachable, no server there */
        if (c->counting)
            c->r->errors++;
        if (errno == ECONNREFUSED && c->o->ignore_icmp && s->state != SESS_HANDSHAKING)
            return;
        bench_note_error(c, "recv: %s", strerror(errno));
        run_on_session_failed(c, s);
        return;
    }
    uint32_t epoch = s->epoch;
    for (int i = 0; i < n; i++) {
        size_t off = 0, len, dropped = 0;
        const uint8_t *data;
        while (s->epoch == epoch && s->state != SESS_CLOSED &&
               net_rx_next(&c->rx[i], &off, BENCH_DGRAM_MAX, &data, &len, &dropped)) {
            c->now_us = bench_now_us();
            if (c->measuring) {
                c->r->rx_bytes += len;
                c->r->rx_dgrams++;
            }
            /* on_dtls decrypts in place: the buffer is ours */
            if (is_coaps(c))
                on_dtls(c, s, (uint8_t *)data, len);
            else
                on_coap(c, s, data, len);
        }
        if (dropped > 0 && c->counting)
            c->r->errors += dropped;
    }
    sess_flush(c);
}

/* Retransmit (RFC 7252 4.2: same MID and token, doubled timeout) or give
 * up. Returns false when the session changed under us. */
static bool retransmit_due(struct bench_ctx *c, struct bench_session *s)
{
    uint32_t epoch = s->epoch;
    uint64_t next = UINT64_MAX;
    for (uint32_t i = 0; i < c->o->window; i++) {
        struct bench_req *q = &s->reqs[i];
        if (!q->busy)
            continue;
        if (c->now_us < q->deadline_us) {
            if (q->deadline_us < next)
                next = q->deadline_us;
            continue;
        }
        if (!q->acked && q->retries < BENCH_MAX_RETRANSMIT) {
            q->retries++;
            q->rto_ms *= 2;
            q->deadline_us = c->now_us + (uint64_t)q->rto_ms * 1000u;
            if (q->deadline_us < next)
                next = q->deadline_us;
            if (c->counting)
                c->r->retransmits++;
            send_pdu(c, s, q->pdu, q->pdu_len);
            continue;
        }
        req_free(s, i);
        run_on_request_failed(c, s, i, true);
        if (s->epoch != epoch || s->state == SESS_CLOSED)
            return false;
        if (s->reqs[i].busy && s->reqs[i].deadline_us < next)
            next = s->reqs[i].deadline_us;
    }
    s->timer_us = next; /* exact: every busy slot was looked at */
    return true;
}

void sess_on_timer(struct bench_ctx *c, struct bench_session *s)
{
    if (s->state == SESS_CLOSED)
        return;
    if (s->conn_live && c->now_us / 1000 >= coaps_dtls_next_deadline(&s->conn)) {
        coaps_status st = coaps_dtls_tick(&s->conn, c->now_us / 1000);
        flush_dtls(c, s);
        enum coaps_dtls_state ds = coaps_dtls_state(&s->conn);
        if (st != COAPS_OK || ds == COAPS_DTLS_FAILED || ds == COAPS_DTLS_CLOSED) {
            dtls_failed(c, s);
            sess_flush(c);
            return;
        }
    }
    if (s->busy > 0 && c->now_us >= s->timer_us)
        retransmit_due(c, s);
    sess_flush(c);
}
