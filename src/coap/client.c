/*
 * client.c - client requests (RFC 7252 5.2, 5.3), NSTART queueing (4.7),
 * automatic Block1 sending and Block2 fetching (RFC 7959 2.4, 2.5, 3),
 * Observe on the client side (RFC 7641 3) and CoAP ping (RFC 7252 4.3).
 */
#include <string.h>

#include "coap/endpoint.h"
#include "coap/option.h"
#include "common/try.h"
#include "common/wire.h"

/* RFC 7641 3.4: sequence numbers compare modulo 2^24 within 2^23. */
#define COAP_OBS_HALF 0x800000u
/* RFC 7252 3: the Message ID sits at bytes 2..3 of the header. */
#define COAP_MID_OFFSET 2
/* RFC 7959 2.2: NUM is at most 20 bits. */
#define COAP_BLOCK2_NUM_MAX 0xFFFFFu
/* RFC 7252 5.10.5: Max-Age when the option is absent, in seconds. */
#define COAP_MAX_AGE_DEFAULT_S 60u
/* RFC 7641 3.3.1: how long after a notification's Max-Age ran out we
 * register again: a margin for a notification on its way, and a random
 * spread so that many observers of one server do not come back at once. */
#define COAP_OBS_REREG_GRACE_MS 2000u
#define COAP_OBS_REREG_SPREAD_MS 3000u

void coaps_coap_client_request_init(coaps_coap_client_request *r)
{
    memset(r, 0, sizeof *r);
    r->method = COAPS_COAP_GET;
    r->confirmable = true;
    r->content_format = COAPS_COAP_CF_NONE;
    r->accept = COAPS_COAP_CF_NONE;
}

static coaps_coap_request_id xchg_id(const coaps_coap_endpoint *ep, const struct coap_exchange *x)
{
    return (uint32_t)x->gen << 16 | (uint32_t)(coap_xchg_index(ep, x) + 1u);
}

static struct coap_exchange *xchg_by_id(coaps_coap_endpoint *ep, coaps_coap_request_id id)
{
    uint32_t idx = (id & 0xFFFFu);
    if (idx == 0 || idx > ep->cfg.max_exchanges)
        return NULL;
    struct coap_exchange *x = &ep->xchg[idx - 1];
    bool mine = x->kind == COAP_X_CLIENT || x->kind == COAP_X_PING;
    return mine && x->gen == (id >> 16) ? x : NULL;
}

/* ---- finishing ----------------------------------------------------------- */

static void release(coaps_coap_endpoint *ep, struct coap_exchange *x)
{
    if (x->body != COAP_NONE)
        coap_body_free(&ep->body[x->body]);
    x->body = COAP_NONE;
    coap_xchg_free(ep, x);
}

/* Call the callback; then free x unless the callback already did. */
static void emit(coaps_coap_endpoint *ep, struct coap_exchange *x,
                 const coaps_coap_client_event *ev)
{
    uint16_t gen = x->gen;
    if (x->cb)
        x->cb(x->user, ev);
    if (ev->final && x->gen == gen && x->kind != COAP_X_FREE)
        release(ep, x);
}

void coap_client_close(coaps_coap_endpoint *ep, struct coap_exchange *x, coaps_status st)
{
    coaps_coap_client_event ev;
    memset(&ev, 0, sizeof ev);
    ev.status = st;
    ev.final = true;
    emit(ep, x, &ev);
}

void coap_client_fail(coaps_coap_endpoint *ep, struct coap_exchange *x, coaps_status st,
                      uint64_t now_ms)
{
    coap_client_close(ep, x, st);
    coap_client_pump(ep, now_ms);
}

/* ---- NSTART -------------------------------------------------------------- */

static unsigned outstanding(const coaps_coap_endpoint *ep, const coaps_peer *p)
{
    unsigned n = 0;
    for (size_t i = 0; i < ep->cfg.max_exchanges; i++) {
        const struct coap_exchange *x = &ep->xchg[i];
        bool busy = x->state == COAP_XS_WAIT_ACK || x->state == COAP_XS_WAIT_RESP;
        if ((x->kind == COAP_X_CLIENT || x->kind == COAP_X_PING) && busy &&
            coaps_peer_equal(&x->peer, p))
            n++;
    }
    return n;
}

