/* test_message.c - CoAP message codec (src/coap/message.c, RFC 7252 3). */
#include "coap/coap_test_util.h"

/* RFC 7252 Appendix A, figure 16: "CON [0x7d34] GET /temperature" and its
 * piggybacked "ACK [0x7d34] 2.05 Content "22.3 C"" (no token). */
static void appendix_a_get_temperature_round_trips(void **state)
{
    (void)state;
    static const uint8_t req[] = {0x40, 0x01, 0x7d, 0x34, 0xbb, 't', 'e', 'm', 'p',
                                  'e',  'r',  'a',  't',  'u',  'r', 'e'};
    static const uint8_t resp[] = {0x60, 0x45, 0x7d, 0x34, 0xff, '2', '2', '.', '3', ' ', 'C'};
    coaps_coap_msg m;
    assert_int_equal(coaps_coap_msg_parse(&m, req, sizeof req), COAPS_OK);
    assert_int_equal(m.type, COAPS_COAP_CON);
    assert_int_equal(m.code, COAPS_COAP_GET);
    assert_int_equal(m.mid, 0x7d34);
    assert_int_equal(m.token_len, 0);
    assert_int_equal(m.opt_count, 1);
    assert_int_equal(m.opts[0].number, COAPS_COAP_OPT_URI_PATH);
    char path[32];
    assert_int_equal(coaps_coap_msg_uri_path(&m, path, sizeof path), COAPS_OK);
    assert_string_equal(path, "temperature");

    coaps_coap_msg out;
    coaps_coap_msg_init(&out, COAPS_COAP_CON, COAPS_COAP_GET, 0x7d34);
    coaps_coap_msg_add_option(&out, COAPS_COAP_OPT_URI_PATH, "temperature", 11);
    uint8_t buf[64];
    size_t len;
    assert_int_equal(coaps_coap_msg_encode(&out, buf, sizeof buf, &len), COAPS_OK);
    assert_int_equal(len, sizeof req);
    assert_memory_equal(buf, req, len);

    coaps_coap_msg_init(&out, COAPS_COAP_ACK, COAPS_COAP_CONTENT, 0x7d34);
    out.payload = (const uint8_t *)"22.3 C";
    out.payload_len = 6;
    assert_int_equal(coaps_coap_msg_encode(&out, buf, sizeof buf, &len), COAPS_OK);
    assert_int_equal(len, sizeof resp);
    assert_memory_equal(buf, resp, len);
    assert_int_equal(coaps_coap_msg_parse(&m, resp, sizeof resp), COAPS_OK);
    t_payload_is(&m, "22.3 C");
}

/* Appendix A figure 17-ish: token 0x20 in request and separate response. */
static void token_is_carried(void **state)
{
    (void)state;
    static const uint8_t req[] = {0x41, 0x01, 0x7d, 0x35, 0x20, 0xbb, 't', 'e', 'm', 'p',
                                  'e',  'r',  'a',  't',  'u',  'r',  'e'};
    coaps_coap_msg m;
    assert_int_equal(coaps_coap_msg_parse(&m, req, sizeof req), COAPS_OK);
    assert_int_equal(m.token_len, 1);
    assert_int_equal(m.token[0], 0x20);
}

/* Encode one option with number `num` and a value of `len` bytes, check the
 * header bytes, and parse it back. */
static void check_option_form(uint16_t num, size_t len, const uint8_t *hdr, size_t hdr_len)
{
    static uint8_t val[70000];
    static uint8_t buf[70100];
    memset(val, 'x', len);
    coaps_coap_msg m, p;
    coaps_coap_msg_init(&m, COAPS_COAP_CON, COAPS_COAP_GET, 1);
    assert_int_equal(coaps_coap_msg_add_option(&m, num, val, len), COAPS_OK);
    size_t out;
    assert_int_equal(coaps_coap_msg_encode(&m, buf, sizeof buf, &out), COAPS_OK);
    assert_int_equal(out, 4 + hdr_len + len);
    assert_memory_equal(buf + 4, hdr, hdr_len);
    assert_int_equal(coaps_coap_msg_parse(&p, buf, out), COAPS_OK);
    assert_int_equal(p.opt_count, 1);
    assert_int_equal(p.opts[0].number, num);
    assert_int_equal(p.opts[0].len, len);
}

/* RFC 7252 3.1: nibbles 0-12 inline, 13 -> +1 byte (-13), 14 -> +2 bytes
 * (-269). Boundaries 12/13/268/269 and the 65804 maximum. */
static void option_delta_and_length_extensions(void **state)
{
    (void)state;
    check_option_form(12, 0, (const uint8_t[]){0xC0}, 1);
    check_option_form(13, 0, (const uint8_t[]){0xD0, 0x00}, 2);
    check_option_form(268, 0, (const uint8_t[]){0xD0, 0xFF}, 2);
    check_option_form(269, 0, (const uint8_t[]){0xE0, 0x00, 0x00}, 3);
    check_option_form(65535, 0, (const uint8_t[]){0xE0, 0xFE, 0xF2}, 3);
    check_option_form(1, 12, (const uint8_t[]){0x1C}, 1);
    check_option_form(1, 13, (const uint8_t[]){0x1D, 0x00}, 2);
    check_option_form(1, 268, (const uint8_t[]){0x1D, 0xFF}, 2);
    check_option_form(1, 269, (const uint8_t[]){0x1E, 0x00, 0x00}, 3);
    check_option_form(1, 65804, (const uint8_t[]){0x1E, 0xFF, 0xFF}, 3);
}

