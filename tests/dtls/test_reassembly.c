/* test_reassembly.c - ordering and reassembly of incoming handshake
 * fragments (src/dtls/reassembly.c, RFC 6347 4.2.2 and 4.2.3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dtls/reassembly.h"

/* The arena of a certificate-capable handshake context. */
static uint8_t test_arena[DTLS_REASM_ARENA_BYTES];

static int setup(void **state)
{
    struct dtls_reasm *r = malloc(sizeof *r);
    if (r == NULL)
        return -1;
    memset(r, 0xa5, sizeof *r); /* garbage: init must not rely on zeroed memory */
    dtls_reasm_init(r, test_arena, sizeof test_arena, 0);
    *state = r;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

static uint8_t msg_bytes[DTLS_HS_MSG_MAX];

/* A recognisable body: byte i of message seq is (seq * 31 + i * 7) & 0xff. */
static const uint8_t *body_of(uint16_t seq, size_t len)
{
    for (size_t i = 0; i < len; i++)
        msg_bytes[i] = (uint8_t)(seq * 31 + i * 7);
    return msg_bytes;
}

static coaps_status add(struct dtls_reasm *r, uint8_t type, uint16_t seq, uint32_t len,
                        uint32_t off, uint32_t flen, const uint8_t *body)
{
    struct dtls_hs_header h = {type, len, seq, off, flen};
    return dtls_reasm_add(r, &h, body + off);
}

static void expect_msg(struct dtls_reasm *r, uint8_t type, uint16_t seq, size_t len)
{
    struct dtls_hs_msg m;
    assert_int_equal(dtls_reasm_next(r, &m), COAPS_OK);
    assert_int_equal(m.msg_type, type);
    assert_int_equal(m.message_seq, seq);
    assert_int_equal(m.len, len);
    uint8_t want[512];
    assert_true(len <= sizeof want);
    for (size_t i = 0; i < len; i++)
        want[i] = (uint8_t)(seq * 31 + i * 7);
    if (len)
        assert_memory_equal(m.body, want, len);
}

static void expect_none(struct dtls_reasm *r)
{
    struct dtls_hs_msg m;
    assert_int_equal(dtls_reasm_next(r, &m), COAPS_E_AGAIN);
}

static void whole_message_in_order_is_not_copied(void **state)
{
    struct dtls_reasm *r = *state;
    uint8_t frag[20];
    memcpy(frag, body_of(0, 20), 20);
    struct dtls_hs_header h = {DTLS_HS_CLIENT_HELLO, 20, 0, 0, 20};
    assert_int_equal(dtls_reasm_add(r, &h, frag), COAPS_OK);
    assert_true(dtls_reasm_has_partial(r));
    struct dtls_hs_msg m;
    assert_int_equal(dtls_reasm_next(r, &m), COAPS_OK);
    assert_ptr_equal(m.body, frag); /* fast path: a view of the caller's bytes */
    assert_int_equal(m.len, 20);
    assert_int_equal(m.message_seq, 0);
    assert_int_equal(dtls_reasm_next_seq(r), 1);
    expect_none(r);
    assert_false(dtls_reasm_has_partial(r));
    /* A copy of the same whole message before delivery is accepted once. */
    h.message_seq = 1;
    assert_int_equal(dtls_reasm_add(r, &h, frag), COAPS_OK);
    assert_int_equal(dtls_reasm_add(r, &h, frag), COAPS_OK);
    assert_int_equal(dtls_reasm_next(r, &m), COAPS_OK);
    expect_none(r);
    assert_int_equal(dtls_reasm_next_seq(r), 2);
}

static void fragments_in_order(void **state)
{
    struct dtls_reasm *r = *state;
    const uint8_t *b = body_of(0, 100);
    for (uint32_t off = 0; off < 100; off += 30) {
        uint32_t n = off + 30 > 100 ? 100 - off : 30;
        expect_none(r);
        assert_int_equal(add(r, DTLS_HS_CERTIFICATE, 0, 100, off, n, b), COAPS_OK);
    }
    expect_msg(r, DTLS_HS_CERTIFICATE, 0, 100);
    expect_none(r);
}

static void fragments_reversed(void **state)
{
    struct dtls_reasm *r = *state;
    const uint8_t *b = body_of(0, 100);
    for (int i = 9; i >= 0; i--) {
        expect_none(r);
        assert_int_equal(add(r, 1, 0, 100, (uint32_t)i * 10, 10, b), COAPS_OK);
    }
    expect_msg(r, 1, 0, 100);
}

static void overlapping_fragments_first_bytes_win(void **state)
{
    struct dtls_reasm *r = *state;
    uint8_t b[100];
    memcpy(b, body_of(0, 100), 100);
    assert_int_equal(add(r, 1, 0, 100, 0, 60, b), COAPS_OK);
    b[50] ^= 0xff; /* a retransmission with different bytes in the overlap */
    assert_int_equal(add(r, 1, 0, 100, 40, 60, b), COAPS_OK);
    expect_msg(r, 1, 0, 100); /* byte 50 as first received */
    /* A fragment entirely inside what is held changes nothing. */
    memcpy(b, body_of(1, 100), 100);
    assert_int_equal(add(r, 1, 1, 100, 0, 50, b), COAPS_OK);
    assert_int_equal(add(r, 1, 1, 100, 10, 20, b), COAPS_OK);
    expect_none(r);
    assert_int_equal(add(r, 1, 1, 100, 49, 51, b), COAPS_OK);
    expect_msg(r, 1, 1, 100);
}

static void conflicting_type_or_length_is_dropped(void **state)
{
    struct dtls_reasm *r = *state;
    const uint8_t *b = body_of(0, 100);
    assert_int_equal(add(r, 1, 0, 100, 0, 50, b), COAPS_OK);
    assert_int_equal(add(r, 2, 0, 100, 50, 50, b), COAPS_E_MALFORMED);
    assert_int_equal(add(r, 1, 0, 99, 50, 49, b), COAPS_E_MALFORMED);
    assert_int_equal(r->stats.conflict, 2);
    expect_none(r);
    assert_int_equal(add(r, 1, 0, 100, 50, 50, b), COAPS_OK);
    expect_msg(r, 1, 0, 100);
    /* Conflicting with a whole message waiting on the fast path. */
    b = body_of(1, 10);
    assert_int_equal(add(r, 2, 1, 10, 0, 10, b), COAPS_OK);
    assert_int_equal(add(r, 3, 1, 10, 0, 10, b), COAPS_E_MALFORMED);
    assert_int_equal(r->stats.conflict, 3);
    expect_msg(r, 2, 1, 10);
}

static void fragment_past_message_end_is_dropped(void **state)
{
    struct dtls_reasm *r = *state;
    const uint8_t *b = body_of(0, 100);
    assert_int_equal(add(r, 1, 0, 100, 90, 11, b), COAPS_E_MALFORMED);
    assert_int_equal(add(r, 1, 0, 100, 101, 0, b), COAPS_E_MALFORMED);
    assert_int_equal(r->stats.malformed, 2);
    assert_false(dtls_reasm_has_partial(r));
}

static void too_large_message_is_refused(void **state)
{
    struct dtls_reasm *r = *state;
    const uint8_t *b = body_of(0, 10);
    assert_int_equal(add(r, 11, 0, DTLS_HS_MSG_MAX + 1, 0, 10, b), COAPS_E_UNSUPPORTED);
    assert_int_equal(r->stats.too_large, 1);
    assert_false(dtls_reasm_has_partial(r));
}

static void window_bounds_ahead_and_old(void **state)
{
    struct dtls_reasm *r = *state;
    const uint8_t *b = body_of(0, 10);
    /* RFC 6347 4.2.2: only [next, next + window) is buffered */
    assert_int_equal(add(r, 1, DTLS_REASM_WINDOW, 10, 0, 10, b), COAPS_E_FULL);
    assert_int_equal(r->stats.future, 1);
    assert_int_equal(add(r, 1, 0xffff, 10, 0, 10, b), COAPS_E_FULL);
    assert_int_equal(add(r, 1, DTLS_REASM_WINDOW - 1, 10, 0, 10, b), COAPS_OK);
    for (uint16_t s = 0; s < DTLS_REASM_WINDOW - 1; s++) {
        b = body_of(s, 10);
        assert_int_equal(add(r, 1, s, 10, 0, 10, b), COAPS_OK);
        expect_msg(r, 1, s, 10);
    }
    b = body_of(0, 10);
    struct dtls_hs_msg m;
    assert_int_equal(dtls_reasm_next(r, &m), COAPS_OK);
    assert_int_equal(m.message_seq, DTLS_REASM_WINDOW - 1);
    /* Anything below next is an old message: the peer retransmits. */
    assert_int_equal(add(r, 1, 0, 10, 0, 10, b), COAPS_E_DUPLICATE);
    assert_int_equal(add(r, 1, DTLS_REASM_WINDOW - 1, 10, 0, 5, b), COAPS_E_DUPLICATE);
    assert_int_equal(r->stats.old, 2);
    /* A server that verified a ClientHello with message_seq 1 starts there. */
    dtls_reasm_init(r, test_arena, sizeof test_arena, 1);
    assert_int_equal(r->stats.old, 0);
    assert_int_equal(add(r, 1, 0, 10, 0, 10, b), COAPS_E_DUPLICATE);
    assert_int_equal(add(r, 1, 1, 10, 0, 10, b), COAPS_OK);
}

/* RFC 6347 4.2.2: a Finished that overtakes the ClientKeyExchange is held
 * and handed out after it. */
static void out_of_order_messages_delivered_in_order(void **state)
{
    struct dtls_reasm *r = *state;
    dtls_reasm_init(r, test_arena, sizeof test_arena, 1);
    const uint8_t *b = body_of(2, 12);
    assert_int_equal(add(r, DTLS_HS_FINISHED, 2, 12, 0, 12, b), COAPS_OK);
    expect_none(r);
    assert_true(dtls_reasm_has_partial(r));
    b = body_of(1, 40);
    assert_int_equal(add(r, DTLS_HS_CLIENT_KEY_EXCHANGE, 1, 40, 0, 40, b), COAPS_OK);
    expect_msg(r, DTLS_HS_CLIENT_KEY_EXCHANGE, 1, 40);
    expect_msg(r, DTLS_HS_FINISHED, 2, 12);
    expect_none(r);
    assert_false(dtls_reasm_has_partial(r));
    assert_int_equal(dtls_reasm_next_seq(r), 3);
}

/* A whole flight arriving shuffled and fragmented: bodies survive the
 * arena packing done when each delivered message is released. */
static void shuffled_fragmented_flight(void **state)
{
    struct dtls_reasm *r = *state;
    static const uint32_t len[5] = {70, 300, 150, 0, 90};
    /* (seq, fragment index of 3) in a shuffled order */
    static const uint8_t order[][2] = {{3, 0}, {4, 2}, {2, 1}, {1, 0}, {4, 0}, {2, 0},
                                       {1, 2}, {0, 1}, {4, 1}, {2, 2}, {1, 1}, {0, 2},
                                       {0, 0}};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        uint16_t s = order[i][0];
        uint32_t third = (len[s] + 2) / 3;
        uint32_t off = third * order[i][1];
        uint32_t n = off >= len[s] ? 0 : (off + third > len[s] ? len[s] - off : third);
        if (off > len[s])
            off = len[s];
        assert_int_equal(add(r, (uint8_t)(s + 10), s, len[s], off, n, body_of(s, len[s])),
                         COAPS_OK);
    }
    for (uint16_t s = 0; s < 5; s++)
        expect_msg(r, (uint8_t)(s + 10), s, len[s]);
    expect_none(r);
    assert_int_equal(r->arena_used, 0);
}

