/*
 * handshake.c - the DTLS 1.2 PSK handshake as a table (RFC 6347 4.2,
 * RFC 5246 7.3, RFC 4279 2):
 *
 *   Client                                   Server
 *   ClientHello             -------->
 *                           <--------        HelloVerifyRequest
 *   ClientHello (cookie)    -------->
 *                                            ServerHello
 *                                            [ServerKeyExchange (hint)]
 *                           <--------        ServerHelloDone
 *   ClientKeyExchange (identity)
 *   [ChangeCipherSpec]
 *   Finished                -------->
 *                                            [ChangeCipherSpec]
 *                           <--------        Finished
 *
 * With ECDHE_ECDSA (RFC 8422 2.2, RFC 5246 7.3) the server sends
 * Certificate, a signed ServerKeyExchange and optionally a
 * CertificateRequest before ServerHelloDone; the client answers with
 * [Certificate] ClientKeyExchange [CertificateVerify] before its
 * ChangeCipherSpec. Those handlers live in handshake_cert.c.
 *
 * Each row: in state S, message type T is handled by F, then state N.
 * Client and server share the codecs (handshake_msg.h) and differ only in
 * their rows.
 *
 * Transcript (RFC 6347 4.2.6, RFC 5246 7.4.9): every handshake message as
 * if unfragmented, excluding the first ClientHello and the
 * HelloVerifyRequest when a cookie exchange happens (RFC 6347 4.2.1).
 */
#include <stdio.h>
#include <string.h>

#include "coaps/config.h"
#include "common/try.h"
#include "common/wire.h"
#include "dtls/conn.h"

/* Scratch for one message body we build: the largest is the ClientHello
 * (see CONN_FLIGHT_BYTES, and CONN_MSG_BYTES_MAX for a PSK-only build). */
#define HS_BODY_MAX CONN_MSG_BYTES_MAX
/* Scratch for our hello extensions: EMS 4 + reneg 5 + SNI 9 + 255,
 * connection_id 5 + COAPS_DTLS_CID_MAX(16), and
 * for certificates groups 4+2+2*2, point formats 6, signature_algorithms
 * 4+2+2*CRYPTO_SIG_SCHEMES_MAX, two certificate-type lists 2*(5+2). */
#if COAPS_WITH_RESUMPTION
#define HS_EXTS_MAX (384 + 4 + COAPS_DTLS_TICKET_MAX) /* + session_ticket */
#else
#define HS_EXTS_MAX 384
#endif
/* Most SNI bytes we send (RFC 6066 3 allows more; DNS names are <= 253). */
#define HS_SNI_MAX 255

coaps_status conn_random(const struct conn *c, void *out, size_t len)
{
    if (c->cfg->random)
        return c->cfg->random(c->cfg->random_user, out, len);
    return crypto_random(out, len);
}

/* ---- transcript ---------------------------------------------------------- */

coaps_status conn_hs_transcript_add(struct conn_hs *hs, uint8_t type, uint16_t seq,
                                    const uint8_t *body, size_t len)
{
    /* the transcript is in the context's bulk: never touched before it starts */
    ENSURE(hs->transcript_on, COAPS_E_STATE);
    uint8_t hdr[DTLS_HS_HEADER_LEN];
    struct wire_wr w = wire_wr_init(hdr, sizeof(hdr));
    TRY(dtls_hs_header_write_whole(&w, type, seq, len));
    TRY(crypto_hash_update(&hs->transcript, hdr, sizeof(hdr)));
    TRY(crypto_hash_update(&hs->transcript, body, len));
    for (size_t i = 0; hs->cv_on && i < COAPS_ARRAY_LEN(hs->pki->cv_hash); i++) {
        TRY(crypto_hash_update(&hs->pki->cv_hash[i], hdr, sizeof(hdr)));
        TRY(crypto_hash_update(&hs->pki->cv_hash[i], body, len));
    }
    return COAPS_OK;
}


coaps_status conn_hs_transcript_start(struct conn *c)
{
    TRY(crypto_hash_init(&c->hs->transcript, c->suite->prf));
    c->hs->transcript_on = true;
    /* CertificateVerify's transcripts: never in an abbreviated handshake */
    if (c->suite->kx == DTLS_KX_ECDHE_ECDSA && !c->resumed && c->hs->pki)
        TRY(conn_cert_transcript_start(c->hs));
    return COAPS_OK;
}

/* Queue one of our handshake messages in the flight and hash it. */
coaps_status conn_hs_send_msg(struct conn *c, uint8_t type, uint16_t epoch, const uint8_t *body,
                              size_t len)
{
    struct conn_hs *hs = c->hs;
    uint16_t seq = hs->next_send_seq++;
    TRY(conn_flight_add(hs, DTLS_CT_HANDSHAKE, type, epoch, seq, body, len));
    if (hs->transcript_on)
        TRY(conn_hs_transcript_add(hs, type, seq, body, len));
    return COAPS_OK;
}

/* Start transmitting the flight just built and arm the timer for it. */
void conn_hs_flight_go(struct conn *c, uint64_t now_ms)
{
    c->hs->peer_progress = false;
    conn_flight_send(c->hs);
    conn_timer_restart(c, now_ms);
}

/* ---- keys --------------------------------------------------------------- */

static void keylog(const struct conn *c)
{
#if COAPS_WITH_KEYLOG /* left out: no secret leaves, and no snprintf is linked */
    if (!c->cfg->keylog)
        return;
    /* NSS key log format: CLIENT_RANDOM <client_random> <master_secret> */
    char line[14 + 2 * DTLS_RANDOM_LEN + 1 + 2 * DTLS_MASTER_SECRET_LEN + 1];
    size_t o = (size_t)snprintf(line, sizeof(line), "CLIENT_RANDOM ");
    for (size_t i = 0; i < DTLS_RANDOM_LEN; i++)
        o += (size_t)snprintf(line + o, sizeof(line) - o, "%02x", c->hs->client_random[i]);
    line[o++] = ' ';
    for (size_t i = 0; i < DTLS_MASTER_SECRET_LEN; i++)
        o += (size_t)snprintf(line + o, sizeof(line) - o, "%02x", c->hs->ms[i]);
    c->cfg->keylog(c->cfg->keylog_user, line);
#else
    (void)c;
#endif
}

