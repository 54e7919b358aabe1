/*
 * pki_fixtures.h - test helpers for the PKI tests: find the fixture
 * directory (env COAPS_CERTS_DIR, else $COAPS_SOURCE_DIR/tests/crypto/certs),
 * read a fixture file, and decode PEM CERTIFICATE / PUBLIC KEY blocks to DER
 * with a small decoder of our own (RFC 7468), independent of the backend
 * under test. Header-only; aborts the test (cmocka fail) on any problem.
 */
#ifndef COAPS_TEST_PKI_FIXTURES_H
#define COAPS_TEST_PKI_FIXTURES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest fixture file / DER object the tests read. */
#define FIX_FILE_MAX 16384
#define FIX_DER_MAX 4096
#define FIX_CHAIN_MAX 10 /* more than CRYPTO_CHAIN_MAX, to test the bound */

struct fix_chain {
    uint8_t der[FIX_CHAIN_MAX][FIX_DER_MAX];
    size_t len[FIX_CHAIN_MAX];
    const uint8_t *ptr[FIX_CHAIN_MAX];
    size_t n;
};

static inline const char *fix_dir(void)
{
    static char dir[1024];
    const char *d = getenv("COAPS_CERTS_DIR");
    if (d != NULL)
        return d;
    const char *src = getenv("COAPS_SOURCE_DIR");
    snprintf(dir, sizeof dir, "%s/tests/crypto/certs", src ? src : ".");
    return dir;
}

static inline const char *fix_path(const char *name)
{
    static char path[4][1200];
    static int next;
    char *p = path[next++ % 4]; /* a few live at once (chain + key) */
    snprintf(p, sizeof path[0], "%s/%s", fix_dir(), name);
    return p;
}

/* The whole file (NUL-terminated as well); fails the test if missing. */
static inline size_t fix_read(const char *name, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(fix_path(name), "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot open fixture %s\n", fix_path(name));
        fail();
    }
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    assert_true(n < cap - 1);
    buf[n] = 0;
    return n;
}

static inline int fix_b64(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Decode every "-----BEGIN <label>-----" block of a file into chain->der,
 * appending; returns how many were added. */
static inline size_t fix_pem_blocks(const char *name, const char *label, struct fix_chain *ch)
{
    static char text[FIX_FILE_MAX];
    fix_read(name, (uint8_t *)text, sizeof text);
    char begin[64], end[64];
    snprintf(begin, sizeof begin, "-----BEGIN %s-----", label);
    snprintf(end, sizeof end, "-----END %s-----", label);
    size_t added = 0;
    for (const char *p = strstr(text, begin); p != NULL; p = strstr(p, begin)) {
        p += strlen(begin);
        const char *e = strstr(p, end);
        assert_non_null(e);
        assert_true(ch->n < FIX_CHAIN_MAX);
        uint8_t *out = ch->der[ch->n];
        size_t n = 0;
        unsigned acc = 0, bits = 0;
        for (; p < e; p++) {
            int v = fix_b64(*p);
            if (v < 0)
                continue; /* newlines and '=' padding */
            acc = acc << 6 | (unsigned)v;
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                assert_true(n < FIX_DER_MAX);
                out[n++] = (uint8_t)(acc >> bits);
            }
        }
        ch->len[ch->n] = n;
        ch->ptr[ch->n] = out;
        ch->n++;
        added++;
    }
    return added;
}

/* Append the certificates of fixture files (NULL-terminated list). */
static inline void fix_chain_of(struct fix_chain *ch, const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    for (const char *f = first; f != NULL; f = va_arg(ap, const char *))
        assert_true(fix_pem_blocks(f, "CERTIFICATE", ch) > 0);
    va_end(ap);
}

#endif /* COAPS_TEST_PKI_FIXTURES_H */
