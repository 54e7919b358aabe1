/*
 * server.c - the stateless front door of a DTLS server (RFC 6347 4.2.1):
 * a ClientHello without a valid cookie gets a HelloVerifyRequest and leaves
 * no trace; only a ClientHello with a valid cookie makes a connection.
 */
#include <string.h>

#include "common/try.h"
#include "common/wire.h"
#include "dtls/conn.h"
#include "dtls/cookie.h"

struct server {
    const coaps_dtls_config *cfg;
    struct dtls_cookie_ctx cookie;
};

_Static_assert(COAPS_DTLS_COOKIE_ROTATE_MS == DTLS_COOKIE_ROTATE_MS,
               "coaps/dtls.h documents the cookie rotation period of cookie.h");
_Static_assert(sizeof(struct server) <= COAPS_DTLS_SERVER_SIZE,
               "COAPS_DTLS_SERVER_SIZE promised in coaps/dtls.h is too small");
_Static_assert(_Alignof(struct server) <= _Alignof(coaps_dtls_server),
               "the public storage is aligned for the internal struct");

/* The one accessor from the public storage (see conn.h conn_of). */
static struct server *server_of(coaps_dtls_server *s)
{
    return (struct server *)(void *)s->u.opaque;
}

static coaps_status fresh_secret(const struct server *s, uint8_t out[DTLS_COOKIE_SECRET_LEN])
{
    if (s->cfg->random)
        return s->cfg->random(s->cfg->random_user, out, DTLS_COOKIE_SECRET_LEN);
    return crypto_random(out, DTLS_COOKIE_SECRET_LEN);
}

coaps_status coaps_dtls_server_init(coaps_dtls_server *srv, const coaps_dtls_config *cfg,
                                    uint64_t now_ms)
{
    ENSURE(srv, COAPS_E_INVALID);
    TRY(coaps_dtls_config_check(cfg));
    ENSURE(cfg->role == COAPS_DTLS_SERVER, COAPS_E_CONFIG);
    struct server *s = server_of(srv);
    memset(s, 0, sizeof(*s));
    s->cfg = cfg;
    uint8_t secret[DTLS_COOKIE_SECRET_LEN];
    TRY(fresh_secret(s, secret));
    coaps_status st = dtls_cookie_init(&s->cookie, secret, sizeof(secret), now_ms);
    crypto_wipe(secret, sizeof(secret));
    return st;
}

void coaps_dtls_server_clear(coaps_dtls_server *srv)
{
    struct server *s = server_of(srv);
    dtls_cookie_clear(&s->cookie);
    crypto_wipe(s, sizeof(*s));
}

/* One plaintext epoch-0 record around body (record_seq as given). */
static coaps_status put_record(struct wire_wr *w, uint8_t type, uint16_t version, uint64_t seq,
                               const uint8_t *body, size_t len)
{
    TRY(wire_wr_u8(w, type));
    TRY(wire_wr_u16(w, version));
    TRY(wire_wr_u16(w, 0));
    TRY(wire_wr_u48(w, seq));
    TRY(wire_wr_u16(w, (uint16_t)len));
    return wire_wr_bytes(w, body, len);
}

/* RFC 6347 4.2.1: HelloVerifyRequest, server_version 1.0, message_seq and
 * record sequence number taken from the ClientHello. */
static coaps_status write_hvr(const struct server *s, const coaps_peer *peer,
                              const struct dtls_client_hello *ch, uint16_t msg_seq,
                              uint64_t rec_seq, struct wire_wr *w)
{
    uint8_t cookie[DTLS_COOKIE_LEN];
    TRY(dtls_cookie_make(&s->cookie, peer, ch, cookie));
    uint8_t body[3 + DTLS_COOKIE_LEN], msg[DTLS_HS_HEADER_LEN + sizeof(body)];
    struct wire_wr bw = wire_wr_init(body, sizeof(body));
    struct dtls_hello_verify_request hvr = {DTLS_VERSION_1_0, {cookie, sizeof(cookie)}};
    TRY(dtls_hello_verify_request_write(&bw, &hvr));
    struct wire_wr mw = wire_wr_init(msg, sizeof(msg));
    TRY(dtls_hs_header_write_whole(&mw, DTLS_HS_HELLO_VERIFY_REQUEST, msg_seq, bw.off));
    TRY(wire_wr_bytes(&mw, body, bw.off));
    return put_record(w, DTLS_CT_HANDSHAKE, DTLS_VERSION_1_2, rec_seq, msg, mw.off);
}

/* The ClientHello (or its first fragment) that starts a datagram. */
struct first_hello {
    uint16_t version; /* of the record */
    uint64_t rec_seq;
    struct dtls_hs_header h;
    struct dtls_client_hello ch;
};

