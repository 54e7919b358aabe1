/*
 * alloc_count.h - test helper: count the crypto library's allocations, so a
 * test can prove a path allocates nothing. Header-only (like hexutil.h),
 * included as "crypto/alloc_count.h"; call alloc_count_install() first
 * thing in main(), before anything touches the crypto library.
 *   OpenSSL: CRYPTO_set_mem_functions (every OPENSSL_malloc/realloc);
 *   PSA on Mbed TLS: mbedtls_platform_set_calloc_free (every mbedtls_calloc;
 *     Mbed TLS is built with MBEDTLS_PLATFORM_MEMORY, scripts/install-mbedtls).
 */
#ifndef COAPS_TEST_ALLOC_COUNT_H
#define COAPS_TEST_ALLOC_COUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#if defined(COAPS_CRYPTO_PSA)
#include <mbedtls/platform.h>
#else
#include <openssl/crypto.h>
#endif

static size_t n_allocs; /* the crypto library's allocations so far */

#if defined(COAPS_CRYPTO_PSA)

static inline void *count_calloc(size_t n, size_t size)
{
    n_allocs++;
    return calloc(n, size);
}

static inline bool alloc_count_install(void)
{
    return mbedtls_platform_set_calloc_free(count_calloc, free) == 0;
}

#else

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

#endif /* COAPS_CRYPTO_PSA */

#endif /* COAPS_TEST_ALLOC_COUNT_H */
