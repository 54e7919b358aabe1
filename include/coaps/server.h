/*
 * coaps/server.h - a ready CoAP server on Linux: UDP sockets for coap://
 * and coaps:// (DTLS 1.2 with pre-shared keys, certificates or raw public
 * keys), the resources you add with handlers (coaps/coap.h), and an event
 * loop that you either run or drive from your own.
 *
 *   coaps_server_config cfg;
 *   coaps_server_config_default(&cfg);
 *   coaps_server *srv;
 *   coaps_server_new(&srv, &cfg, err, sizeof err);
 *   coaps_coap_resource_add(coaps_server_coap(srv), &def, NULL);   // resources
 *   coaps_server_add_psk(srv, "client1", 7, key, key_len);        // coaps://
 *   coaps_server_listen(srv, NULL, 5683, false, ...);              // coap://
 *   coaps_server_listen(srv, NULL, 5684, true, ...);               // coaps://
 *   coaps_server_run(srv);            // until SIGINT/SIGTERM or _stop()
 *   coaps_server_free(srv);
 *
 * Or, inside your own loop: wait until coaps_server_fd() is readable or
 * coaps_server_timeout_ms() has passed, then call coaps_server_process(srv, 0).
 *
 * The server allocates its tables once, in coaps_server_new and at the first
 * coaps:// listen (sized by the config: sessions, handshakes, observers,
 * deduplication); nothing is allocated per datagram or per handshake. All
 * of it runs on the thread that calls run/process. Errors are one line of
 * text in the caller's err buffer (may be NULL) plus the coaps_status.
 */
#ifndef COAPS_SERVER_H
#define COAPS_SERVER_H

#include "coaps/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coaps/coap.h"
#include "coaps/dtls.h"
#include "coaps/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct coaps_server coaps_server;

typedef struct coaps_server_config {
    /* Log lines on stderr: syslog levels 0 (emerg) - 7 (debug); default
     * 4 (warning). Each line starts with log_name (default "coaps"). */
    int log_level;
    const char *log_name;
    /* CoAP (coaps/coap.h coaps_coap_config): 0 = the core's default. */
    uint16_t max_observers;
    uint16_t dedup_peers;
    /* Receive buffer asked for each socket, in bytes (default 4 MiB: a
     * fleet's burst overflows Linux's 208 KiB default); 0: the kernel's. */
    int rcvbuf;
    /* coaps://: the PSK identity hint sent to clients (default "CoAP");
     * certificates or raw public keys (NULL: PSK only), copied at new. */
    const char *psk_hint;
    const coaps_dtls_pki_files *pki;
    /* Bounds; 0 = default: 10,000 sessions, 4,096 handshakes in progress,
     * 64 of them with a certificate, sessions closed after 300 s idle. */
    uint32_t max_sessions;
    uint32_t max_handshakes;
    uint32_t max_cert_handshakes;
    /* Handshakes in progress from one source host (an IPv4 address, an
     * IPv6 /64) at most; past it the host's newest displaces its own
     * oldest. 0 = default: a quarter of max_handshakes. */
    uint32_t max_handshakes_per_host;
    uint32_t idle_timeout_ms;
    /* coaps:// sessions silent this long go cold: the crypto library's
     * per-session contexts are given back, the keys kept, and the next
     * record re-keys (coaps_dtls_cool). 0 = default, 30 s; UINT32_MAX:
     * never. */
    uint32_t cold_after_ms;
    /* coaps:// Connection ID (RFC 9146): with cid, clients that offer one
     * get a CID of cid_len bytes (0..COAPS_DTLS_CID_MAX; 0: they send
     * plain records, we use theirs) and keep their session, Observe
     * registrations included, when their address changes. Default off. */
    bool cid;
    uint8_t cid_len;
    /* coaps:// session resumption by session ID (RFC 5246 7.3): a client
     * that comes back with the ID of a cached session (made with the
     * extended master secret) needs one round trip and no key exchange.
     * session_cache sessions are kept (0: as many as max_sessions), each
     * at most 24 hours; no_session_cache: none kept. no_resumption turns
     * resumption off altogether (IDs and tickets). */
    uint32_t session_cache;
    bool no_session_cache;
    bool no_resumption;
    /* coaps:// session tickets (RFC 5077): a client that asks gets a
     * ticket, the session sealed under a key of the current period, and
     * resumes with it while no state is kept here (no_resumption or
     * no_tickets: none). The keys come from ticket_secret
     * (COAPS_DTLS_TICKET_SECRET_LEN bytes: give every node of a cluster,
     * and every restart, the same) or, when NULL, a random secret of this
     * run; a ticket is accepted for one to two periods of ticket_period_s
     * (0: COAPS_DTLS_TICKET_PERIOD_S, an hour). */
    bool no_tickets;
    const uint8_t *ticket_secret;
    const char *ticket_key_file; /* the secret as 64 hex digits, if no ticket_secret */
    uint32_t ticket_period_s;
    /* Append DTLS secrets to the file named by SSLKEYLOGFILE (for
     * Wireshark), when that variable is set. Default false. */
    bool keylog_from_env;
    /* coaps_server_run stops on SIGINT and SIGTERM (they are blocked and
     * read through a signalfd). Default true. */
    bool catch_signals;
    /* Durable sessions (docs/sessions.md): with state_file, the coaps://
     * sessions (and their peers' Observe registrations) are saved there by
     * coaps_server_save_state, sealed with AES-256-GCM under the key in
     * state_key_file (64 hex digits), and restored by
     * coaps_server_restore_state, so clients go on without a handshake.
     * Both or neither; a bad key file fails coaps_server_new. */
    const char *state_file;
    const char *state_key_file;
    /* A cluster (docs/cluster.md): the store the nodes share their
     * coaps:// sessions, key rings and resource state through, "redis://
     * HOST:PORT[/DB]" (or "memory:", this process's). Needs
     * state_key_file (the store's values are sealed under it), excludes
     * state_file. */
    const char *store;
} coaps_server_config;

