/* test_cli.c - command-line value parsing (src/net/cli.c, src/net/log.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli/cli.h"
#include "net/log.h"

static void parses_bounded_unsigned_integers(void **state)
{
    (void)state;
    uint64_t v;
    assert_true(cli_parse_uint("0", 0, 10, &v));
    assert_int_equal(v, 0);
    assert_true(cli_parse_uint("10", 0, 10, &v));
    assert_int_equal(v, 10);
    assert_false(cli_parse_uint("11", 0, 10, &v));
    assert_false(cli_parse_uint("", 0, 10, &v));
    assert_false(cli_parse_uint("-1", 0, 10, &v));
    assert_false(cli_parse_uint("+1", 0, 10, &v));
    assert_false(cli_parse_uint(" 1", 0, 10, &v));
    assert_false(cli_parse_uint("1x", 0, 10, &v));
    assert_false(cli_parse_uint("99999999999999999999999", 0, UINT64_MAX, &v));
    assert_true(cli_parse_size("4194304", 1, UINT64_MAX, &v));
    assert_int_equal(v, 4194304);
    assert_true(cli_parse_size("4096K", 1, UINT64_MAX, &v));
    assert_int_equal(v, 4194304);
    assert_true(cli_parse_size("4m", 1, UINT64_MAX, &v));
    assert_int_equal(v, 4194304);
    assert_false(cli_parse_size("4M", 1, 4194303, &v));
    assert_false(cli_parse_size("1K", 1025, UINT64_MAX, &v));
    assert_false(cli_parse_size("M", 0, UINT64_MAX, &v));
    assert_false(cli_parse_size("", 0, UINT64_MAX, &v));
    assert_false(cli_parse_size("4G", 0, UINT64_MAX, &v));
    assert_false(cli_parse_size("4 M", 0, UINT64_MAX, &v));
    assert_false(cli_parse_size("-4M", 0, UINT64_MAX, &v));
    assert_false(cli_parse_size("17592186044416M", 0, UINT64_MAX, &v)); /* 2^64 */
    uint16_t port;
    assert_true(cli_parse_port("5683", &port));
    assert_int_equal(port, 5683);
    assert_false(cli_parse_port("65536", &port));
    assert_false(cli_parse_port("http", &port));
}

/* RFC 7252 12.1.1 and RFC 8132 method codes. */
static void parses_methods(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint8_t code;
    } ok[] = {{"get", 1}, {"POST", 2}, {"put", 3}, {"delete", 4},
              {"fetch", 5}, {"patch", 6}, {"iPatch", 7}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint8_t code = 0;
        assert_true(cli_parse_method(ok[i].name, &code));
        assert_int_equal(code, ok[i].code);
    }
    uint8_t code;
    assert_false(cli_parse_method("head", &code));
    assert_false(cli_parse_method("", &code));
}

/* RFC 7252 12.3 Content-Format numbers. */
static void parses_content_formats(void **state)
{
    (void)state;
    uint16_t cf;
    assert_true(cli_parse_content_format("json", &cf));
    assert_int_equal(cf, 50);
    assert_true(cli_parse_content_format("application/json", &cf));
    assert_int_equal(cf, 50);
    assert_true(cli_parse_content_format("text/plain", &cf));
    assert_int_equal(cf, 0);
    assert_true(cli_parse_content_format("link-format", &cf));
    assert_int_equal(cf, 40);
    assert_true(cli_parse_content_format("cbor", &cf));
    assert_int_equal(cf, 60);
    assert_true(cli_parse_content_format("11542", &cf));
    assert_int_equal(cf, 11542);
    assert_false(cli_parse_content_format("application/yaml", &cf));
    assert_false(cli_parse_content_format("65536", &cf));
}

/* RFC 7959 2.2: sizes 16..1024 in powers of two, NUM has 20 bits. */
static void parses_block_sizes(void **state)
{
    (void)state;
    uint32_t num;
    uint16_t size;
    assert_true(cli_parse_block("16", &num, &size));
    assert_int_equal(num, 0);
    assert_int_equal(size, 16);
    assert_true(cli_parse_block("3,1024", &num, &size));
    assert_int_equal(num, 3);
    assert_int_equal(size, 1024);
    assert_true(cli_parse_block("1048575,64", &num, &size));
    assert_int_equal(num, 1048575);
    assert_false(cli_parse_block("1048576,64", &num, &size));
    assert_false(cli_parse_block("8", &num, &size));
    assert_false(cli_parse_block("2048", &num, &size));
    assert_false(cli_parse_block("48", &num, &size)); /* multiple of 16, no SZX */
    assert_false(cli_parse_block(",16", &num, &size));
    assert_false(cli_parse_block("1,", &num, &size));
    assert_false(cli_parse_block("x", &num, &size));
}

/* RFC 7252 3: tokens are 0-8 bytes. */
static void parses_tokens(void **state)
{
    (void)state;
    uint8_t tok[CLI_TOKEN_MAX];
    size_t len;
    assert_true(cli_parse_token("0xcafe", tok, &len));
    assert_int_equal(len, 2);
    assert_int_equal(tok[0], 0xca);
    assert_int_equal(tok[1], 0xfe);
    assert_true(cli_parse_token("0x0102030405060708", tok, &len));
    assert_int_equal(len, 8);
    assert_false(cli_parse_token("0x010203040506070809", tok, &len));
    assert_false(cli_parse_token("0xabc", tok, &len));
    assert_false(cli_parse_token("0xzz", tok, &len));
    assert_true(cli_parse_token("abc", tok, &len));
    assert_int_equal(len, 3);
    assert_memory_equal(tok, "abc", 3);
    assert_true(cli_parse_token("12345678", tok, &len));
    assert_false(cli_parse_token("123456789", tok, &len));
    assert_false(cli_parse_token("", tok, &len));
}

static void parses_log_levels(void **state)
{
    (void)state;
    int lvl;
    assert_true(cli_parse_log_level("0", &lvl));
    assert_int_equal(lvl, NET_LOG_EMERG);
    assert_true(cli_parse_log_level("7", &lvl));
    assert_int_equal(lvl, NET_LOG_DEBUG);
    assert_true(cli_parse_log_level("9", &lvl)); /* libcoap's TLS levels */
    assert_int_equal(lvl, NET_LOG_DEBUG);
    assert_false(cli_parse_log_level("10", &lvl));
    assert_true(cli_parse_log_level("debug", &lvl));
    assert_int_equal(lvl, NET_LOG_DEBUG);
    assert_true(cli_parse_log_level("WARN", &lvl));
    assert_int_equal(lvl, NET_LOG_WARN);
    assert_true(cli_parse_log_level("err", &lvl));
    assert_int_equal(lvl, NET_LOG_ERR);
    assert_false(cli_parse_log_level("loud", &lvl));
    assert_false(cli_parse_log_level("", &lvl));
    assert_false(cli_parse_log_level("-1", &lvl));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_bounded_unsigned_integers),
        cmocka_unit_test(parses_methods),
        cmocka_unit_test(parses_content_formats),
        cmocka_unit_test(parses_block_sizes),
        cmocka_unit_test(parses_tokens),
        cmocka_unit_test(parses_log_levels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
