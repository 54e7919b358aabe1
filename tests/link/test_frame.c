/* test_frame.c - SLIP framing with peer header and CRC (src/link/frame.c,
 * RFC 1055): round trips, escaping, and every kind of bad frame dropped
 * and counted without losing the next good one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "link/frame.h"

/* Room for one encoded frame of the largest payload, plus slack. */
#define ENC_CAP (LINK_ENCODED_MAX(LINK_PAYLOAD_MAX) + 16)

struct sink {
    uint8_t buf[ENC_CAP];
    size_t len;
};

static void sink_put(void *ctx, uint8_t byte)
{
    struct sink *s = ctx;
    assert_true(s->len < sizeof s->buf);
    s->buf[s->len++] = byte;
}

static struct link_hdr dgram_hdr(void)
{
    struct link_hdr h;
    memset(&h, 0, sizeof h);
    h.type = LINK_T_DATAGRAM;
    h.channel = LINK_CH_COAPS;
    h.family = LINK_AF_INET;
    h.addr[0] = 127;
    h.addr[3] = 1;
    h.port = 0xC0DB; /* both special bytes in the header: must be escaped */
    return h;
}

/* Feed bytes; count the good frames, keep the last. */
static int feed(struct link_rx *rx, const uint8_t *p, size_t n, struct link_frame *last)
{
    int frames = 0;
    for (size_t i = 0; i < n; i++)
        frames += link_rx_byte(rx, p[i], last);
    return frames;
}

/* zlib's crc32("123456789") = 0xCBF43926, the check value of CRC-32. */
static void crc32_check_value(void **state)
{
    (void)state;
    assert_int_equal(link_crc32(0, (const uint8_t *)"123456789", 9), 0xCBF43926u);
    uint32_t part = link_crc32(0, (const uint8_t *)"1234", 4);
    assert_int_equal(link_crc32(part, (const uint8_t *)"56789", 5), 0xCBF43926u);
}

static void round_trip_escapes_end_and_esc(void **state)
{
    (void)state;
    static struct sink s;
    s.len = 0;
    struct link_hdr h = dgram_hdr();
    const uint8_t payload[] = {0x40, 0xC0, 0xDB, 0x01, 0xDC, 0xDD};
    assert_int_equal(link_encode(&h, payload, sizeof payload, sink_put, &s), COAPS_OK);
    assert_int_equal(s.buf[0], LINK_SLIP_END);
    assert_int_equal(s.buf[s.len - 1], LINK_SLIP_END);
    for (size_t i = 1; i + 1 < s.len; i++)
        assert_int_not_equal(s.buf[i], LINK_SLIP_END); /* RFC 1055: END only frames */
    static struct link_rx rx;
    link_rx_init(&rx);
    struct link_frame f;
    assert_int_equal(feed(&rx, s.buf, s.len, &f), 1);
    assert_int_equal(f.hdr.channel, LINK_CH_COAPS);
    assert_int_equal(f.hdr.port, 0xC0DB);
    assert_int_equal(f.hdr.addr[0], 127);
    assert_int_equal(f.len, sizeof payload);
    assert_memory_equal(f.payload, payload, sizeof payload);
    assert_int_equal(rx.stats.ok, 1);
}

static void largest_payload_passes_one_more_is_refused(void **state)
{
    (void)state;
    static struct sink s;
    static uint8_t payload[LINK_PAYLOAD_MAX + 1];
    memset(payload, LINK_SLIP_END, sizeof payload); /* worst case: all escaped */
    struct link_hdr h = dgram_hdr();
    s.len = 0;
    assert_int_equal(link_encode(&h, payload, LINK_PAYLOAD_MAX, sink_put, &s), COAPS_OK);
    assert_true(s.len <= LINK_ENCODED_MAX(LINK_PAYLOAD_MAX));
    static struct link_rx rx;
    link_rx_init(&rx);
    struct link_frame f;
    assert_int_equal(feed(&rx, s.buf, s.len, &f), 1);
    assert_int_equal(f.len, LINK_PAYLOAD_MAX);
    s.len = 0;
    assert_int_equal(link_encode(&h, payload, LINK_PAYLOAD_MAX + 1, sink_put, &s),
                     COAPS_E_INVALID);
    assert_int_equal(s.len, 0);
}

