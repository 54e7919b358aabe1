/*
 * handoff.h - the other way a CID record finds its worker
 * (coaps-server --cid-steer handoff; docs/workers.md): the worker whose
 * socket received it sees a CID tagged with another worker's index and
 * passes the datagram to that worker through a bounded single-producer,
 * single-consumer ring, then wakes it (its eventfd) when the ring was
 * empty. One ring per ordered pair of workers, so each has exactly one
 * writer and one reader and needs no lock: the writer publishes a slot
 * with a release store of the tail, the reader takes it after an acquire
 * load and frees it with a release store of the head.
 *
 * Memory: NET_HANDOFF_SLOTS slots of a peer and a datagram (1.6 KiB) per
 * ring, N x (N - 1) rings, allocated once (calloc: pages no datagram
 * reached are never touched). A full ring drops the datagram (counted by
 * the caller): the peer retransmits, as after any loss.
 */
#ifndef COAPS_NET_HANDOFF_H
#define COAPS_NET_HANDOFF_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coaps/peer.h"
#include "net/udp.h"

/* Slots a ring: a burst of records from moved peers while the owner is
 * busy; 128 x 1.6 KiB = 200 KiB of address space a ring. A power of two. */
#define NET_HANDOFF_SLOTS 128

struct net_handoff_slot {
    coaps_peer peer;
    uint16_t len;
    uint8_t data[NET_UDP_DGRAM_MAX];
};

struct net_handoff_ring {
    _Alignas(64) _Atomic uint32_t head; /* next slot to read (the reader's) */
    _Alignas(64) _Atomic uint32_t tail; /* next slot to write (the writer's) */
    struct net_handoff_slot slots[NET_HANDOFF_SLOTS];
};

/* Writer: copy one datagram in. false when the ring is full or len is
 * beyond a slot. *was_empty: the reader may be asleep, wake it. */
bool net_handoff_push(struct net_handoff_ring *r, const coaps_peer *peer, const uint8_t *data,
                      size_t len, bool *was_empty);

/* Reader: the oldest datagram, or NULL; the reader's (it may write in
 * it: DTLS decrypts in place) until net_handoff_pop frees it. */
struct net_handoff_slot *net_handoff_peek(struct net_handoff_ring *r);
void net_handoff_pop(struct net_handoff_ring *r);

#endif /* COAPS_NET_HANDOFF_H */
