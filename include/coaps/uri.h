/*
 * coaps/uri.h - parse a coap:// or coaps:// URI into what a request needs
 * (RFC 7252 section 6.4, "Decomposing URIs into Options").
 *
 * The result holds the host (for name resolution), the port, and the
 * percent-decoded path and query segments that become Uri-Path and
 * Uri-Query options. Everything is stored inside coaps_uri; its
 * bounds are named below. Parsing is pure (no resolution, no I/O).
 */
#ifndef COAPS_URI_H
#define COAPS_URI_H

#include "coaps/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coaps/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest URI accepted: a command-line argument, not a web page; 1 KiB is
 * more than any CoAP request's options can carry in one 1152-byte message
 * (RFC 7252 4.6) anyway. Decoded segments never exceed the input. */
#define COAPS_URI_MAX 1024

/* Host text: a DNS name is at most 253 characters (RFC 1035 2.3.4); an
 * IPv6 literal with a zone fits easily. Uri-Host is at most 255 bytes
 * (RFC 7252 5.10). */
#define COAPS_URI_HOST_MAX 256

/* Path and query segments each: each is one option; 32 is generous for a
 * device API and bounds the option list the client builds. */
#define COAPS_URI_SEGMENTS_MAX 32

/* Uri-Path and Uri-Query values are at most 255 bytes (RFC 7252 5.10). */
#define COAPS_URI_SEGMENT_MAX 255

#define COAPS_URI_COAP_PORT 5683  /* RFC 7252 6.1 */
#define COAPS_URI_COAPS_PORT 5684 /* RFC 7252 6.2 */

enum coaps_uri_scheme {
    COAPS_URI_COAP = 0,
    COAPS_URI_COAPS = 1,
};

typedef struct coaps_uri_seg {
    uint16_t off; /* into coaps_uri.buf */
    uint16_t len;
} coaps_uri_seg;

typedef struct coaps_uri {
    enum coaps_uri_scheme scheme;
    char host[COAPS_URI_HOST_MAX]; /* NUL-terminated, no brackets, decoded */
    bool host_is_literal;        /* IPv4 or IPv6 literal: no Uri-Host (6.4 step 5) */
    uint16_t port;               /* given or the scheme's default */
    size_t n_path;
    coaps_uri_seg path[COAPS_URI_SEGMENTS_MAX];
    size_t n_query;
    coaps_uri_seg query[COAPS_URI_SEGMENTS_MAX];
    size_t buf_len;
    uint8_t buf[COAPS_URI_MAX]; /* decoded segment bytes (may hold NULs) */
} coaps_uri;

/*
 * Parse s into *u. On failure returns COAPS_E_INVALID (not a coap URI,
 * fragment, bad percent-encoding, bad port, ...), COAPS_E_UNSUPPORTED
 * (another scheme such as coap+tcp) or COAPS_E_FULL (a bound above), and
 * *why (if not NULL) points to a static one-line reason.
 */
COAPS_API coaps_status coaps_uri_parse(const char *s, coaps_uri *u, const char **why);

/* The bytes of a segment. */
static inline const uint8_t *coaps_uri_seg_ptr(const coaps_uri *u, coaps_uri_seg seg)
{
    return u->buf + seg.off;
}

#ifdef __cplusplus
}
#endif
#endif /* COAPS_URI_H */
