/* test_fragment.c - cutting outgoing handshake messages into fragments
 * (src/dtls/fragment.c, RFC 6347 4.2.3), checked against the header reader
 * and the reassembly of the same module. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dtls/fragment.h"
#include "dtls/reassembly.h"

static uint8_t test_arena[DTLS_REASM_ARENA_BYTES];

static uint8_t body[1000];

static int setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (uint8_t)(i * 13 + 1);
    return 0;
}

static void whole_message_is_header_plus_body(void **state)
{
    (void)state;
    uint8_t out[64];
    struct wire_wr w = wire_wr_init(out, sizeof out);
    assert_int_equal(dtls_frag_write_whole(&w, DTLS_HS_FINISHED, 7, body, 12), COAPS_OK);
    const uint8_t hdr[] = {0x14, 0x00, 0x00, 0x0c, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c};
    assert_int_equal(w.off, 24);
    assert_memory_equal(out, hdr, 12);
    assert_memory_equal(out + 12, body, 12);
    /* does not fit: nothing written */
    w = wire_wr_init(out, 23);
    assert_int_equal(dtls_frag_write_whole(&w, DTLS_HS_FINISHED, 7, body, 12), COAPS_E_NOSPACE);
    assert_int_equal(w.off, 0);
    w = wire_wr_init(out, sizeof out);
    assert_int_equal(dtls_frag_write_whole(&w, 1, 0, body, DTLS_HS_MSG_MAX + 1), COAPS_E_INVALID);
}

/* Read back every fragment in buf and check offsets, lengths and bytes. */
static void check_fragments(const uint8_t *buf, size_t n, uint8_t type, uint16_t seq,
                            size_t len, size_t max_payload, size_t *frags)
{
    struct wire_rd r = wire_rd_init(buf, n);
    size_t expect_off = 0;
    *frags = 0;
    while (wire_rd_left(&r) > 0) {
        struct dtls_hs_header h;
        const uint8_t *f;
        assert_int_equal(dtls_hs_header_read(&r, &h, &f), COAPS_OK);
        assert_int_equal(h.msg_type, type);
        assert_int_equal(h.message_seq, seq);
        assert_int_equal(h.length, len);
        assert_int_equal(h.fragment_offset, expect_off);
        assert_true(h.fragment_length <= max_payload);
        assert_memory_equal(f, body + expect_off, h.fragment_length);
        expect_off += h.fragment_length;
        (*frags)++;
    }
    assert_int_equal(expect_off, len);
}

static void message_cut_at_max_payload(void **state)
{
    (void)state;
    struct dtls_frag_src f;
    uint8_t out[512];
    struct wire_wr w = wire_wr_init(out, sizeof out);
    assert_int_equal(dtls_frag_init(&f, DTLS_HS_CERTIFICATE, 3, body, 100), COAPS_OK);
    size_t sizes[8], k = 0;
    while (!dtls_frag_done(&f)) {
        assert_true(k < 8);
        assert_int_equal(dtls_frag_write(&f, &w, 30, &sizes[k]), COAPS_OK);
        k++;
    }
    assert_int_equal(k, 4);
    assert_int_equal(sizes[0], 30);
    assert_int_equal(sizes[3], 10);
    assert_int_equal(w.off, 4 * 12 + 100);
    size_t frags;
    check_fragments(out, w.off, DTLS_HS_CERTIFICATE, 3, 100, 30, &frags);
    assert_int_equal(frags, 4);
    assert_int_equal(dtls_frag_write(&f, &w, 30, NULL), COAPS_E_STATE);
    /* rewind for a retransmission: same bytes again */
    dtls_frag_rewind(&f);
    assert_false(dtls_frag_done(&f));
    uint8_t again[512];
    struct wire_wr w2 = wire_wr_init(again, sizeof again);
    while (!dtls_frag_done(&f))
        assert_int_equal(dtls_frag_write(&f, &w2, 30, NULL), COAPS_OK);
    assert_int_equal(w2.off, w.off);
    assert_memory_equal(again, out, w.off);
}

/* Without max_payload, the room left in the datagram decides; when not even
 * one byte fits the call fails and the datagram is left as it was. */
