/*
 * observe_state.c - a peer's Observe registrations to bytes and back
 * (observe_state.h), for durable sessions. The layout, all through wire.h:
 *
 *   u8 count (<= COAP_OBS_STATE_PER_PEER), then per registration:
 *   u8 n + n   the resource's path (as registered: the def's path)
 *   u8 n + n   token (<= 8)
 *   u32        Observe sequence number (24 bits, RFC 7641 4.4)
 *   u16        NON notifications since the last CON
 *   u32        milliseconds since the last CON (RFC 7641 4.5: a CON at
 *              least every 24 h; saturates)
 *   u16        Message ID of the last notification (a RST to it ends
 *              the registration, RFC 7641 3.6)
 *   u8         flags: 1 = a notification is due
 *   u16 n + n  the registration request (<= COAP_OBS_REQ_MAX), which
 *              every notification answers again
 *
 * The resource is named by its path, not its index, so that a server
 * whose resources were added in another order still finds it.
 */
#include "coap/observe_state.h"

#include <string.h>

#include "coap/endpoint.h"
#include "common/try.h"

#define OBS_PENDING 1u

/* Longest resource path a state file names (u8 length). */
#define OBS_PATH_MAX 255u

static coaps_status put_one(const coaps_coap_endpoint *ep, const struct coap_observer *o,
                            uint64_t now_ms, struct wire_wr *w)
{
    const char *path = ep->res[o->resource].def.path;
    size_t path_len = strlen(path);
    ENSURE(path_len <= OBS_PATH_MAX, COAPS_E_NOSPACE);
    uint64_t age = now_ms > o->last_con_ms ? now_ms - o->last_con_ms : 0;
    /* a CON in flight may never arrive: send the state again after restart */
    bool due = o->pending || o->xchg != COAP_NONE;
    TRY(wire_wr_u8(w, (uint8_t)path_len));
    TRY(wire_wr_bytes(w, path, path_len));
    TRY(wire_wr_u8(w, o->token_len));
    TRY(wire_wr_bytes(w, o->token, o->token_len));
    TRY(wire_wr_u32(w, o->seq & COAP_OBS_SEQ_MASK));
    TRY(wire_wr_u16(w, o->non_count));
    TRY(wire_wr_u32(w, age > UINT32_MAX ? UINT32_MAX : (uint32_t)age));
    TRY(wire_wr_u16(w, o->last_mid));
    TRY(wire_wr_u8(w, due ? OBS_PENDING : 0));
    TRY(wire_wr_u16(w, o->req_len));
    return wire_wr_bytes(w, o->req, o->req_len);
}

coaps_status coap_observe_state_export(const coaps_coap_endpoint *ep, const coaps_peer *peer,
                                       uint64_t now_ms, struct wire_wr *w)
{
    size_t at;
    uint8_t n = 0;
    TRY(wire_wr_reserve(w, 1, &at));
    for (size_t i = 0; i < ep->cfg.max_observers && n < COAP_OBS_STATE_PER_PEER; i++) {
        const struct coap_observer *o = &ep->obs[i];
        if (!o->used || !coaps_peer_equal(&o->peer, peer))
            continue;
        TRY(put_one(ep, o, now_ms, w));
        n++;
    }
    return wire_wr_patch(w, at, 1, n);
}

/* One registration as read, views into the caller's bytes. */
struct obs_rec {
    const uint8_t *path, *token, *req;
    uint8_t path_len, token_len, flags;
    uint16_t non_count, last_mid, req_len;
    uint32_t seq, age_ms;
};

