/*
 * fragment.h - cutting outgoing handshake messages into fragments
 * (RFC 6347 4.2.3).
 *
 * The engine keeps each message of its current flight as a whole body (for
 * retransmission, RFC 6347 4.2.4) and, per datagram it builds, asks a
 * struct dtls_frag_src for the next fragment that fits: header + bytes are
 * written through a wire_wr, so several fragments or messages can share one
 * datagram/record and each fits the path MTU.
 *
 * Ownership: a dtls_frag_src borrows `body`; the caller keeps it alive and
 * unchanged while fragments are written. No allocation, no state elsewhere.
 */
#ifndef COAPS_DTLS_FRAGMENT_H
#define COAPS_DTLS_FRAGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coaps/status.h"
#include "common/wire.h"
#include "dtls/handshake_msg.h"

/* Cursor over one message being sent in fragments. */
struct dtls_frag_src {
    const uint8_t *body; /* whole message body (borrowed) */
    size_t len;          /* body length, <= DTLS_HS_MSG_MAX */
    size_t off;          /* next body byte to send */
    uint16_t message_seq;
    uint8_t msg_type;
    bool started;        /* a fragment was written (matters when len == 0) */
};

/* Set up a cursor over a message; sending starts at offset 0. Returns
 * COAPS_E_INVALID when len > DTLS_HS_MSG_MAX or body is NULL with len > 0.
 * Call again (or dtls_frag_rewind) to retransmit the message. */
coaps_status dtls_frag_init(struct dtls_frag_src *f, uint8_t msg_type, uint16_t message_seq,
                            const uint8_t *body, size_t len);

/* Start over at offset 0 (retransmission of the flight). */
void dtls_frag_rewind(struct dtls_frag_src *f);

/* true once every byte was written (for an empty body: once its single
 * zero-length fragment was written). */
bool dtls_frag_done(const struct dtls_frag_src *f);

/*
 * Write the next fragment into w: a 12-byte header (fragment_offset = f->off)
 * followed by n = min(bytes left, max_payload, wire_wr_left(w) - 12) body
 * bytes, then advance. max_payload bounds the fragment payload (e.g. path
 * MTU minus record and datagram overheads); 0 means "no limit but w".
 *
 * Returns COAPS_OK and sets *written (if non-NULL) to the fragment payload
 * length n; COAPS_E_NOSPACE when w cannot hold the header plus at least one
 * body byte (or the header alone for an empty body) - w is then unchanged
 * and the caller sends the datagram and retries in a fresh one;
 * COAPS_E_STATE when the message is already done.
 */
coaps_status dtls_frag_write(struct dtls_frag_src *f, struct wire_wr *w, size_t max_payload,
                             size_t *written);

/* Write a whole message with its header (offset 0, fragment_length =
 * length): the unfragmented wire form, and exactly the bytes RFC 6347 4.2.6
 * puts in the handshake transcript. COAPS_E_INVALID when len >
 * DTLS_HS_MSG_MAX; COAPS_E_NOSPACE (w unchanged) when it does not fit. */
coaps_status dtls_frag_write_whole(struct wire_wr *w, uint8_t msg_type, uint16_t message_seq,
                                   const uint8_t *body, size_t len);

#endif /* COAPS_DTLS_FRAGMENT_H */