/* After ClientKeyExchange is in the transcript: master secret (RFC 7627 4
 * with session_hash = transcript so far), key block, record keys of
 * epoch 1. */
coaps_status conn_hs_derive_keys(struct conn *c, const uint8_t *pms, size_t pms_len)
{
    struct conn_hs *hs = c->hs;
    uint8_t session_hash[CRYPTO_HASH_MAX];
    ENSURE(hs->transcript_on, COAPS_E_STATE);
    coaps_status st = crypto_hash_peek(&hs->transcript, session_hash);
    if (st == COAPS_OK)
        st = dtls_master_secret(c->suite->prf, pms, pms_len, hs->ems, session_hash,
                                crypto_hash_len(c->suite->prf), hs->client_random,
                                hs->server_random, hs->ms);
    return st == COAPS_OK ? conn_hs_keys_from_ms(c) : st;
}

coaps_status conn_hs_keys_from_ms(struct conn *c)
{
    struct conn_hs *hs = c->hs;
    uint8_t session_hash[CRYPTO_HASH_MAX];
    struct dtls_key_block kb;
    if (hs->ms_key_on) /* never twice in one handshake, but never leak either */
        crypto_hmac_key_clear(&hs->ms_key);
    coaps_status st = dtls_ms_key(c->suite->prf, hs->ms, &hs->ms_key);
    hs->ms_key_on = st == COAPS_OK;
    if (st == COAPS_OK)
        st = dtls_key_block(c->suite, &hs->ms_key, hs->client_random, hs->server_random, &kb);
    if (st == COAPS_OK)
        st = crypto_hash(CRYPTO_SHA256, kb.bytes, kb.len, session_hash);
    if (st == COAPS_OK) {
        memcpy(c->key_digest, session_hash, sizeof(c->key_digest));
        st = conn_install_keys(c, &kb);
    }
    crypto_wipe(&kb, sizeof(kb));
    return st;
}

/* PSK premaster (RFC 4279 2), then the common derivation. */
static coaps_status derive_keys(struct conn *c, const uint8_t *psk, size_t psk_len)
{
    uint8_t pms[DTLS_PSK_PREMASTER_MAX];
    size_t pms_len = 0;
    coaps_status st = dtls_psk_premaster(psk, psk_len, pms, sizeof(pms), &pms_len);
    if (st == COAPS_OK)
        st = conn_hs_derive_keys(c, pms, pms_len);
    crypto_wipe(pms, sizeof(pms));
    return st;
}

coaps_status conn_hs_finished_data(struct conn *c, bool client,
                                   uint8_t out[DTLS_VERIFY_DATA_LEN])
{
    uint8_t h[CRYPTO_HASH_MAX];
    ENSURE(c->hs->transcript_on, COAPS_E_STATE);
    TRY(crypto_hash_peek(&c->hs->transcript, h));
    ENSURE(c->hs->ms_key_on, COAPS_E_STATE);
    return dtls_verify_data(&c->hs->ms_key, client, h, crypto_hash_len(c->suite->prf), out);
}

void conn_hs_established(struct conn *c)
{
    keylog(c);
    conn_resume_store(c);
    c->state = COAPS_DTLS_ESTABLISHED;
    c->peer_next_seq = (uint16_t)dtls_reasm_next_seq(&c->hs->reasm);
    /* A server's final flight with a NewSessionTicket cannot be rebuilt
     * from a retained Finished (resume.c): the context stays, with the
     * flight to resend, until the client shows it arrived. */
    if (CONN_TICKETS && c->role == COAPS_DTLS_SERVER && !c->resumed &&
        (c->hs->ticket & CONN_TICKET_ISSUE))
        return;
    conn_hs_release(c);
}

/* ---- client -------------------------------------------------------------- */

/* An IPv4 or IPv6 literal (RFC 6066 3 forbids them in server_name): a
 * colon means IPv6; only digits and dots means IPv4. */
static bool dtls_is_ip_literal(const char *name)
{
    if (strchr(name, ':'))
        return true;
    for (const char *p = name; *p; p++)
        if (!((*p >= '0' && *p <= '9') || *p == '.'))
            return false;
    return true;
}

/* A suite this connection may use: configured credentials, and for
 * ECDHE_ECDSA a certificate area to work in. */
static bool conn_suite_usable(const struct conn *c, const struct dtls_suite *s)
{
    return dtls_suite_usable(c->cfg, s) && (s->kx != DTLS_KX_ECDHE_ECDSA || c->hs->pki);
}

static coaps_status client_hello_exts(struct conn *c, struct wire_wr *w, bool bare_ticket)
{
    TRY(dtls_ext_write_empty(w, DTLS_EXT_EXTENDED_MASTER_SECRET)); /* RFC 7627 5.1 */
    TRY(dtls_ext_write_renegotiation_info(w));                     /* RFC 5746 3.4 */
    /* RFC 6066 3: literal IPv4 and IPv6 addresses are not sent as SNI. */
    if (c->cfg->server_name && !dtls_is_ip_literal(c->cfg->server_name)) {
        size_t n = strlen(c->cfg->server_name);
        ENSURE(n > 0 && n <= HS_SNI_MAX, COAPS_E_CONFIG);
        TRY(dtls_ext_write_server_name(w, (const uint8_t *)c->cfg->server_name, n));
    }
    if (dtls_pki_usable(c->cfg->pki, false) && c->hs->pki)
        TRY(conn_cert_client_hello_exts(c, w));
    TRY(conn_ticket_client_hello_ext(c, w, bare_ticket)); /* RFC 5077 3.2 */
    return conn_cid_client_hello_ext(c, w); /* RFC 9146 3 */
}

/* Build the ClientHello (with the server's cookie, if any) as the flight.
 * The cookie is not kept: retransmissions resend the flight. */
