/*
 * endpoint.c - endpoint memory layout, the input dispatcher, the output
 * queue, timers and per-peer cleanup.
 */
#include <string.h>

#include "coap/endpoint.h"
#include "common/try.h"

/* RFC 7252 4.8 / 4.8.2 defaults. */
#define COAP_ACK_TIMEOUT_MS 2000u
#define COAP_ACK_RANDOM_FACTOR_PERMILLE 1500u
#define COAP_MAX_RETRANSMIT 4u
#define COAP_NSTART 1u
#define COAP_EXCHANGE_LIFETIME_MS 247000u
#define COAP_NON_LIFETIME_MS 145000u
/* RFC 7641 4.5: a CON notification at least every 24 hours. */
#define COAP_NOTIFY_CON_INTERVAL_MS (24u * 3600u * 1000u)
/* How many NON notifications in a row before one is sent CON: RFC 7641
 * 4.5 leaves the number open; 20 is a common choice. */
#define COAP_NOTIFY_CON_EVERY 20u
/* Table defaults: sized for a small server with a few dozen clients. */
/* Dedup (dedup.c): 64 peers x 8 Message IDs, with 1280 bytes of replies
 * each, about 90 KiB. 8 covers a client's exchange in flight (NSTART = 1,
 * RFC 7252 4.7) and the late duplicates of the ones before it, or a
 * client that keeps a few requests in flight. */
#define COAP_DEF_DEDUP_PEERS 64u
#define COAP_DEF_DEDUP_PER_PEER 8u
#define COAP_DEF_OUTQ 64u
#define COAP_DEF_XCHG 32u
#define COAP_DEF_OBSERVERS 32u
#define COAP_DEF_RESOURCES 32u
#define COAP_DEF_BODY_SLOTS 4u
#define COAP_DEF_BODY_SIZE 16384u
/* IPv6 minimum MTU: a 1024-byte block plus header and options fits
 * (RFC 7252 4.6 says 1152 bytes of message is the safe size). */
#define COAP_DEF_MSG_SIZE 1280u
#define COAP_DEF_BLOCK 1024u
/* Room a block needs around it: header, token, options (RFC 7252 4.6). */
#define COAP_MSG_OVERHEAD 128u
#define COAP_ALIGN 8u

_Static_assert(COAPS_COAP_MAX_OPTIONS <= UINT8_MAX, "coaps_coap_msg.opt_count is a uint8_t");
_Static_assert(COAP_OBS_REQ_MAX <= UINT16_MAX, "coap_observer.req_len is a uint16_t");
_Static_assert(COAP_TOKEN_GEN_LEN <= COAPS_COAP_TOKEN_MAX, "generated tokens fit");

void coaps_coap_config_default(coaps_coap_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->ack_timeout_ms = COAP_ACK_TIMEOUT_MS;
    cfg->ack_random_factor_permille = COAP_ACK_RANDOM_FACTOR_PERMILLE;
    cfg->max_retransmit = COAP_MAX_RETRANSMIT;
    cfg->nstart = COAP_NSTART;
    cfg->exchange_lifetime_ms = COAP_EXCHANGE_LIFETIME_MS;
    cfg->non_lifetime_ms = COAP_NON_LIFETIME_MS;
    cfg->dedup_peers = COAP_DEF_DEDUP_PEERS;
    cfg->dedup_per_peer = COAP_DEF_DEDUP_PER_PEER;
    cfg->outq_entries = COAP_DEF_OUTQ;
    cfg->max_exchanges = COAP_DEF_XCHG;
    cfg->max_observers = COAP_DEF_OBSERVERS;
    cfg->max_resources = COAP_DEF_RESOURCES;
    cfg->body_slots = COAP_DEF_BODY_SLOTS;
    cfg->max_body_size = COAP_DEF_BODY_SIZE;
    cfg->max_message_size = COAP_DEF_MSG_SIZE;
    cfg->block_size = COAP_DEF_BLOCK;
    cfg->notify_con_every = COAP_NOTIFY_CON_EVERY;
    cfg->notify_con_interval_ms = COAP_NOTIFY_CON_INTERVAL_MS;
    cfg->response_timeout_ms = COAP_EXCHANGE_LIFETIME_MS;
}

