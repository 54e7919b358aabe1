/*
 * link_format.c - /.well-known/core in CoRE Link Format (RFC 6690), with
 * the query filtering of RFC 6690 4.1.
 */
#include <string.h>

#include "coap/endpoint.h"
#include "common/try.h"

/* Digits of a uint32 plus NUL. */
#define COAP_U32_DIGITS 11

/* Decimal digits of v into buf (COAP_U32_DIGITS bytes), NUL-terminated;
 * returns the length. (No stdio in the sans-IO core.) */
static size_t u32_to_dec(uint32_t v, char *buf)
{
    char tmp[COAP_U32_DIGITS];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
    return n;
}

/* RFC 6690 4.1: a value ending in '*' matches by prefix. */
static bool value_matches(const char *v, size_t vlen, const uint8_t *f, size_t flen)
{
    if (flen > 0 && f[flen - 1] == '*')
        return vlen >= flen - 1 && memcmp(v, f, flen - 1) == 0;
    return vlen == flen && memcmp(v, f, flen) == 0;
}

/* rt and if hold space-separated values; any one may match. */
static bool list_matches(const char *list, const uint8_t *f, size_t flen)
{
    while (list && *list) {
        const char *end = strchr(list, ' ');
        size_t n = end ? (size_t)(end - list) : strlen(list);
        if (n && value_matches(list, n, f, flen))
            return true;
        list = end ? end + 1 : NULL;
    }
    return false;
}

/* href filters compare against "/path" (RFC 6690 4.1). */
static bool href_matches(const char *path, const uint8_t *f, size_t flen)
{
    if (path[0] == '/')
        path++;
    if (flen == 0 || f[0] != '/')
        return false;
    return value_matches(path, strlen(path), f + 1, flen - 1);
}

static bool uint_matches(int64_t v, const uint8_t *f, size_t flen)
{
    char num[COAP_U32_DIGITS];
    if (v < 0)
        return false;
    size_t n = u32_to_dec((uint32_t)v, num);
    return value_matches(num, n, f, flen);
}

/* RFC 6690 4.1: the query is one "attr=value" filter. */
static bool filter_matches(const coaps_coap_resource_def *d, const coaps_coap_option *q)
{
    if (q == NULL)
        return true;
    const uint8_t *v = coaps_coap_option_value(q);
    const uint8_t *eq = memchr(v, '=', q->len);
    size_t nlen = eq ? (size_t)(eq - v) : q->len;
    const uint8_t *f = eq ? eq + 1 : v + q->len;
    size_t flen = eq ? q->len - nlen - 1 : 0;
#define ATTR_IS(s) (nlen == sizeof(s) - 1 && memcmp(v, s, nlen) == 0)
    if (ATTR_IS("href"))
        return href_matches(d->path, f, flen);
    if (ATTR_IS("rt"))
        return list_matches(d->rt, f, flen);
    if (ATTR_IS("if"))
        return list_matches(d->if_, f, flen);
    if (ATTR_IS("ct"))
        return uint_matches(d->ct, f, flen);
    if (ATTR_IS("sz"))
        return d->sz > 0 && uint_matches(d->sz, f, flen);
    if (ATTR_IS("obs"))
        return d->observable;
#undef ATTR_IS
    return false; /* an attribute no link carries matches nothing */
}

static coaps_status append_str(coaps_coap_response *resp, const char *s)
{
    return coaps_coap_response_append(resp, s, strlen(s));
}

static coaps_status append_link(coaps_coap_response *resp, const coaps_coap_resource_def *d)
{
    char num[COAP_U32_DIGITS];
    TRY(append_str(resp, "</"));
    TRY(append_str(resp, d->path[0] == '/' ? d->path + 1 : d->path));
    TRY(append_str(resp, ">"));
    if (d->rt) {
        TRY(append_str(resp, ";rt=\""));
        TRY(append_str(resp, d->rt));
        TRY(append_str(resp, "\""));
    }
    if (d->if_) {
        TRY(append_str(resp, ";if=\""));
        TRY(append_str(resp, d->if_));
        TRY(append_str(resp, "\""));
    }
    if (d->ct >= 0) {
        u32_to_dec((uint32_t)d->ct, num);
        TRY(append_str(resp, ";ct="));
        TRY(append_str(resp, num));
    }
    if (d->sz > 0) {
        u32_to_dec(d->sz, num);
        TRY(append_str(resp, ";sz="));
        TRY(append_str(resp, num));
    }
    if (d->observable)
        TRY(append_str(resp, ";obs"));
    return COAPS_OK;
}

coaps_status coap_link_format(coaps_coap_endpoint *ep, const coaps_coap_msg *req,
                              coaps_coap_response *resp)
{
    const coaps_coap_option *q = coaps_coap_msg_find_option(req, COAPS_COAP_OPT_URI_QUERY, NULL);
    bool first = true;
    resp->payload_len = 0;
    for (size_t i = 0; i <= ep->cfg.max_resources; i++) {
        const struct coaps_coap_resource *r = &ep->res[i];
        if (!r->used || r->def.hidden || !filter_matches(&r->def, q))
            continue;
        if (!first)
            TRY(append_str(resp, ","));
        TRY(append_link(resp, &r->def));
        first = false;
    }
    coaps_coap_response_set_content_format(resp, COAPS_COAP_CF_LINK_FORMAT);
    return COAPS_OK;
}

coaps_status coap_well_known_handler(void *user, const coaps_coap_request *req,
                                     coaps_coap_response *resp)
{
    return coap_link_format(user, coaps_coap_request_msg(req), resp);
}
