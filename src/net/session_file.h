/*
 * session_file.h - the bytes of a session file (coaps/session.h), apart
 * from the file: what coaps_session_save writes and coaps_session_load
 * reads back, here so that the parser can be fuzzed alone
 * (fuzz/fuzz_session_file.c).
 */
#ifndef COAPS_NET_SESSION_FILE_H
#define COAPS_NET_SESSION_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "coaps/dtls.h"

/* "CSES", layout version 2, suite, id_len, id[32], master secret[48],
 * ticket lifetime u32, ticket length u16, the ticket (0..
 * COAPS_DTLS_TICKET_MAX bytes), then SHA-256 of everything before it. */
#define NET_SESSION_FILE_FIXED \
    (4 + 2 + 2 + 1 + COAPS_DTLS_SESSION_ID_MAX + COAPS_DTLS_MASTER_SECRET_LEN + 4 + 2)
#define NET_SESSION_FILE_MAX (NET_SESSION_FILE_FIXED + COAPS_DTLS_TICKET_MAX + 32)

/* The file's bytes for s into out, *len of them. COAPS_E_INVALID for a
 * session with neither an ID nor a ticket. */
coaps_status net_session_encode(const coaps_dtls_session *s, uint8_t out[NET_SESSION_FILE_MAX],
                                size_t *len);
/* s from len bytes of a file: COAPS_OK, or COAPS_E_MALFORMED for anything
 * but a sound file of ours (length, digest, magic, version, lengths, a
 * suite we implement); *s is then unspecified. */
coaps_status net_session_decode(const uint8_t *in, size_t len, coaps_dtls_session *s);

#endif /* COAPS_NET_SESSION_FILE_H */