/* Give x a fresh MID (patched into its datagram) and send it. */
static void start(coaps_coap_endpoint *ep, struct coap_exchange *x, uint64_t now_ms)
{
    x->mid = coap_new_mid(ep);
    struct wire_wr w = wire_wr_init(x->buf, x->len);
    w.off = x->len;
    wire_wr_patch(&w, COAP_MID_OFFSET, 2, x->mid);
    coap_xchg_transmit(ep, x, now_ms);
}

static struct coap_exchange *oldest_startable(coaps_coap_endpoint *ep)
{
    struct coap_exchange *best = NULL;
    for (size_t i = 0; i < ep->cfg.max_exchanges; i++) {
        struct coap_exchange *x = &ep->xchg[i];
        if (x->kind != COAP_X_CLIENT || x->state != COAP_XS_QUEUED)
            continue;
        if (outstanding(ep, &x->peer) >= ep->cfg.nstart)
            continue;
        if (best == NULL || (int32_t)(x->seq - best->seq) < 0)
            best = x;
    }
    return best;
}

void coap_client_pump(coaps_coap_endpoint *ep, uint64_t now_ms)
{
    struct coap_exchange *x;
    while ((x = oldest_startable(ep)) != NULL)
        start(ep, x, now_ms);
}

/* ---- building requests --------------------------------------------------- */

static coaps_status add_split(coaps_coap_msg *m, uint16_t number, const char *s, char sep)
{
    if (s == NULL)
        return COAPS_OK;
    if (number == COAPS_COAP_OPT_URI_PATH && *s == '/')
        s++;
    while (*s) {
        const char *end = strchr(s, sep);
        size_t n = end ? (size_t)(end - s) : strlen(s);
        TRY(coaps_coap_msg_add_option(m, number, s, n));
        if (end == NULL)
            break;
        s = end + 1;
    }
    return COAPS_OK;
}

/* RFC 7252 6.4 steps 8-9: one option per already-split segment. */
static coaps_status add_segments(coaps_coap_msg *m, uint16_t number,
                                 const coaps_coap_segment *segs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        TRY(coaps_coap_msg_add_option(m, number, segs[i].data, segs[i].len));
    return COAPS_OK;
}

static coaps_status build_base(const coaps_coap_client_request *r, const struct coap_exchange *x,
                               coaps_coap_msg *m)
{
    coaps_coap_msg_init(m, r->confirmable ? COAPS_COAP_CON : COAPS_COAP_NON, r->method, 0);
    TRY(coaps_coap_msg_set_token(m, x->token, x->token_len));
    if (r->uri_host)
        TRY(coaps_coap_msg_add_option(m, COAPS_COAP_OPT_URI_HOST, r->uri_host,
                                      strlen(r->uri_host)));
    if (r->uri_port)
        TRY(coaps_coap_msg_add_uint(m, COAPS_COAP_OPT_URI_PORT, r->uri_port));
    TRY(add_split(m, COAPS_COAP_OPT_URI_PATH, r->uri_path, '/'));
    TRY(add_split(m, COAPS_COAP_OPT_URI_QUERY, r->uri_query, '&'));
    TRY(add_segments(m, COAPS_COAP_OPT_URI_PATH, r->path_segs, r->path_count));
    TRY(add_segments(m, COAPS_COAP_OPT_URI_QUERY, r->query_items, r->query_count));
    if (r->content_format >= 0)
        TRY(coaps_coap_msg_add_uint(m, COAPS_COAP_OPT_CONTENT_FORMAT,
                                    (uint32_t)r->content_format));
    if (r->accept >= 0)
        TRY(coaps_coap_msg_add_uint(m, COAPS_COAP_OPT_ACCEPT, (uint32_t)r->accept));
    if (r->observe)
        TRY(coaps_coap_msg_add_uint(m, COAPS_COAP_OPT_OBSERVE, 0));
    for (size_t i = 0; i < r->extra_count; i++)
        TRY(coaps_coap_msg_add_option(m, r->extra_opts[i].number,
                                      coaps_coap_option_value(&r->extra_opts[i]),
                                      r->extra_opts[i].len));
    return COAPS_OK;
}

