/* test_handshake_msg.c - DTLS handshake header and message codecs
 * (src/dtls/handshake_msg.c), with hand-built bodies following the RFC
 * layouts and ClientHellos captured from OpenSSL 3.0 and GnuTLS 3.7. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dtls/handshake_msg.h"
#include "dtls/dtls_vectors.h"

/* ---- helpers --------------------------------------------------------------- */

#define VEC_MAX 2048

/* Strip the 13-byte DTLS record header of a plaintext handshake record
 * (RFC 6347 4.1) and read the one handshake fragment in it. */
static void record_to_fragment(const uint8_t *dgram, size_t n, struct dtls_hs_header *h,
                               const uint8_t **frag)
{
    struct wire_rd r = wire_rd_init(dgram, n);
    uint8_t type;
    uint16_t version, epoch, len;
    uint64_t seq;
    assert_int_equal(wire_rd_u8(&r, &type), COAPS_OK);
    assert_int_equal(type, 22); /* handshake */
    assert_int_equal(wire_rd_u16(&r, &version), COAPS_OK);
    assert_int_equal(wire_rd_u16(&r, &epoch), COAPS_OK);
    assert_int_equal(epoch, 0);
    assert_int_equal(wire_rd_u48(&r, &seq), COAPS_OK);
    assert_int_equal(wire_rd_u16(&r, &len), COAPS_OK);
    assert_int_equal(len, wire_rd_left(&r));
    assert_int_equal(dtls_hs_header_read(&r, h, frag), COAPS_OK);
    assert_int_equal(wire_rd_left(&r), 0);
}

/* Every handshake fragment of every plaintext record in a datagram. */
#define FRAGS_MAX 8
static size_t datagram_fragments(const uint8_t *dg, size_t n, struct dtls_hs_header *h,
                                 const uint8_t **frag)
{
    struct wire_rd r = wire_rd_init(dg, n);
    size_t k = 0;
    while (wire_rd_left(&r) > 0) {
        uint8_t type = 0;
        uint16_t version = 0, epoch = 0, len = 0;
        uint64_t seq = 0;
        struct wire_rd body;
        assert_int_equal(wire_rd_u8(&r, &type), COAPS_OK);
        assert_int_equal(type, 22);
        assert_int_equal(wire_rd_u16(&r, &version), COAPS_OK);
        assert_int_equal(wire_rd_u16(&r, &epoch), COAPS_OK);
        assert_int_equal(wire_rd_u48(&r, &seq), COAPS_OK);
        assert_int_equal(wire_rd_u16(&r, &len), COAPS_OK);
        assert_int_equal(wire_rd_sub(&r, len, &body), COAPS_OK);
        while (wire_rd_left(&body) > 0) {
            assert_true(k < FRAGS_MAX);
            assert_int_equal(dtls_hs_header_read(&body, &h[k], &frag[k]), COAPS_OK);
            k++;
        }
    }
    return k;
}

static const uint8_t random_a[32] = {
    0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
    0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
    0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11};

/* RFC 6347 4.2.1 / RFC 5246 7.4.1.2 ClientHello body, by hand:
 * version fefd, random 32 x 11, session_id <0>, cookie <4> de ad be ef,
 * cipher_suites <4> c0a8 00ff, compression <1> 00, extensions <9>:
 * extended_master_secret (0017 0000) and renegotiation_info (ff01 0001 00). */
#define RANDOM_A_BYTES                                                                             \
    0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,      \
        0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,  \
        0x11, 0x11
static const uint8_t ch_body[] = {
    0xfe, 0xfd, RANDOM_A_BYTES,
    0x00,                               /* session_id */
    0x04, 0xde, 0xad, 0xbe, 0xef,       /* cookie */
    0x00, 0x04, 0xc0, 0xa8, 0x00, 0xff, /* cipher_suites */
    0x01, 0x00,                         /* compression_methods */
    0x00, 0x09,                         /* extensions */
    0x00, 0x17, 0x00, 0x00,             /* extended_master_secret */
    0xff, 0x01, 0x00, 0x01, 0x00,       /* renegotiation_info */
};
/* Offset of the extensions length in ch_body: 2+32+1+5+6+2. */
#define CH_EXT_AT 48

/* ServerHello body (RFC 5246 7.4.1.3): fefd, random, session_id <2> 0102,
 * suite c0a8, compression 00, extensions <4>: EMS. */
static const uint8_t sh_body[] = {
    0xfe, 0xfd, RANDOM_A_BYTES, 0x02, 0x01, 0x02, 0xc0, 0xa8, 0x00,
    0x00, 0x04, 0x00, 0x17, 0x00, 0x00,
};

/* ---- handshake header (RFC 6347 4.2.2) --------------------------------- */

static void header_read_takes_fields_and_fragment(void **state)
{
    (void)state;
    /* Two fragments back to back in one record: Finished, then a 3-byte
     * middle fragment of a 10-byte message seq 5. */
    const uint8_t rec[] = {
        0x14, 0x00, 0x00, 0x0c, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c,
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
        0x10, 0x00, 0x00, 0x0a, 0x00, 0x05, 0x00, 0x00, 0x04, 0x00, 0x00, 0x03,
        0xaa, 0xbb, 0xcc,
    };
    struct wire_rd r = wire_rd_init(rec, sizeof rec);
    struct dtls_hs_header h;
    const uint8_t *frag;
    assert_int_equal(dtls_hs_header_read(&r, &h, &frag), COAPS_OK);
    assert_int_equal(h.msg_type, DTLS_HS_FINISHED);
    assert_int_equal(h.length, 12);
    assert_int_equal(h.message_seq, 2);
    assert_int_equal(h.fragment_offset, 0);
    assert_int_equal(h.fragment_length, 12);
    assert_true(dtls_hs_header_is_whole(&h));
    assert_ptr_equal(frag, rec + 12);
    assert_int_equal(dtls_hs_header_read(&r, &h, &frag), COAPS_OK);
    assert_int_equal(h.msg_type, DTLS_HS_CLIENT_KEY_EXCHANGE);
    assert_int_equal(h.length, 10);
    assert_int_equal(h.message_seq, 5);
    assert_int_equal(h.fragment_offset, 4);
    assert_int_equal(h.fragment_length, 3);
    assert_false(dtls_hs_header_is_whole(&h));
    assert_memory_equal(frag, "\xaa\xbb\xcc", 3);
    assert_int_equal(wire_rd_left(&r), 0);
}

