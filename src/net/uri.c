/* uri.c - coap:// URI decomposition (RFC 7252 6.4, RFC 3986). */
#include "coaps/uri.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/try.h"
#include "common/hex.h"

#define FAIL(st, msg)                                                          \
    do {                                                                       \
        if (why)                                                               \
            *why = (msg);                                                      \
        return (st);                                                           \
    } while (0)

/* Percent-decode s[0..n) into u->buf as a new segment (RFC 3986 2.1). */
static coaps_status uri_add_segment(coaps_uri *u, const char *s, size_t n,
                                    coaps_uri_seg *seg, const char **why)
{
    size_t start = u->buf_len;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = (uint8_t)s[i];
        if (s[i] == '%') {
            if (i + 2 >= n)
                FAIL(COAPS_E_INVALID, "bad percent-encoding");
            int hi = hex_digit(s[i + 1]), lo = hex_digit(s[i + 2]);
            if (hi < 0 || lo < 0)
                FAIL(COAPS_E_INVALID, "bad percent-encoding");
            b = (uint8_t)(hi << 4 | lo);
            i += 2;
        }
        if (u->buf_len >= sizeof u->buf)
            FAIL(COAPS_E_FULL, "URI too long");
        u->buf[u->buf_len++] = b;
    }
    if (u->buf_len - start > COAPS_URI_SEGMENT_MAX)
        FAIL(COAPS_E_FULL, "path or query segment longer than 255 bytes");
    seg->off = (uint16_t)start;
    seg->len = (uint16_t)(u->buf_len - start);
    return COAPS_OK;
}

/* Split s[0..n) at sep into segments (RFC 7252 6.4 steps 8 and 9). */
static coaps_status uri_split(coaps_uri *u, const char *s, size_t n, char sep,
                              coaps_uri_seg *segs, size_t *count, const char **why)
{
    size_t begin = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != sep)
            continue;
        if (*count >= COAPS_URI_SEGMENTS_MAX)
            FAIL(COAPS_E_FULL, "too many path or query segments");
        TRY(uri_add_segment(u, s + begin, i - begin, &segs[*count], why));
        (*count)++;
        begin = i + 1;
    }
    return COAPS_OK;
}

/* host [":" port] from authority s[0..n) (RFC 3986 3.2.2, 3.2.3). */
static coaps_status uri_authority(coaps_uri *u, const char *s, size_t n, const char **why)
{
    const char *host = s, *port = NULL;
    size_t host_len;
    if (memchr(s, '@', n))
        FAIL(COAPS_E_INVALID, "user information is not allowed in a coap URI");
    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (close == NULL)
            FAIL(COAPS_E_INVALID, "missing ']' after IPv6 address");
        host = s + 1;
        host_len = (size_t)(close - host);
        size_t rest = n - (size_t)(close + 1 - s);
        if (rest > 0 && close[1] != ':')
            FAIL(COAPS_E_INVALID, "unexpected text after ']'");
        if (rest > 0)
            port = close + 2;
        u->host_is_literal = true;
    } else {
        const char *colon = memchr(s, ':', n);
        host_len = colon ? (size_t)(colon - s) : n;
        if (colon)
            port = colon + 1;
    }
    if (host_len == 0)
        FAIL(COAPS_E_INVALID, "missing host");
    if (host_len >= sizeof u->host)
        FAIL(COAPS_E_FULL, "host name too long");
    for (size_t i = 0; i < host_len; i++)
        u->host[i] = (char)tolower((unsigned char)host[i]); /* 6.4 step 5 */
    u->host[host_len] = '\0';
    if (u->host_is_literal) {
        struct in6_addr a6;
        char addr[COAPS_URI_HOST_MAX];
        memcpy(addr, u->host, host_len + 1);
        char *zone = strchr(addr, '%'); /* RFC 6874 zone: not checked here */
        if (zone)
            *zone = '\0';
        if (inet_pton(AF_INET6, addr, &a6) != 1)
            FAIL(COAPS_E_INVALID, "bad IPv6 address");
    } else {
        struct in_addr a4;
        u->host_is_literal = inet_pton(AF_INET, u->host, &a4) == 1;
        if (strchr(u->host, '%'))
            FAIL(COAPS_E_INVALID, "percent-encoded host names are not supported");
    }
    if (port == NULL)
        return COAPS_OK;
    size_t port_len = n - (size_t)(port - s);
    if (port_len == 0)
        return COAPS_OK; /* "host:" means the default port (RFC 3986 3.2.3) */
    unsigned long v = 0;
    for (size_t i = 0; i < port_len; i++) {
        if (port[i] < '0' || port[i] > '9' || v > 65535)
            FAIL(COAPS_E_INVALID, "bad port");
        v = v * 10 + (unsigned long)(port[i] - '0');
    }
    if (v == 0 || v > 65535)
        FAIL(COAPS_E_INVALID, "port out of range 1-65535");
    u->port = (uint16_t)v;
    return COAPS_OK;
}

static coaps_status uri_scheme(coaps_uri *u, const char *s, size_t *after, const char **why)
{
    static const struct {
        const char *prefix;
        enum coaps_uri_scheme scheme;
        uint16_t port;
    } schemes[] = {
        {"coap://", COAPS_URI_COAP, COAPS_URI_COAP_PORT},
        {"coaps://", COAPS_URI_COAPS, COAPS_URI_COAPS_PORT},
    };
    for (size_t i = 0; i < COAPS_ARRAY_LEN(schemes); i++) {
        size_t n = strlen(schemes[i].prefix);
        if (strncasecmp(s, schemes[i].prefix, n) == 0) {
            u->scheme = schemes[i].scheme;
            u->port = schemes[i].port;
            *after = n;
            return COAPS_OK;
        }
    }
    if (strstr(s, "://"))
        FAIL(COAPS_E_UNSUPPORTED, "unsupported URI scheme (use coap:// or coaps://)");
    FAIL(COAPS_E_INVALID, "not an absolute coap:// URI");
}

coaps_status coaps_uri_parse(const char *s, coaps_uri *u, const char **why)
{
    ENSURE(s != NULL && u != NULL, COAPS_E_INVALID);
    memset(u, 0, sizeof *u);
    size_t len = strlen(s);
    if (len >= COAPS_URI_MAX)
        FAIL(COAPS_E_FULL, "URI too long");
    if (strchr(s, '#'))
        FAIL(COAPS_E_INVALID, "fragments are not allowed in a coap URI"); /* 6.4 step 3 */
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            FAIL(COAPS_E_INVALID, "URI contains spaces or non-ASCII bytes (percent-encode them)");
    size_t pos;
    TRY(uri_scheme(u, s, &pos, why));
    size_t auth_end = pos + strcspn(s + pos, "/?");
    TRY(uri_authority(u, s + pos, auth_end - pos, why));
    const char *q = strchr(s + auth_end, '?');
    size_t path_end = q ? (size_t)(q - s) : len;
    /* 6.4 step 8: no Uri-Path for an empty path or "/" alone. */
    if (path_end - auth_end > 1)
        TRY(uri_split(u, s + auth_end + 1, path_end - auth_end - 1, '/', u->path, &u->n_path, why));
    if (q && q[1] != '\0')
        TRY(uri_split(u, q + 1, len - path_end - 1, '&', u->query, &u->n_query, why));
    return COAPS_OK;
}