/* Encode a good frame into s (for corrupting). */
static void good_frame(struct sink *s)
{
    struct link_hdr h = dgram_hdr();
    const uint8_t payload[] = {0x40, 0x01, 0x12, 0x34};
    s->len = 0;
    assert_int_equal(link_encode(&h, payload, sizeof payload, sink_put, s), COAPS_OK);
}

static void bad_crc_dropped_and_counted(void **state)
{
    (void)state;
    static struct sink s;
    good_frame(&s);
    s.buf[s.len - 2] ^= 0x01; /* a bit of the CRC */
    static struct link_rx rx;
    link_rx_init(&rx);
    struct link_frame f;
    assert_int_equal(feed(&rx, s.buf, s.len, &f), 0);
    assert_int_equal(rx.stats.bad_crc, 1);
    good_frame(&s);
    assert_int_equal(feed(&rx, s.buf, s.len, &f), 1); /* the next one is fine */
}

static void garbage_truncated_and_bad_escape_are_malformed(void **state)
{
    (void)state;
    static struct link_rx rx;
    link_rx_init(&rx);
    struct link_frame f;
    const uint8_t garbage[] = {'h', 'e', 'l', 'l', 'o', LINK_SLIP_END};
    assert_int_equal(feed(&rx, garbage, sizeof garbage, &f), 0);
    static struct sink s;
    good_frame(&s);
    assert_int_equal(feed(&rx, s.buf, s.len - 6, &f), 0);    /* cut short ... */
    const uint8_t end = LINK_SLIP_END;
    assert_int_equal(feed(&rx, &end, 1, &f), 0);             /* ... then ended */
    const uint8_t bad_esc[] = {LINK_SLIP_ESC, 'A', 1, 2, 3, LINK_SLIP_END};
    assert_int_equal(feed(&rx, bad_esc, sizeof bad_esc, &f), 0);
    assert_int_equal(rx.stats.malformed, 3);
    assert_int_equal(rx.stats.ok, 0);
    const uint8_t empty[] = {LINK_SLIP_END, LINK_SLIP_END, LINK_SLIP_END};
    assert_int_equal(feed(&rx, empty, sizeof empty, &f), 0); /* no frame, not bad */
    assert_int_equal(rx.stats.malformed, 3);
}

static void oversize_dropped_then_resynchronised(void **state)
{
    (void)state;
    static struct link_rx rx;
    link_rx_init(&rx);
    struct link_frame f;
    for (size_t i = 0; i < 3 * LINK_FRAME_MAX; i++)
        assert_false(link_rx_byte(&rx, 'A', &f));
    const uint8_t end = LINK_SLIP_END;
    assert_int_equal(feed(&rx, &end, 1, &f), 0);
    assert_int_equal(rx.stats.oversize, 1);
    static struct sink s;
    good_frame(&s);
    assert_int_equal(feed(&rx, s.buf, s.len, &f), 1);
}

static void header_fields_are_checked(void **state)
{
    (void)state;
    static struct sink s;
    struct link_hdr h = dgram_hdr();
    h.channel = LINK_CH_COUNT;
    s.len = 0;
    assert_int_equal(link_encode(&h, NULL, 0, sink_put, &s), COAPS_E_INVALID);
    h = dgram_hdr();
    h.family = LINK_AF_NONE;
    assert_int_equal(link_encode(&h, NULL, 0, sink_put, &s), COAPS_E_INVALID);
    struct link_hdr log;
    memset(&log, 0, sizeof log);
    log.type = LINK_T_LOG;
    assert_int_equal(link_encode(&log, (const uint8_t *)"hi", 2, sink_put, &s), COAPS_OK);
    static struct link_rx rx;
    link_rx_init(&rx);
    struct link_frame f;
    assert_int_equal(feed(&rx, s.buf, s.len, &f), 1);
    assert_int_equal(f.hdr.type, LINK_T_LOG);
    assert_memory_equal(f.payload, "hi", 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crc32_check_value),
        cmocka_unit_test(round_trip_escapes_end_and_esc),
        cmocka_unit_test(largest_payload_passes_one_more_is_refused),
        cmocka_unit_test(bad_crc_dropped_and_counted),
        cmocka_unit_test(garbage_truncated_and_bad_escape_are_malformed),
        cmocka_unit_test(oversize_dropped_then_resynchronised),
        cmocka_unit_test(header_fields_are_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
