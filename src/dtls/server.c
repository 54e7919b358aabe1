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
    uint64_t period; /* with cfg->cookie_secret: the period of the current secret */
};

_Static_assert(COAPS_DTLS_COOKIE_SECRET_LEN == DTLS_COOKIE_SECRET_LEN,
               "coaps/dtls.h documents the cookie secret length of cookie.h");

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

/* Derived cookie secrets (cfg->cookie_secret): HMAC-SHA256(secret,
 * "cookie" || period as 8 bytes). Periods are aligned on the clock, not
 * on each front door's start, so that front doors started at different
 * times (the workers of one server) hold the same secrets at all times
 * but at the instant of a period's end. */
static coaps_status derived_secret(const struct server *s, uint64_t period,
                                   uint8_t out[DTLS_COOKIE_SECRET_LEN])
{
    uint8_t label[6 + 8] = {'c', 'o', 'o', 'k', 'i', 'e'};
    struct wire_wr w = wire_wr_init(label + 6, 8);
    TRY(wire_wr_u32(&w, (uint32_t)(period >> 32)));
    TRY(wire_wr_u32(&w, (uint32_t)period));
    uint8_t mac[CRYPTO_HASH_MAX];
    coaps_status st = crypto_hmac(CRYPTO_SHA256, s->cfg->cookie_secret, DTLS_COOKIE_SECRET_LEN,
                                  label, sizeof label, mac);
    memcpy(out, mac, DTLS_COOKIE_SECRET_LEN);
    crypto_wipe(mac, sizeof mac);
    return st;
}

/* The previous period's secret and the current one's, as a rotation
 * would leave them: a cookie lives one to two periods, as with random
 * secrets. On memory that holds no live cookie context. */
static coaps_status derived_load(struct server *s, uint64_t now_ms)
{
    uint64_t period = now_ms / DTLS_COOKIE_ROTATE_MS;
    uint8_t secret[DTLS_COOKIE_SECRET_LEN];
    coaps_status st = derived_secret(s, period - 1, secret);
    if (st == COAPS_OK)
        st = dtls_cookie_init(&s->cookie, secret, sizeof(secret), now_ms);
    if (st == COAPS_OK && (st = derived_secret(s, period, secret)) == COAPS_OK)
        st = dtls_cookie_rotate(&s->cookie, secret, sizeof(secret), now_ms);
    crypto_wipe(secret, sizeof(secret));
    s->period = period;
    return st;
}

/* A new period (or a clock that went backwards): its secrets. On failure
 * the front door keeps no secret and drops ClientHellos until the next
 * call succeeds. */
static void derived_update(struct server *s, uint64_t now_ms)
{
    if (now_ms / DTLS_COOKIE_ROTATE_MS == s->period && s->cookie.has_cur)
        return;
    dtls_cookie_clear(&s->cookie);
    (void)derived_load(s, now_ms);
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
    if (COAPS_WITH_SHARED_COOKIE && cfg->cookie_secret)
        return derived_load(s, now_ms);
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
    return dtls_record_write_plain(DTLS_CT_HANDSHAKE, DTLS_VERSION_1_2, rec_seq, msg, mw.off, w);
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
    if (COAPS_WITH_SHARED_COOKIE && s->cfg->cookie_secret) {
        derived_update(s, now_ms);
    } else if (dtls_cookie_rotation_due(&s->cookie, now_ms)) {
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
        TRY(dtls_record_write_plain(DTLS_CT_ALERT, fh.version, fh.rec_seq, body, bw.off, &w));
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
