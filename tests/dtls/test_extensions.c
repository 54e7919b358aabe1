/* test_extensions.c - hello extension block parsing and writers
 * (src/dtls/extensions.c). Byte layouts from RFC 6066 3, RFC 7627 5.1,
 * RFC 5746 3.2, RFC 8422 5.1, RFC 5246 7.4.1.4, RFC 7250 3. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dtls/extensions.h"

static coaps_status parse_ch(const uint8_t *p, size_t n, struct dtls_exts *e)
{
    return dtls_exts_parse(p, n, DTLS_EXT_CTX_CLIENT_HELLO, e);
}

static coaps_status parse_sh(const uint8_t *p, size_t n, struct dtls_exts *e)
{
    return dtls_exts_parse(p, n, DTLS_EXT_CTX_SERVER_HELLO, e);
}

static void empty_block_has_nothing(void **state)
{
    (void)state;
    struct dtls_exts e;
    assert_int_equal(parse_ch(NULL, 0, &e), COAPS_OK);
    assert_int_equal(e.present, 0);
    assert_int_equal(e.count, 0);
}

static void writers_produce_rfc_layouts(void **state)
{
    (void)state;
    uint8_t buf[128];
    struct wire_wr w = wire_wr_init(buf, sizeof buf);
    static const uint16_t groups[] = {DTLS_GROUP_SECP256R1, DTLS_GROUP_X25519};
    static const uint16_t sigalgs[] = {DTLS_SIGALG_ECDSA_SECP256R1_SHA256};
    static const uint8_t formats[] = {DTLS_POINT_FORMAT_UNCOMPRESSED};
    static const uint8_t rpk_x509[] = {DTLS_CERT_TYPE_RAW_PUBLIC_KEY, DTLS_CERT_TYPE_X509};
    assert_int_equal(dtls_ext_write_empty(&w, DTLS_EXT_EXTENDED_MASTER_SECRET), COAPS_OK);
    assert_int_equal(dtls_ext_write_renegotiation_info(&w), COAPS_OK);
    assert_int_equal(dtls_ext_write_server_name(&w, (const uint8_t *)"a.example", 9), COAPS_OK);
    assert_int_equal(dtls_ext_write_supported_groups(&w, groups, 2), COAPS_OK);
    assert_int_equal(dtls_ext_write_ec_point_formats(&w, formats, 1), COAPS_OK);
    assert_int_equal(dtls_ext_write_signature_algorithms(&w, sigalgs, 1), COAPS_OK);
    assert_int_equal(
        dtls_ext_write_cert_type_list(&w, DTLS_EXT_SERVER_CERTIFICATE_TYPE, rpk_x509, 2), COAPS_OK);
    const uint8_t want[] = {
        0x00, 0x17, 0x00, 0x00,                   /* extended_master_secret */
        0xff, 0x01, 0x00, 0x01, 0x00,             /* renegotiation_info, empty */
        0x00, 0x00, 0x00, 0x0e, 0x00, 0x0c, 0x00, /* server_name, list, host_name */
        0x00, 0x09, 'a', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e',
        0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x17, 0x00, 0x1d, /* supported_groups */
        0x00, 0x0b, 0x00, 0x02, 0x01, 0x00,                         /* ec_point_formats */
        0x00, 0x0d, 0x00, 0x04, 0x00, 0x02, 0x04, 0x03,             /* signature_algorithms */
        0x00, 0x14, 0x00, 0x03, 0x02, 0x02, 0x00,                   /* server_certificate_type */
    };
    assert_int_equal(w.off, sizeof want);
    assert_memory_equal(buf, want, sizeof want);

    /* and they parse back into the view struct */
    struct dtls_exts e;
    assert_int_equal(parse_ch(buf, w.off, &e), COAPS_OK);
    assert_int_equal(e.count, 7);
    assert_int_equal(e.unknown_count, 0);
    assert_int_equal(e.present,
                     DTLS_EXTF_EXTENDED_MASTER_SECRET | DTLS_EXTF_RENEGOTIATION_INFO |
                         DTLS_EXTF_SERVER_NAME | DTLS_EXTF_SUPPORTED_GROUPS |
                         DTLS_EXTF_EC_POINT_FORMATS | DTLS_EXTF_SIGNATURE_ALGORITHMS |
                         DTLS_EXTF_SERVER_CERTIFICATE_TYPE);
    assert_int_equal(e.server_name.len, 9);
    assert_memory_equal(e.server_name.p, "a.example", 9);
    assert_int_equal(e.supported_groups.len, 4);
    assert_true(dtls_u16_list_contains(e.supported_groups, DTLS_GROUP_X25519));
    assert_false(dtls_u16_list_contains(e.supported_groups, DTLS_GROUP_SECP384R1));
    assert_true(dtls_u8_list_contains(e.ec_point_formats, 0));
    assert_true(dtls_u16_list_contains(e.signature_algorithms, 0x0403));
    assert_int_equal(e.server_cert_types.len, 2);
    assert_true(dtls_u8_list_contains(e.server_cert_types, DTLS_CERT_TYPE_RAW_PUBLIC_KEY));
    assert_false(dtls_exts_has(&e, DTLS_EXTF_CLIENT_CERTIFICATE_TYPE));
}

