/*
 * dtls_client.h - coaps:// for a client's edge: one DTLS 1.2 connection to
 * one server, between the edge's socket and its CoAP endpoint.
 *
 * The program starts the handshake (net_dtls_client_start), runs the loop
 * until net_dtls_client_state() leaves HANDSHAKING (the on_change callback
 * fires; stop the loop there), and only then sends CoAP requests: the tx
 * hook protects each CoAP message into one record for the server; messages
 * before or after the session are dropped (the CoAP core retransmits a CON,
 * RFC 7252 4.2, and gives up in time).
 */
#ifndef COAPS_NET_DTLS_CLIENT_H
#define COAPS_NET_DTLS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coaps/dtls.h"
#include "net/edge.h"
#include "net/log.h"
#include "net/loop.h"

struct net_dtls_client {
    coaps_dtls_config cfg; /* the caller's (copied) */
    struct net_edge *edge;
    struct net_endpoint *ep;
    coaps_peer server;     /* transport COAPS_TRANSPORT_DTLS */
    coaps_dtls_conn conn;
    coaps_dtls_hs *hs;     /* heap, freed once released */
    bool started;
    enum coaps_dtls_state last_state;
    void (*on_change)(void *user, enum coaps_dtls_state st);
    void *user;
};

/* Prepare a client of server over ep (a COAPS_TRANSPORT_DTLS endpoint of
 * edge). cfg is copied; what it points to must outlive cl. on_change runs
 * when the state changes (established, closed, failed). */
coaps_status net_dtls_client_init(struct net_dtls_client *cl, struct net_edge *edge,
                                  struct net_endpoint *ep, const coaps_peer *server,
                                  const coaps_dtls_config *cfg,
                                  void (*on_change)(void *user, enum coaps_dtls_state st),
                                  void *user);

/* Set the edge hooks and add the timer. */
coaps_status net_dtls_client_attach(struct net_dtls_client *cl, struct net_loop *loop);

/* Send the first ClientHello. COAPS_E_CONFIG, COAPS_E_NOMEM. */
coaps_status net_dtls_client_start(struct net_dtls_client *cl, uint64_t now_ms);

enum coaps_dtls_state net_dtls_client_state(const struct net_dtls_client *cl);

/* One line on why the handshake or session failed, e.g.
 * "alert unknown_psk_identity from server". */
const char *net_dtls_client_failure(const struct net_dtls_client *cl, char *buf, size_t cap);

/* close_notify (if established), flush, free. */
void net_dtls_client_close(struct net_dtls_client *cl, uint64_t now_ms);

#endif /* COAPS_NET_DTLS_CLIENT_H */
