/*
 * client_none.c - the client half of the endpoint (client.c) in a
 * server-only build (COAPS_WITH_CLIENT 0, include/coaps/config.h): the
 * build compiles this file in place of client.c, and the client API
 * (coaps_coap_request_send, coaps_coap_ping, ...) is not there to call.
 * No client exchange is ever made, so a response can match nothing: it is
 * rejected as client.c rejects a response to no request of ours.
 */
#include "coaps/config.h"
#include "coap/endpoint.h"

_Static_assert(!COAPS_WITH_CLIENT, "client.c, not this file, in a build with the client");

/* RFC 7252 4.2, 4.3: a response we cannot use is rejected with RST, CON or
 * NON; a duplicate gets the same RST again (the dedup cache keeps it). */
void coap_client_response(coaps_coap_endpoint *ep, const coaps_peer *from, coaps_coap_msg *m,
                          uint64_t now_ms)
{
    struct coap_dedup *dd = NULL;
    if (m->type == COAPS_COAP_CON || m->type == COAPS_COAP_NON) {
        if (coap_dedup_seen(ep, from, m, now_ms, &dd))
            return;
        coaps_coap_msg rst;
        size_t len;
        coaps_coap_msg_init(&rst, COAPS_COAP_RST, COAPS_COAP_EMPTY, m->mid);
        ep->stats.tx_rst++;
        if (coaps_coap_msg_encode(&rst, ep->scratch, ep->cfg.max_message_size, &len) == COAPS_OK) {
            coap_dedup_set_reply(ep, dd, ep->scratch, len, now_ms);
            coap_outq_push(ep, from, ep->scratch, len);
        }
    }
    ep->stats.rx_ignored++;
}

/* The exchanges below are client or ping exchanges, of which a server-only
 * endpoint makes none; should one appear, it is freed, never left held. */
void coap_client_empty(coaps_coap_endpoint *ep, struct coap_exchange *x, uint8_t type,
                       uint64_t now_ms)
{
    (void)type, (void)now_ms;
    coap_xchg_free(ep, x);
}

void coap_client_fail(coaps_coap_endpoint *ep, struct coap_exchange *x, coaps_status st,
                      uint64_t now_ms)
{
    (void)st, (void)now_ms;
    coap_xchg_free(ep, x);
}

void coap_client_close(coaps_coap_endpoint *ep, struct coap_exchange *x, coaps_status st)
{
    (void)st;
    coap_xchg_free(ep, x);
}

void coap_client_pump(coaps_coap_endpoint *ep, uint64_t now_ms)
{
    (void)ep, (void)now_ms; /* no queued requests to start */
}

void coap_client_reregister(coaps_coap_endpoint *ep, struct coap_exchange *x, uint64_t now_ms)
{
    (void)now_ms; /* no observation of ours exists */
    coap_xchg_free(ep, x);
}
