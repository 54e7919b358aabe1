/*
 * engine.c - the public connection API of coaps/dtls.h: datagrams in,
 * records dispatched by epoch and content type (RFC 6347 4.1), handshake
 * fragments to reassembly and the handshake table, application data out.
 */
#include <string.h>

#include "common/try.h"
#include "common/wire.h"
#include "dtls/conn.h"

_Static_assert(sizeof(struct conn) <= COAPS_DTLS_CONN_SIZE,
               "COAPS_DTLS_CONN_SIZE promised in coaps/dtls.h is too small");
_Static_assert(sizeof(struct conn_hs) <= COAPS_DTLS_HS_BASE_SIZE,
               "COAPS_DTLS_HS_BASE_SIZE promised in coaps/dtls.h is too small");
_Static_assert(sizeof(struct conn_hs_pki) <= COAPS_DTLS_HS_PKI_SIZE,
               "COAPS_DTLS_HS_PKI_SIZE promised in coaps/dtls.h is too small");
/* The issue-18 promise: a PSK handshake context of at most 2 KiB. */
_Static_assert(COAPS_DTLS_HS_BASE_SIZE <= 2048, "a PSK handshake context is at most 2 KiB");
_Static_assert(_Alignof(struct conn) <= _Alignof(coaps_dtls_conn) &&
                   _Alignof(struct conn_hs) <= _Alignof(coaps_dtls_hs_base) &&
                   _Alignof(struct conn_hs_pki) <= _Alignof(coaps_dtls_hs_pki),
               "the public storage is aligned for the internal structs");
_Static_assert(DTLS_RECORD_HEADER_LEN + DTLS_EXPLICIT_NONCE_LEN <= COAPS_DTLS_WRITE_HEADROOM_MAX,
               "COAPS_DTLS_WRITE_HEADROOM_MAX promised in coaps/dtls.h is too small");
/* flight_cap and the flight entries' offsets are 16-bit. */
_Static_assert(CONN_FLIGHT_BYTES <= UINT16_MAX, "flight offsets are 16-bit");

coaps_status coaps_dtls_config_check(const coaps_dtls_config *cfg)
{
    ENSURE(cfg, COAPS_E_CONFIG);
    ENSURE(cfg->role == COAPS_DTLS_CLIENT || cfg->role == COAPS_DTLS_SERVER, COAPS_E_CONFIG);
    ENSURE(cfg->mtu == 0 || cfg->mtu >= COAPS_DTLS_MTU_MIN, COAPS_E_CONFIG);
    ENSURE(cfg->suites_len <= COAPS_DTLS_SUITES_MAX, COAPS_E_CONFIG);
    ENSURE(cfg->suites_len == 0 || cfg->suites, COAPS_E_CONFIG);
    for (size_t i = 0; i < cfg->suites_len; i++)
        ENSURE(dtls_suite_find(cfg->suites[i]), COAPS_E_CONFIG);
    ENSURE(cfg->groups_len <= COAPS_DTLS_GROUPS_MAX, COAPS_E_CONFIG);
    ENSURE(cfg->groups_len == 0 || cfg->groups, COAPS_E_CONFIG);
    TRY(conn_cid_config_check(cfg));
    /* session tickets are part of resumption (resume.c) */
    ENSURE(COAPS_WITH_RESUMPTION || (!cfg->tickets && !cfg->ticket_keys), COAPS_E_CONFIG);
    ENSURE(COAPS_WITH_SHARED_COOKIE || !cfg->cookie_secret, COAPS_E_CONFIG);
    for (size_t i = 0; i < cfg->groups_len; i++)
        ENSURE(cfg->groups[i] == COAPS_DTLS_GROUP_SECP256R1 ||
                   cfg->groups[i] == COAPS_DTLS_GROUP_X25519,
               COAPS_E_CONFIG);
    bool pki = dtls_pki_usable(cfg->pki, cfg->role == COAPS_DTLS_SERVER);
    if (cfg->role == COAPS_DTLS_CLIENT) {
        if (!cfg->psk_client && !(pki && !cfg->psk_key)) {
            ENSURE(cfg->psk_identity || cfg->psk_identity_len == 0, COAPS_E_CONFIG);
            ENSURE(cfg->psk_identity_len <= COAPS_DTLS_PSK_IDENTITY_MAX, COAPS_E_CONFIG);
            ENSURE(cfg->psk_key && cfg->psk_key_len > 0, COAPS_E_CONFIG);
            ENSURE(cfg->psk_key_len <= COAPS_DTLS_PSK_KEY_MAX, COAPS_E_CONFIG);
        }
    } else {
        ENSURE(cfg->psk_lookup || pki, COAPS_E_CONFIG);
        ENSURE(cfg->psk_hint_len <= COAPS_DTLS_PSK_HINT_MAX, COAPS_E_CONFIG);
        ENSURE(cfg->psk_hint || cfg->psk_hint_len == 0, COAPS_E_CONFIG);
    }
    return COAPS_OK;
}