static coaps_status client_hello_send(struct conn *c, const uint8_t *cookie, size_t cookie_len,
                                      uint64_t now_ms)
{
    struct conn_hs *hs = c->hs;
    const uint16_t *suites;
    size_t n = dtls_suites_configured(c->cfg, &suites);
    uint8_t list[2 * COAPS_DTLS_SUITES_MAX], exts[HS_EXTS_MAX], body[HS_BODY_MAX];
    struct wire_wr lw = wire_wr_init(list, sizeof(list));
    for (size_t i = 0; i < n; i++)
        if (conn_suite_usable(c, dtls_suite_find(suites[i])))
            TRY(wire_wr_u16(&lw, suites[i]));
    ENSURE(lw.off > 0, COAPS_E_CONFIG);
    struct wire_wr ew = wire_wr_init(exts, sizeof(exts));
    TRY(client_hello_exts(c, &ew, false));
    static const uint8_t null_compression[1] = {DTLS_COMPRESSION_NULL};
    struct dtls_client_hello ch = {
        .client_version = DTLS_VERSION_1_2,
        .random = hs->client_random,
        .session_id = conn_resume_offer(c),
        .cookie = {cookie, cookie_len},
        .cipher_suites = {list, lw.off},
        .compression_methods = {null_compression, 1},
        .has_extensions = true,
        .extensions = {exts, ew.off},
    };
    struct wire_wr bw = wire_wr_init(body, sizeof(body));
    coaps_status st = dtls_client_hello_write(&bw, &ch);
    if (st == COAPS_OK && bw.off > hs->flight_cap)
        st = COAPS_E_NOSPACE;
    /* A ticket too large for our flight is left out: the extension then
     * only asks for a new one (the cookie does not cover extensions, so
     * the second ClientHello may do the same). */
    if (CONN_TICKETS && st == COAPS_E_NOSPACE && (c->hs->ticket & CONN_TICKET_OFFERED)) {
        ew = wire_wr_init(exts, sizeof(exts));
        TRY(client_hello_exts(c, &ew, true));
        ch.extensions.len = ew.off;
        bw = wire_wr_init(body, sizeof(body));
        st = dtls_client_hello_write(&bw, &ch);
    }
    TRY(st);
    conn_flight_reset(hs);
    TRY(conn_hs_send_msg(c, DTLS_HS_CLIENT_HELLO, 0, body, bw.off));
    conn_hs_flight_go(c, now_ms);
    return COAPS_OK;
}

coaps_status conn_hs_client_start(struct conn *c, uint64_t now_ms)
{
    struct conn_hs *hs = c->hs;
    /* RFC 5246 7.4.1.2: 32 random bytes (no gmt_unix_time: fingerprinting) */
    TRY(conn_random(c, hs->client_random, sizeof(hs->client_random)));
    TRY(conn_resume_client_start(c));
    hs->state = HS_C_WAIT_HVR_OR_SH;
    conn_hs_reasm_start(hs, 0);
    return client_hello_send(c, NULL, 0, now_ms);
}

/* Most cookie exchanges we go along with in one handshake (a server whose
 * secret rotated mid-handshake asks twice; more is a loop). */
#define HS_HVR_MAX 4

static coaps_status on_hello_verify_request(struct conn *c, const struct dtls_hs_msg *m,
                                            uint64_t now_ms)
{
    struct conn_hs *hs = c->hs;
    struct dtls_hello_verify_request hvr;
    coaps_status st = dtls_hello_verify_request_parse(m->body, m->len, &hvr);
    if (st != COAPS_OK)
        return conn_fail(c, st, dtls_alert_for_status(st));
    /* RFC 6347 4.2.1: the HVR version says nothing about negotiation; it is
     * 1.0 or 1.2. */
    if (hvr.server_version != DTLS_VERSION_1_0 && hvr.server_version != DTLS_VERSION_1_2)
        return conn_fail(c, COAPS_E_UNSUPPORTED, DTLS_ALERT_PROTOCOL_VERSION);
    if (++hs->hvr_count > HS_HVR_MAX || hvr.cookie.len == 0)
        return conn_fail(c, COAPS_E_COOKIE, DTLS_ALERT_HANDSHAKE_FAILURE);
    return client_hello_send(c, hvr.cookie.p, hvr.cookie.len, now_ms);
}

static bool suite_configured(const struct conn *c, uint16_t id)
{
    const uint16_t *suites;
    size_t n = dtls_suites_configured(c->cfg, &suites);
    for (size_t i = 0; i < n; i++)
        if (suites[i] == id)
            return conn_suite_usable(c, dtls_suite_find(id));
    return false;
}

