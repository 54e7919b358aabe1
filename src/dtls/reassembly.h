/*
 * reassembly.h - ordering and reassembly of incoming handshake messages
 * (RFC 6347 4.2.2 and 4.2.3).
 *
 * The engine embeds one struct dtls_reasm in each handshake context (the
 * caller owns the memory; the struct is some 170 bytes, at most
 * DTLS_REASM_SIZE_MAX, and works in an arena the caller gives to
 * dtls_reasm_init: a small one for PSK handshakes, DTLS_REASM_ARENA_BYTES
 * where a certificate chain may come) and feeds it every handshake
 * fragment it reads (dtls_hs_header_read). The structure:
 *   - knows next_receive_seq (RFC 6347 4.2.2);
 *   - buffers fragments of messages with message_seq in
 *     [next, next + DTLS_REASM_WINDOW), each in a slot of a shared byte
 *     arena with a received-bytes bitmap;
 *   - reports fragments with message_seq < next as old (COAPS_E_DUPLICATE:
 *     the peer is retransmitting, so the engine may resend its last flight,
 *     RFC 6347 4.2.4) and drops fragments too far ahead;
 *   - hands out complete messages strictly in message_seq order
 *     (dtls_reasm_next), after which the slot is freed and next advances.
 * A whole (unfragmented) message with message_seq == next takes a fast path:
 * it is not copied; dtls_reasm_next() returns a view of the caller's
 * fragment bytes (see the lifetime rule at dtls_reasm_add).
 *
 * Overlapping fragments are allowed (RFC 6347 4.2.3); the first bytes
 * received for a position win and later copies of it are ignored. All
 * fragments of one message_seq must agree on msg_type and length; a
 * fragment that disagrees is dropped and reported.
 */
#ifndef COAPS_DTLS_REASSEMBLY_H
#define COAPS_DTLS_REASSEMBLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coaps/status.h"
#include "dtls/handshake_msg.h"

/* Messages buffered at once: message_seq in [next, next + 5). The longest
 * flight a peer sends us is the certificate-based server flight 4 of RFC
 * 6347 4.2.4 (ServerHello, Certificate, ServerKeyExchange,
 * CertificateRequest, ServerHelloDone) = 5 messages; a whole flight
 * arriving in any order therefore fits. */
#define DTLS_REASM_WINDOW 5

/* Bytes of an arena that holds one message of DTLS_HS_MSG_MAX (a peer's
 * certificate chain) with its bitmap (one bit per body byte): the arena of
 * a handshake context's certificate area. A PSK flight needs well under
 * 1 KiB, and a PSK-only context gives a smaller arena (conn.h). */
#ifndef DTLS_REASM_ARENA_BYTES
#define DTLS_REASM_ARENA_BYTES (DTLS_HS_MSG_MAX + DTLS_HS_MSG_MAX / 8)
#endif

/* One complete message handed out by dtls_reasm_next(). */
struct dtls_hs_msg {
    uint8_t msg_type;
    uint16_t message_seq;
    const uint8_t *body; /* len bytes; see dtls_reasm_next for lifetime */
    size_t len;
};

/* Counters of dropped fragments, for logs and tests. */
struct dtls_reasm_stats {
    uint32_t old;       /* message_seq < next (retransmission) */
    uint32_t future;    /* message_seq >= next + DTLS_REASM_WINDOW */
    uint32_t conflict;  /* type or length disagree with earlier fragments */
    uint32_t malformed; /* offset + length past the message length */
    uint32_t too_large; /* message length > DTLS_HS_MSG_MAX */
    uint32_t no_space;  /* arena full: dropped, the peer will retransmit */
};

/* Internal: a message being reassembled. */
struct dtls_reasm_slot {
    bool used;
    bool complete;
    uint8_t msg_type;
    uint16_t message_seq;
    uint32_t length;   /* message body length */
    uint32_t received; /* distinct body bytes received so far */
    uint32_t at;       /* arena offset: body, then bitmap of (length+7)/8 bytes */
};