coaps_status coaps_dtls_conn_init(coaps_dtls_conn *conn, const coaps_dtls_config *cfg,
                                  coaps_dtls_hs *hs_mem, const coaps_peer *peer, uint64_t now_ms)
{
    ENSURE(hs_mem, COAPS_E_INVALID);
    return coaps_dtls_conn_init_split(conn, cfg, &hs_mem->base, &hs_mem->pki, peer, now_ms);
}

coaps_status coaps_dtls_conn_init_split(coaps_dtls_conn *conn, const coaps_dtls_config *cfg,
                                        coaps_dtls_hs_base *base, coaps_dtls_hs_pki *pki,
                                        const coaps_peer *peer, uint64_t now_ms)
{
    ENSURE(conn && base && peer, COAPS_E_INVALID);
    TRY(coaps_dtls_config_check(cfg));
    struct conn *c = conn_of(conn);
    struct conn_hs *hs = hs_of(base);
    memset(c, 0, sizeof(*c));
    memset(hs, 0, CONN_HS_HEAD_BYTES); /* the bulk buffers need no zeroing (conn.h) */
    hs->flight_buf = hs->flight_psk;
    hs->flight_cap = sizeof(hs->flight_psk);
    if (pki) {
        hs->pki = hs_pki_of(pki);
        memset(hs->pki, 0, CONN_HS_PKI_HEAD_BYTES);
        hs->flight_buf = hs->pki->flight_buf;
        hs->flight_cap = sizeof(hs->pki->flight_buf);
    }
    conn_hs_reasm_start(hs, 0);
    c->cfg = cfg;
    c->hs = hs;
    c->peer = *peer;
    c->role = (uint8_t)cfg->role;
    c->state = COAPS_DTLS_HANDSHAKING;
    c->err.status = COAPS_OK;
    c->err.alert = -1;
    c->mtu = cfg->mtu ? cfg->mtu : COAPS_DTLS_MTU_DEFAULT;
    hs->started_ms = now_ms;
    hs->deadline_ms = UINT64_MAX;
    coaps_status st = conn_cid_init(c);
    if (st == COAPS_OK && cfg->role == COAPS_DTLS_SERVER) {
        hs->state = HS_S_WAIT_CH;
        return COAPS_OK;
    }
    if (st == COAPS_OK)
        st = conn_hs_client_start(c, now_ms);
    if (st != COAPS_OK)
        conn_hs_release(c);
    return st;
}

void coaps_dtls_conn_clear(coaps_dtls_conn *conn)
{
    struct conn *c = conn_of(conn);
    conn_hs_release(c);
    conn_clear_keys(c);
    crypto_wipe(c, sizeof(*c));
}

/* ---- input ---------------------------------------------------------------- */

struct rx {
    uint64_t now_ms;
    uint64_t rec_seq;
    bool resend; /* the peer repeated an old message */
};

/* The message that asks this end to renegotiate: a ClientHello sent to a
 * server, a HelloRequest sent to a client (RFC 5246 7.4.1.1, 7.4.1.2). */
static bool renegotiation_request(const struct conn *c, uint8_t msg_type)
{
    return msg_type == (c->role == COAPS_DTLS_SERVER ? DTLS_HS_CLIENT_HELLO
                                                     : DTLS_HS_HELLO_REQUEST);
}

/* After the handshake. Inside the session (epoch 1) a renegotiation request
 * is refused with a no_renegotiation warning and the session goes on
 * (RFC 5246 7.2.2, RFC 5746 4.4); it is judged by its type before its
 * message_seq, because a new handshake starts numbering again at 0
 * (RFC 6347 4.2.2) and would otherwise pass for a repeat of the old one.
 * A repeat of the peer's handshake means our final flight was lost
 * (RFC 6347 4.2.4). */
