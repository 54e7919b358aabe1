/* test_json.c - the bounded JSON validator (src/light/json.c, RFC 8259). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "light/json.h"

static coaps_status check(const char *s, enum json_kind *kind)
{
    return json_validate((const uint8_t *)s, strlen(s), kind);
}

static void accepts_the_light_state(void **state)
{
    (void)state;
    enum json_kind k = JSON_NULL;
    assert_int_equal(check("{\"status\": true}", &k), COAPS_OK);
    assert_int_equal(k, JSON_OBJECT);
    assert_int_equal(check(" \t\r\n{\"status\":false,\"brightness\":42}\n", &k), COAPS_OK);
    assert_int_equal(k, JSON_OBJECT);
}

/* RFC 8259 section 2: any value may be a JSON text. */
static void reports_the_top_level_kind(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        enum json_kind kind;
    } cases[] = {
        {"{}", JSON_OBJECT},      {"[]", JSON_ARRAY},      {"\"x\"", JSON_STRING},
        {"0", JSON_NUMBER},       {"-12.5e+3", JSON_NUMBER}, {"true", JSON_TRUE},
        {"false", JSON_FALSE},    {"null", JSON_NULL},     {"[1,[2,{\"a\":[]}]]", JSON_ARRAY},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum json_kind k = JSON_NULL;
        assert_int_equal(check(cases[i].text, &k), COAPS_OK);
        assert_int_equal(k, cases[i].kind);
    }
}

static void accepts_valid_texts(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}",
        "[0, -0, 1.5, 1e10, 1E-2, -3.25e+7, 123456789012345678901234567890]",
        "\"escapes: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\uD834\\uDD1E\"",
        "\"utf-8: \xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e\"",
        "{ \"k\" : [ ] , \"l\" : { } }",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        if (check(ok[i], NULL) != COAPS_OK)
            fail_msg("rejected valid JSON: %s", ok[i]);
    }
}

static void rejects_malformed_texts(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",  "   ",  "{", "}", "[1,]", "[,1]", "{\"a\"}", "{\"a\":}", "{a:1}", "{\"a\":1,}",
        "{\"a\":1}}", "{} {}", "01", "1.", ".5", "-", "1e", "1e+", "+1", "0x10",
        "tru", "truex", "nul", "NaN", "'x'", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"",
        "\"\\uDD1E\"", "\"\\uD834\"", "\"\\uD834\\u0041\"", "\"tab\there\"",
        "\"bad utf8 \xc3\"", "\"overlong \xc0\xaf\"", "\"surrogate \xed\xa0\x80\"",
        "\"too big \xf4\x90\x80\x80\"", "\"stray \x80\"", "[1 2]", "{\"a\" 1}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        coaps_status st = check(bad[i], NULL);
        if (st != COAPS_E_MALFORMED && st != COAPS_E_TRUNCATED)
            fail_msg("accepted malformed JSON #%zu: '%s' (status %d)", i, bad[i], st);
    }
}

static void rejects_embedded_nul(void **state)
{
    (void)state;
    static const uint8_t text[] = {'{', '}', 0};
    assert_int_equal(json_validate(text, sizeof text, NULL), COAPS_E_MALFORMED);
    static const uint8_t in_string[] = {'"', 'a', 0, '"'};
    assert_int_equal(json_validate(in_string, sizeof in_string, NULL), COAPS_E_MALFORMED);
}

/* The input is not NUL-terminated: the validator must stop at len. */
static void respects_the_length(void **state)
{
    (void)state;
    const char *s = "{\"status\": true}garbage";
    assert_int_equal(json_validate((const uint8_t *)s, 16, NULL), COAPS_OK);
    assert_int_equal(json_validate((const uint8_t *)s, 15, NULL), COAPS_E_TRUNCATED);
    assert_int_equal(json_validate(NULL, 0, NULL), COAPS_E_MALFORMED);
}

/* RFC 8259 section 9: nesting is bounded by JSON_MAX_DEPTH. */
static void bounds_the_nesting_depth(void **state)
{
    (void)state;
    uint8_t buf[2 * (JSON_MAX_DEPTH + 1)];
    for (size_t n = JSON_MAX_DEPTH; n <= JSON_MAX_DEPTH + 1; n++) {
        for (size_t i = 0; i < n; i++) {
            buf[i] = '[';
            buf[n + i] = ']';
        }
        coaps_status want = n <= JSON_MAX_DEPTH ? COAPS_OK : COAPS_E_FULL;
        assert_int_equal(json_validate(buf, 2 * n, NULL), want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accepts_the_light_state),
        cmocka_unit_test(reports_the_top_level_kind),
        cmocka_unit_test(accepts_valid_texts),
        cmocka_unit_test(rejects_malformed_texts),
        cmocka_unit_test(rejects_embedded_nul),
        cmocka_unit_test(respects_the_length),
        cmocka_unit_test(bounds_the_nesting_depth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
