/*
 * resume.c - session resumption by session ID (RFC 5246 7.3, 7.4.1.2),
 * the abbreviated handshake:
 *
 *   Client                                   Server
 *   ClientHello (session_id)  -------->
 *                             <--------      HelloVerifyRequest
 *   ClientHello (cookie)      -------->
 *                                            ServerHello (same session_id)
 *                                            [ChangeCipherSpec]
 *                             <--------      Finished
 *   [ChangeCipherSpec]
 *   Finished                  -------->
 *
 * No key exchange, no certificate: the keys come from the session's master
 * secret and the two new randoms. The client's flight is the last one, so
 * the client keeps it to resend (RFC 6347 4.2.4), as a server keeps its
 * own after a full handshake.
 *
 * Only sessions made with the extended master secret are offered, stored
 * or resumed, and a resumption must use it again (RFC 7627 5.3): a
 * session without it could be synchronised across two connections by a
 * man in the middle (the triple handshake attack). Where the cache is
 * kept is the caller's: the engine asks coaps_dtls_config.session_find
 * and hands completed sessions to session_store.
 */
#include <string.h>

#include "common/try.h"
#include "dtls/conn.h"

/* The client's session, if the config gives a usable one. */
static const coaps_dtls_session *offered(const struct conn *c)
{
    const coaps_dtls_session *s = c->cfg->resume;
    if (!s || s->version != COAPS_DTLS_SESSION_VERSION || s->id_len == 0 ||
        s->id_len > COAPS_DTLS_SESSION_ID_MAX || !dtls_suite_find(s->suite))
        return NULL;
    return s;
}

struct dtls_view conn_resume_offer(const struct conn *c)
{
    const coaps_dtls_session *s = offered(c);
    struct dtls_view v = {NULL, 0};
    if (s) {
        v.p = s->id;
        v.len = s->id_len;
    }
    return v;
}

int conn_resume_server_hello(struct conn *c, const struct dtls_server_hello *sh, bool *resumed)
{
    struct conn_hs *hs = c->hs;
    const coaps_dtls_session *s = offered(c);
    *resumed = false;
    if (!s || sh->session_id.len != s->id_len ||
        memcmp(sh->session_id.p, s->id, s->id_len) != 0) {
        /* a full handshake: remember the server's ID for session_store */
        hs->session_id_len = (uint8_t)sh->session_id.len;
        if (sh->session_id.len)
            memcpy(hs->session_id, sh->session_id.p, sh->session_id.len);
        return 0;
    }
    /* RFC 5246 7.4.1.3: a resumed session keeps its suite. */
    if (sh->cipher_suite != s->suite)
        return DTLS_ALERT_ILLEGAL_PARAMETER;
    /* RFC 7627 5.3: our sessions all used the extended master secret; a
     * server resuming one without it is aborted. */
    if (!hs->ems)
        return DTLS_ALERT_HANDSHAKE_FAILURE;
    memcpy(hs->ms, s->master_secret, DTLS_MASTER_SECRET_LEN);
    hs->session_id_len = s->id_len;
    memcpy(hs->session_id, s->id, s->id_len);
    *resumed = true;
    return 0;
}

/* Whether this server can resume session s for ClientHello ch: the client
 * still offers its suite, our config still allows it, and both use the
 * extended master secret (RFC 7627 5.3: otherwise a full handshake). */
static bool server_can_resume(const struct conn *c, const struct dtls_client_hello *ch,
                              const coaps_dtls_session *s)
{
    const struct dtls_suite *suite = dtls_suite_find(s->suite);
    return s->version == COAPS_DTLS_SESSION_VERSION && suite &&
           dtls_suite_usable(c->cfg, suite) && dtls_client_hello_offers_suite(ch, s->suite) &&
           dtls_exts_has(&ch->exts, DTLS_EXTF_EXTENDED_MASTER_SECRET) &&
           s->id_len == ch->session_id.len &&
           memcmp(s->id, ch->session_id.p, s->id_len) == 0;
}

