/*
 * option.c - option definitions and the recognised/unrecognised rules.
 */
#include "coap/option.h"

#include "common/try.h"

/* RFC 7252 5.10 table 4 (+ Observe: RFC 7641 2; Block1/2, Size2: RFC 7959
 * 2.1 and 4). Lengths are the value-length bounds the RFC gives. */
static const struct coap_optdef optdefs[] = {
    {COAPS_COAP_OPT_IF_MATCH, "If-Match", COAP_FMT_OPAQUE, 0, 8, true},
    {COAPS_COAP_OPT_URI_HOST, "Uri-Host", COAP_FMT_STRING, 1, 255, false},
    {COAPS_COAP_OPT_ETAG, "ETag", COAP_FMT_OPAQUE, 1, 8, true},
    {COAPS_COAP_OPT_IF_NONE_MATCH, "If-None-Match", COAP_FMT_EMPTY, 0, 0, false},
    {COAPS_COAP_OPT_OBSERVE, "Observe", COAP_FMT_UINT, 0, 3, false},
    {COAPS_COAP_OPT_URI_PORT, "Uri-Port", COAP_FMT_UINT, 0, 2, false},
    {COAPS_COAP_OPT_LOCATION_PATH, "Location-Path", COAP_FMT_STRING, 0, 255, true},
    {COAPS_COAP_OPT_URI_PATH, "Uri-Path", COAP_FMT_STRING, 0, 255, true},
    {COAPS_COAP_OPT_CONTENT_FORMAT, "Content-Format", COAP_FMT_UINT, 0, 2, false},
    {COAPS_COAP_OPT_MAX_AGE, "Max-Age", COAP_FMT_UINT, 0, 4, false},
    {COAPS_COAP_OPT_URI_QUERY, "Uri-Query", COAP_FMT_STRING, 0, 255, true},
    {COAPS_COAP_OPT_ACCEPT, "Accept", COAP_FMT_UINT, 0, 2, false},
    {COAPS_COAP_OPT_LOCATION_QUERY, "Location-Query", COAP_FMT_STRING, 0, 255, true},
    {COAPS_COAP_OPT_BLOCK2, "Block2", COAP_FMT_UINT, 0, 3, false},
    {COAPS_COAP_OPT_BLOCK1, "Block1", COAP_FMT_UINT, 0, 3, false},
    {COAPS_COAP_OPT_SIZE2, "Size2", COAP_FMT_UINT, 0, 4, false},
    {COAPS_COAP_OPT_PROXY_URI, "Proxy-Uri", COAP_FMT_STRING, 1, 1034, false},
    {COAPS_COAP_OPT_PROXY_SCHEME, "Proxy-Scheme", COAP_FMT_STRING, 1, 255, false},
    {COAPS_COAP_OPT_SIZE1, "Size1", COAP_FMT_UINT, 0, 4, false},
};

const struct coap_optdef *coap_optdef_find(uint16_t number)
{
    for (size_t i = 0; i < COAPS_ARRAY_LEN(optdefs); i++)
        if (optdefs[i].number == number)
            return &optdefs[i];
    return NULL;
}

/* Is option i recognised (RFC 7252 5.4.3, 5.4.5)? */
static bool option_recognised(const coaps_coap_msg *m, size_t i)
{
    const coaps_coap_option *o = &m->opts[i];
    const struct coap_optdef *d = coap_optdef_find(o->number);
    if (d == NULL || o->len < d->min_len || o->len > d->max_len)
        return false;
    /* 5.4.5: each extra occurrence of a non-repeatable option is treated
     * like an unrecognised option. Options are sorted, so it is a repeat
     * when the previous option has the same number. */
    return d->repeatable || i == 0 || m->opts[i - 1].number != o->number;
}

static void remove_at(coaps_coap_msg *m, size_t i)
{
    for (size_t j = i + 1; j < m->opt_count; j++)
        m->opts[j - 1] = m->opts[j];
    m->opt_count--;
}

enum coap_optcheck coap_options_check(coaps_coap_msg *m, uint16_t *bad)
{
    enum coap_optcheck res = COAP_OPTCHECK_OK;
    size_t i = 0;
    while (i < m->opt_count) {
        uint16_t num = m->opts[i].number;
        if (option_recognised(m, i)) {
            if (num == COAPS_COAP_OPT_PROXY_URI || num == COAPS_COAP_OPT_PROXY_SCHEME)
                if (res == COAP_OPTCHECK_OK) {
                    res = COAP_OPTCHECK_PROXY;
                    *bad = num;
                }
            i++;
        } else if (coap_opt_is_critical(num)) {
            /* 5.4.1: a critical one makes the message fail; 4.02 wins over
             * 5.05 since we cannot even understand the request. */
            if (res != COAP_OPTCHECK_BAD_CRITICAL) {
                res = COAP_OPTCHECK_BAD_CRITICAL;
                *bad = num;
            }
            i++;
        } else {
            /* 5.4.1: unrecognised elective options MUST be silently
             * ignored; dropping them keeps the accessors honest. The
             * duplicate check of the next option still sees the kept
             * first occurrence because remove_at shifts it down. */
            remove_at(m, i);
        }
    }
    return res;
}
