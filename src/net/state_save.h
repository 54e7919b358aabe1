/*
 * state_save.h - durable sessions of the coaps:// server (docs/sessions.md,
 * "Durable sessions"): at shutdown every established session, with its
 * peer's Observe registrations, into the state file (state_file.h); at
 * start, back into the session table, the CID table and the CoAP
 * endpoint, so that clients go on without a handshake.
 */
#ifndef COAPS_NET_STATE_SAVE_H
#define COAPS_NET_STATE_SAVE_H

#include <stddef.h>
#include <stdint.h>

#include "net/dtls_server.h"
#include "net/state_file.h"

/* Write every established session of srv to path, sealed under k, and
 * mark them saved: net_dtls_server_close then ends them without
 * close_notify (the clients are to go on with the next process). *n: the
 * sessions written. COAPS_E_IO / COAPS_E_NOMEM with a line in err; no
 * session is then marked, so each gets its close_notify as usual. */
coaps_status net_state_save(struct net_dtls_server *srv, const struct net_state_key *k,
                            const char *path, uint64_t now_ms, uint32_t *n, char *err,
                            size_t cap);

/* Restore what path holds into srv (its sockets open, its table empty).
 * No file: COAPS_OK, *n 0, nothing said. A file that cannot be used
 * (unreadable, truncated, not ours, another key, damaged, stale: the
 * verdicts of state_file.h) is a clean start: COAPS_E_MALFORMED with one
 * line in warn. A sound file is deleted before any session is restored:
 * see state_save.c. *n: the sessions restored. */
coaps_status net_state_restore(struct net_dtls_server *srv, const struct net_state_key *k,
                               const char *path, uint64_t now_ms, uint32_t *n, char *warn,
                               size_t cap);

#endif /* COAPS_NET_STATE_SAVE_H */