/* Messages buffered in seq order: releasing the first packs the arena and
 * the later ones move down; their bodies and later fragments must follow. */
static void arena_packing_moves_later_messages(void **state)
{
    struct dtls_reasm *r = *state;
    assert_int_equal(add(r, 1, 1, 100, 0, 50, body_of(1, 100)), COAPS_OK);
    assert_int_equal(add(r, 2, 2, 120, 0, 60, body_of(2, 120)), COAPS_OK);
    assert_int_equal(add(r, 3, 3, 40, 0, 20, body_of(3, 40)), COAPS_OK);
    assert_int_equal(add(r, 1, 1, 100, 50, 50, body_of(1, 100)), COAPS_OK);
    assert_int_equal(add(r, 0, 0, 10, 0, 10, body_of(0, 10)), COAPS_OK);
    expect_msg(r, 0, 0, 10);
    expect_msg(r, 1, 1, 100);
    /* message 1 is released now; 2 and 3 moved down */
    assert_int_equal(add(r, 2, 2, 120, 60, 60, body_of(2, 120)), COAPS_OK);
    assert_int_equal(r->arena_used, (120 + 15) + (40 + 5));
    expect_msg(r, 2, 2, 120);
    assert_int_equal(add(r, 3, 3, 40, 20, 20, body_of(3, 40)), COAPS_OK);
    expect_msg(r, 3, 3, 40);
    expect_none(r);
    assert_int_equal(r->arena_used, 0);
}

