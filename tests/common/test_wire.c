/* test_wire.c - bounded reader/writer (src/common/wire.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/wire.h"

static void reads_big_endian_integers(void **state)
{
    (void)state;
    const uint8_t in[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
                          0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10};
    struct wire_rd r = wire_rd_init(in, sizeof in);
    uint8_t u8;
    uint16_t u16;
    uint32_t u24, u32;
    uint64_t u48;
    assert_int_equal(wire_rd_u8(&r, &u8), COAPS_OK);
    assert_int_equal(u8, 0x01);
    assert_int_equal(wire_rd_u16(&r, &u16), COAPS_OK);
    assert_int_equal(u16, 0x0203);
    assert_int_equal(wire_rd_u24(&r, &u24), COAPS_OK);
    assert_int_equal(u24, 0x040506);
    assert_int_equal(wire_rd_u32(&r, &u32), COAPS_OK);
    assert_int_equal(u32, 0x0708090a);
    assert_int_equal(wire_rd_u48(&r, &u48), COAPS_OK);
    assert_true(u48 == 0x0b0c0d0e0f10ULL);
    assert_int_equal(wire_rd_left(&r), 0);
}

static void read_past_end_fails_and_keeps_cursor(void **state)
{
    (void)state;
    const uint8_t in[] = {0xaa, 0xbb, 0xcc};
    struct wire_rd r = wire_rd_init(in, sizeof in);
    uint32_t v = 0;
    uint8_t buf[4];
    assert_int_equal(wire_rd_u32(&r, &v), COAPS_E_TRUNCATED);
    assert_int_equal(r.off, 0);
    assert_int_equal(wire_rd_bytes(&r, buf, 4), COAPS_E_TRUNCATED);
    assert_int_equal(wire_rd_u24(&r, &v), COAPS_OK);
    assert_int_equal(v, 0xaabbcc);
    assert_int_equal(wire_rd_skip(&r, 1), COAPS_E_TRUNCATED);
}

static void sub_reader_bounds_a_vector(void **state)
{
    (void)state;
    const uint8_t in[] = {0x02, 0x11, 0x22, 0x33};
    struct wire_rd r = wire_rd_init(in, sizeof in), sub;
    uint8_t n, a, b, c;
    assert_int_equal(wire_rd_u8(&r, &n), COAPS_OK);
    assert_int_equal(wire_rd_sub(&r, n, &sub), COAPS_OK);
    assert_int_equal(wire_rd_u8(&sub, &a), COAPS_OK);
    assert_int_equal(wire_rd_u8(&sub, &b), COAPS_OK);
    assert_int_equal(wire_rd_u8(&sub, &c), COAPS_E_TRUNCATED);
    assert_int_equal(wire_rd_u8(&r, &c), COAPS_OK);
    assert_int_equal(c, 0x33);
    assert_int_equal(wire_rd_sub(&r, 1, &sub), COAPS_E_TRUNCATED);
}

static void writer_stops_at_capacity(void **state)
{
    (void)state;
    uint8_t out[5];
    struct wire_wr w = wire_wr_init(out, sizeof out);
    size_t at;
    assert_int_equal(wire_wr_reserve(&w, 2, &at), COAPS_OK);
    assert_int_equal(wire_wr_u24(&w, 0x010203), COAPS_OK);
    assert_int_equal(wire_wr_u8(&w, 0xff), COAPS_E_NOSPACE);
    assert_int_equal(wire_wr_patch(&w, at, 2, 0xbeef), COAPS_OK);
    assert_int_equal(wire_wr_patch(&w, 4, 2, 0), COAPS_E_INVALID);
    const uint8_t want[] = {0xbe, 0xef, 0x01, 0x02, 0x03};
    assert_memory_equal(out, want, sizeof want);
    assert_int_equal(w.off, 5);
}

static void u48_round_trips(void **state)
{
    (void)state;
    uint8_t out[6];
    struct wire_wr w = wire_wr_init(out, sizeof out);
    assert_int_equal(wire_wr_u48(&w, 0xffffffffffffULL), COAPS_OK);
    struct wire_rd r = wire_rd_init(out, w.off);
    uint64_t v;
    assert_int_equal(wire_rd_u48(&r, &v), COAPS_OK);
    assert_true(v == 0xffffffffffffULL);
}

static void status_names_are_distinct(void **state)
{
    (void)state;
    assert_string_equal(coaps_status_str(COAPS_OK), "ok");
    assert_string_equal(coaps_status_str(COAPS_E_TRUNCATED), "truncated");
    assert_string_equal(coaps_status_str((coaps_status)-999), "unknown status");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_big_endian_integers),
        cmocka_unit_test(read_past_end_fails_and_keeps_cursor),
        cmocka_unit_test(sub_reader_bounds_a_vector),
        cmocka_unit_test(writer_stops_at_capacity),
        cmocka_unit_test(u48_round_trips),
        cmocka_unit_test(status_names_are_distinct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
