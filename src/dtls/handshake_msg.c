/* handshake_msg.c - DTLS 1.2 handshake message codecs (handshake_msg.h). */
#include "dtls/handshake_msg.h"

#include "common/try.h"

#define U24_MAX 0xffffffu

/* Inside a complete body, running out of bytes is a decode error. */
static coaps_status malformed_if(coaps_status st)
{
    return st == COAPS_E_TRUNCATED ? COAPS_E_MALFORMED : st;
}

/* A vector with a len_bytes length prefix of min..max bytes; the view
 * borrows from r's buffer. Reports COAPS_E_TRUNCATED when r ends early
 * (callers on complete bodies turn that into COAPS_E_MALFORMED). */
static coaps_status rd_vector(struct wire_rd *r, size_t len_bytes, size_t min, size_t max,
                              struct dtls_view *out)
{
    struct wire_rd save = *r;
    uint64_t n;
    coaps_status st = wire_rd_uint(r, len_bytes, &n);
    if (st == COAPS_OK && (n < min || n > max))
        st = COAPS_E_MALFORMED;
    if (st == COAPS_OK) {
        out->len = (size_t)n;
        st = wire_rd_view(r, out->len, &out->p);
    }
    if (st != COAPS_OK)
        *r = save;
    return st;
}

static coaps_status wr_vector(struct wire_wr *w, size_t len_bytes, size_t min, size_t max,
                              struct dtls_view v)
{
    ENSURE(v.len >= min && v.len <= max && (v.p != NULL || v.len == 0), COAPS_E_INVALID);
    TRY(wire_wr_uint(w, len_bytes, v.len));
    return wire_wr_bytes(w, v.p, v.len);
}

/* ---- header -------------------------------------------------------------- */

coaps_status dtls_hs_header_read(struct wire_rd *r, struct dtls_hs_header *h,
                                 const uint8_t **fragment)
{
    ENSURE(r != NULL && h != NULL && fragment != NULL, COAPS_E_INVALID);
    struct wire_rd t = *r;
    struct dtls_hs_header x;
    ENSURE(wire_rd_left(&t) >= DTLS_HS_HEADER_LEN, COAPS_E_TRUNCATED);
    TRY(wire_rd_u8(&t, &x.msg_type));
    TRY(wire_rd_u24(&t, &x.length));
    TRY(wire_rd_u16(&t, &x.message_seq));
    TRY(wire_rd_u24(&t, &x.fragment_offset));
    TRY(wire_rd_u24(&t, &x.fragment_length));
    /* RFC 6347 4.2.3: a fragment lies inside its message. */
    ENSURE((uint64_t)x.fragment_offset + x.fragment_length <= x.length, COAPS_E_MALFORMED);
    ENSURE(x.length <= DTLS_HS_MSG_MAX, COAPS_E_UNSUPPORTED);
    TRY(wire_rd_view(&t, x.fragment_length, fragment));
    *h = x;
    *r = t;
    return COAPS_OK;
}

coaps_status dtls_hs_header_write(struct wire_wr *w, const struct dtls_hs_header *h)
{
    ENSURE(h->length <= U24_MAX && h->fragment_offset <= U24_MAX &&
               h->fragment_length <= U24_MAX,
           COAPS_E_INVALID);
    ENSURE(wire_wr_left(w) >= DTLS_HS_HEADER_LEN, COAPS_E_NOSPACE);
    TRY(wire_wr_u8(w, h->msg_type));
    TRY(wire_wr_u24(w, h->length));
    TRY(wire_wr_u16(w, h->message_seq));
    TRY(wire_wr_u24(w, h->fragment_offset));
    return wire_wr_u24(w, h->fragment_length);
}

coaps_status dtls_hs_header_write_whole(struct wire_wr *w, uint8_t msg_type, uint16_t message_seq,
                                        size_t length)
{
    ENSURE(length <= DTLS_HS_MSG_MAX, COAPS_E_INVALID);
    struct dtls_hs_header h = {msg_type, (uint32_t)length, message_seq, 0, (uint32_t)length};
    return dtls_hs_header_write(w, &h);
}