/* Put the next Block1 chunk of x's payload (or all of it) into m. */
static coaps_status add_payload(coaps_coap_endpoint *ep, struct coap_exchange *x,
                                coaps_coap_msg *m)
{
    (void)ep;
    size_t size = coaps_coap_block_size(x->b1_szx);
    coaps_coap_msg_remove_option(m, COAPS_COAP_OPT_BLOCK1);
    coaps_coap_msg_remove_option(m, COAPS_COAP_OPT_SIZE1);
    if (x->payload_len <= size && x->b1_off == 0) {
        x->b1_len = x->payload_len;
        m->payload = x->payload_len ? x->payload : NULL;
        m->payload_len = x->payload_len;
        return COAPS_OK;
    }
    /* RFC 7959 2.5: block NUM counts blocks of the current size. */
    size_t left = x->payload_len - x->b1_off;
    x->b1_len = left < size ? left : size;
    coaps_coap_block b = {(uint32_t)(x->b1_off / size), x->b1_off + x->b1_len < x->payload_len,
                          x->b1_szx};
    TRY(coaps_coap_msg_add_block(m, COAPS_COAP_OPT_BLOCK1, &b));
    if (x->b1_off == 0) /* RFC 7959 4: announce the total size */
        TRY(coaps_coap_msg_add_uint(m, COAPS_COAP_OPT_SIZE1, (uint32_t)x->payload_len));
    m->payload = x->payload + x->b1_off;
    m->payload_len = x->b1_len;
    return COAPS_OK;
}

static coaps_status store(coaps_coap_endpoint *ep, struct coap_exchange *x,
                          const coaps_coap_msg *m)
{
    size_t len;
    TRY(coaps_coap_msg_encode(m, ep->scratch, ep->cfg.max_message_size, &len));
    memcpy(x->buf, ep->scratch, len);
    x->len = (uint16_t)len;
    x->con = m->type == COAPS_COAP_CON;
    return COAPS_OK;
}

/* The follow-up request of a block-wise transfer: the stored request
 * with new Block options and payload, a new MID, sent at once. */
static coaps_status send_follow_up(coaps_coap_endpoint *ep, struct coap_exchange *x,
                                   const coaps_coap_block *b2, uint64_t now_ms)
{
    coaps_coap_msg m;
    TRY(coaps_coap_msg_parse(&m, x->buf, x->len));
    coaps_coap_msg_remove_option(&m, COAPS_COAP_OPT_BLOCK2);
    m.payload = NULL;
    m.payload_len = 0;
    if (b2) {
        /* RFC 7959 3.3: later blocks of the response carry no request
         * body; Observe only on the first (RFC 7959 3.4). */
        coaps_coap_msg_remove_option(&m, COAPS_COAP_OPT_BLOCK1);
        coaps_coap_msg_remove_option(&m, COAPS_COAP_OPT_SIZE1);
        coaps_coap_msg_remove_option(&m, COAPS_COAP_OPT_OBSERVE);
        TRY(coaps_coap_msg_add_block(&m, COAPS_COAP_OPT_BLOCK2, b2));
    } else {
        TRY(add_payload(ep, x, &m));
    }
    TRY(store(ep, x, &m));
    start(ep, x, now_ms);
    return COAPS_OK;
}

static bool valid_block_size(uint16_t s)
{
    return s == 0 || (s >= 16 && s <= 1024 && (s & (s - 1)) == 0);
}

/* A string and an array for the same option, a count without an array,
 * or a Block2 start the request cannot have: COAPS_E_INVALID. */
