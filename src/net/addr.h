/*
 * addr.h - conversions between socket addresses and coaps_peer.
 *
 * The cores compare peers with memcmp (coaps/peer.h), so every edge path
 * that makes a peer must produce the same bytes for the same client:
 *   - the whole peer is zeroed first (padding, sin_zero);
 *   - an IPv4-mapped IPv6 address (::ffff:a.b.c.d, RFC 4291 2.5.5.2), which
 *     is what a dual-stack socket reports for an IPv4 client, is stored as
 *     a plain struct sockaddr_in, so that a client is the same peer whether
 *     it reached a dual-stack socket or an IPv4-only one;
 *   - the IPv6 flow label is cleared (it may change between datagrams).
 * When sending, net_peer_to_sockaddr() maps an IPv4 peer back to ::ffff:
 * form for an AF_INET6 socket.
 */
#ifndef COAPS_NET_ADDR_H
#define COAPS_NET_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "coaps/peer.h"
#include "coaps/status.h"

/* Longest text net_addr_format() writes: "[" INET6_ADDRSTRLEN-1 "%" scope
 * "]:" 5-digit port, plus NUL; 80 covers it with margin. */
#define NET_ADDR_STR_MAX 80

/* Fill *out from a socket address (AF_INET or AF_INET6), normalised as
 * above. COAPS_E_UNSUPPORTED for other families, COAPS_E_INVALID if len is
 * too short for the family. */
coaps_status net_peer_from_sockaddr(const struct sockaddr *sa, socklen_t len,
                                    enum coaps_transport transport, coaps_peer *out);

/* The socket address to send to *peer through a socket of family
 * sock_family (AF_INET or AF_INET6). An IPv4 peer becomes ::ffff:a.b.c.d
 * for an AF_INET6 socket; an IPv6 peer cannot go through an AF_INET socket
 * (COAPS_E_UNSUPPORTED). */
coaps_status net_peer_to_sockaddr(const coaps_peer *peer, int sock_family,
                                  struct sockaddr_storage *out, socklen_t *len);

/* Text form "1.2.3.4:5683" or "[::1]:5683" into buf (NUL-terminated,
 * truncated to cap). Returns buf, "?" for unknown families. */
const char *net_addr_format(const struct sockaddr *sa, char *buf, size_t cap);

/* The same for a peer. */
const char *net_peer_format(const coaps_peer *peer, char *buf, size_t cap);

/* Parse a numeric address literal for binding or sending: IPv4 dotted quad,
 * IPv6 (with or without [brackets], optional %scope), with the given port.
 * No name resolution. COAPS_E_INVALID if s is not a literal. */
coaps_status net_addr_parse_numeric(const char *s, uint16_t port,
                                    struct sockaddr_storage *out, socklen_t *len);

/* Resolve a host name or literal with getaddrinfo (blocking; set-up paths
 * only). passive: for bind (NULL/"" host means the wildcard). Prefers the
 * first result the system returns. COAPS_E_NOT_FOUND if it does not
 * resolve; *err (if not NULL) receives the getaddrinfo message. */
coaps_status net_addr_resolve(const char *host, uint16_t port, bool passive,
                              struct sockaddr_storage *out, socklen_t *len,
                              const char **err);

#endif /* COAPS_NET_ADDR_H */
