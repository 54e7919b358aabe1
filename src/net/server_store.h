/*
 * server_store.h - a coaps_server as a node of a cluster
 * (coaps_server_config.store; docs/cluster.md): the program reaches the
 * cluster's store for the state its resources share (the light's JSON,
 * /test/counter), and hears when another node changed a shared value.
 * Internal (programs in this tree): no COAPS_API.
 */
#ifndef COAPS_NET_SERVER_STORE_H
#define COAPS_NET_SERVER_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "coaps/server.h"
#include "net/store.h"

/* The server's store, or NULL when it is not a cluster node. */
struct net_store *net_server_store(coaps_server *srv);

/* A shared value changed (on any node, this one included): on the
 * server's loop thread. */
typedef void (*net_server_changed_cb)(void *ctx, const char *name, const uint8_t *value,
                                      size_t len);
void net_server_on_changed(coaps_server *srv, net_server_changed_cb cb, void *ctx);

#endif /* COAPS_NET_SERVER_STORE_H */
