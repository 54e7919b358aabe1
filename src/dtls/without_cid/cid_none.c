/*
 * cid_none.c - cid.h for a build without Connection ID (COAPS_WITH_CID 0):
 * no extension is sent or accepted, a config asking for a CID is refused,
 * and a tls12_cid record never belongs to a connection.
 */
#include "common/try.h"
#include "dtls/cid.h"
#include "dtls/conn.h"

coaps_status conn_cid_config_check(const coaps_dtls_config *cfg)
{
    ENSURE(!cfg->cid, COAPS_E_CONFIG);
    return COAPS_OK;
}

coaps_status conn_cid_init(struct conn *c)
{
    (void)c;
    return COAPS_OK;
}

coaps_status conn_cid_set_own(struct conn *c, const uint8_t *cid, size_t len)
{
    (void)c, (void)cid, (void)len;
    return COAPS_E_UNSUPPORTED;
}

coaps_status conn_cid_client_hello_ext(const struct conn *c, struct wire_wr *w)
{
    (void)c, (void)w;
    return COAPS_OK;
}

int conn_cid_server_hello(struct conn *c, const struct dtls_exts *sh)
{
    (void)c;
    return dtls_exts_has(sh, DTLS_EXTF_CONNECTION_ID) ? DTLS_ALERT_UNSUPPORTED_EXTENSION : 0;
}

coaps_status conn_cid_server_hello_ext(struct conn *c, const struct dtls_exts *ch,
                                       struct wire_wr *w)
{
    (void)c, (void)ch, (void)w;
    return COAPS_OK;
}

size_t conn_cid_rx_len(const struct conn *c)
{
    (void)c;
    return 0;
}

bool conn_cid_rx_ok(const struct conn *c, const struct dtls_record *rec)
{
    (void)c;
    return rec->type != DTLS_CT_TLS12_CID;
}

size_t conn_cid_tx(const struct conn *c, const uint8_t **cid)
{
    (void)c;
    *cid = NULL;
    return 0;
}

size_t conn_cid_own(const struct conn *c, const uint8_t **cid)
{
    (void)c;
    *cid = NULL;
    return 0;
}

bool conn_cid_negotiated(const struct conn *c)
{
    (void)c;
    return false;
}
