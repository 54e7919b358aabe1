/* dtls_client.c - one coaps:// connection for a client (see dtls_client.h). */
#include "net/dtls_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/try.h"
#include "net/clock.h"

static void client_flush(struct net_dtls_client *cl, uint64_t now_ms)
{
    uint8_t *out;
    size_t len;
    while (net_endpoint_next(cl->ep, &cl->server, &out) == COAPS_OK &&
           coaps_dtls_output(&cl->conn, out, NET_UDP_DGRAM_MAX, &len, now_ms) == COAPS_OK)
        net_endpoint_commit(cl->ep, len);
    net_endpoint_flush(cl->ep);
}

/* After input or tick: deliver CoAP, send records, report state changes. */
static void client_service(struct net_dtls_client *cl, uint64_t now_ms)
{
    const uint8_t *data;
    size_t len;
    while (coaps_dtls_read(&cl->conn, &data, &len) == COAPS_OK)
        net_edge_deliver(cl->edge, &cl->server, data, len, now_ms);
    client_flush(cl, now_ms);
    if (cl->hs && coaps_dtls_hs_released(&cl->conn)) {
        free(cl->hs); /* only needed while handshaking */
        cl->hs = NULL;
    }
    enum coaps_dtls_state st = coaps_dtls_state(&cl->conn);
    if (st != cl->last_state) {
        cl->last_state = st;
        if (cl->on_change)
            cl->on_change(cl->user, st);
    }
}

static void client_rx(void *ctx, struct net_endpoint *ep, const coaps_peer *src,
                      uint8_t *data, size_t len, uint64_t now_ms)
{
    (void)ep;
    struct net_dtls_client *cl = ctx;
    if (!cl->started || len > NET_UDP_DGRAM_MAX || !coaps_peer_equal(src, &cl->server))
        return; /* not from our server: ignore (RFC 6347 4.1.2.7 spirit) */
    (void)coaps_dtls_input(&cl->conn, data, len, now_ms); /* decrypts in place */
    client_service(cl, now_ms);
}

static coaps_status client_tx(void *ctx, struct net_endpoint *ep, const coaps_peer *to,
                              const uint8_t *msg, size_t len, uint64_t now_ms)
{
    (void)ep;
    (void)now_ms;
    struct net_dtls_client *cl = ctx;
    ENSURE(coaps_peer_equal(to, &cl->server), COAPS_E_NOT_FOUND);
    ENSURE(cl->started && coaps_dtls_state(&cl->conn) == COAPS_DTLS_ESTABLISHED, COAPS_E_STATE);
    uint8_t *out;
    size_t out_len;
    TRY(net_endpoint_next(cl->ep, to, &out)); /* sealed straight into the batch */
    TRY(coaps_dtls_write(&cl->conn, msg, len, out, NET_UDP_DGRAM_MAX, &out_len));
    net_endpoint_commit(cl->ep, out_len);
    return COAPS_OK;
}

static uint64_t client_deadline(void *ctx)
{
    const struct net_dtls_client *cl = ctx;
    return cl->started ? coaps_dtls_next_deadline(&cl->conn) : NET_NO_DEADLINE;
}

static void client_due(void *ctx, uint64_t now_ms)
{
    struct net_dtls_client *cl = ctx;
    (void)coaps_dtls_tick(&cl->conn, now_ms);
    client_service(cl, now_ms);
}

coaps_status net_dtls_client_init(struct net_dtls_client *cl, struct net_edge *edge,
                                  struct net_endpoint *ep, const coaps_peer *server,
                                  const coaps_dtls_config *cfg,
                                  void (*on_change)(void *user, enum coaps_dtls_state st),
                                  void *user)
{
    memset(cl, 0, sizeof *cl);
    cl->cfg = *cfg;
    cl->cfg.role = COAPS_DTLS_CLIENT;
    ENSURE(coaps_dtls_config_check(&cl->cfg) == COAPS_OK, COAPS_E_CONFIG);
    cl->edge = edge;
    cl->ep = ep;
    cl->server = *server;
    cl->on_change = on_change;
    cl->user = user;
    cl->last_state = COAPS_DTLS_HANDSHAKING;
    return COAPS_OK;
}

coaps_status net_dtls_client_attach(struct net_dtls_client *cl, struct net_loop *loop)
{
    struct net_transport_hooks hooks = {client_rx, client_tx, cl};
    net_edge_set_hooks(cl->edge, COAPS_TRANSPORT_DTLS, &hooks);
    return net_loop_add_timer(loop, client_deadline, client_due, cl);
}

coaps_status net_dtls_client_start(struct net_dtls_client *cl, uint64_t now_ms)
{
    cl->hs = calloc(1, sizeof *cl->hs);
    ENSURE(cl->hs != NULL, COAPS_E_NOMEM);
    coaps_status st = coaps_dtls_conn_init(&cl->conn, &cl->cfg, cl->hs, &cl->server, now_ms);
    if (st != COAPS_OK) {
        free(cl->hs);
        cl->hs = NULL;
        return st;
    }
    cl->started = true;
    client_flush(cl, now_ms);
    return COAPS_OK;
}

enum coaps_dtls_state net_dtls_client_state(const struct net_dtls_client *cl)
{
    return cl->started ? coaps_dtls_state(&cl->conn) : COAPS_DTLS_HANDSHAKING;
}

const char *net_dtls_client_failure(const struct net_dtls_client *cl, char *buf, size_t cap)
{
    coaps_dtls_error e = coaps_dtls_error_reason(&cl->conn);
    if (e.alert >= 0)
        snprintf(buf, cap, "alert %s %s", coaps_dtls_alert_name(e.alert),
                 e.alert_sent ? "sent to the server" : "from server");
    else if (e.status == COAPS_E_TIMEOUT)
        snprintf(buf, cap, "no answer from the server (timed out)");
    else
        coaps_dtls_error_str(&cl->conn, buf, cap);
    return buf;
}

void net_dtls_client_close(struct net_dtls_client *cl, uint64_t now_ms)
{
    if (!cl->started)
        return;
    if (coaps_dtls_state(&cl->conn) == COAPS_DTLS_ESTABLISHED) {
        (void)coaps_dtls_close(&cl->conn); /* RFC 5246 7.2.1 */
        client_flush(cl, now_ms);
    }
    coaps_dtls_conn_clear(&cl->conn);
    free(cl->hs);
    cl->hs = NULL;
    cl->started = false;
}
