/* json.c - bounded JSON validator (see json.h, RFC 8259). */
#include "light/json.h"

#include <stdbool.h>

#include "common/try.h"
#include "common/wire.h"
#include "common/hex.h"

static coaps_status json_value(struct wire_rd *r, unsigned depth, enum json_kind *kind);

/* Look at the next byte without consuming it. */
static coaps_status json_peek(const struct wire_rd *r, uint8_t *c)
{
    ENSURE(wire_rd_left(r) > 0, COAPS_E_TRUNCATED);
    *c = wire_rd_ptr(r)[0];
    return COAPS_OK;
}

/* RFC 8259 section 2: ws = *( %x20 / %x09 / %x0A / %x0D ) */
static void json_skip_ws(struct wire_rd *r)
{
    uint8_t c;
    while (json_peek(r, &c) == COAPS_OK && (c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d))
        (void)wire_rd_skip(r, 1);
}

/* Consume the byte `want` or fail. */
static coaps_status json_expect(struct wire_rd *r, uint8_t want)
{
    uint8_t c;
    TRY(wire_rd_u8(r, &c));
    ENSURE(c == want, COAPS_E_MALFORMED);
    return COAPS_OK;
}

static coaps_status json_literal(struct wire_rd *r, const char *lit)
{
    for (; *lit; lit++)
        TRY(json_expect(r, (uint8_t)*lit));
    return COAPS_OK;
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* The four hex digits after "\u". */
static coaps_status json_hex4(struct wire_rd *r, uint16_t *out)
{
    uint16_t v = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t c;
        TRY(wire_rd_u8(r, &c));
        int h = hex_digit(c);
        ENSURE(h >= 0, COAPS_E_MALFORMED);
        v = (uint16_t)((v << 4) | (uint16_t)h);
    }
    *out = v;
    return COAPS_OK;
}

/* After a backslash: RFC 8259 section 7 escapes; a high surrogate must be
 * followed by an escaped low surrogate (section 8.2 lets us reject lone
 * surrogates, which cannot be turned into UTF-8). */
static coaps_status json_escape(struct wire_rd *r)
{
    uint8_t c;
    TRY(wire_rd_u8(r, &c));
    switch (c) {
    case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        return COAPS_OK;
    case 'u':
        break;
    default:
        return COAPS_E_MALFORMED;
    }
    uint16_t u;
    TRY(json_hex4(r, &u));
    if (u >= 0xdc00 && u <= 0xdfff)
        return COAPS_E_MALFORMED; /* low surrogate first */
    if (u < 0xd800 || u > 0xdbff)
        return COAPS_OK;
    uint16_t lo;
    TRY(json_expect(r, '\\'));
    TRY(json_expect(r, 'u'));
    TRY(json_hex4(r, &lo));
    ENSURE(lo >= 0xdc00 && lo <= 0xdfff, COAPS_E_MALFORMED);
    return COAPS_OK;
}

/* One UTF-8 sequence whose lead byte (>= 0x80) was already read
 * (RFC 3629 section 4: shortest form, no surrogates, <= U+10FFFF). */
struct utf8_lead {
    uint8_t first, last; /* range of lead bytes */
    uint8_t conts;       /* continuation bytes that follow */
    uint8_t lo, hi;      /* allowed range of the first continuation byte */
};

static const struct utf8_lead utf8_leads[] = {
    {0xc2, 0xdf, 1, 0x80, 0xbf},
    {0xe0, 0xe0, 2, 0xa0, 0xbf},
    {0xe1, 0xec, 2, 0x80, 0xbf},
    {0xed, 0xed, 2, 0x80, 0x9f},
    {0xee, 0xef, 2, 0x80, 0xbf},
    {0xf0, 0xf0, 3, 0x90, 0xbf},
    {0xf1, 0xf3, 3, 0x80, 0xbf},
    {0xf4, 0xf4, 3, 0x80, 0x8f},
};

static coaps_status json_utf8_tail(struct wire_rd *r, uint8_t lead)
{
    const struct utf8_lead *row = NULL;
    for (size_t i = 0; i < COAPS_ARRAY_LEN(utf8_leads); i++)
        if (lead >= utf8_leads[i].first && lead <= utf8_leads[i].last)
            row = &utf8_leads[i];
    ENSURE(row != NULL, COAPS_E_MALFORMED);
    for (uint8_t i = 0; i < row->conts; i++) {
        uint8_t c;
        TRY(wire_rd_u8(r, &c));
        uint8_t lo = i == 0 ? row->lo : 0x80, hi = i == 0 ? row->hi : 0xbf;
        ENSURE(c >= lo && c <= hi, COAPS_E_MALFORMED);
    }
    return COAPS_OK;
}