/* ---- ClientHello ------------------------------------------------------- */

/* RFC 6347 4.2.1 / RFC 5246 7.4.1.2: the fields through compression_methods. */
static coaps_status read_client_hello_fixed(struct wire_rd *r, struct dtls_client_hello *ch)
{
    memset(ch, 0, sizeof *ch);
    TRY(wire_rd_u16(r, &ch->client_version));
    TRY(wire_rd_view(r, DTLS_RANDOM_LEN, &ch->random));
    TRY(rd_vector(r, 1, 0, DTLS_SESSION_ID_MAX, &ch->session_id));
    TRY(rd_vector(r, 1, 0, DTLS_COOKIE_WIRE_MAX, &ch->cookie));
    TRY(rd_vector(r, 2, 2, 0xfffe, &ch->cipher_suites));
    ENSURE(ch->cipher_suites.len % 2 == 0, COAPS_E_MALFORMED);
    TRY(rd_vector(r, 1, 1, 0xff, &ch->compression_methods));
    /* RFC 5246 7.4.1.2: the list MUST contain null. */
    ENSURE(dtls_u8_list_contains(ch->compression_methods, DTLS_COMPRESSION_NULL),
           COAPS_E_UNSUPPORTED);
    return COAPS_OK;
}

/* RFC 5246 7.4.1.2/7.4.1.3: after the fixed fields either nothing or an
 * extension block that fills the rest of the body exactly. */
static coaps_status read_extensions(struct wire_rd *r, enum dtls_ext_ctx ctx, bool *has,
                                    struct dtls_view *raw, struct dtls_exts *exts)
{
    *has = false;
    memset(exts, 0, sizeof *exts);
    raw->p = NULL;
    raw->len = 0;
    if (wire_rd_left(r) == 0)
        return COAPS_OK;
    TRY(malformed_if(rd_vector(r, 2, 0, 0xffff, raw)));
    ENSURE(wire_rd_left(r) == 0, COAPS_E_MALFORMED);
    *has = true;
    return dtls_exts_parse(raw->p, raw->len, ctx, exts);
}

coaps_status dtls_client_hello_parse(const uint8_t *body, size_t len,
                                     struct dtls_client_hello *out)
{
    ENSURE(out != NULL && (body != NULL || len == 0), COAPS_E_INVALID);
    struct wire_rd r = wire_rd_init(body, len);
    TRY(malformed_if(read_client_hello_fixed(&r, out)));
    return read_extensions(&r, DTLS_EXT_CTX_CLIENT_HELLO, &out->has_extensions, &out->extensions,
                           &out->exts);
}

coaps_status dtls_client_hello_parse_prefix(const uint8_t *prefix, size_t len,
                                            struct dtls_client_hello *out)
{
    ENSURE(out != NULL && (prefix != NULL || len == 0), COAPS_E_INVALID);
    struct wire_rd r = wire_rd_init(prefix, len);
    return read_client_hello_fixed(&r, out);
}

static coaps_status write_extensions(struct wire_wr *w, bool has, struct dtls_view raw)
{
    if (!has)
        return COAPS_OK;
    return wr_vector(w, 2, 0, 0xffff, raw);
}

coaps_status dtls_client_hello_write(struct wire_wr *w, const struct dtls_client_hello *ch)
{
    ENSURE(ch->random != NULL && ch->cipher_suites.len % 2 == 0, COAPS_E_INVALID);
    TRY(wire_wr_u16(w, ch->client_version));
    TRY(wire_wr_bytes(w, ch->random, DTLS_RANDOM_LEN));
    TRY(wr_vector(w, 1, 0, DTLS_SESSION_ID_MAX, ch->session_id));
    TRY(wr_vector(w, 1, 0, DTLS_COOKIE_WIRE_MAX, ch->cookie));
    TRY(wr_vector(w, 2, 2, 0xfffe, ch->cipher_suites));
    TRY(wr_vector(w, 1, 1, 0xff, ch->compression_methods));
    return write_extensions(w, ch->has_extensions, ch->extensions);
}