static void header_read_refuses_bad_fragments(void **state)
{
    (void)state;
    struct dtls_hs_header h;
    const uint8_t *frag;
    /* shorter than 12 bytes */
    const uint8_t shorthdr[] = {0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    struct wire_rd r = wire_rd_init(shorthdr, sizeof shorthdr);
    assert_int_equal(dtls_hs_header_read(&r, &h, &frag), COAPS_E_TRUNCATED);
    assert_int_equal(r.off, 0);
    /* announces 4 fragment bytes, has 3 */
    const uint8_t missing[] = {0x01, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,
                               0x00, 0x00, 0x04, 0xaa, 0xbb, 0xcc};
    r = wire_rd_init(missing, sizeof missing);
    assert_int_equal(dtls_hs_header_read(&r, &h, &frag), COAPS_E_TRUNCATED);
    assert_int_equal(r.off, 0);
    /* offset 3 + length 2 > message length 4 */
    const uint8_t past[] = {0x01, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x03,
                            0x00, 0x00, 0x02, 0xaa, 0xbb};
    r = wire_rd_init(past, sizeof past);
    assert_int_equal(dtls_hs_header_read(&r, &h, &frag), COAPS_E_MALFORMED);
    assert_int_equal(r.off, 0);
    /* message length 16385 > DTLS_HS_MSG_MAX, even as a small fragment */
    const uint8_t big[] = {0x0b, 0x00, 0x40, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
                           0x00, 0x00, 0x01, 0xaa};
    r = wire_rd_init(big, sizeof big);
    assert_int_equal(dtls_hs_header_read(&r, &h, &frag), COAPS_E_UNSUPPORTED);
    assert_int_equal(r.off, 0);
    /* exactly DTLS_HS_MSG_MAX is fine */
    const uint8_t max[] = {0x0b, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                           0x00, 0x00, 0x01, 0xaa};
    r = wire_rd_init(max, sizeof max);
    assert_int_equal(dtls_hs_header_read(&r, &h, &frag), COAPS_OK);
    assert_int_equal(h.length, DTLS_HS_MSG_MAX);
}

static void header_write_whole_is_transcript_form(void **state)
{
    (void)state;
    uint8_t buf[12];
    struct wire_wr w = wire_wr_init(buf, sizeof buf);
    assert_int_equal(dtls_hs_header_write_whole(&w, DTLS_HS_SERVER_HELLO, 0x0102, 0x345), COAPS_OK);
    const uint8_t want[] = {0x02, 0x00, 0x03, 0x45, 0x01, 0x02,
                            0x00, 0x00, 0x00, 0x00, 0x03, 0x45};
    assert_memory_equal(buf, want, sizeof want);
    w = wire_wr_init(buf, sizeof buf);
    assert_int_equal(dtls_hs_header_write_whole(&w, 1, 0, DTLS_HS_MSG_MAX + 1), COAPS_E_INVALID);
    w = wire_wr_init(buf, 11);
    assert_int_equal(dtls_hs_header_write_whole(&w, 1, 0, 1), COAPS_E_NOSPACE);
    assert_int_equal(w.off, 0);
    struct dtls_hs_header h = {1, 1u << 24, 0, 0, 0};
    w = wire_wr_init(buf, sizeof buf);
    assert_int_equal(dtls_hs_header_write(&w, &h), COAPS_E_INVALID);
}

/* ---- ClientHello from real clients ---------------------------------------- */

static void parses_openssl_client_hello(void **state)
{
    (void)state;
    uint8_t dg[VEC_MAX];
    size_t n = load_vector("openssl_dtls12_psk_client_hello.bin", dg, sizeof dg);
    struct dtls_hs_header h;
    const uint8_t *body;
    record_to_fragment(dg, n, &h, &body);
    assert_int_equal(h.msg_type, DTLS_HS_CLIENT_HELLO);
    assert_int_equal(h.message_seq, 0);
    assert_true(dtls_hs_header_is_whole(&h));

    struct dtls_client_hello ch;
    assert_int_equal(dtls_client_hello_parse(body, h.length, &ch), COAPS_OK);
    assert_int_equal(ch.client_version, DTLS_VERSION_1_2);
    assert_ptr_equal(ch.random, body + 2);
    assert_int_equal(ch.session_id.len, 0);
    assert_int_equal(ch.cookie.len, 0);
    assert_int_equal(ch.cipher_suites.len, 0x6c);
    assert_true(dtls_client_hello_offers_suite(&ch, DTLS_TLS_PSK_WITH_AES_128_GCM_SHA256));
    assert_true(dtls_client_hello_offers_suite(&ch, DTLS_TLS_PSK_WITH_AES_256_GCM_SHA384));
    assert_true(dtls_client_hello_offers_suite(&ch, DTLS_TLS_PSK_WITH_CHACHA20_POLY1305_SHA256));
    assert_true(dtls_client_hello_offers_suite(&ch, DTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256));
    assert_true(
        dtls_client_hello_offers_suite(&ch, DTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256));
    /* OpenSSL's default list has no CCM suites. */
    assert_false(dtls_client_hello_offers_suite(&ch, DTLS_TLS_PSK_WITH_AES_128_CCM_8));
    assert_false(dtls_client_hello_offers_suite(&ch, DTLS_TLS_PSK_WITH_AES_128_CCM));
    /* OpenSSL signals secure renegotiation with the SCSV (RFC 5746 3.3). */
    assert_true(dtls_client_hello_offers_scsv(&ch));
    assert_int_equal(ch.compression_methods.len, 1);
    assert_int_equal(ch.compression_methods.p[0], 0);
    assert_true(ch.has_extensions);
    assert_int_equal(ch.extensions.len, 0x52);
    const uint32_t want = DTLS_EXTF_EC_POINT_FORMATS | DTLS_EXTF_SUPPORTED_GROUPS |
                          DTLS_EXTF_SESSION_TICKET | DTLS_EXTF_ENCRYPT_THEN_MAC |
                          DTLS_EXTF_EXTENDED_MASTER_SECRET | DTLS_EXTF_SIGNATURE_ALGORITHMS;
    assert_int_equal(ch.exts.present, want);
    assert_int_equal(ch.exts.count, 6);
    assert_int_equal(ch.exts.unknown_count, 0);
    assert_true(dtls_u16_list_contains(ch.exts.supported_groups, DTLS_GROUP_X25519));
    assert_true(dtls_u16_list_contains(ch.exts.supported_groups, DTLS_GROUP_SECP256R1));
    assert_true(dtls_u16_list_contains(ch.exts.signature_algorithms,
                                       DTLS_SIGALG_ECDSA_SECP256R1_SHA256));
    assert_true(dtls_u8_list_contains(ch.exts.ec_point_formats, DTLS_POINT_FORMAT_UNCOMPRESSED));
    /* Writing the parsed struct back gives the same bytes. */
    uint8_t out[VEC_MAX];
    struct wire_wr w = wire_wr_init(out, sizeof out);
    assert_int_equal(dtls_client_hello_write(&w, &ch), COAPS_OK);
    assert_int_equal(w.off, h.length);
    assert_memory_equal(out, body, h.length);
}

static void parses_openssl_client_hello_with_cookie(void **state)
{
    (void)state;
    uint8_t dg[VEC_MAX], cookie[32];
    size_t n = load_vector("openssl_dtls12_psk_client_hello_cookie.bin", dg, sizeof dg);
    struct dtls_hs_header h;
    const uint8_t *body;
    record_to_fragment(dg, n, &h, &body);
    assert_int_equal(h.message_seq, 1); /* RFC 6347 4.2.2: second ClientHello */
    struct dtls_client_hello ch;
    assert_int_equal(dtls_client_hello_parse(body, h.length, &ch), COAPS_OK);
    for (int i = 0; i < 32; i++)
        cookie[i] = (uint8_t)(0xa0 + i);
    assert_int_equal(ch.cookie.len, 32);
    assert_memory_equal(ch.cookie.p, cookie, 32);
    assert_int_equal(ch.exts.count, 6);
}

static void parses_gnutls_client_hello(void **state)
{
    (void)state;
    uint8_t dg[VEC_MAX];
    size_t n = load_vector("gnutls_dtls12_psk_client_hello.bin", dg, sizeof dg);
    struct dtls_hs_header h;
    const uint8_t *body;
    record_to_fragment(dg, n, &h, &body);
    struct dtls_client_hello ch;
    assert_int_equal(dtls_client_hello_parse(body, h.length, &ch), COAPS_OK);
    assert_int_equal(ch.client_version, DTLS_VERSION_1_2);
    assert_int_equal(ch.cookie.len, 0);
    assert_true(dtls_client_hello_offers_suite(&ch, DTLS_TLS_PSK_WITH_AES_128_CCM));
    assert_true(dtls_client_hello_offers_suite(&ch, DTLS_TLS_PSK_WITH_AES_128_GCM_SHA256));
    assert_true(dtls_client_hello_offers_suite(&ch, DTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CCM));
    assert_false(dtls_client_hello_offers_scsv(&ch));
    /* GnuTLS sends the renegotiation_info extension instead, plus SNI,
     * status_request (5) and record_size_limit (28), which we skip. */
    assert_true(dtls_exts_has(&ch.exts, DTLS_EXTF_RENEGOTIATION_INFO));
    assert_true(dtls_exts_has(&ch.exts, DTLS_EXTF_EXTENDED_MASTER_SECRET));
    assert_true(dtls_exts_has(&ch.exts, DTLS_EXTF_SERVER_NAME));
    assert_int_equal(ch.exts.server_name.len, 9);
    assert_memory_equal(ch.exts.server_name.p, "localhost", 9);
    assert_int_equal(ch.exts.count, 10);
    assert_int_equal(ch.exts.unknown_count, 2);
    assert_int_equal(ch.exts.first_unknown, 5);
    uint8_t out[VEC_MAX];
    struct wire_wr w = wire_wr_init(out, sizeof out);
    assert_int_equal(dtls_client_hello_write(&w, &ch), COAPS_OK);
    assert_int_equal(w.off, h.length);
    assert_memory_equal(out, body, h.length);
}

/* ---- ClientHello by hand --------------------------------------------------- */

static void parses_hand_built_client_hello(void **state)
{
    (void)state;
    struct dtls_client_hello ch;
    assert_int_equal(dtls_client_hello_parse(ch_body, sizeof ch_body, &ch), COAPS_OK);
    assert_int_equal(ch.client_version, 0xfefd);
    assert_memory_equal(ch.random, random_a, 32);
    assert_int_equal(ch.session_id.len, 0);
    assert_int_equal(ch.cookie.len, 4);
    assert_memory_equal(ch.cookie.p, "\xde\xad\xbe\xef", 4);
    assert_int_equal(ch.cipher_suites.len, 4);
    assert_true(dtls_client_hello_offers_suite(&ch, 0xc0a8));
    assert_true(dtls_client_hello_offers_scsv(&ch));
    assert_false(dtls_client_hello_offers_suite(&ch, 0xa800)); /* no misaligned match */
    assert_int_equal(ch.exts.present,
                     DTLS_EXTF_EXTENDED_MASTER_SECRET | DTLS_EXTF_RENEGOTIATION_INFO);
    /* Without extensions (body ends after compression_methods) also fine. */
    assert_int_equal(dtls_client_hello_parse(ch_body, CH_EXT_AT, &ch), COAPS_OK);
    assert_false(ch.has_extensions);
    assert_int_equal(ch.exts.present, 0);
    /* An empty extension block is fine too. */
    uint8_t b[sizeof ch_body];
    memcpy(b, ch_body, CH_EXT_AT);
    b[CH_EXT_AT] = 0;
    b[CH_EXT_AT + 1] = 0;
    assert_int_equal(dtls_client_hello_parse(b, CH_EXT_AT + 2, &ch), COAPS_OK);
    assert_true(ch.has_extensions);
    assert_int_equal(ch.extensions.len, 0);
}

static void every_truncation_of_client_hello_is_refused(void **state)
{
    (void)state;
    struct dtls_client_hello ch;
    for (size_t n = 0; n < sizeof ch_body; n++) {
        coaps_status st = dtls_client_hello_parse(ch_body, n, &ch);
        if (n == CH_EXT_AT)
            assert_int_equal(st, COAPS_OK); /* extensions are optional */
        else if (st != COAPS_E_MALFORMED)
            fail_msg("prefix of %zu bytes: got %d, want malformed", n, st);
    }
    /* A trailing byte after the extension block is refused. */
    uint8_t b[sizeof ch_body + 1];
    memcpy(b, ch_body, sizeof ch_body);
    b[sizeof ch_body] = 0;
    assert_int_equal(dtls_client_hello_parse(b, sizeof b, &ch), COAPS_E_MALFORMED);
}

/* Copy ch_body, change byte at `at` to v, parse. */
static coaps_status parse_patched(size_t at, uint8_t v)
{
    uint8_t b[sizeof ch_body];
    struct dtls_client_hello ch;
    memcpy(b, ch_body, sizeof b);
    b[at] = v;
    return dtls_client_hello_parse(b, sizeof b, &ch);
}

static void malformed_client_hello_fields_are_refused(void **state)
{
    (void)state;
    /* session_id length 33 > 32 (RFC 5246 7.4.1.2) */
    uint8_t b[128];
    struct dtls_client_hello ch;
    struct wire_wr w = wire_wr_init(b, sizeof b);
    assert_int_equal(wire_wr_bytes(&w, ch_body, 34), COAPS_OK);
    assert_int_equal(wire_wr_u8(&w, 33), COAPS_OK);
    for (int i = 0; i < 33; i++)
        assert_int_equal(wire_wr_u8(&w, 0x55), COAPS_OK);
    assert_int_equal(wire_wr_bytes(&w, ch_body + 35, CH_EXT_AT - 35), COAPS_OK);
    assert_int_equal(dtls_client_hello_parse(b, w.off, &ch), COAPS_E_MALFORMED);
    /* cookie length past the end */
    assert_int_equal(parse_patched(35, 0xff), COAPS_E_MALFORMED);
    /* cipher_suites length odd (3), zero, past end */
    assert_int_equal(parse_patched(41, 0x03), COAPS_E_MALFORMED);
    assert_int_equal(parse_patched(41, 0x00), COAPS_E_MALFORMED);
    assert_int_equal(parse_patched(40, 0x01), COAPS_E_MALFORMED);
    /* compression_methods empty */
    assert_int_equal(parse_patched(46, 0x00), COAPS_E_MALFORMED);
    /* compression list {1} without null: RFC 5246 7.4.1.2 */
    assert_int_equal(parse_patched(47, 0x01), COAPS_E_UNSUPPORTED);
    /* extension block longer / shorter than the rest */
    assert_int_equal(parse_patched(CH_EXT_AT + 1, 0x0a), COAPS_E_MALFORMED);
    assert_int_equal(parse_patched(CH_EXT_AT + 1, 0x08), COAPS_E_MALFORMED);
    /* an extension whose length runs past the block */
    assert_int_equal(parse_patched(CH_EXT_AT + 5, 0x01), COAPS_E_MALFORMED);
    /* renegotiation_info saying renegotiated_connection has 1 byte */
    assert_int_equal(parse_patched(CH_EXT_AT + 10, 0x01), COAPS_E_MALFORMED);
    /* both extensions of type 0x0017: duplicate (RFC 5246 7.4.1.4) */
    uint8_t d[] = {0x00, 0x17, 0x00, 0x00, 0x00, 0x17, 0x00, 0x00};
    memcpy(b, ch_body, CH_EXT_AT);
    b[CH_EXT_AT] = 0;
    b[CH_EXT_AT + 1] = sizeof d;
    memcpy(b + CH_EXT_AT + 2, d, sizeof d);
    assert_int_equal(dtls_client_hello_parse(b, CH_EXT_AT + 2 + sizeof d, &ch), COAPS_E_MALFORMED);
    assert_int_equal(dtls_client_hello_parse(NULL, 5, &ch), COAPS_E_INVALID);
}

static void client_hello_prefix_parses_fixed_fields_only(void **state)
{
    (void)state;
    struct dtls_client_hello ch;
    /* The whole fixed part and a few extension bytes: ok, extensions ignored. */
    assert_int_equal(dtls_client_hello_parse_prefix(ch_body, CH_EXT_AT + 3, &ch), COAPS_OK);
    assert_false(ch.has_extensions);
    assert_int_equal(ch.cookie.len, 4);
    assert_int_equal(ch.compression_methods.len, 1);
    /* Any shorter prefix lacks a fixed field. */
    for (size_t n = 0; n < CH_EXT_AT; n++)
        assert_int_equal(dtls_client_hello_parse_prefix(ch_body, n, &ch), COAPS_E_TRUNCATED);
    /* Field bounds still apply. */
    uint8_t b[sizeof ch_body];
    memcpy(b, ch_body, sizeof b);
    b[47] = 1;
    assert_int_equal(dtls_client_hello_parse_prefix(b, sizeof b, &ch), COAPS_E_UNSUPPORTED);
}

static void client_hello_round_trip(void **state)
{
    (void)state;
    uint8_t ext[64], out[256];
    struct wire_wr ew = wire_wr_init(ext, sizeof ext);
    assert_int_equal(dtls_ext_write_empty(&ew, DTLS_EXT_EXTENDED_MASTER_SECRET), COAPS_OK);
    assert_int_equal(dtls_ext_write_renegotiation_info(&ew), COAPS_OK);
    const uint8_t suites[] = {0xc0, 0xa8, 0x00, 0xff}, comp[] = {0};
    const uint8_t cookie[] = {0xde, 0xad, 0xbe, 0xef};
    struct dtls_client_hello ch = {
        .client_version = DTLS_VERSION_1_2,
        .random = random_a,
        .cookie = {cookie, sizeof cookie},
        .cipher_suites = {suites, sizeof suites},
        .compression_methods = {comp, sizeof comp},
        .has_extensions = true,
        .extensions = {ext, ew.off},
    };
    struct wire_wr w = wire_wr_init(out, sizeof out);
    assert_int_equal(dtls_client_hello_write(&w, &ch), COAPS_OK);
    assert_int_equal(w.off, sizeof ch_body);
    assert_memory_equal(out, ch_body, sizeof ch_body);
    struct dtls_client_hello back;
    assert_int_equal(dtls_client_hello_parse(out, w.off, &back), COAPS_OK);
    assert_int_equal(back.cookie.len, 4);
    assert_ptr_equal(back.cookie.p, out + 36);
}

static void client_hello_writer_checks_bounds(void **state)
{
    (void)state;
    uint8_t big[256] = {0}, out[1024];
    const uint8_t suites[] = {0xc0, 0xa8, 0x00}, comp[] = {0};
    struct dtls_client_hello ch = {
        .client_version = DTLS_VERSION_1_2,
        .random = random_a,
        .cipher_suites = {suites, 2},
        .compression_methods = {comp, 1},
    };
    struct wire_wr w = wire_wr_init(out, sizeof out);
    assert_int_equal(dtls_client_hello_write(&w, &ch), COAPS_OK);
    ch.cookie = (struct dtls_view){big, 256}; /* cookie<0..2^8-1> */
    w = wire_wr_init(out, sizeof out);
    assert_int_equal(dtls_client_hello_write(&w, &ch), COAPS_E_INVALID);
    ch.cookie = (struct dtls_view){big, 255};
    w = wire_wr_init(out, sizeof out);
    assert_int_equal(dtls_client_hello_write(&w, &ch), COAPS_OK);
    ch.session_id = (struct dtls_view){big, 33};
    w = wire_wr_init(out, sizeof out);
    assert_int_equal(dtls_client_hello_write(&w, &ch), COAPS_E_INVALID);
    ch.session_id = (struct dtls_view){NULL, 0};
    ch.cipher_suites.len = 3;
    w = wire_wr_init(out, sizeof out);
    assert_int_equal(dtls_client_hello_write(&w, &ch), COAPS_E_INVALID);
    ch.cipher_suites.len = 2;
    ch.compression_methods.len = 0;
    w = wire_wr_init(out, sizeof out);
    assert_int_equal(dtls_client_hello_write(&w, &ch), COAPS_E_INVALID);
    ch.compression_methods.len = 1;
    w = wire_wr_init(out, 40);
    assert_int_equal(dtls_client_hello_write(&w, &ch), COAPS_E_NOSPACE);
    ch.random = NULL;
    w = wire_wr_init(out, sizeof out);
    assert_int_equal(dtls_client_hello_write(&w, &ch), COAPS_E_INVALID);
}

/* ---- HelloVerifyRequest ------------------------------------------------------ */

static void hello_verify_request_codec(void **state)
{
    (void)state;
    const uint8_t body[] = {0xfe, 0xff, 0x03, 0x01, 0x02, 0x03};
    struct dtls_hello_verify_request hvr;
    assert_int_equal(dtls_hello_verify_request_parse(body, sizeof body, &hvr), COAPS_OK);
    assert_int_equal(hvr.server_version, DTLS_VERSION_1_0);
    assert_int_equal(hvr.cookie.len, 3);
    uint8_t out[16];
    struct wire_wr w = wire_wr_init(out, sizeof out);
    assert_int_equal(dtls_hello_verify_request_write(&w, &hvr), COAPS_OK);
    assert_int_equal(w.off, sizeof body);
    assert_memory_equal(out, body, sizeof body);
    /* cookie past end, trailing byte, no cookie length */
    assert_int_equal(dtls_hello_verify_request_parse(body, 5, &hvr), COAPS_E_MALFORMED);
    const uint8_t trail[] = {0xfe, 0xff, 0x00, 0x00};
    assert_int_equal(dtls_hello_verify_request_parse(trail, 4, &hvr), COAPS_E_MALFORMED);
    assert_int_equal(dtls_hello_verify_request_parse(trail, 3, &hvr), COAPS_OK);
    assert_int_equal(dtls_hello_verify_request_parse(trail, 2, &hvr), COAPS_E_MALFORMED);
}

/* ---- ServerHello -------------------------------------------------------------- */

static void server_hello_codec(void **state)
{
    (void)state;
    struct dtls_server_hello sh;
    assert_int_equal(dtls_server_hello_parse(sh_body, sizeof sh_body, &sh), COAPS_OK);
    assert_int_equal(sh.server_version, DTLS_VERSION_1_2);
    assert_memory_equal(sh.random, random_a, 32);
    assert_int_equal(sh.session_id.len, 2);
    assert_int_equal(sh.cipher_suite, DTLS_TLS_PSK_WITH_AES_128_CCM_8);
    assert_int_equal(sh.compression_method, 0);
    assert_true(sh.has_extensions);
    assert_int_equal(sh.exts.present, DTLS_EXTF_EXTENDED_MASTER_SECRET);
    uint8_t out[128];
    struct wire_wr w = wire_wr_init(out, sizeof out);
    assert_int_equal(dtls_server_hello_write(&w, &sh), COAPS_OK);
    assert_int_equal(w.off, sizeof sh_body);
    assert_memory_equal(out, sh_body, sizeof sh_body);
    /* every truncation but the one ending before the extensions fails */
    for (size_t n = 0; n < sizeof sh_body; n++) {
        coaps_status st = dtls_server_hello_parse(sh_body, n, &sh);
        assert_int_equal(st, n == sizeof sh_body - 6 ? COAPS_OK : COAPS_E_MALFORMED);
    }
    uint8_t b[sizeof sh_body];
    memcpy(b, sh_body, sizeof b);
    b[sizeof sh_body - 7] = 1; /* compression method 1 */
    assert_int_equal(dtls_server_hello_parse(b, sizeof b, &sh), COAPS_E_UNSUPPORTED);
    /* ServerHello server_name ack must be empty (RFC 6066 3) */
    memcpy(b, sh_body, sizeof b);
    b[sizeof sh_body - 3] = 0x00; /* EMS -> server_name type 0, still empty */
    assert_int_equal(dtls_server_hello_parse(b, sizeof b, &sh), COAPS_OK);
    assert_true(dtls_exts_has(&sh.exts, DTLS_EXTF_SERVER_NAME));
}

/* ---- key exchange ------------------------------------------------------------------ */

static void psk_key_exchange_codecs(void **state)
{
    (void)state;
    /* RFC 4279 2: opaque psk_identity_hint<0..2^16-1> / psk_identity */
    const uint8_t hint[] = {0x00, 0x04, 'h', 'i', 'n', 't'};
    struct dtls_ske_psk ske;
    assert_int_equal(dtls_ske_psk_parse(hint, sizeof hint, &ske), COAPS_OK);
    assert_int_equal(ske.psk_identity_hint.len, 4);
    assert_memory_equal(ske.psk_identity_hint.p, "hint", 4);
    const uint8_t empty[] = {0x00, 0x00};
    assert_int_equal(dtls_ske_psk_parse(empty, 2, &ske), COAPS_OK);
    assert_int_equal(ske.psk_identity_hint.len, 0);
    assert_int_equal(dtls_ske_psk_parse(hint, 5, &ske), COAPS_E_MALFORMED);
    assert_int_equal(dtls_ske_psk_parse(hint, 1, &ske), COAPS_E_MALFORMED);
    assert_int_equal(dtls_ske_psk_parse(hint, 0, &ske), COAPS_E_MALFORMED);
    const uint8_t trail[] = {0x00, 0x01, 'a', 'b'};
    assert_int_equal(dtls_ske_psk_parse(trail, sizeof trail, &ske), COAPS_E_MALFORMED);

    struct dtls_cke_psk cke;
    const uint8_t id[] = {0x00, 0x02, 'i', 'd'};
    assert_int_equal(dtls_cke_psk_parse(id, sizeof id, &cke), COAPS_OK);
    assert_int_equal(cke.psk_identity.len, 2);
    assert_memory_equal(cke.psk_identity.p, "id", 2);
    uint8_t out[8];
    struct wire_wr w = wire_wr_init(out, sizeof out);
    assert_int_equal(dtls_cke_psk_write(&w, &cke), COAPS_OK);
    assert_int_equal(w.off, sizeof id);
    assert_memory_equal(out, id, sizeof id);
    assert_int_equal(dtls_cke_psk_parse(trail, sizeof trail, &cke), COAPS_E_MALFORMED);
    w = wire_wr_init(out, sizeof out);
    struct dtls_ske_psk ske2 = {{(const uint8_t *)"hint", 4}};
    assert_int_equal(dtls_ske_psk_write(&w, &ske2), COAPS_OK);
    assert_memory_equal(out, hint, sizeof hint);
    w = wire_wr_init(out, 3);
    assert_int_equal(dtls_ske_psk_write(&w, &ske2), COAPS_E_NOSPACE);
}

static void ecdhe_key_exchange_codecs(void **state)
{
    (void)state;
    /* RFC 8422 5.4: named_curve(3) secp256r1(23), point <3>, then
     * ecdsa_secp256r1_sha256 (0403), signature <2>. */
    const uint8_t ske_body[] = {0x03, 0x00, 0x17, 0x03, 0x04, 0xaa, 0xbb,
                                0x04, 0x03, 0x00, 0x02, 0x30, 0x00};
    struct dtls_ske_ecdhe ske;
    assert_int_equal(dtls_ske_ecdhe_parse(ske_body, sizeof ske_body, &ske), COAPS_OK);
    assert_int_equal(ske.named_curve, DTLS_GROUP_SECP256R1);
    assert_int_equal(ske.public_key.len, 3);
    assert_ptr_equal(ske.params.p, ske_body);
    assert_int_equal(ske.params.len, 7);
    assert_int_equal(ske.sig_alg, DTLS_SIGALG_ECDSA_SECP256R1_SHA256);
    assert_int_equal(ske.signature.len, 2);
    uint8_t out[32];
    struct wire_wr w = wire_wr_init(out, sizeof out);
    assert_int_equal(dtls_ske_ecdhe_write_params(&w, 23, ske_body + 4, 3), COAPS_OK);
    assert_int_equal(dtls_ske_ecdhe_write_signature(&w, 0x0403, ske_body + 11, 2), COAPS_OK);
    assert_int_equal(w.off, sizeof ske_body);
    assert_memory_equal(out, ske_body, sizeof ske_body);
    uint8_t b[sizeof ske_body];
    memcpy(b, ske_body, sizeof b);
    b[0] = 1; /* explicit_prime curve type */
    assert_int_equal(dtls_ske_ecdhe_parse(b, sizeof b, &ske), COAPS_E_UNSUPPORTED);
    memcpy(b, ske_body, sizeof b);
    b[3] = 0; /* empty point: ECPoint <1..2^8-1> */
    assert_int_equal(dtls_ske_ecdhe_parse(b, sizeof b, &ske), COAPS_E_MALFORMED);
    for (size_t n = 0; n < sizeof ske_body; n++)
        assert_int_equal(dtls_ske_ecdhe_parse(ske_body, n, &ske), COAPS_E_MALFORMED);

    const uint8_t cke_body[] = {0x02, 0x04, 0x05};
    struct dtls_cke_ecdhe cke;
    assert_int_equal(dtls_cke_ecdhe_parse(cke_body, sizeof cke_body, &cke), COAPS_OK);
    assert_int_equal(cke.public_key.len, 2);
    const uint8_t empty_point[] = {0x00};
    assert_int_equal(dtls_cke_ecdhe_parse(empty_point, 1, &cke), COAPS_E_MALFORMED);
    assert_int_equal(dtls_cke_ecdhe_parse(cke_body, 2, &cke), COAPS_E_MALFORMED);
    w = wire_wr_init(out, sizeof out);
    assert_int_equal(dtls_cke_ecdhe_write(&w, &cke), COAPS_OK);
    assert_memory_equal(out, cke_body, sizeof cke_body);
}

/* ---- server messages from real servers ------------------------------------- */

static void parses_real_hello_verify_requests(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        size_t cookie_len;
    } v[] = {{"openssl_dtls12_hello_verify_request.bin", 20},
             {"gnutls_dtls12_hello_verify_request.bin", 16}};
    for (size_t i = 0; i < 2; i++) {
        uint8_t dg[VEC_MAX];
        size_t n = load_vector(v[i].file, dg, sizeof dg);
        struct dtls_hs_header h[FRAGS_MAX];
        const uint8_t *f[FRAGS_MAX];
        assert_int_equal(datagram_fragments(dg, n, h, f), 1);
        assert_int_equal(h[0].msg_type, DTLS_HS_HELLO_VERIFY_REQUEST);
        assert_int_equal(h[0].message_seq, 0);
        struct dtls_hello_verify_request hvr;
        assert_int_equal(dtls_hello_verify_request_parse(f[0], h[0].length, &hvr), COAPS_OK);
        /* RFC 6347 4.2.1: both servers send version DTLS 1.0 in the HVR */
        assert_int_equal(hvr.server_version, DTLS_VERSION_1_0);
        assert_int_equal(hvr.cookie.len, v[i].cookie_len);
    }
}

