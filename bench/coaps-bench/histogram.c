/* histogram.c - the latency histogram of coaps-bench (see bench.h). */
#include "bench.h"

#define SUB_COUNT (1u << BENCH_HIST_SUB_BITS)
#define VALUE_MAX ((UINT64_C(1) << BENCH_HIST_TOP_BIT) - 1)

static unsigned top_bit(uint64_t v)
{
    unsigned b = 0;
    while (v >>= 1)
        b++;
    return b;
}

static size_t hist_index(uint64_t us)
{
    if (us > VALUE_MAX)
        us = VALUE_MAX;
    if (us < SUB_COUNT)
        return (size_t)us;
    unsigned e = top_bit(us); /* >= BENCH_HIST_SUB_BITS */
    unsigned shift = e - BENCH_HIST_SUB_BITS;
    size_t sub = (size_t)((us >> shift) & (SUB_COUNT - 1));
    return ((size_t)(shift + 1) << BENCH_HIST_SUB_BITS) + sub;
}

/* The middle of a bucket: its lower bound plus half its width. */
static uint64_t hist_value(size_t idx)
{
    if (idx < SUB_COUNT)
        return idx;
    unsigned shift = (unsigned)(idx >> BENCH_HIST_SUB_BITS) - 1;
    uint64_t sub = idx & (SUB_COUNT - 1);
    uint64_t low = (SUB_COUNT + sub) << shift;
    return low + ((UINT64_C(1) << shift) >> 1);
}

void bench_hist_add(struct bench_hist *h, uint64_t us)
{
    h->buckets[hist_index(us)]++;
    h->count++;
}

uint64_t bench_hist_quantile(const struct bench_hist *h, double q)
{
    if (h->count == 0)
        return 0;
    /* rank of the sample at q, 1-based: ceil(q * count) */
    double want = q * (double)h->count;
    uint64_t rank = (uint64_t)want;
    if ((double)rank < want)
        rank++;
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < BENCH_HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank)
            return hist_value(i);
    }
    return hist_value(BENCH_HIST_BUCKETS - 1);
}