static void option_too_long_is_refused(void **state)
{
    (void)state;
    coaps_coap_msg m;
    static uint8_t v[65805];
    coaps_coap_msg_init(&m, COAPS_COAP_CON, COAPS_COAP_GET, 1);
    assert_int_equal(coaps_coap_msg_add_option(&m, 1, v, sizeof v), COAPS_E_INVALID);
}

static void expect_parse(const uint8_t *b, size_t n, coaps_status want)
{
    coaps_coap_msg m;
    assert_int_equal(coaps_coap_msg_parse(&m, b, n), want);
}

/* RFC 7252 3: every malformed form is refused. */
static void malformed_forms_are_refused(void **state)
{
    (void)state;
    /* fewer than 4 bytes */
    expect_parse((const uint8_t[]){0x40, 0x01, 0x00}, 3, COAPS_E_TRUNCATED);
    /* version 2 */
    expect_parse((const uint8_t[]){0x80, 0x01, 0x00, 0x01}, 4, COAPS_E_MALFORMED);
    /* token length 9..15 */
    for (uint8_t tkl = 9; tkl <= 15; tkl++) {
        uint8_t b[24] = {(uint8_t)(0x40 | tkl), 0x01, 0x00, 0x01};
        expect_parse(b, sizeof b, COAPS_E_MALFORMED);
    }
    /* token longer than the datagram */
    expect_parse((const uint8_t[]){0x44, 0x01, 0x00, 0x01, 0xAA}, 5, COAPS_E_TRUNCATED);
    /* delta nibble 15 that is not the marker (0xF0), length nibble 15 */
    expect_parse((const uint8_t[]){0x40, 0x01, 0x00, 0x01, 0xF0}, 5, COAPS_E_MALFORMED);
    expect_parse((const uint8_t[]){0x40, 0x01, 0x00, 0x01, 0x1F}, 5, COAPS_E_MALFORMED);
    /* option value past the end; extended length byte missing */
    expect_parse((const uint8_t[]){0x40, 0x01, 0x00, 0x01, 0xB5, 'a'}, 6, COAPS_E_TRUNCATED);
    expect_parse((const uint8_t[]){0x40, 0x01, 0x00, 0x01, 0x1D}, 5, COAPS_E_TRUNCATED);
    expect_parse((const uint8_t[]){0x40, 0x01, 0x00, 0x01, 0xE1, 0x00}, 6, COAPS_E_TRUNCATED);
    /* payload marker with no payload */
    expect_parse((const uint8_t[]){0x40, 0x01, 0x00, 0x01, 0xFF}, 5, COAPS_E_MALFORMED);
    /* reserved code classes 1, 3, 6, 7 */
    const uint8_t classes[] = {1, 3, 6, 7};
    for (size_t i = 0; i < sizeof classes; i++) {
        uint8_t b[] = {0x40, (uint8_t)(classes[i] << 5 | 1), 0x00, 0x01};
        expect_parse(b, sizeof b, COAPS_E_MALFORMED);
    }
    /* Empty message with a token, an option or a payload (RFC 7252 4.1) */
    expect_parse((const uint8_t[]){0x41, 0x00, 0x00, 0x01, 0x01}, 5, COAPS_E_MALFORMED);
    expect_parse((const uint8_t[]){0x40, 0x00, 0x00, 0x01, 0xB0}, 5, COAPS_E_MALFORMED);
    expect_parse((const uint8_t[]){0x40, 0x00, 0x00, 0x01, 0xFF, 'x'}, 6, COAPS_E_MALFORMED);
    /* option number past 65535 */
    expect_parse((const uint8_t[]){0x40, 0x01, 0x00, 0x01, 0xE0, 0xFE, 0xF2, 0x10}, 8,
                 COAPS_E_MALFORMED);
    /* well-formed edge: Empty ACK, and a payload after the marker */
    expect_parse((const uint8_t[]){0x60, 0x00, 0x00, 0x01}, 4, COAPS_OK);
    expect_parse((const uint8_t[]){0x40, 0x01, 0x00, 0x01, 0xFF, 'x'}, 6, COAPS_OK);
}

static void header_survives_a_parse_error(void **state)
{
    (void)state;
    coaps_coap_msg m;
    const uint8_t b[] = {0x42, 0x01, 0x12, 0x34, 0x01, 0x02, 0xF0};
    assert_int_equal(coaps_coap_msg_parse(&m, b, sizeof b), COAPS_E_MALFORMED);
    assert_int_equal(m.type, COAPS_COAP_CON);
    assert_int_equal(m.mid, 0x1234);
    assert_int_equal(m.token_len, 2);
}