static coaps_status on_server_hello(struct conn *c, const struct dtls_hs_msg *m,
                                    uint64_t now_ms)
{
    (void)now_ms;
    struct conn_hs *hs = c->hs;
    struct dtls_server_hello sh;
    coaps_status st = dtls_server_hello_parse(m->body, m->len, &sh);
    if (st != COAPS_OK)
        return conn_fail(c, st, dtls_alert_for_status(st));
    if (sh.server_version != DTLS_VERSION_1_2)
        return conn_fail(c, COAPS_E_UNSUPPORTED, DTLS_ALERT_PROTOCOL_VERSION);
    const struct dtls_suite *s = dtls_suite_find(sh.cipher_suite);
    if (!s || !suite_configured(c, sh.cipher_suite))
        return conn_fail(c, COAPS_E_UNSUPPORTED, DTLS_ALERT_ILLEGAL_PARAMETER);
    /* RFC 5246 7.4.1.4: only extensions we offered may come back. */
    if (sh.exts.unknown_count)
        return conn_fail(c, COAPS_E_UNSUPPORTED, DTLS_ALERT_UNSUPPORTED_EXTENSION);
    hs->ems = dtls_exts_has(&sh.exts, DTLS_EXTF_EXTENDED_MASTER_SECRET);
    if (!hs->ems && c->cfg->require_ems) /* RFC 7627 5.3 */
        return conn_fail(c, COAPS_E_UNSUPPORTED, DTLS_ALERT_HANDSHAKE_FAILURE);
    int cid_alert = conn_cid_server_hello(c, &sh.exts);
    if (cid_alert == 0)
        cid_alert = conn_ticket_server_hello(c, &sh);
    if (cid_alert > 0)
        return conn_fail(c, COAPS_E_UNSUPPORTED, cid_alert);
    memcpy(hs->server_random, sh.random, DTLS_RANDOM_LEN);
    c->suite = s;
    bool resumed = false;
    int alert = conn_resume_server_hello(c, &sh, &resumed);
    if (alert == 0 && !resumed && s->kx == DTLS_KX_ECDHE_ECDSA)
        alert = conn_cert_server_hello(c, &sh);
    if (alert > 0)
        return conn_fail(c, COAPS_E_UNSUPPORTED, alert);
    /* The ClientHello this answers is entry 0 of our flight. */
    TRY(conn_hs_transcript_start(c));
    const struct conn_flight_entry *ch = &hs->fl.e[0];
    TRY(conn_hs_transcript_add(hs, ch->msg_type, ch->message_seq, hs->flight_buf + ch->off,
                               ch->len));
    TRY(conn_hs_transcript_add(hs, m->msg_type, m->message_seq, m->body, m->len));
    if (!resumed)
        return COAPS_OK;
    /* RFC 5246 7.3: the server's CCS and Finished come next */
    hs->state = HS_C_WAIT_FINISHED_ABBR;
    return conn_hs_keys_from_ms(c);
}

static coaps_status on_server_key_exchange(struct conn *c, const struct dtls_hs_msg *m,
                                           uint64_t now_ms)
{
    (void)now_ms;
    struct conn_hs *hs = c->hs;
    if (c->suite->kx != DTLS_KX_PSK) /* RFC 8422 2.2: Certificate first */
        return conn_fail(c, COAPS_E_STATE, DTLS_ALERT_UNEXPECTED_MESSAGE);
    struct dtls_ske_psk ske;
    coaps_status st = dtls_ske_psk_parse(m->body, m->len, &ske);
    if (st != COAPS_OK)
        return conn_fail(c, st, dtls_alert_for_status(st));
    if (ske.psk_identity_hint.len > sizeof(hs->hint))
        return conn_fail(c, COAPS_E_UNSUPPORTED, DTLS_ALERT_HANDSHAKE_FAILURE);
    if (ske.psk_identity_hint.len)
        memcpy(hs->hint, ske.psk_identity_hint.p, ske.psk_identity_hint.len);
    hs->hint_len = (uint8_t)ske.psk_identity_hint.len;
    return conn_hs_transcript_add(hs, m->msg_type, m->message_seq, m->body, m->len);
}

/* The client's identity and key: the callback (seeing the hint) or the
 * static ones of the config. */
static coaps_status client_psk(struct conn *c, uint8_t *id, size_t *id_len, uint8_t *key,
                               size_t *key_len)
{
    const coaps_dtls_config *cfg = c->cfg;
    if (cfg->psk_client) {
        TRY(cfg->psk_client(cfg->psk_user, c->hs->hint, c->hs->hint_len, id,
                            COAPS_DTLS_PSK_IDENTITY_MAX, id_len, key, COAPS_DTLS_PSK_KEY_MAX,
                            key_len));
        ENSURE(*id_len <= COAPS_DTLS_PSK_IDENTITY_MAX && *key_len > 0 &&
                   *key_len <= COAPS_DTLS_PSK_KEY_MAX,
               COAPS_E_CONFIG);
        return COAPS_OK;
    }
    memcpy(id, cfg->psk_identity, cfg->psk_identity_len);
    *id_len = cfg->psk_identity_len;
    memcpy(key, cfg->psk_key, cfg->psk_key_len);
    *key_len = cfg->psk_key_len;
    return COAPS_OK;
}

/* ClientKeyExchange with our PSK identity (RFC 4279 2), then the keys. */
static coaps_status write_cke_psk(struct conn *c, const struct dtls_client_hello *ch)
{
    (void)ch;
    uint8_t id[COAPS_DTLS_PSK_IDENTITY_MAX], key[COAPS_DTLS_PSK_KEY_MAX];
    size_t id_len = 0, key_len = 0;
    uint8_t body[2 + COAPS_DTLS_PSK_IDENTITY_MAX];
    struct wire_wr w = wire_wr_init(body, sizeof(body));
    coaps_status st = client_psk(c, id, &id_len, key, &key_len);
    if (st == COAPS_OK) {
        struct dtls_cke_psk cke = {{id, id_len}};
        st = dtls_cke_psk_write(&w, &cke);
    }
    if (st == COAPS_OK)
        st = conn_hs_send_msg(c, DTLS_HS_CLIENT_KEY_EXCHANGE, 0, body, w.off);
    if (st == COAPS_OK)
        st = derive_keys(c, key, key_len);
    crypto_wipe(key, sizeof(key));
    return st;
}

/* ChangeCipherSpec and Finished (our verify_data), and writing switches to
 * epoch 1: the end of every flight that has keys. */
static coaps_status write_finished(struct conn *c, const struct dtls_client_hello *ch)
{
    (void)ch;
    uint8_t vd[DTLS_VERIFY_DATA_LEN];
    TRY(conn_hs_finished_data(c, c->role == COAPS_DTLS_CLIENT, vd));
    TRY(conn_flight_add(c->hs, DTLS_CT_CHANGE_CIPHER_SPEC, 0, 0, 0, NULL, 0));
    TRY(conn_hs_send_msg(c, DTLS_HS_FINISHED, 1, vd, sizeof(vd)));
    c->write_epoch = 1;
    return COAPS_OK;
}

static coaps_status on_server_hello_done(struct conn *c, const struct dtls_hs_msg *m,
                                         uint64_t now_ms)
{
    coaps_status st = dtls_server_hello_done_parse(m->body, m->len);
    if (st != COAPS_OK)
        return conn_fail(c, st, dtls_alert_for_status(st));
    TRY(conn_hs_transcript_add(c->hs, m->msg_type, m->message_seq, m->body, m->len));
    return conn_hs_send_flight(c, CONN_FL_CLIENT_FINAL, NULL, now_ms);
}

