/*
 * loop.h - the edge's event loop: epoll over sockets, a monotonic clock,
 * and timers that come from the sans-IO cores' next deadlines.
 *
 * A watch is an fd with a "readable" callback (a UDP endpoint). A timer is
 * a pair of callbacks: deadline() tells when it next needs the clock (a
 * core's next_deadline, or NET_NO_DEADLINE), due() is called once that time
 * has come (the owner ticks its core and flushes output). The loop sleeps in
 * epoll_wait until the earliest deadline or until a socket is readable.
 *
 * SIGINT and SIGTERM are blocked and read through a signalfd, so a signal
 * ends net_loop_run() between two events: nothing is interrupted halfway.
 *
 * The tables are fixed-size and live in the struct; the caller owns the
 * struct and every ctx it registers, and keeps them alive until
 * net_loop_close().
 */
#ifndef COAPS_NET_LOOP_H
#define COAPS_NET_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coaps/status.h"
#include "net/log.h"

/* fds one loop watches: a program has at most a few sockets (coap:// and
 * coaps://, each IPv4/IPv6) plus the signalfd. */
#define NET_LOOP_MAX_WATCHES 8

/* Timer sources: one per core driven (CoAP endpoint, DTLS engine) plus one
 * for the program (e.g. the client's overall wait time). */
#define NET_LOOP_MAX_TIMERS 4

/* epoll events handled per epoll_wait call. */
#define NET_LOOP_EVENTS 8

typedef void (*net_loop_cb)(void *ctx, uint64_t now_ms);
typedef uint64_t (*net_loop_deadline_cb)(void *ctx);

struct net_loop_watch {
    int fd;
    net_loop_cb on_readable;
    void *ctx;
};

struct net_loop_timer {
    net_loop_deadline_cb deadline;
    net_loop_cb due;
    void *ctx;
};

struct net_loop {
    int epfd;
    int sigfd;          /* -1 when signals are not caught */
    bool stop;
    int stop_signal;    /* the signal that stopped the loop, or 0 */
    const struct net_log *log;
    struct net_loop_watch watches[NET_LOOP_MAX_WATCHES];
    size_t n_watches;
    struct net_loop_timer timers[NET_LOOP_MAX_TIMERS];
    size_t n_timers;
};

/* Set up the loop. catch_signals: route SIGINT/SIGTERM to the loop (they
 * are blocked for the process). log may be NULL. COAPS_E_IO on failure. */
coaps_status net_loop_init(struct net_loop *loop, const struct net_log *log, bool catch_signals);

/* Watch fd for reading. COAPS_E_FULL past NET_LOOP_MAX_WATCHES. */
coaps_status net_loop_watch(struct net_loop *loop, int fd, net_loop_cb on_readable, void *ctx);

/* Add a timer source. COAPS_E_FULL past NET_LOOP_MAX_TIMERS. */
coaps_status net_loop_add_timer(struct net_loop *loop, net_loop_deadline_cb deadline,
                                net_loop_cb due, void *ctx);

/* Make net_loop_run() return after the current callback. */
void net_loop_stop(struct net_loop *loop);

/* Run until net_loop_stop() or a caught signal. COAPS_E_IO if epoll fails. */
coaps_status net_loop_run(struct net_loop *loop);

/* The earliest deadline of the loop's timers (NET_NO_DEADLINE: none), and
 * as an epoll timeout from now_ms (-1: none; 0: one is due). */
uint64_t net_loop_next_deadline(const struct net_loop *loop);
int net_loop_timeout_ms(const struct net_loop *loop, uint64_t now_ms);

/* One turn, for a caller's own loop: the due timers, then what is ready
 * within max_wait_ms (-1: until the next deadline; 0: only what is ready
 * now), then the timers again. A signal read stops the loop (stop_signal). */
coaps_status net_loop_turn(struct net_loop *loop, int max_wait_ms);

/* Close the loop's own fds (not the watched ones) and unblock signals. */
void net_loop_close(struct net_loop *loop);

#endif /* COAPS_NET_LOOP_H */
