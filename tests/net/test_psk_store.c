/* test_psk_store.c - PSK flags and files (src/net/psk_store.c), RFC 4279. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "net/psk_store.h"

static struct net_psk_store store;

static int setup(void **state)
{
    (void)state;
    net_psk_store_init(&store);
    return 0;
}

/* Look identity up; returns the key as a string (or NULL when refused). */
static const char *lookup(const char *identity)
{
    static char key[COAPS_DTLS_PSK_KEY_MAX + 1];
    size_t len = 0;
    if (net_psk_store_lookup(&store, (const uint8_t *)identity, strlen(identity),
                             (uint8_t *)key, COAPS_DTLS_PSK_KEY_MAX, &len) != COAPS_OK)
        return NULL;
    key[len] = '\0';
    return key;
}

static void identity_ends_at_first_colon(void **state)
{
    (void)state;
    char err[NET_PSK_ERR_MAX];
    assert_int_equal(net_psk_store_add_arg(&store, "dev1:se:cret", err, sizeof err), COAPS_OK);
    assert_string_equal(lookup("dev1"), "se:cret");
    assert_null(lookup("dev1:se"));
    assert_null(lookup("other"));
    assert_false(store.has_default);
}

static void hex_keys_and_default(void **state)
{
    (void)state;
    char err[NET_PSK_ERR_MAX];
    assert_int_equal(net_psk_store_add_arg(&store, "a:0x6b6579", err, sizeof err), COAPS_OK);
    assert_string_equal(lookup("a"), "key");
    assert_int_equal(net_psk_store_add_arg(&store, "*:anykey", err, sizeof err), COAPS_OK);
    assert_string_equal(lookup("whoever"), "anykey");
    assert_string_equal(lookup("a"), "key"); /* a named identity wins */
    /* a second entry for an identity replaces the first */
    assert_int_equal(net_psk_store_add_arg(&store, "a:new", err, sizeof err), COAPS_OK);
    assert_string_equal(lookup("a"), "new");
    assert_int_equal(store.n, 1);
}

static void bad_args_say_why(void **state)
{
    (void)state;
    char err[NET_PSK_ERR_MAX];
    assert_int_equal(net_psk_store_add_arg(&store, "nocolon", err, sizeof err), COAPS_E_INVALID);
    assert_string_equal(err, "wants IDENTITY:KEY");
    assert_int_equal(net_psk_store_add_arg(&store, ":key", err, sizeof err), COAPS_E_INVALID);
    assert_string_equal(err, "empty identity");
    assert_int_equal(net_psk_store_add_arg(&store, "id:", err, sizeof err), COAPS_E_INVALID);
    assert_int_equal(net_psk_store_add_arg(&store, "id:0x123", err, sizeof err), COAPS_E_INVALID);
    assert_int_equal(net_psk_store_add_arg(&store, "id:0xzz", err, sizeof err), COAPS_E_INVALID);
    assert_string_equal(err, "hex key has a non-hex digit");
    char longkey[80];
    memset(longkey, 'k', sizeof longkey);
    memcpy(longkey, "id:", 3);
    longkey[3 + 65] = '\0'; /* 65 bytes: one past RFC 4279 5.3's 64 */
    assert_int_equal(net_psk_store_add_arg(&store, longkey, err, sizeof err), COAPS_E_INVALID);
    longkey[3 + 64] = '\0';
    assert_int_equal(net_psk_store_add_arg(&store, longkey, err, sizeof err), COAPS_OK);
    assert_false(net_psk_store_usable(&store) == false);
}

static void file_text_with_comments_and_blank_lines(void **state)
{
    (void)state;
    static const char text[] = "# keys of the lab\n"
                               "\n"
                               "alice,secret\r\n"
                               "  bob , 0x626f62  \n"
                               "   # indented comment\n"
                               "carol,with,comma";
    char err[NET_PSK_ERR_MAX];
    assert_int_equal(net_psk_store_add_text(&store, text, strlen(text), err, sizeof err),
                     COAPS_OK);
    assert_string_equal(lookup("alice"), "secret");
    assert_string_equal(lookup("bob"), "bob");
    assert_string_equal(lookup("carol"), "with,comma"); /* identity ends at the first comma */
    assert_int_equal(store.n, 3);
}

static void file_errors_name_the_line(void **state)
{
    (void)state;
    char err[NET_PSK_ERR_MAX];
    static const char no_comma[] = "a,b\n\n# c\nbroken\n";
    assert_int_equal(net_psk_store_add_text(&store, no_comma, strlen(no_comma), err, sizeof err),
                     COAPS_E_INVALID);
    assert_string_equal(err, "4: expected 'identity,key'");
    static const char bad_hex[] = "x,0x1\n";
    assert_int_equal(net_psk_store_add_text(&store, bad_hex, strlen(bad_hex), err, sizeof err),
                     COAPS_E_INVALID);
    assert_string_equal(err, "1: hex key must be 2..128 hex digits, an even count");
    static const char nul[] = "x,a\0b\n";
    assert_int_equal(net_psk_store_add_text(&store, nul, sizeof nul - 1, err, sizeof err),
                     COAPS_E_INVALID);
    assert_string_equal(err, "1: NUL byte in line");
}

static void store_is_bounded(void **state)
{
    (void)state;
    char err[NET_PSK_ERR_MAX], arg[32];
    for (int i = 0; i < NET_PSK_STORE_MAX; i++) {
        snprintf(arg, sizeof arg, "id%d:k", i);
        assert_int_equal(net_psk_store_add_arg(&store, arg, err, sizeof err), COAPS_OK);
    }
    assert_int_equal(net_psk_store_add_arg(&store, "one-more:k", err, sizeof err), COAPS_E_FULL);
    assert_string_equal(lookup("id255"), "k");
}

static void empty_store_refuses_everyone(void **state)
{
    (void)state;
    assert_false(net_psk_store_usable(&store));
    assert_null(lookup("anyone"));
    uint8_t key[4];
    size_t len;
    char err[NET_PSK_ERR_MAX];
    /* a key larger than the engine's buffer is refused, not overflowed */
    assert_int_equal(net_psk_store_add_arg(&store, "a:longer-than-four", err, sizeof err),
                     COAPS_OK);
    assert_int_equal(net_psk_store_lookup(&store, (const uint8_t *)"a", 1, key, sizeof key, &len),
                     COAPS_E_PSK_IDENTITY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(identity_ends_at_first_colon, setup),
        cmocka_unit_test_setup(hex_keys_and_default, setup),
        cmocka_unit_test_setup(bad_args_say_why, setup),
        cmocka_unit_test_setup(file_text_with_comments_and_blank_lines, setup),
        cmocka_unit_test_setup(file_errors_name_the_line, setup),
        cmocka_unit_test_setup(store_is_bounded, setup),
        cmocka_unit_test_setup(empty_store_refuses_everyone, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
