/* edge.c - sockets <-> sans-IO CoAP endpoint (see edge.h). */
#include "net/edge.h"

#include <stddef.h>
#include <string.h>

#include "coap/endpoint.h"
#include "common/try.h"
#include "net/addr.h"
#include "net/clock.h"

/* recvmmsg batches read per readable event: 8 x NET_UDP_BATCH = 128
 * datagrams, then the loop runs the timers before reading on. */
#define NET_EDGE_DRAIN_BATCHES 8

void net_edge_init(struct net_edge *edge, coaps_coap_endpoint *coap, const struct net_log *log)
{
    memset(edge, 0, offsetof(struct net_edge, rx)); /* rx: see edge.h */
    edge->coap = coap;
    edge->log = log;
    for (size_t i = 0; i < NET_EDGE_MAX_ENDPOINTS; i++)
        edge->eps[i].fd = -1;
}

coaps_status net_edge_open(struct net_edge *edge, const struct sockaddr *addr, socklen_t len,
                           enum coaps_transport transport, struct net_endpoint **out,
                           int *err_no)
{
    ENSURE(edge->n_eps < NET_EDGE_MAX_ENDPOINTS, COAPS_E_FULL);
    ENSURE((unsigned)transport < NET_EDGE_TRANSPORTS, COAPS_E_INVALID);
    struct net_endpoint *ep = &edge->eps[edge->n_eps];
    TRY(net_endpoint_open(ep, addr, len, transport, edge->reuseport, err_no));
    if (edge->rcvbuf > 0)
        (void)net_endpoint_set_rcvbuf(ep, edge->rcvbuf); /* ep->rcvbuf: what we got */
    ep->edge = edge;
    edge->n_eps++;
    if (out)
        *out = ep;
    return COAPS_OK;
}

void net_edge_set_hooks(struct net_edge *edge, enum coaps_transport transport,
                        const struct net_transport_hooks *hooks)
{
    if ((unsigned)transport < NET_EDGE_TRANSPORTS)
        edge->hooks[transport] = *hooks;
}

void net_edge_deliver(struct net_edge *edge, const coaps_peer *from, const uint8_t *data,
                      size_t len, uint64_t now_ms)
{
    if (NET_LOG_ENABLED(edge->log, NET_LOG_DEBUG)) {
        char who[NET_ADDR_STR_MAX];
        net_log_print(edge->log, NET_LOG_DEBUG, "rx %zu bytes from %s", len,
                      net_peer_format(from, who, sizeof who));
    }
    (void)coaps_coap_input(edge->coap, from, data, len, now_ms);
}

/* One datagram read from ep: plain CoAP or through the transport's hook. */
static void edge_receive(struct net_edge *edge, struct net_endpoint *ep, const coaps_peer *from,
                         uint8_t *data, size_t len, uint64_t now_ms)
{
    const struct net_transport_hooks *h = &edge->hooks[ep->transport];
    if (h->rx)
        h->rx(h->ctx, ep, from, data, len, now_ms);
    else if (ep->transport == COAPS_TRANSPORT_UDP)
        net_edge_deliver(edge, from, data, len, now_ms);
    else
        ep->stats.rx_dropped++; /* coaps:// socket without a DTLS layer */
}

/* Every datagram in one receive buffer (several with GRO). *pending counts
 * datagrams handed in since the last flush: the core's output queue holds
 * outq_entries datagrams, and NET_UDP_BATCH requests must never overflow
 * it, so flush every NET_UDP_BATCH. */
static void edge_receive_buffer(struct net_edge *edge, struct net_endpoint *ep,
                                struct net_rx_dgram *d, size_t *pending, uint64_t now_ms)
{
    net_endpoint_note_drops(ep, d->drops); /* SO_RXQ_OVFL: dropped before this one */
    coaps_peer from;
    if (net_peer_from_sockaddr((const struct sockaddr *)&d->addr, d->addr_len, ep->transport,
                               &from) != COAPS_OK) {
        ep->stats.rx_datagrams++;
        edge->stats.rx_dropped++;
        return;
    }
    size_t off = 0, len, dropped = 0;
    const uint8_t *data;
    if (d->seg > 0 && d->len > d->seg)
        ep->stats.rx_coalesced++;
    while (net_rx_next(d, &off, NET_UDP_DGRAM_MAX, &data, &len, &dropped)) {
        ep->stats.rx_datagrams++;
        /* d's buffer is the edge's own: the hooks may write in it */
        edge_receive(edge, ep, &from, d->data + (data - d->data), len, now_ms);
        if (++*pending == NET_UDP_BATCH) {
            net_edge_flush(edge, now_ms);
            *pending = 0;
        }
    }
    ep->stats.rx_datagrams += dropped;
    ep->stats.rx_dropped += dropped; /* longer than any message we take */
}

