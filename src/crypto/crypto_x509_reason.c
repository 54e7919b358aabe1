/*
 * crypto_x509_reason.c - why a peer's certificate or raw public key was
 * refused, as a TLS alert and a phrase: the same on every backend.
 */
#include <stdio.h>

#include "common/try.h"
#include "crypto/crypto.h"

/* TLS AlertDescription values (RFC 5246 7.2). */
enum {
    ALERT_HANDSHAKE_FAILURE = 40,
    ALERT_BAD_CERTIFICATE = 42,
    ALERT_UNSUPPORTED_CERTIFICATE = 43,
    ALERT_CERTIFICATE_EXPIRED = 45,
    ALERT_CERTIFICATE_UNKNOWN = 46,
    ALERT_UNKNOWN_CA = 48,
    ALERT_DECRYPT_ERROR = 51,
    ALERT_INTERNAL_ERROR = 80,
};

/* Indexed by enum crypto_x509_reason; the choice of alert is argued in
 * crypto.h against RFC 5246 7.2.2. */
static const struct {
    uint8_t alert;
    const char *str;
} reasons[] = {
    [CRYPTO_X509_OK] = {0, "ok"},
    [CRYPTO_X509_NO_CERTIFICATE] = {ALERT_HANDSHAKE_FAILURE, "no certificate"},
    [CRYPTO_X509_MALFORMED] = {ALERT_BAD_CERTIFICATE, "malformed certificate"},
    [CRYPTO_X509_BAD_CERT_SIGNATURE] = {ALERT_BAD_CERTIFICATE,
                                        "bad signature in certificate chain"},
    [CRYPTO_X509_NAME_MISMATCH] = {ALERT_BAD_CERTIFICATE, "name mismatch"},
    [CRYPTO_X509_UNSUPPORTED] = {ALERT_UNSUPPORTED_CERTIFICATE,
                                 "certificate key or usage not acceptable"},
    [CRYPTO_X509_EXPIRED] = {ALERT_CERTIFICATE_EXPIRED, "certificate expired or not yet valid"},
    [CRYPTO_X509_UNKNOWN_CA] = {ALERT_UNKNOWN_CA, "unknown CA"},
    [CRYPTO_X509_RPK_UNKNOWN] = {ALERT_CERTIFICATE_UNKNOWN, "raw public key not trusted"},
    [CRYPTO_X509_INVALID_CHAIN] = {ALERT_BAD_CERTIFICATE, "invalid certificate chain"},
    [CRYPTO_X509_BAD_SIGNATURE] = {ALERT_DECRYPT_ERROR, "bad handshake signature"},
    [CRYPTO_X509_INTERNAL] = {ALERT_INTERNAL_ERROR, "internal error"},
};

uint8_t crypto_x509_reason_alert(enum crypto_x509_reason r)
{
    return (size_t)r < COAPS_ARRAY_LEN(reasons) ? reasons[r].alert : ALERT_INTERNAL_ERROR;
}

const char *crypto_x509_reason_str(enum crypto_x509_reason r)
{
    return (size_t)r < COAPS_ARRAY_LEN(reasons) ? reasons[r].str : "unknown reason";
}

const char *crypto_x509_reason_format(enum crypto_x509_reason r, const char *expected_name,
                                      char *buf, size_t cap)
{
    if (buf == NULL || cap == 0)
        return buf;
    if (r == CRYPTO_X509_NAME_MISMATCH && expected_name != NULL)
        (void)snprintf(buf, cap, "%s: expected %s", crypto_x509_reason_str(r), expected_name);
    else
        (void)snprintf(buf, cap, "%s", crypto_x509_reason_str(r));
    return buf;
}
