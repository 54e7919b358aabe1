/*
 * coaps/status.h - the one error idiom used everywhere in coaps.
 *
 * Every fallible function returns a coaps_status. COAPS_OK is zero, every
 * failure is a distinct negative value, so `if (st < 0)` and the TRY() macro
 * of the internal headers both work. coaps_status_str() gives a short,
 * stable, human-readable name for logs and one-line error messages.
 */
#ifndef COAPS_STATUS_H
#define COAPS_STATUS_H

#include "coaps/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum coaps_status {
    COAPS_OK = 0,
    COAPS_E_TRUNCATED = -1,   /* input ends before a field it announces */
    COAPS_E_NOSPACE = -2,     /* output buffer too small */
    COAPS_E_MALFORMED = -3,   /* input breaks the wire format */
    COAPS_E_UNSUPPORTED = -4, /* well-formed but not something we do */
    COAPS_E_INVALID = -5,     /* bad argument from the caller */
    COAPS_E_FULL = -6,        /* a bounded table or queue is full */
    COAPS_E_NOT_FOUND = -7,   /* lookup missed */
    COAPS_E_CRYPTO = -8,      /* a crypto primitive failed */
    COAPS_E_AUTH = -9,        /* authentication failed (AEAD tag, MAC, Finished) */
    COAPS_E_REPLAY = -10,     /* record already seen or too old */
    COAPS_E_STATE = -11,      /* call or message not valid in this state */
    COAPS_E_TIMEOUT = -12,    /* peer did not answer within the limits */
    COAPS_E_CLOSED = -13,     /* connection closed (close_notify or fatal alert) */
    COAPS_E_ALERT = -14,      /* peer sent a fatal alert */
    COAPS_E_IO = -15,         /* operating system I/O error (edge only) */
    COAPS_E_AGAIN = -16,      /* nothing to do now; try later */
    COAPS_E_BAD_OPTION = -17, /* CoAP: unrecognised critical option */
    COAPS_E_DUPLICATE = -18,  /* duplicate message, already handled */
    COAPS_E_NOMEM = -19,      /* allocation failed (set-up paths only) */
    COAPS_E_CONFIG = -20,     /* invalid configuration */
    COAPS_E_VERIFY = -21,     /* peer certificate or key not trusted */
    COAPS_E_PSK_IDENTITY = -22, /* unknown PSK identity */
    COAPS_E_COOKIE = -23,     /* missing or invalid DTLS cookie */
    COAPS_E_AUTH_LIMIT = -24, /* too many records failed authentication under
                               * one key: the AEAD's limit (RFC 9147 4.5.3) */
} coaps_status;

/* Short name of a status, e.g. "truncated". Never NULL. */
COAPS_API const char *coaps_status_str(coaps_status st);

#ifdef __cplusplus
}
#endif
#endif /* COAPS_STATUS_H */
