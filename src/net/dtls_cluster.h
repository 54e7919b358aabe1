/*
 * dtls_cluster.h - the coaps:// sessions of a cluster node (coaps-server
 * --store URI, issue 19; docs/cluster.md): each established session goes
 * into the store (net/store.h), and a record for a session this node does
 * not hold (an unknown CID, or an epoch-1 record from an unknown address)
 * takes it over from there, with no handshake.
 *
 * One node serves a session at a time, and no (epoch, sequence number) is
 * sealed twice under one key:
 *   - a session is stored when its handshake is over (its handshake
 *     context released: the blob of coaps_dtls_export), with the lease
 *     and a first block of write sequence numbers
 *     (coaps_dtls_set_write_block);
 *   - a takeover first fetches the record and checks that the datagram
 *     authenticates under it and is newer than any record the snapshot
 *     saw (coaps_dtls_input_newest): a forged or replayed datagram takes
 *     nothing. Only then is the lease taken (a new fence and a block past
 *     every block before), so a flood of forgeries cannot move sessions;
 *     takeovers tried are rate-limited (NET_CLUSTER_TAKES_PER_S), so it
 *     cannot flood the store either;
 *   - the node that lost a session hears it at once (the store's lost()
 *     event) and ends it without close_notify and without touching the
 *     store; if it did not hear, its next block is refused (the fence
 *     moved on) and it stops there. Until then it seals in its own block:
 *     the numbers never overlap;
 *   - a session's end here (close_notify, failure, idle time) removes it
 *     from the store if this node still holds it. At shutdown (SIGTERM)
 *     the sessions stay in the store, for the other nodes or this one
 *     restarted.
 * The store's time to live is the idle timeout, refreshed in one batch
 * for the sessions with traffic every quarter of it: no store round trip
 * per request.
 */
#ifndef COAPS_NET_DTLS_CLUSTER_H
#define COAPS_NET_DTLS_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coaps/peer.h"

struct net_dtls_server;
struct net_endpoint;
struct net_store;

/* Takeovers tried per second at most, with bursts of NET_CLUSTER_TAKE_BURST:
 * each costs a store round trip and a decryption. A node that dies moves
 * its devices to the others as they next speak, which for a fleet is
 * spread over their reporting interval; 1,000 a second moves 100,000
 * devices in under two minutes. */
#define NET_CLUSTER_TAKES_PER_S 1000u
#define NET_CLUSTER_TAKE_BURST 200u
/* A new block is reserved once fewer than this many numbers are left in
 * the one held (a quarter of a block: the store may be slow a while). */
#define NET_CLUSTER_SEQ_LOW (UINT64_C(1) << 14)
/* Sessions whose time to live one refresh renews per store call. */
#define NET_CLUSTER_TOUCH_BATCH 256u

struct net_cluster {
    struct net_store *store; /* NULL: not a cluster node */
    uint64_t tokens_ms;      /* token bucket of takeovers, in ms of rate */
    uint64_t tokens_at;
    uint64_t refresh_ms;     /* the last time-to-live refresh */
    uint64_t obs_events;     /* the CoAP endpoint's observer changes seen */
};

/* Make srv a node of the cluster whose store is st (borrowed; it must
 * outlive srv): before its first datagram. */
void net_cluster_init(struct net_dtls_server *srv, struct net_store *st, uint64_t now_ms);

/* Session i was served (net_dtls_session_service): store it once its
 * handshake is over; keep its record current when its peer's Observe
 * registrations changed. */
void net_cluster_after_service(struct net_dtls_server *srv, uint32_t i, uint64_t now_ms);

/* A datagram for no session of this node: a tls12_cid record whose CID
 * none has (cid, cid_len), or (cid NULL) an epoch-1 record from an
 * address none has. true when the datagram was taken care of (the session
 * taken over and the datagram served, or refused and counted). */
bool net_cluster_take(struct net_dtls_server *srv, struct net_endpoint *ep, const coaps_peer *src,
                      const uint8_t *cid, size_t cid_len, const uint8_t *data, size_t len,
                      uint64_t now_ms);

/* Before sealing a record on session i: a new block when the one held
 * runs low. false when another node holds the session now: it has ended
 * (net_dtls_session_end), send nothing. */
bool net_cluster_before_write(struct net_dtls_server *srv, uint32_t i, uint64_t now_ms);

/* Session i is ending: out of the store, if this node still holds it. */
void net_cluster_end(struct net_dtls_server *srv, uint32_t i);

/* The store says another node took the session of key with fence. */
void net_cluster_lost(struct net_dtls_server *srv, const uint8_t *key, size_t key_len,
                      uint64_t fence, uint64_t now_ms);

/* The time-to-live refresh: when it is due, and doing it. */
uint64_t net_cluster_deadline(const struct net_dtls_server *srv);
void net_cluster_due(struct net_dtls_server *srv, uint64_t now_ms);

/* The store's key for peer's state (its replies, for deduplication across
 * nodes): its session's (by CID or address) when srv has one, else by
 * its address; a coap:// peer's apart from a coaps:// one's. Returns the
 * length (at most NET_STORE_KEY_MAX). srv may be NULL. */
size_t net_cluster_peer_key(const struct net_dtls_server *srv, const coaps_peer *peer,
                            uint8_t key[]);

/* Shutdown: every stored session stays in the store (no close_notify, no
 * removal), for the other nodes or this one restarted. */
void net_cluster_hand_over(struct net_dtls_server *srv);

#endif /* COAPS_NET_DTLS_CLUSTER_H */
