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
 * Slots per host are counted exactly: each host holding slots has an id
 * (at most cap hosts at once) found by its key in a fixed open-addressing
 * table (twice as many entries as slots, a power of two, linear probing
 * with backward-shift deletion), and a count per id; a slot keeps its
 * host's id, so reading a count is one array access.
 *
 * Lending and returning are O(1) (the slots in use are kept dense in
 * used[], so the timer walks only them); choosing a victim is one pass
 * over the slots in use (4,096 of them: about 20 microseconds), and only
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
    uint32_t host_id;   /* index of its host's count in host_count */
    bool progress;      /* the peer sent more than its ClientHello */
    uint64_t host;      /* net_hs_host_key of the owner */
    uint64_t started_ms;
};


/* An entry of the host table: the id of a host holding slots. */
struct net_hs_host {
    uint64_t key;
    uint32_t id;
    bool live; /* false: an empty entry */
};

/* Bytes of bookkeeping a slot costs: the slot, its places in used[] and
 * free_list, two host-table entries, a host count and a free host id. */
#define NET_HS_POOL_BYTES_PER_SLOT \
    (sizeof(struct net_hs_slot) + 2 * sizeof(uint32_t) + 2 * sizeof(struct net_hs_host) + \
     2 * sizeof(uint32_t))

struct net_hs_pool {
    uint32_t cap;
    uint32_t in_use;
    struct net_hs_slot *slot; /* cap */
    uint32_t *used;           /* cap: the lent slots, dense in [0, in_use) */
    uint32_t *free_list;      /* cap: the free slots, a stack of cap - in_use */
    struct net_hs_host *hosts; /* mask + 1 entries, at most cap live */
    uint32_t mask;
    uint32_t *host_count;     /* cap: slots held, by host id */
    uint32_t *host_free;      /* cap: free host ids, a stack */
    uint32_t hosts_live;
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

/* The slot of host to displace when the host holds its most (the
 * server's per-host bound): of its own, one without progress first, then
 * the oldest. NET_HS_NONE when it holds none. One pass over the slots in
 * use, only when a host is at its bound. */
uint32_t net_hs_pool_host_victim(const struct net_hs_pool *p, uint64_t host);

#endif /* COAPS_NET_HS_POOL_H */
