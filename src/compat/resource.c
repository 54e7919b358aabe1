/* resource.c - libcoap's resources on the CoAP core's: each becomes a
 * coaps_coap_resource whose handlers (every method) call the program's
 * libcoap handler with a request and a response PDU that are views of the
 * core's request and response. Handlers are looked up at each request, so
 * one registered after coap_add_resource counts, as in libcoap. */
#include <stdlib.h>
#include <string.h>

#include "compat/compat.h"

/* libcoap keeps the last two results of coap_make_str_const; so do we. */
#define STR_CONST_RING 2

coap_str_const_t *coap_make_str_const(const char *string)
{
    static coap_str_const_t ring[STR_CONST_RING];
    static unsigned next;
    if (string == NULL) {
        COMPAT_BAD("coap_make_str_const", "NULL string");
        return NULL;
    }
    coap_str_const_t *s = &ring[next++ % STR_CONST_RING];
    s->s = (const uint8_t *)string;
    s->length = strlen(string);
    return s;
}

coap_resource_t *coap_resource_init(coap_str_const_t *uri_path, int flags)
{
    const uint8_t *p = uri_path ? uri_path->s : (const uint8_t *)"";
    size_t len = uri_path ? uri_path->length : 0;
    if (len > 0 && p == NULL) {
        COMPAT_BAD("coap_resource_init", "NULL path bytes");
        return NULL;
    }
    while (len > 0 && p[0] == '/') { /* the core's paths have no leading '/' */
        p++;
        len--;
    }
    coap_resource_t *r = calloc(1, sizeof *r);
    if (r == NULL || len >= sizeof r->path || memchr(p, '\0', len) != NULL) {
        COMPAT_BAD("coap_resource_init", "path too long or out of memory");
        free(r);
        return NULL;
    }
    if (len)
        memcpy(r->path, p, len);
    r->uri.s = (const uint8_t *)r->path;
    r->uri.length = len;
    r->flags = flags;
    return r;
}

void coap_register_handler(coap_resource_t *r, coap_request_t method,
                           coap_method_handler_t handler)
{
    if (r == NULL || method < COAP_REQUEST_GET || method > COAP_REQUEST_IPATCH) {
        COMPAT_BAD("coap_register_handler", "NULL resource or unknown method");
        return;
    }
    r->handler[method] = handler;
}

void coap_resource_set_get_observable(coap_resource_t *r, int mode)
{
    if (r == NULL) {
        COMPAT_BAD("coap_resource_set_get_observable", "NULL resource");
        return;
    }
    if (r->res != NULL && (mode != 0) != r->observable)
        coap_log(LOG_WARNING, "coap_resource_set_get_observable: set it before "
                              "coap_add_resource; unchanged\n");
    else
        r->observable = mode != 0;
}

int coap_resource_notify_observers(coap_resource_t *r, const coap_string_t *query)
{
    (void)query; /* observers of one resource with different queries: not kept apart */
    if (r == NULL) {
        COMPAT_BAD("coap_resource_notify_observers", "NULL resource");
        return 0;
    }
    if (!r->observable || r->res == NULL || coaps_coap_resource_observer_count(r->res) == 0)
        return 0;
    coaps_coap_resource_notify(r->res);
    return 1;
}

coap_str_const_t *coap_resource_get_uri_path(coap_resource_t *r)
{
    if (r == NULL) {
        COMPAT_BAD("coap_resource_get_uri_path", "NULL resource");
        return NULL;
    }
    return &r->uri;
}

void coap_resource_set_userdata(coap_resource_t *r, void *data)
{
    if (r == NULL) {
        COMPAT_BAD("coap_resource_set_userdata", "NULL resource");
        return;
    }
    r->userdata = data;
}

void *coap_resource_get_userdata(coap_resource_t *r)
{
    if (r == NULL) {
        COMPAT_BAD("coap_resource_get_userdata", "NULL resource");
        return NULL;
    }
    return r->userdata;
}

/* ---- the bridge ------------------------------------------------------------- */

static coap_proto_t peer_proto(const coaps_peer *p)
{
    return p->transport == COAPS_TRANSPORT_DTLS ? COAP_PROTO_DTLS : COAP_PROTO_UDP;
}

/* Every method of every resource comes here. */
static coaps_status bridge(void *user, const coaps_coap_request *req, coaps_coap_response *resp)
{
    coap_resource_t *r = user;
    uint8_t method = coaps_coap_request_method(req);
    coap_method_handler_t h = method <= COAPS_COAP_METHOD_MAX ? r->handler[method] : NULL;
    if (h == NULL) {
        /* as libcoap: the phrase as diagnostic payload (RFC 7252 5.5.2) */
        static const char phrase[] = "Method Not Allowed";
        coaps_coap_response_set_code(resp, COAPS_COAP_METHOD_NOT_ALLOWED);
        return coaps_coap_response_set_payload(resp, phrase, sizeof phrase - 1);
    }
    /* the session a server handler sees: who asked, over what */
    coap_session_t session;
    memset(&session, 0, sizeof session);
    session.ctx = r->ctx;
    session.peer = *coaps_coap_request_peer(req);
    session.proto = peer_proto(&session.peer);
    session.server_view = true;

    size_t body_len = 0;
    const uint8_t *body = coaps_coap_request_payload(req, &body_len);
    coap_pdu_t request, response;
    compat_pdu_request_view(&request, coaps_coap_request_msg(req), body, body_len);
    compat_pdu_response_view(&response, resp);
    uint8_t qbuf[COMPAT_PDU_MAX];
    coap_string_t qs;
    const coap_string_t *query = compat_query(coaps_coap_request_msg(req), qbuf, sizeof qbuf, &qs);
    h(r, &session, &request, query, &response);
    return COAPS_OK;
}

static int resource_attach(coap_context_t *ctx, coap_resource_t *r)
{
    coaps_coap_resource_def def;
    coaps_coap_resource_def_init(&def, r->path);
    for (int m = COAP_REQUEST_GET; m <= COAP_REQUEST_IPATCH; m++)
        def.handler[m] = bridge;
    def.user = r;
    def.observable = r->observable;
    def.notify_con = (r->flags & COAP_RESOURCE_FLAGS_NOTIFY_CON) != 0;
    coaps_status st = coaps_coap_resource_add(coaps_server_coap(ctx->server), &def, &r->res);
    if (st != COAPS_OK) {
        coap_log(LOG_ERR, "coap_add_resource: '%s': %s\n", r->path, coaps_status_str(st));
        return 0;
    }
    return 1;
}

int compat_resources_attach(coap_context_t *ctx)
{
    int ok = 1;
    for (coap_resource_t *r = ctx->resources; r; r = r->next)
        if (r->res == NULL && !resource_attach(ctx, r))
            ok = 0;
    return ok;
}

void coap_add_resource(coap_context_t *ctx, coap_resource_t *r)
{
    if (ctx == NULL || r == NULL || r->ctx != NULL) {
        COMPAT_BAD("coap_add_resource", "NULL context or resource, or resource added before");
        return;
    }
    r->ctx = ctx;
    r->next = ctx->resources;
    ctx->resources = r;
    if (ctx->server != NULL)
        resource_attach(ctx, r);
}

void compat_resources_free(coap_context_t *ctx)
{
    coap_resource_t *r = ctx->resources;
    while (r != NULL) {
        coap_resource_t *next = r->next;
        free(r);
        r = next;
    }
    ctx->resources = NULL;
}
