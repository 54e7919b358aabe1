/*
 * light.h - the reference smart-light resource of coaps-server.
 *
 *   GET  /light   2.05, the JSON state (Content-Format 50); observable
 *   PUT  /light   replace the state with a JSON object: 2.04 Changed, and
 *                 every observer is notified (RFC 7641 4.2)
 * Errors: 4.00 empty body, malformed JSON or not an object; 4.13 body
 * larger than LIGHT_STATE_MAX; 4.15 a Content-Format other than
 * application/json.
 */
#ifndef COAPS_LIGHT_LIGHT_H
#define COAPS_LIGHT_LIGHT_H

#include <stddef.h>
#include <stdint.h>

#include "coaps/coap.h"

/* Bytes of the light's state. A light's JSON state is a few fields
 * ({"status": true, "brightness": 80, ...}); 256 bytes fits that with
 * margin, fits in a single CoAP block, and bounds what a client can store. */
#define LIGHT_STATE_MAX 256

/* The state a light starts in. */
#define LIGHT_INITIAL_STATE "{\"status\": true}"

/* Where the state lives when several lights show one (coaps-server's
 * workers: each has its own endpoint and light, all show one state):
 * load() copies it into state (returns its length) before a GET or a
 * notification is built, store() is given the new state after a PUT.
 * Both run on the thread of the light's endpoint. */
struct light_store {
    size_t (*load)(void *ctx, uint8_t state[LIGHT_STATE_MAX]);
    void (*store)(void *ctx, const uint8_t *state, size_t len);
    void *ctx;
};

struct light {
    uint8_t state[LIGHT_STATE_MAX];
    size_t len;
    coaps_coap_resource *res;
    const struct light_store *store; /* NULL: the state above is the light's */
};

/* Reset to LIGHT_INITIAL_STATE and register "light" on ep. The struct
 * must outlive the endpoint. Returns what coaps_coap_resource_add does.
 * store is left as it is (set it, or zero the struct, before). */
coaps_status light_register(struct light *light, coaps_coap_endpoint *ep);

#endif /* COAPS_LIGHT_LIGHT_H */
