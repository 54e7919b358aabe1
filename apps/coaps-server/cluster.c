/* cluster.c - coaps-server's light shared by a cluster's nodes (cluster.h). */
#include "cluster.h"

#include <string.h>

#include "net/server_store.h"

#define LIGHT_NAME "light"

static size_t light_load(void *ctx, uint8_t state[LIGHT_STATE_MAX])
{
    struct cluster_light *cl = ctx;
    memcpy(state, cl->state, cl->len);
    return cl->len;
}

/* A PUT here: ours at once, the store's (and so every node's) next. A
 * store that is down keeps the change on this node (the handler has
 * answered 2.04 already; the next PUT that reaches the store wins). */
static void light_store(void *ctx, const uint8_t *state, size_t len)
{
    struct cluster_light *cl = ctx;
    memcpy(cl->state, state, len);
    cl->len = len;
    (void)net_store_value_set(cl->store, LIGHT_NAME, state, len);
}

/* Another node's PUT (or our own, back from the store: the same bytes,
 * nothing to do). */
static void light_changed(void *ctx, const char *name, const uint8_t *value, size_t len)
{
    struct cluster_light *cl = ctx;
    if (strcmp(name, LIGHT_NAME) != 0 || len == 0 || len > LIGHT_STATE_MAX)
        return;
    if (len == cl->len && memcmp(value, cl->state, len) == 0)
        return;
    memcpy(cl->state, value, len);
    cl->len = len;
    memcpy(cl->light->state, value, len);
    cl->light->len = len;
    coaps_coap_resource_notify(cl->light->res); /* RFC 7641 4.2 */
}

void cluster_light_attach(struct cluster_light *cl, coaps_server *srv, struct light *light)
{
    struct net_store *st = net_server_store(srv);
    if (st == NULL)
        return;
    cl->store = st;
    cl->light = light;
    memcpy(cl->state, light->state, light->len);
    cl->len = light->len;
    uint8_t v[LIGHT_STATE_MAX];
    size_t n = 0;
    if (net_store_value_get(st, LIGHT_NAME, v, sizeof v, &n) == COAPS_OK && n > 0) {
        memcpy(cl->state, v, n);
        cl->len = n;
        memcpy(light->state, v, n);
        light->len = n;
    }
    cl->hooks.load = light_load;
    cl->hooks.store = light_store;
    cl->hooks.ctx = cl;
    light->store = &cl->hooks;
    net_server_on_changed(srv, light_changed, cl);
}
