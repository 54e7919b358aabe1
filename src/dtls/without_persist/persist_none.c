/*
 * persist_none.c - persist.c for a build without durable sessions
 * (COAPS_WITH_PERSIST 0, the light): nothing is exported or imported, and
 * the crypto backend keys its AEADs without the permission to read a key
 * back.
 */
#include "common/try.h"
#include "dtls/conn.h"

coaps_status coaps_dtls_export(const coaps_dtls_conn *conn, uint8_t *buf, size_t cap,
                               size_t *len)
{
    (void)conn, (void)buf, (void)cap, (void)len;
    return COAPS_E_UNSUPPORTED;
}

coaps_status coaps_dtls_import(coaps_dtls_conn *conn, const coaps_dtls_config *cfg,
                               const uint8_t *buf, size_t len)
{
    (void)cfg, (void)buf, (void)len;
    ENSURE(conn, COAPS_E_INVALID);
    struct conn *c = conn_of(conn);
    crypto_wipe(c, sizeof *c);
    c->state = COAPS_DTLS_FAILED;
    c->err.status = COAPS_E_UNSUPPORTED;
    c->err.alert = -1;
    return COAPS_E_UNSUPPORTED;
}

coaps_status coaps_dtls_set_write_block(coaps_dtls_conn *conn, uint64_t next, uint64_t limit)
{
    (void)conn, (void)next, (void)limit;
    return COAPS_E_UNSUPPORTED;
}

uint64_t coaps_dtls_write_seq(const coaps_dtls_conn *conn)
{
    (void)conn;
    return 0;
}
