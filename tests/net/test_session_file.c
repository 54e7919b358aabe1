/*
 * test_session_file.c - a DTLS session in a file (src/net/session_file.c,
 * coaps/session.h): a round trip, mode 0600, and every kind of bad file
 * (missing, empty, truncated, longer, one flipped bit anywhere, another
 * layout version) refused with a one-line reason and a wiped result.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "coaps/session.h"

static char dir[64], path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/coaps-session-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/s.bin", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    rmdir(dir);
    return 0;
}

static coaps_dtls_session sample(void)
{
    coaps_dtls_session s;
    memset(&s, 0, sizeof s);
    s.version = COAPS_DTLS_SESSION_VERSION;
    s.suite = COAPS_DTLS_PSK_AES_128_CCM_8;
    s.id_len = 32;
    for (int i = 0; i < 32; i++)
        s.id[i] = (uint8_t)(0xa0 + i);
    for (int i = 0; i < 48; i++)
        s.master_secret[i] = (uint8_t)i;
    return s;
}

static size_t file_bytes(uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void put_bytes(const uint8_t *buf, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, n, f), n);
    fclose(f);
}

static void round_trip(void **state)
{
    (void)state;
    char err[256];
    coaps_dtls_session s = sample(), back;
    assert_int_equal(coaps_session_save(path, &s, err, sizeof err), COAPS_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(coaps_session_load(path, &back, err, sizeof err), COAPS_OK);
    assert_memory_equal(&s, &back, sizeof s);
    /* a shorter ID survives as such */
    s.id_len = 8;
    memset(s.id + 8, 0, 24);
    assert_int_equal(coaps_session_save(path, &s, err, sizeof err), COAPS_OK);
    assert_int_equal(coaps_session_load(path, &back, err, sizeof err), COAPS_OK);
    assert_int_equal(back.id_len, 8);
    assert_memory_equal(&s, &back, sizeof s);
    /* a ticket (RFC 5077), and a ticket without an ID */
    s.ticket_lifetime_s = 7200;
    s.ticket_len = 176;
    for (int i = 0; i < 176; i++)
        s.ticket[i] = (uint8_t)(i * 7);
    assert_int_equal(coaps_session_save(path, &s, err, sizeof err), COAPS_OK);
    assert_int_equal(coaps_session_load(path, &back, err, sizeof err), COAPS_OK);
    assert_memory_equal(&s, &back, sizeof s);
    s.id_len = 0;
    memset(s.id, 0, sizeof s.id);
    s.ticket_len = COAPS_DTLS_TICKET_MAX;
    assert_int_equal(coaps_session_save(path, &s, err, sizeof err), COAPS_OK);
    assert_int_equal(coaps_session_load(path, &back, err, sizeof err), COAPS_OK);
    assert_memory_equal(&s, &back, sizeof s);
}

static void missing_is_not_found(void **state)
{
    (void)state;
    char err[256];
    coaps_dtls_session back;
    assert_int_equal(coaps_session_load(path, &back, err, sizeof err), COAPS_E_NOT_FOUND);
}

static void expect_refused(const char *what)
{
    char err[256];
    coaps_dtls_session back;
    memset(&back, 0x55, sizeof back);
    coaps_status st = coaps_session_load(path, &back, err, sizeof err);
    if (st != COAPS_E_MALFORMED)
        fail_msg("%s: status %d", what, (int)st);
    assert_non_null(strstr(err, path));
    assert_null(strchr(err, '\n'));
    static const coaps_dtls_session zero;
    assert_memory_equal(&back, &zero, sizeof back); /* wiped */
}

static void bad_files_refused(void **state)
{
    (void)state;
    char err[256];
    coaps_dtls_session s = sample();
    assert_int_equal(coaps_session_save(path, &s, err, sizeof err), COAPS_OK);
    uint8_t good[256], buf[256];
    size_t n = file_bytes(good, sizeof good);
    assert_true(n > 100 && n < sizeof good);

    put_bytes(good, 0);
    expect_refused("empty");
    put_bytes(good, n - 1);
    expect_refused("truncated");
    memcpy(buf, good, n);
    buf[n] = 0;
    put_bytes(buf, n + 1);
    expect_refused("longer");
    for (size_t i = 0; i < n; i++) { /* any byte: magic, fields, secret, digest */
        memcpy(buf, good, n);
        buf[i] ^= 0x10;
        put_bytes(buf, n);
        expect_refused("flipped");
    }
    put_bytes((const uint8_t *)"CoAP session? no, a text file\n", 30);
    expect_refused("text");
}

static void nothing_to_save(void **state)
{
    (void)state;
    char err[256];
    coaps_dtls_session s = sample();
    s.id_len = 0; /* and no ticket */
    assert_int_equal(coaps_session_save(path, &s, err, sizeof err), COAPS_E_INVALID);
    s = sample();
    s.ticket_len = COAPS_DTLS_TICKET_MAX + 1;
    assert_int_equal(coaps_session_save(path, &s, err, sizeof err), COAPS_E_INVALID);
    char bad[160];
    snprintf(bad, sizeof bad, "%s/no/such/dir/s.bin", dir);
    s = sample();
    assert_int_equal(coaps_session_save(bad, &s, err, sizeof err), COAPS_E_IO);
    assert_non_null(strstr(err, "cannot write"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_is_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_files_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(nothing_to_save, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
