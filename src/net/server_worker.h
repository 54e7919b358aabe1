/*
 * server_worker.h - a coaps_server as one of a server's N workers
 * (coaps-server --workers N, apps/coaps-server/workers.c; docs/workers.md).
 *
 * Each worker is a whole coaps_server on its own thread: its own loop,
 * sockets, edge, DTLS server and CoAP endpoint, nothing mutable shared
 * with the others. What this adds to one:
 *   - its sockets share their ports with the other workers' (SO_REUSEPORT):
 *     the kernel spreads coap:// peers over the workers by their 4-tuple,
 *     and coaps:// peers by the group's program's address hash
 *     (net/reuseport.h), which userspace computes too;
 *   - its CIDs start with its index (coaps_dtls_config.cid_prefix), and its
 *     coaps:// socket group steers a tls12_cid record by that byte
 *     (net/reuseport.h), or the worker that got it passes it on
 *     (net/handoff.h), so a session found by CID is found after its
 *     peer's address changed, whichever worker the new 4-tuple hashes to;
 *   - its front door derives cookie secrets from the workers' one secret
 *     (coaps_dtls_config.cookie_secret): a cookie made by one verifies in
 *     any other.
 * Internal (programs in this tree): no COAPS_API.
 */
#ifndef COAPS_NET_SERVER_WORKER_H
#define COAPS_NET_SERVER_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "coaps/dtls.h"
#include "coaps/server.h"
#include "net/dtls_server.h"
#include "net/handoff.h"
#include "net/log.h"
#include "net/loop.h"

/* Workers of one server at most: a worker's index is its CIDs' first
 * byte (one byte is plenty), and each worker costs a thread, sockets and
 * its tables; 64 is well beyond the cores coaps-server is meant for. */
#define NET_WORKERS_MAX 64

/* Secret material every worker reads and none writes after set-up. */
struct net_workers_shared {
    uint8_t cookie_secret[COAPS_DTLS_COOKIE_SECRET_LEN];
    /* RFC 5077 session tickets: the secret every worker's ticket keys
     * derive from (coaps_server_config.ticket_secret), so that a ticket
     * sealed by one worker opens in every other. */
    uint8_t ticket_secret[COAPS_DTLS_TICKET_SECRET_LEN];
};

/* Fresh random secrets. COAPS_E_IO when the system has no randomness. */
coaps_status net_workers_shared_init(struct net_workers_shared *sh);
void net_workers_shared_clear(struct net_workers_shared *sh);

/* How a tls12_cid record reaches the worker whose tag its CID carries. */
enum net_cid_steer {
    NET_STEER_BPF = 0,  /* the socket group's program (net/reuseport.h) */
    NET_STEER_HASH,     /* the kernel's 4-tuple hash alone: a session whose
                           peer moved may be reached no more (to measure) */
    NET_STEER_HANDOFF,  /* the receiving worker passes it on (net/handoff.h) */
    NET_STEER_MISROUTE, /* to measure the hand-off: every record to the
                           wrong worker, which passes it on */
};

struct net_worker {
    uint8_t index;  /* 0 .. count - 1 */
    uint8_t count;  /* > 1 */
    enum net_cid_steer steer;
    /* NET_STEER_HANDOFF: takes a record whose CID no session of this
     * worker has (runs on this worker's thread; true: taken). */
    bool (*foreign_cid)(void *ctx, const coaps_peer *src, const uint8_t *cid,
                        const uint8_t *data, size_t len);
    void *foreign_ctx;
    const struct net_workers_shared *shared; /* outlives the server */
    /* The server's --max-sessions, held by a count the workers share
     * (outlives the server), or NULL: each worker's max_sessions slots
     * are then its bound. With it, a worker's slots are its share plus
     * room for the uneven spread of peers over workers, and a peer is
     * refused when the server is full, not when its worker's share is. */
    struct net_session_total *sessions;
};

/* Make srv worker w->index of w->count: before its first listen. The
 * first listen of each scheme must be made by worker 0, 1, ... in turn
 * (the steering program picks a socket by its place in the group).
 * COAPS_E_INVALID: too late, or out of range. */
coaps_status net_server_set_worker(coaps_server *srv, const struct net_worker *w);

/* Watch fd in srv's event loop: on_readable(ctx, now_ms) runs on the
 * thread that runs the server (a worker's wake-up eventfd). */
coaps_status net_server_watch(coaps_server *srv, int fd, net_loop_cb on_readable, void *ctx);

/* The port of srv's first socket of the scheme, or 0 when it has none. */
uint16_t net_server_port(const coaps_server *srv, bool dtls);

/* Datagrams other workers passed to srv through ring (NET_STEER_HANDOFF),
 * each handled as if srv's coaps:// socket had received it; then the
 * output is flushed. On srv's thread. */
void net_server_take_handoff(coaps_server *srv, struct net_handoff_ring *ring, uint64_t now_ms);

/* srv's coaps:// statistics (NULL before its first coaps:// listen), and
 * its CoAP endpoint's (coaps_coap_get_stats). */
const struct net_dtls_server_stats *net_server_dtls_stats(const coaps_server *srv);

/* The statistics lines of coaps_server_log_stats, each the total of the n
 * servers (a server's workers), logged through log (at -v info). */
void net_servers_log_stats(coaps_server *const *srvs, unsigned n, const struct net_log *log);

/* --state with workers (net/state_save.h): one file for the n workers'
 * sessions. Restore after every worker's listen and before any loop runs:
 * each session goes into the worker its records will reach (its CID's
 * tag, else the socket group's address hash, net/reuseport.h). Save once
 * every loop has stopped. As coaps_server_restore_state/_save_state
 * otherwise (srvs[0]'s state file and key; *restored, *saved: in all). */
coaps_status net_servers_restore_state(coaps_server *const *srvs, unsigned n,
                                       const struct net_log *log, uint32_t *restored, char *err,
                                       size_t cap);
coaps_status net_servers_save_state(coaps_server *const *srvs, unsigned n,
                                    const struct net_log *log, uint32_t *saved, char *err,
                                    size_t cap);

#endif /* COAPS_NET_SERVER_WORKER_H */
