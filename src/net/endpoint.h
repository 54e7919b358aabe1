/*
 * endpoint.h - one bound UDP socket of the edge, and the transport that
 * runs over it (coap:// = COAPS_TRANSPORT_UDP, coaps:// = _DTLS).
 *
 * An endpoint owns its socket and a batch of datagrams waiting to be sent
 * with one sendmmsg. It knows nothing of CoAP: the edge (edge.h) reads from
 * it and queues to it. A DTLS layer queues its records the same way.
 */
#ifndef COAPS_NET_ENDPOINT_H
#define COAPS_NET_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "coaps/peer.h"
#include "coaps/status.h"
#include "net/udp.h"

struct net_edge;

struct net_endpoint_stats {
    uint64_t rx_datagrams;
    uint64_t rx_dropped;   /* truncated, unknown address family */
    uint64_t rx_coalesced; /* receive buffers that held several datagrams (UDP_GRO) */
    uint64_t tx_datagrams; /* taken by the kernel */
    uint64_t tx_dropped;   /* refused by the kernel (buffer full, ICMP error) */
};

struct net_endpoint {
    int fd;
    int family;                     /* AF_INET or AF_INET6 */
    bool dual_stack;                /* AF_INET6 socket that carries IPv4 too */
    bool gso;                       /* send runs to one peer as UDP_SEGMENT (udp.h) */
    enum coaps_transport transport; /* what runs over this socket */
    struct sockaddr_storage local;  /* bound address (port resolved) */
    socklen_t local_len;
    struct net_edge *edge;          /* owner */
    struct net_endpoint_stats stats;
    size_t n_tx;
    struct net_dgram tx[NET_UDP_BATCH]; /* queued for the next sendmmsg */
};

/* Open and bind the endpoint's socket (see net_udp_open). On failure
 * COAPS_E_IO with *err_no = errno. */
coaps_status net_endpoint_open(struct net_endpoint *ep, const struct sockaddr *addr,
                               socklen_t len, enum coaps_transport transport, int *err_no);

/* True when a datagram to peer can leave through this endpoint: same
 * transport, and the socket's family can reach the peer's. */
bool net_endpoint_reaches(const struct net_endpoint *ep, const coaps_peer *peer);

/* Queue one datagram to peer (copied); sends the batch when it is full.
 * COAPS_E_UNSUPPORTED if the peer's family cannot use this socket;
 * COAPS_E_NOSPACE if len > NET_UDP_DGRAM_MAX. */
coaps_status net_endpoint_queue(struct net_endpoint *ep, const coaps_peer *to,
                                const uint8_t *data, size_t len);

/* Send whatever is queued. */
void net_endpoint_flush(struct net_endpoint *ep);

/* Close the socket (queued datagrams are sent first). */
void net_endpoint_close(struct net_endpoint *ep);

#endif /* COAPS_NET_ENDPOINT_H */
