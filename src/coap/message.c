/*
 * message.c - CoAP message codec (RFC 7252 3) and option accessors.
 *
 * Every byte goes through the wire_rd / wire_wr bounded reader and writer.
 */
#include <stddef.h>
#include <string.h>

#include "coaps/coap.h"
#include "common/try.h"
#include "common/wire.h"

#define COAP_VERSION 1
#define COAP_PAYLOAD_MARKER 0xFF
/* RFC 7252 3.1: nibble values 13 and 14 announce 1- and 2-byte extended
 * fields holding value-13 and value-269; 15 is reserved. */
#define COAP_NIBBLE_EXT8 13
#define COAP_NIBBLE_EXT16 14
#define COAP_NIBBLE_RESERVED 15
#define COAP_EXT8_BASE 13u
#define COAP_EXT16_BASE 269u

void coaps_coap_msg_init(coaps_coap_msg *m, uint8_t type, uint8_t code, uint16_t mid)
{
    memset(m, 0, sizeof *m);
    m->type = type;
    m->code = code;
    m->mid = mid;
}

/* RFC 7252 3 / 12.1: classes 0 (request), 2, 4, 5 (responses); all other
 * class values are reserved. */
static bool code_class_known(uint8_t code)
{
    uint8_t c = COAPS_COAP_CODE_CLASS(code);
    return c == 0 || c == 2 || c == 4 || c == 5;
}

/* Read the extended part of a delta or length nibble (RFC 7252 3.1). */
static coaps_status read_ext(struct wire_rd *r, uint8_t nibble, uint32_t *out)
{
    if (nibble < COAP_NIBBLE_EXT8) {
        *out = nibble;
        return COAPS_OK;
    }
    if (nibble == COAP_NIBBLE_EXT8) {
        uint8_t v;
        TRY(wire_rd_u8(r, &v));
        *out = v + COAP_EXT8_BASE;
        return COAPS_OK;
    }
    if (nibble == COAP_NIBBLE_EXT16) {
        uint16_t v;
        TRY(wire_rd_u16(r, &v));
        *out = v + COAP_EXT16_BASE;
        return COAPS_OK;
    }
    /* 15 is only valid as the whole payload-marker byte. */
    return COAPS_E_MALFORMED;
}

static coaps_status parse_header(coaps_coap_msg *m, struct wire_rd *r)
{
    uint8_t b0;
    TRY(wire_rd_u8(r, &b0));
    TRY(wire_rd_u8(r, &m->code));
    TRY(wire_rd_u16(r, &m->mid));
    m->type = (b0 >> 4) & 3;
    m->token_len = b0 & 0x0f;
    /* RFC 7252 3: unknown versions are silently ignored by the caller. */
    ENSURE((b0 >> 6) == COAP_VERSION, COAPS_E_MALFORMED);
    /* RFC 7252 3: token lengths 9-15 are a message format error. */
    if (m->token_len > COAPS_COAP_TOKEN_MAX) {
        m->token_len = 0;
        return COAPS_E_MALFORMED;
    }
    coaps_status st = wire_rd_bytes(r, m->token, m->token_len);
    if (st != COAPS_OK)
        m->token_len = 0;
    return st;
}

/* One option; returns COAPS_E_AGAIN at the payload marker / end. */
static coaps_status parse_option(coaps_coap_msg *m, struct wire_rd *r, uint32_t *number,
                                 bool *overflow)
{
    if (wire_rd_left(r) == 0)
        return COAPS_E_AGAIN;
    uint8_t b;
    TRY(wire_rd_u8(r, &b));
    if (b == COAP_PAYLOAD_MARKER) {
        /* RFC 7252 3: a marker followed by a zero-length payload is a
         * message format error. */
        ENSURE(wire_rd_left(r) > 0, COAPS_E_MALFORMED);
        m->payload_len = wire_rd_left(r);
        TRY(wire_rd_view(r, m->payload_len, &m->payload));
        return COAPS_E_AGAIN;
    }
    uint32_t delta, len;
    TRY(read_ext(r, b >> 4, &delta));
    TRY(read_ext(r, b & 0x0f, &len));
    *number += delta;
    /* option numbers are 16-bit (RFC 7252 12.2 registry 0..65535) */
    ENSURE(*number <= UINT16_MAX, COAPS_E_MALFORMED);
    const uint8_t *val;
    TRY(wire_rd_view(r, len, &val));
    if (m->opt_count == COAPS_COAP_MAX_OPTIONS) {
        *overflow = true; /* keep validating the rest of the datagram */
        return COAPS_OK;
    }
    coaps_coap_option *o = &m->opts[m->opt_count++];
    memset(o, 0, sizeof *o);
    o->number = (uint16_t)*number;
    o->len = len;
    o->value = val; /* into the datagram; valid even when len == 0 */
    return COAPS_OK;
}

