/*
 * resume_none.c - resume.c for a build without session resumption
 * (COAPS_WITH_RESUMPTION 0): no session ID or ticket is offered, given
 * or stored, and every handshake is a full one.
 */
#include "common/try.h"
#include "dtls/conn.h"

coaps_status conn_resume_client_start(struct conn *c)
{
    (void)c;
    return COAPS_OK;
}

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

coaps_status conn_ticket_client_hello_ext(struct conn *c, struct wire_wr *w, bool bare)
{
    (void)c, (void)w, (void)bare;
    return COAPS_OK;
}

int conn_ticket_server_hello(struct conn *c, const struct dtls_server_hello *sh)
{
    (void)c;
    /* never offered, so never to be answered (RFC 5246 7.4.1.4) */
    return dtls_exts_has(&sh->exts, DTLS_EXTF_SESSION_TICKET) ? DTLS_ALERT_UNSUPPORTED_EXTENSION
                                                              : 0;
}

bool conn_ticket_missing(const struct conn *c)
{
    (void)c;
    return false;
}

coaps_status conn_ticket_server_hello_ext(const struct conn *c, struct wire_wr *w)
{
    (void)c, (void)w;
    return COAPS_OK;
}

coaps_status conn_ticket_send(struct conn *c)
{
    (void)c;
    return COAPS_E_STATE;
}

coaps_status conn_ticket_on_new_session_ticket(struct conn *c, const struct dtls_hs_msg *m,
                                               uint64_t now_ms)
{
    (void)m, (void)now_ms;
    return conn_fail(c, COAPS_E_STATE, DTLS_ALERT_UNEXPECTED_MESSAGE);
}
