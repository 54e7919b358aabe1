/*
 * dedup.c - message deduplication (RFC 7252 4.5).
 *
 * A bounded cache of (peer, Message ID) pairs with what we answered. An
 * entry lives EXCHANGE_LIFETIME for CON and NON_LIFETIME for NON. New
 * entries go to a ring cursor, which points at the oldest entry; if that
 * one is still alive, an expired entry anywhere is reused instead, and
 * only when none is expired is the oldest live one evicted (counted in
 * stats.table_full). A lookup never returns an expired entry.
 *
 * Lookups go through a hash index on (peer, MID): every entry that has
 * ever been added is in the chain of its key until it is reused for
 * another key (entries that expire or are forgotten stay linked, marked
 * unused), so a lookup walks a short chain, not the table.
 */
#include <string.h>

#include "coap/endpoint.h"

/* The hash bucket of (peer, mid). */
static uint32_t dedup_bucket_of(const coaps_coap_endpoint *ep, const coaps_peer *p, uint16_t mid)
{
    uint32_t h = (coaps_peer_hash(p) ^ mid) * 2654435761u; /* spread the MID's bits */
    return (h >> 8) & ep->dedup_mask;
}

/* Take entry d out of its hash chain (it is about to get a new key). */
static void dedup_unlink(coaps_coap_endpoint *ep, struct coap_dedup *d)
{
    if (!d->linked)
        return;
    uint16_t idx = (uint16_t)(d - ep->dedup);
    for (uint16_t *at = &ep->dedup_bucket[d->bucket]; *at != COAP_DEDUP_NONE;
         at = &ep->dedup[*at].hash_next) {
        if (*at == idx) {
            *at = d->hash_next;
            break;
        }
    }
    d->linked = false;
}

struct coap_dedup *coap_dedup_find(coaps_coap_endpoint *ep, const coaps_peer *p, uint16_t mid,
                                   uint64_t now_ms)
{
    if (ep->cfg.dedup_disabled)
        return NULL;
    /* Only the chain of (peer, mid): O(1), not a scan of the table. */
    for (uint16_t i = ep->dedup_bucket[dedup_bucket_of(ep, p, mid)]; i != COAP_DEDUP_NONE;
         i = ep->dedup[i].hash_next) {
        struct coap_dedup *d = &ep->dedup[i];
        if (d->mid != mid || !d->used)
            continue;
        if (d->expires_ms <= now_ms) {
            d->used = false; /* expired: the MID may be reused now */
            continue;
        }
        if (coaps_peer_equal(&d->peer, p))
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
         * shorter life than an older CON one) is reused first. The scan
         * is skipped while no entry can have expired yet. */
        struct coap_dedup *dead = NULL;
        if (now_ms >= ep->dedup_min_expiry) {
            uint64_t min_expiry = UINT64_MAX;
            for (size_t i = 0; i < ep->cfg.dedup_entries && dead == NULL; i++) {
                const struct coap_dedup *e = &ep->dedup[i];
                if (!e->used || e->expires_ms <= now_ms)
                    dead = &ep->dedup[i];
                else if (e->expires_ms < min_expiry)
                    min_expiry = e->expires_ms;
            }
            if (dead == NULL) /* every entry was live: none dies before min_expiry */
                ep->dedup_min_expiry = min_expiry;
        }
        if (dead) {
            d = dead;
        } else {
            ep->stats.table_full++; /* evicting a live entry: oldest first */
        }
    }
    dedup_unlink(ep, d);
    d->used = true;
    d->peer = *p;
    d->mid = mid;
    d->bucket = dedup_bucket_of(ep, p, mid);
    d->hash_next = ep->dedup_bucket[d->bucket];
    ep->dedup_bucket[d->bucket] = (uint16_t)(d - ep->dedup);
    d->linked = true;
    d->expires_ms = now_ms + lifetime_ms;
    if (d->expires_ms < ep->dedup_min_expiry) /* keep the bound a lower bound */
        ep->dedup_min_expiry = d->expires_ms;
    d->reply_len = 0;
    return d;
}

bool coap_dedup_seen(coaps_coap_endpoint *ep, const coaps_peer *from, const coaps_coap_msg *m,
                     uint64_t now_ms, struct coap_dedup **entry)
{
    struct coap_dedup *dd = coap_dedup_find(ep, from, m->mid, now_ms);
    if (dd) {
        ep->stats.rx_duplicates++;
        if (m->type == COAPS_COAP_CON && dd->reply_len)
            coap_outq_push(ep, from, dd->reply, dd->reply_len);
        return true;
    }
    uint64_t life = m->type == COAPS_COAP_CON ? ep->cfg.exchange_lifetime_ms
                                              : ep->cfg.non_lifetime_ms;
    *entry = coap_dedup_add(ep, from, m->mid, life, now_ms);
    return false;
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
        if (ep->dedup[i].used && coaps_peer_equal(&ep->dedup[i].peer, p)) {
            ep->dedup[i].used = false;
            ep->dedup_min_expiry = 0; /* a free entry now exists: look again */
        }
}
