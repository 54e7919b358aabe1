/* extensions.c - hello extension block parsing and writing (extensions.h). */
#include "dtls/extensions.h"

#include "common/try.h"

/* Any failure to read inside a complete hello is a decode error. */
static coaps_status malformed_if(coaps_status st)
{
    return st == COAPS_E_TRUNCATED ? COAPS_E_MALFORMED : st;
}

static struct dtls_view view_rest(struct wire_rd *r)
{
    struct dtls_view v = {wire_rd_ptr(r), wire_rd_left(r)};
    r->off = r->len;
    return v;
}

/* A vector with a u8 or u16 length prefix filling exactly the data `d`,
 * of min..max bytes and (when even) an even length. */
static coaps_status read_vector(struct wire_rd *d, size_t len_bytes, size_t min, size_t max,
                                bool even, struct dtls_view *out)
{
    uint64_t n;
    TRY(malformed_if(wire_rd_uint(d, len_bytes, &n)));
    ENSURE(n >= min && n <= max && n == wire_rd_left(d), COAPS_E_MALFORMED);
    ENSURE(!even || n % 2 == 0, COAPS_E_MALFORMED);
    *out = view_rest(d);
    return COAPS_OK;
}

/* RFC 6066 3: ServerNameList server_name_list<1..2^16-1>, each entry a
 * NameType and (for every type defined so far) opaque<1..2^16-1>; at most one
 * name per type. We keep the host_name. */
static coaps_status parse_server_name(struct wire_rd *d, enum dtls_ext_ctx ctx,
                                      struct dtls_exts *e)
{
    struct dtls_view list;
    if (ctx == DTLS_EXT_CTX_SERVER_HELLO) {
        /* RFC 6066 3: the server's acknowledgement has empty data. */
        ENSURE(wire_rd_left(d) == 0, COAPS_E_MALFORMED);
        return COAPS_OK;
    }
    TRY(read_vector(d, 2, 1, 0xffff, false, &list));
    struct wire_rd l = wire_rd_init(list.p, list.len);
    bool seen_host = false;
    while (wire_rd_left(&l) > 0) {
        uint8_t type;
        struct dtls_view name;
        uint16_t n;
        TRY(malformed_if(wire_rd_u8(&l, &type)));
        TRY(malformed_if(wire_rd_u16(&l, &n)));
        ENSURE(n >= 1, COAPS_E_MALFORMED);
        name.len = n;
        TRY(malformed_if(wire_rd_view(&l, n, &name.p)));
        if (type == DTLS_SNI_HOST_NAME) {
            ENSURE(!seen_host, COAPS_E_MALFORMED);
            seen_host = true;
            e->server_name = name;
        }
    }
    return COAPS_OK;
}

static coaps_status parse_cert_type(struct wire_rd *d, enum dtls_ext_ctx ctx,
                                    struct dtls_view *out)
{
    if (ctx == DTLS_EXT_CTX_SERVER_HELLO) {
        /* RFC 7250 3: the server names the one type it selected. */
        ENSURE(wire_rd_left(d) == 1, COAPS_E_MALFORMED);
        *out = view_rest(d);
        return COAPS_OK;
    }
    return read_vector(d, 1, 1, 0xff, false, out);
}

/* RFC 5746 3.2: opaque renegotiated_connection<0..255>. We never
 * renegotiate, so it must be empty (RFC 5746 3.4 / 3.6). */
static coaps_status parse_renegotiation_info(struct wire_rd *d)
{
    struct dtls_view rc;
    TRY(read_vector(d, 1, 0, 0xff, false, &rc));
    ENSURE(rc.len == 0, COAPS_E_UNSUPPORTED);
    return COAPS_OK;
}