static bool valid_uri_and_block(const coaps_coap_client_request *r)
{
    if ((r->uri_path && r->path_count) || (r->uri_query && r->query_count) ||
        (r->path_count && r->path_segs == NULL) || (r->query_count && r->query_items == NULL))
        return false;
    for (size_t i = 0; i < r->path_count; i++)
        if (r->path_segs[i].data == NULL && r->path_segs[i].len)
            return false;
    for (size_t i = 0; i < r->query_count; i++)
        if (r->query_items[i].data == NULL && r->query_items[i].len)
            return false;
    if (r->block2_start == 0)
        return true;
    /* RFC 7959 2.2: 20-bit NUM; 3.4: notifications start at block 0 */
    return r->block2_start <= COAP_BLOCK2_NUM_MAX && !r->observe &&
           (r->method == COAPS_COAP_GET || r->method == COAPS_COAP_FETCH);
}

static coaps_status request_prepare(coaps_coap_endpoint *ep, const coaps_coap_client_request *r,
                                    struct coap_exchange *x)
{
    x->peer = r->peer;
    x->cb = r->cb;
    x->user = r->user;
    x->method = r->method;
    x->observe = r->observe;
    x->payload = r->payload;
    x->payload_len = r->payload_len;
    uint16_t bs = r->block_size ? r->block_size : ep->cfg.block_size;
    x->b1_szx = x->b2_szx = coaps_coap_block_szx(bs);
    if (r->token_len) {
        memcpy(x->token, r->token, r->token_len);
        x->token_len = r->token_len;
    } else {
        for (size_t i = 0; i < COAP_TOKEN_GEN_LEN; i++)
            x->token[i] = (uint8_t)coap_random(ep);
        x->token_len = COAP_TOKEN_GEN_LEN;
    }
    coaps_coap_msg m;
    TRY(build_base(r, x, &m));
    if ((r->block_size || r->block2_start) &&
        (r->method == COAPS_COAP_GET || r->method == COAPS_COAP_FETCH)) {
        /* RFC 7959 2.4: early negotiation of the response block size, and
         * a transfer that starts at a later block */
        coaps_coap_block b = {r->block2_start, false, x->b2_szx};
        TRY(coaps_coap_msg_add_block(&m, COAPS_COAP_OPT_BLOCK2, &b));
        x->b2_base = (uint32_t)(r->block2_start * coaps_coap_block_size(x->b2_szx));
    }
    TRY(add_payload(ep, x, &m));
    return store(ep, x, &m);
}

coaps_status coaps_coap_request_send(coaps_coap_endpoint *ep, const coaps_coap_client_request *r,
                                     uint64_t now_ms, coaps_coap_request_id *id)
{
    ENSURE(ep != NULL && r != NULL, COAPS_E_INVALID);
    ENSURE(r->method >= COAPS_COAP_GET && r->method <= COAPS_COAP_METHOD_MAX, COAPS_E_INVALID);
    ENSURE(r->token_len <= COAPS_COAP_TOKEN_MAX && (r->token || !r->token_len), COAPS_E_INVALID);
    ENSURE(r->payload || !r->payload_len, COAPS_E_INVALID);
    ENSURE(valid_block_size(r->block_size), COAPS_E_INVALID);
    ENSURE(r->extra_count == 0 || r->extra_opts != NULL, COAPS_E_INVALID);
    ENSURE(valid_uri_and_block(r), COAPS_E_INVALID);
    struct coap_exchange *x = coap_xchg_alloc(ep, COAP_X_CLIENT);
    ENSURE(x != NULL, COAPS_E_FULL);
    coaps_status st = request_prepare(ep, r, x);
    if (st != COAPS_OK) {
        coap_xchg_free(ep, x);
        return st == COAPS_E_FULL ? COAPS_E_NOSPACE : st;
    }
    x->state = COAP_XS_QUEUED;
    if (id)
        *id = xchg_id(ep, x);
    coap_client_pump(ep, now_ms);
    return COAPS_OK;
}

