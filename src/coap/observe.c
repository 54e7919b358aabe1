/*
 * observe.c - the server side of RFC 7641: registrations, and the
 * notifications that coaps_coap_tick() produces for resources marked dirty.
 */
#include <string.h>

#include "coap/endpoint.h"
#include "common/try.h"

/* RFC 7641 2: Observe value 0 registers, 1 deregisters. */
#define COAP_OBSERVE_REGISTER 0u
#define COAP_OBSERVE_DEREGISTER 1u

static struct coap_observer *observer_find(coaps_coap_endpoint *ep, const coaps_peer *p,
                                           const uint8_t *token, uint8_t token_len)
{
    for (size_t i = 0; i < ep->cfg.max_observers; i++) {
        struct coap_observer *o = &ep->obs[i];
        if (o->used && o->token_len == token_len && memcmp(o->token, token, token_len) == 0 &&
            coaps_peer_equal(&o->peer, p))
            return o;
    }
    return NULL;
}

static struct coap_observer *observer_alloc(coaps_coap_endpoint *ep)
{
    for (size_t i = 0; i < ep->cfg.max_observers; i++)
        if (!ep->obs[i].used)
            return &ep->obs[i];
    ep->stats.table_full++;
    return NULL;
}

void coap_observer_remove(coaps_coap_endpoint *ep, struct coap_observer *o)
{
    if (!o->used)
        return;
    if (o->xchg != COAP_NONE)
        coap_xchg_free(ep, &ep->xchg[o->xchg]);
    o->xchg = COAP_NONE;
    o->used = false;
    o->pending = false;
    ep->res[o->resource].observers--;
    ep->stats.observers_removed++;
}

void coap_observe_deregister(coaps_coap_endpoint *ep, const coaps_peer *p,
                             const coaps_coap_msg *req)
{
    if (req->code != COAPS_COAP_GET ||
        coaps_coap_msg_find_option(req, COAPS_COAP_OPT_OBSERVE, NULL) == NULL)
        return;
    struct coap_observer *o = observer_find(ep, p, req->token, req->token_len);
    if (o)
        coap_observer_remove(ep, o);
}

/* RFC 7641 4.1: add or replace the entry for (peer, token). */
static bool observer_register(coaps_coap_endpoint *ep, const coaps_peer *from,
                              const coaps_coap_msg *req, const uint8_t *raw, size_t raw_len,
                              struct coaps_coap_resource *res, uint32_t *seq,
                              uint64_t now_ms)
{
    if (raw_len > COAP_OBS_REQ_MAX)
        return false;
    struct coap_observer *o = observer_find(ep, from, req->token, req->token_len);
    if (o && &ep->res[o->resource] != res) {
        coap_observer_remove(ep, o); /* same token, other resource */
        o = NULL;
    }
    if (o == NULL) {
        o = observer_alloc(ep);
        if (o == NULL)
            return false; /* 4.1: the server may decline; answer without Observe */
        memset(o, 0, sizeof *o);
        o->used = true;
        o->xchg = COAP_NONE;
        o->peer = *from;
        o->resource = (uint16_t)(res - ep->res);
        o->token_len = req->token_len;
        memcpy(o->token, req->token, req->token_len);
        o->last_con_ms = now_ms; /* the 24 h clock starts at registration */
        res->observers++;
        ep->stats.observers_added++;
    }
    memcpy(o->req, raw, raw_len);
    o->req_len = (uint16_t)raw_len;
    /* this registration's response carries the current state: a change
     * marked before it needs no notification to this observer */
    o->pending = false;
    o->seq = (o->seq + 1) & COAP_OBS_SEQ_MASK;
    *seq = o->seq;
    return true;
}

bool coap_observe_request(coaps_coap_endpoint *ep, const coaps_peer *from,
                          const coaps_coap_msg *req, const uint8_t *raw, size_t raw_len,
                          struct coaps_coap_resource *res, uint8_t code, uint32_t *seq,
                          uint64_t now_ms)
{
    uint32_t v;
    if (coaps_coap_msg_get_uint(req, COAPS_COAP_OPT_OBSERVE, &v) != COAPS_OK ||
        v != COAP_OBSERVE_REGISTER || COAPS_COAP_CODE_CLASS(code) != 2) {
        /* deregistration (1), an unknown value, or a failed GET: in every
         * case any entry for this token ends (RFC 7641 3.6, 4.1). */
        coap_observe_deregister(ep, from, req);
        return false;
    }
    return observer_register(ep, from, req, raw, raw_len, res, seq, now_ms);
}

