/*
 * dedup.c - message deduplication (RFC 7252 4.5).
 *
 * A bounded cache of (peer, Message ID) pairs with what we answered. An
 * entry lives EXCHANGE_LIFETIME for CON and NON_LIFETIME for NON. New
 * entries go to a ring cursor, which points at the oldest entry; if that
 * one is still alive, an expired entry anywhere is reused instead, and
 * only when none is expired is the oldest live one evicted (counted in
 * stats.table_full). A lookup never returns an expired entry.
 */
#include <string.h>

#include "coap/endpoint.h"

struct coap_dedup *coap_dedup_find(coaps_coap_endpoint *ep, const coaps_peer *p, uint16_t mid,
                                   uint64_t now_ms)
{
    if (ep->cfg.dedup_disabled)
        return NULL;
    for (size_t i = 0; i < ep->cfg.dedup_entries; i++) {
        struct coap_dedup *d = &ep->dedup[i];
        if (!d->used)
            continue;
        if (d->expires_ms <= now_ms) {
            d->used = false; /* expired: the MID may be reused now */
            continue;
        }
        if (d->mid == mid && coaps_peer_equal(&d->peer, p))
            return d;
    }
    return NULL;
}

struct coap_dedup *coap_dedup_add(coaps_coap_endpoint *ep, const coaps_peer *p, uint16_t mid,
                                  uint64_t lifetime_ms, uint64_t now_ms)
{
    if (ep->cfg.dedup_disabled)
        return NULL;
    struct coap_dedup *d = &ep->dedup[ep->dedup_next];
    ep->dedup_next = (uint16_t)((ep->dedup_next + 1) % ep->cfg.dedup_entries);
    if (d->used && d->expires_ms > now_ms) {
        /* the oldest entry is live; a dead one elsewhere (a NON entry has a
         * shorter life than an older CON one) is reused first */
        struct coap_dedup *dead = NULL;
        for (size_t i = 0; i < ep->cfg.dedup_entries && dead == NULL; i++)
            if (!ep->dedup[i].used || ep->dedup[i].expires_ms <= now_ms)
                dead = &ep->dedup[i];
        if (dead) {
            d = dead;
        } else {
            ep->stats.table_full++; /* evicting a live entry: oldest first */
        }
    }
    d->used = true;
    d->peer = *p;
    d->mid = mid;
    d->expires_ms = now_ms + lifetime_ms;
    d->reply_len = 0;
    return d;
}

void coap_dedup_set_reply(coaps_coap_endpoint *ep, struct coap_dedup *d, const uint8_t *reply,
                          size_t len)
{
    if (d == NULL || len > ep->cfg.max_message_size)
        return;
    memcpy(d->reply, reply, len);
    d->reply_len = (uint16_t)len;
}

void coap_dedup_forget_peer(coaps_coap_endpoint *ep, const coaps_peer *p)
{
    for (size_t i = 0; i < ep->cfg.dedup_entries; i++)
        if (ep->dedup[i].used && coaps_peer_equal(&ep->dedup[i].peer, p))
            ep->dedup[i].used = false;
}