static void parses_openssl_psk_server_flight(void **state)
{
    (void)state;
    uint8_t dg[VEC_MAX];
    size_t n = load_vector("openssl_dtls12_psk_server_flight.bin", dg, sizeof dg);
    struct dtls_hs_header h[FRAGS_MAX];
    const uint8_t *f[FRAGS_MAX];
    assert_int_equal(datagram_fragments(dg, n, h, f), 3);
    for (int i = 0; i < 3; i++) {
        assert_true(dtls_hs_header_is_whole(&h[i]));
        assert_int_equal(h[i].message_seq, 1 + i); /* after the seq-1 ClientHello */
    }
    struct dtls_server_hello sh;
    assert_int_equal(h[0].msg_type, DTLS_HS_SERVER_HELLO);
    assert_int_equal(dtls_server_hello_parse(f[0], h[0].length, &sh), COAPS_OK);
    assert_int_equal(sh.server_version, DTLS_VERSION_1_2);
    assert_int_equal(sh.cipher_suite, DTLS_TLS_PSK_WITH_AES_128_GCM_SHA256);
    assert_int_equal(sh.session_id.len, 0);
    assert_int_equal(sh.exts.present, DTLS_EXTF_RENEGOTIATION_INFO | DTLS_EXTF_SESSION_TICKET |
                                          DTLS_EXTF_EXTENDED_MASTER_SECRET);
    assert_int_equal(sh.exts.unknown_count, 0);
    struct dtls_ske_psk ske;
    assert_int_equal(h[1].msg_type, DTLS_HS_SERVER_KEY_EXCHANGE);
    assert_int_equal(dtls_ske_psk_parse(f[1], h[1].length, &ske), COAPS_OK);
    assert_int_equal(ske.psk_identity_hint.len, 4);
    assert_memory_equal(ske.psk_identity_hint.p, "hint", 4);
    assert_int_equal(h[2].msg_type, DTLS_HS_SERVER_HELLO_DONE);
    assert_int_equal(dtls_server_hello_done_parse(f[2], h[2].length), COAPS_OK);
    /* the ServerHello writes back byte for byte */
    uint8_t out[VEC_MAX];
    struct wire_wr w = wire_wr_init(out, sizeof out);
    assert_int_equal(dtls_server_hello_write(&w, &sh), COAPS_OK);
    assert_int_equal(w.off, h[0].length);
    assert_memory_equal(out, f[0], h[0].length);
}

