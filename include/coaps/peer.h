/*
 * coaps/peer.h - who a datagram came from or goes to, as the sans-IO cores
 * see it.
 *
 * The CoAP message layer and the DTLS engine never touch sockets, so they do
 * not know struct sockaddr either: a peer is an opaque address blob (the edge
 * stores a struct sockaddr_in or sockaddr_in6 in it) and the transport it
 * came over. Two peers are the same peer when coaps_peer_equal() says so:
 * same transport, same address bytes. The edge must fill unused bytes with
 * zeros so that memcmp-equality is address equality.
 */
#ifndef COAPS_PEER_H
#define COAPS_PEER_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Room for a struct sockaddr_in6 (28 bytes on Linux) with margin. */
#define COAPS_PEER_ADDR_MAX 32

enum coaps_transport {
    COAPS_TRANSPORT_UDP = 0,  /* coap://  */
    COAPS_TRANSPORT_DTLS = 1, /* coaps:// */
};

typedef struct coaps_peer {
    uint8_t addr[COAPS_PEER_ADDR_MAX]; /* opaque to the cores; zero-padded */
    uint8_t addr_len;                  /* bytes of addr in use */
    uint8_t transport;                 /* enum coaps_transport */
} coaps_peer;

static inline bool coaps_peer_equal(const coaps_peer *a, const coaps_peer *b)
{
    return a->transport == b->transport && a->addr_len == b->addr_len &&
           memcmp(a->addr, b->addr, a->addr_len) == 0;
}

/* A 32-bit hash of a peer (FNV-1a), for the edge's and cores' hash tables. */
static inline uint32_t coaps_peer_hash(const coaps_peer *p)
{
    uint32_t h = 2166136261u ^ p->transport;
    for (uint8_t i = 0; i < p->addr_len; i++)
        h = (h ^ p->addr[i]) * 16777619u;
    return h;
}

#ifdef __cplusplus
}
#endif
#endif /* COAPS_PEER_H */
