/* light.c - the smart-light resource (see light.h). */
#include "light/light.h"

#include <string.h>

#include "light/json.h"

_Static_assert(sizeof LIGHT_INITIAL_STATE - 1 <= LIGHT_STATE_MAX, "initial state fits");

/* RFC 7252 5.5.2: a short diagnostic payload says what was wrong. */
static coaps_status light_reject(coaps_coap_response *resp, uint8_t code, const char *why)
{
    coaps_coap_response_set_code(resp, code);
    coaps_coap_response_set_content_format(resp, COAPS_COAP_CF_NONE);
    return coaps_coap_response_set_payload(resp, why, strlen(why));
}

static coaps_status light_get(void *user, const coaps_coap_request *req,
                              coaps_coap_response *resp)
{
    (void)req;
    struct light *light = user;
    if (light->store)
        light->len = light->store->load(light->store->ctx, light->state);
    coaps_coap_response_set_code(resp, COAPS_COAP_CONTENT);
    coaps_coap_response_set_content_format(resp, COAPS_COAP_CF_JSON);
    return coaps_coap_response_set_payload(resp, light->state, light->len);
}

static coaps_status light_put(void *user, const coaps_coap_request *req,
                              coaps_coap_response *resp)
{
    struct light *light = user;
    int32_t cf = coaps_coap_request_content_format(req);
    if (cf != COAPS_COAP_CF_NONE && cf != COAPS_COAP_CF_JSON)
        return light_reject(resp, COAPS_COAP_UNSUPPORTED_CONTENT_FORMAT,
                            "state must be application/json");
    size_t len = 0;
    const uint8_t *body = coaps_coap_request_payload(req, &len);
    if (len == 0)
        return light_reject(resp, COAPS_COAP_BAD_REQUEST, "empty body: send a JSON object");
    if (len > LIGHT_STATE_MAX) {
        /* RFC 7959 4: Size1 tells the client the largest body we take */
        coaps_coap_response_set_size1(resp, LIGHT_STATE_MAX);
        return light_reject(resp, COAPS_COAP_REQUEST_ENTITY_TOO_LARGE,
                            "state larger than 256 bytes");
    }
    enum json_kind kind;
    if (json_validate(body, len, &kind) != COAPS_OK)
        return light_reject(resp, COAPS_COAP_BAD_REQUEST, "malformed JSON");
    if (kind != JSON_OBJECT)
        return light_reject(resp, COAPS_COAP_BAD_REQUEST, "state must be a JSON object");
    memcpy(light->state, body, len);
    light->len = len;
    if (light->store)
        light->store->store(light->store->ctx, light->state, len);
    /* RFC 7641 4.2: the state changed, tell the observers */
    coaps_coap_resource_notify(light->res);
    coaps_coap_response_set_code(resp, COAPS_COAP_CHANGED);
    return COAPS_OK;
}

coaps_status light_register(struct light *light, coaps_coap_endpoint *ep)
{
    memcpy(light->state, LIGHT_INITIAL_STATE, sizeof LIGHT_INITIAL_STATE - 1);
    light->len = sizeof LIGHT_INITIAL_STATE - 1;
    coaps_coap_resource_def def;
    memset(&def, 0, sizeof def);
    def.path = "light";
    def.handler[COAPS_COAP_GET] = light_get;
    def.handler[COAPS_COAP_PUT] = light_put;
    def.user = light;
    def.rt = "light";
    def.ct = COAPS_COAP_CF_JSON;
    def.observable = true;
    for (size_t i = 0; i < sizeof def.accept_cf / sizeof def.accept_cf[0]; i++)
        def.accept_cf[i] = COAPS_COAP_CF_NONE; /* checked in light_put */
    return coaps_coap_resource_add(ep, &def, &light->res);
}