/* A PSK handshake context gives a small arena (conn.h CONN_REASM_PSK_BYTES):
 * a fragmented message that fits is reassembled there; one larger than
 * the whole arena is dropped as COAPS_E_FULL and counted, never written
 * past the arena (ASan would see it: the arena is exactly its size). */
static void small_arena_takes_what_fits(void **state)
{
    (void)state;
    struct dtls_reasm *r = malloc(sizeof *r);
    uint8_t *arena = malloc(DTLS_REASM_ARENA_MIN);
    assert_non_null(r);
    assert_non_null(arena);
    dtls_reasm_init(r, arena, DTLS_REASM_ARENA_MIN, 0);
    /* 224 bytes + 28 of bitmap = 252 <= 256: fits, in two fragments */
    const uint8_t *b = body_of(0, 224);
    assert_int_equal(add(r, 1, 0, 224, 0, 100, b), COAPS_OK);
    assert_int_equal(add(r, 1, 0, 224, 100, 124, b), COAPS_OK);
    expect_msg(r, 1, 0, 224);
    /* 240 + 30 = 270 > 256: does not fit */
    b = body_of(1, 240);
    assert_int_equal(add(r, 1, 1, 240, 0, 100, b), COAPS_E_FULL);
    assert_int_equal(r->stats.no_space, 1);
    /* a whole message in order still takes the zero-copy path */
    assert_int_equal(add(r, 1, 1, 240, 0, 240, b), COAPS_OK);
    expect_msg(r, 1, 1, 240);
    /* an arena below the minimum takes nothing */
    dtls_reasm_init(r, arena, DTLS_REASM_ARENA_MIN - 1, 0);
    b = body_of(0, 8);
    assert_int_equal(add(r, 1, 0, 8, 0, 4, b), COAPS_E_FULL);
    free(arena);
    free(r);
}

