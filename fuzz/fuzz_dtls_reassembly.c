/* fuzz_dtls_reassembly.c - a sequence of arbitrary handshake fragments into
 * the reassembly (src/dtls/reassembly.c, RFC 6347 4.2.2/4.2.3).
 *
 * Input: byte 0 = initial next_receive_seq (0..3); then records of
 *   [type u8][seq u8][length u16][offset u16][frag_len u16][frag bytes]
 * where seq is relative to next_receive_seq minus 2 (so old, current,
 * ahead and too-far-ahead all occur) and the fragment bytes are taken from
 * the input (fewer if it ends). Checked: no crash/UB, messages come out in
 * message_seq order with their declared length, the arena stays bounded. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dtls/reassembly.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dtls_reasm reasm;
static uint8_t arena[DTLS_REASM_ARENA_BYTES];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wire_rd r = wire_rd_init(data, size);
    uint8_t first;
    if (wire_rd_u8(&r, &first) != COAPS_OK)
        return 0;
    dtls_reasm_init(&reasm, arena, sizeof arena, first & 3);
    uint32_t expect = first & 3;
    for (;;) {
        uint8_t type, seq;
        uint16_t len, off, flen;
        if (wire_rd_u8(&r, &type) || wire_rd_u8(&r, &seq) || wire_rd_u16(&r, &len) ||
            wire_rd_u16(&r, &off) || wire_rd_u16(&r, &flen))
            break;
        if (flen > wire_rd_left(&r))
            flen = (uint16_t)wire_rd_left(&r);
        const uint8_t *frag;
        CHECK(wire_rd_view(&r, flen, &frag) == COAPS_OK);
        int64_t s = (int64_t)dtls_reasm_next_seq(&reasm) + seq % 12 - 2;
        if (s < 0 || s > 0xffff)
            continue;
        struct dtls_hs_header h = {type, len, (uint16_t)s, off, flen};
        coaps_status st = dtls_reasm_add(&reasm, &h, frag);
        CHECK(st == COAPS_OK || st == COAPS_E_DUPLICATE || st == COAPS_E_FULL ||
              st == COAPS_E_MALFORMED || st == COAPS_E_UNSUPPORTED);
        CHECK(reasm.arena_used <= DTLS_REASM_ARENA_BYTES);
        struct dtls_hs_msg m;
        while (dtls_reasm_next(&reasm, &m) == COAPS_OK) {
            CHECK(m.message_seq == expect);
            CHECK(m.len <= DTLS_HS_MSG_MAX);
            CHECK(m.len == 0 || m.body != NULL);
            /* touch every byte so ASan sees a bad view */
            volatile uint8_t sink = 0;
            for (size_t i = 0; i < m.len; i++)
                sink ^= m.body[i];
            (void)sink;
            expect++;
        }
        CHECK(dtls_reasm_next_seq(&reasm) == expect);
    }
    return 0;
}