static uint32_t flag_of(uint16_t type)
{
    switch (type) {
    case DTLS_EXT_SERVER_NAME: return DTLS_EXTF_SERVER_NAME;
    case DTLS_EXT_SUPPORTED_GROUPS: return DTLS_EXTF_SUPPORTED_GROUPS;
    case DTLS_EXT_EC_POINT_FORMATS: return DTLS_EXTF_EC_POINT_FORMATS;
    case DTLS_EXT_SIGNATURE_ALGORITHMS: return DTLS_EXTF_SIGNATURE_ALGORITHMS;
    case DTLS_EXT_CLIENT_CERTIFICATE_TYPE: return DTLS_EXTF_CLIENT_CERTIFICATE_TYPE;
    case DTLS_EXT_SERVER_CERTIFICATE_TYPE: return DTLS_EXTF_SERVER_CERTIFICATE_TYPE;
    case DTLS_EXT_ENCRYPT_THEN_MAC: return DTLS_EXTF_ENCRYPT_THEN_MAC;
    case DTLS_EXT_EXTENDED_MASTER_SECRET: return DTLS_EXTF_EXTENDED_MASTER_SECRET;
    case DTLS_EXT_SESSION_TICKET: return DTLS_EXTF_SESSION_TICKET;
    case DTLS_EXT_RENEGOTIATION_INFO: return DTLS_EXTF_RENEGOTIATION_INFO;
    case DTLS_EXT_CONNECTION_ID: return DTLS_EXTF_CONNECTION_ID;
    default: return 0;
    }
}

/* The body `d` of one recognised extension. */
static coaps_status parse_one(uint16_t type, struct wire_rd *d, enum dtls_ext_ctx ctx,
                              struct dtls_exts *e)
{
    switch (type) {
    case DTLS_EXT_SERVER_NAME:
        return parse_server_name(d, ctx, e);
    case DTLS_EXT_SUPPORTED_GROUPS: /* RFC 8422 5.1.1: <2..2^16-1> of u16 */
        return read_vector(d, 2, 2, 0xffff, true, &e->supported_groups);
    case DTLS_EXT_EC_POINT_FORMATS: /* RFC 8422 5.1.2: <1..2^8-1> */
        return read_vector(d, 1, 1, 0xff, false, &e->ec_point_formats);
    case DTLS_EXT_SIGNATURE_ALGORITHMS: /* RFC 5246 7.4.1.4.1: <2..2^16-2> */
        return read_vector(d, 2, 2, 0xfffe, true, &e->signature_algorithms);
    case DTLS_EXT_CLIENT_CERTIFICATE_TYPE:
        return parse_cert_type(d, ctx, &e->client_cert_types);
    case DTLS_EXT_SERVER_CERTIFICATE_TYPE:
        return parse_cert_type(d, ctx, &e->server_cert_types);
    case DTLS_EXT_EXTENDED_MASTER_SECRET: /* RFC 7627 5.1: empty */
        ENSURE(wire_rd_left(d) == 0, COAPS_E_MALFORMED);
        return COAPS_OK;
    case DTLS_EXT_RENEGOTIATION_INFO:
        return parse_renegotiation_info(d);
    case DTLS_EXT_ENCRYPT_THEN_MAC: /* RFC 7366 2: empty; AEAD ignores it */
        ENSURE(wire_rd_left(d) == 0, COAPS_E_MALFORMED);
        return COAPS_OK;
    case DTLS_EXT_CONNECTION_ID: /* RFC 9146 3: opaque cid<0..2^8-1> */
        return read_vector(d, 1, 0, 0xff, false, &e->connection_id);
    case DTLS_EXT_SESSION_TICKET: { /* RFC 5077 3.2: the ticket, no length */
        size_t n = wire_rd_left(d);
        ENSURE(ctx == DTLS_EXT_CTX_CLIENT_HELLO || n == 0, COAPS_E_MALFORMED);
        e->session_ticket.len = n;
        return malformed_if(wire_rd_view(d, n, &e->session_ticket.p));
    }
    default: /* unknown types: content ignored */
        return COAPS_OK;
    }
}

