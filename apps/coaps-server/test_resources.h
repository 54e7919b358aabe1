/*
 * test_resources.h - resources coaps-server adds with --test-resources, for
 * the interop tests of block-wise transfer (RFC 7959):
 *   GET      /test/large    TEST_LARGE_LINES lines of text (Block2)
 *   PUT/POST /test/upload   store any body up to TEST_UPLOAD_MAX (Block1)
 *   GET      /test/upload   return what was stored
 *   POST     /test/counter  add one, answer the new count (not idempotent:
 *                           fault tests check each POST is applied once,
 *                           RFC 7252 4.5 deduplication)
 *   GET      /test/counter  the count, decimal text
 */
#ifndef COAPS_SERVER_TEST_RESOURCES_H
#define COAPS_SERVER_TEST_RESOURCES_H

#include <stddef.h>
#include <stdint.h>

#include "coaps/coap.h"

/* Lines of /test/large: "line NNNN abcdefghijklmnopqrstuvwxyz\n" (37
 * bytes each), 64 lines = 2368 bytes: three 1024-byte blocks, 148 of 16. */
#define TEST_LARGE_LINES 64
#define TEST_LARGE_LINE_LEN 37

/* Largest body /test/upload keeps: several KiB, below the core's default
 * max_body_size (16 KiB) so that the core reassembles it. */
#define TEST_UPLOAD_MAX 8192

struct test_resources {
    uint8_t upload[TEST_UPLOAD_MAX];
    size_t upload_len;
    uint64_t counter;
};

coaps_status test_resources_register(struct test_resources *t, coaps_coap_endpoint *ep);

#endif /* COAPS_SERVER_TEST_RESOURCES_H */