/* ServerHelloDone straight after ServerHello or the hint: PSK only (an
 * ECDHE_ECDSA server must send Certificate and ServerKeyExchange). */
static coaps_status on_server_hello_done_psk(struct conn *c, const struct dtls_hs_msg *m,
                                             uint64_t now_ms)
{
    if (c->suite->kx != DTLS_KX_PSK)
        return conn_fail(c, COAPS_E_STATE, DTLS_ALERT_UNEXPECTED_MESSAGE);
    return on_server_hello_done(c, m, now_ms);
}

/* Check the peer's Finished against the transcript so far and hash it. */
coaps_status conn_hs_check_finished(struct conn *c, const struct dtls_hs_msg *m,
                                    bool peer_client)
{
    const uint8_t *got;
    uint8_t want[DTLS_VERIFY_DATA_LEN];
    coaps_status st = dtls_finished_parse(m->body, m->len, &got);
    if (st != COAPS_OK)
        return conn_fail(c, st, dtls_alert_for_status(st));
    TRY(conn_hs_finished_data(c, peer_client, want));
    /* Wrong PSK shows here: decrypt_error (RFC 5246 7.4.9 / 7.2.2). */
    if (!crypto_ct_equal(got, want, sizeof(want)))
        return conn_fail(c, COAPS_E_AUTH, DTLS_ALERT_DECRYPT_ERROR);
    return conn_hs_transcript_add(c->hs, m->msg_type, m->message_seq, m->body, m->len);
}

static coaps_status on_server_finished(struct conn *c, const struct dtls_hs_msg *m,
                                       uint64_t now_ms)
{
    (void)now_ms;
    if (CONN_TICKETS && conn_ticket_missing(c)) /* RFC 5077 3.3: promised, so first */
        return conn_fail(c, COAPS_E_STATE, DTLS_ALERT_UNEXPECTED_MESSAGE);
    TRY(conn_hs_check_finished(c, m, false));
    conn_hs_established(c);
    return COAPS_OK;
}

/* ---- server -------------------------------------------------------------- */

/* The server's choice: its first configured suite the client offers. */
static const struct dtls_suite *server_pick_suite(struct conn *c,
                                                  const struct dtls_client_hello *ch)
{
    const uint16_t *suites;
    size_t n = dtls_suites_configured(c->cfg, &suites);
    bool cert_ok = dtls_pki_usable(c->cfg->pki, true) && c->hs->pki && conn_cert_server_can(c, ch);
    for (size_t i = 0; i < n; i++) {
        const struct dtls_suite *s = dtls_suite_find(suites[i]);
        if (!conn_suite_usable(c, s) || !dtls_client_hello_offers_suite(ch, suites[i]))
            continue;
        if (s->kx == DTLS_KX_PSK || cert_ok)
            return s;
    }
    return NULL;
}

/* The server's messages are built where they are kept, at the flight's
 * tail (conn_flight_tail), not in stack scratch: a device's stack then
 * holds the extensions only (its high-water mark is tested). */
static coaps_status write_server_hello(struct conn *c, const struct dtls_client_hello *ch)
{
    struct conn_hs *hs = c->hs;
    uint8_t exts[HS_EXTS_MAX];
    struct wire_wr ew = wire_wr_init(exts, sizeof(exts));
    if (hs->ems)
        TRY(dtls_ext_write_empty(&ew, DTLS_EXT_EXTENDED_MASTER_SECRET));
    /* RFC 5746 3.6: answer the client's signal with an empty one. */
    if (dtls_exts_has(&ch->exts, DTLS_EXTF_RENEGOTIATION_INFO) ||
        dtls_client_hello_offers_scsv(ch))
        TRY(dtls_ext_write_renegotiation_info(&ew));
    if (c->suite->kx == DTLS_KX_ECDHE_ECDSA && !c->resumed) /* no certificate when resuming */
        TRY(conn_cert_server_hello_exts(c, ch, &ew));
    TRY(conn_cid_server_hello_ext(c, &ch->exts, &ew)); /* RFC 9146 3 */
    TRY(conn_ticket_server_hello_ext(c, &ew));         /* RFC 5077 3.2 */
    struct dtls_server_hello sh = {
        .server_version = DTLS_VERSION_1_2,
        .random = hs->server_random,
        .session_id = {hs->session_id, hs->session_id_len},
        .cipher_suite = c->suite->id,
        .compression_method = DTLS_COMPRESSION_NULL,
        .has_extensions = ew.off > 0,
        .extensions = {exts, ew.off},
    };
    struct wire_wr w = conn_flight_tail(hs);
    TRY(dtls_server_hello_write(&w, &sh));
    return conn_hs_send_msg(c, DTLS_HS_SERVER_HELLO, 0, w.buf, w.off);
}

/* ServerKeyExchange of a PSK suite: only to carry a hint (RFC 4279 2). */
static coaps_status write_ske_psk(struct conn *c, const struct dtls_client_hello *ch)
{
    (void)ch;
    struct dtls_ske_psk ske = {{c->cfg->psk_hint, c->cfg->psk_hint_len}};
    struct wire_wr w = conn_flight_tail(c->hs);
    TRY(dtls_ske_psk_write(&w, &ske));
    return conn_hs_send_msg(c, DTLS_HS_SERVER_KEY_EXCHANGE, 0, w.buf, w.off);
}

static coaps_status write_server_hello_done(struct conn *c, const struct dtls_client_hello *ch)
{
    (void)ch;
    return conn_hs_send_msg(c, DTLS_HS_SERVER_HELLO_DONE, 0, NULL, 0);
}

