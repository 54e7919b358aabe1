/*
 * clock.h - the edge's monotonic millisecond clock.
 *
 * The sans-IO cores take time as a uint64_t now_ms argument; this is where
 * that number comes from. CLOCK_MONOTONIC never jumps with wall-clock
 * changes, so retransmission and observe timers stay correct.
 */
#ifndef COAPS_NET_CLOCK_H
#define COAPS_NET_CLOCK_H

#include <stdint.h>

/* Milliseconds since an arbitrary fixed point (boot). Never decreases. */
uint64_t net_now_ms(void);

/* Sleep until net_now_ms() >= t (at once when already past); for tools
 * that pace what they send, never for the event loop. */
void net_sleep_until_ms(uint64_t t);

/* No deadline: what a core reports when it has no timer running. */
#define NET_NO_DEADLINE UINT64_MAX

#endif /* COAPS_NET_CLOCK_H */