bool dtls_client_hello_offers_suite(const struct dtls_client_hello *ch, uint16_t suite)
{
    return dtls_u16_list_contains(ch->cipher_suites, suite);
}

bool dtls_client_hello_offers_scsv(const struct dtls_client_hello *ch)
{
    return dtls_client_hello_offers_suite(ch, DTLS_TLS_EMPTY_RENEGOTIATION_INFO_SCSV);
}

/* ---- HelloVerifyRequest (RFC 6347 4.2.1) ------------------------------- */

coaps_status dtls_hello_verify_request_parse(const uint8_t *body, size_t len,
                                             struct dtls_hello_verify_request *out)
{
    ENSURE(out != NULL && (body != NULL || len == 0), COAPS_E_INVALID);
    struct wire_rd r = wire_rd_init(body, len);
    TRY(malformed_if(wire_rd_u16(&r, &out->server_version)));
    TRY(malformed_if(rd_vector(&r, 1, 0, DTLS_COOKIE_WIRE_MAX, &out->cookie)));
    ENSURE(wire_rd_left(&r) == 0, COAPS_E_MALFORMED);
    return COAPS_OK;
}

coaps_status dtls_hello_verify_request_write(struct wire_wr *w,
                                             const struct dtls_hello_verify_request *hvr)
{
    TRY(wire_wr_u16(w, hvr->server_version));
    return wr_vector(w, 1, 0, DTLS_COOKIE_WIRE_MAX, hvr->cookie);
}

/* ---- ServerHello (RFC 5246 7.4.1.3) ------------------------------------ */

coaps_status dtls_server_hello_parse(const uint8_t *body, size_t len,
                                     struct dtls_server_hello *out)
{
    ENSURE(out != NULL && (body != NULL || len == 0), COAPS_E_INVALID);
    struct wire_rd r = wire_rd_init(body, len);
    memset(out, 0, sizeof *out);
    TRY(malformed_if(wire_rd_u16(&r, &out->server_version)));
    TRY(malformed_if(wire_rd_view(&r, DTLS_RANDOM_LEN, &out->random)));
    TRY(malformed_if(rd_vector(&r, 1, 0, DTLS_SESSION_ID_MAX, &out->session_id)));
    TRY(malformed_if(wire_rd_u16(&r, &out->cipher_suite)));
    TRY(malformed_if(wire_rd_u8(&r, &out->compression_method)));
    /* We only ever offer null compression. */
    ENSURE(out->compression_method == DTLS_COMPRESSION_NULL, COAPS_E_UNSUPPORTED);
    return read_extensions(&r, DTLS_EXT_CTX_SERVER_HELLO, &out->has_extensions, &out->extensions,
                           &out->exts);
}

coaps_status dtls_server_hello_write(struct wire_wr *w, const struct dtls_server_hello *sh)
{
    ENSURE(sh->random != NULL, COAPS_E_INVALID);
    TRY(wire_wr_u16(w, sh->server_version));
    TRY(wire_wr_bytes(w, sh->random, DTLS_RANDOM_LEN));
    TRY(wr_vector(w, 1, 0, DTLS_SESSION_ID_MAX, sh->session_id));
    TRY(wire_wr_u16(w, sh->cipher_suite));
    TRY(wire_wr_u8(w, sh->compression_method));
    return write_extensions(w, sh->has_extensions, sh->extensions);
}

/* ---- PSK key exchange (RFC 4279 2) -------------------------------------- */

/* A body that is exactly one opaque<0..2^16-1>. */
static coaps_status parse_single_u16_vector(const uint8_t *body, size_t len,
                                            struct dtls_view *out)
{
    ENSURE(out != NULL && (body != NULL || len == 0), COAPS_E_INVALID);
    struct wire_rd r = wire_rd_init(body, len);
    TRY(malformed_if(rd_vector(&r, 2, 0, 0xffff, out)));
    ENSURE(wire_rd_left(&r) == 0, COAPS_E_MALFORMED);
    return COAPS_OK;
}

