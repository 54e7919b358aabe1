/*
 * buckets.h - what the edge's chained hash tables share (sessions by
 * address, by Connection ID, resumable sessions by ID): a bucket array of
 * a power of two at least twice the entries (load factor <= 1/2: chains
 * stay short), every bucket empty (UINT32_MAX), and FNV-1a over bytes.
 */
#ifndef COAPS_NET_BUCKETS_H
#define COAPS_NET_BUCKETS_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Buckets for cap entries (cap <= 2^30), all empty; *mask = count - 1.
 * NULL when out of memory. Free with free(). */
static inline uint32_t *net_buckets_new(uint32_t cap, uint32_t *mask)
{
    uint32_t n = 1;
    while (n < 2 * cap)
        n <<= 1;
    uint32_t *b = malloc(n * sizeof *b);
    if (b)
        memset(b, 0xff, n * sizeof *b);
    *mask = n - 1;
    return b;
}

/* FNV-1a of len bytes: keys a peer may choose, so every byte counts. */
static inline uint32_t net_fnv1a(const uint8_t *p, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

#endif /* COAPS_NET_BUCKETS_H */