static void post_handshake_fragment(struct conn *c, const struct dtls_hs_header *h,
                                    uint16_t epoch, struct rx *rx)
{
    if (c->state != COAPS_DTLS_ESTABLISHED)
        return;
    if (epoch == 1 && renegotiation_request(c, h->msg_type)) {
        conn_queue_alert(c, DTLS_ALERT_WARNING, DTLS_ALERT_NO_RENEGOTIATION);
        return;
    }
    /* Of the peer's initial handshake only Finished was protected. */
    if (h->message_seq < c->peer_next_seq && (epoch == 0 || h->msg_type == DTLS_HS_FINISHED)) {
        if (c->retain || c->hs) /* c->hs: lingering (conn_hs_established) */
            rx->resend = true;
        return;
    }
    c->stats.records_dropped++;
}

/* A fresh server connection learns the client's numbering from its first
 * ClientHello (the one whose cookie the front door checked). */
static bool server_first_fragment(struct conn *c, const struct dtls_hs_header *h, struct rx *rx)
{
    struct conn_hs *hs = c->hs;
    if (hs->state != HS_S_WAIT_CH || hs->ch_seen)
        return true;
    if (h->msg_type != DTLS_HS_CLIENT_HELLO)
        return false;
    hs->ch_seen = true;
    conn_hs_reasm_start(hs, h->message_seq);
    /* RFC 6347 4.2.2: our ServerHello takes the ClientHello's message_seq
     * (the stateless HelloVerifyRequest did not count). Records continue
     * from the ClientHello's record number, as the HVR reused it
     * (RFC 6347 4.2.1), so the client never sees a number twice. */
    hs->next_send_seq = h->message_seq;
    if (c->write_seq0 <= rx->rec_seq)
        c->write_seq0 = rx->rec_seq + 1;
    return true;
}

static bool epoch1_readable(const struct conn *c);

/* Once the peer's CCS has switched what we read to epoch 1 and only its
 * Finished is still to come, a new epoch-0 handshake message belongs to
 * the earlier epoch and is discarded (RFC 6347 4.1), so a forged one
 * cannot end the handshake; a repeat still asks for our flight again.
 * (A client's CertificateVerify is epoch 0 after the keys exist, and its
 * CCS may overtake it: hence the states, not the CCS alone.) */
static bool earlier_epoch_message(const struct conn *c, const struct dtls_hs_header *h,
                                  uint16_t epoch)
{
    const struct conn_hs *hs = c->hs;
    /* (but the NewSessionTicket that comes before the server's CCS and
     * may have been lost while the CCS came, RFC 5077 3.3) */
    if (CONN_TICKETS && h->msg_type == DTLS_HS_NEW_SESSION_TICKET && conn_ticket_missing(c))
        return false;
    return epoch == 0 && epoch1_readable(c) &&
           (hs->state == HS_S_WAIT_FINISHED || hs->state == HS_C_WAIT_FINISHED ||
            hs->state == HS_S_WAIT_FINISHED_ABBR || hs->state == HS_C_WAIT_FINISHED_ABBR) &&
           h->message_seq >= dtls_reasm_next_seq(&hs->reasm);
}

static coaps_status handshake_record(struct conn *c, const uint8_t *body, size_t len,
                                     uint16_t epoch, struct rx *rx)
{
    struct wire_rd r = wire_rd_init(body, len);
    while (wire_rd_left(&r) > 0 && c->state <= COAPS_DTLS_ESTABLISHED) {
        struct dtls_hs_header h;
        const uint8_t *frag;
        coaps_status hst = dtls_hs_header_read(&r, &h, &frag);
        if (hst == COAPS_E_UNSUPPORTED && c->state == COAPS_DTLS_HANDSHAKING) {
            /* A message longer than DTLS_HS_MSG_MAX (a certificate chain
             * too long for us) can never complete: end now rather than at
             * the handshake time limit. illegal_parameter, as OpenSSL
             * sends for an excessive message size. */
            c->stats.records_dropped++;
            return conn_fail(c, COAPS_E_UNSUPPORTED, DTLS_ALERT_ILLEGAL_PARAMETER);
        }
        if (hst != COAPS_OK) {
            c->stats.records_dropped++;
            return COAPS_OK;
        }
        if (c->state != COAPS_DTLS_HANDSHAKING) {
            post_handshake_fragment(c, &h, epoch, rx);
            continue;
        }
        /* Initial handshake: Finished is the only message protected under
         * epoch 1, everything before it is epoch 0. A client ignores a
         * HelloRequest while negotiating (RFC 5246 7.4.1.1) before it takes
         * a message_seq: a forged one would otherwise make the server's
         * real message of that number look like a repeat and stall us. */
        if ((h.msg_type == DTLS_HS_FINISHED) != (epoch == 1) ||
            (c->role == COAPS_DTLS_CLIENT && h.msg_type == DTLS_HS_HELLO_REQUEST) ||
            earlier_epoch_message(c, &h, epoch) || !server_first_fragment(c, &h, rx)) {
            c->stats.records_dropped++;
            continue;
        }
        coaps_status st = dtls_reasm_add(&c->hs->reasm, &h, frag);
        if (st == COAPS_E_DUPLICATE) {
            rx->resend = true;
            continue;
        }
        if (st != COAPS_OK) {
            c->stats.records_dropped++;
            continue;
        }
        struct dtls_hs_msg m;
        while (c->hs && dtls_reasm_next(&c->hs->reasm, &m) == COAPS_OK) {
            c->hs->peer_progress = true;
            uint16_t me = m.msg_type == DTLS_HS_FINISHED ? 1 : 0;
            st = conn_hs_message(c, &m, me, rx->now_ms);
            if (st != COAPS_OK)
                return st;
        }
    }
    return COAPS_OK;
}

