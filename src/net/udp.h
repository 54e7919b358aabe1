/*
 * udp.h - non-blocking UDP sockets with batched receive and send.
 *
 * One socket per listening address. Binding the IPv6 wildcard [::] clears
 * IPV6_V6ONLY, so that one socket serves IPv4 clients too (their addresses
 * arrive as ::ffff:a.b.c.d and net_peer_from_sockaddr() normalises them).
 * recvmmsg/sendmmsg move up to NET_UDP_BATCH datagrams per system call.
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

struct net_dgram {
    struct sockaddr_storage addr; /* source (received) or destination (to send) */
    socklen_t addr_len;
    size_t len;                   /* bytes in data */
    bool truncated;               /* received longer than data: drop it */
    uint8_t data[NET_UDP_DGRAM_MAX];
};

/* Open a non-blocking, close-on-exec UDP socket bound to addr. For an
 * AF_INET6 wildcard address IPV6_V6ONLY is cleared (dual stack); for other
 * IPv6 addresses it is set. On failure returns COAPS_E_IO and *err_no (if
 * not NULL) holds errno (e.g. EADDRINUSE), with *fd = -1. */
coaps_status net_udp_open(const struct sockaddr *addr, socklen_t len, int *fd, int *err_no);

/* The local address a socket is bound to (to learn an ephemeral port). */
coaps_status net_udp_local(int fd, struct sockaddr_storage *out, socklen_t *len);

/* Receive up to n (<= NET_UDP_BATCH) datagrams without blocking. Returns
 * the number received (0 if none is waiting); datagrams longer than
 * NET_UDP_DGRAM_MAX have d[i].truncated set, for the caller to count and
 * drop; *truncated (if not NULL) is increased by their number. Negative on a socket error. */
int net_udp_recv_batch(int fd, struct net_dgram *d, size_t n, size_t *truncated);

/* Send d[0..n) (n <= NET_UDP_BATCH) without blocking. Returns how many the
 * kernel took; datagrams it refuses (full buffer, unreachable) are lost,
 * which UDP allows and CoAP's retransmission covers (RFC 7252 4.2). */
size_t net_udp_send_batch(int fd, const struct net_dgram *d, size_t n);

#endif /* COAPS_NET_UDP_H */
