/*
 * fuzz_ticket.h - the session-ticket keys (RFC 5077) the DTLS harnesses'
 * servers use: one fixed secret and a fixed wall-clock time, so that a
 * recorded ticket (a seed) opens again on every run.
 */
#ifndef COAPS_FUZZ_TICKET_H
#define COAPS_FUZZ_TICKET_H

#include "coaps/dtls.h"
#include "fuzz_check.h"

#define FUZZ_TICKET_UNIX_S 1796557600ull

static inline coaps_dtls_ticket_keys *fuzz_ticket_keys(void)
{
    static coaps_dtls_ticket_keys keys;
    static bool ready;
    if (!ready) {
        static const uint8_t secret[COAPS_DTLS_TICKET_SECRET_LEN] = "fuzz ticket secret, 32 bytes..";
        CHECK(coaps_dtls_ticket_keys_init(&keys, secret, sizeof secret, 0, FUZZ_TICKET_UNIX_S) ==
              COAPS_OK);
        ready = true;
    }
    return &keys;
}

#endif /* COAPS_FUZZ_TICKET_H */
