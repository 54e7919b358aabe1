/* frame.c - SLIP framing with a peer header and a CRC (see frame.h). */
#include "link/frame.h"

#include <string.h>

#include "common/try.h"
#include "common/wire.h"

/* CRC-32, reflected polynomial 0xEDB88320 (IEEE 802.3), four bits at a
 * time: entry i is the CRC register after shifting nibble i through the
 * polynomial. 64 bytes of table instead of 1 KiB keeps flash small on the
 * device, at two lookups a byte. */
static const uint32_t crc_nibble[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
    0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
    0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

uint32_t link_crc32(uint32_t crc, const uint8_t *data, size_t len)
{
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= data[i];
        crc = (crc >> 4) ^ crc_nibble[crc & 0xFu];
        crc = (crc >> 4) ^ crc_nibble[crc & 0xFu];
    }
    return ~crc;
}

void link_rx_init(struct link_rx *rx)
{
    memset(rx, 0, sizeof *rx);
}

static void rx_reset(struct link_rx *rx)
{
    rx->len = 0;
    rx->esc = false;
    rx->overflow = false;
    rx->bad_esc = false;
}

static bool hdr_valid(const struct link_hdr *h)
{
    if (h->type == LINK_T_LOG || h->type == LINK_T_READY)
        return h->family == LINK_AF_NONE;
    if (h->type != LINK_T_DATAGRAM || h->channel >= LINK_CH_COUNT)
        return false;
    return h->family == LINK_AF_INET || h->family == LINK_AF_INET6;
}

static coaps_status hdr_read(struct wire_rd *r, struct link_hdr *h)
{
    uint8_t reserved;
    TRY(wire_rd_u8(r, &h->type));
    TRY(wire_rd_u8(r, &h->channel));
    TRY(wire_rd_u8(r, &h->family));
    TRY(wire_rd_u8(r, &reserved));
    TRY(wire_rd_bytes(r, h->addr, sizeof h->addr));
    TRY(wire_rd_u16(r, &h->port));
    ENSURE(reserved == 0 && hdr_valid(h), COAPS_E_MALFORMED);
    return COAPS_OK;
}

/* A whole unescaped frame is in rx->buf: check and split it. */
static coaps_status rx_finish(struct link_rx *rx, struct link_frame *out)
{
    ENSURE(rx->len >= LINK_HDR_LEN + LINK_CRC_LEN, COAPS_E_MALFORMED);
    size_t body = rx->len - LINK_CRC_LEN;
    struct wire_rd crc_rd = wire_rd_init(rx->buf + body, LINK_CRC_LEN);
    uint32_t want;
    TRY(wire_rd_u32(&crc_rd, &want));
    ENSURE(link_crc32(0, rx->buf, body) == want, COAPS_E_AUTH);
    struct wire_rd r = wire_rd_init(rx->buf, body);
    TRY(hdr_read(&r, &out->hdr));
    out->payload = rx->buf + r.off; /* writable: a device may decrypt it in place */
    out->len = wire_rd_left(&r);
    return COAPS_OK;
}

static bool rx_end(struct link_rx *rx, struct link_frame *out)
{
    if (rx->len == 0 && !rx->overflow && !rx->bad_esc && !rx->esc)
        return false; /* back-to-back ENDs: no frame */
    coaps_status st = COAPS_E_MALFORMED;
    if (rx->overflow)
        st = COAPS_E_NOSPACE;
    else if (!rx->bad_esc && !rx->esc)
        st = rx_finish(rx, out);
    rx_reset(rx);
    if (st == COAPS_OK)
        rx->stats.ok++;
    else if (st == COAPS_E_AUTH)
        rx->stats.bad_crc++;
    else if (st == COAPS_E_NOSPACE)
        rx->stats.oversize++;
    else
        rx->stats.malformed++;
    return st == COAPS_OK;
}

static uint8_t rx_unescape(struct link_rx *rx, uint8_t byte)
{
    rx->esc = false;
    if (byte == LINK_SLIP_ESC_END)
        return LINK_SLIP_END;
    if (byte == LINK_SLIP_ESC_ESC)
        return LINK_SLIP_ESC;
    rx->bad_esc = true; /* RFC 1055 leaves it open; we drop the frame */
    return byte;
}

bool link_rx_byte(struct link_rx *rx, uint8_t byte, struct link_frame *out)
{
    if (byte == LINK_SLIP_END)
        return rx_end(rx, out);
    if (byte == LINK_SLIP_ESC && !rx->esc) {
        rx->esc = true;
        return false;
    }
    if (rx->esc)
        byte = rx_unescape(rx, byte);
    if (rx->len >= sizeof rx->buf) {
        rx->overflow = true; /* keep discarding until END resynchronises */
        return false;
    }
    rx->buf[rx->len++] = byte;
    return false;
}

static void put_escaped(link_put_fn put, void *ctx, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == LINK_SLIP_END) {
            put(ctx, LINK_SLIP_ESC);
            put(ctx, LINK_SLIP_ESC_END);
        } else if (p[i] == LINK_SLIP_ESC) {
            put(ctx, LINK_SLIP_ESC);
            put(ctx, LINK_SLIP_ESC_ESC);
        } else {
            put(ctx, p[i]);
        }
    }
}

static coaps_status hdr_write(const struct link_hdr *h, uint8_t out[LINK_HDR_LEN])
{
    ENSURE(hdr_valid(h), COAPS_E_INVALID);
    struct wire_wr w = wire_wr_init(out, LINK_HDR_LEN);
    TRY(wire_wr_u8(&w, h->type));
    TRY(wire_wr_u8(&w, h->channel));
    TRY(wire_wr_u8(&w, h->family));
    TRY(wire_wr_u8(&w, 0));
    TRY(wire_wr_bytes(&w, h->addr, sizeof h->addr));
    return wire_wr_u16(&w, h->port);
}

coaps_status link_encode(const struct link_hdr *hdr, const uint8_t *payload, size_t len,
                         link_put_fn put, void *ctx)
{
    ENSURE(len <= LINK_PAYLOAD_MAX && (payload != NULL || len == 0), COAPS_E_INVALID);
    uint8_t head[LINK_HDR_LEN];
    TRY(hdr_write(hdr, head));
    uint32_t crc = link_crc32(link_crc32(0, head, sizeof head), payload, len);
    uint8_t tail[LINK_CRC_LEN];
    struct wire_wr w = wire_wr_init(tail, sizeof tail);
    TRY(wire_wr_u32(&w, crc));
    put(ctx, LINK_SLIP_END);
    put_escaped(put, ctx, head, sizeof head);
    put_escaped(put, ctx, payload, len);
    put_escaped(put, ctx, tail, sizeof tail);
    put(ctx, LINK_SLIP_END);
    return COAPS_OK;
}
