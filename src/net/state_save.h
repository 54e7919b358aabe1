/*
 * state_save.h - durable sessions of the coaps:// server (docs/sessions.md,
 * "Durable sessions"): at shutdown every established session, with its
 * peer's Observe registrations, into the state file (state_file.h); at
 * start, back into the session table, the CID table and the CoAP
 * endpoint, so that clients go on without a handshake. A server with
 * workers has one file for all of them.
 */
#ifndef COAPS_NET_STATE_SAVE_H
#define COAPS_NET_STATE_SAVE_H

#include <stddef.h>
#include <stdint.h>

#include "net/dtls_server.h"
#include "net/state_file.h"

/* The servers whose sessions go into one file and come back from it: one
 * server, or the workers of one (coaps-server --workers, docs/workers.md),
 * all with the same configuration. */
struct net_state_servers {
    struct net_dtls_server *const *srv;
    unsigned n; /* >= 1 */
    /* n > 1: the index of the server whose socket will receive a restored
     * session's records, from its peer's address and its own Connection
     * ID (cid_len 0: it has none). net/reuseport.h says where the kernel
     * sends them. */
    unsigned (*route)(void *ctx, const coaps_peer *peer, const uint8_t *cid, size_t cid_len);
    void *route_ctx;
};

/* Write every established session of the servers to path, sealed under
 * k, and mark them saved: net_dtls_server_close then ends them without
 * close_notify (the clients are to go on with the next process). *n: the
 * sessions written. COAPS_E_IO / COAPS_E_NOMEM with a line in err; no
 * session is then marked, so each gets its close_notify as usual. Only
 * once every server's loop has stopped. */
coaps_status net_state_save(const struct net_state_servers *set, const struct net_state_key *k,
                            const char *path, uint64_t now_ms, uint32_t *n, char *err,
                            size_t cap);

/* Restore what path holds into the servers (their sockets open, their
 * tables empty, their loops not yet running), each session into the
 * server set->route names. No file: COAPS_OK, *n 0, nothing said. A file
 * that cannot be used (unreadable, truncated, not ours, another key,
 * damaged, stale: the verdicts of state_file.h) is a clean start:
 * COAPS_E_MALFORMED with one line in warn. A sound file is deleted before
 * any session is restored: see state_save.c. *n: the sessions restored,
 * in all (each server counts its own in stats.restored). */
coaps_status net_state_restore(const struct net_state_servers *set, const struct net_state_key *k,
                               const char *path, uint64_t now_ms, uint32_t *n, char *warn,
                               size_t cap);

#endif /* COAPS_NET_STATE_SAVE_H */
