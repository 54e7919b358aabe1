/*
 * test_replay_window.c - DTLS anti-replay window (src/dtls/replay_window.c),
 * RFC 6347 4.1.2.6: 64 records, check before decryption, mark after.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dtls/replay_window.h"

#define SEQ48_MAX ((UINT64_C(1) << 48) - 1)

static void accept_seq(struct dtls_replay_window *w, uint64_t seq)
{
    if (dtls_replay_check(w, seq) != COAPS_OK)
        fail_msg("seq %llu rejected (top %llu)", (unsigned long long)seq,
                 (unsigned long long)w->top);
    dtls_replay_mark(w, seq);
}

static void expect_replay(const struct dtls_replay_window *w, uint64_t seq)
{
    if (dtls_replay_check(w, seq) != COAPS_E_REPLAY)
        fail_msg("seq %llu accepted (top %llu)", (unsigned long long)seq,
                 (unsigned long long)w->top);
}

static void first_record_may_have_any_number(void **state)
{
    (void)state;
    struct dtls_replay_window w;
    dtls_replay_init(&w);
    assert_int_equal(dtls_replay_check(&w, 0), COAPS_OK);
    assert_int_equal(dtls_replay_check(&w, 12345), COAPS_OK);
    assert_int_equal(dtls_replay_check(&w, SEQ48_MAX), COAPS_OK);
    accept_seq(&w, 0);
    expect_replay(&w, 0); /* seq 0 is a real number, not "nothing seen" */
    assert_int_equal(dtls_replay_check(&w, 1), COAPS_OK);
}

static void in_order_stream_and_exact_duplicates(void **state)
{
    (void)state;
    struct dtls_replay_window w;
    dtls_replay_init(&w);
    for (uint64_t s = 0; s < 300; s++) {
        accept_seq(&w, s);
        expect_replay(&w, s);
        if (s > 0)
            expect_replay(&w, s - 1);
    }
}

static void window_edge_is_64_records(void **state)
{
    (void)state;
    struct dtls_replay_window w;
    dtls_replay_init(&w);
    accept_seq(&w, 100);
    /* top - 63 is the oldest number the window can still tell apart */
    assert_int_equal(dtls_replay_check(&w, 100 - 63), COAPS_OK);
    expect_replay(&w, 100 - 64); /* older than the window: reject */
    expect_replay(&w, 0);
    accept_seq(&w, 37);
    expect_replay(&w, 37);
    /* out-of-order arrivals inside the window are each accepted once */
    for (uint64_t s = 99; s > 37; s -= 7) {
        accept_seq(&w, s);
        expect_replay(&w, s);
    }
    assert_int_equal(dtls_replay_check(&w, 98), COAPS_OK);
}

static void slide_by_exactly_and_more_than_64(void **state)
{
    (void)state;
    struct dtls_replay_window w;
    dtls_replay_init(&w);
    for (uint64_t s = 0; s < 64; s++)
        accept_seq(&w, s);
    accept_seq(&w, 127); /* slide by 64: only 127 is marked now */
    expect_replay(&w, 63); /* age 64: beyond */
    for (uint64_t s = 64; s < 127; s++)
        assert_int_equal(dtls_replay_check(&w, s), COAPS_OK);

    accept_seq(&w, 1000); /* slide by 873: everything forgotten */
    expect_replay(&w, 127);
    expect_replay(&w, 1000 - 64);
    for (uint64_t s = 1000 - 63; s < 1000; s++)
        assert_int_equal(dtls_replay_check(&w, s), COAPS_OK);
    accept_seq(&w, 1001); /* slide by 1 keeps 1000 */
    expect_replay(&w, 1000);
    expect_replay(&w, 1001);
}

static void check_alone_does_not_move_the_window(void **state)
{
    (void)state;
    /* A record that fails authentication is checked but never marked: it
     * must not shift the window nor burn its number. */
    struct dtls_replay_window w;
    dtls_replay_init(&w);
    accept_seq(&w, 10);
    assert_int_equal(dtls_replay_check(&w, 500), COAPS_OK); /* forged, not marked */
    assert_int_equal(dtls_replay_check(&w, 500), COAPS_OK);
    assert_int_equal(dtls_replay_check(&w, 9), COAPS_OK);   /* still inside */
    assert_true(w.top == 10);
}

static void old_or_duplicate_mark_is_a_no_op(void **state)
{
    (void)state;
    struct dtls_replay_window w;
    dtls_replay_init(&w);
    accept_seq(&w, 200);
    struct dtls_replay_window before = w;
    dtls_replay_mark(&w, 3);   /* far left of the window */
    dtls_replay_mark(&w, 200); /* duplicate */
    assert_true(w.top == before.top && w.bitmap == before.bitmap);
    assert_int_equal(dtls_replay_check(&w, 199), COAPS_OK);
}

static void sequence_numbers_up_to_48_bits(void **state)
{
    (void)state;
    struct dtls_replay_window w;
    dtls_replay_init(&w);
    accept_seq(&w, SEQ48_MAX - 70);
    accept_seq(&w, SEQ48_MAX);
    expect_replay(&w, SEQ48_MAX);
    expect_replay(&w, SEQ48_MAX - 70); /* now older than the window */
    assert_int_equal(dtls_replay_check(&w, SEQ48_MAX - 1), COAPS_OK);
    assert_int_equal(dtls_replay_check(&w, SEQ48_MAX - 63), COAPS_OK);
    expect_replay(&w, SEQ48_MAX - 64);
    /* a number that cannot come off the wire */
    assert_int_equal(dtls_replay_check(&w, SEQ48_MAX + 1), COAPS_E_INVALID);
    dtls_replay_mark(&w, SEQ48_MAX + 1); /* ignored */
    assert_true(w.top == SEQ48_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_record_may_have_any_number),
        cmocka_unit_test(in_order_stream_and_exact_duplicates),
        cmocka_unit_test(window_edge_is_64_records),
        cmocka_unit_test(slide_by_exactly_and_more_than_64),
        cmocka_unit_test(check_alone_does_not_move_the_window),
        cmocka_unit_test(old_or_duplicate_mark_is_a_no_op),
        cmocka_unit_test(sequence_numbers_up_to_48_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
