/* test_uri.c - coap:// URI decomposition (src/net/uri.c, RFC 7252 6.4). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "coaps/uri.h"

static void assert_seg(const coaps_uri *u, coaps_uri_seg seg, const char *want,
                       size_t want_len)
{
    assert_int_equal(seg.len, want_len);
    assert_memory_equal(coaps_uri_seg_ptr(u, seg), want, want_len);
}

static void parses_host_port_path_query(void **state)
{
    (void)state;
    coaps_uri u;
    assert_int_equal(coaps_uri_parse("coap://example.net:61616/sensors/temp?unit=c&fmt", &u, NULL),
                     COAPS_OK);
    assert_int_equal(u.scheme, COAPS_URI_COAP);
    assert_string_equal(u.host, "example.net");
    assert_false(u.host_is_literal);
    assert_int_equal(u.port, 61616);
    assert_int_equal(u.n_path, 2);
    assert_seg(&u, u.path[0], "sensors", 7);
    assert_seg(&u, u.path[1], "temp", 4);
    assert_int_equal(u.n_query, 2);
    assert_seg(&u, u.query[0], "unit=c", 6);
    assert_seg(&u, u.query[1], "fmt", 3);
}

/* RFC 7252 6.1/6.2 default ports; 6.4 step 8: "/" and "" give no Uri-Path. */
static void applies_defaults(void **state)
{
    (void)state;
    coaps_uri u;
    assert_int_equal(coaps_uri_parse("coap://[::1]/light", &u, NULL), COAPS_OK);
    assert_string_equal(u.host, "::1");
    assert_true(u.host_is_literal);
    assert_int_equal(u.port, 5683);
    assert_int_equal(u.n_path, 1);
    assert_seg(&u, u.path[0], "light", 5);
    assert_int_equal(coaps_uri_parse("coaps://10.0.0.1", &u, NULL), COAPS_OK);
    assert_int_equal(u.scheme, COAPS_URI_COAPS);
    assert_int_equal(u.port, 5684);
    assert_true(u.host_is_literal);
    assert_int_equal(u.n_path, 0);
    assert_int_equal(coaps_uri_parse("coap://127.0.0.1:/", &u, NULL), COAPS_OK);
    assert_int_equal(u.port, 5683);
    assert_int_equal(u.n_path, 0);
    assert_int_equal(u.n_query, 0);
    assert_int_equal(coaps_uri_parse("COAP://Example.NET/", &u, NULL), COAPS_OK);
    assert_string_equal(u.host, "example.net"); /* 6.4 step 5: lowercase */
}

/* RFC 7252 6.5 example: coap://example.com:5683/~sensors/temp.xml and
 * percent-decoding of segments into option values (RFC 3986 2.1). */
static void percent_decodes_segments(void **state)
{
    (void)state;
    coaps_uri u;
    assert_int_equal(coaps_uri_parse("coap://h/%7Esensors/a%2Fb/%00?x%26y=1%3D2", &u, NULL),
                     COAPS_OK);
    assert_int_equal(u.n_path, 3);
    assert_seg(&u, u.path[0], "~sensors", 8);
    assert_seg(&u, u.path[1], "a/b", 3);
    assert_seg(&u, u.path[2], "\0", 1);
    assert_int_equal(u.n_query, 1);
    assert_seg(&u, u.query[0], "x&y=1=2", 7);
}

/* 6.4 step 8: every segment counts, empty ones included. */
static void keeps_empty_segments(void **state)
{
    (void)state;
    coaps_uri u;
    assert_int_equal(coaps_uri_parse("coap://h/a//b/", &u, NULL), COAPS_OK);
    assert_int_equal(u.n_path, 4);
    assert_seg(&u, u.path[0], "a", 1);
    assert_seg(&u, u.path[1], "", 0);
    assert_seg(&u, u.path[2], "b", 1);
    assert_seg(&u, u.path[3], "", 0);
}

static void rejects_bad_uris(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "light", "/light", "coap:/h/x", "coap://", "coap://:5683/x", "coap://h/x#frag",
        "coap://h:0/", "coap://h:65536/", "coap://h:12a/", "coap://[::1/x", "coap://[zz::1]/",
        "coap://[::1]x/", "coap://h/%4", "coap://h/%zz", "coap://h/a b", "coap://u@h/",
        "coap://h%41/",
    };
    coaps_uri u;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *why = NULL;
        coaps_status st = coaps_uri_parse(bad[i], &u, &why);
        if (st == COAPS_OK)
            fail_msg("accepted bad URI %s", bad[i]);
        assert_non_null(why);
    }
    const char *why = NULL;
    assert_int_equal(coaps_uri_parse("coap+tcp://h/x", &u, &why), COAPS_E_UNSUPPORTED);
    assert_int_equal(coaps_uri_parse("http://h/x", &u, &why), COAPS_E_UNSUPPORTED);
}

static void enforces_bounds(void **state)
{
    (void)state;
    static char uri[COAPS_URI_MAX + 16];
    coaps_uri u;
    /* 33 path segments > COAPS_URI_SEGMENTS_MAX */
    strcpy(uri, "coap://h");
    for (int i = 0; i <= COAPS_URI_SEGMENTS_MAX; i++)
        strcat(uri, "/s");
    assert_int_equal(coaps_uri_parse(uri, &u, NULL), COAPS_E_FULL);
    /* a 256-byte segment > COAPS_URI_SEGMENT_MAX (RFC 7252 5.10) */
    strcpy(uri, "coap://h/");
    memset(uri + 9, 'a', 256);
    uri[9 + 256] = '\0';
    assert_int_equal(coaps_uri_parse(uri, &u, NULL), COAPS_E_FULL);
    uri[9 + 255] = '\0';
    assert_int_equal(coaps_uri_parse(uri, &u, NULL), COAPS_OK);
    /* the whole URI */
    memset(uri, 'a', sizeof uri - 1);
    uri[sizeof uri - 1] = '\0';
    memcpy(uri, "coap://h/", 9);
    assert_int_equal(coaps_uri_parse(uri, &u, NULL), COAPS_E_FULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_host_port_path_query),
        cmocka_unit_test(applies_defaults),
        cmocka_unit_test(percent_decodes_segments),
        cmocka_unit_test(keeps_empty_segments),
        cmocka_unit_test(rejects_bad_uris),
        cmocka_unit_test(enforces_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