/* RFC 8259 section 7; the opening quote is next. */
static coaps_status json_string(struct wire_rd *r)
{
    TRY(json_expect(r, '"'));
    for (;;) {
        uint8_t c;
        TRY(wire_rd_u8(r, &c));
        if (c == '"')
            return COAPS_OK;
        if (c == '\\')
            TRY(json_escape(r));
        else if (c < 0x20)
            return COAPS_E_MALFORMED; /* control characters must be escaped */
        else if (c >= 0x80)
            TRY(json_utf8_tail(r, c));
    }
}

static size_t json_digits(struct wire_rd *r)
{
    size_t n = 0;
    uint8_t c;
    while (json_peek(r, &c) == COAPS_OK && is_digit(c)) {
        (void)wire_rd_skip(r, 1);
        n++;
    }
    return n;
}

/* RFC 8259 section 6: [ minus ] int [ frac ] [ exp ], int has no leading
 * zeros. A number may end the input, so only missing digits are errors. */
static coaps_status json_number(struct wire_rd *r)
{
    uint8_t c;
    if (json_peek(r, &c) == COAPS_OK && c == '-')
        (void)wire_rd_skip(r, 1);
    TRY(json_peek(r, &c));
    if (c == '0')
        (void)wire_rd_skip(r, 1);
    else
        ENSURE(json_digits(r) > 0, COAPS_E_MALFORMED);
    if (json_peek(r, &c) == COAPS_OK && c == '.') {
        (void)wire_rd_skip(r, 1);
        ENSURE(json_digits(r) > 0, wire_rd_left(r) ? COAPS_E_MALFORMED : COAPS_E_TRUNCATED);
    }
    if (json_peek(r, &c) == COAPS_OK && (c == 'e' || c == 'E')) {
        (void)wire_rd_skip(r, 1);
        if (json_peek(r, &c) == COAPS_OK && (c == '+' || c == '-'))
            (void)wire_rd_skip(r, 1);
        ENSURE(json_digits(r) > 0, wire_rd_left(r) ? COAPS_E_MALFORMED : COAPS_E_TRUNCATED);
    }
    return COAPS_OK;
}

/* Shared by objects and arrays: elements separated by ',' up to `close`.
 * In an object each element is  string ws ':' ws value. */
static coaps_status json_members(struct wire_rd *r, unsigned depth, bool object, uint8_t close)
{
    uint8_t c;
    (void)wire_rd_skip(r, 1); /* the opening bracket, already peeked */
    json_skip_ws(r);
    TRY(json_peek(r, &c));
    if (c == close)
        return wire_rd_skip(r, 1);
    for (;;) {
        enum json_kind k;
        json_skip_ws(r);
        if (object) {
            TRY(json_peek(r, &c));
            ENSURE(c == '"', COAPS_E_MALFORMED);
            TRY(json_string(r));
            json_skip_ws(r);
            TRY(json_expect(r, ':'));
            json_skip_ws(r);
        }
        TRY(json_value(r, depth + 1, &k));
        json_skip_ws(r);
        TRY(wire_rd_u8(r, &c));
        if (c == close)
            return COAPS_OK;
        ENSURE(c == ',', COAPS_E_MALFORMED);
    }
}

/* RFC 8259 section 3: one value; whitespace around it is the caller's. */
static coaps_status json_value(struct wire_rd *r, unsigned depth, enum json_kind *kind)
{
    uint8_t c;
    TRY(json_peek(r, &c));
    switch (c) {
    case '{':
    case '[':
        ENSURE(depth < JSON_MAX_DEPTH, COAPS_E_FULL);
        *kind = c == '{' ? JSON_OBJECT : JSON_ARRAY;
        return json_members(r, depth, c == '{', c == '{' ? '}' : ']');
    case '"':
        *kind = JSON_STRING;
        return json_string(r);
    case 't':
        *kind = JSON_TRUE;
        return json_literal(r, "true");
    case 'f':
        *kind = JSON_FALSE;
        return json_literal(r, "false");
    case 'n':
        *kind = JSON_NULL;
        return json_literal(r, "null");
    default:
        ENSURE(c == '-' || is_digit(c), COAPS_E_MALFORMED);
        *kind = JSON_NUMBER;
        return json_number(r);
    }
}

coaps_status json_validate(const uint8_t *buf, size_t len, enum json_kind *kind)
{
    ENSURE(buf != NULL || len == 0, COAPS_E_INVALID);
    struct wire_rd r = wire_rd_init(buf, len);
    enum json_kind k;
    json_skip_ws(&r);
    ENSURE(wire_rd_left(&r) > 0, COAPS_E_MALFORMED); /* empty text */
    TRY(json_value(&r, 0, &k));
    json_skip_ws(&r);
    ENSURE(wire_rd_left(&r) == 0, COAPS_E_MALFORMED); /* trailing bytes */
    if (kind)
        *kind = k;
    return COAPS_OK;
}