coaps_status coaps_coap_msg_parse(coaps_coap_msg *m, const uint8_t *dgram, size_t len)
{
    memset(m, 0, offsetof(coaps_coap_msg, opts));
    m->opt_count = 0;
    m->payload = NULL;
    m->payload_len = 0;
    struct wire_rd r = wire_rd_init(dgram, len);
    TRY(parse_header(m, &r));
    ENSURE(code_class_known(m->code), COAPS_E_MALFORMED);
    if (m->code == COAPS_COAP_EMPTY) {
        /* RFC 7252 4.1: an Empty message has no token, options or
         * payload; anything after the header is a format error. */
        ENSURE(m->token_len == 0 && wire_rd_left(&r) == 0, COAPS_E_MALFORMED);
        return COAPS_OK;
    }
    uint32_t number = 0;
    bool overflow = false;
    for (;;) {
        coaps_status st = parse_option(m, &r, &number, &overflow);
        if (st == COAPS_E_AGAIN)
            break;
        TRY(st);
    }
    return overflow ? COAPS_E_FULL : COAPS_OK;
}

const uint8_t *coaps_coap_option_value(const coaps_coap_option *o)
{
    return o->value ? o->value : o->inline_val;
}

/* Split v into a nibble and its extended bytes (RFC 7252 3.1). */
static uint8_t ext_nibble(uint32_t v)
{
    if (v < COAP_EXT8_BASE)
        return (uint8_t)v;
    return v < COAP_EXT16_BASE ? COAP_NIBBLE_EXT8 : COAP_NIBBLE_EXT16;
}

static coaps_status write_ext(struct wire_wr *w, uint32_t v)
{
    if (v < COAP_EXT8_BASE)
        return COAPS_OK;
    if (v < COAP_EXT16_BASE)
        return wire_wr_u8(w, (uint8_t)(v - COAP_EXT8_BASE));
    return wire_wr_u16(w, (uint16_t)(v - COAP_EXT16_BASE));
}

static coaps_status encode_option(struct wire_wr *w, const coaps_coap_option *o, uint32_t delta)
{
    ENSURE(o->len <= COAPS_COAP_OPTION_LEN_MAX, COAPS_E_INVALID);
    TRY(wire_wr_u8(w, (uint8_t)(ext_nibble(delta) << 4 | ext_nibble(o->len))));
    TRY(write_ext(w, delta));
    TRY(write_ext(w, o->len));
    return wire_wr_bytes(w, coaps_coap_option_value(o), o->len);
}

coaps_status coaps_coap_msg_encode(const coaps_coap_msg *m, uint8_t *buf, size_t cap,
                                   size_t *out_len)
{
    ENSURE(m->token_len <= COAPS_COAP_TOKEN_MAX && m->type <= 3, COAPS_E_INVALID);
    ENSURE(m->opt_count <= COAPS_COAP_MAX_OPTIONS, COAPS_E_INVALID);
    struct wire_wr w = wire_wr_init(buf, cap);
    TRY(wire_wr_u8(&w, (uint8_t)(COAP_VERSION << 6 | m->type << 4 | m->token_len)));
    TRY(wire_wr_u8(&w, m->code));
    TRY(wire_wr_u16(&w, m->mid));
    TRY(wire_wr_bytes(&w, m->token, m->token_len));
    uint16_t prev = 0;
    for (size_t i = 0; i < m->opt_count; i++) {
        ENSURE(m->opts[i].number >= prev, COAPS_E_INVALID);
        TRY(encode_option(&w, &m->opts[i], (uint32_t)(m->opts[i].number - prev)));
        prev = m->opts[i].number;
    }
    if (m->payload_len > 0) {
        TRY(wire_wr_u8(&w, COAP_PAYLOAD_MARKER));
        TRY(wire_wr_bytes(&w, m->payload, m->payload_len));
    }
    *out_len = w.off;
    return COAPS_OK;
}

coaps_status coaps_coap_msg_set_token(coaps_coap_msg *m, const uint8_t *token, size_t len)
{
    ENSURE(len <= COAPS_COAP_TOKEN_MAX, COAPS_E_INVALID);
    if (len)
        memcpy(m->token, token, len);
    m->token_len = (uint8_t)len;
    return COAPS_OK;
}

/* Make room at the sorted position of `number` (after equal numbers). */
static coaps_status insert_slot(coaps_coap_msg *m, uint16_t number, coaps_coap_option **out)
{
    ENSURE(m->opt_count < COAPS_COAP_MAX_OPTIONS, COAPS_E_FULL);
    size_t at = m->opt_count;
    while (at > 0 && m->opts[at - 1].number > number) {
        m->opts[at] = m->opts[at - 1];
        at--;
    }
    m->opt_count++;
    *out = &m->opts[at];
    memset(*out, 0, sizeof **out);
    (*out)->number = number;
    return COAPS_OK;
}