coaps_status dtls_exts_parse(const uint8_t *p, size_t len, enum dtls_ext_ctx ctx,
                             struct dtls_exts *out)
{
    ENSURE(out != NULL && (p != NULL || len == 0), COAPS_E_INVALID);
    uint16_t seen[DTLS_EXT_MAX_COUNT];
    struct wire_rd r = wire_rd_init(p, len);
    memset(out, 0, sizeof *out);
    while (wire_rd_left(&r) > 0) {
        uint16_t type, n;
        struct wire_rd d;
        TRY(malformed_if(wire_rd_u16(&r, &type)));
        TRY(malformed_if(wire_rd_u16(&r, &n)));
        TRY(malformed_if(wire_rd_sub(&r, n, &d)));
        ENSURE(out->count < DTLS_EXT_MAX_COUNT, COAPS_E_UNSUPPORTED);
        /* RFC 5246 7.4.1.4: no more than one extension of each type. */
        for (uint16_t i = 0; i < out->count; i++)
            ENSURE(seen[i] != type, COAPS_E_MALFORMED);
        seen[out->count++] = type;
        uint32_t flag = flag_of(type);
        if (flag == 0) {
            if (out->unknown_count++ == 0)
                out->first_unknown = type;
            continue;
        }
        TRY(parse_one(type, &d, ctx, out));
        out->present |= flag;
    }
    return COAPS_OK;
}

bool dtls_exts_only_offered(const struct dtls_exts *server, uint32_t offered)
{
    return server->unknown_count == 0 && (server->present & ~offered) == 0;
}

bool dtls_u16_list_contains(struct dtls_view list, uint16_t v)
{
    struct wire_rd r = wire_rd_init(list.p, list.len);
    uint16_t x;
    while (wire_rd_u16(&r, &x) == COAPS_OK)
        if (x == v)
            return true;
    return false;
}

bool dtls_u8_list_contains(struct dtls_view list, uint8_t v)
{
    struct wire_rd r = wire_rd_init(list.p, list.len);
    uint8_t x;
    while (wire_rd_u8(&r, &x) == COAPS_OK)
        if (x == v)
            return true;
    return false;
}

/* ---- writers ------------------------------------------------------------ */

/* Each writer builds into a copy of w and commits only on success, so a
 * failed call leaves w unchanged. */

coaps_status dtls_ext_write_empty(struct wire_wr *w, uint16_t type)
{
    struct wire_wr t = *w;
    TRY(wire_wr_u16(&t, type));
    TRY(wire_wr_u16(&t, 0));
    *w = t;
    return COAPS_OK;
}

coaps_status dtls_ext_write_renegotiation_info(struct wire_wr *w)
{
    struct wire_wr t = *w;
    TRY(wire_wr_u16(&t, DTLS_EXT_RENEGOTIATION_INFO));
    TRY(wire_wr_u16(&t, 1));
    TRY(wire_wr_u8(&t, 0)); /* renegotiated_connection: empty */
    *w = t;
    return COAPS_OK;
}

coaps_status dtls_ext_write_server_name(struct wire_wr *w, const uint8_t *host, size_t host_len)
{
    ENSURE(host != NULL && host_len >= 1 && host_len <= 0xffff - 5, COAPS_E_INVALID);
    struct wire_wr t = *w;
    TRY(wire_wr_u16(&t, DTLS_EXT_SERVER_NAME));
    TRY(wire_wr_u16(&t, (uint16_t)(host_len + 5)));
    TRY(wire_wr_u16(&t, (uint16_t)(host_len + 3))); /* server_name_list */
    TRY(wire_wr_u8(&t, DTLS_SNI_HOST_NAME));
    TRY(wire_wr_u16(&t, (uint16_t)host_len));
    TRY(wire_wr_bytes(&t, host, host_len));
    *w = t;
    return COAPS_OK;
}

