/*
 * reuseport.h - steering the datagrams of a SO_REUSEPORT group (the
 * sockets of coaps-server's workers, net_udp_open_reuseport) by the
 * Connection ID's worker tag.
 *
 * A session found by CID (RFC 9146) lives in one worker. Its peer's
 * address may change (NAT rebinding), and the kernel's 4-tuple hash may
 * then send its records to another worker, which has no such session. The
 * group's classic BPF program (SO_ATTACH_REUSEPORT_CBPF, Linux 4.5) reads
 * the first byte of the CID of a tls12_cid record and returns it as the
 * index of the socket in the group: the workers bind in order, so socket
 * i is worker i's, and worker i puts i as its CIDs' first byte
 * (coaps_dtls_config.cid_prefix). Anything else (no tls12_cid record, a
 * tag beyond the group) returns an index out of range, and the kernel
 * falls back to its hash: address-only sessions go where they always went.
 */
#ifndef COAPS_NET_REUSEPORT_H
#define COAPS_NET_REUSEPORT_H

#include "coaps/status.h"

/* The record header of a tls12_cid record (RFC 9146 4): type(1)
 * version(2) epoch(2) sequence_number(6), then the CID. */
#define NET_REUSEPORT_CID_OFFSET 11
#define NET_REUSEPORT_CT_TLS12_CID 25

/* Attach the program to fd's group (any member; it replaces the group's
 * program). COAPS_E_IO with errno when the kernel refuses. */
coaps_status net_reuseport_steer_by_cid(int fd);

/* For measurement only (coaps-server --cid-steer misroute): a tls12_cid
 * record goes to the worker after the one its tag names (tag + 1, modulo
 * workers), which hands it on (net/handoff.h): the hand-off's cost on
 * every record, against the steering program's. */
coaps_status net_reuseport_misroute_cid(int fd, unsigned workers);

#endif /* COAPS_NET_REUSEPORT_H */