static coaps_status get_one(struct wire_rd *r, struct obs_rec *o)
{
    TRY(wire_rd_u8(r, &o->path_len));
    TRY(wire_rd_view(r, o->path_len, &o->path));
    TRY(wire_rd_u8(r, &o->token_len));
    ENSURE(o->token_len <= COAPS_COAP_TOKEN_MAX, COAPS_E_MALFORMED);
    TRY(wire_rd_view(r, o->token_len, &o->token));
    TRY(wire_rd_u32(r, &o->seq));
    ENSURE(o->seq <= COAP_OBS_SEQ_MASK, COAPS_E_MALFORMED);
    TRY(wire_rd_u16(r, &o->non_count));
    TRY(wire_rd_u32(r, &o->age_ms));
    TRY(wire_rd_u16(r, &o->last_mid));
    TRY(wire_rd_u8(r, &o->flags));
    ENSURE((o->flags & ~OBS_PENDING) == 0, COAPS_E_MALFORMED);
    TRY(wire_rd_u16(r, &o->req_len));
    ENSURE(o->req_len > 0 && o->req_len <= COAP_OBS_REQ_MAX, COAPS_E_MALFORMED);
    TRY(wire_rd_view(r, o->req_len, &o->req));
    /* the request must be a GET with this token: notify_one answers it */
    coaps_coap_msg m;
    ENSURE(coaps_coap_msg_parse(&m, o->req, o->req_len) == COAPS_OK, COAPS_E_MALFORMED);
    ENSURE(m.code == COAPS_COAP_GET && m.token_len == o->token_len &&
               memcmp(m.token, o->token, o->token_len) == 0,
           COAPS_E_MALFORMED);
    return COAPS_OK;
}

static struct coaps_coap_resource *resource_named(coaps_coap_endpoint *ep, const uint8_t *path,
                                                  size_t len)
{
    for (size_t i = 0; i <= ep->cfg.max_resources; i++) {
        struct coaps_coap_resource *r = &ep->res[i];
        if (r->used && r->def.observable && strlen(r->def.path) == len &&
            memcmp(r->def.path, path, len) == 0)
            return r;
    }
    return NULL;
}

static struct coap_observer *slot_for(coaps_coap_endpoint *ep, const coaps_peer *peer,
                                      const struct obs_rec *o)
{
    struct coap_observer *free_slot = NULL;
    for (size_t i = 0; i < ep->cfg.max_observers; i++) {
        struct coap_observer *s = &ep->obs[i];
        if (s->used && coaps_peer_equal(&s->peer, peer) && s->token_len == o->token_len &&
            memcmp(s->token, o->token, o->token_len) == 0) {
            coap_observer_remove(ep, s); /* the saved one replaces it */
            return s;
        }
        if (!s->used && free_slot == NULL)
            free_slot = s;
    }
    return free_slot;
}

static coaps_status put_back(coaps_coap_endpoint *ep, const coaps_peer *peer, uint64_t now_ms,
                             const struct obs_rec *o)
{
    struct coaps_coap_resource *res = resource_named(ep, o->path, o->path_len);
    if (res == NULL)
        return COAPS_OK; /* the restarted server has no such resource */
    struct coap_observer *s = slot_for(ep, peer, o);
    if (s == NULL) {
        ep->stats.table_full++;
        return COAPS_E_FULL;
    }
    memset(s, 0, sizeof *s);
    s->used = true;
    s->xchg = COAP_NONE;
    s->peer = *peer;
    s->resource = (uint16_t)(res - ep->res);
    s->token_len = o->token_len;
    memcpy(s->token, o->token, o->token_len);
    s->seq = o->seq;
    s->non_count = o->non_count;
    s->last_con_ms = now_ms > o->age_ms ? now_ms - o->age_ms : 0;
    s->last_mid = o->last_mid;
    s->req_len = o->req_len;
    memcpy(s->req, o->req, o->req_len);
    s->pending = (o->flags & OBS_PENDING) != 0;
    if (s->pending)
        ep->obs_marked = true;
    res->observers++;
    ep->stats.observers_added++;
    return COAPS_OK;
}

coaps_status coap_observe_state_import(coaps_coap_endpoint *ep, const coaps_peer *peer,
                                       uint64_t now_ms, const uint8_t *buf, size_t len)
{
    ENSURE(ep && peer && (buf || len == 0), COAPS_E_INVALID);
    struct wire_rd r = wire_rd_init(buf, len);
    uint8_t n;
    TRY(wire_rd_u8(&r, &n));
    ENSURE(n <= COAP_OBS_STATE_PER_PEER, COAPS_E_MALFORMED);
    struct obs_rec recs[COAP_OBS_STATE_PER_PEER];
    for (uint8_t i = 0; i < n; i++)
        TRY(get_one(&r, &recs[i]));
    ENSURE(wire_rd_left(&r) == 0, COAPS_E_MALFORMED);
    for (uint8_t i = 0; i < n; i++)
        TRY(put_back(ep, peer, now_ms, &recs[i]));
    return COAPS_OK;
}