static void room_in_datagram_limits_fragments(void **state)
{
    (void)state;
    struct dtls_frag_src f;
    uint8_t dgram[12 + 40];
    assert_int_equal(dtls_frag_init(&f, 1, 0, body, 100), COAPS_OK);
    size_t total = 0, frags = 0;
    uint8_t all[100];
    while (!dtls_frag_done(&f)) {
        struct wire_wr w = wire_wr_init(dgram, sizeof dgram);
        size_t n;
        assert_int_equal(dtls_frag_write(&f, &w, 0, &n), COAPS_OK);
        assert_int_equal(w.off, 12 + n);
        struct wire_rd r = wire_rd_init(dgram, w.off);
        struct dtls_hs_header h;
        const uint8_t *p;
        assert_int_equal(dtls_hs_header_read(&r, &h, &p), COAPS_OK);
        assert_int_equal(h.fragment_offset, total);
        memcpy(all + total, p, n);
        total += n;
        frags++;
    }
    assert_int_equal(frags, 3); /* 40 + 40 + 20 */
    assert_memory_equal(all, body, 100);

    dtls_frag_rewind(&f);
    struct wire_wr w = wire_wr_init(dgram, 12);
    assert_int_equal(dtls_frag_write(&f, &w, 0, NULL), COAPS_E_NOSPACE);
    assert_int_equal(w.off, 0);
    w = wire_wr_init(dgram, 11);
    assert_int_equal(dtls_frag_write(&f, &w, 0, NULL), COAPS_E_NOSPACE);
    assert_int_equal(w.off, 0);
    assert_int_equal(f.off, 0);
}

static void empty_message_is_one_empty_fragment(void **state)
{
    (void)state;
    struct dtls_frag_src f;
    uint8_t out[32];
    struct wire_wr w = wire_wr_init(out, 12);
    assert_int_equal(dtls_frag_init(&f, DTLS_HS_SERVER_HELLO_DONE, 4, NULL, 0), COAPS_OK);
    assert_false(dtls_frag_done(&f));
    size_t n = 99;
    assert_int_equal(dtls_frag_write(&f, &w, 100, &n), COAPS_OK);
    assert_int_equal(n, 0);
    assert_true(dtls_frag_done(&f));
    const uint8_t want[] = {0x0e, 0, 0, 0, 0x00, 0x04, 0, 0, 0, 0, 0, 0};
    assert_int_equal(w.off, 12);
    assert_memory_equal(out, want, 12);
    assert_int_equal(dtls_frag_write(&f, &w, 100, NULL), COAPS_E_STATE);
    assert_int_equal(dtls_frag_init(&f, 1, 0, NULL, 5), COAPS_E_INVALID);
    assert_int_equal(dtls_frag_init(&f, 1, 0, body, DTLS_HS_MSG_MAX + 1), COAPS_E_INVALID);
}

/* A flight packed into datagrams of 120 bytes: several messages share a
 * datagram; the receiver's reassembly rebuilds each message. */
static void flight_packed_and_reassembled(void **state)
{
    (void)state;
    static const size_t lens[3] = {90, 0, 250};
    struct dtls_frag_src src[3];
    for (uint16_t i = 0; i < 3; i++)
        assert_int_equal(dtls_frag_init(&src[i], (uint8_t)(20 + i), i, body, lens[i]), COAPS_OK);
    struct dtls_reasm *r = malloc(sizeof *r);
    assert_non_null(r);
    dtls_reasm_init(r, test_arena, sizeof test_arena, 0);
    uint8_t dgram[120];
    size_t i = 0, datagrams = 0, delivered = 0;
    while (i < 3) {
        struct wire_wr w = wire_wr_init(dgram, sizeof dgram);
        while (i < 3) {
            coaps_status st = dtls_frag_write(&src[i], &w, 0, NULL);
            if (st == COAPS_E_NOSPACE)
                break;
            assert_int_equal(st, COAPS_OK);
            if (dtls_frag_done(&src[i]))
                i++;
        }
        datagrams++;
        /* receiver side */
        struct wire_rd rd = wire_rd_init(dgram, w.off);
        while (wire_rd_left(&rd) > 0) {
            struct dtls_hs_header h;
            const uint8_t *p;
            assert_int_equal(dtls_hs_header_read(&rd, &h, &p), COAPS_OK);
            assert_int_equal(dtls_reasm_add(r, &h, p), COAPS_OK);
            struct dtls_hs_msg m;
            while (dtls_reasm_next(r, &m) == COAPS_OK) {
                assert_int_equal(m.message_seq, delivered);
                assert_int_equal(m.msg_type, 20 + delivered);
                assert_int_equal(m.len, lens[delivered]);
                if (m.len)
                    assert_memory_equal(m.body, body, m.len);
                delivered++;
            }
        }
    }
    assert_int_equal(delivered, 3);
    /* [hdr+90, hdr+0] [hdr+108] [hdr+108] [hdr+34]: the 6 bytes left in the
     * first datagram cannot hold a header, so message 2 starts in the next. */
    assert_int_equal(datagrams, 4);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(whole_message_is_header_plus_body),
        cmocka_unit_test(message_cut_at_max_payload),
        cmocka_unit_test(room_in_datagram_limits_fragments),
        cmocka_unit_test(empty_message_is_one_empty_fragment),
        cmocka_unit_test(flight_packed_and_reassembled),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