coaps_status coaps_coap_msg_add_option(coaps_coap_msg *m, uint16_t number, const void *value,
                                       size_t len)
{
    ENSURE(len <= COAPS_COAP_OPTION_LEN_MAX && (value != NULL || len == 0), COAPS_E_INVALID);
    coaps_coap_option *o;
    TRY(insert_slot(m, number, &o));
    o->value = value;
    o->len = (uint32_t)len;
    return COAPS_OK;
}

coaps_status coaps_coap_msg_add_uint(coaps_coap_msg *m, uint16_t number, uint32_t v)
{
    coaps_coap_option *o;
    TRY(insert_slot(m, number, &o));
    /* RFC 7252 3.2: shortest form, no leading zero bytes. */
    uint8_t n = 0;
    for (uint32_t t = v; t != 0; t >>= 8)
        n++;
    for (uint8_t i = 0; i < n; i++)
        o->inline_val[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    o->value = NULL;
    o->len = n;
    return COAPS_OK;
}

void coaps_coap_msg_remove_option(coaps_coap_msg *m, uint16_t number)
{
    size_t out = 0;
    for (size_t i = 0; i < m->opt_count; i++)
        if (m->opts[i].number != number)
            m->opts[out++] = m->opts[i];
    m->opt_count = (uint8_t)out;
}

const coaps_coap_option *coaps_coap_msg_find_option(const coaps_coap_msg *m, uint16_t number,
                                                    size_t *it)
{
    for (size_t i = 0; i < m->opt_count; i++) {
        if (m->opts[i].number == number) {
            if (it)
                *it = i;
            return &m->opts[i];
        }
    }
    return NULL;
}

const coaps_coap_option *coaps_coap_msg_next_option(const coaps_coap_msg *m, uint16_t number,
                                                    size_t *it)
{
    for (size_t i = *it + 1; i < m->opt_count; i++) {
        if (m->opts[i].number == number) {
            *it = i;
            return &m->opts[i];
        }
    }
    return NULL;
}

coaps_status coaps_coap_msg_get_uint(const coaps_coap_msg *m, uint16_t number, uint32_t *v)
{
    const coaps_coap_option *o = coaps_coap_msg_find_option(m, number, NULL);
    ENSURE(o != NULL, COAPS_E_NOT_FOUND);
    ENSURE(o->len <= 4, COAPS_E_MALFORMED);
    *v = 0;
    if (o->len == 0)
        return COAPS_OK;
    uint64_t x;
    struct wire_rd r = wire_rd_init(coaps_coap_option_value(o), o->len);
    TRY(wire_rd_uint(&r, o->len, &x));
    *v = (uint32_t)x;
    return COAPS_OK;
}

coaps_status coaps_coap_msg_uri_path(const coaps_coap_msg *m, char *buf, size_t cap)
{
    ENSURE(cap > 0, COAPS_E_NOSPACE);
    struct wire_wr w = wire_wr_init((uint8_t *)buf, cap - 1);
    size_t it;
    bool first = true;
    for (const coaps_coap_option *o = coaps_coap_msg_find_option(m, COAPS_COAP_OPT_URI_PATH, &it);
         o != NULL; o = coaps_coap_msg_next_option(m, COAPS_COAP_OPT_URI_PATH, &it)) {
        if (!first)
            TRY(wire_wr_u8(&w, '/'));
        TRY(wire_wr_bytes(&w, coaps_coap_option_value(o), o->len));
        first = false;
    }
    buf[w.off] = '\0';
    return COAPS_OK;
}

coaps_status coaps_coap_msg_query(const coaps_coap_msg *m, const char *name,
                                  const uint8_t **value, size_t *len)
{
    size_t nlen = strlen(name), it;
    for (const coaps_coap_option *o = coaps_coap_msg_find_option(m, COAPS_COAP_OPT_URI_QUERY, &it);
         o != NULL; o = coaps_coap_msg_next_option(m, COAPS_COAP_OPT_URI_QUERY, &it)) {
        const uint8_t *v = coaps_coap_option_value(o);
        if (o->len < nlen || memcmp(v, name, nlen) != 0)
            continue;
        if (o->len == nlen) {
            *value = v + nlen;
            *len = 0;
            return COAPS_OK;
        }
        if (v[nlen] == '=') {
            *value = v + nlen + 1;
            *len = o->len - nlen - 1;
            return COAPS_OK;
        }
    }
    return COAPS_E_NOT_FOUND;
}