bool coap_observe_rst(coaps_coap_endpoint *ep, const coaps_peer *p, uint16_t mid)
{
    /* RFC 7641 3.6 / 4.5: a RST to a notification removes the observer. */
    for (size_t i = 0; i < ep->cfg.max_observers; i++) {
        struct coap_observer *o = &ep->obs[i];
        if (o->used && o->last_mid == mid && coaps_peer_equal(&o->peer, p)) {
            coap_observer_remove(ep, o);
            return true;
        }
    }
    return false;
}

void coap_observe_xchg_done(coaps_coap_endpoint *ep, struct coap_exchange *x, bool ok,
                            uint64_t now_ms)
{
    (void)now_ms;
    uint16_t idx = x->observer;
    coap_xchg_free(ep, x);
    if (idx == COAP_NONE || idx >= ep->cfg.max_observers)
        return;
    struct coap_observer *o = &ep->obs[idx];
    o->xchg = COAP_NONE;
    /* RFC 7641 4.5: a CON notification that is rejected or never
     * acknowledged removes the client from the list. */
    if (!ok)
        coap_observer_remove(ep, o);
}

void coap_observe_forget_peer(coaps_coap_endpoint *ep, const coaps_peer *p)
{
    for (size_t i = 0; i < ep->cfg.max_observers; i++)
        if (ep->obs[i].used && coaps_peer_equal(&ep->obs[i].peer, p))
            coap_observer_remove(ep, &ep->obs[i]);
}

bool coap_observe_has_peer(const coaps_coap_endpoint *ep, const coaps_peer *p)
{
    for (size_t i = 0; i < ep->cfg.max_observers; i++)
        if (ep->obs[i].used && coaps_peer_equal(&ep->obs[i].peer, p))
            return true;
    return false;
}

/* Registrations keep their token, request, sequence number and pending
 * mark; a CON notification in flight moves with the exchanges. */
void coap_observe_move_peer(coaps_coap_endpoint *ep, const coaps_peer *from,
                            const coaps_peer *to)
{
    for (size_t i = 0; i < ep->cfg.max_observers; i++)
        if (ep->obs[i].used && coaps_peer_equal(&ep->obs[i].peer, from))
            ep->obs[i].peer = *to;
}

void coap_observe_mark(coaps_coap_endpoint *ep, const struct coaps_coap_resource *res)
{
    /* Only the observers registered now: one that registers later gets
     * the current state in its registration response, and a change with
     * no observers at all leaves nothing behind. */
    uint16_t idx = (uint16_t)(res - ep->res);
    for (size_t i = 0; i < ep->cfg.max_observers && res->observers > 0; i++)
        if (ep->obs[i].used && ep->obs[i].resource == idx) {
            ep->obs[i].pending = true;
            ep->obs_marked = true;
        }
}

bool coap_observe_pending(const coaps_coap_endpoint *ep)
{
    if (!ep->obs_marked)
        return false;
    for (size_t i = 0; i < ep->cfg.max_observers; i++)
        if (ep->obs[i].used && ep->obs[i].pending)
            return true;
    return false;
}

/* RFC 7641 4.5: CON when the resource asks for it, after
 * notify_con_every NONs, or when the last CON is too long ago. */
static bool notify_as_con(const coaps_coap_endpoint *ep, const struct coap_observer *o,
                          const struct coaps_coap_resource *r, uint64_t now_ms)
{
    return r->def.notify_con || o->non_count + 1u >= ep->cfg.notify_con_every ||
           now_ms - o->last_con_ms >= ep->cfg.notify_con_interval_ms;
}

/* Send m as a CON notification: reuse the in-flight exchange (RFC 7641
 * 4.5.2: the new state replaces the old one, which is no longer
 * retransmitted; the new one goes out now and inherits the retransmission
 * counter and current timeout, so a silent client still times out after
 * MAX_RETRANSMIT), or start a new one. */
