/*
 * alert.c - alerts (RFC 5246 7.2, RFC 6347 4.1.2.7) and the reason a
 * connection ended.
 */
#include <stdio.h>

#include "common/try.h"
#include "dtls/conn.h"

const char *coaps_dtls_alert_name(int alert)
{
    switch (alert) {
    case DTLS_ALERT_CLOSE_NOTIFY: return "close_notify";
    case DTLS_ALERT_UNEXPECTED_MESSAGE: return "unexpected_message";
    case DTLS_ALERT_BAD_RECORD_MAC: return "bad_record_mac";
    case DTLS_ALERT_RECORD_OVERFLOW: return "record_overflow";
    case DTLS_ALERT_DECOMPRESSION_FAILURE: return "decompression_failure";
    case DTLS_ALERT_HANDSHAKE_FAILURE: return "handshake_failure";
    case DTLS_ALERT_BAD_CERTIFICATE: return "bad_certificate";
    case DTLS_ALERT_UNSUPPORTED_CERTIFICATE: return "unsupported_certificate";
    case DTLS_ALERT_CERTIFICATE_REVOKED: return "certificate_revoked";
    case DTLS_ALERT_CERTIFICATE_EXPIRED: return "certificate_expired";
    case DTLS_ALERT_CERTIFICATE_UNKNOWN: return "certificate_unknown";
    case DTLS_ALERT_ILLEGAL_PARAMETER: return "illegal_parameter";
    case DTLS_ALERT_UNKNOWN_CA: return "unknown_ca";
    case DTLS_ALERT_ACCESS_DENIED: return "access_denied";
    case DTLS_ALERT_DECODE_ERROR: return "decode_error";
    case DTLS_ALERT_DECRYPT_ERROR: return "decrypt_error";
    case DTLS_ALERT_PROTOCOL_VERSION: return "protocol_version";
    case DTLS_ALERT_INSUFFICIENT_SECURITY: return "insufficient_security";
    case DTLS_ALERT_INTERNAL_ERROR: return "internal_error";
    case DTLS_ALERT_INAPPROPRIATE_FALLBACK: return "inappropriate_fallback";
    case DTLS_ALERT_USER_CANCELED: return "user_canceled";
    case DTLS_ALERT_NO_RENEGOTIATION: return "no_renegotiation";
    case DTLS_ALERT_UNSUPPORTED_EXTENSION: return "unsupported_extension";
    case DTLS_ALERT_UNRECOGNIZED_NAME: return "unrecognized_name";
    case DTLS_ALERT_UNKNOWN_PSK_IDENTITY: return "unknown_psk_identity";
    default: return "unknown_alert";
    }
}

void conn_queue_alert(struct conn *c, uint8_t level, uint8_t desc)
{
    c->alert_pending = true;
    c->alert_level = level;
    c->alert_desc = desc;
}

coaps_status conn_fail(struct conn *c, coaps_status st, int alert_desc)
{
    if (c->state == COAPS_DTLS_FAILED || c->state == COAPS_DTLS_CLOSED)
        return c->err.status;
    c->state = COAPS_DTLS_FAILED;
    c->err.status = st;
    c->err.alert = (int16_t)alert_desc;
    c->err.alert_sent = alert_desc >= 0;
    if (alert_desc >= 0)
        conn_queue_alert(c, DTLS_ALERT_FATAL, (uint8_t)alert_desc);
    conn_hs_release(c);
    c->retain = false;
    c->resend_retained = false;
    return st;
}

coaps_status conn_alert_received(struct conn *c, const uint8_t *body, size_t len)
{
    struct dtls_alert a;
    if (dtls_alert_parse(body, len, &a) != COAPS_OK) {
        c->stats.records_dropped++;
        return COAPS_OK;
    }
    if (a.description == DTLS_ALERT_CLOSE_NOTIFY) {
        /* RFC 5246 7.2.1: answer with our own close_notify. */
        if (c->state == COAPS_DTLS_ESTABLISHED || c->state == COAPS_DTLS_HANDSHAKING) {
            c->state = COAPS_DTLS_CLOSED;
            c->err.status = COAPS_E_CLOSED;
            c->err.alert = DTLS_ALERT_CLOSE_NOTIFY;
            c->err.alert_sent = false;
            conn_queue_alert(c, DTLS_ALERT_WARNING, DTLS_ALERT_CLOSE_NOTIFY);
            conn_hs_release(c);
            c->retain = false;
        }
        return COAPS_E_CLOSED;
    }
    if (a.level != DTLS_ALERT_FATAL)
        return COAPS_OK; /* warnings (e.g. no_renegotiation) change nothing */
    if (c->state == COAPS_DTLS_FAILED || c->state == COAPS_DTLS_CLOSED)
        return COAPS_OK;
    c->state = COAPS_DTLS_FAILED;
    c->err.status = COAPS_E_ALERT;
    c->err.alert = a.description;
    c->err.alert_sent = false;
    c->alert_pending = false; /* RFC 5246 7.2.2: no answer to a fatal alert */
    conn_hs_release(c);
    c->retain = false;
    return COAPS_E_ALERT;
}

const char *coaps_dtls_error_str(const coaps_dtls_conn *conn, char *buf, size_t cap)
{
    const struct conn *c = conn_of_const(conn);
    if (!buf || cap == 0)
        return "";
    int n;
    if (c->err.alert >= 0)
        n = snprintf(buf, cap, "%s, alert %s: %s", coaps_status_str(c->err.status),
                     c->err.alert_sent ? "sent" : "received", coaps_dtls_alert_name(c->err.alert));
    else
        n = snprintf(buf, cap, "%s", coaps_status_str(c->err.status));
    /* Why we refused the peer's certificate, key or signature. */
    if (c->x509_reason != CRYPTO_X509_OK && n >= 0 && (size_t)n + 3 < cap) {
        char why[CRYPTO_MSG_MAX];
        crypto_x509_reason_format((enum crypto_x509_reason)c->x509_reason, c->cfg->server_name,
                                  why, sizeof(why));
        snprintf(buf + n, cap - (size_t)n, " (%s)", why);
    }
    return buf;
}