static void parses_gnutls_psk_server_flight(void **state)
{
    (void)state;
    uint8_t dg[VEC_MAX];
    size_t n = load_vector("gnutls_dtls12_psk_server_flight_0.bin", dg, sizeof dg);
    struct dtls_hs_header h[FRAGS_MAX];
    const uint8_t *f[FRAGS_MAX];
    assert_int_equal(datagram_fragments(dg, n, h, f), 1);
    struct dtls_server_hello sh;
    assert_int_equal(dtls_server_hello_parse(f[0], h[0].length, &sh), COAPS_OK);
    assert_int_equal(sh.cipher_suite, DTLS_TLS_PSK_WITH_AES_256_GCM_SHA384);
    assert_int_equal(sh.session_id.len, 32);
    assert_true(dtls_exts_has(&sh.exts, DTLS_EXTF_EXTENDED_MASTER_SECRET));
    assert_true(dtls_exts_has(&sh.exts, DTLS_EXTF_RENEGOTIATION_INFO));
    /* record_size_limit (RFC 8449) echoed because the client offered it:
     * reported as unknown, for the engine to judge. */
    assert_int_equal(sh.exts.unknown_count, 1);
    assert_int_equal(sh.exts.first_unknown, DTLS_EXT_RECORD_SIZE_LIMIT);
    n = load_vector("gnutls_dtls12_psk_server_flight_1.bin", dg, sizeof dg);
    assert_int_equal(datagram_fragments(dg, n, h, f), 1);
    assert_int_equal(h[0].msg_type, DTLS_HS_SERVER_HELLO_DONE);
    assert_int_equal(h[0].message_seq, 2);
    assert_int_equal(dtls_server_hello_done_parse(f[0], h[0].length), COAPS_OK);
}