static void arena_full_drops_until_space(void **state)
{
    struct dtls_reasm *r = *state;
    /* A maximum-size message takes the whole default arena. */
    static uint8_t big[DTLS_HS_MSG_MAX];
    memset(big, 0x5a, sizeof big);
    struct dtls_hs_header h = {DTLS_HS_CERTIFICATE, DTLS_HS_MSG_MAX, 1, 0, 1000};
    assert_int_equal(dtls_reasm_add(r, &h, big), COAPS_OK);
    const uint8_t *b = body_of(2, 10);
    assert_int_equal(add(r, 1, 2, 10, 0, 5, b), COAPS_E_FULL);
    assert_int_equal(r->stats.no_space, 1);
    /* message 0 still takes the fast path (no copy needed) */
    b = body_of(0, 10);
    assert_int_equal(add(r, 1, 0, 10, 0, 10, b), COAPS_OK);
    expect_msg(r, 1, 0, 10);
    for (uint32_t off = 1000; off < DTLS_HS_MSG_MAX; off += 1000) {
        h.fragment_offset = off;
        h.fragment_length = off + 1000 > DTLS_HS_MSG_MAX ? DTLS_HS_MSG_MAX - off : 1000;
        assert_int_equal(dtls_reasm_add(r, &h, big + off), COAPS_OK);
    }
    struct dtls_hs_msg m;
    assert_int_equal(dtls_reasm_next(r, &m), COAPS_OK);
    assert_int_equal(m.len, DTLS_HS_MSG_MAX);
    assert_memory_equal(m.body, big, DTLS_HS_MSG_MAX);
    /* released at the next call: now there is room again */
    b = body_of(2, 10);
    assert_int_equal(add(r, 1, 2, 10, 0, 5, b), COAPS_OK);
    assert_int_equal(add(r, 1, 2, 10, 5, 5, b), COAPS_OK);
    expect_msg(r, 1, 2, 10);
}

