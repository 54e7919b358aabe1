/*
 * dedup.c - message deduplication (RFC 7252 4.5), per peer.
 *
 * RFC 7252 4.5: a CON or NON seen again from the same peer within
 * EXCHANGE_LIFETIME (NON_LIFETIME for NON) is a duplicate: a CON gets the
 * reply we sent the first time, a NON nothing, and neither reaches a
 * handler twice.
 *
 * State is kept per peer, in fixed slots (endpoint.h, struct
 * coap_dedup_peer): each slot holds that peer's last dedup_per_peer
 * Message IDs in a FIFO, and their replies in max_message_size bytes of
 * its own. So the bounds are:
 *   - a peer's new message can push out only its own oldest entry (counted
 *     in stats.dedup_recycled while that entry was alive): a flood of
 *     distinct Message IDs from one peer costs every other peer nothing;
 *   - a peer without a slot, when all dedup_peers are taken, takes the slot
 *     of the peer heard from least recently (LRU; stats.table_full when
 *     that peer's state was still alive).
 * Whether a peer's duplicate is recognised thus depends on how many other
 * peers spoke since, never on how fast anyone sends.
 *
 * Slots are found through a hash index on the peer (chains through
 * hash_next); within a slot the few entries are scanned. Every operation
 * is O(1) in the number of peers: no scan of the table, ever.
 */
#include <string.h>

#include "coap/endpoint.h"

/* include/coaps/coap.h promises these per-peer sizes (64-bit). */
_Static_assert(sizeof(struct coap_dedup) <= 16, "a dedup entry is 16 bytes");
_Static_assert(sizeof(struct coap_dedup_peer) <= 56, "a dedup slot's head is 56 bytes");
_Static_assert(COAP_DEDUP_PER_PEER_MAX <= UINT8_MAX, "head and count are uint8_t");

void coap_dedup_init(coaps_coap_endpoint *ep)
{
    ep->dedup_mask = (uint32_t)(coap_dedup_buckets(ep->cfg.dedup_peers) - 1);
    for (size_t i = 0; i <= ep->dedup_mask; i++)
        ep->dedup_bucket[i] = COAP_NONE;
    ep->dedup_lru_head = ep->dedup_lru_tail = COAP_NONE;
    ep->dedup_free = COAP_NONE;
    ep->dedup_fresh = 0;
}

static uint32_t peer_bucket(const coaps_coap_endpoint *ep, const coaps_peer *p)
{
    return ((coaps_peer_hash(p) * 2654435761u) >> 8) & ep->dedup_mask; /* spread the bits */
}

static struct coap_dedup *slot_entry(coaps_coap_endpoint *ep, uint16_t slot, unsigned k)
{
    const struct coap_dedup_peer *s = &ep->dedup_slots[slot];
    unsigned per = ep->cfg.dedup_per_peer;
    /* head < per and k < per: one subtraction instead of a division by a
     * run-time value, which every lookup did once per entry (some 25
     * divisions per request). */
    unsigned at = s->head + k;
    if (at >= per)
        at -= per;
    return &ep->dedup[(size_t)slot * per + at];
}

static uint16_t slot_find(const coaps_coap_endpoint *ep, const coaps_peer *p)
{
    for (uint16_t i = ep->dedup_bucket[peer_bucket(ep, p)]; i != COAP_NONE;
         i = ep->dedup_slots[i].hash_next)
        if (coaps_peer_equal(&ep->dedup_slots[i].peer, p))
            return i;
    return COAP_NONE;
}

static void lru_unlink(coaps_coap_endpoint *ep, uint16_t slot)
{
    struct coap_dedup_peer *s = &ep->dedup_slots[slot];
    if (s->lru_prev != COAP_NONE)
        ep->dedup_slots[s->lru_prev].lru_next = s->lru_next;
    else
        ep->dedup_lru_head = s->lru_next;
    if (s->lru_next != COAP_NONE)
        ep->dedup_slots[s->lru_next].lru_prev = s->lru_prev;
    else
        ep->dedup_lru_tail = s->lru_prev;
}

static void lru_push_front(coaps_coap_endpoint *ep, uint16_t slot)
{
    struct coap_dedup_peer *s = &ep->dedup_slots[slot];
    s->lru_prev = COAP_NONE;
    s->lru_next = ep->dedup_lru_head;
    if (ep->dedup_lru_head != COAP_NONE)
        ep->dedup_slots[ep->dedup_lru_head].lru_prev = slot;
    else
        ep->dedup_lru_tail = slot;
    ep->dedup_lru_head = slot;
}

/* The peer was just heard from. */
static void lru_touch(coaps_coap_endpoint *ep, uint16_t slot)
{
    if (ep->dedup_lru_head == slot)
        return;
    lru_unlink(ep, slot);
    lru_push_front(ep, slot);
}