static void server_hello_shapes(void **state)
{
    (void)state;
    uint8_t buf[32];
    struct wire_wr w = wire_wr_init(buf, sizeof buf);
    assert_int_equal(dtls_ext_write_cert_type(&w, DTLS_EXT_CLIENT_CERTIFICATE_TYPE,
                                              DTLS_CERT_TYPE_RAW_PUBLIC_KEY),
                     COAPS_OK);
    assert_int_equal(dtls_ext_write_empty(&w, DTLS_EXT_SERVER_NAME), COAPS_OK);
    const uint8_t want[] = {0x00, 0x13, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00};
    assert_int_equal(w.off, sizeof want);
    assert_memory_equal(buf, want, sizeof want);
    struct dtls_exts e;
    assert_int_equal(parse_sh(buf, w.off, &e), COAPS_OK);
    assert_int_equal(e.client_cert_types.len, 1);
    assert_int_equal(e.client_cert_types.p[0], DTLS_CERT_TYPE_RAW_PUBLIC_KEY);
    assert_true(dtls_exts_has(&e, DTLS_EXTF_SERVER_NAME));
    assert_int_equal(e.server_name.len, 0);
    /* In a ClientHello the same bytes are a list of length 2 with one
     * entry missing: malformed; an empty server_name too. */
    assert_int_equal(parse_ch(buf, 5, &e), COAPS_E_MALFORMED);
    assert_int_equal(parse_ch(buf + 5, 4, &e), COAPS_E_MALFORMED);
    /* ServerHello: two cert types, or a non-empty server_name */
    const uint8_t two[] = {0x00, 0x14, 0x00, 0x02, 0x01, 0x02};
    assert_int_equal(parse_sh(two, sizeof two, &e), COAPS_E_MALFORMED);
    const uint8_t sni[] = {0x00, 0x00, 0x00, 0x01, 0x00};
    assert_int_equal(parse_sh(sni, sizeof sni, &e), COAPS_E_MALFORMED);
}

static void unknown_extensions_are_skipped(void **state)
{
    (void)state;
    const uint8_t b[] = {
        0x12, 0x34, 0x00, 0x03, 0xaa, 0xbb, 0xcc, /* unknown */
        0x00, 0x23, 0x00, 0x02, 0x01, 0x02,       /* session_ticket with a ticket */
        0x00, 0x1c, 0x00, 0x02, 0x40, 0x00,       /* record_size_limit: not handled */
        0x00, 0x16, 0x00, 0x00,                   /* encrypt_then_mac */
    };
    struct dtls_exts e;
    assert_int_equal(parse_ch(b, sizeof b, &e), COAPS_OK);
    assert_int_equal(e.count, 4);
    assert_int_equal(e.unknown_count, 2);
    assert_int_equal(e.first_unknown, 0x1234);
    assert_int_equal(e.present, DTLS_EXTF_SESSION_TICKET | DTLS_EXTF_ENCRYPT_THEN_MAC);
    assert_int_equal(e.session_ticket.len, 2);
    assert_int_equal(e.session_ticket.p[0], 0x01);
    assert_int_equal(e.session_ticket.p[1], 0x02);
}

/* RFC 5077 3.2: the ticket is the whole extension data, empty to ask for
 * one; a ServerHello's must be empty. Written back byte for byte. */
static void session_ticket_extension(void **state)
{
    (void)state;
    const uint8_t empty[] = {0x00, 0x23, 0x00, 0x00};
    struct dtls_exts e;
    assert_int_equal(parse_ch(empty, sizeof empty, &e), COAPS_OK);
    assert_true(dtls_exts_has(&e, DTLS_EXTF_SESSION_TICKET));
    assert_int_equal(e.session_ticket.len, 0);
    assert_int_equal(parse_sh(empty, sizeof empty, &e), COAPS_OK);
    assert_true(dtls_exts_has(&e, DTLS_EXTF_SESSION_TICKET));
    const uint8_t with[] = {0x00, 0x23, 0x00, 0x03, 0xaa, 0xbb, 0xcc};
    assert_int_equal(parse_sh(with, sizeof with, &e), COAPS_E_MALFORMED);
    assert_int_equal(parse_ch(with, sizeof with, &e), COAPS_OK);
    assert_int_equal(e.session_ticket.len, 3);

    uint8_t out[16];
    struct wire_wr w = wire_wr_init(out, sizeof out);
    assert_int_equal(dtls_ext_write_session_ticket(&w, with + 4, 3), COAPS_OK);
    assert_int_equal(dtls_ext_write_session_ticket(&w, NULL, 0), COAPS_OK);
    assert_int_equal(w.off, sizeof with + sizeof empty);
    assert_memory_equal(out, with, sizeof with);
    assert_memory_equal(out + sizeof with, empty, sizeof empty);
    w = wire_wr_init(out, 6); /* no room: nothing written */
    assert_int_equal(dtls_ext_write_session_ticket(&w, with + 4, 3), COAPS_E_NOSPACE);
    assert_int_equal(w.off, 0);
}