/* The defaults above. */
COAPS_API void coaps_server_config_default(coaps_server_config *cfg);

/* A server with its CoAP endpoint, no sockets yet. COAPS_E_INVALID for a
 * config out of range, COAPS_E_NOMEM, COAPS_E_IO (event loop). */
COAPS_API coaps_status coaps_server_new(coaps_server **out, const coaps_server_config *cfg,
                                        char *err, size_t err_cap);
/* Closes every session (close_notify), every socket, frees everything. */
COAPS_API void coaps_server_free(coaps_server *srv);

/* The CoAP endpoint: add resources with coaps_coap_resource_add(), notify
 * observers with coaps_coap_resource_notify(), read its statistics. */
COAPS_API coaps_coap_endpoint *coaps_server_coap(coaps_server *srv);

/* coaps:// credentials (at any time: the next handshake sees them; one at
 * least before the first coaps:// listen). A PSK identity
 * (id NULL: the key for any identity not listed); "ID:KEY" as a command
 * line gives it (KEY text or 0x + hex, ID "*" = any); a file of
 * "identity,key" lines with # comments. */
COAPS_API coaps_status coaps_server_add_psk(coaps_server *srv, const uint8_t *id, size_t id_len,
                                            const uint8_t *key, size_t key_len);
COAPS_API coaps_status coaps_server_add_psk_arg(coaps_server *srv, const char *arg, char *err,
                                                size_t err_cap);
COAPS_API coaps_status coaps_server_load_psk_file(coaps_server *srv, const char *path,
                                                  char *err, size_t err_cap);
/* Whether coaps:// has something to authenticate with (a PSK or the
 * config's certificates). */
COAPS_API bool coaps_server_has_credentials(const coaps_server *srv);

/* Open a UDP socket on host (a name or address; NULL: all addresses, [::]
 * dual stack, else 0.0.0.0) and port (0: any free port) for coap:// or,
 * with dtls, coaps://. bound (may be NULL) receives the address as text,
 * e.g. "[::]:5683". At most 4 sockets. COAPS_E_INVALID: no credentials for
 * coaps://; COAPS_E_NOT_FOUND: host does not resolve (err: "cannot resolve
 * 'HOST': REASON"); COAPS_E_IO: bind failed. */
COAPS_API coaps_status coaps_server_listen(coaps_server *srv, const char *host, uint16_t port,
                                           bool dtls, char *bound, size_t bound_cap, char *err,
                                           size_t err_cap);

/* Serve until coaps_server_stop() or, with catch_signals, SIGINT/SIGTERM. */
COAPS_API coaps_status coaps_server_run(coaps_server *srv);
/* Make run return at its next turn (from a handler or another thread's
 * signal handler context is not safe: use catch_signals for signals). */
COAPS_API void coaps_server_stop(coaps_server *srv);
/* The signal that stopped run, or 0. */
COAPS_API int coaps_server_stop_signal(const coaps_server *srv);

/* Your loop: a file descriptor that becomes readable when there is work
 * (an epoll set holding the sockets), and how long you may wait at most
 * (-1: no deadline). Then coaps_server_process(srv, wait_ms) handles what
 * is ready, waiting at most wait_ms for it (0: do not wait), and runs the
 * timers that are due. */
COAPS_API int coaps_server_fd(const coaps_server *srv);
COAPS_API int coaps_server_timeout_ms(const coaps_server *srv);
COAPS_API coaps_status coaps_server_process(coaps_server *srv, int wait_ms);

/* Durable sessions (state_file in the config): put back the sessions of
 * the state file, after the coaps:// sockets are open (a session comes
 * back on the socket of its port) and before the loop runs; the file is
 * deleted first (a crash must not restore the same sessions twice). No
 * file: COAPS_OK. A file that cannot be used (truncated, damaged, another
 * key, stale, ...) means a clean start: COAPS_E_MALFORMED (or COAPS_E_IO)
 * with one warning line in err. *restored (may be NULL): how many. */
COAPS_API coaps_status coaps_server_restore_state(coaps_server *srv, uint32_t *restored,
                                                  char *err, size_t err_cap);
/* Save every established coaps:// session to the state file, after the
 * loop stopped (nothing is sent or read on them after); coaps_server_free
 * then ends them without close_notify. The file is written atomically
 * (mode 0600). COAPS_E_IO with a line in err: nothing was saved, and the
 * sessions end as usual. *saved (may be NULL): how many. */
COAPS_API coaps_status coaps_server_save_state(coaps_server *srv, uint32_t *saved, char *err,
                                               size_t err_cap);

/* coaps:// sessions held now (established or in handshake). */
COAPS_API uint32_t coaps_server_sessions(const coaps_server *srv);
/* Log the CoAP, DTLS and socket statistics at level info (6). */
COAPS_API void coaps_server_log_stats(coaps_server *srv);

#ifdef __cplusplus
}
#endif
#endif /* COAPS_SERVER_H */
