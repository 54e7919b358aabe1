/*
 * fuzz_rng.h - a deterministic coaps_dtls_config.random for the fuzzers:
 * xorshift64 from a seed, so one input always takes the same path (a
 * crash found is a crash replayed). Never a source of real randomness.
 */
#ifndef COAPS_FUZZ_RNG_H
#define COAPS_FUZZ_RNG_H

#include <stddef.h>
#include <stdint.h>

#include "coaps/status.h"

struct fuzz_rng {
    uint64_t s; /* must not be 0 */
};

static coaps_status fuzz_random(void *user, void *out, size_t len)
{
    struct fuzz_rng *r = user;
    uint8_t *p = out;
    for (size_t i = 0; i < len; i++) {
        r->s ^= r->s << 13;
        r->s ^= r->s >> 7;
        r->s ^= r->s << 17;
        p[i] = (uint8_t)(r->s >> 32);
    }
    return COAPS_OK;
}

#endif /* COAPS_FUZZ_RNG_H */