/* Put slot at the head of its peer's hash chain. */
static void hash_link(coaps_coap_endpoint *ep, uint16_t slot)
{
    struct coap_dedup_peer *s = &ep->dedup_slots[slot];
    uint32_t b = peer_bucket(ep, &s->peer);
    s->hash_next = ep->dedup_bucket[b];
    ep->dedup_bucket[b] = slot;
}

static void hash_unlink(coaps_coap_endpoint *ep, uint16_t slot)
{
    struct coap_dedup_peer *s = &ep->dedup_slots[slot];
    for (uint16_t *at = &ep->dedup_bucket[peer_bucket(ep, &s->peer)]; *at != COAP_NONE;
         at = &ep->dedup_slots[*at].hash_next) {
        if (*at == slot) {
            *at = s->hash_next;
            break;
        }
    }
}

/* Take slot out of the hash index and the LRU list. */
static void slot_unlink(coaps_coap_endpoint *ep, uint16_t slot)
{
    hash_unlink(ep, slot);
    lru_unlink(ep, slot);
}

/* A slot for p, which has none: a forgotten one, a never-used one, or
 * else the least recently heard peer's. */
static uint16_t slot_take(coaps_coap_endpoint *ep, const coaps_peer *p, uint64_t now_ms)
{
    uint16_t slot;
    if (ep->dedup_free != COAP_NONE) {
        slot = ep->dedup_free;
        ep->dedup_free = ep->dedup_slots[slot].hash_next;
    } else if (ep->dedup_fresh < ep->cfg.dedup_peers) {
        slot = ep->dedup_fresh++;
    } else {
        slot = ep->dedup_lru_tail;
        if (ep->dedup_slots[slot].expires_ms > now_ms)
            ep->stats.table_full++; /* the oldest peer's live state goes */
        slot_unlink(ep, slot);
    }
    struct coap_dedup_peer *s = &ep->dedup_slots[slot];
    s->peer = *p;
    s->head = s->count = 0;
    s->reply_tail = 0;
    s->expires_ms = 0;
    hash_link(ep, slot);
    lru_push_front(ep, slot);
    return slot;
}

/* Drop the slot's oldest entry. */
static void slot_pop(coaps_coap_endpoint *ep, uint16_t slot, uint64_t now_ms)
{
    struct coap_dedup_peer *s = &ep->dedup_slots[slot];
    if (slot_entry(ep, slot, 0)->expires_ms > now_ms)
        ep->stats.dedup_recycled++;
    s->head = (uint8_t)(s->head + 1u == ep->cfg.dedup_per_peer ? 0u : s->head + 1u);
    s->count--;
}

/* A dead entry behind a live oldest one (a NON dies at NON_LIFETIME, an
 * older CON lives on to EXCHANGE_LIFETIME) is removed before a live one
 * is recycled: the newer entries move down one place, keeping their order
 * (and so the order of their replies in the area). true if one was. */
static bool slot_drop_dead(coaps_coap_endpoint *ep, uint16_t slot, uint64_t now_ms)
{
    struct coap_dedup_peer *s = &ep->dedup_slots[slot];
    for (unsigned k = 1; k < s->count; k++) {
        if (slot_entry(ep, slot, k)->expires_ms > now_ms)
            continue;
        for (unsigned j = k; j + 1u < s->count; j++)
            *slot_entry(ep, slot, j) = *slot_entry(ep, slot, j + 1u);
        s->count--;
        return true;
    }
    return false;
}

/* The live entry of mid in slot (COAP_NONE: none), or NULL. */
static struct coap_dedup *dedup_find(coaps_coap_endpoint *ep, uint16_t slot, uint16_t mid,
                                     uint64_t now_ms)
{
    if (slot == COAP_NONE)
        return NULL;
    const struct coap_dedup_peer *s = &ep->dedup_slots[slot];
    for (unsigned k = s->count; k-- > 0;) { /* newest first */
        struct coap_dedup *d = slot_entry(ep, slot, k);
        if (d->mid == mid && d->expires_ms > now_ms) {
            lru_touch(ep, slot);
            return d;
        }
    }
    return NULL;
}

