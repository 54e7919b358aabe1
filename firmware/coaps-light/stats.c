/*
 * stats.c - what the device measured about itself, as JSON:
 *   GET /stats        instructions per datagram, datagrams, stack,
 *                     allocations refused
 *   GET /stats/uart   frames received, and dropped by reason
 *   GET /stats/dtls   handshakes, their instructions, the alert of the last
 *                     failure, the heap (coaps:// builds)
 * Instruction counts come from minstret through coaps_port_cost(): emulated
 * time means nothing, instructions retired are the same on every run.
 * The figures for a request are those of the previous datagram (this
 * request's own count is not finished while its handler runs).
 */
#include "stats.h"

#include <string.h>

#include "common/try.h"
#include "virt.h"
#if COAPS_FW_DTLS
#include "mbedtls_port.h"
#else
/* no Mbed TLS: nothing allocates, and there is no heap */
static uint32_t coaps_fw_heap_refused(void)
{
    return 0;
}
static size_t coaps_fw_heap_used(void)
{
    return 0;
}
static size_t coaps_fw_heap_size(void)
{
    return 0;
}
#endif

/* Digits of a uint64_t in decimal. */
#define U64_DIGITS_MAX 20

/* What GET /stats reads. */
struct stats_src {
    const struct coaps_runtime *rt;
    const struct coaps_runtime_dtls *dtls; /* NULL: coap:// only */
};

static struct stats_src stats_src_static;

struct json_out {
    coaps_coap_response *resp;
    coaps_status st;
    bool first;
};

static void put(struct json_out *o, const char *s)
{
    if (o->st == COAPS_OK)
        o->st = coaps_coap_response_append(o->resp, s, strlen(s));
}

static void put_name(struct json_out *o, const char *name)
{
    put(o, o->first ? "{\"" : ", \"");
    o->first = false;
    put(o, name);
    put(o, "\": ");
}

static void put_u64(struct json_out *o, const char *name, uint64_t v)
{
    char digits[U64_DIGITS_MAX + 1];
    size_t i = sizeof digits;
    digits[--i] = '\0';
    do {
        digits[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    put_name(o, name);
    put(o, digits + i);
}

/* An alert description (RFC 5246 7.2), or null when there was none. */
static void put_alert(struct json_out *o, const char *name, int16_t alert)
{
    if (alert >= 0) {
        put_u64(o, name, (uint64_t)alert);
        return;
    }
    put_name(o, name);
    put(o, "null");
}

/* /stats/dtls: the handshakes, and the heap the crypto may have (the
 * ECDHE-ECDSA build's; 0 and 0 for the PSK build, which has none). */
static void put_dtls(struct json_out *o, const struct coaps_runtime_dtls_stats *d)
{
    put_u64(o, "insn_handshake", d->hs_cost_last);
    put_u64(o, "insn_hello_verify", d->hs_cost_hvr);
    put_u64(o, "hello_verify", d->hello_verify);
    put_u64(o, "handshakes", d->handshakes);
    put_u64(o, "established", d->established);
    put_u64(o, "failed", d->failed);
    put_u64(o, "refused", d->refused);
    put_alert(o, "alert_last", d->alert_last);
    put_u64(o, "heap_used", coaps_fw_heap_used());
    put_u64(o, "heap_size", coaps_fw_heap_size());
}

static void put_core(struct json_out *o, const struct coaps_runtime_stats *s)
{
    put_u64(o, "insn_last", s->cost_last);
    put_u64(o, "insn_min", s->requests ? s->cost_min : 0);
    put_u64(o, "insn_max", s->cost_max);
    put_u64(o, "dgram_in", s->datagrams_in);
    put_u64(o, "dgram_out", s->datagrams_out);
    put_u64(o, "stack_used", virt_stack_used());
    put_u64(o, "stack_size", virt_stack_size());
    put_u64(o, "heap_refused", coaps_fw_heap_refused());
}

static void put_uart(struct json_out *o, const struct link_stats *u)
{
    put_u64(o, "ok", u->ok);
    put_u64(o, "bad_crc", u->bad_crc);
    put_u64(o, "oversize", u->oversize);
    put_u64(o, "malformed", u->malformed);
}

enum stats_kind { STATS_CORE, STATS_UART, STATS_DTLS };

/* One small JSON object per resource: each fits a single block, so a
 * client never stitches blocks of two different moments together (the
 * figures change with every request, the block-wise reads included). */
static coaps_status stats_get(void *user, const coaps_coap_request *req,
                              coaps_coap_response *resp, enum stats_kind kind)
{
    (void)req;
    const struct stats_src *src = user;
    struct json_out o = {resp, COAPS_OK, true};
    coaps_coap_response_set_code(resp, COAPS_COAP_CONTENT);
    coaps_coap_response_set_content_format(resp, COAPS_COAP_CF_JSON);
    if (kind == STATS_CORE)
        put_core(&o, &src->rt->stats);
    else if (kind == STATS_UART)
        put_uart(&o, virt_uart_stats());
    else
        put_dtls(&o, &src->dtls->stats);
    put(&o, "}");
    return o.st;
}

static coaps_status get_core(void *user, const coaps_coap_request *req,
                             coaps_coap_response *resp)
{
    return stats_get(user, req, resp, STATS_CORE);
}

static coaps_status get_uart(void *user, const coaps_coap_request *req,
                             coaps_coap_response *resp)
{
    return stats_get(user, req, resp, STATS_UART);
}

static coaps_status get_dtls(void *user, const coaps_coap_request *req,
                             coaps_coap_response *resp)
{
    return stats_get(user, req, resp, STATS_DTLS);
}

static coaps_status add(struct coaps_runtime *rt, const char *path, coaps_coap_handler get)
{
    coaps_coap_resource_def def;
    coaps_coap_resource_def_init(&def, path);
    def.handler[COAPS_COAP_GET] = get;
    def.user = &stats_src_static;
    def.rt = "coaps.stats";
    def.ct = COAPS_COAP_CF_JSON;
    return coaps_coap_resource_add(rt->coap, &def, NULL);
}

coaps_status stats_register(struct coaps_runtime *rt, const struct coaps_runtime_dtls *dtls)
{
    stats_src_static.rt = rt;
    stats_src_static.dtls = dtls;
    TRY(add(rt, "stats", get_core));
    TRY(add(rt, "stats/uart", get_uart));
    return dtls ? add(rt, "stats/dtls", get_dtls) : COAPS_OK;
}
