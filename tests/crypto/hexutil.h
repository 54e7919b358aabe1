/*
 * hexutil.h - test helpers: decode published hex test vectors and compare
 * byte strings loudly (prints both sides on mismatch). Header-only so that
 * tests of several modules can include it as "crypto/hexutil.h".
 */
#ifndef COAPS_TEST_HEXUTIL_H
#define COAPS_TEST_HEXUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/hex.h"

/* Decode hex (spaces ignored) into out; returns the byte count, or (size_t)-1
 * on a bad digit, odd length or overflow. */
static inline size_t hex_decode(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (const char *p = hex; *p; p++) {
        if (*p == ' ' || *p == '\n')
            continue;
        int v = hex_digit(*p);
        if (v < 0)
            return (size_t)-1;
        if (hi < 0) {
            hi = v;
            continue;
        }
        if (n >= cap)
            return (size_t)-1;
        out[n++] = (uint8_t)(hi << 4 | v);
        hi = -1;
    }
    return hi < 0 ? n : (size_t)-1;
}

static inline void hex_print(const char *what, const uint8_t *p, size_t n)
{
    fprintf(stderr, "  %s (%zu):", what, n);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%s%02x", i % 32 ? "" : "\n    ", p[i]);
    fprintf(stderr, "\n");
}

/* 1 when equal; prints both byte strings otherwise. */
static inline int bytes_equal_loud(const uint8_t *got, size_t got_len, const uint8_t *want,
                                   size_t want_len)
{
    if (got_len == want_len && memcmp(got, want, want_len) == 0)
        return 1;
    hex_print("got ", got, got_len);
    hex_print("want", want, want_len);
    return 0;
}

#endif /* COAPS_TEST_HEXUTIL_H */