static coaps_status on_client_hello(struct conn *c, const struct dtls_hs_msg *m, uint64_t now_ms)
{
    struct conn_hs *hs = c->hs;
    struct dtls_client_hello ch;
    coaps_status st = dtls_client_hello_parse(m->body, m->len, &ch);
    if (st != COAPS_OK)
        return conn_fail(c, st, dtls_alert_for_status(st));
    /* DTLS versions count down: 1.0 = 0xfeff > 1.2 = 0xfefd. We speak only
     * 1.2 (RFC 6347 4.1: a higher offer is answered with 1.2). */
    if (ch.client_version > DTLS_VERSION_1_2)
        return conn_fail(c, COAPS_E_UNSUPPORTED, DTLS_ALERT_PROTOCOL_VERSION);
    memcpy(hs->client_random, ch.random, DTLS_RANDOM_LEN);
    bool resumed = false;
    st = conn_resume_server_try(c, &ch, m, now_ms, &resumed);
    if (st != COAPS_OK || resumed)
        return st;
    c->suite = server_pick_suite(c, &ch);
    if (!c->suite)
        return conn_fail(c, COAPS_E_UNSUPPORTED, DTLS_ALERT_HANDSHAKE_FAILURE);
    hs->ems = dtls_exts_has(&ch.exts, DTLS_EXTF_EXTENDED_MASTER_SECRET);
    if (!hs->ems && c->cfg->require_ems) /* RFC 7627 5.3 */
        return conn_fail(c, COAPS_E_UNSUPPORTED, DTLS_ALERT_HANDSHAKE_FAILURE);
    TRY(conn_random(c, hs->server_random, sizeof(hs->server_random)));
    TRY(conn_hs_transcript_start(c));
    TRY(conn_hs_transcript_add(hs, m->msg_type, m->message_seq, m->body, m->len));
    st = conn_hs_send_flight(c, CONN_FL_SERVER_HELLO, &ch, now_ms);
    if (st != COAPS_OK && c->state == COAPS_DTLS_HANDSHAKING)
        return conn_fail(c, st, DTLS_ALERT_INTERNAL_ERROR);
    if (st != COAPS_OK)
        return st;
    return COAPS_OK;
}

static coaps_status on_client_key_exchange(struct conn *c, const struct dtls_hs_msg *m,
                                           uint64_t now_ms)
{
    (void)now_ms;
    const coaps_dtls_config *cfg = c->cfg;
    /* RFC 5246 7.4.6: asked for a certificate, the client sends one (maybe
     * empty) before its ClientKeyExchange. */
    if (c->hs->cert_requested && c->hs->state == HS_S_WAIT_FINISHED)
        return conn_fail(c, COAPS_E_STATE, DTLS_ALERT_UNEXPECTED_MESSAGE);
    if (c->suite->kx == DTLS_KX_ECDHE_ECDSA)
        return conn_cert_on_client_key_exchange(c, m);
    struct dtls_cke_psk cke;
    coaps_status st = dtls_cke_psk_parse(m->body, m->len, &cke);
    if (st != COAPS_OK)
        return conn_fail(c, st, dtls_alert_for_status(st));
    uint8_t key[COAPS_DTLS_PSK_KEY_MAX];
    size_t key_len = 0;
    /* RFC 4279 2: an unknown identity MAY be answered with
     * unknown_psk_identity or, to hide which identities exist,
     * decrypt_error. We pick unknown_psk_identity: clearer for operators,
     * and identities are not secret in CoAP deployments. */
    if (cke.psk_identity.len > COAPS_DTLS_PSK_IDENTITY_MAX ||
        cfg->psk_lookup(cfg->psk_user, cke.psk_identity.p, cke.psk_identity.len, key,
                        sizeof(key), &key_len) != COAPS_OK ||
        key_len == 0 || key_len > sizeof(key)) {
        crypto_wipe(key, sizeof(key));
        return conn_fail(c, COAPS_E_PSK_IDENTITY, DTLS_ALERT_UNKNOWN_PSK_IDENTITY);
    }
    st = conn_hs_transcript_add(c->hs, m->msg_type, m->message_seq, m->body, m->len);
    if (st == COAPS_OK)
        st = derive_keys(c, key, key_len);
    crypto_wipe(key, sizeof(key));
    if (st != COAPS_OK)
        return conn_fail(c, st, DTLS_ALERT_INTERNAL_ERROR);
    return COAPS_OK;
}

/* The final flight with a ticket (RFC 5077 3.3): NewSessionTicket,
 * ChangeCipherSpec, Finished, sent from the handshake context, which
 * stays until the client shows it has them (conn_hs_established). */
static coaps_status server_ticket_flight(struct conn *c, uint64_t now_ms)
{
    TRY(conn_hs_send_flight(c, CONN_FL_SERVER_TICKET, NULL, now_ms));
    conn_hs_established(c);
    return COAPS_OK;
}

static coaps_status on_client_finished(struct conn *c, const struct dtls_hs_msg *m,
                                       uint64_t now_ms)
{
    struct conn_hs *hs = c->hs;
    /* RFC 5246 7.4.8: a client that sent a certificate proves it owns the
     * key with CertificateVerify before Finished. */
    if (hs->peer_cert_cv_due)
        return conn_fail(c, COAPS_E_STATE, DTLS_ALERT_UNEXPECTED_MESSAGE);
    TRY(conn_hs_check_finished(c, m, true));
    if (CONN_TICKETS && (hs->ticket & CONN_TICKET_ISSUE))
        return server_ticket_flight(c, now_ms);
    /* Our final flight is CCS + Finished; it is kept after the handshake
     * (just verify_data and message_seq) to be resent whenever the client
     * repeats its flight (RFC 6347 4.2.4). */
    TRY(conn_hs_finished_data(c, false, c->retain_verify));
    c->retain_seq = hs->next_send_seq++;
    c->retain = true;
    c->resend_retained = true;
    c->write_epoch = 1;
    conn_hs_established(c);
    return COAPS_OK;
}

/* ---- our flights, as a table -------------------------------------------------- */

/* Each row: in flight F, when `when` holds (NULL: always), `write` queues
 * message T (hashing it into the transcript). A flight is its rows in
 * order; conn_hs_send_flight starts it afresh, runs them and sends it.
 * Writers get the ClientHello a server flight answers (NULL in the
 * client's). The ClientHello itself, with its cookie and ticket fallback,
 * is client_hello_send's. */