/* ---- certificate path (RFC 5246 7.4.2/7.4.4/7.4.8, RFC 7250 3) ----------- */

static void certificate_codecs(void **state)
{
    (void)state;
    /* certificate_list <10>: cert <3> aabbcc, cert <1> dd */
    const uint8_t x509[] = {0x00, 0x00, 0x0a, 0x00, 0x00, 0x03, 0xaa, 0xbb,
                            0xcc, 0x00, 0x00, 0x01, 0xdd};
    struct dtls_view list, cert;
    assert_int_equal(dtls_certificate_parse_x509(x509, 13, &list), COAPS_OK);
    assert_int_equal(list.len, 10);
    struct dtls_cert_iter it;
    dtls_cert_iter_init(&it, list);
    assert_int_equal(dtls_cert_iter_next(&it, &cert), COAPS_OK);
    assert_int_equal(cert.len, 3);
    assert_memory_equal(cert.p, "\xaa\xbb\xcc", 3);
    assert_int_equal(dtls_cert_iter_next(&it, &cert), COAPS_OK);
    assert_int_equal(cert.len, 1);
    assert_int_equal(dtls_cert_iter_next(&it, &cert), COAPS_E_NOT_FOUND);
    struct dtls_view certs[2] = {{x509 + 6, 3}, {x509 + 12, 1}};
    uint8_t out[32];
    struct wire_wr w = wire_wr_init(out, sizeof out);
    assert_int_equal(dtls_certificate_write_x509(&w, certs, 2), COAPS_OK);
    assert_int_equal(w.off, sizeof x509);
    assert_memory_equal(out, x509, sizeof x509);
    w = wire_wr_init(out, sizeof out);
    assert_int_equal(dtls_certificate_write_x509(&w, NULL, 0), COAPS_OK);
    assert_memory_equal(out, "\x00\x00\x00", 3);
    assert_int_equal(dtls_certificate_parse_x509(out, 3, &list), COAPS_OK); /* empty list */
    assert_int_equal(list.len, 0);
    for (size_t n = 0; n < sizeof x509; n++)
        assert_int_equal(dtls_certificate_parse_x509(x509, n, &list), COAPS_E_MALFORMED);
    uint8_t b[sizeof x509];
    memcpy(b, x509, sizeof b);
    b[11] = 0x00; /* second certificate of length 0: ASN.1Cert<1..2^24-1> */
    b[2] = 0x09;
    assert_int_equal(dtls_certificate_parse_x509(b, 12, &list), COAPS_E_MALFORMED);
    memcpy(b, x509, sizeof b);
    b[11] = 0x02; /* second certificate runs past the list */
    assert_int_equal(dtls_certificate_parse_x509(b, sizeof b, &list), COAPS_E_MALFORMED);

    const uint8_t rpk[] = {0x00, 0x00, 0x03, 0x30, 0x01, 0x00};
    struct dtls_view spki;
    assert_int_equal(dtls_certificate_parse_rpk(rpk, sizeof rpk, &spki), COAPS_OK);
    assert_int_equal(spki.len, 3);
    assert_int_equal(dtls_certificate_parse_rpk(rpk, 3, &spki), COAPS_E_MALFORMED);
    assert_int_equal(dtls_certificate_parse_rpk(out, 3, &spki), COAPS_E_MALFORMED); /* <1..> */
    w = wire_wr_init(out, sizeof out);
    assert_int_equal(dtls_certificate_write_rpk(&w, rpk + 3, 3), COAPS_OK);
    assert_memory_equal(out, rpk, sizeof rpk);
    assert_int_equal(dtls_certificate_write_rpk(&w, rpk, 0), COAPS_E_INVALID);
}

