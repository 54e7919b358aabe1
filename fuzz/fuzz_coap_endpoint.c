/*
 * fuzz_coap_endpoint.c - arbitrary datagrams into a server endpoint (and
 * the client half of the same endpoint, which has a request and an
 * observation in flight).
 *
 * Input format: a sequence of records [peer:1][advance_ms:1][len:2][bytes];
 * after each record the outputs are drained and the clock ticks. Nothing may
 * crash, leak or hang; every queued datagram must parse.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coaps/coap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static coaps_coap_resource *res_temp;
static uint8_t body[3000];
static coaps_coap_deferred pending; /* a separate response owed */

static coaps_status temp_get(void *user, const coaps_coap_request *req,
                             coaps_coap_response *resp)
{
    (void)user;
    (void)req;
    coaps_coap_response_set_content_format(resp, COAPS_COAP_CF_TEXT_PLAIN);
    return coaps_coap_response_set_payload(resp, "21.5", 4);
}

static coaps_status temp_put(void *user, const coaps_coap_request *req,
                             coaps_coap_response *resp)
{
    (void)user;
    (void)resp;
    size_t n;
    const uint8_t *p = coaps_coap_request_payload(req, &n);
    if (n && p[0] == 'd')
        return coaps_coap_response_defer(resp, &pending);
    coaps_coap_resource_notify(res_temp);
    return COAPS_OK;
}

static coaps_status big_get(void *user, const coaps_coap_request *req,
                            coaps_coap_response *resp)
{
    (void)user;
    (void)req;
    return coaps_coap_response_set_payload(resp, body, sizeof body);
}

static void noop_cb(void *user, const coaps_coap_client_event *ev)
{
    (void)user;
    (void)ev;
}

static coaps_coap_endpoint *setup(void **mem)
{
    coaps_coap_config cfg;
    coaps_coap_config_default(&cfg);
    cfg.random_seed = 1;
    cfg.dedup_peers = 4;
    cfg.dedup_per_peer = 4;
    cfg.outq_entries = 16;
    cfg.max_observers = 4;
    cfg.body_slots = 2;
    cfg.max_body_size = 4096;
    size_t n = coaps_coap_endpoint_size(&cfg);
    *mem = malloc(n);
    coaps_coap_endpoint *ep;
    if (!*mem || coaps_coap_endpoint_init(*mem, n, &cfg, &ep) != COAPS_OK)
        abort();
    coaps_coap_resource_def d;
    coaps_coap_resource_def_init(&d, "temp");
    d.handler[COAPS_COAP_GET] = temp_get;
    d.handler[COAPS_COAP_PUT] = temp_put;
    d.handler[COAPS_COAP_POST] = temp_put;
    d.observable = true;
    d.rt = "temperature";
    coaps_coap_resource_add(ep, &d, &res_temp);
    coaps_coap_resource_def_init(&d, "big");
    d.handler[COAPS_COAP_GET] = big_get;
    d.handler[COAPS_COAP_FETCH] = big_get;
    d.observable = true;
    coaps_coap_resource_add(ep, &d, NULL);
    return ep;
}

static coaps_peer peer_of(uint8_t n)
{
    coaps_peer p;
    memset(&p, 0, sizeof p);
    p.addr[0] = (uint8_t)(n & 3);
    p.addr_len = 4;
    return p;
}

static void drain(coaps_coap_endpoint *ep)
{
    static uint8_t buf[1280];
    coaps_peer to;
    size_t len;
    coaps_coap_msg m;
    while (coaps_coap_output(ep, &to, buf, sizeof buf, &len, 0) == COAPS_OK)
        if (coaps_coap_msg_parse(&m, buf, len) != COAPS_OK)
            abort(); /* we only ever send well-formed messages */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    void *mem;
    coaps_coap_endpoint *ep = setup(&mem);
    uint64_t now = 0;
    pending.valid = false;
    coaps_coap_client_request r;
    coaps_coap_client_request_init(&r);
    r.peer = peer_of(1);
    r.uri_path = "x";
    r.observe = true;
    r.cb = noop_cb;
    /* 1-byte tokens the fuzzer can hit with NON/CON responses */
    r.token = (const uint8_t *)"\x01\x02";
    r.token_len = 1;
    coaps_coap_request_send(ep, &r, now, NULL);
    r.token = (const uint8_t *)"\x02";
    r.observe = false;
    r.method = COAPS_COAP_PUT;
    r.payload = body;
    r.payload_len = sizeof body;
    coaps_coap_request_send(ep, &r, now, NULL);
    /* a GET from Block2 block 1 with already-split path segments */
    static const coaps_coap_segment segs[] = {{"y", 1}, {NULL, 0}};
    r.token = (const uint8_t *)"\x03";
    r.method = COAPS_COAP_GET;
    r.payload = NULL;
    r.payload_len = 0;
    r.uri_path = NULL;
    r.path_segs = segs;
    r.path_count = 2;
    r.block_size = 16;
    r.block2_start = 1;
    r.peer = peer_of(2); /* its own NSTART slot: starts at once */
    coaps_coap_request_send(ep, &r, now, NULL);
    drain(ep);
    size_t off = 0;
    while (size - off >= 4) {
        uint8_t who = data[off];
        now += (uint64_t)data[off + 1] * 977u; /* up to ~4 minutes a step */
        size_t len = (size_t)data[off + 2] << 8 | data[off + 3];
        off += 4;
        if (len > size - off)
            len = size - off;
        coaps_peer p = peer_of(who);
        coaps_coap_input(ep, &p, data + off, len, now);
        off += len;
        if (who & 0x80)
            coaps_coap_resource_notify(res_temp);
        if (who & 0x40)
            coaps_coap_forget_peer(ep, &p);
        if (pending.valid && (who & 0x20)) {
            coaps_coap_response resp;
            coaps_coap_response_init(&resp, COAPS_COAP_CHANGED, body, sizeof body);
            resp.payload_len = (who & 0x10) ? sizeof body : 0; /* Block2 slice */
            coaps_coap_deferred_respond(ep, &pending, &resp, now);
            pending.valid = false;
        }
        drain(ep);
        uint64_t dl = coaps_coap_next_deadline(ep);
        if (dl <= now)
            coaps_coap_tick(ep, now);
        drain(ep);
    }
    coaps_coap_tick(ep, now + 1000000);
    drain(ep);
    free(mem);
    return 0;
}
