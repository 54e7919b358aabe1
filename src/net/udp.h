/*
 * udp.h - non-blocking UDP sockets with batched receive and send.
 *
 * One socket per listening address. Binding the IPv6 wildcard [::] clears
 * IPV6_V6ONLY, so that one socket serves IPv4 clients too (their addresses
 * arrive as ::ffff:a.b.c.d and net_peer_from_sockaddr() normalises them).
 * recvmmsg/sendmmsg move up to NET_UDP_BATCH datagrams per system call.
 *
 * Linux segmentation offload, where the kernel has it (and silently not
 * where it hasn't):
 *   - receive (UDP_GRO, Linux 5.0): datagrams of one size from one sender
 *     may arrive as one buffer of up to 64 KiB (a peer that sent them with
 *     UDP_SEGMENT, or a NIC's GRO); net_rx_dgram.seg says so, and the
 *     caller walks the segments (net_rx_next).
 *   - send (UDP_SEGMENT, Linux 4.18): consecutive datagrams in a batch to
 *     the same address, of the same length (the last may be shorter), go as
 *     one GSO send: one trip through the IP stack instead of one each. Most
 *     of the cost of a small datagram is that trip, not the bytes.
 */
#ifndef COAPS_NET_UDP_H
#define COAPS_NET_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "coaps/status.h"

/* Datagrams per recvmmsg/sendmmsg call: enough to drain a burst from many
 * clients in one wake-up, small enough that the buffers (NET_UDP_BATCH *
 * NET_UDP_DGRAM_MAX) stay at 24 KiB per direction. */
#define NET_UDP_BATCH 16

/* Largest datagram we receive or send. RFC 7252 4.6 recommends messages
 * fit 1152 bytes; 1500 (an Ethernet MTU) leaves room for a DTLS record
 * around such a message. Longer datagrams are truncated by the kernel and
 * dropped as such (MSG_TRUNC). */
#define NET_UDP_DGRAM_MAX 1500

/* What one receive buffer can hold: a UDP_GRO buffer is at most 64 KiB.
 * The pages are touched only as far as data arrives. */
#define NET_UDP_RX_MAX 65536

/* A GSO send: at most UDP_MAX_SEGMENTS (64) datagrams and one IPv4 UDP
 * payload (65507 bytes). Only datagrams that fit the IPv6 minimum MTU
 * (1280 - 48 header bytes) are sent as segments: the kernel refuses a GSO
 * send whose segments exceed the path MTU, where a plain send would have
 * been fragmented. */
#define NET_UDP_GSO_SEGMENTS 64
#define NET_UDP_GSO_BYTES 65507
#define NET_UDP_GSO_SEG_MAX 1232

struct net_dgram {
    struct sockaddr_storage addr; /* source (received) or destination (to send) */
    socklen_t addr_len;
    size_t len;                   /* bytes in data */
    bool truncated;               /* received longer than data: drop it */
    uint8_t data[NET_UDP_DGRAM_MAX];
};

struct net_rx_dgram {
    struct sockaddr_storage addr; /* source */
    socklen_t addr_len;
    size_t len;                   /* bytes in data */
    size_t seg;                   /* > 0: data holds datagrams of seg bytes (the last may be shorter) */
    bool truncated;               /* longer than data: drop it */
    uint32_t drops;               /* with SO_RXQ_OVFL on: the socket's count of
                                     datagrams the kernel dropped (receive
                                     buffer full) as it stood when this one
                                     was queued (it wraps); 0 while none */
    uint8_t data[NET_UDP_RX_MAX];
};

/* The next datagram in d after *off (start with *off = 0): its bytes and
 * length; false when none is left. A datagram longer than max (or a
 * truncated buffer) is skipped and counted in *dropped. */
bool net_rx_next(const struct net_rx_dgram *d, size_t *off, size_t max, const uint8_t **data,
                 size_t *len, size_t *dropped);

/* Open a non-blocking, close-on-exec UDP socket bound to addr. For an
 * AF_INET6 wildcard address IPV6_V6ONLY is cleared (dual stack); for other
 * IPv6 addresses it is set. On failure returns COAPS_E_IO and *err_no (if
 * not NULL) holds errno (e.g. EADDRINUSE), with *fd = -1. */
coaps_status net_udp_open(const struct sockaddr *addr, socklen_t len, int *fd, int *err_no);
/* The same with SO_REUSEPORT: sockets of one user bound to the same
 * address join one group and the kernel hands each datagram to one of
 * them (by a hash of its 4-tuple, or by the group's steering program:
 * net/reuseport.h). For the workers of one server. */
coaps_status net_udp_open_reuseport(const struct sockaddr *addr, socklen_t len, int *fd,
                                    int *err_no);

/* Ask for a receive buffer of `bytes` on fd: SO_RCVBUFFORCE first (it
 * may exceed net.core.rmem_max; needs CAP_NET_ADMIN, which a server run as
 * root has), else SO_RCVBUF (capped by rmem_max). *got (may be NULL)
 * receives what the kernel reports it gave, which on Linux is twice what
 * was granted (the other half pays for its bookkeeping, socket(7)). */
coaps_status net_udp_set_rcvbuf(int fd, int bytes, int *got);

/* Turn on SO_RXQ_OVFL (Linux 2.6.33): every datagram received then
 * carries the socket's drop count (net_rx_dgram.drops; the kernel leaves
 * it out while it is 0). */
bool net_udp_enable_drop_count(int fd);

/* The socket's drop count now (SO_MEMINFO, Linux 4.6), for when no
 * datagram has come since the last drops. false where unsupported. */
bool net_udp_drops(int fd, uint32_t *drops);

/* Turn on UDP_GRO for fd where the kernel has it; true if it took. */
bool net_udp_enable_gro(int fd);

/* Whether the kernel takes UDP_SEGMENT (GSO) sends on fd. */
bool net_udp_has_gso(int fd);

/* The local address a socket is bound to (to learn an ephemeral port). */
coaps_status net_udp_local(int fd, struct sockaddr_storage *out, socklen_t *len);

/* Receive up to n (<= NET_UDP_BATCH) buffers without blocking. Returns
 * the number received (0 if none is waiting), negative on a socket error.
 * Each buffer holds one datagram or, with GRO, several (d[i].seg). */
int net_udp_recv_batch(int fd, struct net_rx_dgram *d, size_t n);

/* Send d[0..n) (n <= NET_UDP_BATCH) without blocking, runs to one
 * address as GSO sends if *gso. Returns how many datagrams the kernel took;
 * datagrams it refuses (full buffer, unreachable) are lost, which UDP
 * allows and CoAP's retransmission covers (RFC 7252 4.2). A GSO send the
 * kernel refuses is sent again datagram by datagram; if the refusal says
 * the socket cannot do GSO at all, *gso becomes false. */
size_t net_udp_send_batch(int fd, const struct net_dgram *d, size_t n, bool *gso);

#endif /* COAPS_NET_UDP_H */