static bool config_valid(const coaps_coap_config *c)
{
    bool pow2 = c->block_size >= 16 && c->block_size <= 1024 &&
                (c->block_size & (c->block_size - 1)) == 0;
    return c->ack_timeout_ms > 0 && c->ack_random_factor_permille >= 1000 && c->nstart > 0 &&
           c->outq_entries > 0 && c->max_exchanges > 0 && c->dedup_peers > 0 &&
           c->dedup_peers < COAP_NONE && c->dedup_per_peer > 0 &&
           c->dedup_per_peer <= COAP_DEDUP_PER_PEER_MAX && pow2 &&
           c->max_message_size >= c->block_size + COAP_MSG_OVERHEAD &&
           c->max_body_size >= c->block_size && c->notify_con_every > 0;
}

static size_t align_up(size_t n)
{
    return (n + COAP_ALIGN - 1) & ~(size_t)(COAP_ALIGN - 1);
}

/* Carve n elements of sz bytes from the block (or just count them). */
static void *carve(uint8_t *base, size_t *off, size_t n, size_t sz)
{
    void *p = base ? base + *off : NULL;
    *off = align_up(*off + n * sz);
    return p;
}

/* Walk the layout: with base == NULL only sizes are summed. The dedup
 * slots come last: *eager (if not NULL) gets the offset where they start,
 * the end of what endpoint_init zeroes (dedup.c initialises a slot when it
 * first uses it, so the memory of unused slots is never touched). */
static size_t layout(const coaps_coap_config *c, coaps_coap_endpoint *ep, uint8_t *base,
                     size_t *eager)
{
    size_t off = align_up(sizeof(coaps_coap_endpoint));
    size_t mms = c->max_message_size;
    struct coap_outq_slot *oq = carve(base, &off, c->outq_entries, sizeof *oq);
    uint16_t *db = carve(base, &off, coap_dedup_buckets(c->dedup_peers), sizeof *db);
    struct coap_exchange *xx = carve(base, &off, c->max_exchanges, sizeof *xx);
    struct coap_body *bb = carve(base, &off, c->body_slots, sizeof *bb);
    struct coap_observer *ob = carve(base, &off, c->max_observers, sizeof *ob);
    struct coaps_coap_resource *rs = carve(base, &off, c->max_resources + 1u, sizeof *rs);
    for (size_t i = 0; i < c->outq_entries; i++) {
        uint8_t *b = carve(base, &off, 1, mms);
        if (ep)
            oq[i].buf = b;
    }
    for (size_t i = 0; i < c->max_exchanges; i++) {
        uint8_t *b = carve(base, &off, 1, mms);
        if (ep)
            xx[i].buf = b;
    }
    for (size_t i = 0; i < c->body_slots; i++) {
        uint8_t *b = carve(base, &off, 1, c->max_body_size);
        if (ep)
            bb[i].buf = b;
    }
    uint8_t *scratch = carve(base, &off, 1, mms);
    uint8_t *resp_body = carve(base, &off, 1, c->max_body_size);
    if (eager)
        *eager = off;
    struct coap_dedup_peer *dp = carve(base, &off, c->dedup_peers, sizeof *dp);
    struct coap_dedup *dd =
        carve(base, &off, (size_t)c->dedup_peers * c->dedup_per_peer, sizeof *dd);
    uint8_t *dr = carve(base, &off, c->dedup_peers, mms);
    if (ep) {
        ep->outq = oq;
        ep->dedup_slots = dp;
        ep->dedup = dd;
        ep->dedup_replies = dr;
        ep->dedup_bucket = db;
        ep->xchg = xx;
        ep->body = bb;
        ep->obs = ob;
        ep->res = rs;
        ep->scratch = scratch;
        ep->resp_body = resp_body;
    }
    return off;
}

size_t coaps_coap_endpoint_size(const coaps_coap_config *cfg)
{
    if (cfg == NULL || !config_valid(cfg))
        return 0;
    return layout(cfg, NULL, NULL, NULL);
}

/* splitmix64: a small, well-mixed PRNG for when no callback is given. */
static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint32_t coap_random(coaps_coap_endpoint *ep)
{
    if (ep->cfg.random)
        return ep->cfg.random(ep->cfg.random_ctx);
    return (uint32_t)(splitmix64(&ep->rng) >> 32);
}

uint16_t coap_new_mid(coaps_coap_endpoint *ep)
{
    return ep->next_mid++;
}