coaps_status coaps_coap_ping(coaps_coap_endpoint *ep, const coaps_peer *peer,
                             coaps_coap_response_cb cb, void *user, uint64_t now_ms,
                             coaps_coap_request_id *id)
{
    ENSURE(ep != NULL && peer != NULL, COAPS_E_INVALID);
    struct coap_exchange *x = coap_xchg_alloc(ep, COAP_X_PING);
    ENSURE(x != NULL, COAPS_E_FULL);
    coaps_coap_msg m;
    coaps_coap_msg_init(&m, COAPS_COAP_CON, COAPS_COAP_EMPTY, 0);
    TRY(store(ep, x, &m));
    x->peer = *peer;
    x->cb = cb;
    x->user = user;
    if (id)
        *id = xchg_id(ep, x);
    start(ep, x, now_ms);
    return COAPS_OK;
}

coaps_status coaps_coap_request_cancel(coaps_coap_endpoint *ep, coaps_coap_request_id id,
                                       bool deregister, uint64_t now_ms)
{
    ENSURE(ep != NULL, COAPS_E_INVALID);
    struct coap_exchange *x = xchg_by_id(ep, id);
    ENSURE(x != NULL, COAPS_E_NOT_FOUND);
    if (!(deregister && x->state == COAP_XS_OBSERVING)) {
        release(ep, x);
        coap_client_pump(ep, now_ms);
        return COAPS_OK;
    }
    /* RFC 7641 3.6: a GET with Observe=1 and the same token; its answer
     * goes nowhere (cb cleared). */
    coaps_coap_msg m;
    TRY(coaps_coap_msg_parse(&m, x->buf, x->len));
    coaps_coap_msg_remove_option(&m, COAPS_COAP_OPT_OBSERVE);
    coaps_coap_msg_remove_option(&m, COAPS_COAP_OPT_BLOCK2);
    TRY(coaps_coap_msg_add_uint(&m, COAPS_COAP_OPT_OBSERVE, 1));
    TRY(store(ep, x, &m));
    x->cb = NULL;
    x->observe = false;
    x->state = COAP_XS_QUEUED;
    coap_client_pump(ep, now_ms);
    return COAPS_OK;
}

/* RFC 7641 3.3.1: the last notification's Max-Age ran out with nothing
 * newer: the server may have lost us (a restart without its state, a NAT
 * binding gone). The registration again (GET, Observe=0, the same token),
 * queued under NSTART; its answer is a notification, counted from
 * whatever sequence number the server now uses, and one without Observe
 * (or none at all) ends the observation with the usual final event. */
void coap_client_reregister(coaps_coap_endpoint *ep, struct coap_exchange *x, uint64_t now_ms)
{
    coaps_coap_msg m;
    coaps_status st = coaps_coap_msg_parse(&m, x->buf, x->len);
    if (st == COAPS_OK) {
        coaps_coap_msg_remove_option(&m, COAPS_COAP_OPT_OBSERVE);
        coaps_coap_msg_remove_option(&m, COAPS_COAP_OPT_BLOCK2);
        st = coaps_coap_msg_add_uint(&m, COAPS_COAP_OPT_OBSERVE, 0);
    }
    if (st == COAPS_OK)
        st = store(ep, x, &m);
    if (st != COAPS_OK) {
        coap_client_fail(ep, x, st, now_ms);
        return;
    }
    if (x->body != COAP_NONE) { /* a notification's blocks half fetched */
        coap_body_free(&ep->body[x->body]);
        x->body = COAP_NONE;
    }
    x->obs_seen = false;
    x->state = COAP_XS_QUEUED;
    x->deadline_ms = UINT64_MAX;
    ep->stats.obs_reregistered++;
    coap_client_pump(ep, now_ms);
}

/* ---- responses ----------------------------------------------------------- */

