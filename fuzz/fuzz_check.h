/*
 * fuzz_check.h - CHECK(c) for the fuzzers' own invariants: abort() when c
 * is false, which libFuzzer reports as a crash with the input that did it.
 */
#ifndef COAPS_FUZZ_CHECK_H
#define COAPS_FUZZ_CHECK_H

#include <stdlib.h>

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

#endif /* COAPS_FUZZ_CHECK_H */
