/* replay_window.c - DTLS anti-replay window (RFC 6347 4.1.2.6). */
#include "dtls/replay_window.h"

#include "common/try.h"

/* Largest 48-bit sequence number (RFC 6347 4.1). */
#define REPLAY_SEQ_MAX 0xFFFFFFFFFFFFull

void dtls_replay_init(struct dtls_replay_window *w)
{
    w->top = 0;
    w->bitmap = 0;
    w->any = false;
}

coaps_status dtls_replay_check(const struct dtls_replay_window *w, uint64_t seq)
{
    ENSURE(seq <= REPLAY_SEQ_MAX, COAPS_E_INVALID);
    if (!w->any || seq > w->top)
        return COAPS_OK;
    uint64_t age = w->top - seq;
    if (age >= DTLS_REPLAY_WINDOW_BITS)
        return COAPS_E_REPLAY; /* left of the window */
    return (w->bitmap >> age) & 1u ? COAPS_E_REPLAY : COAPS_OK;
}

void dtls_replay_mark(struct dtls_replay_window *w, uint64_t seq)
{
    if (seq > REPLAY_SEQ_MAX)
        return;
    if (!w->any) {
        w->any = true;
        w->top = seq;
        w->bitmap = 1;
        return;
    }
    if (seq > w->top) {
        uint64_t shift = seq - w->top;
        /* shifting a uint64_t by >= 64 is undefined: a jump that far
         * forgets everything */
        w->bitmap = shift >= DTLS_REPLAY_WINDOW_BITS ? 0 : w->bitmap << shift;
        w->bitmap |= 1;
        w->top = seq;
        return;
    }
    uint64_t age = w->top - seq;
    if (age < DTLS_REPLAY_WINDOW_BITS)
        w->bitmap |= (uint64_t)1 << age;
}
