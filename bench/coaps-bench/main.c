/*
 * coaps-bench - load generator for CoAP servers over UDP and DTLS 1.2 PSK.
 * See bench.h for the design and bench/README.md for what it measures.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

int main(int argc, char **argv)
{
    struct bench_opts o;
    int rc = bench_opts_parse(argc, argv, &o);
    if (rc == 1)
        return 0;
    if (rc != 0)
        return rc;
    /* The result holds the histogram (about 6 KiB): on the heap. */
    struct bench_result *r = calloc(1, sizeof *r);
    if (r == NULL) {
        fprintf(stderr, BENCH_PROG ": out of memory\n");
        return 1;
    }
    rc = bench_run(&o, r);
    if (rc == 0) {
        bench_report(&o, r);
        uint64_t ops = o.mode == BENCH_IDLE ? r->setup_ok : r->completed;
        rc = ops > 0 ? 0 : 1; /* nothing completed: the run failed */
    }
    free(r);
    return rc;
}
