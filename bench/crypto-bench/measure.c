/* measure.c - timing loop and output of crypto-bench (cbench.h). */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "cbench.h"
#include "crypto/crypto.h"

/* A batch long enough that reading the clock (a system call for a thread's
 * CPU clock) is noise against it, short enough that a budget of a few tens
 * of milliseconds still holds many batches. */
#define BATCH_NS 1000000u
/* Ceiling of a batch, should the clock not advance (it always does on
 * Linux; this keeps a broken clock from looping forever). */
#define BATCH_MAX (1u << 24)

/* CPU time of this thread, not wall time: the machine is shared (the
 * client of other benchmarks, compilers), and time spent preempted is not
 * the primitive's cost. */
static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Run one batch of n; *ns receives its CPU time. */
static bool batch(cb_op_fn fn, void *arg, uint64_t n, uint64_t *ns)
{
    uint64_t t0 = thread_cpu_ns();
    bool ok = fn(arg, n);
    *ns = thread_cpu_ns() - t0;
    return ok;
}

bool cb_measure(cb_op_fn fn, void *arg, uint64_t budget_ns, struct cb_result *r)
{
    uint64_t n = 1, ns;
    r->ops = 0;
    r->cpu_ns = 0;
    /* warm-up: caches, lazy initialisation in the backend, batch size */
    for (;;) {
        if (!batch(fn, arg, n, &ns))
            return false;
        if (ns >= BATCH_NS || n >= BATCH_MAX)
            break;
        n *= 2;
    }
    while (r->cpu_ns < budget_ns) {
        if (!batch(fn, arg, n, &ns))
            return false;
        r->ops += n;
        r->cpu_ns += ns;
    }
    return true;
}

static void print_json(const char *alg, const char *op, size_t bytes, const struct cb_result *r)
{
    printf("{\"bench\":\"crypto\",\"backend\":\"%s\",\"alg\":\"%s\",\"op\":\"%s\",\"bytes\":%zu",
           crypto_backend_name(), alg, op, bytes);
    if (r == NULL) {
        printf(",\"available\":false}\n");
        return;
    }
    double ns_per_op = (double)r->cpu_ns / (double)r->ops;
    printf(",\"available\":true,\"ops\":%" PRIu64 ",\"cpu_ms\":%.1f,\"ns_per_op\":%.1f", r->ops,
           (double)r->cpu_ns / 1e6, ns_per_op);
    if (bytes > 0) /* payload bytes per second of CPU, in MB (10^6) */
        printf(",\"mb_per_s\":%.1f", (double)bytes * 1e3 / ns_per_op);
    printf("}\n");
}

static void print_text(const char *alg, const char *op, size_t bytes, const struct cb_result *r)
{
    printf("%-8s %-20s %-14s %5zu B  ", crypto_backend_name(), alg, op, bytes);
    if (r == NULL) {
        printf("not available in this backend\n");
        return;
    }
    double ns_per_op = (double)r->cpu_ns / (double)r->ops;
    printf("%10.1f ns/op", ns_per_op);
    if (bytes > 0)
        printf("  %8.1f MB/s", (double)bytes * 1e3 / ns_per_op);
    printf("\n");
}

void cb_print(const struct cb_opts *o, const char *alg, const char *op, size_t bytes,
              const struct cb_result *r)
{
    if (o->json)
        print_json(alg, op, bytes, r);
    else
        print_text(alg, op, bytes, r);
    fflush(stdout); /* a line per figure as it comes: the slow ones show progress */
}
