/* fuzz_dtls_handshake.c - every DTLS handshake parser on arbitrary bytes
 * (src/dtls/handshake_msg.c, extensions.c, cookie.c).
 *
 * The input is read two ways: as a run of handshake fragments (12-byte
 * header + bytes, RFC 6347 4.2.2), each fragment body going to every body
 * parser; and as one body for every parser. Whatever parses must write
 * back to the same bytes (round trip), and a parsed ClientHello must get a
 * cookie that verifies. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dtls/cookie.h"
#include "dtls/handshake_msg.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Room for the largest body any parser accepts (a ClientHello with all
 * vectors at their maximum is about 131 KiB). */
static uint8_t out[256 * 1024];

static void round_trip(coaps_status st, const uint8_t *body, size_t len, size_t written)
{
    if (st == COAPS_OK)
        CHECK(written == len && memcmp(out, body, len) == 0);
}

static void client_hello(const uint8_t *body, size_t len)
{
    struct dtls_client_hello ch;
    if (dtls_client_hello_parse(body, len, &ch) == COAPS_OK) {
        struct wire_wr w = wire_wr_init(out, sizeof out);
        CHECK(dtls_client_hello_write(&w, &ch) == COAPS_OK);
        round_trip(COAPS_OK, body, len, w.off);
        (void)dtls_client_hello_offers_scsv(&ch);
        (void)dtls_u16_list_contains(ch.exts.supported_groups, DTLS_GROUP_SECP256R1);
    }
    if (dtls_client_hello_parse_prefix(body, len, &ch) == COAPS_OK) {
        static const uint8_t secret[DTLS_COOKIE_SECRET_LEN] = {1, 2, 3};
        struct dtls_cookie_ctx c;
        coaps_peer p;
        uint8_t k[DTLS_COOKIE_LEN];
        memset(&p, 0, sizeof p);
        p.addr_len = 4;
        CHECK(dtls_cookie_init(&c, secret, sizeof secret, 0) == COAPS_OK);
        CHECK(dtls_cookie_make(&c, &p, &ch, k) == COAPS_OK);
        (void)dtls_cookie_verify(&c, &p, &ch); /* the fuzzer's own cookie: almost never */
        ch.cookie = (struct dtls_view){k, sizeof k};
        CHECK(dtls_cookie_verify(&c, &p, &ch) == COAPS_OK);
        dtls_cookie_clear(&c);
    }
}