static struct coap_exchange *xchg_by_token(coaps_coap_endpoint *ep, const coaps_peer *p,
                                           const coaps_coap_msg *m)
{
    for (size_t i = 0; i < ep->cfg.max_exchanges; i++) {
        struct coap_exchange *x = &ep->xchg[i];
        if (x->kind != COAP_X_CLIENT || x->state == COAP_XS_QUEUED)
            continue;
        if (x->token_len != m->token_len || memcmp(x->token, m->token, m->token_len) != 0 ||
            !coaps_peer_equal(&x->peer, p))
            continue;
        /* RFC 7252 5.3.2: a piggybacked response also matches the MID */
        if (m->type == COAPS_COAP_ACK && (x->state != COAP_XS_WAIT_ACK || x->mid != m->mid))
            continue;
        return x;
    }
    return NULL;
}

/* RFC 7641 3.4: is notification (v2, t2) newer than (v1, t1)? */
static bool obs_newer(uint32_t v1, uint64_t t1, uint32_t v2, uint64_t t2)
{
    return (v1 < v2 && v2 - v1 < COAP_OBS_HALF) || (v1 > v2 && v1 - v2 > COAP_OBS_HALF) ||
           t2 > t1 + COAP_OBS_REORDER_MS;
}

static void deliver(coaps_coap_endpoint *ep, struct coap_exchange *x, const coaps_coap_msg *m,
                    const uint8_t *payload, size_t len, uint64_t now_ms)
{
    bool notif = x->notif_pending && COAPS_COAP_CODE_CLASS(m->code) == 2;
    uint32_t seq = notif ? x->notif_seq : 0;
    x->notif_pending = false;
    if (notif) {
        uint32_t max_age = COAP_MAX_AGE_DEFAULT_S;
        (void)coaps_coap_msg_get_uint(m, COAPS_COAP_OPT_MAX_AGE, &max_age); /* absent: 60 */
        x->state = COAP_XS_OBSERVING;
        x->deadline_ms = now_ms + (uint64_t)max_age * 1000u + COAP_OBS_REREG_GRACE_MS +
                         coap_random(ep) % (COAP_OBS_REREG_SPREAD_MS + 1);
        x->obs_seen = true;
        x->obs_seq = seq;
        x->obs_time_ms = now_ms;
    }
    coaps_coap_client_event ev = {COAPS_OK, m->code, m, payload, len, notif, seq, !notif};
    uint16_t gen = x->gen;
    emit(ep, x, &ev);
    if (notif && x->gen == gen && x->body != COAP_NONE) {
        coap_body_free(&ep->body[x->body]); /* the next one starts afresh */
        x->body = COAP_NONE;
    }
    if (!notif)
        coap_client_pump(ep, now_ms);
}

/* RFC 7641 3.4: note a notification, or say it is older than what we have
 * (reordered) and must be dropped. */
static bool notification_accept(struct coap_exchange *x, const coaps_coap_msg *m,
                                uint64_t now_ms)
{
    uint32_t seq;
    if (!x->observe || COAPS_COAP_CODE_CLASS(m->code) != 2 ||
        coaps_coap_msg_get_uint(m, COAPS_COAP_OPT_OBSERVE, &seq) != COAPS_OK)
        return true; /* not a notification */
    if (x->obs_seen && !obs_newer(x->obs_seq, x->obs_time_ms, seq, now_ms))
        return false;
    x->notif_pending = true;
    x->notif_seq = seq;
    return true;
}

/* RFC 7959 2.5: the server took the block; send the next one at the size
 * it asked for (late negotiation). */
static void block1_next(coaps_coap_endpoint *ep, struct coap_exchange *x,
                        const coaps_coap_msg *m, uint64_t now_ms)
{
    coaps_coap_block b;
    if (coaps_coap_msg_get_block(m, COAPS_COAP_OPT_BLOCK1, &b) != COAPS_OK ||
        x->b1_off + x->b1_len >= x->payload_len) {
        coap_client_fail(ep, x, COAPS_E_MALFORMED, now_ms);
        return;
    }
    x->b1_off += x->b1_len;
    if (b.szx < x->b1_szx)
        x->b1_szx = b.szx;
    if (send_follow_up(ep, x, NULL, now_ms) != COAPS_OK)
        coap_client_fail(ep, x, COAPS_E_NOSPACE, now_ms);
}

