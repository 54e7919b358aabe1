/* test_resources.c - large resources for block-wise tests (see header). */
#include "test_resources.h"

#include <stdio.h>
#include <string.h>


static coaps_status large_get(void *user, const coaps_coap_request *req,
                              coaps_coap_response *resp)
{
    (void)user;
    (void)req;
    coaps_coap_response_set_content_format(resp, COAPS_COAP_CF_TEXT_PLAIN);
    for (unsigned i = 0; i < TEST_LARGE_LINES; i++) {
        char line[48]; /* TEST_LARGE_LINE_LEN + NUL, with room for gcc's range analysis */
        int n = snprintf(line, sizeof line, "line %04u abcdefghijklmnopqrstuvwxyz\n", i);
        coaps_status st = coaps_coap_response_append(resp, line, (size_t)n);
        if (st != COAPS_OK)
            return st;
    }
    return COAPS_OK;
}

static coaps_status upload_get(void *user, const coaps_coap_request *req,
                               coaps_coap_response *resp)
{
    (void)req;
    struct test_resources *t = user;
    coaps_coap_response_set_content_format(resp, COAPS_COAP_CF_OCTET_STREAM);
    pthread_mutex_lock(&t->lock);
    coaps_status st = coaps_coap_response_set_payload(resp, t->upload, t->upload_len);
    pthread_mutex_unlock(&t->lock);
    return st;
}

static coaps_status upload_put(void *user, const coaps_coap_request *req,
                               coaps_coap_response *resp)
{
    struct test_resources *t = user;
    size_t len;
    const uint8_t *body = coaps_coap_request_payload(req, &len);
    if (len > sizeof t->upload) {
        coaps_coap_response_set_code(resp, COAPS_COAP_REQUEST_ENTITY_TOO_LARGE);
        return COAPS_OK;
    }
    pthread_mutex_lock(&t->lock);
    if (len)
        memcpy(t->upload, body, len);
    t->upload_len = len;
    pthread_mutex_unlock(&t->lock);
    coaps_coap_response_set_code(resp, COAPS_COAP_CHANGED);
    return COAPS_OK;
}

static coaps_status counter_answer(coaps_coap_response *resp, uint64_t count)
{
    char text[24]; /* 20 digits of a uint64_t + NUL */
    int n = snprintf(text, sizeof text, "%llu", (unsigned long long)count);
    coaps_coap_response_set_content_format(resp, COAPS_COAP_CF_TEXT_PLAIN);
    return coaps_coap_response_set_payload(resp, text, (size_t)n);
}

/* The cluster's store cannot be reached: the POST was not counted. */
static coaps_status counter_unavailable(coaps_coap_response *resp)
{
    coaps_coap_response_set_code(resp, COAPS_COAP_SERVICE_UNAVAILABLE);
    coaps_coap_response_set_content_format(resp, COAPS_COAP_CF_NONE);
    return coaps_coap_response_set_payload(resp, "store unreachable", 17);
}

static coaps_status counter_get(void *user, const coaps_coap_request *req,
                                coaps_coap_response *resp)
{
    (void)req;
    struct test_counter *c = user;
    uint64_t v;
    if (c->store == NULL)
        return counter_answer(resp, atomic_load(&c->t->counter));
    if (net_store_counter_get(c->store, "counter", &v) != COAPS_OK)
        return counter_unavailable(resp);
    return counter_answer(resp, v);
}

static coaps_status counter_post(void *user, const coaps_coap_request *req,
                                 coaps_coap_response *resp)
{
    (void)req;
    struct test_counter *c = user;
    uint64_t v;
    if (c->store == NULL)
        v = atomic_fetch_add(&c->t->counter, 1) + 1;
    else if (net_store_counter_incr(c->store, "counter", &v) != COAPS_OK)
        return counter_unavailable(resp);
    /* the count this POST made, even if another worker's or node's follows */
    coaps_status st = counter_answer(resp, v);
    if (st != COAPS_OK)
        return st;
    coaps_coap_response_set_code(resp, COAPS_COAP_CHANGED);
    return COAPS_OK;
}

static void no_accept_filter(coaps_coap_resource_def *def)
{
    for (size_t i = 0; i < sizeof def->accept_cf / sizeof def->accept_cf[0]; i++)
        def->accept_cf[i] = COAPS_COAP_CF_NONE;
}

void test_resources_init(struct test_resources *t)
{
    pthread_mutex_init(&t->lock, NULL);
    t->upload_len = 0;
    atomic_init(&t->counter, 0);
}

void test_resources_free(struct test_resources *t)
{
    pthread_mutex_destroy(&t->lock);
}

coaps_status test_resources_register(struct test_resources *t, struct test_counter *c,
                                     coaps_coap_endpoint *ep)
{
    c->t = t;
    coaps_coap_resource_def def;
    memset(&def, 0, sizeof def);
    def.path = "test/large";
    def.handler[COAPS_COAP_GET] = large_get;
    def.ct = COAPS_COAP_CF_TEXT_PLAIN;
    def.sz = TEST_LARGE_LINES * TEST_LARGE_LINE_LEN;
    no_accept_filter(&def);
    coaps_status st = coaps_coap_resource_add(ep, &def, NULL);
    if (st != COAPS_OK)
        return st;

    memset(&def, 0, sizeof def);
    def.path = "test/upload";
    def.handler[COAPS_COAP_GET] = upload_get;
    def.handler[COAPS_COAP_PUT] = upload_put;
    def.handler[COAPS_COAP_POST] = upload_put;
    def.user = t;
    def.ct = COAPS_COAP_CF_OCTET_STREAM;
    no_accept_filter(&def);
    st = coaps_coap_resource_add(ep, &def, NULL);
    if (st != COAPS_OK)
        return st;

    memset(&def, 0, sizeof def);
    def.path = "test/counter";
    def.handler[COAPS_COAP_GET] = counter_get;
    def.handler[COAPS_COAP_POST] = counter_post;
    def.user = c;
    def.ct = COAPS_COAP_CF_TEXT_PLAIN;
    no_accept_filter(&def);
    return coaps_coap_resource_add(ep, &def, NULL);
}
