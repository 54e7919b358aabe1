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
 * With --workers every worker registers the same struct test_resources:
 * each resource is one, whichever worker a request reaches (a client's
 * next request comes from a new port and may hash to another worker).
 * The counter is atomic, the upload under a mutex: test resources, never
 * on the path of the light or of the stack.
 */
#ifndef COAPS_SERVER_TEST_RESOURCES_H
#define COAPS_SERVER_TEST_RESOURCES_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "coaps/coap.h"
#include "net/store.h"

/* Lines of /test/large: "line NNNN abcdefghijklmnopqrstuvwxyz\n" (37
 * bytes each), 64 lines = 2368 bytes: three 1024-byte blocks, 148 of 16. */
#define TEST_LARGE_LINES 64
#define TEST_LARGE_LINE_LEN 37

/* Largest body /test/upload keeps: several KiB, below the core's default
 * max_body_size (16 KiB) so that the core reassembles it. */
#define TEST_UPLOAD_MAX 8192

struct test_resources {
    pthread_mutex_t lock; /* upload, upload_len */
    uint8_t upload[TEST_UPLOAD_MAX];
    size_t upload_len;
    _Atomic uint64_t counter;
};

/* /test/counter as one endpoint serves it: the count of t, shared by the
 * workers, or, on a node of a cluster (--store), the cluster's, through
 * the store of the endpoint's own server (a store handle belongs to one
 * thread). */
struct test_counter {
    struct test_resources *t;
    struct net_store *store; /* NULL: t's */
};

/* Empty resources: once, before any register. */
void test_resources_init(struct test_resources *t);
void test_resources_free(struct test_resources *t);
/* t's resources on ep (one endpoint, or every worker's in turn); c (with
 * its store set or NULL) must outlive ep. */
coaps_status test_resources_register(struct test_resources *t, struct test_counter *c,
                                     coaps_coap_endpoint *ep);

#endif /* COAPS_SERVER_TEST_RESOURCES_H */