coaps_status dtls_ske_psk_parse(const uint8_t *body, size_t len, struct dtls_ske_psk *out)
{
    return parse_single_u16_vector(body, len, out ? &out->psk_identity_hint : NULL);
}

coaps_status dtls_ske_psk_write(struct wire_wr *w, const struct dtls_ske_psk *ske)
{
    return wr_vector(w, 2, 0, 0xffff, ske->psk_identity_hint);
}

coaps_status dtls_new_session_ticket_parse(const uint8_t *body, size_t len,
                                           struct dtls_new_session_ticket *out)
{
    ENSURE(out != NULL && (body != NULL || len == 0), COAPS_E_INVALID);
    struct wire_rd r = wire_rd_init(body, len);
    TRY(malformed_if(wire_rd_u32(&r, &out->lifetime_hint)));
    TRY(malformed_if(rd_vector(&r, 2, 0, 0xffff, &out->ticket)));
    ENSURE(wire_rd_left(&r) == 0, COAPS_E_MALFORMED);
    return COAPS_OK;
}

coaps_status dtls_new_session_ticket_write(struct wire_wr *w,
                                           const struct dtls_new_session_ticket *t)
{
    TRY(wire_wr_u32(w, t->lifetime_hint));
    return wr_vector(w, 2, 0, 0xffff, t->ticket);
}

coaps_status dtls_cke_psk_parse(const uint8_t *body, size_t len, struct dtls_cke_psk *out)
{
    return parse_single_u16_vector(body, len, out ? &out->psk_identity : NULL);
}

coaps_status dtls_cke_psk_write(struct wire_wr *w, const struct dtls_cke_psk *cke)
{
    return wr_vector(w, 2, 0, 0xffff, cke->psk_identity);
}

/* ---- ECDHE key exchange (RFC 8422 5.4, 5.7) ---------------------------- */

coaps_status dtls_ske_ecdhe_parse(const uint8_t *body, size_t len, struct dtls_ske_ecdhe *out)
{
    ENSURE(out != NULL && (body != NULL || len == 0), COAPS_E_INVALID);
    struct wire_rd r = wire_rd_init(body, len);
    uint8_t curve_type;
    memset(out, 0, sizeof *out);
    TRY(malformed_if(wire_rd_u8(&r, &curve_type)));
    /* RFC 8422 5.4: explicit curves are deprecated; only named_curve. */
    ENSURE(curve_type == DTLS_EC_CURVE_TYPE_NAMED_CURVE, COAPS_E_UNSUPPORTED);
    TRY(malformed_if(wire_rd_u16(&r, &out->named_curve)));
    TRY(malformed_if(rd_vector(&r, 1, 1, 0xff, &out->public_key)));
    out->params.p = body;
    out->params.len = r.off;
    TRY(malformed_if(wire_rd_u16(&r, &out->sig_alg)));
    TRY(malformed_if(rd_vector(&r, 2, 0, 0xffff, &out->signature)));
    ENSURE(wire_rd_left(&r) == 0, COAPS_E_MALFORMED);
    return COAPS_OK;
}

coaps_status dtls_ske_ecdhe_write_params(struct wire_wr *w, uint16_t named_curve,
                                         const uint8_t *public_key, size_t public_key_len)
{
    struct dtls_view pk = {public_key, public_key_len};
    TRY(wire_wr_u8(w, DTLS_EC_CURVE_TYPE_NAMED_CURVE));
    TRY(wire_wr_u16(w, named_curve));
    return wr_vector(w, 1, 1, 0xff, pk);
}

coaps_status dtls_ske_ecdhe_write_signature(struct wire_wr *w, uint16_t sig_alg,
                                            const uint8_t *sig, size_t sig_len)
{
    struct dtls_view s = {sig, sig_len};
    TRY(wire_wr_u16(w, sig_alg));
    return wr_vector(w, 2, 0, 0xffff, s);
}

