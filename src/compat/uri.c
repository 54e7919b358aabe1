/* uri.c - coap_split_uri and coap_address_init. coap_split_uri only cuts
 * the URI into pointers into the caller's string (percent-decoding is
 * coap_split_path's business in libcoap, and Uri-Path options are built
 * from the pieces by the program). */
#include <string.h>
#include <strings.h>

#include "compat/compat.h"

void coap_address_init(coap_address_t *addr)
{
    if (addr == NULL) {
        COMPAT_BAD("coap_address_init", "NULL address");
        return;
    }
    memset(addr, 0, sizeof *addr);
    addr->size = sizeof addr->addr;
}

struct scheme {
    const char *prefix;
    enum coap_uri_scheme_t scheme;
    uint16_t port;
};

/* Longest prefix first: "coaps" before "coap". */
static const struct scheme schemes[] = {
    {"coaps+tcp://", COAP_URI_SCHEME_COAPS_TCP, COAPS_DEFAULT_PORT},
    {"coap+tcp://", COAP_URI_SCHEME_COAP_TCP, COAP_DEFAULT_PORT},
    {"coaps://", COAP_URI_SCHEME_COAPS, COAPS_DEFAULT_PORT},
    {"coap://", COAP_URI_SCHEME_COAP, COAP_DEFAULT_PORT},
};

static int split_scheme(const uint8_t **p, const uint8_t *end, coap_uri_t *uri)
{
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        size_t n = strlen(schemes[i].prefix);
        if ((size_t)(end - *p) >= n && strncasecmp((const char *)*p, schemes[i].prefix, n) == 0) {
            uri->scheme = schemes[i].scheme;
            uri->port = schemes[i].port;
            *p += n;
            return 0;
        }
    }
    return -1;
}

static int split_host(const uint8_t **p, const uint8_t *end, coap_uri_t *uri)
{
    const uint8_t *s = *p;
    if (s < end && *s == '[') { /* IPv6 literal */
        const uint8_t *close = memchr(s, ']', (size_t)(end - s));
        if (close == NULL || close == s + 1)
            return -1;
        uri->host.s = s + 1;
        uri->host.length = (size_t)(close - s - 1);
        *p = close + 1;
        return 0;
    }
    while (s < end && *s != ':' && *s != '/' && *s != '?')
        s++;
    if (s == *p)
        return -1;
    uri->host.s = *p;
    uri->host.length = (size_t)(s - *p);
    *p = s;
    return 0;
}

static int split_port(const uint8_t **p, const uint8_t *end, coap_uri_t *uri)
{
    if (*p == end || **p != ':')
        return 0;
    const uint8_t *s = ++*p;
    unsigned long port = 0;
    while (s < end && *s >= '0' && *s <= '9' && port <= 65535)
        port = port * 10 + (unsigned long)(*s++ - '0');
    if (s == *p || port > 65535)
        return -1;
    uri->port = (uint16_t)port;
    *p = s;
    return 0;
}

int coap_split_uri(const uint8_t *str_var, size_t len, coap_uri_t *uri)
{
    if (str_var == NULL || uri == NULL) {
        COMPAT_BAD("coap_split_uri", "NULL URI or result");
        return -1;
    }
    memset(uri, 0, sizeof *uri);
    const uint8_t *p = str_var, *end = str_var + len;
    if (split_scheme(&p, end, uri) < 0 || split_host(&p, end, uri) < 0 ||
        split_port(&p, end, uri) < 0)
        return -1;
    if (p < end && *p != '/' && *p != '?')
        return -1;
    if (p < end && *p == '/')
        p++;
    const uint8_t *q = memchr(p, '?', (size_t)(end - p));
    const uint8_t *hash = memchr(p, '#', (size_t)(end - p));
    if (hash != NULL)
        return -1; /* RFC 7252 6.1: no fragments */
    uri->path.s = p;
    uri->path.length = (size_t)((q ? q : end) - p);
    if (q != NULL) {
        uri->query.s = q + 1;
        uri->query.length = (size_t)(end - q - 1);
    }
    return 0;
}