/* Only the first record counts: a ClientHello starts a datagram. */
static bool first_client_hello(const uint8_t *dgram, size_t len, struct first_hello *fh)
{
    struct wire_rd r = wire_rd_init(dgram, len), rec;
    uint8_t type;
    uint16_t epoch, rlen;
    if (wire_rd_u8(&r, &type) != COAPS_OK || wire_rd_u16(&r, &fh->version) != COAPS_OK ||
        wire_rd_u16(&r, &epoch) != COAPS_OK || wire_rd_u48(&r, &fh->rec_seq) != COAPS_OK ||
        wire_rd_u16(&r, &rlen) != COAPS_OK || wire_rd_sub(&r, rlen, &rec) != COAPS_OK)
        return false;
    if (type != DTLS_CT_HANDSHAKE || epoch != 0 || (fh->version >> 8) != 0xfe)
        return false;
    const uint8_t *frag;
    if (dtls_hs_header_read(&rec, &fh->h, &frag) != COAPS_OK ||
        fh->h.msg_type != DTLS_HS_CLIENT_HELLO || fh->h.fragment_offset != 0)
        return false; /* see cookie.h: later fragments need state */
    coaps_status st = dtls_hs_header_is_whole(&fh->h)
                          ? dtls_client_hello_parse(frag, fh->h.fragment_length, &fh->ch)
                          : dtls_client_hello_parse_prefix(frag, fh->h.fragment_length, &fh->ch);
    return st == COAPS_OK;
}

bool coaps_dtls_server_wants_pki(const coaps_dtls_server *srv, const uint8_t *dgram, size_t len)
{
    if (!srv || !dgram)
        return false;
    const struct server *s = (const struct server *)(const void *)srv->u.opaque;
    struct first_hello fh;
    if (!first_client_hello(dgram, len, &fh))
        return false;
    /* A ClientHello that comes in fragments and is too large for the base
     * context's arena (body and bitmap, reassembly.h) is reassembled in
     * the certificate area's. */
    if (!dtls_hs_header_is_whole(&fh.h) &&
        (size_t)fh.h.length + (fh.h.length + 7) / 8 > CONN_REASM_PSK_BYTES)
        return true;
    if (!dtls_pki_usable(s->cfg->pki, true))
        return false;
    const uint16_t *suites;
    size_t n = dtls_suites_configured(s->cfg, &suites);
    for (size_t i = 0; i < n; i++) {
        const struct dtls_suite *suite = dtls_suite_find(suites[i]);
        if (suite && suite->kx == DTLS_KX_ECDHE_ECDSA && dtls_suite_usable(s->cfg, suite) &&
            dtls_client_hello_offers_suite(&fh.ch, suites[i]))
            return true;
    }
    return false;
}

coaps_status coaps_dtls_server_accept(coaps_dtls_server *srv, const coaps_peer *peer,
                                      const uint8_t *dgram, size_t len, uint64_t now_ms,
                                      uint8_t *out, size_t cap, size_t *out_len,
                                      enum coaps_dtls_accept *verdict)
{
    ENSURE(srv && peer && verdict && out_len && out && (dgram || len == 0), COAPS_E_INVALID);
    struct server *s = server_of(srv);
    *verdict = COAPS_DTLS_ACCEPT_DROP;
    *out_len = 0;
    if (dtls_cookie_rotation_due(&s->cookie, now_ms)) {
        uint8_t fresh[DTLS_COOKIE_SECRET_LEN];
        if (fresh_secret(s, fresh) == COAPS_OK)
            (void)dtls_cookie_rotate(&s->cookie, fresh, sizeof(fresh), now_ms);
        crypto_wipe(fresh, sizeof(fresh));
    }

    struct first_hello fh;
    if (!first_client_hello(dgram, len, &fh))
        return COAPS_OK;
    struct wire_wr w = wire_wr_init(out, cap);
    if (fh.ch.client_version > DTLS_VERSION_1_2) {
        /* DTLS 1.0 (or older): refuse, in the client's record version. */
        uint8_t body[2];
        struct wire_wr bw = wire_wr_init(body, sizeof(body));
        struct dtls_alert a = {DTLS_ALERT_FATAL, DTLS_ALERT_PROTOCOL_VERSION};
        TRY(dtls_alert_write(&bw, &a));
        TRY(put_record(&w, DTLS_CT_ALERT, fh.version, fh.rec_seq, body, bw.off));
        *out_len = w.off;
        *verdict = COAPS_DTLS_ACCEPT_SEND;
        return COAPS_OK;
    }
    coaps_status st = dtls_cookie_verify(&s->cookie, peer, &fh.ch);
    if (st == COAPS_OK) {
        *verdict = COAPS_DTLS_ACCEPT_NEW;
        return COAPS_OK;
    }
    if (st != COAPS_E_COOKIE)
        return COAPS_OK;
    TRY(write_hvr(s, peer, &fh.ch, fh.h.message_seq, fh.rec_seq, &w));
    *out_len = w.off;
    *verdict = COAPS_DTLS_ACCEPT_SEND;
    return COAPS_OK;
}

uint64_t coaps_dtls_client_hello_hash(const uint8_t *dgram, size_t len)
{
    uint64_t h = 14695981039346656037ull; /* FNV-1a 64-bit offset basis */
    for (size_t i = DTLS_RECORD_HEADER_LEN; i < len; i++)
        h = (h ^ dgram[i]) * 1099511628211ull; /* FNV-1a 64-bit prime */
    return h;
}

bool coaps_dtls_is_client_hello(const uint8_t *dgram, size_t len)
{
    if (!dgram)
        return false;
    struct wire_rd r = wire_rd_init(dgram, len);
    struct dtls_record rec;
    if (dtls_record_next(&r, &rec) != COAPS_OK || rec.type != DTLS_CT_HANDSHAKE || rec.epoch != 0)
        return false;
    struct wire_rd f = wire_rd_init(rec.fragment, rec.fragment_len);
    uint8_t msg_type;
    return wire_rd_u8(&f, &msg_type) == COAPS_OK && msg_type == DTLS_HS_CLIENT_HELLO;
}