static void certificate_request_and_verify_codecs(void **state)
{
    (void)state;
    /* types <1> ecdsa_sign(64), sig algs <2> 0403, CAs <5>: DN <3> */
    const uint8_t crq[] = {0x01, 0x40, 0x00, 0x02, 0x04, 0x03, 0x00,
                           0x05, 0x00, 0x03, 0x30, 0x01, 0x02};
    struct dtls_certificate_request cr;
    assert_int_equal(dtls_certificate_request_parse(crq, sizeof crq, &cr), COAPS_OK);
    assert_int_equal(cr.certificate_types.len, 1);
    assert_true(
        dtls_u16_list_contains(cr.signature_algorithms, DTLS_SIGALG_ECDSA_SECP256R1_SHA256));
    assert_int_equal(cr.certificate_authorities.len, 5);
    uint8_t out[32];
    struct wire_wr w = wire_wr_init(out, sizeof out);
    assert_int_equal(dtls_certificate_request_write(&w, &cr), COAPS_OK);
    assert_int_equal(w.off, sizeof crq);
    assert_memory_equal(out, crq, sizeof crq);
    for (size_t n = 0; n < sizeof crq; n++)
        assert_int_equal(dtls_certificate_request_parse(crq, n, &cr), COAPS_E_MALFORMED);
    uint8_t b[sizeof crq];
    memcpy(b, crq, sizeof b);
    b[9] = 0x04; /* DN longer than the CA list */
    assert_int_equal(dtls_certificate_request_parse(b, sizeof b, &cr), COAPS_E_MALFORMED);
    const uint8_t empty_dn[] = {0x01, 0x40, 0x00, 0x02, 0x04, 0x03, 0x00, 0x02, 0x00, 0x00};
    assert_int_equal(dtls_certificate_request_parse(empty_dn, sizeof empty_dn, &cr),
                     COAPS_E_MALFORMED);
    const uint8_t odd[] = {0x01, 0x40, 0x00, 0x03, 0x04, 0x03, 0x01, 0x00, 0x00};
    assert_int_equal(dtls_certificate_request_parse(odd, sizeof odd, &cr), COAPS_E_MALFORMED);

    const uint8_t cv_body[] = {0x04, 0x03, 0x00, 0x02, 0x30, 0x00};
    struct dtls_digitally_signed cv;
    assert_int_equal(dtls_certificate_verify_parse(cv_body, sizeof cv_body, &cv), COAPS_OK);
    assert_int_equal(cv.sig_alg, DTLS_SIGALG_ECDSA_SECP256R1_SHA256);
    assert_int_equal(cv.signature.len, 2);
    w = wire_wr_init(out, sizeof out);
    assert_int_equal(dtls_certificate_verify_write(&w, &cv), COAPS_OK);
    assert_memory_equal(out, cv_body, sizeof cv_body);
    for (size_t n = 0; n < sizeof cv_body; n++)
        assert_int_equal(dtls_certificate_verify_parse(cv_body, n, &cv), COAPS_E_MALFORMED);
    uint8_t t[sizeof cv_body + 1];
    memcpy(t, cv_body, sizeof cv_body);
    t[sizeof cv_body] = 0;
    assert_int_equal(dtls_certificate_verify_parse(t, sizeof t, &cv), COAPS_E_MALFORMED);
}

