/*
 * flight.c - our current flight (RFC 6347 4.2.4): its messages kept whole
 * for retransmission, cut into fragments (RFC 6347 4.2.3) and packed into
 * datagrams of at most the path MTU, plus the retransmission timer
 * (RFC 6347 4.2.4.1: initial 1 s, doubled on each expiry, at most 60 s).
 */
#include <string.h>

#include "common/try.h"
#include "common/wire.h"
#include "dtls/conn.h"
#include "dtls/fragment.h"

void conn_flight_reset(struct conn_hs *hs)
{
    memset(&hs->fl, 0, sizeof(hs->fl));
}

coaps_status conn_flight_add(struct conn_hs *hs, uint8_t content_type, uint8_t msg_type,
                             uint16_t epoch, uint16_t message_seq, const uint8_t *body,
                             size_t len)
{
    struct conn_flight *fl = &hs->fl;
    ENSURE(fl->n < CONN_FLIGHT_ENTRIES, COAPS_E_FULL);
    ENSURE(len <= (size_t)hs->flight_cap - fl->used, COAPS_E_FULL);
    struct conn_flight_entry *e = &fl->e[fl->n++];
    e->content_type = content_type;
    e->msg_type = msg_type;
    e->epoch = epoch;
    e->message_seq = message_seq;
    e->off = fl->used;
    e->len = (uint16_t)len;
    /* memmove: the body may already be in place (conn_flight_tail). */
    if (len && body != hs->flight_buf + fl->used)
        memmove(hs->flight_buf + fl->used, body, len);
    fl->used = (uint16_t)(fl->used + len);
    return COAPS_OK;
}

struct wire_wr conn_flight_tail(struct conn_hs *hs)
{
    return wire_wr_init(hs->flight_buf + hs->fl.used, (size_t)hs->flight_cap - hs->fl.used);
}

void conn_flight_send(struct conn_hs *hs)
{
    hs->fl.tx_entry = 0;
    hs->fl.tx_off = 0;
    hs->fl.tx_started = false;
    hs->fl.tx_pending = hs->fl.n > 0;
}

/* Append one CCS record (RFC 6347 4.1: epoch 0 on the initial handshake). */
static coaps_status put_ccs(struct conn *c, struct wire_wr *w)
{
    uint8_t one[1];
    struct wire_wr b = wire_wr_init(one, sizeof(one));
    TRY(dtls_ccs_write(&b));
    return conn_write_record(c, w, DTLS_CT_CHANGE_CIPHER_SPEC, 0, one, b.off);
}

/* Append as much of a handshake message as fits as one record. *done says
 * whether the message is complete; COAPS_E_NOSPACE when not even a header
 * and one byte fit. */
static coaps_status put_fragment(struct conn *c, struct wire_wr *w, uint8_t msg_type,
                                 uint16_t epoch, uint16_t seq, const uint8_t *body, size_t len,
                                 uint16_t *off, bool *started, bool *done)
{
    size_t ovh = conn_record_overhead(c, epoch);
    size_t left = wire_wr_left(w);
    ENSURE(left > ovh + DTLS_HS_HEADER_LEN, COAPS_E_NOSPACE);
    /* plaintext: one fragment; sized for the largest flight message */
    uint8_t pt[DTLS_HS_HEADER_LEN + CONN_MSG_BYTES_MAX];
    struct wire_wr pw = wire_wr_init(pt, sizeof(pt));
    struct dtls_frag_src f;
    TRY(dtls_frag_init(&f, msg_type, seq, body, len));
    f.off = *off;
    f.started = *started;
    size_t n = 0;
    TRY(dtls_frag_write(&f, &pw, left - ovh - DTLS_HS_HEADER_LEN, &n));
    TRY(conn_write_record(c, w, DTLS_CT_HANDSHAKE, epoch, pt, pw.off));
    *off = (uint16_t)f.off;
    *started = true;
    *done = dtls_frag_done(&f);
    return COAPS_OK;
}

static size_t datagram_limit(const struct conn *c, size_t cap)
{
    return cap < c->mtu ? cap : c->mtu;
}

coaps_status conn_flight_output(struct conn *c, uint8_t *buf, size_t cap, size_t *len)
{
    struct conn_hs *hs = c->hs;
    *len = 0;
    if (!hs || !hs->fl.tx_pending)
        return COAPS_OK;
    struct conn_flight *fl = &hs->fl;
    struct wire_wr w = wire_wr_init(buf, datagram_limit(c, cap));
    while (fl->tx_entry < fl->n) {
        const struct conn_flight_entry *e = &fl->e[fl->tx_entry];
        coaps_status st;
        bool done = false;
        if (e->content_type == DTLS_CT_CHANGE_CIPHER_SPEC) {
            st = put_ccs(c, &w);
            done = true;
        } else {
            st = put_fragment(c, &w, e->msg_type, e->epoch, e->message_seq,
                              hs->flight_buf + e->off, e->len, &fl->tx_off, &fl->tx_started,
                              &done);
        }
        if (st == COAPS_E_NOSPACE && w.off > 0)
            break; /* datagram full: the rest goes in the next one */
        TRY(st);
        if (done) {
            fl->tx_entry++;
            fl->tx_off = 0;
            fl->tx_started = false;
        }
    }
    fl->tx_pending = fl->tx_entry < fl->n;
    *len = w.off;
    return COAPS_OK;
}

