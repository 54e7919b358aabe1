/* session_table.c - sessions by peer, with an LRU list (see session_table.h). */
#include "net/session_table.h"

#include <stdlib.h>
#include <string.h>

#include "common/try.h"
#include "net/buckets.h"

coaps_status net_session_table_init(struct net_session_table *t, uint32_t cap)
{
    memset(t, 0, sizeof *t);
    ENSURE(cap >= 1 && cap <= NET_SESSION_TABLE_MAX, COAPS_E_INVALID);
    /* calloc: pages of slots never used are never touched, so a large cap
     * costs address space, not RSS. */
    t->buckets = net_buckets_new(cap, &t->bucket_mask); /* all NET_SESSION_NONE */
    t->slots = calloc(cap, sizeof *t->slots);
    if (t->buckets == NULL || t->slots == NULL) {
        net_session_table_free(t);
        return COAPS_E_NOMEM;
    }
    t->cap = cap;
    /* the free list is implicit beyond free_head: slot i is free when
     * !used; we chain lazily to avoid touching every slot up front */
    t->free_head = NET_SESSION_NONE;
    t->lru_head = t->lru_tail = t->cold_edge = NET_SESSION_NONE;
    return COAPS_OK;
}

void net_session_table_free(struct net_session_table *t)
{
    if (t->total != NULL) /* the sessions still here leave the shared count */
        atomic_fetch_sub_explicit(&t->total->count, t->count, memory_order_relaxed);
    free(t->buckets);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

static uint32_t bucket_of(const struct net_session_table *t, const coaps_peer *peer)
{
    return coaps_peer_hash(peer) & t->bucket_mask;
}

uint32_t net_session_find(const struct net_session_table *t, const coaps_peer *peer)
{
    if (t->cap == 0)
        return NET_SESSION_NONE;
    for (uint32_t i = t->buckets[bucket_of(t, peer)]; i != NET_SESSION_NONE;
         i = t->slots[i].hash_next)
        if (coaps_peer_equal(&t->slots[i].peer, peer))
            return i;
    return NET_SESSION_NONE;
}

/* Put slot i at the head of its peer's chain. */
static void hash_link(struct net_session_table *t, uint32_t i)
{
    uint32_t b = bucket_of(t, &t->slots[i].peer);
    t->slots[i].hash_next = t->buckets[b];
    t->buckets[b] = i;
}

static void hash_unlink(struct net_session_table *t, uint32_t i)
{
    uint32_t *link = &t->buckets[bucket_of(t, &t->slots[i].peer)];
    while (*link != i && *link != NET_SESSION_NONE)
        link = &t->slots[*link].hash_next;
    if (*link == i)
        *link = t->slots[i].hash_next;
}

/* A free slot: a recycled one, else the next never-used one (slots
 * above every slot ever used). */
static uint32_t take_free(struct net_session_table *t)
{
    if (t->free_head != NET_SESSION_NONE) {
        uint32_t i = t->free_head;
        t->free_head = t->slots[i].hash_next;
        return i;
    }
    /* No recycled slot: every slot below count is in use, so slot count is
     * the first never used one (slots are only recycled through the free
     * list, which is empty). */
    return t->count < t->cap ? t->count : NET_SESSION_NONE;
}

void net_session_table_share(struct net_session_table *t, struct net_session_total *total)
{
    t->total = total;
}

/* One more session under the shared bound, if it has room. */
static bool total_take(struct net_session_total *total)
{
    uint32_t n = atomic_load_explicit(&total->count, memory_order_relaxed);
    do {
        if (n >= total->cap)
            return false;
    } while (!atomic_compare_exchange_weak_explicit(&total->count, &n, n + 1,
                                                    memory_order_relaxed,
                                                    memory_order_relaxed));
    return true;
}

static void total_give(struct net_session_total *total)
{
    if (total != NULL)
        atomic_fetch_sub_explicit(&total->count, 1, memory_order_relaxed);
}

uint32_t net_session_insert(struct net_session_table *t, const coaps_peer *peer,
                            uint64_t now_ms)
{
    if (t->total != NULL && !total_take(t->total))
        return NET_SESSION_NONE;
    uint32_t i = take_free(t);
    if (i == NET_SESSION_NONE) {
        total_give(t->total);
        return i;
    }
    struct net_session_slot *s = &t->slots[i];
    memset(s, 0, sizeof *s);
    s->peer = *peer;
    s->used = true;
    s->last_ms = now_ms;
    s->lru_prev = s->lru_next = NET_SESSION_NONE;
    hash_link(t, i);
    t->count++;
    return i;
}

/* i leaves the cold run (traffic or removal): the run now starts at the
 * next older session, which is cold too (or there is none). */
static void cold_leave(struct net_session_table *t, uint32_t i)
{
    if (t->cold_edge == i)
        t->cold_edge = t->slots[i].lru_next;
}

static void lru_unlink(struct net_session_table *t, uint32_t i)
{
    struct net_session_slot *s = &t->slots[i];
    if (!s->in_lru)
        return;
    cold_leave(t, i);
    if (s->lru_prev != NET_SESSION_NONE)
        t->slots[s->lru_prev].lru_next = s->lru_next;
    else
        t->lru_head = s->lru_next;
    if (s->lru_next != NET_SESSION_NONE)
        t->slots[s->lru_next].lru_prev = s->lru_prev;
    else
        t->lru_tail = s->lru_prev;
    s->lru_prev = s->lru_next = NET_SESSION_NONE;
    s->in_lru = false;
}

static void lru_push_front(struct net_session_table *t, uint32_t i)
{
    struct net_session_slot *s = &t->slots[i];
    s->lru_prev = NET_SESSION_NONE;
    s->lru_next = t->lru_head;
    if (t->lru_head != NET_SESSION_NONE)
        t->slots[t->lru_head].lru_prev = i;
    else
        t->lru_tail = i;
    t->lru_head = i;
    s->in_lru = true;
}

void net_session_remove(struct net_session_table *t, uint32_t i)
{
    struct net_session_slot *s = &t->slots[i];
    if (!s->used)
        return;
    lru_unlink(t, i);
    hash_unlink(t, i);
    s->used = false;
    s->hash_next = t->free_head;
    t->free_head = i;
    t->count--;
    total_give(t->total);
}

void net_session_move(struct net_session_table *t, uint32_t i, const coaps_peer *to)
{
    struct net_session_slot *s = &t->slots[i];
    if (!s->used)
        return;
    hash_unlink(t, i);
    s->peer = *to;
    hash_link(t, i);
}

void net_session_lru_add(struct net_session_table *t, uint32_t i, uint64_t now_ms)
{
    lru_unlink(t, i);
    t->slots[i].last_ms = now_ms;
    lru_push_front(t, i);
}

void net_session_touch(struct net_session_table *t, uint32_t i, uint64_t now_ms)
{
    struct net_session_slot *s = &t->slots[i];
    /* Touched already this millisecond: every slot in front of it was
     * touched since, so at now_ms too, and the list is still ordered by
     * last_ms. A busy session (a request and its response every few
     * microseconds) moves once per millisecond, not twice per request. */
    if (s->last_ms == now_ms)
        return;
    s->last_ms = now_ms;
    cold_leave(t, i); /* at the head already: it stays there, warm */
    if (s->in_lru && t->lru_head != i) {
        lru_unlink(t, i);
        lru_push_front(t, i);
    }
}

uint32_t net_session_victim(const struct net_session_table *t, uint64_t now_ms,
                            uint64_t busy_ms)
{
    uint32_t i = t->lru_tail;
    if (i == NET_SESSION_NONE || now_ms - t->slots[i].last_ms < busy_ms)
        return NET_SESSION_NONE;
    return i;
}

/* The session just before the cold run: the tail when there is no run. */
static uint32_t cool_candidate(const struct net_session_table *t)
{
    if (t->cold_edge == NET_SESSION_NONE)
        return t->lru_tail;
    return t->slots[t->cold_edge].lru_prev;
}

uint32_t net_session_cool_next(struct net_session_table *t, uint64_t now_ms, uint64_t cold_ms)
{
    uint32_t i = cool_candidate(t);
    if (i == NET_SESSION_NONE || now_ms - t->slots[i].last_ms < cold_ms)
        return NET_SESSION_NONE;
    t->cold_edge = i;
    return i;
}

uint64_t net_session_cool_due(const struct net_session_table *t, uint64_t cold_ms)
{
    uint32_t i = cool_candidate(t);
    return i == NET_SESSION_NONE ? UINT64_MAX : t->slots[i].last_ms + cold_ms;
}
