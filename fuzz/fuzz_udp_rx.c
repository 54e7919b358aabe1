/* fuzz_udp_rx.c - walking a receive buffer (net_rx_next, src/net/udp.c):
 * one datagram, or with UDP_GRO several of a segment size the kernel gives
 * in a control message, or a truncated one.
 *
 * Input: [flags u8: bit 0 truncated][seg u16][max u16][bytes...]; the
 * bytes are the buffer (at most NET_UDP_RX_MAX). Checked: every datagram
 * handed out lies inside the buffer, is at most max long, follows the one
 * before, and is a whole segment (the last may be shorter); datagrams out
 * plus datagrams dropped never exceed the segments there are; the walk
 * ends and stays ended. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/udp.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct net_rx_dgram d;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    d.truncated = (data[0] & 1) != 0;
    d.seg = (size_t)data[1] << 8 | data[2];
    size_t max = (size_t)data[3] << 8 | data[4];
    d.len = size - 5 < sizeof d.data ? size - 5 : sizeof d.data;
    memcpy(d.data, data + 5, d.len);

    size_t segments = d.seg ? (d.len + d.seg - 1) / d.seg : 1;
    size_t off = 0, len, dropped = 0, out = 0, end = 0, total = 0;
    const uint8_t *p;
    while (net_rx_next(&d, &off, max, &p, &len, &dropped)) {
        CHECK(p >= d.data && p + len <= d.data + d.len);
        CHECK(len <= max);
        CHECK((size_t)(p - d.data) >= end); /* in order, never overlapping */
        if (d.seg)
            CHECK(len == d.seg || p + len == d.data + d.len);
        else
            CHECK(p == d.data && len == d.len);
        end = (size_t)(p - d.data) + len;
        total += len;
        out++;
        CHECK(out + dropped <= segments);
    }
    CHECK(!d.truncated || out == 0);
    CHECK(out + dropped <= (segments ? segments : 1));
    CHECK(total <= d.len);
    CHECK(!net_rx_next(&d, &off, max, &p, &len, &dropped)); /* stays ended */
    return 0;
}