static void app_record(struct conn *c, uint8_t *pt, size_t len)
{
    if (c->state != COAPS_DTLS_ESTABLISHED || c->app_n >= CONN_APP_RECORDS || !c->app_base) {
        c->stats.records_dropped++;
        return;
    }
    c->app[c->app_n].off = (uint16_t)(pt - c->app_base);
    c->app[c->app_n].len = (uint16_t)len;
    c->app_n++;
}

/* During the handshake epoch-1 records are read only once their keys exist
 * and the peer's ChangeCipherSpec has come: a Finished without a CCS before
 * it must not complete the handshake (RFC 5246 7.4.9), yet in DTLS the CCS
 * may be lost or overtaken (RFC 6347 4.1), so such records wait. */
static bool epoch1_readable(const struct conn *c)
{
    return c->read_keys && (!c->hs || c->hs->ccs_copies > 0);
}

/* States in which the peer's ChangeCipherSpec belongs: the server's after
 * its flight 4 (the CCS may overtake the ClientKeyExchange or
 * CertificateVerify it follows, RFC 6347 4.1), the client's after its
 * flight 5. */
static const uint8_t ccs_states[] = {
    HS_S_WAIT_CKE, HS_S_WAIT_CKE_AFTER_CERT, HS_S_WAIT_CV_OR_FINISHED, HS_S_WAIT_FINISHED,
    HS_C_WAIT_FINISHED, HS_S_WAIT_FINISHED_ABBR, HS_C_WAIT_FINISHED_ABBR,
};

static bool ccs_expected(const struct conn_hs *hs)
{
    for (size_t i = 0; i < COAPS_ARRAY_LEN(ccs_states); i++)
        if (hs->state == ccs_states[i])
            return true;
    return false;
}

/* The peer's CCS (RFC 6347 4.1: its epoch-0 record is only checked; the
 * epoch of the records after it tells the rest). Each one announces a
 * transmission of the peer's flight. Out of place it is dropped: a forged
 * one must not end the handshake. */
static void ccs_record(struct conn *c, const uint8_t *body, size_t len)
{
    struct conn_hs *hs = c->hs;
    if (c->state != COAPS_DTLS_HANDSHAKING) {
        /* established: a repeat of the peer's flight (RFC 6347 4.2.4) */
        if (dtls_ccs_parse(body, len) != COAPS_OK)
            c->stats.records_dropped++;
        return;
    }
    if (!ccs_expected(hs) || dtls_ccs_parse(body, len) != COAPS_OK) {
        c->stats.records_dropped++;
        return;
    }
    if (hs->ccs_copies < UINT8_MAX)
        hs->ccs_copies++;
}

/* Hold an epoch-1 handshake record (the peer's Finished) that came before
 * it could be read (epoch1_readable; RFC 6347 4.1: next-epoch records MAY
 * be buffered); anything else of the next epoch is dropped. */
static void keep_early(struct conn *c, uint8_t type, const uint8_t *rec, size_t len)
{
    struct conn_hs *hs = c->hs;
    if (c->state != COAPS_DTLS_HANDSHAKING || type != DTLS_CT_HANDSHAKE ||
        hs->early_n >= CONN_EARLY_RECORDS ||
        len > CONN_EARLY_RECORD_BYTES) {
        c->stats.records_dropped++;
        return;
    }
    memcpy(hs->early[hs->early_n], rec, len);
    hs->early_len[hs->early_n++] = (uint16_t)len;
}