/* ServerHello, ChangeCipherSpec, Finished: the server's whole part. */
static coaps_status abbreviated_flight(struct conn *c, const struct dtls_client_hello *ch,
                                       const struct dtls_hs_msg *m, uint64_t now_ms)
{
    struct conn_hs *hs = c->hs;
    uint8_t vd[DTLS_VERIFY_DATA_LEN];
    TRY(conn_random(c, hs->server_random, sizeof(hs->server_random)));
    TRY(conn_hs_transcript_start(c));
    TRY(conn_hs_transcript_add(hs, m->msg_type, m->message_seq, m->body, m->len));
    TRY(conn_hs_server_hello(c, ch));
    TRY(conn_hs_keys_from_ms(c));
    TRY(conn_hs_finished_data(c, false, vd));
    TRY(conn_flight_add(hs, DTLS_CT_CHANGE_CIPHER_SPEC, 0, 0, 0, NULL, 0));
    TRY(conn_hs_send_msg(c, DTLS_HS_FINISHED, 1, vd, sizeof(vd)));
    c->write_epoch = 1;
    conn_hs_flight_go(c, now_ms);
    return COAPS_OK;
}

coaps_status conn_resume_server_try(struct conn *c, const struct dtls_client_hello *ch,
                                    const struct dtls_hs_msg *m, uint64_t now_ms, bool *resumed)
{
    struct conn_hs *hs = c->hs;
    const coaps_dtls_config *cfg = c->cfg;
    coaps_dtls_session s;
    *resumed = false;
    if (cfg->session_find && ch->session_id.len > 0 &&
        cfg->session_find(cfg->session_user, ch->session_id.p, ch->session_id.len, &s) ==
            COAPS_OK &&
        server_can_resume(c, ch, &s)) {
        c->suite = dtls_suite_find(s.suite);
        hs->ems = true;
        hs->session_id_len = s.id_len;
        memcpy(hs->session_id, s.id, s.id_len);
        memcpy(hs->ms, s.master_secret, DTLS_MASTER_SECRET_LEN);
        crypto_wipe(&s, sizeof(s));
        c->resumed = true;
        coaps_status st = abbreviated_flight(c, ch, m, now_ms);
        if (st != COAPS_OK)
            return conn_fail(c, st, DTLS_ALERT_INTERNAL_ERROR);
        hs->state = HS_S_WAIT_FINISHED_ABBR;
        *resumed = true;
        return COAPS_OK;
    }
    crypto_wipe(&s, sizeof(s));
    /* A full handshake: a fresh random ID names the session to be stored. */
    hs->session_id_len = 0;
    if (cfg->session_store) {
        TRY(conn_random(c, hs->session_id, DTLS_SESSION_ID_MAX));
        hs->session_id_len = DTLS_SESSION_ID_MAX;
    }
    return COAPS_OK;
}

void conn_resume_store(struct conn *c)
{
    const struct conn_hs *hs = c->hs;
    const coaps_dtls_config *cfg = c->cfg;
    if (!cfg->session_store || !hs->ems || hs->session_id_len == 0 || !c->suite)
        return;
    coaps_dtls_session s;
    memset(&s, 0, sizeof(s));
    s.version = COAPS_DTLS_SESSION_VERSION;
    s.suite = c->suite->id;
    s.id_len = hs->session_id_len;
    memcpy(s.id, hs->session_id, hs->session_id_len);
    memcpy(s.master_secret, hs->ms, DTLS_MASTER_SECRET_LEN);
    cfg->session_store(cfg->session_user, &s);
    crypto_wipe(&s, sizeof(s));
}

coaps_status conn_resume_on_server_finished(struct conn *c, const struct dtls_hs_msg *m,
                                            uint64_t now_ms)
{
    (void)now_ms;
    TRY(conn_hs_check_finished(c, m, false));
    /* Our CCS and Finished end the handshake: kept (verify_data and
     * message_seq) and sent from there, so that a repeat of the server's
     * flight brings them again after the context is gone. */
    TRY(conn_hs_finished_data(c, true, c->retain_verify));
    c->retain_seq = c->hs->next_send_seq++;
    c->retain = true;
    c->resend_retained = true;
    c->write_epoch = 1;
    c->resumed = true;
    conn_hs_established(c);
    return COAPS_OK;
}

coaps_status conn_resume_on_client_finished(struct conn *c, const struct dtls_hs_msg *m,
                                            uint64_t now_ms)
{
    (void)now_ms;
    TRY(conn_hs_check_finished(c, m, true));
    conn_hs_established(c);
    return COAPS_OK;
}