coaps_status dtls_cke_ecdhe_parse(const uint8_t *body, size_t len, struct dtls_cke_ecdhe *out)
{
    ENSURE(out != NULL && (body != NULL || len == 0), COAPS_E_INVALID);
    struct wire_rd r = wire_rd_init(body, len);
    TRY(malformed_if(rd_vector(&r, 1, 1, 0xff, &out->public_key)));
    ENSURE(wire_rd_left(&r) == 0, COAPS_E_MALFORMED);
    return COAPS_OK;
}

coaps_status dtls_cke_ecdhe_write(struct wire_wr *w, const struct dtls_cke_ecdhe *cke)
{
    return wr_vector(w, 1, 1, 0xff, cke->public_key);
}

/* ---- Certificate, CertificateRequest, CertificateVerify ---------------- */

/* Every entry of a list body is a vector with a len_bytes prefix of
 * 1..max bytes, and the entries fill the body exactly. */
static coaps_status check_vector_list(struct dtls_view list, size_t len_bytes, size_t max)
{
    struct wire_rd r = wire_rd_init(list.p, list.len);
    struct dtls_view v;
    while (wire_rd_left(&r) > 0)
        TRY(malformed_if(rd_vector(&r, len_bytes, 1, max, &v)));
    return COAPS_OK;
}

coaps_status dtls_certificate_parse_x509(const uint8_t *body, size_t len, struct dtls_view *list)
{
    ENSURE(list != NULL && (body != NULL || len == 0), COAPS_E_INVALID);
    struct wire_rd r = wire_rd_init(body, len);
    TRY(malformed_if(rd_vector(&r, 3, 0, U24_MAX, list)));
    ENSURE(wire_rd_left(&r) == 0, COAPS_E_MALFORMED);
    return check_vector_list(*list, 3, U24_MAX);
}

coaps_status dtls_cert_iter_next(struct dtls_cert_iter *it, struct dtls_view *cert)
{
    if (wire_rd_left(&it->r) == 0)
        return COAPS_E_NOT_FOUND;
    return malformed_if(rd_vector(&it->r, 3, 1, U24_MAX, cert));
}

coaps_status dtls_certificate_write_x509(struct wire_wr *w, const struct dtls_view *certs,
                                         size_t n)
{
    ENSURE(certs != NULL || n == 0, COAPS_E_INVALID);
    size_t at;
    TRY(wire_wr_reserve(w, 3, &at));
    size_t start = w->off;
    for (size_t i = 0; i < n; i++)
        TRY(wr_vector(w, 3, 1, U24_MAX, certs[i]));
    ENSURE(w->off - start <= U24_MAX, COAPS_E_INVALID);
    return wire_wr_patch(w, at, 3, w->off - start);
}

coaps_status dtls_certificate_parse_rpk(const uint8_t *body, size_t len, struct dtls_view *spki)
{
    ENSURE(spki != NULL && (body != NULL || len == 0), COAPS_E_INVALID);
    struct wire_rd r = wire_rd_init(body, len);
    TRY(malformed_if(rd_vector(&r, 3, 1, U24_MAX, spki)));
    ENSURE(wire_rd_left(&r) == 0, COAPS_E_MALFORMED);
    return COAPS_OK;
}

coaps_status dtls_certificate_write_rpk(struct wire_wr *w, const uint8_t *spki, size_t len)
{
    struct dtls_view v = {spki, len};
    return wr_vector(w, 3, 1, U24_MAX, v);
}

coaps_status dtls_certificate_request_parse(const uint8_t *body, size_t len,
                                            struct dtls_certificate_request *out)
{
    ENSURE(out != NULL && (body != NULL || len == 0), COAPS_E_INVALID);
    struct wire_rd r = wire_rd_init(body, len);
    TRY(malformed_if(rd_vector(&r, 1, 1, 0xff, &out->certificate_types)));
    TRY(malformed_if(rd_vector(&r, 2, 2, 0xfffe, &out->signature_algorithms)));
    ENSURE(out->signature_algorithms.len % 2 == 0, COAPS_E_MALFORMED);
    TRY(malformed_if(rd_vector(&r, 2, 0, 0xffff, &out->certificate_authorities)));
    ENSURE(wire_rd_left(&r) == 0, COAPS_E_MALFORMED);
    return check_vector_list(out->certificate_authorities, 2, 0xffff);
}