/* Wrong PSK or forgery? One record cannot tell: under another key the
 * peer's Finished fails to open exactly as a forged record does. What
 * tells them apart is repetition tied to the peer's flight. An honest peer
 * sends ChangeCipherSpec and Finished in every transmission of its flight
 * (RFC 6347 4.2.4); with another PSK the Finished of each transmission
 * fails, while a forger's record fails next to an honest Finished that
 * opens and completes the handshake. So a PSK mismatch is concluded when
 * epoch-1 records failed in two transmissions, told apart by the CCS that
 * opens each (records are read only after one): the first flight's and its
 * retransmission's, one retransmission timeout later (RFC 6347 4.2.4.1).
 * Forged epoch-1 records alone never get there; it takes forged epoch-0
 * records as well (a CCS), with which a DTLS 1.2 handshake can be ended
 * anyway (e.g. a ClientKeyExchange naming an unknown identity). */
static bool psk_mismatch(struct conn_hs *hs)
{
    if (hs->fail_copy != hs->ccs_copies) {
        hs->fail_copy = hs->ccs_copies;
        if (hs->failed_copies < UINT8_MAX)
            hs->failed_copies++;
    }
    return hs->failed_copies >= 2;
}

/* An epoch-1 record that did not open (RFC 6347 4.1.2.7: dropped silently,
 * counted). It ends the connection only at the AEAD's limit of failures
 * under one key (RFC 9147 4.5.3, no alert: the datagrams may be spoofed),
 * or, during the handshake, on a PSK mismatch (psk_mismatch), with
 * bad_record_mac (RFC 5246 7.2.2). */
static coaps_status open_failed(struct conn *c, uint8_t type, coaps_status st)
{
    c->stats.records_dropped++;
    if (st != COAPS_E_AUTH)
        return COAPS_OK;
    if (c->stats.auth_failures >= c->stats.auth_fail_limit)
        return conn_fail(c, COAPS_E_AUTH_LIMIT, -1);
    /* (a tls12_cid record hides its type: during the handshake it is the
     * peer's Finished) */
    if (c->state == COAPS_DTLS_HANDSHAKING && (type == DTLS_CT_HANDSHAKE ||
                                               type == DTLS_CT_TLS12_CID) &&
        psk_mismatch(c->hs))
        return conn_fail(c, COAPS_E_AUTH, DTLS_ALERT_BAD_RECORD_MAC);
    return COAPS_OK;
}

static coaps_status process_record(struct conn *c, uint8_t *dgram, size_t dgram_len,
                                   const struct dtls_record *rec, struct rx *rx)
{
    /* Plaintext views into the mutable datagram (records of epoch 0 are
     * not protected, so their fragment is the plaintext). */
    uint8_t *body = dgram + rec->offset + rec->header_len;
    size_t len = rec->fragment_len;
    rx->rec_seq = rec->seq;
    /* RFC 6347 4.1: records of other versions are dropped; the first
     * flight may use 1.0 in the record layer. */
    if (rec->version != DTLS_VERSION_1_2 &&
        !(rec->epoch == 0 && rec->version == DTLS_VERSION_1_0)) {
        c->stats.records_dropped++;
        return COAPS_OK;
    }
    if (rec->epoch == 0) {
        switch (rec->type) {
        case DTLS_CT_HANDSHAKE:
            return handshake_record(c, body, len, 0, rx);
        case DTLS_CT_ALERT:
            /* Unprotected alerts count only during the handshake (the peer
             * may fail before it has keys, e.g. unknown_psk_identity), and
             * only until the peer's CCS has switched what we read to epoch
             * 1: after it epoch 0 is the earlier epoch, whose records are
             * discarded (RFC 6347 4.1), and one forged datagram must not
             * end a handshake its peer has keyed. */
            if (c->state == COAPS_DTLS_HANDSHAKING && !epoch1_readable(c))
                return conn_alert_received(c, body, len);
            break;
        case DTLS_CT_CHANGE_CIPHER_SPEC:
            ccs_record(c, body, len);
            return COAPS_OK;
        default:
            break;
        }
        c->stats.records_dropped++;
        return COAPS_OK;
    }
    if (rec->epoch != 1) {
        c->stats.records_dropped++;
        return COAPS_OK;
    }
    if (!epoch1_readable(c)) {
        keep_early(c, rec->type, rec->header, rec->header_len + len);
        return COAPS_OK;
    }
    uint8_t *pt, type;
    size_t pt_len;
    coaps_status st = conn_open_record(c, rec, dgram, dgram_len, &pt, &pt_len, &type);
    if (st != COAPS_OK)
        return open_failed(c, rec->type, st);
    /* A lingering server (conn_hs_established): the client's first record
     * of the session shows our final flight arrived. */
    if (CONN_TICKETS && c->state == COAPS_DTLS_ESTABLISHED && c->hs && type != DTLS_CT_HANDSHAKE)
        conn_hs_release(c);
    switch (type) {
    case DTLS_CT_HANDSHAKE:
        return handshake_record(c, pt, pt_len, 1, rx);
    case DTLS_CT_ALERT:
        return conn_alert_received(c, pt, pt_len);
    case DTLS_CT_APPLICATION_DATA:
        app_record(c, pt, pt_len);
        return COAPS_OK;
    default:
        c->stats.records_dropped++;
        return COAPS_OK;
    }
}

