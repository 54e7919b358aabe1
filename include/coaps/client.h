/*
 * coaps/client.h - a ready CoAP client on Linux: one UDP socket to one
 * server over coap:// or coaps:// (DTLS 1.2 with a pre-shared key,
 * certificates or a raw public key), the CoAP endpoint whose requests you
 * send (coaps/coap.h), and an event loop that you run or drive from yours.
 *
 *   coaps_client_config cfg;
 *   coaps_client_config_default(&cfg);
 *   cfg.psk_identity = ...; cfg.psk_key = ...;          // for coaps://
 *   coaps_client *cl;
 *   coaps_client_new(&cl, &cfg, err, sizeof err);
 *   coaps_peer server;
 *   coaps_client_connect(cl, "light.local", 5684, true, &server, err, sizeof err);
 *   coaps_client_handshake(cl, 10000, err, sizeof err);  // coaps:// only
 *   coaps_coap_client_request req;  coaps_coap_client_request_init(&req);
 *   req.peer = server; ... req.cb = on_response;
 *   coaps_client_request(cl, &req, &id);
 *   while (!done) coaps_client_process(cl, -1);
 *   coaps_client_free(cl);                                 // close_notify
 *
 * Tables are allocated at coaps_client_new and connect, nothing per
 * datagram. Everything runs on the thread that calls process.
 */
#ifndef COAPS_CLIENT_H
#define COAPS_CLIENT_H

#include "coaps/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coaps/coap.h"
#include "coaps/dtls.h"
#include "coaps/peer.h"
#include "coaps/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct coaps_client coaps_client;

typedef struct coaps_client_config {
    /* Log lines on stderr: syslog levels 0-7, default 4 (warning); each
     * starts with log_name (default "coaps"). */
    int log_level;
    const char *log_name;
    /* Largest response body reassembled from Block2 (default 64 KiB). */
    size_t max_body_size;
    /* coaps://: a PSK (identity and key, copied), certificates or a raw
     * public key (NULL: PSK only). */
    const uint8_t *psk_identity;
    size_t psk_identity_len;
    const uint8_t *psk_key;
    size_t psk_key_len;
    const coaps_dtls_pki_files *pki;
    /* coaps://: offer a Connection ID (RFC 9146), so that the session
     * survives our address changing (a NAT rebinding); cid_len is the
     * length of the CID we ask the server to use, 0..COAPS_DTLS_CID_MAX
     * (0: we need none, the server's is enough for it to find us). */
    bool cid;
    uint8_t cid_len;
    /* A handshake not complete by then fails (0: COAPS_DTLS_HANDSHAKE_TIMEOUT_MS). */
    uint32_t handshake_timeout_ms;
    /* Append DTLS secrets to SSLKEYLOGFILE's file when it is set. */
    bool keylog_from_env;
    /* coaps://: a session file (coaps/session.h): the session saved there
     * is offered for resumption (RFC 5246 7.3: one round trip, no key
     * exchange, if the server still has it), and every session this
     * client completes is saved there. Missing: a first run; damaged or
     * foreign: one warning line and a full handshake. NULL: none. */
    const char *session_file;
    /* coaps://: session tickets (RFC 5077) are asked for, kept with the
     * session (and in session_file) and offered to resume, so that a
     * server keeping no state can resume too; no_tickets: IDs only. */
    bool no_tickets;
    /* process/handshake return on SIGINT/SIGTERM (coaps_client_stop_signal
     * says which). Default true. */
    bool catch_signals;
} coaps_client_config;

COAPS_API void coaps_client_config_default(coaps_client_config *cfg);

COAPS_API coaps_status coaps_client_new(coaps_client **out, const coaps_client_config *cfg,
                                        char *err, size_t err_cap);
/* Sends close_notify on a DTLS session, closes the socket, frees all. */
COAPS_API void coaps_client_free(coaps_client *cl);

/* The CoAP endpoint: send requests with coaps_client_request (or
 * coaps_coap_request_send), cancel observations, read statistics. */
COAPS_API coaps_coap_endpoint *coaps_client_coap(coaps_client *cl);

/* Resolve host, open a socket of its family on any port, and for dtls
 * start the handshake (host is also the name sent in SNI and checked in
 * the server's certificate). *server: the peer to address requests to.
 * One server per client. COAPS_E_NOT_FOUND: host does not resolve. */
COAPS_API coaps_status coaps_client_connect(coaps_client *cl, const char *host, uint16_t port,
                                            bool dtls, coaps_peer *server, char *err,
                                            size_t err_cap);

/* coaps://: run until the session is established (COAPS_OK), fails
 * (err: why, e.g. the server's alert), timeout_ms passes
 * (COAPS_E_TIMEOUT) or a signal arrives (COAPS_E_CLOSED). */
COAPS_API coaps_status coaps_client_handshake(coaps_client *cl, uint32_t timeout_ms, char *err,
                                              size_t err_cap);
/* coaps://: a new DTLS session with the same server, offering the last
 * session for resumption (RFC 5246 7.3: one round trip, no key exchange,
 * if the server still has it; else a full handshake), then as
 * coaps_client_handshake. For a session the server no longer finds: our
 * address changed under a NAT without a Connection ID, or the server
 * restarted. Requests still pending on the old session are dropped. */
COAPS_API coaps_status coaps_client_rehandshake(coaps_client *cl, uint32_t timeout_ms, char *err,
                                                size_t err_cap);
/* The DTLS session's state (COAPS_DTLS_ESTABLISHED, ...); for coap://
 * always COAPS_DTLS_ESTABLISHED. err receives why a session failed. */
COAPS_API enum coaps_dtls_state coaps_client_dtls_state(const coaps_client *cl, char *err,
                                                        size_t err_cap);

/* coaps_coap_request_send at the current time, then the datagram leaves. */
COAPS_API coaps_status coaps_client_request(coaps_client *cl, const coaps_coap_client_request *r,
                                            coaps_coap_request_id *id);
/* coaps_coap_ping to server at the current time (RFC 7252 4.3: an empty
 * CON, answered by a Reset; cb gets one final event), then the datagram
 * leaves: a keep-alive that refreshes NAT bindings on the way and, with a
 * DTLS Connection ID, tells the server the client's new address. */
COAPS_API coaps_status coaps_client_ping(coaps_client *cl, const coaps_peer *server,
                                         coaps_coap_response_cb cb, void *user,
                                         coaps_coap_request_id *id);
/* coaps_coap_request_cancel (proactive: tell the server, RFC 7641 3.6). */
COAPS_API coaps_status coaps_client_cancel(coaps_client *cl, coaps_coap_request_id id,
                                           bool proactive);

/* Your loop, as for the server: wait on coaps_client_fd() at most
 * coaps_client_timeout_ms() (-1: no deadline), then process (waiting at
 * most wait_ms itself; -1: until the next deadline). */
COAPS_API int coaps_client_fd(const coaps_client *cl);
COAPS_API int coaps_client_timeout_ms(const coaps_client *cl);
COAPS_API coaps_status coaps_client_process(coaps_client *cl, int wait_ms);
/* The signal that arrived (with catch_signals), or 0. */
COAPS_API int coaps_client_stop_signal(const coaps_client *cl);
/* Milliseconds on the clock the client uses (monotonic). */
COAPS_API uint64_t coaps_client_now_ms(const coaps_client *cl);

#ifdef __cplusplus
}
#endif
#endif /* COAPS_CLIENT_H */