static void edge_on_readable(void *ctx, uint64_t now_ms)
{
    struct net_endpoint *ep = ctx;
    struct net_edge *edge = ep->edge;
    /* Read up to NET_EDGE_DRAIN_BATCHES batches per wake-up: fewer system
     * calls under load, yet a flood cannot starve the timers (epoll is
     * level-triggered, so what is left wakes us again). */
    size_t pending = 0;
    for (unsigned b = 0; b < NET_EDGE_DRAIN_BATCHES; b++) {
        int n = net_udp_recv_batch(ep->fd, edge->rx, NET_UDP_BATCH);
        if (n <= 0)
            break;
        for (int i = 0; i < n; i++)
            edge_receive_buffer(edge, ep, &edge->rx[i], &pending, now_ms);
        if (n < NET_UDP_BATCH)
            break;
    }
    net_edge_flush(edge, now_ms);
}

void net_edge_inject(struct net_edge *edge, struct net_endpoint *ep, const coaps_peer *from,
                     uint8_t *data, size_t len, uint64_t now_ms)
{
    ep->stats.rx_datagrams++;
    edge_receive(edge, ep, from, data, len, now_ms);
}

static struct net_endpoint *edge_route(struct net_edge *edge, const coaps_peer *to)
{
    for (size_t i = 0; i < edge->n_eps; i++)
        if (net_endpoint_reaches(&edge->eps[i], to))
            return &edge->eps[i];
    return NULL;
}

void net_edge_flush(struct net_edge *edge, uint64_t now_ms)
{
    coaps_peer to;
    const uint8_t *msg;
    size_t len;
    /* Each message is taken where the CoAP layer queued it: the transport
     * seals it (DTLS) or copies it (plain UDP) into the send batch, once. */
    while (coap_output_take(edge->coap, &to, &msg, &len) == COAPS_OK) {
        struct net_endpoint *ep = edge_route(edge, &to);
        if (ep == NULL) {
            edge->stats.tx_unrouted++;
            continue;
        }
        if (NET_LOG_ENABLED(edge->log, NET_LOG_DEBUG)) {
            char who[NET_ADDR_STR_MAX];
            net_log_print(edge->log, NET_LOG_DEBUG, "tx %zu bytes to %s", len,
                          net_peer_format(&to, who, sizeof who));
        }
        const struct net_transport_hooks *h = &edge->hooks[ep->transport];
        coaps_status st = h->tx ? h->tx(h->ctx, ep, &to, msg, len, now_ms)
                                : net_endpoint_queue(ep, &to, msg, len);
        if (st != COAPS_OK)
            ep->stats.tx_dropped++;
    }
    for (size_t i = 0; i < edge->n_eps; i++)
        net_endpoint_flush(&edge->eps[i]);
}

static uint64_t edge_deadline(void *ctx)
{
    struct net_edge *edge = ctx;
    return coaps_coap_next_deadline(edge->coap);
}

static void edge_due(void *ctx, uint64_t now_ms)
{
    struct net_edge *edge = ctx;
    coaps_coap_tick(edge->coap, now_ms);
    net_edge_flush(edge, now_ms);
}

coaps_status net_edge_attach(struct net_edge *edge, struct net_loop *loop)
{
    for (size_t i = 0; i < edge->n_eps; i++)
        TRY(net_edge_watch(edge, loop, &edge->eps[i]));
    return net_loop_add_timer(loop, edge_deadline, edge_due, edge);
}

coaps_status net_edge_watch(struct net_edge *edge, struct net_loop *loop, struct net_endpoint *ep)
{
    (void)edge;
    return net_loop_watch(loop, ep->fd, edge_on_readable, ep);
}

void net_edge_send_queued(struct net_edge *edge)
{
    for (size_t e = 0; e < edge->n_eps; e++)
        net_endpoint_flush(&edge->eps[e]);
}

void net_edge_peer_gone(struct net_edge *edge, const coaps_peer *peer)
{
    coaps_coap_forget_peer(edge->coap, peer);
}

void net_edge_peer_moved(struct net_edge *edge, const coaps_peer *from, const coaps_peer *to)
{
    coaps_coap_move_peer(edge->coap, from, to);
}

void net_edge_close(struct net_edge *edge)
{
    for (size_t i = 0; i < edge->n_eps; i++)
        net_endpoint_close(&edge->eps[i]);
    edge->n_eps = 0;
}