typedef coaps_status (*hs_writer)(struct conn *c, const struct dtls_client_hello *ch);

struct hs_flight_row {
    uint8_t flight;   /* enum conn_hs_flight */
    uint8_t msg_type; /* what write queues last (checked) */
    bool (*when)(const struct conn *c);
    hs_writer write;
};

static bool kx_psk(const struct conn *c)
{
    return c->suite->kx == DTLS_KX_PSK;
}

static bool psk_hint(const struct conn *c)
{
    return kx_psk(c) && c->cfg->psk_hint_len > 0;
}

#if COAPS_WITH_PKI
static bool kx_ecdhe(const struct conn *c)
{
    return c->suite->kx == DTLS_KX_ECDHE_ECDSA;
}

static bool ecdhe_asks_cert(const struct conn *c)
{
    return kx_ecdhe(c) && conn_cert_want_client(c);
}

static bool cert_requested(const struct conn *c)
{
    return kx_ecdhe(c) && c->hs->cert_requested;
}

static bool client_signs(const struct conn *c)
{
    return cert_requested(c) && c->hs->can_sign_cv;
}
#endif

#if COAPS_WITH_RESUMPTION
static bool ticket_issued(const struct conn *c)
{
    return (c->hs->ticket & CONN_TICKET_ISSUE) != 0;
}

static coaps_status write_ticket(struct conn *c, const struct dtls_client_hello *ch)
{
    (void)ch;
    return conn_ticket_send(c);
}
#endif

static const struct hs_flight_row hs_flights[] = {
    /* server, answering a ClientHello with a valid cookie (RFC 5246 7.3,
     * RFC 4279 2, RFC 8422 2.2) */
    {CONN_FL_SERVER_HELLO, DTLS_HS_SERVER_HELLO, NULL, write_server_hello},
#if COAPS_WITH_PKI
    {CONN_FL_SERVER_HELLO, DTLS_HS_CERTIFICATE, kx_ecdhe, conn_cert_write_server_certificate},
    {CONN_FL_SERVER_HELLO, DTLS_HS_SERVER_KEY_EXCHANGE, kx_ecdhe,
     conn_cert_write_server_key_exchange},
    {CONN_FL_SERVER_HELLO, DTLS_HS_CERTIFICATE_REQUEST, ecdhe_asks_cert,
     conn_cert_write_certificate_request},
#endif
    {CONN_FL_SERVER_HELLO, DTLS_HS_SERVER_KEY_EXCHANGE, psk_hint, write_ske_psk},
    {CONN_FL_SERVER_HELLO, DTLS_HS_SERVER_HELLO_DONE, NULL, write_server_hello_done},
    /* client, after ServerHelloDone (RFC 5246 7.4.6-7.4.9) */
#if COAPS_WITH_PKI
    {CONN_FL_CLIENT_FINAL, DTLS_HS_CERTIFICATE, cert_requested,
     conn_cert_write_client_certificate},
    {CONN_FL_CLIENT_FINAL, DTLS_HS_CLIENT_KEY_EXCHANGE, kx_ecdhe,
     conn_cert_write_client_key_exchange},
    {CONN_FL_CLIENT_FINAL, DTLS_HS_CERTIFICATE_VERIFY, client_signs,
     conn_cert_write_certificate_verify},
#endif
    {CONN_FL_CLIENT_FINAL, DTLS_HS_CLIENT_KEY_EXCHANGE, kx_psk, write_cke_psk},
    {CONN_FL_CLIENT_FINAL, DTLS_HS_FINISHED, NULL, write_finished},
#if COAPS_WITH_RESUMPTION
    /* server, resuming (RFC 5246 7.3, RFC 5077 3.1: the ticket before CCS) */
    {CONN_FL_SERVER_RESUMED, DTLS_HS_SERVER_HELLO, NULL, write_server_hello},
    {CONN_FL_SERVER_RESUMED, DTLS_HS_NEW_SESSION_TICKET, ticket_issued, write_ticket},
    {CONN_FL_SERVER_RESUMED, DTLS_HS_FINISHED, NULL, write_finished},
    /* server, after the client's Finished, issuing a ticket (RFC 5077 3.3) */
    {CONN_FL_SERVER_TICKET, DTLS_HS_NEW_SESSION_TICKET, NULL, write_ticket},
    {CONN_FL_SERVER_TICKET, DTLS_HS_FINISHED, NULL, write_finished},
#endif
};

coaps_status conn_hs_send_flight(struct conn *c, enum conn_hs_flight f,
                                 const struct dtls_client_hello *ch, uint64_t now_ms)
{
    struct conn_hs *hs = c->hs;
    conn_flight_reset(hs);
    for (size_t i = 0; i < COAPS_ARRAY_LEN(hs_flights); i++) {
        const struct hs_flight_row *r = &hs_flights[i];
        if (r->flight != f || (r->when && !r->when(c)))
            continue;
        TRY(r->write(c, ch));
        ENSURE(hs->fl.n > 0 && hs->fl.e[hs->fl.n - 1].msg_type == r->msg_type, COAPS_E_STATE);
    }
    conn_hs_flight_go(c, now_ms);
    return COAPS_OK;
}

/* ---- the table ------------------------------------------------------------ */

typedef coaps_status (*hs_handler)(struct conn *c, const struct dtls_hs_msg *m, uint64_t now_ms);

struct hs_row {
    uint8_t state;    /* enum conn_hs_state */
    uint8_t msg_type; /* enum dtls_hs_type */
    uint8_t next;     /* state after the handler succeeded */
    hs_handler fn;
};