/* Treat as opaque; fields are internal. */
struct dtls_reasm {
    uint32_t next_seq; /* next_receive_seq; 32 bits so it may pass 65535 */
    uint32_t arena_used; /* slot regions are packed from 0 */
    uint32_t arena_cap;
    uint8_t *arena;      /* the caller's, arena_cap bytes */
    struct dtls_reasm_slot slots[DTLS_REASM_WINDOW];
    int released; /* slot to free at the next call, or -1 */
    struct {      /* the zero-copy fast path, at most one message */
        bool pending;
        uint8_t msg_type;
        uint16_t message_seq;
        const uint8_t *body;
        size_t len;
    } direct;
    struct dtls_reasm_stats stats;
};

/* Upper bound on sizeof(struct dtls_reasm) promised to the engine. */
#define DTLS_REASM_SIZE_MAX 256

/* Smallest arena dtls_reasm_init takes: a ServerHello or a PSK
 * ClientKeyExchange, fragmented. */
#define DTLS_REASM_ARENA_MIN 256

/* (Re)start for a new handshake: forget everything, expect next_seq next
 * (0 for a client; a server that verified the cookie of a ClientHello with
 * message_seq s uses s and then adds that ClientHello, RFC 6347 4.2.2).
 * Counters are zeroed. Fragments are reassembled in arena (arena_cap
 * bytes, at least DTLS_REASM_ARENA_MIN, at most DTLS_REASM_ARENA_BYTES:
 * a message with its bitmap must fit), which stays the caller's and must
 * live as long as r is used; it needs no zeroing. */
void dtls_reasm_init(struct dtls_reasm *r, uint8_t *arena, size_t arena_cap, uint16_t next_seq);

/*
 * Add one fragment (header h as read by dtls_hs_header_read, and its
 * h->fragment_length bytes at frag).
 *
 * Returns
 *   COAPS_OK            accepted (possibly nothing new); call
 *                       dtls_reasm_next() until COAPS_E_AGAIN;
 *   COAPS_E_DUPLICATE   message_seq < next: an old message, retransmitted
 *                       by the peer (RFC 6347 4.2.4), not stored;
 *   COAPS_E_FULL        message_seq too far ahead, or no arena room
 *                       (a message larger than the arena never fits):
 *                       dropped (the peer retransmits);
 *   COAPS_E_MALFORMED   fragment_offset + fragment_length > length, or the
 *                       type/length disagree with earlier fragments of the
 *                       same message_seq: dropped;
 *   COAPS_E_UNSUPPORTED length > DTLS_HS_MSG_MAX: dropped;
 *   COAPS_E_INVALID     NULL arguments.
 * Each drop is counted in r->stats.
 *
 * Lifetime rule of the fast path: when this call returns COAPS_OK for a
 * whole message with message_seq == next, frag is referenced, not copied,
 * until dtls_reasm_next() returns it. Keep the datagram buffer alive until
 * dtls_reasm_next() says COAPS_E_AGAIN (the natural loop: read a datagram,
 * add each fragment and drain with dtls_reasm_next()).
 */
coaps_status dtls_reasm_add(struct dtls_reasm *r, const struct dtls_hs_header *h,
                            const uint8_t *frag);

/*
 * Take the next complete message in message_seq order.
 * Returns COAPS_OK and fills *msg (next_receive_seq has then advanced), or
 * COAPS_E_AGAIN when message next is not complete yet.
 * msg->body is valid until the next call of any dtls_reasm_* function on r
 * (and, for the fast path, while the caller's fragment buffer lives).
 */
coaps_status dtls_reasm_next(struct dtls_reasm *r, struct dtls_hs_msg *msg);

/* The next message_seq expected (next_receive_seq). */
static inline uint32_t dtls_reasm_next_seq(const struct dtls_reasm *r)
{
    return r->next_seq;
}

/* true when some fragment of a not-yet-delivered message is held. */
bool dtls_reasm_has_partial(const struct dtls_reasm *r);

#endif /* COAPS_DTLS_REASSEMBLY_H */
