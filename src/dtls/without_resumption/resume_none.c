/*
 * resume_none.c - resume.c for a build without session resumption
 * (COAPS_WITH_RESUMPTION 0): no session ID is offered, given or stored,
 * and every handshake is a full one.
 */
#include "common/try.h"
#include "dtls/conn.h"

struct dtls_view conn_resume_offer(const struct conn *c)
{
    (void)c;
    struct dtls_view v = {NULL, 0};
    return v;
}

int conn_resume_server_hello(struct conn *c, const struct dtls_server_hello *sh, bool *resumed)
{
    (void)c, (void)sh;
    *resumed = false;
    return 0;
}

coaps_status conn_resume_server_try(struct conn *c, const struct dtls_client_hello *ch,
                                    const struct dtls_hs_msg *m, uint64_t now_ms, bool *resumed)
{
    (void)c, (void)ch, (void)m, (void)now_ms;
    *resumed = false;
    return COAPS_OK;
}

void conn_resume_store(struct conn *c)
{
    (void)c;
}

coaps_status conn_resume_on_server_finished(struct conn *c, const struct dtls_hs_msg *m,
                                            uint64_t now_ms)
{
    (void)c, (void)m, (void)now_ms;
    return COAPS_E_STATE; /* never reached: no abbreviated handshake starts */
}

coaps_status conn_resume_on_client_finished(struct conn *c, const struct dtls_hs_msg *m,
                                            uint64_t now_ms)
{
    (void)c, (void)m, (void)now_ms;
    return COAPS_E_STATE;
}
