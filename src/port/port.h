/*
 * port.h - everything a target must give coaps to run without an operating
 * system: a millisecond clock, entropy, and datagrams in and out. No
 * sockets, no POSIX, no heap: src/runtime/ drives the sans-IO cores on
 * these functions alone. The Linux edge (src/net/) does the same job with
 * epoll and sockets and does not use this file.
 *
 * A target (firmware/virt/ for QEMU's RISC-V virt board) implements each
 * function once; all are called from the runtime's single loop only.
 */
#ifndef COAPS_PORT_H
#define COAPS_PORT_H

#include <stddef.h>
#include <stdint.h>

#include "coaps/peer.h"
#include "coaps/status.h"

/* Milliseconds on a monotonic clock (any epoch; never goes back). */
uint64_t coaps_port_now_ms(void);

/* Fill buf with len bytes from the target's entropy source. Never a
 * constant or the clock: DTLS randoms and CoAP tokens come from here.
 * COAPS_E_CRYPTO when the source has failed for good. */
coaps_status coaps_port_entropy(uint8_t *buf, size_t len);

/* Take the next received datagram without waiting: COAPS_OK with *from
 * (transport set: coap:// or coaps://), *data and *len; COAPS_E_AGAIN when
 * none is complete yet. *data stays valid until the next call, and the
 * caller may change it meanwhile (the DTLS engine decrypts in place, so a
 * device needs no second datagram buffer). */
coaps_status coaps_port_recv(coaps_peer *from, uint8_t **data, size_t *len);

/* Send one datagram to `to` (a peer coaps_port_recv() produced). May wait
 * until the line takes it; COAPS_E_INVALID for a peer it cannot address. */
coaps_status coaps_port_send(const coaps_peer *to, const uint8_t *data, size_t len);

/* Sleep until input may have arrived or deadline_ms has come (whichever
 * first; returning early is fine). UINT64_MAX: no deadline. */
void coaps_port_wait(uint64_t deadline_ms);

/* A cost counter that does not depend on timing, for per-request figures:
 * instructions retired where the CPU counts them, 0 where it cannot. */
uint64_t coaps_port_cost(void);

#endif /* COAPS_PORT_H */