/* Split a datagram into records (RFC 6347 4.1: several records may share
 * one datagram; a record never spans two). */
static coaps_status process_datagram(struct conn *c, uint8_t *dgram, size_t len, struct rx *rx)
{
    struct wire_rd r = wire_rd_init(dgram, len);
    while (wire_rd_left(&r) > 0 && c->state <= COAPS_DTLS_ESTABLISHED) {
        struct dtls_record rec;
        if (dtls_record_next_cid(&r, &rec, conn_cid_rx_len(c)) != COAPS_OK) {
            c->stats.records_dropped++;
            break; /* the rest of the datagram cannot be framed */
        }
        TRY(process_record(c, dgram, len, &rec, rx));
    }
    return COAPS_OK;
}
/* Records held by keep_early, once they can be read. */
static coaps_status drain_early(struct conn *c, struct rx *rx)
{
    while (c->hs && epoch1_readable(c) && c->hs->early_n > 0) {
        uint8_t rec[CONN_EARLY_RECORD_BYTES];
        struct conn_hs *hs = c->hs;
        size_t len = hs->early_len[0];
        memcpy(rec, hs->early[0], len);
        hs->early_n--;
        memmove(hs->early[0], hs->early[1], sizeof(hs->early[0]) * hs->early_n);
        memmove(hs->early_len, hs->early_len + 1, sizeof(hs->early_len[0]) * hs->early_n);
        TRY(process_datagram(c, rec, len, rx));
    }
    return COAPS_OK;
}

static coaps_status end_status(const struct conn *c)
{
    switch (c->state) {
    case COAPS_DTLS_CLOSED: return COAPS_E_CLOSED;
    case COAPS_DTLS_FAILED: return c->err.status;
    default: return COAPS_OK;
    }
}

coaps_status coaps_dtls_input(coaps_dtls_conn *conn, uint8_t *dgram, size_t len, uint64_t now_ms)
{
    struct conn *c = conn_of(conn);
    ENSURE(dgram || len == 0, COAPS_E_INVALID);
    c->app_n = c->app_next = 0;
    c->app_base = dgram;
    c->rx_newest = false;
    if (c->state > COAPS_DTLS_ESTABLISHED)
        return end_status(c);
    struct rx rx = {now_ms, 0, false};
    coaps_status st = process_datagram(c, dgram, len, &rx);
    if (st == COAPS_OK)
        st = drain_early(c, &rx);
    if (rx.resend && c->state <= COAPS_DTLS_ESTABLISHED) {
        /* RFC 6347 4.2.4: only a repeat of the peer's previous flight
         * means ours was lost; once part of its next flight came in, a
         * repeat is that flight being resent (resending ours then would
         * make the two ends echo each other without end). */
        if (c->hs && !c->hs->fl.tx_pending && c->hs->fl.n > 0 && !c->hs->peer_progress &&
            conn_timer_repeat_due(c, now_ms))
            conn_timer_repeat(c, now_ms);
        else if (!c->hs && c->retain)
            c->resend_retained = true;
    }
    (void)st;
    return end_status(c);
}

/* ---- output ---------------------------------------------------------------- */