static void etag_remember(struct coap_exchange *x, const coaps_coap_msg *m)
{
    const coaps_coap_option *o = coaps_coap_msg_find_option(m, COAPS_COAP_OPT_ETAG, NULL);
    x->b2_etag_len = 0;
    if (o && o->len <= sizeof x->b2_etag) {
        memcpy(x->b2_etag, coaps_coap_option_value(o), o->len);
        x->b2_etag_len = (uint8_t)o->len;
    }
}

static bool etag_same(const struct coap_exchange *x, const coaps_coap_msg *m)
{
    const coaps_coap_option *o = coaps_coap_msg_find_option(m, COAPS_COAP_OPT_ETAG, NULL);
    size_t len = o ? o->len : 0;
    return len == x->b2_etag_len &&
           (len == 0 || memcmp(coaps_coap_option_value(o), x->b2_etag, len) == 0);
}

/* RFC 7959 2.4: collect one Block2 block; true when more were asked for. */
static coaps_status block2_collect(coaps_coap_endpoint *ep, struct coap_exchange *x,
                                   const coaps_coap_msg *m, const coaps_coap_block *b,
                                   uint64_t now_ms, bool *more)
{
    size_t size = coaps_coap_block_size(b->szx);
    bool first = x->body == COAP_NONE;
    if (first) {
        struct coap_body *s = coap_body_alloc(ep, now_ms);
        ENSURE(s != NULL, COAPS_E_FULL);
        s->client = true;
        x->body = coap_body_index(ep, s);
    }
    struct coap_body *s = &ep->body[x->body];
    if (first || b->num == 0 || s->len == 0) {
        /* the first block of a transfer, of a newer notification (RFC 7959
         * 3.4) or of a restart below: its ETag is the one to keep */
        s->len = 0;
        etag_remember(x, m);
    } else if (!etag_same(x, m)) {
        /* RFC 7959 2.4: the representation changed under us: start over
         * (at the block the request started at) */
        ENSURE(x->b2_restarts++ < COAP_B2_MAX_RESTARTS, COAPS_E_STATE);
        s->len = 0;
        *more = true;
        coaps_coap_block again = {x->b2_base >> (4 + b->szx), false, b->szx};
        return send_follow_up(ep, x, &again, now_ms);
    }
    /* the block must continue the body where it ends (b2_base + len;
     * the first one, at b2_base: block 0 unless block2_start was given) */
    ENSURE((uint64_t)b->num * size == (uint64_t)x->b2_base + s->len, COAPS_E_MALFORMED);
    ENSURE(!b->more || m->payload_len == size, COAPS_E_MALFORMED);
    ENSURE(m->payload_len <= ep->cfg.max_body_size - s->len, COAPS_E_NOSPACE);
    if (m->payload_len)
        memcpy(s->buf + s->len, m->payload, m->payload_len);
    s->len += (uint32_t)m->payload_len;
    *more = b->more;
    if (!b->more) {
        x->b2_restarts = 0; /* per transfer (an observation has many) */
        return COAPS_OK;
    }
    coaps_coap_block next = {(uint32_t)(((uint64_t)x->b2_base + s->len) >> (4 + b->szx)), false,
                             b->szx};
    return send_follow_up(ep, x, &next, now_ms);
}