/* One malformed block per RFC rule. */
static void malformed_blocks_are_refused(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        uint8_t bytes[24];
        size_t len;
        coaps_status want;
    } cases[] = {
        {"truncated extension header", {0x00, 0x17, 0x00}, 3, COAPS_E_MALFORMED},
        {"extension data past block", {0x00, 0x17, 0x00, 0x01}, 4, COAPS_E_MALFORMED},
        {"duplicate known type (RFC 5246 7.4.1.4)",
         {0x00, 0x17, 0x00, 0x00, 0x00, 0x17, 0x00, 0x00}, 8, COAPS_E_MALFORMED},
        {"duplicate unknown type",
         {0x12, 0x34, 0x00, 0x00, 0x00, 0x16, 0x00, 0x00, 0x12, 0x34, 0x00, 0x00}, 12,
         COAPS_E_MALFORMED},
        {"extended_master_secret not empty (RFC 7627 5.1)",
         {0x00, 0x17, 0x00, 0x01, 0x00}, 5, COAPS_E_MALFORMED},
        {"encrypt_then_mac not empty", {0x00, 0x16, 0x00, 0x01, 0x00}, 5, COAPS_E_MALFORMED},
        {"renegotiation_info non-empty (RFC 5746 3.6)",
         {0xff, 0x01, 0x00, 0x02, 0x01, 0xaa}, 6, COAPS_E_UNSUPPORTED},
        {"renegotiation_info inner length wrong", {0xff, 0x01, 0x00, 0x01, 0x01}, 5,
         COAPS_E_MALFORMED},
        {"renegotiation_info no data", {0xff, 0x01, 0x00, 0x00}, 4, COAPS_E_MALFORMED},
        {"server_name empty list (RFC 6066 3: <1..2^16-1>)",
         {0x00, 0x00, 0x00, 0x02, 0x00, 0x00}, 6, COAPS_E_MALFORMED},
        {"server_name host_name of length 0",
         {0x00, 0x00, 0x00, 0x05, 0x00, 0x03, 0x00, 0x00, 0x00}, 9, COAPS_E_MALFORMED},
        {"server_name two host_names",
         {0x00, 0x00, 0x00, 0x0a, 0x00, 0x08, 0x00, 0x00, 0x01, 'a', 0x00, 0x00, 0x01, 'b'}, 14,
         COAPS_E_MALFORMED},
        {"server_name list length != data",
         {0x00, 0x00, 0x00, 0x06, 0x00, 0x03, 0x00, 0x00, 0x01, 'a'}, 10, COAPS_E_MALFORMED},
        {"supported_groups odd", {0x00, 0x0a, 0x00, 0x05, 0x00, 0x03, 0x00, 0x17, 0x00}, 9,
         COAPS_E_MALFORMED},
        {"supported_groups empty", {0x00, 0x0a, 0x00, 0x02, 0x00, 0x00}, 6, COAPS_E_MALFORMED},
        {"supported_groups list shorter than data",
         {0x00, 0x0a, 0x00, 0x06, 0x00, 0x02, 0x00, 0x17, 0x00, 0x1d}, 10, COAPS_E_MALFORMED},
        {"ec_point_formats empty", {0x00, 0x0b, 0x00, 0x01, 0x00}, 5, COAPS_E_MALFORMED},
        {"signature_algorithms odd", {0x00, 0x0d, 0x00, 0x03, 0x00, 0x01, 0x04}, 7,
         COAPS_E_MALFORMED},
        {"client_certificate_type empty list", {0x00, 0x13, 0x00, 0x01, 0x00}, 5,
         COAPS_E_MALFORMED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct dtls_exts e;
        coaps_status st = parse_ch(cases[i].bytes, cases[i].len, &e);
        if (st != cases[i].want)
            fail_msg("%s: got %d want %d", cases[i].what, st, cases[i].want);
    }
}

