/*
 * alloc_count.h - test helper: count OpenSSL's allocations, so a test can
 * prove a path allocates nothing. Header-only (like hexutil.h), included
 * as "crypto/alloc_count.h"; call alloc_count_install() first thing in
 * main(), before anything touches OpenSSL.
 */
#ifndef COAPS_TEST_ALLOC_COUNT_H
#define COAPS_TEST_ALLOC_COUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#include <openssl/crypto.h>

static size_t n_allocs; /* OpenSSL allocations so far */

static inline void *count_malloc(size_t n, const char *file, int line)
{
    (void)file, (void)line;
    n_allocs++;
    return malloc(n);
}

static inline void *count_realloc(void *p, size_t n, const char *file, int line)
{
    (void)file, (void)line;
    n_allocs++;
    return realloc(p, n);
}

static inline void count_free(void *p, const char *file, int line)
{
    (void)file, (void)line;
    free(p);
}

static inline bool alloc_count_install(void)
{
    return CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free) == 1;
}

#endif /* COAPS_TEST_ALLOC_COUNT_H */
