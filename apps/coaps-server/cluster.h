/*
 * cluster.h - coaps-server's resources on a node of a cluster (--store,
 * docs/cluster.md): every node answers alike. The light's JSON lives in
 * the store; each node keeps a copy for its GETs (no store round trip per
 * request), a PUT on any node sets the store's and the store tells every
 * node (its changed() event), whose observers are then notified from the
 * node that holds their session.
 */
#ifndef COAPS_SERVER_CLUSTER_H
#define COAPS_SERVER_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "coaps/server.h"
#include "light/light.h"
#include "net/store.h"

struct cluster_light {
    struct net_store *store;
    struct light *light;
    struct light_store hooks; /* light->store points here */
    uint8_t state[LIGHT_STATE_MAX]; /* the cluster's, as last heard */
    size_t len;
};

/* Share light (registered) through srv's store; nothing when srv is not
 * a cluster node. The light starts with the store's state, if it has
 * one. cl must outlive srv. */
void cluster_light_attach(struct cluster_light *cl, coaps_server *srv, struct light *light);

#endif /* COAPS_SERVER_CLUSTER_H */
