/* test_option.c - option table and recognition rules (src/coap/option.c,
 * RFC 7252 5.4.1, 5.4.3, 5.4.5, 5.10). */
#include "coap/coap_test_util.h"
#include "coap/option.h"

static void table_matches_rfc_7252_5_10(void **state)
{
    (void)state;
    const struct coap_optdef *d = coap_optdef_find(COAPS_COAP_OPT_ETAG);
    assert_non_null(d);
    assert_int_equal(d->min_len, 1);
    assert_int_equal(d->max_len, 8);
    assert_true(d->repeatable);
    d = coap_optdef_find(COAPS_COAP_OPT_URI_PATH);
    assert_int_equal(d->min_len, 0);
    assert_int_equal(d->max_len, 255);
    d = coap_optdef_find(COAPS_COAP_OPT_PROXY_URI);
    assert_int_equal(d->max_len, 1034);
    d = coap_optdef_find(COAPS_COAP_OPT_MAX_AGE);
    assert_int_equal(d->max_len, 4);
    assert_false(d->repeatable);
    assert_null(coap_optdef_find(2));
    assert_true(coap_opt_is_critical(COAPS_COAP_OPT_URI_PATH));
    assert_false(coap_opt_is_critical(COAPS_COAP_OPT_ETAG));
}

static enum coap_optcheck check_one(uint16_t num, size_t len, size_t *left)
{
    coaps_coap_msg m;
    static const uint8_t v[300];
    coaps_coap_msg_init(&m, COAPS_COAP_CON, COAPS_COAP_GET, 1);
    coaps_coap_msg_add_option(&m, num, v, len);
    uint16_t bad = 0;
    enum coap_optcheck r = coap_options_check(&m, &bad);
    *left = m.opt_count;
    if (r != COAP_OPTCHECK_OK)
        assert_int_equal(bad, num);
    return r;
}

static void unknown_critical_fails_unknown_elective_is_dropped(void **state)
{
    (void)state;
    size_t left;
    assert_int_equal(check_one(9, 1, &left), COAP_OPTCHECK_BAD_CRITICAL); /* unassigned, odd */
    assert_int_equal(check_one(2048 + 1, 0, &left), COAP_OPTCHECK_BAD_CRITICAL);
    assert_int_equal(check_one(2048, 0, &left), COAP_OPTCHECK_OK);
    assert_int_equal(left, 0);
    assert_int_equal(check_one(COAPS_COAP_OPT_URI_PATH, 3, &left), COAP_OPTCHECK_OK);
    assert_int_equal(left, 1);
}

/* RFC 7252 5.4.3: a length outside the table's range = unrecognised. */
static void length_bounds_make_options_unrecognised(void **state)
{
    (void)state;
    size_t left;
    /* ETag (elective) 0 and 9 bytes: ignored */
    assert_int_equal(check_one(COAPS_COAP_OPT_ETAG, 0, &left), COAP_OPTCHECK_OK);
    assert_int_equal(left, 0);
    assert_int_equal(check_one(COAPS_COAP_OPT_ETAG, 9, &left), COAP_OPTCHECK_OK);
    assert_int_equal(left, 0);
    assert_int_equal(check_one(COAPS_COAP_OPT_ETAG, 8, &left), COAP_OPTCHECK_OK);
    assert_int_equal(left, 1);
    /* Uri-Host (critical) 0 bytes, Uri-Path 256 bytes: 4.02 */
    assert_int_equal(check_one(COAPS_COAP_OPT_URI_HOST, 0, &left), COAP_OPTCHECK_BAD_CRITICAL);
    assert_int_equal(check_one(COAPS_COAP_OPT_URI_PATH, 256, &left),
                     COAP_OPTCHECK_BAD_CRITICAL);
    /* Content-Format 3 bytes (max 2), elective: dropped */
    assert_int_equal(check_one(COAPS_COAP_OPT_CONTENT_FORMAT, 3, &left), COAP_OPTCHECK_OK);
    assert_int_equal(left, 0);
    /* Block2 4 bytes (max 3), critical */
    assert_int_equal(check_one(COAPS_COAP_OPT_BLOCK2, 4, &left), COAP_OPTCHECK_BAD_CRITICAL);
}

/* RFC 7252 5.4.5: a repeated non-repeatable option is unrecognised. */
static void repeated_single_options(void **state)
{
    (void)state;
    coaps_coap_msg m;
    uint16_t bad = 0;
    coaps_coap_msg_init(&m, COAPS_COAP_CON, COAPS_COAP_GET, 1);
    coaps_coap_msg_add_uint(&m, COAPS_COAP_OPT_CONTENT_FORMAT, 50);
    coaps_coap_msg_add_uint(&m, COAPS_COAP_OPT_CONTENT_FORMAT, 0);
    coaps_coap_msg_add_uint(&m, COAPS_COAP_OPT_CONTENT_FORMAT, 42);
    assert_int_equal(coap_options_check(&m, &bad), COAP_OPTCHECK_OK);
    assert_int_equal(m.opt_count, 1);
    assert_int_equal(t_uint(&m, COAPS_COAP_OPT_CONTENT_FORMAT), 50);

    coaps_coap_msg_init(&m, COAPS_COAP_CON, COAPS_COAP_GET, 1);
    coaps_coap_msg_add_option(&m, COAPS_COAP_OPT_URI_HOST, "a", 1);
    coaps_coap_msg_add_option(&m, COAPS_COAP_OPT_URI_HOST, "b", 1);
    assert_int_equal(coap_options_check(&m, &bad), COAP_OPTCHECK_BAD_CRITICAL);
    assert_int_equal(bad, COAPS_COAP_OPT_URI_HOST);

    /* repeatable ones stay */
    coaps_coap_msg_init(&m, COAPS_COAP_CON, COAPS_COAP_GET, 1);
    coaps_coap_msg_add_option(&m, COAPS_COAP_OPT_URI_PATH, "a", 1);
    coaps_coap_msg_add_option(&m, COAPS_COAP_OPT_URI_PATH, "b", 1);
    assert_int_equal(coap_options_check(&m, &bad), COAP_OPTCHECK_OK);
    assert_int_equal(m.opt_count, 2);
}

/* RFC 7252 5.7.2: Proxy-Uri / Proxy-Scheme to a non-proxy -> 5.05. */
static void proxy_options_are_reported(void **state)
{
    (void)state;
    size_t left;
    assert_int_equal(check_one(COAPS_COAP_OPT_PROXY_URI, 10, &left), COAP_OPTCHECK_PROXY);
    assert_int_equal(check_one(COAPS_COAP_OPT_PROXY_SCHEME, 4, &left), COAP_OPTCHECK_PROXY);
    /* bad critical wins over proxy */
    coaps_coap_msg m;
    uint16_t bad;
    coaps_coap_msg_init(&m, COAPS_COAP_CON, COAPS_COAP_GET, 1);
    coaps_coap_msg_add_option(&m, COAPS_COAP_OPT_PROXY_URI, "coap://x", 8);
    coaps_coap_msg_add_option(&m, 101, "", 0);
    assert_int_equal(coap_options_check(&m, &bad), COAP_OPTCHECK_BAD_CRITICAL);
    assert_int_equal(bad, 101);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_matches_rfc_7252_5_10),
        cmocka_unit_test(unknown_critical_fails_unknown_elective_is_dropped),
        cmocka_unit_test(length_bounds_make_options_unrecognised),
        cmocka_unit_test(repeated_single_options),
        cmocka_unit_test(proxy_options_are_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