coaps_status dtls_certificate_request_write(struct wire_wr *w,
                                            const struct dtls_certificate_request *cr)
{
    ENSURE(cr->signature_algorithms.len % 2 == 0, COAPS_E_INVALID);
    TRY(wr_vector(w, 1, 1, 0xff, cr->certificate_types));
    TRY(wr_vector(w, 2, 2, 0xfffe, cr->signature_algorithms));
    return wr_vector(w, 2, 0, 0xffff, cr->certificate_authorities);
}

coaps_status dtls_certificate_verify_parse(const uint8_t *body, size_t len,
                                           struct dtls_digitally_signed *out)
{
    ENSURE(out != NULL && (body != NULL || len == 0), COAPS_E_INVALID);
    struct wire_rd r = wire_rd_init(body, len);
    TRY(malformed_if(wire_rd_u16(&r, &out->sig_alg)));
    TRY(malformed_if(rd_vector(&r, 2, 0, 0xffff, &out->signature)));
    ENSURE(wire_rd_left(&r) == 0, COAPS_E_MALFORMED);
    return COAPS_OK;
}

coaps_status dtls_certificate_verify_write(struct wire_wr *w,
                                           const struct dtls_digitally_signed *cv)
{
    TRY(wire_wr_u16(w, cv->sig_alg));
    return wr_vector(w, 2, 0, 0xffff, cv->signature);
}

/* ---- ServerHelloDone, Finished ------------------------------------------ */

coaps_status dtls_server_hello_done_parse(const uint8_t *body, size_t len)
{
    (void)body;
    ENSURE(len == 0, COAPS_E_MALFORMED);
    return COAPS_OK;
}

coaps_status dtls_finished_parse(const uint8_t *body, size_t len, const uint8_t **verify_data)
{
    ENSURE(verify_data != NULL, COAPS_E_INVALID);
    ENSURE(body != NULL && len == DTLS_VERIFY_DATA_LEN, COAPS_E_MALFORMED);
    *verify_data = body;
    return COAPS_OK;
}

coaps_status dtls_finished_write(struct wire_wr *w,
                                 const uint8_t verify_data[DTLS_VERIFY_DATA_LEN])
{
    ENSURE(verify_data != NULL, COAPS_E_INVALID);
    return wire_wr_bytes(w, verify_data, DTLS_VERIFY_DATA_LEN);
}

/* ---- ChangeCipherSpec, Alert -------------------------------------------- */

coaps_status dtls_ccs_parse(const uint8_t *body, size_t len)
{
    /* RFC 5246 7.1: enum { change_cipher_spec(1) } type. */
    ENSURE(body != NULL && len == 1 && body[0] == 1, COAPS_E_MALFORMED);
    return COAPS_OK;
}

coaps_status dtls_ccs_write(struct wire_wr *w)
{
    return wire_wr_u8(w, 1);
}

coaps_status dtls_alert_parse(const uint8_t *body, size_t len, struct dtls_alert *out)
{
    ENSURE(out != NULL, COAPS_E_INVALID);
    ENSURE(body != NULL && len == 2, COAPS_E_MALFORMED);
    out->level = body[0];
    out->description = body[1];
    return COAPS_OK;
}

coaps_status dtls_alert_write(struct wire_wr *w, const struct dtls_alert *a)
{
    ENSURE(wire_wr_left(w) >= 2, COAPS_E_NOSPACE);
    TRY(wire_wr_u8(w, a->level));
    return wire_wr_u8(w, a->description);
}

uint8_t dtls_alert_for_status(coaps_status st)
{
    switch (st) {
    case COAPS_E_MALFORMED:
    case COAPS_E_TRUNCATED:
        return DTLS_ALERT_DECODE_ERROR;
    case COAPS_E_UNSUPPORTED:
        return DTLS_ALERT_ILLEGAL_PARAMETER;
    default:
        return DTLS_ALERT_INTERNAL_ERROR;
    }
}