coaps_status coaps_coap_endpoint_init(void *mem, size_t mem_len, const coaps_coap_config *cfg,
                                      coaps_coap_endpoint **out)
{
    ENSURE(mem != NULL && cfg != NULL && out != NULL, COAPS_E_INVALID);
    ENSURE(config_valid(cfg), COAPS_E_CONFIG);
    size_t eager;
    size_t need = layout(cfg, NULL, NULL, &eager);
    ENSURE(mem_len >= need, COAPS_E_NOSPACE);
    memset(mem, 0, eager); /* not the dedup slots: see layout() */
    coaps_coap_endpoint *ep = mem;
    ep->cfg = *cfg;
    layout(cfg, ep, mem, NULL);
    coap_dedup_init(ep);
    ep->rng = cfg->random_seed;
    /* RFC 7252 4.4: start Message IDs at a random value. */
    ep->next_mid = (uint16_t)coap_random(ep);
    for (size_t i = 0; i < cfg->max_observers; i++)
        ep->obs[i].xchg = COAP_NONE;
    for (size_t i = 0; i < cfg->max_exchanges; i++)
        ep->xchg[i].body = COAP_NONE;
    coaps_coap_resource_def wk;
    coaps_coap_resource_def_init(&wk, ".well-known/core");
    wk.handler[COAPS_COAP_GET] = coap_well_known_handler;
    wk.user = ep;
    wk.ct = COAPS_COAP_CF_LINK_FORMAT;
    wk.hidden = true;
    TRY(coaps_coap_resource_add(ep, &wk, NULL));
    *out = ep;
    return COAPS_OK;
}

/* ---- output queue -------------------------------------------------------- */

void coap_outq_push(coaps_coap_endpoint *ep, const coaps_peer *to, const uint8_t *d, size_t len)
{
    if (ep->outq_count == ep->cfg.outq_entries || len > ep->cfg.max_message_size) {
        ep->stats.tx_dropped++;
        return;
    }
    size_t i = (ep->outq_head + ep->outq_count) % ep->cfg.outq_entries;
    ep->outq[i].peer = *to;
    ep->outq[i].len = (uint16_t)len;
    memcpy(ep->outq[i].buf, d, len);
    ep->outq_count++;
}

coaps_status coap_send_msg(coaps_coap_endpoint *ep, const coaps_peer *to,
                           const coaps_coap_msg *m)
{
    size_t len;
    TRY(coaps_coap_msg_encode(m, ep->scratch, ep->cfg.max_message_size, &len));
    coap_outq_push(ep, to, ep->scratch, len);
    return COAPS_OK;
}

void coap_send_empty(coaps_coap_endpoint *ep, const coaps_peer *to, uint8_t type, uint16_t mid)
{
    coaps_coap_msg m;
    coaps_coap_msg_init(&m, type, COAPS_COAP_EMPTY, mid);
    if (type == COAPS_COAP_RST)
        ep->stats.tx_rst++;
    /* 4 bytes: they encode in any max_message_size; were that ever not
     * so, it would be a drop like any other */
    if (coap_send_msg(ep, to, &m) != COAPS_OK)
        ep->stats.tx_dropped++;
}

coaps_status coap_output_take(coaps_coap_endpoint *ep, coaps_peer *to, const uint8_t **data,
                              size_t *len)
{
    ENSURE(ep->outq_count > 0, COAPS_E_AGAIN);
    const struct coap_outq_slot *s = &ep->outq[ep->outq_head];
    *to = s->peer;
    *data = s->buf; /* the slot is reused only by a later push (it is out of the queue) */
    *len = s->len;
    ep->outq_head = (uint16_t)((ep->outq_head + 1) % ep->cfg.outq_entries);
    ep->outq_count--;
    ep->stats.tx_datagrams++;
    return COAPS_OK;
}

coaps_status coaps_coap_output(coaps_coap_endpoint *ep, coaps_peer *to, uint8_t *buf,
                               size_t cap, size_t *len, uint64_t now_ms)
{
    (void)now_ms;
    ENSURE(ep != NULL && to != NULL && buf != NULL && len != NULL, COAPS_E_INVALID);
    ENSURE(ep->outq_count > 0, COAPS_E_AGAIN);
    ENSURE(cap >= ep->outq[ep->outq_head].len, COAPS_E_NOSPACE); /* stays queued */
    const uint8_t *data;
    TRY(coap_output_take(ep, to, &data, len));
    memcpy(buf, data, *len);
    return COAPS_OK;
}

static void outq_forget_peer(coaps_coap_endpoint *ep, const coaps_peer *p)
{
    uint16_t n = ep->cfg.outq_entries, kept = 0;
    for (uint16_t k = 0; k < ep->outq_count; k++) {
        struct coap_outq_slot *s = &ep->outq[(ep->outq_head + k) % n];
        if (coaps_peer_equal(&s->peer, p))
            continue;
        struct coap_outq_slot *d = &ep->outq[(ep->outq_head + kept) % n];
        if (d != s) {
            uint8_t *tmp = d->buf; /* swap buffers: each slot owns one */
            d->buf = s->buf;
            s->buf = tmp;
            d->peer = s->peer;
            d->len = s->len;
        }
        kept++;
    }
    ep->outq_count = kept;
}