/* type, u16 ext length, u16 list length, n u16 entries */
static coaps_status write_u16_list_ext(struct wire_wr *w, uint16_t type, const uint16_t *v,
                                       size_t n)
{
    ENSURE(v != NULL && n >= 1 && n <= 0x7fff - 1, COAPS_E_INVALID);
    struct wire_wr t = *w;
    TRY(wire_wr_u16(&t, type));
    TRY(wire_wr_u16(&t, (uint16_t)(2 + 2 * n)));
    TRY(wire_wr_u16(&t, (uint16_t)(2 * n)));
    for (size_t i = 0; i < n; i++)
        TRY(wire_wr_u16(&t, v[i]));
    *w = t;
    return COAPS_OK;
}

/* type, u16 ext length, u8 list length, n u8 entries */
static coaps_status write_u8_list_ext(struct wire_wr *w, uint16_t type, const uint8_t *v,
                                      size_t n)
{
    ENSURE(v != NULL && n >= 1 && n <= 0xff, COAPS_E_INVALID);
    struct wire_wr t = *w;
    TRY(wire_wr_u16(&t, type));
    TRY(wire_wr_u16(&t, (uint16_t)(1 + n)));
    TRY(wire_wr_u8(&t, (uint8_t)n));
    TRY(wire_wr_bytes(&t, v, n));
    *w = t;
    return COAPS_OK;
}

coaps_status dtls_ext_write_supported_groups(struct wire_wr *w, const uint16_t *groups, size_t n)
{
    return write_u16_list_ext(w, DTLS_EXT_SUPPORTED_GROUPS, groups, n);
}

coaps_status dtls_ext_write_ec_point_formats(struct wire_wr *w, const uint8_t *formats, size_t n)
{
    return write_u8_list_ext(w, DTLS_EXT_EC_POINT_FORMATS, formats, n);
}

coaps_status dtls_ext_write_signature_algorithms(struct wire_wr *w, const uint16_t *algs,
                                                 size_t n)
{
    return write_u16_list_ext(w, DTLS_EXT_SIGNATURE_ALGORITHMS, algs, n);
}

static bool is_cert_type_ext(uint16_t t)
{
    return t == DTLS_EXT_CLIENT_CERTIFICATE_TYPE || t == DTLS_EXT_SERVER_CERTIFICATE_TYPE;
}

coaps_status dtls_ext_write_cert_type_list(struct wire_wr *w, uint16_t ext_type,
                                           const uint8_t *types, size_t n)
{
    ENSURE(is_cert_type_ext(ext_type), COAPS_E_INVALID);
    return write_u8_list_ext(w, ext_type, types, n);
}

coaps_status dtls_ext_write_cert_type(struct wire_wr *w, uint16_t ext_type, uint8_t type)
{
    ENSURE(is_cert_type_ext(ext_type), COAPS_E_INVALID);
    struct wire_wr t = *w;
    TRY(wire_wr_u16(&t, ext_type));
    TRY(wire_wr_u16(&t, 1));
    TRY(wire_wr_u8(&t, type));
    *w = t;
    return COAPS_OK;
}

coaps_status dtls_ext_write_connection_id(struct wire_wr *w, const uint8_t *cid, size_t len)
{
    ENSURE(len <= 0xff && (cid != NULL || len == 0), COAPS_E_INVALID);
    struct wire_wr t = *w;
    TRY(wire_wr_u16(&t, DTLS_EXT_CONNECTION_ID));
    TRY(wire_wr_u16(&t, (uint16_t)(1 + len)));
    TRY(wire_wr_u8(&t, (uint8_t)len));
    if (len)
        TRY(wire_wr_bytes(&t, cid, len));
    *w = t;
    return COAPS_OK;
}

coaps_status dtls_ext_write_session_ticket(struct wire_wr *w, const uint8_t *ticket, size_t len)
{
    ENSURE(len <= 0xffff && (ticket != NULL || len == 0), COAPS_E_INVALID);
    struct wire_wr t = *w;
    TRY(wire_wr_u16(&t, DTLS_EXT_SESSION_TICKET));
    TRY(wire_wr_u16(&t, (uint16_t)len));
    if (len)
        TRY(wire_wr_bytes(&t, ticket, len));
    *w = t;
    return COAPS_OK;
}