/* Remember mid from p, whose slot is slot (COAP_NONE: it has none yet). */
static struct coap_dedup *dedup_add(coaps_coap_endpoint *ep, uint16_t slot, const coaps_peer *p,
                                    uint16_t mid, uint64_t lifetime_ms, uint64_t now_ms)
{
    if (slot == COAP_NONE)
        slot = slot_take(ep, p, now_ms);
    else
        lru_touch(ep, slot);
    struct coap_dedup_peer *s = &ep->dedup_slots[slot];
    while (s->count > 0 && slot_entry(ep, slot, 0)->expires_ms <= now_ms)
        slot_pop(ep, slot, now_ms); /* dead: the MID may be reused now */
    if (s->count == ep->cfg.dedup_per_peer && !slot_drop_dead(ep, slot, now_ms))
        slot_pop(ep, slot, now_ms); /* the peer's own oldest live one goes */
    s->count++;
    struct coap_dedup *d = slot_entry(ep, slot, s->count - 1u);
    d->mid = mid;
    d->expires_ms = now_ms + lifetime_ms;
    d->reply_off = 0;
    d->reply_len = 0;
    if (d->expires_ms > s->expires_ms)
        s->expires_ms = d->expires_ms;
    return d;
}

bool coap_dedup_seen(coaps_coap_endpoint *ep, const coaps_peer *from, const coaps_coap_msg *m,
                     uint64_t now_ms, struct coap_dedup **entry)
{
    *entry = NULL;
    if (ep->cfg.dedup_disabled)
        return false;
    uint16_t slot = slot_find(ep, from);
    struct coap_dedup *dd = dedup_find(ep, slot, m->mid, now_ms);
    if (dd) {
        ep->stats.rx_duplicates++;
        if (m->type == COAPS_COAP_CON && dd->reply_len) {
            const uint8_t *area = ep->dedup_replies + (size_t)slot * ep->cfg.max_message_size;
            coap_outq_push(ep, from, area + dd->reply_off, dd->reply_len);
        }
        return true;
    }
    uint64_t life = m->type == COAPS_COAP_CON ? ep->cfg.exchange_lifetime_ms
                                              : ep->cfg.non_lifetime_ms;
    *entry = dedup_add(ep, slot, from, m->mid, life, now_ms);
    return false;
}

static bool ranges_overlap(size_t a, size_t alen, size_t b, size_t blen)
{
    return a < b + blen && b < a + alen;
}

/* Whether an entry of the slot other than d has its reply in [off, off+len). */
static bool replies_in(coaps_coap_endpoint *ep, uint16_t slot, const struct coap_dedup *d,
                       size_t off, size_t len)
{
    for (unsigned k = 0; k < ep->dedup_slots[slot].count; k++) {
        const struct coap_dedup *e = slot_entry(ep, slot, k);
        if (e != d && e->reply_len && ranges_overlap(e->reply_off, e->reply_len, off, len))
            return true;
    }
    return false;
}

void coap_dedup_set_reply(coaps_coap_endpoint *ep, struct coap_dedup *d, const uint8_t *reply,
                          size_t len, uint64_t now_ms)
{
    size_t area_len = ep->cfg.max_message_size;
    if (d == NULL || len == 0 || len > area_len)
        return;
    uint16_t slot = (uint16_t)((size_t)(d - ep->dedup) / ep->cfg.dedup_per_peer);
    struct coap_dedup_peer *s = &ep->dedup_slots[slot];
    d->reply_len = 0;
    size_t off = s->reply_tail;
    if (off + len > area_len)
        off = 0; /* wrap: the replies form a ring in the area */
    /* Replies are placed in the order of their entries, so what lies in
     * the way belongs to the oldest entries: drop them, oldest first. d is
     * the newest and holds no reply now, so this ends with d at the
     * latest, and a reply of up to area_len bytes then fits. */
    while (replies_in(ep, slot, d, off, len))
        slot_pop(ep, slot, now_ms);
    memcpy(ep->dedup_replies + (size_t)slot * area_len + off, reply, len);
    d->reply_off = (uint16_t)off;
    d->reply_len = (uint16_t)len;
    s->reply_tail = (uint16_t)(off + len);
}

void coap_dedup_forget_peer(coaps_coap_endpoint *ep, const coaps_peer *p)
{
    uint16_t slot = slot_find(ep, p);
    if (slot == COAP_NONE)
        return;
    slot_unlink(ep, slot);
    ep->dedup_slots[slot].hash_next = ep->dedup_free;
    ep->dedup_free = slot;
}

bool coap_dedup_has_peer(const coaps_coap_endpoint *ep, const coaps_peer *p)
{
    return slot_find(ep, p) != COAP_NONE;
}

/* The slot is re-indexed under `to`; its entries, cached replies and
 * place in the LRU list stay as they are: the peer was not heard from
 * anew, it only changed address. */
void coap_dedup_move_peer(coaps_coap_endpoint *ep, const coaps_peer *from, const coaps_peer *to)
{
    uint16_t slot = slot_find(ep, from);
    if (slot == COAP_NONE)
        return;
    hash_unlink(ep, slot);
    ep->dedup_slots[slot].peer = *to;
    hash_link(ep, slot);
}