static bool outq_has_peer(const coaps_coap_endpoint *ep, const coaps_peer *p)
{
    for (uint16_t k = 0; k < ep->outq_count; k++)
        if (coaps_peer_equal(&ep->outq[(ep->outq_head + k) % ep->cfg.outq_entries].peer, p))
            return true;
    return false;
}

/* Queued datagrams keep their place in the queue, now addressed to `to`. */
static void outq_move_peer(coaps_coap_endpoint *ep, const coaps_peer *from, const coaps_peer *to)
{
    for (uint16_t k = 0; k < ep->outq_count; k++) {
        struct coap_outq_slot *s = &ep->outq[(ep->outq_head + k) % ep->cfg.outq_entries];
        if (coaps_peer_equal(&s->peer, from))
            s->peer = *to;
    }
}

/* ---- input --------------------------------------------------------------- */

/* RFC 7252 4.2 / 4.3: a malformed CON is rejected with RST, anything else
 * malformed is silently dropped. Unknown versions are always ignored (3). */
static void input_malformed(coaps_coap_endpoint *ep, const coaps_peer *from, const uint8_t *d,
                            size_t len, const coaps_coap_msg *m)
{
    ep->stats.rx_malformed++;
    if (len >= 4 && (d[0] >> 6) == 1 && m->type == COAPS_COAP_CON)
        coap_send_empty(ep, from, COAPS_COAP_RST, m->mid);
}

static void input_empty(coaps_coap_endpoint *ep, const coaps_peer *from,
                        const coaps_coap_msg *m, uint64_t now_ms)
{
    if (m->type == COAPS_COAP_CON) {
        /* RFC 7252 4.3: CoAP ping, answered by RST. */
        coap_send_empty(ep, from, COAPS_COAP_RST, m->mid);
        return;
    }
    if (m->type == COAPS_COAP_NON) {
        ep->stats.rx_ignored++;
        return;
    }
    struct coap_exchange *x = coap_xchg_by_mid(ep, from, m->mid);
    if (x == NULL) {
        if (!(m->type == COAPS_COAP_RST && coap_observe_rst(ep, from, m->mid)))
            ep->stats.rx_ignored++;
        return;
    }
    switch (x->kind) {
    case COAP_X_CLIENT:
    case COAP_X_PING:
        coap_client_empty(ep, x, m->type, now_ms);
        break;
    case COAP_X_NOTIFY:
        coap_observe_xchg_done(ep, x, m->type == COAPS_COAP_ACK, now_ms);
        break;
    default:
        coap_xchg_free(ep, x); /* separate response ACKed or rejected */
        break;
    }
}

static void input_parsed(coaps_coap_endpoint *ep, const coaps_peer *from, coaps_coap_msg *m,
                         const uint8_t *d, size_t len, uint64_t now_ms)
{
    uint8_t cls = COAPS_COAP_CODE_CLASS(m->code);
    if (m->code == COAPS_COAP_EMPTY) {
        input_empty(ep, from, m, now_ms);
    } else if (m->type == COAPS_COAP_RST) {
        /* RFC 7252 4.2: a Reset message MUST be empty. */
        input_malformed(ep, from, d, len, m);
    } else if (cls == 0) {
        /* 4.2: an ACK carries a response or nothing, never a request. */
        if (m->type == COAPS_COAP_ACK)
            input_malformed(ep, from, d, len, m);
        else
            coap_server_request(ep, from, m, d, len, now_ms);
    } else {
        coap_client_response(ep, from, m, now_ms);
    }
}

coaps_status coaps_coap_input(coaps_coap_endpoint *ep, const coaps_peer *from,
                              const uint8_t *dgram, size_t len, uint64_t now_ms)
{
    ENSURE(ep != NULL && from != NULL && (dgram != NULL || len == 0), COAPS_E_INVALID);
    ep->stats.rx_datagrams++;
    coaps_coap_msg m;
    coaps_status st = coaps_coap_msg_parse(&m, dgram, len);
    if (st == COAPS_E_FULL && COAPS_COAP_CODE_CLASS(m.code) == 0 && m.type != COAPS_COAP_ACK &&
        m.type != COAPS_COAP_RST) {
        coap_server_too_many_options(ep, from, &m, now_ms);
        return COAPS_OK;
    }
    if (st != COAPS_OK) {
        input_malformed(ep, from, dgram, len, &m);
        return COAPS_OK;
    }
    input_parsed(ep, from, &m, dgram, len, now_ms);
    return COAPS_OK;
}

