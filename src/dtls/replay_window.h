/*
 * replay_window.h - DTLS anti-replay sliding window (RFC 6347 4.1.2.6,
 * the algorithm of RFC 4303 3.4.3).
 *
 * One window per read epoch, owned by the caller (embedded in the session).
 * The window remembers the highest sequence number that passed
 * authentication ("top") and which of the DTLS_REPLAY_WINDOW_BITS - 1
 * numbers below it were seen. Usage per received record:
 *
 *     if (dtls_replay_check(&w, rec.seq) != COAPS_OK) drop;   // before decrypting
 *     if (dtls_record_unprotect(...) != COAPS_OK) drop;        // authenticate
 *     dtls_replay_mark(&w, rec.seq);                           // only now
 *
 * Marking only after authentication keeps forged records from moving the
 * window (RFC 6347 4.1.2.6: "the receive window is updated only if the MAC
 * verification succeeds"). No allocation, no failure paths beyond the
 * returned status, constant time per call.
 */
#ifndef COAPS_DTLS_REPLAY_WINDOW_H
#define COAPS_DTLS_REPLAY_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#include "coaps/status.h"

/* RFC 6347 4.1.2.6: "A window size of 64 is preferred and SHOULD be
 * employed as the default." One uint64_t bitmap holds it. */
#define DTLS_REPLAY_WINDOW_BITS 64u

struct dtls_replay_window {
    uint64_t top;    /* highest sequence number marked (valid if any) */
    uint64_t bitmap; /* bit i set: sequence number top - i was marked */
    bool any;        /* false until the first mark */
};

/* Start empty (a new epoch: sequence numbers restart at 0, RFC 6347 4.1). */
void dtls_replay_init(struct dtls_replay_window *w);

/*
 * May a record with this 48-bit sequence number be accepted?
 * COAPS_OK: newer than anything seen, or inside the window and not seen.
 * COAPS_E_REPLAY: already marked, or older than the window (too old to
 *   tell: RFC 6347 4.1.2.6 says reject).
 * COAPS_E_INVALID: seq does not fit in 48 bits (cannot come off the wire).
 * Does not change the window.
 */
coaps_status dtls_replay_check(const struct dtls_replay_window *w, uint64_t seq);

/* Record seq as received (call after the record authenticated and after a
 * successful dtls_replay_check). Slides the window forward when seq is
 * newer than top; marking an old or duplicate number is a harmless no-op. */
void dtls_replay_mark(struct dtls_replay_window *w, uint64_t seq);

#endif /* COAPS_DTLS_REPLAY_WINDOW_H */
