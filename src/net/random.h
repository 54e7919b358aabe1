/*
 * random.h - the edge's source of random numbers for the cores.
 *
 * The CoAP core draws message IDs and tokens through a callback
 * (coaps_coap_random_fn); over plain UDP tokens must be hard to guess
 * (RFC 7252 5.3.1, 11.4), so the edge backs it with the kernel's CSPRNG.
 */
#ifndef COAPS_NET_RANDOM_H
#define COAPS_NET_RANDOM_H

#include <stddef.h>
#include <stdint.h>

#include "coaps/status.h"

/* Fill buf with n random bytes from getrandom(2). COAPS_E_IO on failure. */
coaps_status net_random_bytes(void *buf, size_t n);

/* A coaps_coap_random_fn: 32 random bits; ctx unused. Never fails (falls
 * back to the clock's low bits only if getrandom is broken). */
uint32_t net_random_u32(void *ctx);

#endif /* COAPS_NET_RANDOM_H */
