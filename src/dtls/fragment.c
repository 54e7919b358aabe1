/* fragment.c - outgoing handshake fragmentation (fragment.h). */
#include "dtls/fragment.h"

#include "common/try.h"

coaps_status dtls_frag_init(struct dtls_frag_src *f, uint8_t msg_type, uint16_t message_seq,
                            const uint8_t *body, size_t len)
{
    ENSURE(f != NULL && len <= DTLS_HS_MSG_MAX && (body != NULL || len == 0), COAPS_E_INVALID);
    f->body = body;
    f->len = len;
    f->off = 0;
    f->message_seq = message_seq;
    f->msg_type = msg_type;
    f->started = false;
    return COAPS_OK;
}

void dtls_frag_rewind(struct dtls_frag_src *f)
{
    f->off = 0;
    f->started = false;
}

bool dtls_frag_done(const struct dtls_frag_src *f)
{
    return f->started && f->off == f->len;
}

coaps_status dtls_frag_write(struct dtls_frag_src *f, struct wire_wr *w, size_t max_payload,
                             size_t *written)
{
    ENSURE(f != NULL && w != NULL, COAPS_E_INVALID);
    ENSURE(!dtls_frag_done(f), COAPS_E_STATE);
    size_t left = f->len - f->off;
    ENSURE(wire_wr_left(w) >= DTLS_HS_HEADER_LEN, COAPS_E_NOSPACE);
    size_t n = wire_wr_left(w) - DTLS_HS_HEADER_LEN;
    if (max_payload != 0 && max_payload < n)
        n = max_payload;
    if (left < n)
        n = left;
    /* RFC 6347 4.2.3: only an empty message has an empty fragment; never
     * emit a header with no progress. */
    ENSURE(n > 0 || left == 0, COAPS_E_NOSPACE);
    struct dtls_hs_header h = {f->msg_type, (uint32_t)f->len, f->message_seq, (uint32_t)f->off,
                               (uint32_t)n};
    TRY(dtls_hs_header_write(w, &h));
    if (n > 0) /* body may be NULL for an empty message */
        TRY(wire_wr_bytes(w, f->body + f->off, n));
    f->off += n;
    f->started = true;
    if (written)
        *written = n;
    return COAPS_OK;
}

coaps_status dtls_frag_write_whole(struct wire_wr *w, uint8_t msg_type, uint16_t message_seq,
                                   const uint8_t *body, size_t len)
{
    ENSURE(w != NULL && len <= DTLS_HS_MSG_MAX && (body != NULL || len == 0), COAPS_E_INVALID);
    ENSURE(wire_wr_left(w) >= DTLS_HS_HEADER_LEN + len, COAPS_E_NOSPACE);
    TRY(dtls_hs_header_write_whole(w, msg_type, message_seq, len));
    return wire_wr_bytes(w, body, len);
}
