/*
 * coaps/session.h - a DTLS session kept in a file between runs, so that a
 * client that comes back (a device after sleep, a command run again)
 * resumes it with an abbreviated handshake (RFC 5246 7.3: one round trip,
 * no key exchange) instead of a full one. The session comes from
 * coaps_dtls_config.session_store and goes back in through
 * coaps_dtls_config.resume (coaps/dtls.h); coaps_client_config.session_file
 * (coaps/client.h) does both for the client runtime.
 *
 * The file holds the session's master secret: it is created with mode
 * 0600, written whole or not at all (a temporary file, fsync, rename), and
 * checked when read (magic, layout version, lengths, a SHA-256 over the
 * contents): a damaged file is refused, never half used.
 */
#ifndef COAPS_SESSION_H
#define COAPS_SESSION_H

#include "coaps/export.h"

#include <stddef.h>

#include "coaps/dtls.h"
#include "coaps/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Write s to path (replacing it atomically). COAPS_OK, or COAPS_E_IO with a
 * one-line reason in err ("session file F: ..."). */
COAPS_API coaps_status coaps_session_save(const char *path, const coaps_dtls_session *s,
                                          char *err, size_t err_cap);

/* Read path into *out. COAPS_E_NOT_FOUND when it does not exist (nothing
 * to resume: no message), COAPS_E_MALFORMED when it is not a session file
 * of ours or is damaged, COAPS_E_IO when it cannot be read; err names the
 * file and the problem. *out is wiped on failure. */
COAPS_API coaps_status coaps_session_load(const char *path, coaps_dtls_session *out, char *err,
                                          size_t err_cap);

#ifdef __cplusplus
}
#endif
#endif /* COAPS_SESSION_H */
