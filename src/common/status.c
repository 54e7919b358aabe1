/* status.c - names for coaps_status values (include/coaps/status.h). */
#include "coaps/status.h"

const char *coaps_status_str(coaps_status st)
{
    switch (st) {
    case COAPS_OK: return "ok";
    case COAPS_E_TRUNCATED: return "truncated";
    case COAPS_E_NOSPACE: return "no space";
    case COAPS_E_MALFORMED: return "malformed";
    case COAPS_E_UNSUPPORTED: return "unsupported";
    case COAPS_E_INVALID: return "invalid argument";
    case COAPS_E_FULL: return "full";
    case COAPS_E_NOT_FOUND: return "not found";
    case COAPS_E_CRYPTO: return "crypto failure";
    case COAPS_E_AUTH: return "authentication failed";
    case COAPS_E_REPLAY: return "replayed";
    case COAPS_E_STATE: return "wrong state";
    case COAPS_E_TIMEOUT: return "timeout";
    case COAPS_E_CLOSED: return "closed";
    case COAPS_E_ALERT: return "fatal alert";
    case COAPS_E_IO: return "I/O error";
    case COAPS_E_AGAIN: return "again";
    case COAPS_E_BAD_OPTION: return "bad option";
    case COAPS_E_DUPLICATE: return "duplicate";
    case COAPS_E_NOMEM: return "out of memory";
    case COAPS_E_CONFIG: return "bad configuration";
    case COAPS_E_VERIFY: return "verification failed";
    case COAPS_E_PSK_IDENTITY: return "unknown PSK identity";
    case COAPS_E_COOKIE: return "bad cookie";
    case COAPS_E_AUTH_LIMIT: return "too many records failed authentication";
    }
    return "unknown status";
}
