/*
 * wire.h - bounded reading and writing of network bytes.
 *
 * All wire data in coaps is read through a struct wire_rd and written through
 * a struct wire_wr (the idea of s2n-tls's "stuffer"). Every call checks the
 * bound first and fails with COAPS_E_TRUNCATED (reader) or COAPS_E_NOSPACE
 * (writer) instead of running past the end; on failure the cursor does not
 * move. Nothing else in the code base does pointer arithmetic on network
 * bytes. Integers are big-endian (network order), as in both CoAP and DTLS.
 *
 * Neither struct owns its memory: the caller keeps the buffer alive for as
 * long as the reader or writer is used.
 */
#ifndef COAPS_WIRE_H
#define COAPS_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "coaps/status.h"

struct wire_rd {
    const uint8_t *buf;
    size_t len; /* bytes in buf */
    size_t off; /* next byte to read */
};

struct wire_wr {
    uint8_t *buf;
    size_t cap; /* bytes available in buf */
    size_t off; /* next byte to write == bytes written */
};

static inline struct wire_rd wire_rd_init(const uint8_t *buf, size_t len)
{
    struct wire_rd r = {buf, len, 0};
    return r;
}

static inline struct wire_wr wire_wr_init(uint8_t *buf, size_t cap)
{
    struct wire_wr w = {buf, cap, 0};
    return w;
}

static inline size_t wire_rd_left(const struct wire_rd *r)
{
    return r->len - r->off;
}

static inline const uint8_t *wire_rd_ptr(const struct wire_rd *r)
{
    return r->buf + r->off;
}

static inline size_t wire_wr_left(const struct wire_wr *w)
{
    return w->cap - w->off;
}

static inline uint8_t *wire_wr_ptr(const struct wire_wr *w)
{
    return w->buf + w->off;
}

/* Read an unsigned big-endian integer of n (1..8) bytes. */
static inline coaps_status wire_rd_uint(struct wire_rd *r, size_t n, uint64_t *out)
{
    if (n == 0 || n > 8 || wire_rd_left(r) < n)
        return COAPS_E_TRUNCATED;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | r->buf[r->off + i];
    r->off += n;
    *out = v;
    return COAPS_OK;
}

static inline coaps_status wire_rd_u8(struct wire_rd *r, uint8_t *out)
{
    uint64_t v;
    coaps_status st = wire_rd_uint(r, 1, &v);
    if (st == COAPS_OK)
        *out = (uint8_t)v;
    return st;
}

static inline coaps_status wire_rd_u16(struct wire_rd *r, uint16_t *out)
{
    uint64_t v;
    coaps_status st = wire_rd_uint(r, 2, &v);
    if (st == COAPS_OK)
        *out = (uint16_t)v;
    return st;
}

static inline coaps_status wire_rd_u24(struct wire_rd *r, uint32_t *out)
{
    uint64_t v;
    coaps_status st = wire_rd_uint(r, 3, &v);
    if (st == COAPS_OK)
        *out = (uint32_t)v;
    return st;
}

static inline coaps_status wire_rd_u32(struct wire_rd *r, uint32_t *out)
{
    uint64_t v;
    coaps_status st = wire_rd_uint(r, 4, &v);
    if (st == COAPS_OK)
        *out = (uint32_t)v;
    return st;
}

static inline coaps_status wire_rd_u48(struct wire_rd *r, uint64_t *out)
{
    return wire_rd_uint(r, 6, out);
}

/* Copy n bytes out. */
static inline coaps_status wire_rd_bytes(struct wire_rd *r, void *out, size_t n)
{
    if (wire_rd_left(r) < n)
        return COAPS_E_TRUNCATED;
    if (n)
        memcpy(out, r->buf + r->off, n);
    r->off += n;
    return COAPS_OK;
}

/* Borrow n bytes in place: *out points into the reader's buffer. */
static inline coaps_status wire_rd_view(struct wire_rd *r, size_t n, const uint8_t **out)
{
    if (wire_rd_left(r) < n)
        return COAPS_E_TRUNCATED;
    *out = r->buf + r->off;
    r->off += n;
    return COAPS_OK;
}

static inline coaps_status wire_rd_skip(struct wire_rd *r, size_t n)
{
    if (wire_rd_left(r) < n)
        return COAPS_E_TRUNCATED;
    r->off += n;
    return COAPS_OK;
}

/* A sub-reader over the next n bytes (e.g. a length-prefixed vector);
 * the parent moves past them. */
static inline coaps_status wire_rd_sub(struct wire_rd *r, size_t n, struct wire_rd *sub)
{
    const uint8_t *p;
    if (wire_rd_view(r, n, &p) != COAPS_OK)
        return COAPS_E_TRUNCATED;
    *sub = wire_rd_init(p, n);
    return COAPS_OK;
}

/* Write an unsigned big-endian integer of n (1..8) bytes. */
static inline coaps_status wire_wr_uint(struct wire_wr *w, size_t n, uint64_t v)
{
    if (n == 0 || n > 8 || wire_wr_left(w) < n)
        return COAPS_E_NOSPACE;
    for (size_t i = 0; i < n; i++)
        w->buf[w->off + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    w->off += n;
    return COAPS_OK;
}

static inline coaps_status wire_wr_u8(struct wire_wr *w, uint8_t v)
{
    return wire_wr_uint(w, 1, v);
}

static inline coaps_status wire_wr_u16(struct wire_wr *w, uint16_t v)
{
    return wire_wr_uint(w, 2, v);
}

static inline coaps_status wire_wr_u24(struct wire_wr *w, uint32_t v)
{
    return wire_wr_uint(w, 3, v);
}

static inline coaps_status wire_wr_u32(struct wire_wr *w, uint32_t v)
{
    return wire_wr_uint(w, 4, v);
}

static inline coaps_status wire_wr_u48(struct wire_wr *w, uint64_t v)
{
    return wire_wr_uint(w, 6, v);
}

static inline coaps_status wire_wr_bytes(struct wire_wr *w, const void *p, size_t n)
{
    if (wire_wr_left(w) < n)
        return COAPS_E_NOSPACE;
    if (n)
        memcpy(w->buf + w->off, p, n);
    w->off += n;
    return COAPS_OK;
}

/* Reserve n bytes to fill in later (e.g. a length field written once the
 * body is known); *at receives their offset. */
static inline coaps_status wire_wr_reserve(struct wire_wr *w, size_t n, size_t *at)
{
    if (wire_wr_left(w) < n)
        return COAPS_E_NOSPACE;
    *at = w->off;
    memset(w->buf + w->off, 0, n);
    w->off += n;
    return COAPS_OK;
}

/* Store v big-endian in n bytes at offset at, inside what was written. */
static inline coaps_status wire_wr_patch(struct wire_wr *w, size_t at, size_t n, uint64_t v)
{
    if (n == 0 || n > 8 || at > w->off || w->off - at < n)
        return COAPS_E_INVALID;
    for (size_t i = 0; i < n; i++)
        w->buf[at + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    return COAPS_OK;
}

#endif /* COAPS_WIRE_H */
