/*
 * reuseport.h - steering the datagrams of a SO_REUSEPORT group (the
 * coaps:// sockets of coaps-server's workers, net_udp_open_reuseport) to
 * the worker that holds their session.
 *
 * A session lives in one worker. The group's classic BPF program
 * (SO_ATTACH_REUSEPORT_CBPF, Linux 4.5) returns the index of the socket
 * that gets a datagram; the workers bind in order, so socket i is worker
 * i's. It picks:
 *   - for a tls12_cid record (RFC 9146), the first byte of its CID: worker
 *     i puts i there (coaps_dtls_config.cid_prefix), so a session found by
 *     CID is found after its peer's address changed (NAT rebinding),
 *     whatever the new address;
 *   - for anything else (and a CID whose tag is beyond the group), a hash
 *     of the source address and port that userspace computes too
 *     (net_reuseport_worker_of). The kernel's own 4-tuple hash has a secret
 *     seed; ours is known, so that a session restored from the state file
 *     (state_save.h) goes to the worker its peer's records will reach.
 * The program reads the addresses through the network header
 * (SKF_NET_OFF): the kernel runs a reuseport program on the UDP payload.
 */
#ifndef COAPS_NET_REUSEPORT_H
#define COAPS_NET_REUSEPORT_H

#include "coaps/peer.h"
#include "coaps/status.h"

/* The record header of a tls12_cid record (RFC 9146 4): type(1)
 * version(2) epoch(2) sequence_number(6), then the CID. */
#define NET_REUSEPORT_CID_OFFSET 11
#define NET_REUSEPORT_CT_TLS12_CID 25

/* What the program does with a tls12_cid record. */
enum net_reuseport_cid {
    NET_REUSEPORT_CID_TAG,      /* to the worker its CID's first byte names */
    NET_REUSEPORT_CID_ADDRESS,  /* by address, like any other datagram (the
                                   hand-off route, and the control run) */
    NET_REUSEPORT_CID_MISROUTE, /* to the worker after the one its tag names
                                   (tag + 1, modulo workers): measures the
                                   hand-off (net/handoff.h) on every record */
};

/* Attach the program for a group of `workers` sockets (2-255) to fd's
 * group (any member; it replaces the group's program). COAPS_E_IO with
 * errno when the kernel refuses. */
coaps_status net_reuseport_steer(int fd, unsigned workers, enum net_reuseport_cid cid);

/* The worker the program sends a datagram from peer to when it does not
 * go by CID (peer: a sockaddr_in or sockaddr_in6, IPv4-mapped addresses
 * folded to IPv4 as net/addr.c does). */
unsigned net_reuseport_worker_of(const coaps_peer *peer, unsigned workers);

#endif /* COAPS_NET_REUSEPORT_H */