static void empty_message_and_last_sequence_number(void **state)
{
    struct dtls_reasm *r = *state;
    /* ServerHelloDone (empty) buffered ahead of ServerHello */
    assert_int_equal(add(r, DTLS_HS_SERVER_HELLO_DONE, 1, 0, 0, 0, msg_bytes), COAPS_OK);
    const uint8_t *b = body_of(0, 30);
    assert_int_equal(add(r, DTLS_HS_SERVER_HELLO, 0, 30, 0, 30, b), COAPS_OK);
    expect_msg(r, DTLS_HS_SERVER_HELLO, 0, 30);
    expect_msg(r, DTLS_HS_SERVER_HELLO_DONE, 1, 0);
    /* message_seq is 16 bits: after 65535 everything is old */
    dtls_reasm_init(r, test_arena, sizeof test_arena, 0xffff);
    b = body_of(0xffff, 4);
    assert_int_equal(add(r, 1, 0xffff, 4, 0, 4, b), COAPS_OK);
    struct dtls_hs_msg m;
    assert_int_equal(dtls_reasm_next(r, &m), COAPS_OK);
    assert_int_equal(dtls_reasm_next_seq(r), 0x10000);
    assert_int_equal(add(r, 1, 0xffff, 4, 0, 4, b), COAPS_E_DUPLICATE);
    expect_none(r);
}

static void init_forgets_everything(void **state)
{
    struct dtls_reasm *r = *state;
    const uint8_t *b = body_of(1, 100);
    assert_int_equal(add(r, 1, 1, 100, 0, 10, b), COAPS_OK);
    assert_int_equal(add(r, 1, 0, 100, 0, 100, b), COAPS_OK);
    assert_true(dtls_reasm_has_partial(r));
    dtls_reasm_init(r, test_arena, sizeof test_arena, 0);
    assert_false(dtls_reasm_has_partial(r));
    expect_none(r);
    assert_int_equal(r->arena_used, 0);
    struct dtls_hs_header h = {1, 4, 0, 0, 4};
    assert_int_equal(dtls_reasm_add(r, &h, NULL), COAPS_E_INVALID);
    assert_int_equal(dtls_reasm_add(NULL, &h, b), COAPS_E_INVALID);
}

/* ---- a real fragmented flight ------------------------------------------------ */

#define DG_MAX 1024
static uint8_t dgrams[5][DG_MAX];
static size_t dgram_len[5];

static void load_dhe_flight(void)
{
    const char *src = getenv("COAPS_SOURCE_DIR");
    for (int i = 0; i < 5; i++) {
        char path[1024];
        snprintf(path, sizeof path,
                 "%s/tests/dtls/vectors/openssl_dtls12_dhe_psk_server_flight_%d.bin",
                 src ? src : ".", i);
        FILE *f = fopen(path, "rb");
        if (f == NULL)
            fail_msg("cannot open vector %s (set COAPS_SOURCE_DIR)", path);
        dgram_len[i] = fread(dgrams[i], 1, DG_MAX, f);
        fclose(f);
        assert_true(dgram_len[i] > 13 && dgram_len[i] < DG_MAX);
    }
}

/* Feed every handshake fragment of datagram i, draining after each one;
 * delivered messages are appended at m[*k] (a copy of the SKE body kept). */