/* ---- timers -------------------------------------------------------------- */

uint64_t coaps_coap_next_deadline(const coaps_coap_endpoint *ep)
{
    if (ep == NULL)
        return UINT64_MAX;
    if (coap_observe_pending(ep))
        return 0;
    uint64_t t = UINT64_MAX;
    for (size_t i = 0; ep->xchg_live > 0 && i < ep->cfg.max_exchanges; i++) {
        const struct coap_exchange *x = &ep->xchg[i];
        if (x->kind != COAP_X_FREE && x->deadline_ms < t)
            t = x->deadline_ms;
    }
    return t;
}

static void xchg_due(coaps_coap_endpoint *ep, struct coap_exchange *x, uint64_t now_ms)
{
    if (x->state == COAP_XS_OBSERVING) {
        coap_client_reregister(ep, x, now_ms);
        return;
    }
    if (x->state == COAP_XS_WAIT_RESP) {
        coap_client_fail(ep, x, COAPS_E_TIMEOUT, now_ms);
        return;
    }
    if (!coap_xchg_retransmit(ep, x, now_ms))
        return;
    ep->stats.timeouts++;
    if (x->kind == COAP_X_CLIENT || x->kind == COAP_X_PING)
        coap_client_fail(ep, x, COAPS_E_TIMEOUT, now_ms);
    else if (x->kind == COAP_X_NOTIFY)
        coap_observe_xchg_done(ep, x, false, now_ms);
    else
        coap_xchg_free(ep, x);
}

void coaps_coap_tick(coaps_coap_endpoint *ep, uint64_t now_ms)
{
    if (ep == NULL)
        return;
    for (size_t i = 0; ep->xchg_live > 0 && i < ep->cfg.max_exchanges; i++) {
        struct coap_exchange *x = &ep->xchg[i];
        if (x->kind != COAP_X_FREE && x->deadline_ms <= now_ms)
            xchg_due(ep, x, now_ms);
    }
    coap_observe_tick(ep, now_ms);
    coap_client_pump(ep, now_ms);
}

void coaps_coap_forget_peer(coaps_coap_endpoint *ep, const coaps_peer *peer)
{
    if (ep == NULL || peer == NULL)
        return;
    coap_observe_forget_peer(ep, peer);
    for (size_t i = 0; i < ep->cfg.max_exchanges; i++) {
        struct coap_exchange *x = &ep->xchg[i];
        if (x->kind == COAP_X_FREE || !coaps_peer_equal(&x->peer, peer))
            continue;
        if (x->kind == COAP_X_CLIENT || x->kind == COAP_X_PING)
            coap_client_close(ep, x, COAPS_E_CLOSED);
        else
            coap_xchg_free(ep, x);
    }
    coap_dedup_forget_peer(ep, peer);
    coap_body_forget_peer(ep, peer);
    outq_forget_peer(ep, peer);
}

static bool peer_known(const coaps_coap_endpoint *ep, const coaps_peer *p)
{
    return coap_dedup_has_peer(ep, p) || coap_observe_has_peer(ep, p) ||
           coap_xchg_has_peer(ep, p) || coap_body_has_peer(ep, p) || outq_has_peer(ep, p);
}

void coaps_coap_move_peer(coaps_coap_endpoint *ep, const coaps_peer *from, const coaps_peer *to)
{
    if (ep == NULL || from == NULL || to == NULL)
        return;
    /* Copies: the caller's peers may lie in memory that forgetting `to`
     * rewrites (an output queue slot), or that a callback changes. */
    coaps_peer f = *from, t = *to;
    if (coaps_peer_equal(&f, &t) || !peer_known(ep, &f))
        return;
    /* What `to` had belongs to an address the moved peer now holds:
     * stale, and in the way of from's state (same tokens, Message IDs). */
    coaps_coap_forget_peer(ep, &t);
    coap_observe_move_peer(ep, &f, &t);
    coap_xchg_move_peer(ep, &f, &t);
    coap_dedup_move_peer(ep, &f, &t);
    coap_body_move_peer(ep, &f, &t);
    outq_move_peer(ep, &f, &t);
}

const coaps_coap_stats *coaps_coap_get_stats(const coaps_coap_endpoint *ep)
{
    return &ep->stats;
}