static void every_body_parser(const uint8_t *body, size_t len)
{
    struct wire_wr w;
    client_hello(body, len);

    struct dtls_server_hello sh;
    if (dtls_server_hello_parse(body, len, &sh) == COAPS_OK) {
        w = wire_wr_init(out, sizeof out);
        CHECK(dtls_server_hello_write(&w, &sh) == COAPS_OK);
        round_trip(COAPS_OK, body, len, w.off);
    }
    struct dtls_hello_verify_request hvr;
    if (dtls_hello_verify_request_parse(body, len, &hvr) == COAPS_OK) {
        w = wire_wr_init(out, sizeof out);
        CHECK(dtls_hello_verify_request_write(&w, &hvr) == COAPS_OK);
        round_trip(COAPS_OK, body, len, w.off);
    }
    struct dtls_ske_psk skp;
    if (dtls_ske_psk_parse(body, len, &skp) == COAPS_OK) {
        w = wire_wr_init(out, sizeof out);
        CHECK(dtls_ske_psk_write(&w, &skp) == COAPS_OK);
        round_trip(COAPS_OK, body, len, w.off);
    }
    struct dtls_new_session_ticket nst; /* RFC 5077 3.3 */
    if (dtls_new_session_ticket_parse(body, len, &nst) == COAPS_OK) {
        w = wire_wr_init(out, sizeof out);
        CHECK(dtls_new_session_ticket_write(&w, &nst) == COAPS_OK);
        round_trip(COAPS_OK, body, len, w.off);
    }
    struct dtls_cke_psk ckp;
    if (dtls_cke_psk_parse(body, len, &ckp) == COAPS_OK) {
        w = wire_wr_init(out, sizeof out);
        CHECK(dtls_cke_psk_write(&w, &ckp) == COAPS_OK);
        round_trip(COAPS_OK, body, len, w.off);
    }
    struct dtls_ske_ecdhe ske;
    if (dtls_ske_ecdhe_parse(body, len, &ske) == COAPS_OK) {
        w = wire_wr_init(out, sizeof out);
        CHECK(dtls_ske_ecdhe_write_params(&w, ske.named_curve, ske.public_key.p,
                                          ske.public_key.len) == COAPS_OK);
        CHECK(w.off == ske.params.len);
        CHECK(dtls_ske_ecdhe_write_signature(&w, ske.sig_alg, ske.signature.p,
                                             ske.signature.len) == COAPS_OK);
        round_trip(COAPS_OK, body, len, w.off);
    }
    struct dtls_cke_ecdhe cke;
    if (dtls_cke_ecdhe_parse(body, len, &cke) == COAPS_OK) {
        w = wire_wr_init(out, sizeof out);
        CHECK(dtls_cke_ecdhe_write(&w, &cke) == COAPS_OK);
        round_trip(COAPS_OK, body, len, w.off);
    }
    struct dtls_view list, spki, certs[64];
    if (dtls_certificate_parse_x509(body, len, &list) == COAPS_OK) {
        struct dtls_cert_iter it;
        size_t n = 0;
        bool all = true;
        dtls_cert_iter_init(&it, list);
        for (;;) {
            struct dtls_view cert;
            coaps_status st = dtls_cert_iter_next(&it, &cert);
            if (st == COAPS_E_NOT_FOUND)
                break;
            CHECK(st == COAPS_OK && cert.len >= 1);
            if (n < 64)
                certs[n++] = cert;
            else
                all = false;
        }
        if (all) {
            w = wire_wr_init(out, sizeof out);
            CHECK(dtls_certificate_write_x509(&w, certs, n) == COAPS_OK);
            round_trip(COAPS_OK, body, len, w.off);
        }
    }
    if (dtls_certificate_parse_rpk(body, len, &spki) == COAPS_OK) {
        w = wire_wr_init(out, sizeof out);
        CHECK(dtls_certificate_write_rpk(&w, spki.p, spki.len) == COAPS_OK);
        round_trip(COAPS_OK, body, len, w.off);
    }
    struct dtls_certificate_request cr;
    if (dtls_certificate_request_parse(body, len, &cr) == COAPS_OK) {
        w = wire_wr_init(out, sizeof out);
        CHECK(dtls_certificate_request_write(&w, &cr) == COAPS_OK);
        round_trip(COAPS_OK, body, len, w.off);
    }
    struct dtls_digitally_signed cv;
    if (dtls_certificate_verify_parse(body, len, &cv) == COAPS_OK) {
        w = wire_wr_init(out, sizeof out);
        CHECK(dtls_certificate_verify_write(&w, &cv) == COAPS_OK);
        round_trip(COAPS_OK, body, len, w.off);
    }
    const uint8_t *vd;
    (void)dtls_finished_parse(body, len, &vd);
    (void)dtls_server_hello_done_parse(body, len);
    (void)dtls_ccs_parse(body, len);
    struct dtls_alert a;
    (void)dtls_alert_parse(body, len, &a);
    struct dtls_exts e;
    (void)dtls_exts_parse(body, len, DTLS_EXT_CTX_CLIENT_HELLO, &e);
    (void)dtls_exts_parse(body, len, DTLS_EXT_CTX_SERVER_HELLO, &e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wire_rd r = wire_rd_init(data, size);
    while (wire_rd_left(&r) > 0) {
        struct dtls_hs_header h;
        const uint8_t *frag;
        size_t before = r.off;
        if (dtls_hs_header_read(&r, &h, &frag) != COAPS_OK) {
            CHECK(r.off == before);
            break;
        }
        CHECK(h.fragment_offset + (uint64_t)h.fragment_length <= h.length);
        CHECK(h.length <= DTLS_HS_MSG_MAX);
        /* the header writes back to the same 12 bytes */
        uint8_t hb[DTLS_HS_HEADER_LEN];
        struct wire_wr w = wire_wr_init(hb, sizeof hb);
        CHECK(dtls_hs_header_write(&w, &h) == COAPS_OK);
        CHECK(memcmp(hb, data + before, sizeof hb) == 0);
        every_body_parser(frag, h.fragment_length);
    }
    every_body_parser(data, size);
    return 0;
}
