/*
 * session_table.h - the coaps:// server's sessions by peer address: O(1)
 * lookup (a chained hash table over a fixed array of slots), a bounded
 * number of slots, and a least-recently-used list of the established ones
 * for idle expiry and eviction.
 *
 * The table only keeps addresses, links and times; the caller keeps what a
 * session holds (its DTLS connection) in a parallel array indexed by the
 * same slot number. Memory is allocated once by init (set-up path) and
 * never per packet: cap slots + a power-of-two bucket array >= 2 x cap.
 *
 * Only established sessions are on the LRU list (net_session_lru_add):
 * handshakes have their own bound and timeout in the DTLS layer.
 *
 * Cold sessions (silent for a while: their crypto state given back,
 * coaps_dtls_cool) are a run at the LRU list's tail: cold_edge is the most
 * recent of them, and every session between it and the tail is cold.
 * Cooling moves cold_edge one session towards the head; traffic moves a
 * session to the head (out of the run) and removal unlinks it. Each
 * session so cools once per silence, O(1) each: no scan of the table.
 */
#ifndef COAPS_NET_SESSION_TABLE_H
#define COAPS_NET_SESSION_TABLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coaps/peer.h"
#include "coaps/status.h"

/* "No slot" in links and results. */
#define NET_SESSION_NONE UINT32_MAX

/* Largest table: 1 Mi sessions (a session costs >= 2 KiB with its crypto
 * contexts, so this is 2 GiB: beyond any device this server is for). */
#define NET_SESSION_TABLE_MAX (1u << 20)

struct net_session_slot {
    coaps_peer peer;
    uint32_t hash_next; /* next slot in the same bucket */
    uint32_t lru_prev;  /* towards the most recently used */
    uint32_t lru_next;  /* towards the least recently used */
    uint64_t last_ms;   /* last traffic (net_session_touch) */
    bool used;
    bool in_lru;
};

/* A bound on sessions that several tables share (a server's workers,
 * net/server_worker.h): each table holds sessions in its own slots, and
 * all of them together at most cap. The count is the tables' sessions. */
struct net_session_total {
    _Atomic uint32_t count;
    uint32_t cap;
};

struct net_session_table {
    uint32_t cap;
    uint32_t count;
    uint32_t bucket_mask;
    uint32_t *buckets; /* first slot of each chain, NET_SESSION_NONE if empty */
    struct net_session_slot *slots;
    uint32_t free_head; /* free slots chained through hash_next */
    uint32_t lru_head;  /* most recently used */
    uint32_t lru_tail;  /* least recently used */
    uint32_t cold_edge; /* most recent cold session, NET_SESSION_NONE: none */
    struct net_session_total *total; /* shared bound, or NULL (net_session_table_share) */
};

/* Allocate a table of cap (1..NET_SESSION_TABLE_MAX) slots. COAPS_E_NOMEM
 * or COAPS_E_INVALID. */
coaps_status net_session_table_init(struct net_session_table *t, uint32_t cap);
void net_session_table_free(struct net_session_table *t);

/* Make the table one of those sharing total: from now on an insert also
 * needs total->count below total->cap, and counts itself there until its
 * remove. Before the first insert. */
void net_session_table_share(struct net_session_table *t, struct net_session_total *total);

/* The slot holding peer, or NET_SESSION_NONE. */
uint32_t net_session_find(const struct net_session_table *t, const coaps_peer *peer);

/* Take a free slot for peer (not on the LRU list yet). NET_SESSION_NONE
 * when the table is full, or the shared bound is reached. The caller must
 * not insert a peer twice. */
uint32_t net_session_insert(struct net_session_table *t, const coaps_peer *peer,
                            uint64_t now_ms);

/* Free a slot (unlinks it from its chain and the LRU list). */
void net_session_remove(struct net_session_table *t, uint32_t slot);

/* The session in a used slot is now at `to` (its peer's address changed,
 * RFC 9146): re-key the slot under it. Slot number, LRU position and
 * times stay: a move is not traffic. The caller guarantees that `to` is
 * in no slot. */
void net_session_move(struct net_session_table *t, uint32_t slot, const coaps_peer *to);

/* Put an established session on the LRU list, most recent. */
void net_session_lru_add(struct net_session_table *t, uint32_t slot, uint64_t now_ms);

/* Traffic on a session: record the time, move it to the LRU front. */
void net_session_touch(struct net_session_table *t, uint32_t slot, uint64_t now_ms);

/* The least recently used established session, or NET_SESSION_NONE. */
static inline uint32_t net_session_lru_oldest(const struct net_session_table *t)
{
    return t->lru_tail;
}

/* The eviction victim for a newcomer: the least recently used session, if
 * it has been silent for at least busy_ms (a CoAP exchange may still be in
 * progress on a session that saw traffic more recently, RFC 7252 4.8.2
 * MAX_TRANSMIT_WAIT); else NET_SESSION_NONE. LRU order means that when the
 * oldest is busy, every session is. */
uint32_t net_session_victim(const struct net_session_table *t, uint64_t now_ms,
                            uint64_t busy_ms);

/* The next session to make cold: the one just before the cold run, if
 * silent for at least cold_ms; it joins the run (the caller cools it).
 * NET_SESSION_NONE when there is none yet. */
uint32_t net_session_cool_next(struct net_session_table *t, uint64_t now_ms, uint64_t cold_ms);
/* When net_session_cool_next will next have a session: UINT64_MAX when
 * every session on the list is cold. */
uint64_t net_session_cool_due(const struct net_session_table *t, uint64_t cold_ms);
static inline const struct net_session_slot *net_session_at(const struct net_session_table *t,
                                                            uint32_t slot)
{
    return &t->slots[slot];
}

#endif /* COAPS_NET_SESSION_TABLE_H */
