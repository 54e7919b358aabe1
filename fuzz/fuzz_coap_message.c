/*
 * fuzz_coap_message.c - the CoAP message parser (src/coap/message.c).
 *
 * Parse arbitrary bytes; when they parse, encode the message again and
 * parse that: it must parse, give the same message, and re-encode to the
 * same bytes (RFC 7252 3 has one encoding per message once the option
 * deltas are minimal, which our encoder always produces).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coaps/coap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_message(const coaps_coap_msg *a, const coaps_coap_msg *b)
{
    if (a->type != b->type || a->code != b->code || a->mid != b->mid ||
        a->token_len != b->token_len || memcmp(a->token, b->token, a->token_len) != 0 ||
        a->opt_count != b->opt_count || a->payload_len != b->payload_len)
        abort();
    if (a->payload_len && memcmp(a->payload, b->payload, a->payload_len) != 0)
        abort();
    for (size_t i = 0; i < a->opt_count; i++) {
        const coaps_coap_option *x = &a->opts[i], *y = &b->opts[i];
        if (x->number != y->number || x->len != y->len ||
            memcmp(coaps_coap_option_value(x), coaps_coap_option_value(y), x->len) != 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static coaps_coap_msg m, m2;
    static uint8_t out[70000], out2[70000];
    if (coaps_coap_msg_parse(&m, data, size) != COAPS_OK)
        return 0;
    size_t len, len2;
    if (coaps_coap_msg_encode(&m, out, sizeof out, &len) != COAPS_OK)
        abort();
    if (coaps_coap_msg_parse(&m2, out, len) != COAPS_OK)
        abort();
    same_message(&m, &m2);
    if (coaps_coap_msg_encode(&m2, out2, sizeof out2, &len2) != COAPS_OK || len2 != len ||
        memcmp(out, out2, len) != 0)
        abort();
    /* the accessors must cope with whatever parsed */
    char path[512];
    (void)coaps_coap_msg_uri_path(&m, path, sizeof path);
    uint32_t v;
    (void)coaps_coap_msg_get_uint(&m, COAPS_COAP_OPT_OBSERVE, &v);
    coaps_coap_block b;
    (void)coaps_coap_msg_get_block(&m, COAPS_COAP_OPT_BLOCK2, &b);
    const uint8_t *q;
    size_t ql;
    (void)coaps_coap_msg_query(&m, "rt", &q, &ql);
    return 0;
}
