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
    uint64_t rx_kernel_dropped; /* never reached us: the kernel dropped them,
                                   the receive buffer being full (read with
                                   SO_RXQ_OVFL / SO_MEMINFO) */
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
    int rcvbuf;                     /* SO_RCVBUF as the kernel reports it (twice
                                       what it granted), 0 if unknown */
    uint32_t rx_drops_seen;         /* the socket's drop count last accounted */
    size_t n_tx;
    struct net_dgram tx[NET_UDP_BATCH]; /* queued for the next sendmmsg */
};

/* Open and bind the endpoint's socket (see net_udp_open; with reuseport
 * net_udp_open_reuseport). On failure COAPS_E_IO with *err_no = errno. */
coaps_status net_endpoint_open(struct net_endpoint *ep, const struct sockaddr *addr,
                               socklen_t len, enum coaps_transport transport, bool reuseport,
                               int *err_no);

/* Ask for a receive buffer of `bytes` (net_udp_set_rcvbuf); ep->rcvbuf
 * says what the kernel gave. COAPS_E_IO if it refused both ways. */
coaps_status net_endpoint_set_rcvbuf(struct net_endpoint *ep, int bytes);

/* The socket's drop count was `drops` (from a received datagram's
 * SO_RXQ_OVFL): add what is new to stats.rx_kernel_dropped. A count older
 * than the last one seen (serial arithmetic, it wraps at 2^32) adds
 * nothing. */
void net_endpoint_note_drops(struct net_endpoint *ep, uint32_t drops);

/* Bring stats.rx_kernel_dropped up to date now (SO_MEMINFO): drops after
 * the last datagram received show only this way. */
void net_endpoint_update_drops(struct net_endpoint *ep);

/* True when a datagram to peer can leave through this endpoint: same
 * transport, and the socket's family can reach the peer's. */
bool net_endpoint_reaches(const struct net_endpoint *ep, const coaps_peer *peer);

/* Queue one datagram to peer (copied); sends the batch when it is full.
 * COAPS_E_UNSUPPORTED if the peer's family cannot use this socket;
 * COAPS_E_NOSPACE if len > NET_UDP_DGRAM_MAX. */
coaps_status net_endpoint_queue(struct net_endpoint *ep, const coaps_peer *to,
                                const uint8_t *data, size_t len);

/* The same without the copy, for a datagram made in place (a DTLS record
 * sealed straight into the batch): *buf is the next datagram's buffer, of
 * NET_UDP_DGRAM_MAX bytes, addressed to `to` (a full batch is sent
 * first); net_endpoint_commit(ep, len) queues what was written there, and
 * without it nothing is. Nothing else may be queued on ep in between.
 * COAPS_E_UNSUPPORTED as above. */
coaps_status net_endpoint_next(struct net_endpoint *ep, const coaps_peer *to, uint8_t **buf);
void net_endpoint_commit(struct net_endpoint *ep, size_t len);

/* Send whatever is queued. */
void net_endpoint_flush(struct net_endpoint *ep);

/* Close the socket (queued datagrams are sent first). */
void net_endpoint_close(struct net_endpoint *ep);

/* The port ep is bound to (0 before it is). */
uint16_t net_endpoint_port(const struct net_endpoint *ep);

#endif /* COAPS_NET_ENDPOINT_H */
