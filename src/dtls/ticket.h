/*
 * ticket.h - session tickets (RFC 5077) as a coaps server makes them: the
 * key ring of coaps_dtls_ticket_keys, sealing a session into a ticket and
 * opening one.
 *
 * A ticket is ours alone to read (RFC 5077 4 only recommends a format):
 *
 *   key_name  u32   the period whose key sealed it (unix time / period_s)
 *   nonce     12    random (AES-GCM: 2^32 tickets per key stay far below
 *                   the random-nonce collision bound of NIST SP 800-38D 8.3)
 *   sealed    AES-256-GCM of the state below, additional data = key_name
 *   tag       16
 *
 *   state: format u8 (1), cipher suite u16, flags u8 (bit 0: extended
 *   master secret), master secret (48)
 *
 * 84 bytes in all. The period's key is HMAC-SHA256(secret, "coaps ticket
 * key" || key_name), so whoever holds the secret derives the same keys:
 * workers and cluster nodes share tickets without sharing state. A ticket
 * opens while its period is the current or the previous one; anything
 * else (another period, a wrong tag, a bad length or format) is "no
 * ticket" and leads to a full handshake.
 */
#ifndef COAPS_DTLS_TICKET_H
#define COAPS_DTLS_TICKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coaps/dtls.h"
#include "crypto/crypto.h"

#define DTLS_TICKET_STATE_LEN (1 + 2 + 1 + COAPS_DTLS_MASTER_SECRET_LEN)
#define DTLS_TICKET_LEN (4 + CRYPTO_AEAD_NONCE_LEN + DTLS_TICKET_STATE_LEN + 16)

/* The key ring inside coaps_dtls_ticket_keys. */
struct dtls_ticket_keys {
    uint8_t secret[COAPS_DTLS_TICKET_SECRET_LEN];
    uint32_t period_s;
    uint32_t period[2];   /* the period each slot's key belongs to */
    bool live[2];
    uint8_t cur;          /* slot of the current period; the other: previous */
    struct crypto_aead aead[2];
};

/* What a ticket holds. */
struct dtls_ticket_state {
    uint16_t suite;
    bool ems;
    uint8_t ms[COAPS_DTLS_MASTER_SECRET_LEN];
};

/* Seal st with the current key and a caller-drawn random nonce into
 * out (DTLS_TICKET_LEN bytes). */
coaps_status dtls_ticket_seal(coaps_dtls_ticket_keys *keys, const struct dtls_ticket_state *st,
                              const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN],
                              uint8_t out[DTLS_TICKET_LEN]);
/* Open a ticket: COAPS_OK and *st (wipe it after use), *current says
 * whether the current period's key sealed it (else the client should get
 * a fresh ticket); COAPS_E_NOT_FOUND for anything not ours or too old. */
coaps_status dtls_ticket_open(coaps_dtls_ticket_keys *keys, const uint8_t *ticket, size_t len,
                              struct dtls_ticket_state *st, bool *current);
/* The lifetime hint of our tickets (RFC 5077 3.3): one period, the least
 * a ticket is accepted for. */
uint32_t dtls_ticket_lifetime_s(const coaps_dtls_ticket_keys *keys);

#endif /* COAPS_DTLS_TICKET_H */