coaps_status conn_retained_output(struct conn *c, uint8_t *buf, size_t cap, size_t *len)
{
    /* RFC 6347 4.2.4: the peer retransmitted its last flight, so our final
     * flight (ChangeCipherSpec, Finished) was lost: send it again. */
    struct wire_wr w = wire_wr_init(buf, datagram_limit(c, cap));
    uint8_t body[DTLS_VERIFY_DATA_LEN];
    memcpy(body, c->retain_verify, sizeof(body));
    uint16_t off = 0;
    bool started = false, done = false;
    TRY(put_ccs(c, &w));
    TRY(put_fragment(c, &w, DTLS_HS_FINISHED, 1, c->retain_seq, body, sizeof(body), &off,
                     &started, &done));
    *len = w.off;
    return COAPS_OK;
}

static uint32_t cfg_or(uint32_t v, uint32_t dflt)
{
    return v ? v : dflt;
}

void conn_timer_restart(struct conn *c, uint64_t now_ms)
{
    struct conn_hs *hs = c->hs;
    hs->rto_ms = cfg_or(c->cfg->retrans_initial_ms, COAPS_DTLS_RETRANS_INITIAL_MS);
    hs->retransmits = 0;
    hs->deadline_ms = now_ms + hs->rto_ms;
}

void conn_timer_stop(struct conn *c)
{
    if (c->hs)
        c->hs->deadline_ms = UINT64_MAX;
}

bool conn_timer_repeat_due(const struct conn *c, uint64_t now_ms)
{
    const struct conn_hs *hs = c->hs;
    if (hs->deadline_ms == UINT64_MAX || hs->deadline_ms < hs->rto_ms)
        return true; /* no timer: nothing to pace against */
    uint64_t last_sent = hs->deadline_ms - hs->rto_ms; /* the timer was armed then */
    return now_ms >= last_sent + hs->rto_ms / 2;
}

void conn_timer_repeat(struct conn *c, uint64_t now_ms)
{
    struct conn_hs *hs = c->hs;
    /* RFC 6347 4.2.4.1: double the timer, up to the maximum. */
    uint32_t max = cfg_or(c->cfg->retrans_max_ms, COAPS_DTLS_RETRANS_MAX_MS);
    if (hs->deadline_ms != UINT64_MAX) {
        hs->rto_ms = hs->rto_ms > max / 2 ? max : hs->rto_ms * 2;
        hs->deadline_ms = now_ms + hs->rto_ms;
    }
    c->stats.retransmits++;
    conn_flight_send(hs);
}

coaps_status conn_timer_tick(struct conn *c, uint64_t now_ms)
{
    struct conn_hs *hs = c->hs;
    if (!hs)
        return COAPS_OK;
    uint64_t limit = cfg_or(c->cfg->handshake_timeout_ms, COAPS_DTLS_HANDSHAKE_TIMEOUT_MS);
    if (now_ms - hs->started_ms >= limit)
        return conn_fail(c, COAPS_E_TIMEOUT, -1);
    if (hs->deadline_ms > now_ms)
        return COAPS_OK;
    if (c->cfg->max_retransmits && hs->retransmits >= c->cfg->max_retransmits)
        return conn_fail(c, COAPS_E_TIMEOUT, -1);
    /* RFC 6347 4.2.4.1: double the timer, up to the maximum. */
    uint32_t max = cfg_or(c->cfg->retrans_max_ms, COAPS_DTLS_RETRANS_MAX_MS);
    hs->rto_ms = hs->rto_ms > max / 2 ? max : hs->rto_ms * 2;
    hs->retransmits++;
    hs->deadline_ms = now_ms + hs->rto_ms;
    /* Part of the peer's next flight came in, so ours arrived: the peer
     * resends its flight until it is complete, and ours again would only
     * cross it (a peer that just got our old flight back may then miss
     * the alert that ends a handshake with the wrong PSK). The timer keeps
     * running, for max_retransmits and the handshake time limit. */
    if (hs->peer_progress)
        return COAPS_OK;
    c->stats.retransmits++;
    conn_flight_send(hs);
    return COAPS_OK;
}