static const struct hs_row hs_table[] = {
    /* client */
    {HS_C_WAIT_HVR_OR_SH, DTLS_HS_HELLO_VERIFY_REQUEST, HS_C_WAIT_SH, on_hello_verify_request},
    {HS_C_WAIT_HVR_OR_SH, DTLS_HS_SERVER_HELLO, HS_C_WAIT_SKE_OR_SHD, on_server_hello},
    {HS_C_WAIT_SH, DTLS_HS_HELLO_VERIFY_REQUEST, HS_C_WAIT_SH, on_hello_verify_request},
    {HS_C_WAIT_SH, DTLS_HS_SERVER_HELLO, HS_C_WAIT_SKE_OR_SHD, on_server_hello},
    {HS_C_WAIT_SKE_OR_SHD, DTLS_HS_SERVER_KEY_EXCHANGE, HS_C_WAIT_SHD, on_server_key_exchange},
    {HS_C_WAIT_SKE_OR_SHD, DTLS_HS_SERVER_HELLO_DONE, HS_C_WAIT_FINISHED,
     on_server_hello_done_psk},
    {HS_C_WAIT_SHD, DTLS_HS_SERVER_HELLO_DONE, HS_C_WAIT_FINISHED, on_server_hello_done_psk},
    {HS_C_WAIT_FINISHED, DTLS_HS_FINISHED, HS_DONE, on_server_finished},
    /* client, ECDHE_ECDSA (RFC 8422 2.2) */
    {HS_C_WAIT_SKE_OR_SHD, DTLS_HS_CERTIFICATE, HS_C_WAIT_SKE, conn_cert_on_server_certificate},
    {HS_C_WAIT_SKE, DTLS_HS_SERVER_KEY_EXCHANGE, HS_C_WAIT_CR_OR_SHD,
     conn_cert_on_server_key_exchange},
    {HS_C_WAIT_CR_OR_SHD, DTLS_HS_CERTIFICATE_REQUEST, HS_C_WAIT_SHD_AFTER_CR,
     conn_cert_on_certificate_request},
    {HS_C_WAIT_CR_OR_SHD, DTLS_HS_SERVER_HELLO_DONE, HS_C_WAIT_FINISHED, on_server_hello_done},
    {HS_C_WAIT_SHD_AFTER_CR, DTLS_HS_SERVER_HELLO_DONE, HS_C_WAIT_FINISHED, on_server_hello_done},
    /* server */
    {HS_S_WAIT_CH, DTLS_HS_CLIENT_HELLO, HS_S_WAIT_CKE, on_client_hello},
    {HS_S_WAIT_CKE, DTLS_HS_CLIENT_KEY_EXCHANGE, HS_S_WAIT_FINISHED, on_client_key_exchange},
    {HS_S_WAIT_FINISHED, DTLS_HS_FINISHED, HS_DONE, on_client_finished},
    /* server, client authentication (RFC 5246 7.4.6, 7.4.8) */
    {HS_S_WAIT_CKE, DTLS_HS_CERTIFICATE, HS_S_WAIT_CKE_AFTER_CERT,
     conn_cert_on_client_certificate},
    {HS_S_WAIT_CKE_AFTER_CERT, DTLS_HS_CLIENT_KEY_EXCHANGE, HS_S_WAIT_CV_OR_FINISHED,
     on_client_key_exchange},
    {HS_S_WAIT_CV_OR_FINISHED, DTLS_HS_CERTIFICATE_VERIFY, HS_S_WAIT_FINISHED,
     conn_cert_on_certificate_verify},
    {HS_S_WAIT_CV_OR_FINISHED, DTLS_HS_FINISHED, HS_DONE, on_client_finished},
    /* session tickets (RFC 5077 3.3, resume.c) */
    {HS_C_WAIT_FINISHED, DTLS_HS_NEW_SESSION_TICKET, HS_C_WAIT_FINISHED,
     conn_ticket_on_new_session_ticket},
    {HS_C_WAIT_FINISHED_ABBR, DTLS_HS_NEW_SESSION_TICKET, HS_C_WAIT_FINISHED_ABBR,
     conn_ticket_on_new_session_ticket},
    /* abbreviated handshake (RFC 5246 7.3, resume.c) */
    {HS_C_WAIT_FINISHED_ABBR, DTLS_HS_FINISHED, HS_DONE, conn_resume_on_server_finished},
    {HS_S_WAIT_FINISHED_ABBR, DTLS_HS_FINISHED, HS_DONE, conn_resume_on_client_finished},
};

coaps_status conn_hs_message(struct conn *c, const struct dtls_hs_msg *m, uint16_t epoch,
                             uint64_t now_ms)
{
    (void)epoch; /* the engine only lets Finished in at epoch 1, the rest at 0 */
    struct conn_hs *hs = c->hs;
    /* RFC 5246 7.4.1.1: a HelloRequest while negotiating is ignored. */
    if (m->msg_type == DTLS_HS_HELLO_REQUEST && c->role == COAPS_DTLS_CLIENT)
        return COAPS_OK;
    for (size_t i = 0; i < COAPS_ARRAY_LEN(hs_table); i++) {
        const struct hs_row *row = &hs_table[i];
        if (row->state != hs->state || row->msg_type != m->msg_type)
            continue;
        uint8_t from = hs->state;
        hs->state = row->next;
        coaps_status st = row->fn(c, m, now_ms);
        if (st != COAPS_OK && c->state == COAPS_DTLS_HANDSHAKING) {
            hs->state = from;
            return conn_fail(c, st, DTLS_ALERT_INTERNAL_ERROR);
        }
        return st;
    }
    return conn_fail(c, COAPS_E_STATE, DTLS_ALERT_UNEXPECTED_MESSAGE);
}

void conn_hs_release(struct conn *c)
{
    struct conn_hs *hs = c->hs;
    if (!hs)
        return;
    if (hs->transcript_on)
        crypto_hash_clear(&hs->transcript);
    if (hs->ms_key_on)
        crypto_hmac_key_clear(&hs->ms_key);
    conn_cert_release(hs);
    if (hs->pki)
        crypto_wipe(hs->pki, CONN_HS_PKI_HEAD_BYTES); /* kx, pms */
    crypto_wipe(hs, CONN_HS_HEAD_BYTES); /* every other secret is in the head (conn.h) */
    c->hs = NULL;
}