static coaps_status send_con(coaps_coap_endpoint *ep, struct coap_observer *o, coaps_coap_msg *m,
                             uint64_t now_ms)
{
    bool replace = o->xchg != COAP_NONE;
    struct coap_exchange *x = replace ? &ep->xchg[o->xchg] : coap_xchg_alloc(ep, COAP_X_NOTIFY);
    ENSURE(x != NULL, COAPS_E_FULL);
    size_t len;
    coaps_status st = coaps_coap_msg_encode(m, x->buf, ep->cfg.max_message_size, &len);
    if (st != COAPS_OK) {
        if (!replace)
            coap_xchg_free(ep, x);
        return st;
    }
    x->len = (uint16_t)len;
    x->mid = m->mid;
    x->peer = o->peer;
    x->con = true;
    x->observer = (uint16_t)(o - ep->obs);
    o->xchg = coap_xchg_index(ep, x);
    o->non_count = 0;
    o->last_con_ms = now_ms;
    if (!replace) {
        coap_xchg_transmit(ep, x, now_ms);
        return COAPS_OK;
    }
    x->deadline_ms = now_ms + x->timeout_ms;
    coap_outq_push(ep, &x->peer, x->buf, x->len);
    return COAPS_OK;
}

static void notify_one(coaps_coap_endpoint *ep, struct coap_observer *o, uint64_t now_ms)
{
    struct coaps_coap_resource *r = &ep->res[o->resource];
    coaps_coap_msg req, m;
    o->pending = false;
    if (coaps_coap_msg_parse(&req, o->req, o->req_len) != COAPS_OK) {
        coap_observer_remove(ep, o);
        return;
    }
    struct coaps_coap_request rq = {&req, &o->peer, NULL, 0, true};
    coaps_coap_response resp;
    coap_response_prepare(ep, &resp, COAPS_COAP_GET);
    if (r->def.handler[COAPS_COAP_GET](r->def.user, &rq, &resp) != COAPS_OK || resp.deferred_)
        coaps_coap_response_init(&resp, COAPS_COAP_INTERNAL_SERVER_ERROR, NULL, 0);
    if (!o->used)
        return; /* the handler forgot this peer */
    bool ok = COAPS_COAP_CODE_CLASS(resp.code) == 2;
    uint32_t seq = (o->seq + 1) & COAP_OBS_SEQ_MASK;
    if (coap_build_response(ep, &req, &resp, ok, seq, &m) != COAPS_OK)
        return;
    o->seq = seq;
    m.mid = coap_new_mid(ep);
    o->last_mid = m.mid;
    ep->stats.tx_notifications++;
    if (ok && notify_as_con(ep, o, r, now_ms)) {
        m.type = COAPS_COAP_CON;
        if (send_con(ep, o, &m, now_ms) == COAPS_OK)
            return;
    }
    m.type = COAPS_COAP_NON;
    o->non_count++;
    if (coap_send_msg(ep, &o->peer, &m) != COAPS_OK)
        ep->stats.tx_dropped++; /* built above within max_message_size: not expected */
    /* RFC 7641 4.2: an error notification ends the observation. */
    if (!ok)
        coap_observer_remove(ep, o);
}

void coap_observe_tick(coaps_coap_endpoint *ep, uint64_t now_ms)
{
    /* Changes marked since the last notification collapse into one with
     * the latest state (RFC 7641 4.5: only the newest state matters); the
     * handler runs when the notification is built. Each one needs a slot
     * of the output queue: when it is full the rest stay pending, and
     * next_deadline() keeps saying 0 so that the caller drains the queue
     * and ticks again. obs_marked is cleared first: what stays pending
     * here, or is marked again by a handler meanwhile, sets it again. */
    if (!ep->obs_marked)
        return;
    ep->obs_marked = false;
    for (size_t i = 0; i < ep->cfg.max_observers; i++) {
        if (!ep->obs[i].used || !ep->obs[i].pending)
            continue;
        if (ep->outq_count >= ep->cfg.outq_entries) {
            ep->obs_marked = true;
            break;
        }
        notify_one(ep, &ep->obs[i], now_ms);
        if (ep->obs[i].used && ep->obs[i].pending)
            ep->obs_marked = true;
    }
}
