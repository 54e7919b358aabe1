/*
 * dtls_vectors.h - test helper: read a captured datagram from
 * tests/dtls/vectors/ (real OpenSSL and GnuTLS peers). Header-only, after
 * <cmocka.h>; the directory comes from COAPS_SOURCE_DIR (ctest sets it).
 */
#ifndef COAPS_TEST_DTLS_VECTORS_H
#define COAPS_TEST_DTLS_VECTORS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Read tests/dtls/vectors/<name> (a whole datagram) into buf: fails the
 * test if it is missing, empty or does not fit. */
static inline size_t load_vector(const char *name, uint8_t *buf, size_t cap)
{
    const char *src = getenv("COAPS_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/dtls/vectors/%s", src ? src : ".", name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open vector %s (set COAPS_SOURCE_DIR)", path);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    assert_true(n > 0 && n < cap);
    return n;
}

#endif /* COAPS_TEST_DTLS_VECTORS_H */