/* ---- small bodies ----------------------------------------------------------------- */

static void finished_done_ccs_alert(void **state)
{
    (void)state;
    const uint8_t vd[13] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
    const uint8_t *p;
    assert_int_equal(dtls_finished_parse(vd, 12, &p), COAPS_OK);
    assert_ptr_equal(p, vd);
    assert_int_equal(dtls_finished_parse(vd, 11, &p), COAPS_E_MALFORMED);
    assert_int_equal(dtls_finished_parse(vd, 13, &p), COAPS_E_MALFORMED);
    uint8_t out[16];
    struct wire_wr w = wire_wr_init(out, sizeof out);
    assert_int_equal(dtls_finished_write(&w, vd), COAPS_OK);
    assert_int_equal(w.off, 12);
    assert_memory_equal(out, vd, 12);

    assert_int_equal(dtls_server_hello_done_parse(vd, 0), COAPS_OK);
    assert_int_equal(dtls_server_hello_done_parse(NULL, 0), COAPS_OK);
    assert_int_equal(dtls_server_hello_done_parse(vd, 1), COAPS_E_MALFORMED);

    const uint8_t one[] = {1, 1}, two[] = {2};
    assert_int_equal(dtls_ccs_parse(one, 1), COAPS_OK);
    assert_int_equal(dtls_ccs_parse(one, 2), COAPS_E_MALFORMED);
    assert_int_equal(dtls_ccs_parse(two, 1), COAPS_E_MALFORMED);
    assert_int_equal(dtls_ccs_parse(one, 0), COAPS_E_MALFORMED);
    w = wire_wr_init(out, sizeof out);
    assert_int_equal(dtls_ccs_write(&w), COAPS_OK);
    assert_int_equal(w.off, 1);
    assert_int_equal(out[0], 1);

    const uint8_t alert[] = {2, 40, 0};
    struct dtls_alert a;
    assert_int_equal(dtls_alert_parse(alert, 2, &a), COAPS_OK);
    assert_int_equal(a.level, DTLS_ALERT_FATAL);
    assert_int_equal(a.description, DTLS_ALERT_HANDSHAKE_FAILURE);
    assert_int_equal(dtls_alert_parse(alert, 1, &a), COAPS_E_MALFORMED);
    assert_int_equal(dtls_alert_parse(alert, 3, &a), COAPS_E_MALFORMED);
    w = wire_wr_init(out, sizeof out);
    struct dtls_alert cn = {DTLS_ALERT_WARNING, DTLS_ALERT_CLOSE_NOTIFY};
    assert_int_equal(dtls_alert_write(&w, &cn), COAPS_OK);
    assert_memory_equal(out, "\x01\x00", 2);
    w = wire_wr_init(out, 1);
    assert_int_equal(dtls_alert_write(&w, &cn), COAPS_E_NOSPACE);
    assert_int_equal(w.off, 0);

    assert_int_equal(dtls_alert_for_status(COAPS_E_MALFORMED), DTLS_ALERT_DECODE_ERROR);
    assert_int_equal(dtls_alert_for_status(COAPS_E_TRUNCATED), DTLS_ALERT_DECODE_ERROR);
    assert_int_equal(dtls_alert_for_status(COAPS_E_UNSUPPORTED), DTLS_ALERT_ILLEGAL_PARAMETER);
    assert_int_equal(dtls_alert_for_status(COAPS_E_CRYPTO), DTLS_ALERT_INTERNAL_ERROR);
}

