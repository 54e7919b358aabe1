/*
 * hs_pool.h - the coaps:// server's handshake contexts (or certificate
 * areas): a fixed set of slots lent to sessions while they handshake, and
 * the choice of whom to displace when all are lent.
 *
 * A flood of cookie-valid ClientHellos from addresses the attacker owns
 * (RFC 6347 4.2.1 validates the address, not the intent) can hold every
 * slot. Plain oldest-first eviction then takes the slot of a slow honest
 * device within milliseconds (issue 18: 64 slots, 3,000 hellos a second).
 * So the victim is, in this order:
 *   1. a handshake that made no progress (the peer sent nothing after its
 *      ClientHello) before one that did: a flooder that only repeats its
 *      ClientHello never progresses, an honest peer does within one round
 *      trip and its think time;
 *   2. among those, one from the source host that holds the most slots: a
 *      flood from few addresses displaces itself, not the devices around it;
 *   3. among those, the oldest.
 * Slots per host are counted exactly in a fixed open-addressing table
 * (twice as many entries as slots, a power of two, linear probing with
 * backward-shift deletion): O(1) expected per update and lookup.
 *
 * Lending and returning are O(1) (the slots in use are kept dense in
 * used[], so the timer walks only them); choosing a victim is one pass
 * over the slots in use (4,096 x 24 bytes: a few microseconds), and only
 * happens when all are lent. Sans-IO: the caller passes the time.
 */
#ifndef COAPS_NET_HS_POOL_H
#define COAPS_NET_HS_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "coaps/peer.h"
#include "coaps/status.h"

#define NET_HS_NONE UINT32_MAX

/* Most slots a pool has: 2^24 (its host table of 2^25 entries). */
#define NET_HS_POOL_MAX (1u << 24)

struct net_hs_slot {
    uint32_t owner;     /* the caller's session index; NET_HS_NONE: free */
    uint32_t pos;       /* index in used[] while lent */
    uint64_t host;      /* net_hs_host_key of the owner */
    uint64_t started_ms;
    bool progress;      /* the peer sent more than its ClientHello */
};

/* Slots lent per host; count 0: an empty entry. */
struct net_hs_host {
    uint64_t key;
    uint32_t count;
};

struct net_hs_pool {
    uint32_t cap;
    uint32_t in_use;
    struct net_hs_slot *slot; /* cap */
    uint32_t *used;           /* cap: the lent slots, dense in [0, in_use) */
    uint32_t *free_list;      /* cap: the free slots, a stack of cap - in_use */
    struct net_hs_host *hosts; /* mask + 1 entries, at most cap in use */
    uint32_t mask;
};

/* Allocate cap slots (1 <= cap <= NET_HS_POOL_MAX). COAPS_E_NOMEM,
 * COAPS_E_INVALID. */
coaps_status net_hs_pool_init(struct net_hs_pool *p, uint32_t cap);
void net_hs_pool_free(struct net_hs_pool *p);

/* The host part of a peer's address (IPv4 address; IPv6 /64 prefix, what
 * one subscriber gets), hashed: the key of the per-host count. */
uint64_t net_hs_host_key(const coaps_peer *peer);

/* Lend a free slot to owner (from host, now): its index, or NET_HS_NONE
 * when all are lent (then choose a victim, end its owner, give it back). */
uint32_t net_hs_pool_take(struct net_hs_pool *p, uint32_t owner, uint64_t host, uint64_t now_ms);

/* Return slot h (no-op when it is free). */
void net_hs_pool_give(struct net_hs_pool *p, uint32_t h);

/* The slot to displace (the order above), NET_HS_NONE when none is lent. */
uint32_t net_hs_pool_victim(const struct net_hs_pool *p);

static inline void net_hs_pool_set_progress(struct net_hs_pool *p, uint32_t h, bool progress)
{
    p->slot[h].progress = progress;
}

/* Slots the host holds. */
uint32_t net_hs_pool_host_count(const struct net_hs_pool *p, uint64_t host);

#endif /* COAPS_NET_HS_POOL_H */