static void feed_datagram(struct dtls_reasm *r, int i, struct dtls_hs_msg *m, size_t *k,
                          uint8_t *ske_copy)
{
    struct wire_rd rd = wire_rd_init(dgrams[i], dgram_len[i]);
    while (wire_rd_left(&rd) > 0) {
        struct wire_rd body;
        assert_int_equal(wire_rd_skip(&rd, 11), COAPS_OK); /* type, version, epoch, seq */
        uint16_t len = 0;
        assert_int_equal(wire_rd_u16(&rd, &len), COAPS_OK);
        assert_int_equal(wire_rd_sub(&rd, len, &body), COAPS_OK);
        while (wire_rd_left(&body) > 0) {
            struct dtls_hs_header h;
            const uint8_t *frag;
            assert_int_equal(dtls_hs_header_read(&body, &h, &frag), COAPS_OK);
            coaps_status st = dtls_reasm_add(r, &h, frag);
            assert_true(st == COAPS_OK || st == COAPS_E_DUPLICATE);
            while (dtls_reasm_next(r, &m[*k]) == COAPS_OK) {
                assert_true(*k < 3);
                if (m[*k].msg_type == DTLS_HS_SERVER_KEY_EXCHANGE)
                    memcpy(ske_copy, m[*k].body, m[*k].len); /* view dies at next call */
                (*k)++;
            }
        }
    }
}

static void check_dhe_flight(const struct dtls_hs_msg *m, const uint8_t *ske)
{
    assert_int_equal(m[0].msg_type, DTLS_HS_SERVER_HELLO);
    assert_int_equal(m[0].message_seq, 1);
    assert_int_equal(m[1].msg_type, DTLS_HS_SERVER_KEY_EXCHANGE);
    assert_int_equal(m[1].message_seq, 2);
    assert_int_equal(m[1].len, 0x30d); /* 781 bytes in 5 fragments */
    /* DHE-PSK ServerKeyExchange (RFC 4279 3): psk_identity_hint "hint",
     * then dh_p <0x180> starting with the RFC 3526 prime's ff ff ... */
    assert_memory_equal(ske, "\x00\x04hint\x01\x80\xff\xff", 10);
    assert_int_equal(m[2].msg_type, DTLS_HS_SERVER_HELLO_DONE);
    assert_int_equal(m[2].message_seq, 3);
    assert_int_equal(m[2].len, 0);
}

static void real_fragmented_flight_in_order(void **state)
{
    struct dtls_reasm *r = *state;
    static uint8_t ske[DTLS_HS_MSG_MAX];
    struct dtls_hs_msg m[3];
    size_t k = 0;
    load_dhe_flight();
    dtls_reasm_init(r, test_arena, sizeof test_arena, 1);
    for (int i = 0; i < 5; i++)
        feed_datagram(r, i, m, &k, ske);
    assert_int_equal(k, 3);
    check_dhe_flight(m, ske);
}

static void real_fragmented_flight_reversed_and_repeated(void **state)
{
    struct dtls_reasm *r = *state;
    static uint8_t ske[DTLS_HS_MSG_MAX];
    struct dtls_hs_msg m[3];
    size_t k = 0;
    load_dhe_flight();
    dtls_reasm_init(r, test_arena, sizeof test_arena, 1);
    for (int i = 4; i >= 1; i--) {
        feed_datagram(r, i, m, &k, ske);
        feed_datagram(r, i, m, &k, ske); /* duplicated datagrams */
        assert_int_equal(k, 0);
    }
    feed_datagram(r, 0, m, &k, ske);
    assert_int_equal(k, 3);
    check_dhe_flight(m, ske);
    /* the whole flight again is old: the peer is retransmitting */
    feed_datagram(r, 2, m, &k, ske);
    assert_int_equal(k, 3);
    assert_true(r->stats.old > 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(whole_message_in_order_is_not_copied),
        T(fragments_in_order),
        T(fragments_reversed),
        T(overlapping_fragments_first_bytes_win),
        T(conflicting_type_or_length_is_dropped),
        T(fragment_past_message_end_is_dropped),
        T(too_large_message_is_refused),
        T(window_bounds_ahead_and_old),
        T(out_of_order_messages_delivered_in_order),
        T(shuffled_fragmented_flight),
        T(arena_packing_moves_later_messages),
        T(arena_full_drops_until_space),
        T(small_arena_takes_what_fits),
        T(empty_message_and_last_sequence_number),
        T(init_forgets_everything),
        T(real_fragmented_flight_in_order),
        T(real_fragmented_flight_reversed_and_repeated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