static void alert_and_suite_numbers_match_the_registries(void **state)
{
    (void)state;
    /* RFC 5246 7.2, RFC 4279 2, RFC 6066 3 */
    assert_int_equal(DTLS_ALERT_DECODE_ERROR, 50);
    assert_int_equal(DTLS_ALERT_UNKNOWN_PSK_IDENTITY, 115);
    assert_int_equal(DTLS_ALERT_UNRECOGNIZED_NAME, 112);
    assert_int_equal(DTLS_ALERT_BAD_RECORD_MAC, 20);
    /* handshake types RFC 5246 7.4, RFC 6347 4.3.2 */
    assert_int_equal(DTLS_HS_HELLO_VERIFY_REQUEST, 3);
    assert_int_equal(DTLS_HS_CLIENT_KEY_EXCHANGE, 16);
    assert_int_equal(DTLS_HS_FINISHED, 20);
    /* suite ids as in the IANA registry */
    assert_int_equal(DTLS_TLS_PSK_WITH_AES_128_CCM_8, 0xc0a8);
    assert_int_equal(DTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, 0xc0ae);
    assert_int_equal(DTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, 0xcca9);
}

/* RFC 5077 3.3: uint32 ticket_lifetime_hint, opaque ticket<0..2^16-1>;
 * an empty ticket is legal (the server changed its mind); anything short
 * or long is decode_error material. */
static void new_session_ticket_codec(void **state)
{
    (void)state;
    const uint8_t body[] = {0x00, 0x00, 0x1c, 0x20, 0x00, 0x03, 0xde, 0xad, 0xbe};
    struct dtls_new_session_ticket t;
    assert_int_equal(dtls_new_session_ticket_parse(body, sizeof body, &t), COAPS_OK);
    assert_int_equal(t.lifetime_hint, 7200);
    assert_int_equal(t.ticket.len, 3);
    assert_memory_equal(t.ticket.p, body + 6, 3);
    uint8_t out[16];
    struct wire_wr w = wire_wr_init(out, sizeof out);
    assert_int_equal(dtls_new_session_ticket_write(&w, &t), COAPS_OK);
    assert_int_equal(w.off, sizeof body);
    assert_memory_equal(out, body, sizeof body);
    for (size_t n = 0; n < sizeof body; n++)
        assert_int_equal(dtls_new_session_ticket_parse(body, n, &t), COAPS_E_MALFORMED);
    uint8_t longer[sizeof body + 1];
    memcpy(longer, body, sizeof body);
    longer[sizeof body] = 0;
    assert_int_equal(dtls_new_session_ticket_parse(longer, sizeof longer, &t), COAPS_E_MALFORMED);
    const uint8_t empty[] = {0, 0, 0, 0, 0, 0};
    assert_int_equal(dtls_new_session_ticket_parse(empty, sizeof empty, &t), COAPS_OK);
    assert_int_equal(t.ticket.len, 0);
    assert_int_equal(t.lifetime_hint, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_read_takes_fields_and_fragment),
        cmocka_unit_test(header_read_refuses_bad_fragments),
        cmocka_unit_test(header_write_whole_is_transcript_form),
        cmocka_unit_test(parses_openssl_client_hello),
        cmocka_unit_test(parses_openssl_client_hello_with_cookie),
        cmocka_unit_test(parses_gnutls_client_hello),
        cmocka_unit_test(parses_hand_built_client_hello),
        cmocka_unit_test(every_truncation_of_client_hello_is_refused),
        cmocka_unit_test(malformed_client_hello_fields_are_refused),
        cmocka_unit_test(client_hello_prefix_parses_fixed_fields_only),
        cmocka_unit_test(client_hello_round_trip),
        cmocka_unit_test(client_hello_writer_checks_bounds),
        cmocka_unit_test(hello_verify_request_codec),
        cmocka_unit_test(server_hello_codec),
        cmocka_unit_test(psk_key_exchange_codecs),
        cmocka_unit_test(ecdhe_key_exchange_codecs),
        cmocka_unit_test(parses_real_hello_verify_requests),
        cmocka_unit_test(parses_openssl_psk_server_flight),
        cmocka_unit_test(parses_gnutls_psk_server_flight),
        cmocka_unit_test(certificate_codecs),
        cmocka_unit_test(certificate_request_and_verify_codecs),
        cmocka_unit_test(finished_done_ccs_alert),
        cmocka_unit_test(new_session_ticket_codec),
        cmocka_unit_test(alert_and_suite_numbers_match_the_registries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