static void too_many_extensions_are_refused(void **state)
{
    (void)state;
    uint8_t b[4 * (DTLS_EXT_MAX_COUNT + 1)];
    struct wire_wr w = wire_wr_init(b, sizeof b);
    for (int i = 0; i < DTLS_EXT_MAX_COUNT + 1; i++)
        assert_int_equal(dtls_ext_write_empty(&w, (uint16_t)(0x3000 + i)), COAPS_OK);
    struct dtls_exts e;
    assert_int_equal(parse_ch(b, 4 * DTLS_EXT_MAX_COUNT, &e), COAPS_OK);
    assert_int_equal(e.count, DTLS_EXT_MAX_COUNT);
    assert_int_equal(parse_ch(b, sizeof b, &e), COAPS_E_UNSUPPORTED);
}

static void writers_check_arguments_and_space(void **state)
{
    (void)state;
    uint8_t buf[16];
    static const uint16_t g[] = {23};
    static const uint8_t t[] = {2};
    struct wire_wr w = wire_wr_init(buf, sizeof buf);
    assert_int_equal(dtls_ext_write_server_name(&w, (const uint8_t *)"x", 0), COAPS_E_INVALID);
    assert_int_equal(dtls_ext_write_supported_groups(&w, g, 0), COAPS_E_INVALID);
    assert_int_equal(dtls_ext_write_ec_point_formats(&w, t, 0), COAPS_E_INVALID);
    assert_int_equal(dtls_ext_write_ec_point_formats(&w, t, 256), COAPS_E_INVALID);
    assert_int_equal(dtls_ext_write_cert_type_list(&w, DTLS_EXT_SERVER_NAME, t, 1),
                     COAPS_E_INVALID);
    assert_int_equal(dtls_ext_write_cert_type(&w, 21, 2), COAPS_E_INVALID);
    assert_int_equal(w.off, 0);
    /* 16 bytes: host name of 12 needs 4 + 5 + 12 = 21: no space, w unchanged */
    assert_int_equal(dtls_ext_write_server_name(&w, (const uint8_t *)"abcdefghijkl", 12),
                     COAPS_E_NOSPACE);
    assert_int_equal(w.off, 0);
    w = wire_wr_init(buf, 4);
    assert_int_equal(dtls_ext_write_renegotiation_info(&w), COAPS_E_NOSPACE);
    assert_int_equal(w.off, 0);
    assert_int_equal(dtls_ext_write_empty(&w, 23), COAPS_OK);
    assert_int_equal(dtls_ext_write_empty(&w, 23), COAPS_E_NOSPACE);
}

/* RFC 5246 7.4.1.4: unsolicited ServerHello extensions are refused. */
static void server_extensions_must_have_been_offered(void **state)
{
    (void)state;
    const uint8_t sh[] = {0x00, 0x17, 0x00, 0x00, 0xff, 0x01, 0x00, 0x01, 0x00};
    const uint32_t offered = DTLS_EXTF_EXTENDED_MASTER_SECRET | DTLS_EXTF_RENEGOTIATION_INFO |
                             DTLS_EXTF_SERVER_NAME;
    struct dtls_exts e;
    assert_int_equal(parse_sh(sh, sizeof sh, &e), COAPS_OK);
    assert_true(dtls_exts_only_offered(&e, offered));
    assert_false(dtls_exts_only_offered(&e, DTLS_EXTF_EXTENDED_MASTER_SECRET));
    assert_int_equal(parse_sh(NULL, 0, &e), COAPS_OK);
    assert_true(dtls_exts_only_offered(&e, 0));
    const uint8_t unknown[] = {0x00, 0x1c, 0x00, 0x02, 0x40, 0x00};
    assert_int_equal(parse_sh(unknown, sizeof unknown, &e), COAPS_OK);
    assert_false(dtls_exts_only_offered(&e, offered));
}

static void list_helpers_ignore_odd_tail(void **state)
{
    (void)state;
    const uint8_t l[] = {0x00, 0x17, 0x00};
    struct dtls_view v = {l, sizeof l};
    assert_true(dtls_u16_list_contains(v, 0x0017));
    assert_false(dtls_u16_list_contains(v, 0x1700));
    assert_false(dtls_u16_list_contains((struct dtls_view){NULL, 0}, 0));
    assert_true(dtls_u8_list_contains(v, 0x17));
    assert_false(dtls_u8_list_contains(v, 0x18));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_block_has_nothing),
        cmocka_unit_test(writers_produce_rfc_layouts),
        cmocka_unit_test(server_hello_shapes),
        cmocka_unit_test(unknown_extensions_are_skipped),
        cmocka_unit_test(session_ticket_extension),
        cmocka_unit_test(malformed_blocks_are_refused),
        cmocka_unit_test(too_many_extensions_are_refused),
        cmocka_unit_test(writers_check_arguments_and_space),
        cmocka_unit_test(server_extensions_must_have_been_offered),
        cmocka_unit_test(list_helpers_ignore_odd_tail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
