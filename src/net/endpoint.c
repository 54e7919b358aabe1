/* endpoint.c - a bound UDP socket with a send batch (see endpoint.h). */
#include "net/endpoint.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "common/try.h"
#include "net/addr.h"

coaps_status net_endpoint_open(struct net_endpoint *ep, const struct sockaddr *addr,
                               socklen_t len, enum coaps_transport transport, bool reuseport,
                               int *err_no)
{
    memset(ep, 0, sizeof *ep);
    ep->fd = -1;
    ep->transport = transport;
    ep->family = addr->sa_family;
    TRY(reuseport ? net_udp_open_reuseport(addr, len, &ep->fd, err_no)
                  : net_udp_open(addr, len, &ep->fd, err_no));
    /* Segmentation offload both ways where the kernel has it (udp.h): a
     * peer that pipelines requests costs one trip through the stack per
     * burst, not per datagram. edge.c reads with buffers big enough for
     * GRO. */
    (void)net_udp_enable_gro(ep->fd);
    ep->gso = net_udp_has_gso(ep->fd);
    /* Datagrams the kernel drops for want of buffer are otherwise
     * invisible to us (each costs its sender a retransmission): count
     * them. */
    (void)net_udp_enable_drop_count(ep->fd);
    socklen_t rl = sizeof ep->rcvbuf;
    if (getsockopt(ep->fd, SOL_SOCKET, SO_RCVBUF, &ep->rcvbuf, &rl) != 0)
        ep->rcvbuf = 0;
    if (ep->family == AF_INET6) {
        int v6only = 1;
        socklen_t optlen = sizeof v6only;
        if (getsockopt(ep->fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &optlen) == 0)
            ep->dual_stack = v6only == 0;
    }
    if (net_udp_local(ep->fd, &ep->local, &ep->local_len) != COAPS_OK) {
        memcpy(&ep->local, addr, len);
        ep->local_len = len;
    }
    return COAPS_OK;
}

coaps_status net_endpoint_set_rcvbuf(struct net_endpoint *ep, int bytes)
{
    return net_udp_set_rcvbuf(ep->fd, bytes, &ep->rcvbuf);
}

void net_endpoint_note_drops(struct net_endpoint *ep, uint32_t drops)
{
    uint32_t fresh = drops - ep->rx_drops_seen;
    if (fresh == 0 || fresh > UINT32_MAX / 2)
        return; /* nothing new, or queued before the count we have */
    ep->stats.rx_kernel_dropped += fresh;
    ep->rx_drops_seen = drops;
}

void net_endpoint_update_drops(struct net_endpoint *ep)
{
    uint32_t drops;
    if (ep->fd >= 0 && net_udp_drops(ep->fd, &drops))
        net_endpoint_note_drops(ep, drops);
}

static int peer_family(const coaps_peer *peer)
{
    sa_family_t family = AF_UNSPEC;
    if (peer->addr_len >= sizeof family)
        memcpy(&family, peer->addr, sizeof family);
    return family;
}

bool net_endpoint_reaches(const struct net_endpoint *ep, const coaps_peer *peer)
{
    if (ep->fd < 0 || peer->transport != ep->transport)
        return false;
    int fam = peer_family(peer);
    return fam == ep->family || (fam == AF_INET && ep->dual_stack);
}

coaps_status net_endpoint_next(struct net_endpoint *ep, const coaps_peer *to, uint8_t **buf)
{
    if (ep->n_tx == NET_UDP_BATCH)
        net_endpoint_flush(ep);
    struct net_dgram *d = &ep->tx[ep->n_tx];
    TRY(net_peer_to_sockaddr(to, ep->family, &d->addr, &d->addr_len));
    *buf = d->data;
    return COAPS_OK;
}

void net_endpoint_commit(struct net_endpoint *ep, size_t len)
{
    if (len > NET_UDP_DGRAM_MAX || ep->n_tx == NET_UDP_BATCH)
        return; /* cannot be: the buffer is that long, and next made room */
    ep->tx[ep->n_tx].len = len;
    ep->n_tx++;
}

coaps_status net_endpoint_queue(struct net_endpoint *ep, const coaps_peer *to,
                                const uint8_t *data, size_t len)
{
    ENSURE(len <= NET_UDP_DGRAM_MAX, COAPS_E_NOSPACE);
    uint8_t *buf;
    TRY(net_endpoint_next(ep, to, &buf));
    memcpy(buf, data, len);
    net_endpoint_commit(ep, len);
    return COAPS_OK;
}

void net_endpoint_flush(struct net_endpoint *ep)
{
    if (ep->n_tx == 0 || ep->fd < 0)
        return;
    size_t sent = net_udp_send_batch(ep->fd, ep->tx, ep->n_tx, &ep->gso);
    ep->stats.tx_datagrams += sent;
    ep->stats.tx_dropped += ep->n_tx - sent;
    ep->n_tx = 0;
}

void net_endpoint_close(struct net_endpoint *ep)
{
    if (ep->fd < 0)
        return;
    net_endpoint_flush(ep);
    close(ep->fd);
    ep->fd = -1;
}

uint16_t net_endpoint_port(const struct net_endpoint *ep)
{
    if (ep->local.ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)(const void *)&ep->local)->sin_port);
    if (ep->local.ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)(const void *)&ep->local)->sin6_port);
    return 0;
}