static coaps_status alert_output(struct conn *c, uint8_t *buf, size_t cap, size_t *len)
{
    uint8_t body[2];
    struct wire_wr b = wire_wr_init(body, sizeof(body));
    struct dtls_alert a = {c->alert_level, c->alert_desc};
    TRY(dtls_alert_write(&b, &a));
    struct wire_wr w = wire_wr_init(buf, cap);
    uint16_t epoch = c->write_keys ? c->write_epoch : 0;
    c->alert_pending = false;
    TRY(conn_write_record(c, &w, DTLS_CT_ALERT, epoch, body, b.off));
    *len = w.off;
    return COAPS_OK;
}

coaps_status coaps_dtls_output(coaps_dtls_conn *conn, uint8_t *buf, size_t cap, size_t *len,
                               uint64_t now_ms)
{
    (void)now_ms;
    struct conn *c = conn_of(conn);
    ENSURE(buf && len, COAPS_E_INVALID);
    *len = 0;
    if (c->alert_pending)
        return alert_output(c, buf, cap, len);
    if (c->state > COAPS_DTLS_ESTABLISHED)
        return COAPS_E_AGAIN;
    if (c->hs) {
        TRY(conn_flight_output(c, buf, cap, len));
        if (*len)
            return COAPS_OK;
    }
    if (c->resend_retained) {
        c->resend_retained = false;
        TRY(conn_retained_output(c, buf, cap, len));
        return COAPS_OK;
    }
    return COAPS_E_AGAIN;
}

/* When the handshake gives up; for a lingering server, when it stops
 * waiting to resend its final flight (the client's own limit). */
static uint64_t give_up_ms(const struct conn *c)
{
    uint64_t limit = c->cfg->handshake_timeout_ms ? c->cfg->handshake_timeout_ms
                                                  : COAPS_DTLS_HANDSHAKE_TIMEOUT_MS;
    return c->hs->started_ms + limit;
}

uint64_t coaps_dtls_next_deadline(const coaps_dtls_conn *conn)
{
    const struct conn *c = conn_of_const(conn);
    if (!c->hs || c->state > COAPS_DTLS_ESTABLISHED)
        return UINT64_MAX;
    uint64_t give_up = give_up_ms(c);
    if (CONN_TICKETS && c->state == COAPS_DTLS_ESTABLISHED)
        return give_up;
    return c->hs->deadline_ms < give_up ? c->hs->deadline_ms : give_up;
}

coaps_status coaps_dtls_tick(coaps_dtls_conn *conn, uint64_t now_ms)
{
    struct conn *c = conn_of(conn);
    if (c->state == COAPS_DTLS_HANDSHAKING)
        TRY(conn_timer_tick(c, now_ms));
    else if (CONN_TICKETS && c->state == COAPS_DTLS_ESTABLISHED && c->hs &&
             now_ms >= give_up_ms(c))
        conn_hs_release(c);
    return end_status(c);
}

void coaps_dtls_release_hs(coaps_dtls_conn *conn)
{
    struct conn *c = conn_of(conn);
    if (c->state == COAPS_DTLS_ESTABLISHED)
        conn_hs_release(c);
}

/* ---- application data --------------------------------------------------- */

coaps_status coaps_dtls_read(coaps_dtls_conn *conn, const uint8_t **data, size_t *len)
{
    struct conn *c = conn_of(conn);
    if (c->app_next >= c->app_n)
        return COAPS_E_AGAIN;
    *data = c->app_base + c->app[c->app_next].off;
    *len = c->app[c->app_next].len;
    c->app_next++;
    return COAPS_OK;
}

size_t coaps_dtls_max_plaintext(const coaps_dtls_conn *conn)
{
    const struct conn *c = conn_of_const(conn);
    if (c->state != COAPS_DTLS_ESTABLISHED)
        return 0;
    size_t ovh = conn_record_overhead(c, 1);
    return c->mtu > ovh ? c->mtu - ovh : 0;
}

coaps_status coaps_dtls_write(coaps_dtls_conn *conn, const uint8_t *data, size_t len,
                              uint8_t *out, size_t cap, size_t *out_len)
{
    struct conn *c = conn_of(conn);
    ENSURE(out && out_len && (data || len == 0), COAPS_E_INVALID);
    ENSURE(c->state == COAPS_DTLS_ESTABLISHED, COAPS_E_STATE);
    struct wire_wr w = wire_wr_init(out, cap);
    TRY(conn_write_record(c, &w, DTLS_CT_APPLICATION_DATA, 1, data, len));
    *out_len = w.off;
    return COAPS_OK;
}

