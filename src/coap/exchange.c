/*
 * exchange.c - the table of outgoing messages we track, and CON
 * retransmission with exponential back-off (RFC 7252 4.2, 4.8).
 */
#include <string.h>

#include "coap/endpoint.h"

struct coap_exchange *coap_xchg_alloc(coaps_coap_endpoint *ep, uint8_t kind)
{
    for (size_t i = 0; i < ep->cfg.max_exchanges; i++) {
        struct coap_exchange *x = &ep->xchg[i];
        if (x->kind != COAP_X_FREE)
            continue;
        uint16_t gen = x->gen;
        uint8_t *buf = x->buf;
        memset(x, 0, sizeof *x);
        x->gen = gen;
        x->buf = buf;
        x->kind = kind;
        ep->xchg_live++;
        x->seq = ep->next_seq++;
        x->deadline_ms = UINT64_MAX;
        x->body = COAP_NONE;
        x->observer = COAP_NONE;
        return x;
    }
    ep->stats.table_full++;
    return NULL;
}

void coap_xchg_free(coaps_coap_endpoint *ep, struct coap_exchange *x)
{
    if (x->kind != COAP_X_FREE)
        ep->xchg_live--;
    x->kind = COAP_X_FREE;
    x->gen++;
    x->deadline_ms = UINT64_MAX;
}

uint16_t coap_xchg_index(const coaps_coap_endpoint *ep, const struct coap_exchange *x)
{
    return (uint16_t)(x - ep->xchg);
}

/* RFC 7252 4.2: the initial timeout is random between ACK_TIMEOUT and
 * ACK_TIMEOUT * ACK_RANDOM_FACTOR. */
static uint32_t initial_timeout(coaps_coap_endpoint *ep)
{
    uint64_t base = ep->cfg.ack_timeout_ms;
    uint64_t span = base * (ep->cfg.ack_random_factor_permille - 1000u) / 1000u;
    return (uint32_t)(base + coap_random(ep) % (span + 1));
}

void coap_xchg_transmit(coaps_coap_endpoint *ep, struct coap_exchange *x, uint64_t now_ms)
{
    x->retransmits = 0;
    if (x->con) {
        x->state = COAP_XS_WAIT_ACK;
        x->timeout_ms = initial_timeout(ep);
        x->deadline_ms = now_ms + x->timeout_ms;
    } else {
        x->state = COAP_XS_WAIT_RESP;
        x->deadline_ms = now_ms + ep->cfg.response_timeout_ms;
    }
    coap_outq_push(ep, &x->peer, x->buf, x->len);
}

struct coap_exchange *coap_xchg_by_mid(coaps_coap_endpoint *ep, const coaps_peer *p,
                                       uint16_t mid)
{
    for (size_t i = 0; i < ep->cfg.max_exchanges; i++) {
        struct coap_exchange *x = &ep->xchg[i];
        if (x->kind != COAP_X_FREE && x->state == COAP_XS_WAIT_ACK && x->mid == mid &&
            coaps_peer_equal(&x->peer, p))
            return x;
    }
    return NULL;
}

bool coap_xchg_retransmit(coaps_coap_endpoint *ep, struct coap_exchange *x, uint64_t now_ms)
{
    /* RFC 7252 4.2: after MAX_RETRANSMIT retransmissions and one more
     * (doubled) timeout without an ACK, the sender gives up. */
    if (x->retransmits >= ep->cfg.max_retransmit)
        return true;
    x->retransmits++;
    x->timeout_ms *= 2;
    x->deadline_ms = now_ms + x->timeout_ms;
    ep->stats.tx_retransmissions++;
    coap_outq_push(ep, &x->peer, x->buf, x->len);
    return false;
}

bool coap_xchg_has_peer(const coaps_coap_endpoint *ep, const coaps_peer *p)
{
    for (size_t i = 0; ep->xchg_live > 0 && i < ep->cfg.max_exchanges; i++)
        if (ep->xchg[i].kind != COAP_X_FREE && coaps_peer_equal(&ep->xchg[i].peer, p))
            return true;
    return false;
}

/* Every kind moves as it is: retransmissions, ACK and response matching
 * (by MID and token, on the peer) and NSTART now run against `to`; the
 * datagram itself names no address, so it is sent unchanged. */
void coap_xchg_move_peer(coaps_coap_endpoint *ep, const coaps_peer *from, const coaps_peer *to)
{
    for (size_t i = 0; ep->xchg_live > 0 && i < ep->cfg.max_exchanges; i++)
        if (ep->xchg[i].kind != COAP_X_FREE && coaps_peer_equal(&ep->xchg[i].peer, from))
            ep->xchg[i].peer = *to;
}
