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
 *
 * Session tickets (RFC 5077) carry the same session in the client's
 * ClientHello instead: the server seals it (ticket.h) and keeps nothing.
 * A client offering a ticket also sends a session ID (its session's, or a
 * random one) and knows the ticket was accepted when the ServerHello
 * echoes that ID (RFC 5077 3.4). The server that sends a ticket puts
 * NewSessionTicket before its ChangeCipherSpec:
 *
 *   full:        ... Finished  -->  <-- NewSessionTicket, [CCS], Finished
 *   abbreviated: ClientHello (ticket) --> <-- ServerHello, NewSessionTicket,
 *                                             [CCS], Finished
 *
 * After a full handshake the server's flight with the ticket is its last;
 * it cannot be rebuilt from a retained Finished as the plain one is (the
 * ticket's nonce is random), so the server keeps its handshake context
 * until the client's first record of the session (conn_hs_established).
 */
#include <string.h>

#include "common/try.h"
#include "dtls/conn.h"
#include "dtls/ticket.h"

/* The client's session, if the config gives a usable one. */
static bool has_ticket(const struct conn *c, const coaps_dtls_session *s)
{
    return c->cfg->tickets && s->ticket_len > 0 && s->ticket_len <= COAPS_DTLS_TICKET_MAX;
}

static const coaps_dtls_session *offered(const struct conn *c)
{
    const coaps_dtls_session *s = c->cfg->resume;
    if (!s || s->version != COAPS_DTLS_SESSION_VERSION || s->id_len > COAPS_DTLS_SESSION_ID_MAX ||
        (s->id_len == 0 && !has_ticket(c, s)) || !dtls_suite_find(s->suite))
        return NULL;
    return s;
}

coaps_status conn_resume_client_start(struct conn *c)
{
    struct conn_hs *hs = c->hs;
    const coaps_dtls_session *s = offered(c);
    hs->session_id_len = 0;
    if (!s)
        return COAPS_OK;
    if (s->id_len > 0) {
        memcpy(hs->session_id, s->id, s->id_len);
        hs->session_id_len = s->id_len;
        return COAPS_OK;
    }
    /* a ticket alone: an ID of our own, echoed if the ticket is taken */
    TRY(conn_random(c, hs->session_id, DTLS_SESSION_ID_MAX));
    hs->session_id_len = DTLS_SESSION_ID_MAX;
    return COAPS_OK;
}

struct dtls_view conn_resume_offer(const struct conn *c)
{
    struct dtls_view v = {c->hs->session_id, c->hs->session_id_len};
    if (v.len == 0)
        v.p = NULL;
    return v;
}

int conn_resume_server_hello(struct conn *c, const struct dtls_server_hello *sh, bool *resumed)
{
    struct conn_hs *hs = c->hs;
    const coaps_dtls_session *s = offered(c);
    *resumed = false;
    if (!s || hs->session_id_len == 0 || sh->session_id.len != hs->session_id_len ||
        memcmp(sh->session_id.p, hs->session_id, hs->session_id_len) != 0) {
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

/* ServerHello, [NewSessionTicket,] ChangeCipherSpec, Finished: the
 * server's whole part. */
static coaps_status abbreviated_flight(struct conn *c, const struct dtls_client_hello *ch,
                                       const struct dtls_hs_msg *m, uint64_t now_ms)
{
    struct conn_hs *hs = c->hs;
    TRY(conn_random(c, hs->server_random, sizeof(hs->server_random)));
    TRY(conn_hs_transcript_start(c));
    TRY(conn_hs_transcript_add(hs, m->msg_type, m->message_seq, m->body, m->len));
    TRY(conn_hs_keys_from_ms(c)); /* from the randoms and master secret: before Finished */
    return conn_hs_send_flight(c, CONN_FL_SERVER_RESUMED, ch, now_ms);
}

/* The session in the client's ticket, named by the client's session ID
 * (RFC 5077 3.4: echoed to say the ticket was taken; a ticket without an
 * ID could only be acknowledged implicitly, so it gets a full handshake). */
static bool ticket_session(struct conn *c, const struct dtls_client_hello *ch,
                           coaps_dtls_session *s, bool *current)
{
    struct dtls_ticket_state st;
    if (!c->cfg->ticket_keys || ch->exts.session_ticket.len == 0 || ch->session_id.len == 0 ||
        dtls_ticket_open(c->cfg->ticket_keys, ch->exts.session_ticket.p,
                         ch->exts.session_ticket.len, &st, current) != COAPS_OK)
        return false;
    bool ok = st.ems; /* we only ever seal EMS sessions; RFC 7627 5.3 */
    s->version = COAPS_DTLS_SESSION_VERSION;
    s->suite = st.suite;
    s->id_len = (uint8_t)ch->session_id.len;
    memcpy(s->id, ch->session_id.p, ch->session_id.len);
    memcpy(s->master_secret, st.ms, sizeof(st.ms));
    crypto_wipe(&st, sizeof(st));
    return ok;
}

coaps_status conn_resume_server_try(struct conn *c, const struct dtls_client_hello *ch,
                                    const struct dtls_hs_msg *m, uint64_t now_ms, bool *resumed)
{
    struct conn_hs *hs = c->hs;
    const coaps_dtls_config *cfg = c->cfg;
    /* RFC 5077 3.2: a client that sent the extension gets a ticket unless
     * it resumes with one of the current period. */
    bool wants_ticket = cfg->ticket_keys && dtls_exts_has(&ch->exts, DTLS_EXTF_SESSION_TICKET);
    bool current = false;
    coaps_dtls_session s;
    *resumed = false;
    bool found = ticket_session(c, ch, &s, &current);
    if (!found && cfg->session_find && ch->session_id.len > 0) {
        current = false;
        found = cfg->session_find(cfg->session_user, ch->session_id.p, ch->session_id.len, &s) ==
                COAPS_OK;
    }
    if (wants_ticket)
        hs->ticket |= CONN_TICKET_ISSUE;
    if (found && server_can_resume(c, ch, &s)) {
        c->suite = dtls_suite_find(s.suite);
        hs->ems = true;
        hs->session_id_len = s.id_len;
        memcpy(hs->session_id, s.id, s.id_len);
        memcpy(hs->ms, s.master_secret, DTLS_MASTER_SECRET_LEN);
        crypto_wipe(s.master_secret, sizeof(s.master_secret));
        if (current)
            hs->ticket &= (uint8_t)~CONN_TICKET_ISSUE;
        c->resumed = true;
        coaps_status st = abbreviated_flight(c, ch, m, now_ms);
        if (st != COAPS_OK)
            return conn_fail(c, st, DTLS_ALERT_INTERNAL_ERROR);
        hs->state = HS_S_WAIT_FINISHED_ABBR;
        *resumed = true;
        return COAPS_OK;
    }
    crypto_wipe(s.master_secret, sizeof(s.master_secret)); /* its one secret */
    /* A full handshake: a fresh random ID names the session to be stored. */
    hs->session_id_len = 0;
    if (cfg->session_store) {
        TRY(conn_random(c, hs->session_id, DTLS_SESSION_ID_MAX));
        hs->session_id_len = DTLS_SESSION_ID_MAX;
    }
    return COAPS_OK;
}

/* Client: the ticket to store with the session: the one just received
 * (at the flight's tail), else, when the server resumed our ticket without
 * sending another, the one offered. */
static void client_ticket(const struct conn *c, coaps_dtls_session *s)
{
    const struct conn_hs *hs = c->hs;
    if (hs->ticket & CONN_TICKET_KEPT) {
        struct wire_rd r = wire_rd_init(hs->flight_buf + hs->fl.used,
                                        (size_t)hs->flight_cap - hs->fl.used);
        uint16_t len = 0;
        if (wire_rd_u32(&r, &s->ticket_lifetime_s) == COAPS_OK &&
            wire_rd_u16(&r, &len) == COAPS_OK && len <= COAPS_DTLS_TICKET_MAX &&
            wire_rd_bytes(&r, s->ticket, len) == COAPS_OK)
            s->ticket_len = len;
        return;
    }
    const coaps_dtls_session *o = offered(c);
    if (c->resumed && !(hs->ticket & CONN_TICKET_RECEIVED) && o && has_ticket(c, o)) {
        s->ticket_lifetime_s = o->ticket_lifetime_s;
        s->ticket_len = o->ticket_len;
        memcpy(s->ticket, o->ticket, o->ticket_len);
    }
}

void conn_resume_store(struct conn *c)
{
    const struct conn_hs *hs = c->hs;
    const coaps_dtls_config *cfg = c->cfg;
    if (!cfg->session_store || !hs->ems || !c->suite)
        return;
    coaps_dtls_session s;
    memset(&s, 0, sizeof(s));
    s.version = COAPS_DTLS_SESSION_VERSION;
    s.suite = c->suite->id;
    s.id_len = hs->session_id_len;
    memcpy(s.id, hs->session_id, hs->session_id_len);
    memcpy(s.master_secret, hs->ms, DTLS_MASTER_SECRET_LEN);
    if (c->role == COAPS_DTLS_CLIENT)
        client_ticket(c, &s);
    if (s.id_len > 0 || s.ticket_len > 0)
        cfg->session_store(cfg->session_user, &s);
    /* The master secret is the one secret here (a ticket is sealed); the
     * whole struct, ticket buffer and all, is twenty times its size. */
    crypto_wipe(s.master_secret, sizeof(s.master_secret));
}

coaps_status conn_resume_on_server_finished(struct conn *c, const struct dtls_hs_msg *m,
                                            uint64_t now_ms)
{
    (void)now_ms;
    if (conn_ticket_missing(c))
        return conn_fail(c, COAPS_E_STATE, DTLS_ALERT_UNEXPECTED_MESSAGE);
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

/* ---- session tickets (RFC 5077) ---------------------------------------- */

coaps_status conn_ticket_client_hello_ext(struct conn *c, struct wire_wr *w, bool bare)
{
    if (!c->cfg->tickets)
        return COAPS_OK;
    const coaps_dtls_session *s = offered(c);
    bool with = !bare && s && has_ticket(c, s);
    TRY(dtls_ext_write_session_ticket(w, with ? s->ticket : NULL, with ? s->ticket_len : 0));
    c->hs->ticket |= CONN_TICKET_OFFERED;
    return COAPS_OK;
}

int conn_ticket_server_hello(struct conn *c, const struct dtls_server_hello *sh)
{
    if (!dtls_exts_has(&sh->exts, DTLS_EXTF_SESSION_TICKET))
        return 0;
    if (!(c->hs->ticket & CONN_TICKET_OFFERED)) /* RFC 5246 7.4.1.4 */
        return DTLS_ALERT_UNSUPPORTED_EXTENSION;
    c->hs->ticket |= CONN_TICKET_EXPECTED;
    return 0;
}

bool conn_ticket_missing(const struct conn *c)
{
    return (c->hs->ticket & (CONN_TICKET_EXPECTED | CONN_TICKET_RECEIVED)) ==
           CONN_TICKET_EXPECTED;
}

coaps_status conn_ticket_server_hello_ext(const struct conn *c, struct wire_wr *w)
{
    if (!(c->hs->ticket & CONN_TICKET_ISSUE))
        return COAPS_OK;
    return dtls_ext_write_session_ticket(w, NULL, 0);
}

coaps_status conn_ticket_send(struct conn *c)
{
    struct conn_hs *hs = c->hs;
    coaps_dtls_ticket_keys *keys = c->cfg->ticket_keys;
    struct dtls_ticket_state st = {c->suite->id, hs->ems, {0}};
    uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], ticket[DTLS_TICKET_LEN];
    memcpy(st.ms, hs->ms, sizeof(st.ms));
    /* RFC 5077 3.3: having promised one, a server that cannot make a
     * ticket sends an empty one. */
    struct dtls_new_session_ticket nst = {0, {NULL, 0}};
    if (keys && hs->ems && conn_random(c, nonce, sizeof(nonce)) == COAPS_OK &&
        dtls_ticket_seal(keys, &st, nonce, ticket) == COAPS_OK) {
        nst.lifetime_hint = dtls_ticket_lifetime_s(keys);
        nst.ticket.p = ticket;
        nst.ticket.len = sizeof(ticket);
    }
    crypto_wipe(&st, sizeof(st));
    struct wire_wr w = conn_flight_tail(hs);
    TRY(dtls_new_session_ticket_write(&w, &nst));
    return conn_hs_send_msg(c, DTLS_HS_NEW_SESSION_TICKET, 0, w.buf, w.off);
}

coaps_status conn_ticket_on_new_session_ticket(struct conn *c, const struct dtls_hs_msg *m,
                                               uint64_t now_ms)
{
    (void)now_ms;
    struct conn_hs *hs = c->hs;
    /* RFC 5077 3.3: only after a ServerHello with the extension, once. */
    if (!conn_ticket_missing(c))
        return conn_fail(c, COAPS_E_STATE, DTLS_ALERT_UNEXPECTED_MESSAGE);
    struct dtls_new_session_ticket nst;
    coaps_status st = dtls_new_session_ticket_parse(m->body, m->len, &nst);
    if (st != COAPS_OK)
        return conn_fail(c, st, dtls_alert_for_status(st));
    TRY(conn_hs_transcript_add(hs, m->msg_type, m->message_seq, m->body, m->len));
    hs->ticket |= CONN_TICKET_RECEIVED;
    /* Kept at the flight's tail until Finished (conn.h); one that does not
     * fit is not kept: the session is then stored without a ticket. */
    struct wire_wr w = conn_flight_tail(hs);
    if (nst.ticket.len > 0 && nst.ticket.len <= COAPS_DTLS_TICKET_MAX &&
        wire_wr_u32(&w, nst.lifetime_hint) == COAPS_OK &&
        wire_wr_u16(&w, (uint16_t)nst.ticket.len) == COAPS_OK &&
        wire_wr_bytes(&w, nst.ticket.p, nst.ticket.len) == COAPS_OK)
        hs->ticket |= CONN_TICKET_KEPT;
    return COAPS_OK;
}
