/*
 * frame.h - datagrams over a serial line: the framing between the firmware
 * and the host bridge (docs/firmware.md has the byte layout).
 *
 * A frame is SLIP (RFC 1055: END 0xC0 ends a frame, ESC 0xDB escapes END
 * and ESC in the data) around
 *
 *   type(1) channel(1) family(1) reserved(1) addr(16) port(2)  payload  crc32(4)
 *
 * so one UART carries the datagrams of every peer on both coap:// and
 * coaps://, and the bridge needs no table: the peer's address rides along.
 * The CRC (IEEE 802.3 CRC-32, big-endian, over header and payload) catches
 * line noise that SLIP alone would deliver as a datagram.
 *
 * Sans-IO like the cores: the decoder takes bytes one at a time and says
 * when a frame is complete; the encoder hands each byte to a callback. Both
 * sides of the line share this code, and count what they drop.
 */
#ifndef COAPS_LINK_FRAME_H
#define COAPS_LINK_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coaps/status.h"

/* RFC 1055 special characters. */
#define LINK_SLIP_END 0xC0u
#define LINK_SLIP_ESC 0xDBu
#define LINK_SLIP_ESC_END 0xDCu
#define LINK_SLIP_ESC_ESC 0xDDu

/* Largest datagram a frame carries: the IPv6 minimum MTU less the IPv6 and
 * UDP headers (1280 - 40 - 8), which RFC 7252 4.6 and RFC 6347 4.1.1.1 take
 * as the datagram size that needs no fragmentation. A bigger UDP datagram is
 * dropped by the bridge, a bigger frame by the decoder. */
#define LINK_PAYLOAD_MAX 1232u
#define LINK_ADDR_MAX 16u  /* an IPv6 address; IPv4 uses the first 4 bytes */
#define LINK_HDR_LEN 22u   /* type, channel, family, reserved, addr, port */
#define LINK_CRC_LEN 4u
#define LINK_FRAME_MAX (LINK_HDR_LEN + LINK_PAYLOAD_MAX + LINK_CRC_LEN)
/* Largest datagram this side's decoder takes (struct link_rx): the whole
 * LINK_PAYLOAD_MAX on the host; a device sets it (-D) to the largest
 * datagram it can use, and a longer frame is dropped as oversize. */
#ifndef LINK_RX_PAYLOAD_MAX
#define LINK_RX_PAYLOAD_MAX LINK_PAYLOAD_MAX
#endif
_Static_assert(LINK_RX_PAYLOAD_MAX <= LINK_PAYLOAD_MAX, "a decoder takes at most a frame");
#define LINK_RX_FRAME_MAX (LINK_HDR_LEN + LINK_RX_PAYLOAD_MAX + LINK_CRC_LEN)

enum link_type {
    LINK_T_DATAGRAM = 1, /* a UDP datagram, either direction */
    LINK_T_LOG = 2,      /* firmware -> host: one line of text, no peer */
    LINK_T_READY = 3,    /* firmware -> host: up; payload = the channels
                            served, one byte each (enum link_channel) */
};

enum link_channel {
    LINK_CH_COAP = 0,  /* coap://  (bridge: the CoAP port, default 5683) */
    LINK_CH_COAPS = 1, /* coaps:// (bridge: the CoAPS port, default 5684) */
    LINK_CH_COUNT = 2,
};

enum link_family {
    LINK_AF_NONE = 0, /* LINK_T_LOG, LINK_T_READY */
    LINK_AF_INET = 4,
    LINK_AF_INET6 = 6,
};

struct link_hdr {
    uint8_t type;    /* enum link_type */
    uint8_t channel; /* enum link_channel */
    uint8_t family;  /* enum link_family */
    uint8_t addr[LINK_ADDR_MAX];
    uint16_t port;
};

/* What a decoder dropped, by reason. A frame counts once. */
struct link_stats {
    uint32_t ok;        /* frames delivered */
    uint32_t bad_crc;   /* CRC mismatch */
    uint32_t oversize;  /* longer than LINK_RX_FRAME_MAX */
    uint32_t malformed; /* shorter than header + CRC, bad escape, bad header */
};

/* Streaming decoder. buf holds the unescaped bytes of the frame so far. */
struct link_rx {
    uint8_t buf[LINK_RX_FRAME_MAX];
    size_t len;
    bool esc;      /* the previous byte was ESC */
    bool overflow; /* this frame grew past LINK_RX_FRAME_MAX: drop at END */
    bool bad_esc;  /* ESC followed by something else: drop at END */
    struct link_stats stats;
};

/* A decoded frame; payload points into the decoder's buffer and stays valid
 * (and the caller's to change, e.g. to decrypt a record in place) until
 * the next link_rx_byte(). */
struct link_frame {
    struct link_hdr hdr;
    uint8_t *payload;
    size_t len;
};

void link_rx_init(struct link_rx *rx);

/* Feed one byte from the line. true when it completed a good frame (then
 * *out is set); bad frames are counted in rx->stats and dropped. An END
 * with nothing before it (RFC 1055's leading END) is not a frame. */
bool link_rx_byte(struct link_rx *rx, uint8_t byte, struct link_frame *out);

/* Receives each byte of an encoded frame, in order. */
typedef void (*link_put_fn)(void *ctx, uint8_t byte);

/* Encode one frame: END, escaped header + payload + CRC, END. The leading
 * END flushes any noise the receiver has buffered (RFC 1055).
 * COAPS_E_INVALID for a payload over LINK_PAYLOAD_MAX or a bad header. */
coaps_status link_encode(const struct link_hdr *hdr, const uint8_t *payload, size_t len,
                         link_put_fn put, void *ctx);

/* Bytes link_encode() emits at most for a payload of len bytes (every byte
 * escaped): for buffers on the host side. */
#define LINK_ENCODED_MAX(len) (2u + 2u * (LINK_HDR_LEN + (len) + LINK_CRC_LEN))

/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32()): crc = 0 to start. */
uint32_t link_crc32(uint32_t crc, const uint8_t *data, size_t len);

#endif /* COAPS_LINK_FRAME_H */