static void too_many_options_is_full(void **state)
{
    (void)state;
    uint8_t b[4 + COAPS_COAP_MAX_OPTIONS + 1] = {0x40, 0x01, 0x00, 0x01};
    for (size_t i = 4; i < sizeof b; i++)
        b[i] = 0x00; /* option 0+0 delta, empty: repeated option number 0 */
    b[4] = 0xB0;     /* first: Uri-Path "" */
    coaps_coap_msg m;
    assert_int_equal(coaps_coap_msg_parse(&m, b, sizeof b), COAPS_E_FULL);
    assert_int_equal(m.opt_count, COAPS_COAP_MAX_OPTIONS);
}

/* RFC 7252 3.2: uint values use the fewest bytes; 0 is empty. */
static void uint_options_are_minimal(void **state)
{
    (void)state;
    const struct {
        uint32_t v;
        uint32_t len;
    } cases[] = {{0, 0}, {1, 1}, {255, 1}, {256, 2}, {65535, 2}, {65536, 3}, {0xFFFFFFFFu, 4}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        coaps_coap_msg m;
        coaps_coap_msg_init(&m, COAPS_COAP_CON, COAPS_COAP_GET, 1);
        assert_int_equal(coaps_coap_msg_add_uint(&m, COAPS_COAP_OPT_MAX_AGE, cases[i].v),
                         COAPS_OK);
        assert_int_equal(m.opts[0].len, cases[i].len);
        uint8_t buf[32];
        size_t len;
        coaps_coap_msg p;
        assert_int_equal(coaps_coap_msg_encode(&m, buf, sizeof buf, &len), COAPS_OK);
        assert_int_equal(coaps_coap_msg_parse(&p, buf, len), COAPS_OK);
        assert_int_equal(t_uint(&p, COAPS_COAP_OPT_MAX_AGE), cases[i].v);
    }
}

static void options_are_sorted_on_insert(void **state)
{
    (void)state;
    coaps_coap_msg m;
    coaps_coap_msg_init(&m, COAPS_COAP_CON, COAPS_COAP_GET, 7);
    coaps_coap_msg_add_uint(&m, COAPS_COAP_OPT_ACCEPT, 50);
    coaps_coap_msg_add_option(&m, COAPS_COAP_OPT_URI_PATH, "a", 1);
    coaps_coap_msg_add_option(&m, COAPS_COAP_OPT_URI_HOST, "h", 1);
    coaps_coap_msg_add_option(&m, COAPS_COAP_OPT_URI_PATH, "b", 1);
    coaps_coap_msg_add_option(&m, COAPS_COAP_OPT_URI_QUERY, "x=1", 3);
    assert_int_equal(m.opts[0].number, COAPS_COAP_OPT_URI_HOST);
    assert_int_equal(m.opts[1].number, COAPS_COAP_OPT_URI_PATH);
    assert_int_equal(m.opts[2].number, COAPS_COAP_OPT_URI_PATH);
    char path[16];
    assert_int_equal(coaps_coap_msg_uri_path(&m, path, sizeof path), COAPS_OK);
    assert_string_equal(path, "a/b");
    assert_int_equal(coaps_coap_msg_uri_path(&m, path, 3), COAPS_E_NOSPACE);
    const uint8_t *v;
    size_t vl;
    assert_int_equal(coaps_coap_msg_query(&m, "x", &v, &vl), COAPS_OK);
    assert_int_equal(vl, 1);
    assert_int_equal(v[0], '1');
    assert_int_equal(coaps_coap_msg_query(&m, "y", &v, &vl), COAPS_E_NOT_FOUND);
    coaps_coap_msg_remove_option(&m, COAPS_COAP_OPT_URI_PATH);
    assert_int_equal(m.opt_count, 3);
    /* unsorted options are refused by the encoder */
    coaps_coap_option t = m.opts[0];
    m.opts[0] = m.opts[2];
    m.opts[2] = t;
    uint8_t buf[64];
    size_t len;
    assert_int_equal(coaps_coap_msg_encode(&m, buf, sizeof buf, &len), COAPS_E_INVALID);
}

static void encode_reports_nospace(void **state)
{
    (void)state;
    coaps_coap_msg m;
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_GET, 1, "abcdef");
    uint8_t buf[8];
    size_t len;
    assert_int_equal(coaps_coap_msg_encode(&m, buf, sizeof buf, &len), COAPS_E_NOSPACE);
    assert_int_equal(coaps_coap_msg_set_token(&m, buf, 9), COAPS_E_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(appendix_a_get_temperature_round_trips),
        cmocka_unit_test(token_is_carried),
        cmocka_unit_test(option_delta_and_length_extensions),
        cmocka_unit_test(option_too_long_is_refused),
        cmocka_unit_test(malformed_forms_are_refused),
        cmocka_unit_test(header_survives_a_parse_error),
        cmocka_unit_test(too_many_options_is_full),
        cmocka_unit_test(uint_options_are_minimal),
        cmocka_unit_test(options_are_sorted_on_insert),
        cmocka_unit_test(encode_reports_nospace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
