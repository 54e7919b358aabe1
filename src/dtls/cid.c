/* cid.c - Connection ID negotiation and use by a connection (cid.h). */
#include "dtls/cid.h"

#include <string.h>

#include "common/try.h"
#include "dtls/conn.h"

_Static_assert(DTLS_CID_MAX == COAPS_DTLS_CID_MAX, "one CID bound for the API and the records");

coaps_status conn_cid_config_check(const coaps_dtls_config *cfg)
{
    if (!cfg->cid)
        return COAPS_OK;
    ENSURE(cfg->cid_len <= COAPS_DTLS_CID_MAX, COAPS_E_CONFIG);
    ENSURE(cfg->cid_prefix_len <= cfg->cid_len, COAPS_E_CONFIG);
    ENSURE(cfg->cid_prefix || cfg->cid_prefix_len == 0, COAPS_E_CONFIG);
    return COAPS_OK;
}

coaps_status conn_cid_init(struct conn *c)
{
    const coaps_dtls_config *cfg = c->cfg;
    memset(&c->cid, 0, sizeof c->cid);
    if (!cfg->cid)
        return COAPS_OK;
    c->cid.own_len = cfg->cid_len;
    if (cfg->cid_prefix_len)
        memcpy(c->cid.own, cfg->cid_prefix, cfg->cid_prefix_len);
    size_t rest = cfg->cid_len - cfg->cid_prefix_len;
    return rest ? conn_random(c, c->cid.own + cfg->cid_prefix_len, rest) : COAPS_OK;
}

coaps_status conn_cid_set_own(struct conn *c, const uint8_t *cid, size_t len)
{
    ENSURE(c->cfg->cid && len == c->cfg->cid_len && (cid || len == 0), COAPS_E_INVALID);
    /* Only a server, before the ClientHello: a client's CID went out in
     * the ClientHello its init sent, and a retransmission of that flight
     * would still carry the old one. */
    ENSURE(c->role == COAPS_DTLS_SERVER && c->hs && c->hs->state == HS_S_WAIT_CH, COAPS_E_STATE);
    if (len)
        memcpy(c->cid.own, cid, len);
    return COAPS_OK;
}

coaps_status conn_cid_client_hello_ext(const struct conn *c, struct wire_wr *w)
{
    if (!c->cfg->cid)
        return COAPS_OK;
    return dtls_ext_write_connection_id(w, c->cid.own, c->cid.own_len);
}

/* The peer's CID from its hello, if it fits what we can send with. */
static bool take_peer_cid(struct conn *c, const struct dtls_exts *e)
{
    if (e->connection_id.len > DTLS_CID_MAX)
        return false;
    c->cid.peer_len = (uint8_t)e->connection_id.len;
    if (e->connection_id.len)
        memcpy(c->cid.peer, e->connection_id.p, e->connection_id.len);
    c->cid.on = true;
    return true;
}

int conn_cid_server_hello(struct conn *c, const struct dtls_exts *sh)
{
    if (!dtls_exts_has(sh, DTLS_EXTF_CONNECTION_ID))
        return 0; /* the server declined: no CID (RFC 9146 3) */
    if (!c->cfg->cid) /* RFC 5246 7.4.1.4: only what we offered */
        return DTLS_ALERT_UNSUPPORTED_EXTENSION;
    return take_peer_cid(c, sh) ? 0 : DTLS_ALERT_ILLEGAL_PARAMETER;
}

coaps_status conn_cid_server_hello_ext(struct conn *c, const struct dtls_exts *ch,
                                       struct wire_wr *w)
{
    if (!c->cfg->cid || !dtls_exts_has(ch, DTLS_EXTF_CONNECTION_ID) || !take_peer_cid(c, ch))
        return COAPS_OK;
    return dtls_ext_write_connection_id(w, c->cid.own, c->cid.own_len);
}

size_t conn_cid_rx_len(const struct conn *c)
{
    return c->cid.on ? c->cid.own_len : 0;
}

bool conn_cid_rx_ok(const struct conn *c, const struct dtls_record *rec)
{
    if (conn_cid_rx_len(c) == 0)
        return rec->type != DTLS_CT_TLS12_CID;
    return rec->type == DTLS_CT_TLS12_CID && rec->cid_len == c->cid.own_len &&
           memcmp(rec->cid, c->cid.own, c->cid.own_len) == 0;
}

size_t conn_cid_tx(const struct conn *c, const uint8_t **cid)
{
    *cid = c->cid.peer;
    return c->cid.on ? c->cid.peer_len : 0;
}

size_t conn_cid_own(const struct conn *c, const uint8_t **cid)
{
    *cid = c->cid.own;
    return c->cfg->cid ? c->cid.own_len : 0;
}

bool conn_cid_negotiated(const struct conn *c)
{
    return c->cid.on;
}