static void handle_response(coaps_coap_endpoint *ep, struct coap_exchange *x,
                            const coaps_coap_msg *m, uint64_t now_ms)
{
    if (!notification_accept(x, m, now_ms))
        return;
    if (x->state != COAP_XS_OBSERVING) {
        x->state = COAP_XS_WAIT_RESP; /* a response is also an implicit ACK */
        x->deadline_ms = now_ms + ep->cfg.response_timeout_ms;
    }
    if (m->code == COAPS_COAP_CONTINUE && x->payload_len > x->b1_len) {
        block1_next(ep, x, m, now_ms);
        return;
    }
    coaps_coap_block b;
    coaps_status st = coaps_coap_msg_get_block(m, COAPS_COAP_OPT_BLOCK2, &b);
    /* RFC 7959 3.4: a notification's later blocks are fetched with plain
     * GETs (no Observe) under the same token; the body is delivered as the
     * notification once complete. */
    bool blockwise = st == COAPS_OK && COAPS_COAP_CODE_CLASS(m->code) == 2 &&
                     (b.more || x->body != COAP_NONE);
    if (!blockwise) {
        deliver(ep, x, m, m->payload, m->payload_len, now_ms);
        return;
    }
    bool more = false;
    st = block2_collect(ep, x, m, &b, now_ms, &more);
    if (st != COAPS_OK) {
        coap_client_fail(ep, x, st, now_ms);
        return;
    }
    if (!more) {
        const struct coap_body *s = &ep->body[x->body];
        deliver(ep, x, m, s->buf, s->len, now_ms);
    }
}

/* RFC 7252 4.2: acknowledge a CON response (cached for duplicates). */
static void ack_con(coaps_coap_endpoint *ep, const coaps_peer *from, const coaps_coap_msg *m,
                    struct coap_dedup *dd, uint8_t type, uint64_t now_ms)
{
    coaps_coap_msg a;
    size_t len;
    coaps_coap_msg_init(&a, type, COAPS_COAP_EMPTY, m->mid);
    if (type == COAPS_COAP_RST)
        ep->stats.tx_rst++;
    if (coaps_coap_msg_encode(&a, ep->scratch, ep->cfg.max_message_size, &len) != COAPS_OK)
        return;
    coap_dedup_set_reply(ep, dd, ep->scratch, len, now_ms);
    coap_outq_push(ep, from, ep->scratch, len);
}

void coap_client_response(coaps_coap_endpoint *ep, const coaps_peer *from, coaps_coap_msg *m,
                          uint64_t now_ms)
{
    struct coap_dedup *dd = NULL;
    if ((m->type == COAPS_COAP_CON || m->type == COAPS_COAP_NON) &&
        coap_dedup_seen(ep, from, m, now_ms, &dd))
        return;
    struct coap_exchange *x = xchg_by_token(ep, from, m);
    uint16_t bad;
    bool reject = x == NULL || coap_options_check(m, &bad) == COAP_OPTCHECK_BAD_CRITICAL;
    /* RFC 7252 4.2/4.3, RFC 7641 3.6: acknowledge a CON; reject (RST)
     * what we cannot use, CON or NON. */
    if (m->type == COAPS_COAP_CON || (m->type == COAPS_COAP_NON && reject))
        ack_con(ep, from, m, dd, reject ? COAPS_COAP_RST : COAPS_COAP_ACK, now_ms);
    if (x == NULL) {
        ep->stats.rx_ignored++;
        return;
    }
    ep->stats.rx_responses++;
    if (reject) {
        coap_client_fail(ep, x, COAPS_E_BAD_OPTION, now_ms); /* RFC 7252 5.4.1 */
        return;
    }
    handle_response(ep, x, m, now_ms);
}

void coap_client_empty(coaps_coap_endpoint *ep, struct coap_exchange *x, uint8_t type,
                       uint64_t now_ms)
{
    if (x->kind == COAP_X_PING) {
        /* RFC 7252 4.3: the RST is the pong */
        coaps_coap_client_event ev;
        memset(&ev, 0, sizeof ev);
        ev.status = COAPS_OK;
        ev.final = true;
        emit(ep, x, &ev);
        coap_client_pump(ep, now_ms);
        return;
    }
    if (type == COAPS_COAP_RST) {
        coap_client_fail(ep, x, COAPS_E_CLOSED, now_ms);
        return;
    }
    /* RFC 7252 5.2.2: empty ACK, the response comes separately */
    x->state = COAP_XS_WAIT_RESP;
    x->deadline_ms = now_ms + ep->cfg.response_timeout_ms;
}
