/*
 * edge.h - drive one sans-IO CoAP endpoint from sockets and the event loop.
 *
 * A datagram's path (docs/architecture.md):
 *   socket -> net_endpoint -> transport hook (DTLS: session lookup + record
 *   decryption; UDP: none) -> net_edge_deliver() -> coaps_coap_input()
 * and back:
 *   coap_output_take() (the message where the CoAP layer queued it) ->
 *   route by peer.transport -> transport hook (DTLS: sealed straight into
 *   the send batch; UDP: copied there, net_endpoint_queue()) -> sendmmsg.
 *
 * coap:// endpoints are handled here directly. For coaps:// the DTLS layer
 * registers a struct net_transport_hooks with net_edge_set_hooks(); the
 * edge then passes every datagram of a COAPS_TRANSPORT_DTLS endpoint to
 * hooks.rx and every CoAP message for a DTLS peer to hooks.tx, and the DTLS
 * layer calls net_edge_deliver() with the decrypted application data (peer
 * with transport = COAPS_TRANSPORT_DTLS) and net_endpoint_queue() with its
 * records. Its timers join the loop through net_loop_add_timer().
 *
 * The caller owns the struct (it is large: receive and send batches; put it
 * on the heap) and the CoAP endpoint; both outlive net_edge_close(). The
 * endpoint's max_message_size must not exceed NET_UDP_DGRAM_MAX (the
 * default, 1280, does not), or its larger datagrams stay queued.
 */
#ifndef COAPS_NET_EDGE_H
#define COAPS_NET_EDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "coaps/coap.h"
#include "coaps/peer.h"
#include "coaps/status.h"
#include "net/endpoint.h"
#include "net/log.h"
#include "net/loop.h"
#include "net/udp.h"

/* Sockets one edge serves: coap:// and coaps://, each on up to two
 * addresses (e.g. an IPv4 and an IPv6 one). */
#define NET_EDGE_MAX_ENDPOINTS 4

/* Transports the edge can route (enum coaps_transport values). */
#define NET_EDGE_TRANSPORTS 2

struct net_transport_hooks {
    /* A datagram arrived on ep from src (src->transport == ep->transport).
     * data is the hook's to write in until it returns (DTLS decrypts in
     * place: no copy of each datagram). */
    void (*rx)(void *ctx, struct net_endpoint *ep, const coaps_peer *src, uint8_t *data,
               size_t len, uint64_t now_ms);
    /* The CoAP endpoint wants msg sent to `to` over ep. */
    coaps_status (*tx)(void *ctx, struct net_endpoint *ep, const coaps_peer *to,
                       const uint8_t *msg, size_t len, uint64_t now_ms);
    void *ctx;
};

struct net_edge_stats {
    uint64_t rx_dropped;  /* datagrams whose source address we cannot use */
    uint64_t tx_unrouted; /* CoAP output with no endpoint for its peer */
};

struct net_edge {
    coaps_coap_endpoint *coap;
    const struct net_log *log;
    int rcvbuf; /* receive buffer asked for each socket net_edge_open opens
                   (net_endpoint_set_rcvbuf); 0 (net_edge_init's): the
                   kernel's default */
    bool reuseport; /* net_edge_open's sockets share their port
                       (SO_REUSEPORT): one edge per worker thread */
    struct net_endpoint eps[NET_EDGE_MAX_ENDPOINTS];
    size_t n_eps;
    struct net_transport_hooks hooks[NET_EDGE_TRANSPORTS]; /* rx == NULL: plain */
    struct net_edge_stats stats;
    /* Last: one recvmmsg batch, 1 MiB of address space (GRO buffers) that
     * net_edge_init leaves alone, so only what data reaches is touched. */
    struct net_rx_dgram rx[NET_UDP_BATCH];
};

/* Start an edge for the CoAP endpoint coap (borrowed). log may be NULL. */
void net_edge_init(struct net_edge *edge, coaps_coap_endpoint *coap, const struct net_log *log);

/* Open a socket bound to addr for the given transport. *out (may be NULL)
 * receives the endpoint. COAPS_E_FULL after NET_EDGE_MAX_ENDPOINTS;
 * COAPS_E_IO with *err_no = errno when the socket cannot be bound. */
coaps_status net_edge_open(struct net_edge *edge, const struct sockaddr *addr, socklen_t len,
                           enum coaps_transport transport, struct net_endpoint **out,
                           int *err_no);

/* Route a transport through hooks (the DTLS layer). Copied. */
void net_edge_set_hooks(struct net_edge *edge, enum coaps_transport transport,
                        const struct net_transport_hooks *hooks);

/* Watch every endpoint in loop and add the CoAP endpoint's timer. */
coaps_status net_edge_attach(struct net_edge *edge, struct net_loop *loop);

/* Watch one endpoint opened after net_edge_attach (a socket added to a
 * running server). */
coaps_status net_edge_watch(struct net_edge *edge, struct net_loop *loop, struct net_endpoint *ep);

/* A datagram another worker's socket on ep's port received (net/handoff.h),
 * handled as if ep had: through the transport's hooks. The caller flushes
 * (net_edge_flush) at least every NET_UDP_BATCH datagrams. */
void net_edge_inject(struct net_edge *edge, struct net_endpoint *ep, const coaps_peer *from,
                     uint8_t *data, size_t len, uint64_t now_ms);

/* Hand one plaintext CoAP datagram from `from` to the CoAP endpoint. */
void net_edge_deliver(struct net_edge *edge, const coaps_peer *from, const uint8_t *data,
                      size_t len, uint64_t now_ms);

/* Drain the CoAP endpoint's output to the sockets. Call after any API
 * call made outside the loop's callbacks (e.g. coaps_coap_request_send). */
void net_edge_flush(struct net_edge *edge, uint64_t now_ms);

/* Send what every endpoint has queued (net_endpoint_flush), without
 * draining the CoAP endpoint's output. */
void net_edge_send_queued(struct net_edge *edge);

/* A transport's session with peer ended: the CoAP endpoint forgets the
 * peer's state (coaps_coap_forget_peer). */
void net_edge_peer_gone(struct net_edge *edge, const coaps_peer *peer);

/* A transport's session moved from `from` to `to` (RFC 9146): the CoAP
 * endpoint's state for the peer moves along (coaps_coap_move_peer). */
void net_edge_peer_moved(struct net_edge *edge, const coaps_peer *from, const coaps_peer *to);

/* Flush and close every endpoint. */
void net_edge_close(struct net_edge *edge);

#endif /* COAPS_NET_EDGE_H */