size_t coaps_dtls_write_headroom(const coaps_dtls_conn *conn)
{
    const struct conn *c = conn_of_const(conn);
    if (c->state != COAPS_DTLS_ESTABLISHED)
        return 0;
    const uint8_t *cid;
    return dtls_record_payload_offset(&c->wr) + conn_cid_tx(c, &cid);
}

coaps_status coaps_dtls_close(coaps_dtls_conn *conn)
{
    struct conn *c = conn_of(conn);
    if (c->state > COAPS_DTLS_ESTABLISHED)
        return COAPS_OK;
    conn_queue_alert(c, DTLS_ALERT_WARNING, DTLS_ALERT_CLOSE_NOTIFY);
    c->state = COAPS_DTLS_CLOSED;
    c->err.status = COAPS_E_CLOSED;
    c->err.alert = DTLS_ALERT_CLOSE_NOTIFY;
    c->err.alert_sent = true;
    c->retain = false;
    conn_hs_release(c);
    return COAPS_OK;
}

/* ---- queries -------------------------------------------------------------- */

enum coaps_dtls_state coaps_dtls_state(const coaps_dtls_conn *conn)
{
    return (enum coaps_dtls_state)conn_of_const(conn)->state;
}

coaps_dtls_error coaps_dtls_error_reason(const coaps_dtls_conn *conn)
{
    return conn_of_const(conn)->err;
}

bool coaps_dtls_hs_progressed(const coaps_dtls_conn *conn)
{
    const struct conn *c = conn_of_const(conn);
    if (!c->hs)
        return true;
    switch (c->hs->state) {
    case HS_S_WAIT_CH:
    case HS_S_WAIT_CKE:
    case HS_C_WAIT_HVR_OR_SH:
    case HS_C_WAIT_SH:
        return false;
    default:
        return true;
    }
}

bool coaps_dtls_resumed(const coaps_dtls_conn *conn)
{
    return conn_of_const(conn)->resumed;
}

bool coaps_dtls_hs_released(const coaps_dtls_conn *conn)
{
    return conn_of_const(conn)->hs == NULL;
}

uint16_t coaps_dtls_suite(const coaps_dtls_conn *conn)
{
    const struct conn *c = conn_of_const(conn);
    return c->suite ? c->suite->id : 0;
}

coaps_dtls_stats coaps_dtls_get_stats(const coaps_dtls_conn *conn)
{
    return conn_of_const(conn)->stats;
}

coaps_status coaps_dtls_key_digest(const coaps_dtls_conn *conn, uint8_t out[32])
{
    const struct conn *c = conn_of_const(conn);
    ENSURE(c->write_keys || c->state == COAPS_DTLS_ESTABLISHED, COAPS_E_STATE);
    memcpy(out, c->key_digest, 32);
    return COAPS_OK;
}

bool coaps_dtls_cool(coaps_dtls_conn *conn)
{
    struct conn *c = conn_of(conn);
    /* only epoch-1 state: a handshake still running keeps its contexts */
    if (c->state != COAPS_DTLS_ESTABLISHED || c->hs != NULL)
        return false;
    bool rd = c->read_keys && crypto_aead_cool(&c->rd.aead);
    bool wr = c->write_keys && crypto_aead_cool(&c->wr.aead);
    return rd || wr;
}

/* ---- Connection ID (cid.c) ------------------------------------------------ */

size_t coaps_dtls_own_cid(const coaps_dtls_conn *conn, const uint8_t **cid)
{
    return conn_cid_own(conn_of_const(conn), cid);
}

coaps_status coaps_dtls_set_own_cid(coaps_dtls_conn *conn, const uint8_t *cid, size_t len)
{
    return conn_cid_set_own(conn_of(conn), cid, len);
}

bool coaps_dtls_cid_negotiated(const coaps_dtls_conn *conn)
{
    return conn_cid_negotiated(conn_of_const(conn));
}

bool coaps_dtls_input_newest(const coaps_dtls_conn *conn)
{
    return conn_of_const(conn)->rx_newest;
}

bool coaps_dtls_datagram_cid(const uint8_t *dgram, size_t len, size_t cid_len,
                             const uint8_t **cid)
{
    if (!dgram || cid_len == 0 || cid_len > COAPS_DTLS_CID_MAX)
        return false;
    struct wire_rd r = wire_rd_init(dgram, len);
    struct dtls_record rec;
    if (dtls_record_next_cid(&r, &rec, cid_len) != COAPS_OK || rec.type != DTLS_CT_TLS12_CID)
        return false;
    *cid = rec.cid;
    return true;
}
