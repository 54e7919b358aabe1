/*
 * coaps/coap.h - the sans-IO CoAP core: RFC 7252 (messages, options,
 * message layer), RFC 7641 (Observe), RFC 7959 (block-wise), RFC 6690
 * (/.well-known/core) and RFC 8132 (FETCH, PATCH, iPATCH).
 *
 * The core never touches sockets, clocks or the heap. The caller
 *   - hands it every received datagram:      coaps_coap_input()
 *   - takes out every datagram it wants sent: coaps_coap_output()
 *     (loop until COAPS_E_AGAIN after each input, tick or API call)
 *   - asks when it wants to run next:        coaps_coap_next_deadline()
 *   - and then calls:                        coaps_coap_tick()
 * Time is a uint64_t of milliseconds on any monotonic clock, passed in.
 * The same endpoint works over UDP and over DTLS: it only sees a coaps_peer
 * (include/coaps/peer.h) and plaintext datagrams.
 *
 * Memory: the caller owns it. coaps_coap_endpoint_size(&cfg) says how many
 * bytes an endpoint with that configuration needs; coaps_coap_endpoint_init()
 * lays the endpoint out in them. Nothing else is allocated, ever.
 * Footprint (64-bit): about 0.4 KiB fixed, plus per entry
 *   dedup_peers    x (56 + dedup_per_peer x 16 + max_message_size)
 *                  + 4..8 x dedup_peers (hash index)  messages seen, replies
 *   outq_entries   x (48 + max_message_size)
 *   max_exchanges  x (192 + max_message_size)
 *   body_slots     x (80 + max_body_size)
 *   max_observers  x 328,  (max_resources + 1) x 152
 *   + max_message_size + max_body_size         scratch buffers
 * The defaults of coaps_coap_config_default() come to about 318 KiB (of
 * which 64 dedup peers x 1.4 KiB); a small device configuration (4 dedup
 * peers x 4 Message IDs, 8 outq, 4 exchanges, 4 observers, 8 resources,
 * 1 body of 1024, 256-byte messages, 128-byte blocks) to about 11 KiB.
 * coaps_coap_endpoint_size() is the authority. The dedup slots are at the
 * end of the block and coaps_coap_endpoint_init() does not touch them: a
 * slot's memory is first written when a peer takes it, so with an OS that
 * maps pages on first touch the RSS grows with the peers actually heard
 * from, up to the bound.
 *
 * A typical event loop at the edge:
 *
 *   coaps_coap_config cfg;
 *   coaps_coap_config_default(&cfg);
 *   cfg.random = my_random_u32;              // e.g. getrandom()-backed
 *   size_t n = coaps_coap_endpoint_size(&cfg);
 *   void *mem = malloc(n);
 *   coaps_coap_endpoint *ep;
 *   coaps_coap_endpoint_init(mem, n, &cfg, &ep);
 *   coaps_coap_resource_add(ep, &def, &res); // before or while running
 *   for (;;) {
 *       wait for a datagram, at most until coaps_coap_next_deadline(ep);
 *       if (got one) coaps_coap_input(ep, &from, buf, len, now);
 *       coaps_coap_tick(ep, now);            // cheap when nothing is due
 *       while (coaps_coap_output(ep, &to, out, sizeof out, &olen, now) == COAPS_OK)
 *           send out[0..olen) to `to`;
 *   }
 *
 * Threading: an endpoint is not thread-safe; use it from one thread (the
 * event loop). Handlers and client callbacks run inside coaps_coap_input()
 * or coaps_coap_tick() on that thread; they must not call
 * coaps_coap_input/tick/output themselves, but may call every other API
 * function (e.g. coaps_coap_resource_notify, coaps_coap_deferred_respond,
 * coaps_coap_request_send).
 */
#ifndef COAPS_COAP_H
#define COAPS_COAP_H

#include "coaps/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coaps/peer.h"
#include "coaps/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Constants (RFC 7252 unless stated)
 * ---------------------------------------------------------------------- */

/* RFC 7252 3: Token Length 0-8; 9-15 are a message format error. */
#define COAPS_COAP_TOKEN_MAX 8
/* Options one message may carry. Real requests carry a handful (Uri-Path
 * segments, Uri-Query, Content-Format, Block, Observe); 32 leaves room for
 * deep paths. A CON request with more is answered 4.02 Bad Option (we
 * cannot process all of its options), see coaps_coap_input(). */
#define COAPS_COAP_MAX_OPTIONS 32
/* RFC 7252 3.1: largest option value length the format can express
 * (14-nibble: 269 + 65535). */
#define COAPS_COAP_OPTION_LEN_MAX 65804u
/* RFC 7252 3.1: largest option number the format can express. */
#define COAPS_COAP_OPTION_NUMBER_MAX 65804u
/* Bytes of the in-struct value store of an option built by
 * coaps_coap_msg_add_uint(): uint options are at most 4 bytes (Max-Age,
 * Size1/2; RFC 7252 5.10 table). */
#define COAPS_COAP_OPTION_INLINE 4

/* Message types, RFC 7252 3. */
enum coaps_coap_type {
    COAPS_COAP_CON = 0,
    COAPS_COAP_NON = 1,
    COAPS_COAP_ACK = 2,
    COAPS_COAP_RST = 3,
};

/* Codes, RFC 7252 3 / 12.1: class in the top 3 bits, detail in the low 5. */
#define COAPS_COAP_CODE(c, dd) ((uint8_t)(((c) << 5) | (dd)))
#define COAPS_COAP_CODE_CLASS(code) ((uint8_t)(code) >> 5)
#define COAPS_COAP_CODE_DETAIL(code) ((uint8_t)(code)&0x1f)

enum coaps_coap_code {
    COAPS_COAP_EMPTY = COAPS_COAP_CODE(0, 0),
    /* methods: RFC 7252 12.1.1, RFC 8132 */
    COAPS_COAP_GET = COAPS_COAP_CODE(0, 1),
    COAPS_COAP_POST = COAPS_COAP_CODE(0, 2),
    COAPS_COAP_PUT = COAPS_COAP_CODE(0, 3),
    COAPS_COAP_DELETE = COAPS_COAP_CODE(0, 4),
    COAPS_COAP_FETCH = COAPS_COAP_CODE(0, 5),
    COAPS_COAP_PATCH = COAPS_COAP_CODE(0, 6),
    COAPS_COAP_IPATCH = COAPS_COAP_CODE(0, 7),
    /* responses: RFC 7252 12.1.2, RFC 7959 2.9, RFC 8132 */
    COAPS_COAP_CREATED = COAPS_COAP_CODE(2, 1),
    COAPS_COAP_DELETED = COAPS_COAP_CODE(2, 2),
    COAPS_COAP_VALID = COAPS_COAP_CODE(2, 3),
    COAPS_COAP_CHANGED = COAPS_COAP_CODE(2, 4),
    COAPS_COAP_CONTENT = COAPS_COAP_CODE(2, 5),
    COAPS_COAP_CONTINUE = COAPS_COAP_CODE(2, 31),
    COAPS_COAP_BAD_REQUEST = COAPS_COAP_CODE(4, 0),
    COAPS_COAP_UNAUTHORIZED = COAPS_COAP_CODE(4, 1),
    COAPS_COAP_BAD_OPTION = COAPS_COAP_CODE(4, 2),
    COAPS_COAP_FORBIDDEN = COAPS_COAP_CODE(4, 3),
    COAPS_COAP_NOT_FOUND = COAPS_COAP_CODE(4, 4),
    COAPS_COAP_METHOD_NOT_ALLOWED = COAPS_COAP_CODE(4, 5),
    COAPS_COAP_NOT_ACCEPTABLE = COAPS_COAP_CODE(4, 6),
    COAPS_COAP_REQUEST_ENTITY_INCOMPLETE = COAPS_COAP_CODE(4, 8),
    COAPS_COAP_CONFLICT = COAPS_COAP_CODE(4, 9),
    COAPS_COAP_PRECONDITION_FAILED = COAPS_COAP_CODE(4, 12),
    COAPS_COAP_REQUEST_ENTITY_TOO_LARGE = COAPS_COAP_CODE(4, 13),
    COAPS_COAP_UNSUPPORTED_CONTENT_FORMAT = COAPS_COAP_CODE(4, 15),
    COAPS_COAP_UNPROCESSABLE_ENTITY = COAPS_COAP_CODE(4, 22),
    COAPS_COAP_INTERNAL_SERVER_ERROR = COAPS_COAP_CODE(5, 0),
    COAPS_COAP_NOT_IMPLEMENTED = COAPS_COAP_CODE(5, 1),
    COAPS_COAP_BAD_GATEWAY = COAPS_COAP_CODE(5, 2),
    COAPS_COAP_SERVICE_UNAVAILABLE = COAPS_COAP_CODE(5, 3),
    COAPS_COAP_GATEWAY_TIMEOUT = COAPS_COAP_CODE(5, 4),
    COAPS_COAP_PROXYING_NOT_SUPPORTED = COAPS_COAP_CODE(5, 5),
};

/* Option numbers: RFC 7252 5.10, RFC 7641 2, RFC 7959 2.1 / 4. */
enum coaps_coap_option_number {
    COAPS_COAP_OPT_IF_MATCH = 1,
    COAPS_COAP_OPT_URI_HOST = 3,
    COAPS_COAP_OPT_ETAG = 4,
    COAPS_COAP_OPT_IF_NONE_MATCH = 5,
    COAPS_COAP_OPT_OBSERVE = 6,
    COAPS_COAP_OPT_URI_PORT = 7,
    COAPS_COAP_OPT_LOCATION_PATH = 8,
    COAPS_COAP_OPT_URI_PATH = 11,
    COAPS_COAP_OPT_CONTENT_FORMAT = 12,
    COAPS_COAP_OPT_MAX_AGE = 14,
    COAPS_COAP_OPT_URI_QUERY = 15,
    COAPS_COAP_OPT_ACCEPT = 17,
    COAPS_COAP_OPT_LOCATION_QUERY = 20,
    COAPS_COAP_OPT_BLOCK2 = 23,
    COAPS_COAP_OPT_BLOCK1 = 27,
    COAPS_COAP_OPT_SIZE2 = 28,
    COAPS_COAP_OPT_PROXY_URI = 35,
    COAPS_COAP_OPT_PROXY_SCHEME = 39,
    COAPS_COAP_OPT_SIZE1 = 60,
};

/* A few Content-Format numbers (RFC 7252 12.3, RFC 6690 7.2). */
enum coaps_coap_content_format {
    COAPS_COAP_CF_TEXT_PLAIN = 0,
    COAPS_COAP_CF_LINK_FORMAT = 40,
    COAPS_COAP_CF_XML = 41,
    COAPS_COAP_CF_OCTET_STREAM = 42,
    COAPS_COAP_CF_EXI = 47,
    COAPS_COAP_CF_JSON = 50,
    COAPS_COAP_CF_CBOR = 60,
};
/* "no Content-Format / Accept / ct attribute" in the fields below. */
#define COAPS_COAP_CF_NONE (-1)

/* ------------------------------------------------------------------------
 * Message codec (RFC 7252 3). Pure functions; usable without an endpoint.
 * ---------------------------------------------------------------------- */

typedef struct coaps_coap_option {
    uint16_t number;
    /* value bytes; when NULL the value is in inline_val (set by
     * coaps_coap_msg_add_uint). Read it with coaps_coap_option_value(). */
    const uint8_t *value;
    uint32_t len;
    uint8_t inline_val[COAPS_COAP_OPTION_INLINE];
} coaps_coap_option;

/* A parsed or to-be-encoded message. A parsed message borrows the datagram:
 * option values and payload point into it, so the datagram must outlive the
 * struct. Options are kept sorted by number (stable), as on the wire. */
typedef struct coaps_coap_msg {
    uint8_t type;      /* enum coaps_coap_type */
    uint8_t code;      /* enum coaps_coap_code or any other code */
    uint16_t mid;      /* Message ID */
    uint8_t token_len; /* 0..COAPS_COAP_TOKEN_MAX */
    uint8_t token[COAPS_COAP_TOKEN_MAX];
    uint8_t opt_count;
    coaps_coap_option opts[COAPS_COAP_MAX_OPTIONS];
    const uint8_t *payload; /* NULL when payload_len == 0 */
    size_t payload_len;
} coaps_coap_msg;

/* Start an empty message (no token, options or payload). */
COAPS_API void coaps_coap_msg_init(coaps_coap_msg *m, uint8_t type, uint8_t code, uint16_t mid);

/* Parse one datagram into *m.
 * COAPS_OK; COAPS_E_TRUNCATED (fewer than 4 bytes, or a length past the
 * end); COAPS_E_MALFORMED (version != 1, token length 9-15, nibble 15
 * outside the payload marker, payload marker with no payload, code class
 * 1/3/6/7, Empty message with token/options/payload, option number past
 * 65535); COAPS_E_FULL (well-formed, but more than COAPS_COAP_MAX_OPTIONS
 * options: the first COAPS_COAP_MAX_OPTIONS are kept).
 * On failure after the 4-byte header, m->type/code/mid are still filled in
 * (and the token when readable) so that the caller can send a Reset; the
 * header fields are valid when len >= 4 and the version is 1. */
COAPS_API coaps_status coaps_coap_msg_parse(coaps_coap_msg *m, const uint8_t *dgram, size_t len);

/* Serialise *m into buf. Options must be sorted by number (they are when
 * built with the add functions). COAPS_OK and *out_len; COAPS_E_NOSPACE;
 * COAPS_E_INVALID (token_len > 8, unsorted options, value too long). */
COAPS_API coaps_status coaps_coap_msg_encode(const coaps_coap_msg *m, uint8_t *buf, size_t cap,
                                             size_t *out_len);

/* Set the token (len 0..8). COAPS_E_INVALID if longer. */
COAPS_API coaps_status coaps_coap_msg_set_token(coaps_coap_msg *m, const uint8_t *token, size_t len);

/* Insert an option, keeping the list sorted (after existing options of the
 * same number). The value is borrowed: it must outlive *m.
 * COAPS_E_FULL when COAPS_COAP_MAX_OPTIONS are present; COAPS_E_INVALID
 * when len > COAPS_COAP_OPTION_LEN_MAX. */
COAPS_API coaps_status coaps_coap_msg_add_option(coaps_coap_msg *m, uint16_t number, const void *value,
                                                 size_t len);

/* Insert a uint option in minimal length (RFC 7252 3.2: no leading zero
 * bytes; 0 is the empty value). v must fit in 4 bytes. Stored inline. */
COAPS_API coaps_status coaps_coap_msg_add_uint(coaps_coap_msg *m, uint16_t number, uint32_t v);

/* Remove every option with this number. */
COAPS_API void coaps_coap_msg_remove_option(coaps_coap_msg *m, uint16_t number);

/* Value bytes of an option (inline or borrowed). */
COAPS_API const uint8_t *coaps_coap_option_value(const coaps_coap_option *o);

/* First option with this number, or NULL. *it (may be NULL) receives its
 * index for coaps_coap_msg_next_option(). */
COAPS_API const coaps_coap_option *coaps_coap_msg_find_option(const coaps_coap_msg *m, uint16_t number,
                                                              size_t *it);
/* Next option with the same number after index *it, or NULL. */
COAPS_API const coaps_coap_option *coaps_coap_msg_next_option(const coaps_coap_msg *m, uint16_t number,
                                                              size_t *it);

/* Decode a uint option value (0..4 bytes; RFC 7252 3.2). A leading zero
 * byte is tolerated on input. COAPS_E_NOT_FOUND when absent,
 * COAPS_E_MALFORMED when longer than 4 bytes. */
COAPS_API coaps_status coaps_coap_msg_get_uint(const coaps_coap_msg *m, uint16_t number, uint32_t *v);

/* Join the Uri-Path options into "a/b/c" (no leading slash; "" for the
 * root), NUL-terminated. COAPS_E_NOSPACE when it does not fit. */
COAPS_API coaps_status coaps_coap_msg_uri_path(const coaps_coap_msg *m, char *buf, size_t cap);

/* Find the Uri-Query option "name=value" (or a bare "name") and borrow its
 * value (after '='; empty for a bare name). COAPS_E_NOT_FOUND when absent. */
COAPS_API coaps_status coaps_coap_msg_query(const coaps_coap_msg *m, const char *name,
                                            const uint8_t **value, size_t *len);

/* Block1/Block2 option value, RFC 7959 2.2. */
typedef struct coaps_coap_block {
    uint32_t num; /* block number, 0..2^20-1 */
    bool more;    /* M bit */
    uint8_t szx;  /* size exponent: size = 16 << szx; 0..6 (7 is reserved) */
} coaps_coap_block;

/* Read a Block option. COAPS_E_NOT_FOUND when absent, COAPS_E_MALFORMED
 * when longer than 3 bytes or szx == 7 (RFC 7959 2.2: reserved). */
COAPS_API coaps_status coaps_coap_msg_get_block(const coaps_coap_msg *m, uint16_t number,
                                                coaps_coap_block *b);
/* Add a Block option (uint-encoded). */
COAPS_API coaps_status coaps_coap_msg_add_block(coaps_coap_msg *m, uint16_t number,
                                                const coaps_coap_block *b);
/* 16 << szx, and the largest szx whose size is <= bytes (bytes >= 16). */
COAPS_API size_t coaps_coap_block_size(uint8_t szx);
COAPS_API uint8_t coaps_coap_block_szx(size_t bytes);

/* ------------------------------------------------------------------------
 * Endpoint configuration
 * ---------------------------------------------------------------------- */

/* Random numbers for message IDs, tokens and retransmission jitter. The
 * core never calls the OS: it uses this callback if set, else a PRNG seeded
 * from random_seed. Over plain UDP tokens should be unpredictable (RFC 7252
 * 5.3.1, 11.4), so give a callback backed by getrandom() in production. */
typedef uint32_t (*coaps_coap_random_fn)(void *ctx);

typedef struct coaps_coap_config {
    /* RFC 7252 4.8 transmission parameters */
    uint32_t ack_timeout_ms;             /* ACK_TIMEOUT, default 2000 */
    uint32_t ack_random_factor_permille; /* ACK_RANDOM_FACTOR x1000, default 1500 */
    uint8_t max_retransmit;              /* MAX_RETRANSMIT, default 4 */
    uint8_t nstart;                      /* NSTART per peer, default 1 */
    uint32_t exchange_lifetime_ms;       /* EXCHANGE_LIFETIME, default 247000 */
    uint32_t non_lifetime_ms;            /* NON_LIFETIME, default 145000 */

    /* table bounds; each entry count costs memory, see endpoint_size() */
    /* Deduplication (RFC 7252 4.5) is kept per peer, so that no peer's
     * traffic, however fast, pushes out another peer's state: each of the
     * dedup_peers peers heard from most recently keeps its last
     * dedup_per_peer Message IDs and the replies to them (in
     * max_message_size bytes of its own: one full-size reply, or several
     * small ones). A peer's new message replaces its own oldest one; a new
     * peer, when all dedup_peers slots are taken, replaces the peer heard
     * from least recently. */
    uint16_t dedup_peers;     /* peers remembered, 1..65534, default 64 */
    uint8_t dedup_per_peer;   /* Message IDs per peer, 1..64, default 8 */
    bool dedup_disabled;      /* default false: dedup is on (RFC 7252 4.5) */
    uint16_t outq_entries;    /* datagrams waiting for coaps_coap_output(), default 64 */
    uint16_t max_exchanges;   /* outgoing CON/requests tracked at once, default 32 */
    uint16_t max_observers;   /* observe registrations (server), default 32 */
    uint16_t max_resources;   /* registered resources, default 32 */
    uint16_t body_slots;      /* Block1 uploads (server) + Block2 downloads
                                 (client) reassembled at once, default 4 */
    uint32_t max_body_size;   /* bytes of one reassembled body and of one
                                 response representation, default 16384 */
    uint16_t max_message_size; /* bytes of one datagram, default 1280 */
    uint16_t block_size;      /* default block size (16..1024, power of
                                 two) for Block2 responses and client Block1,
                                 default 1024 */

    /* RFC 7641 4.5: a CON notification at least every notify_con_every
     * notifications (default 20) and at least every notify_con_interval_ms
     * (default 24 h). */
    uint16_t notify_con_every;
    uint32_t notify_con_interval_ms;

    /* how long a client waits for a (separate or NON) response after the
     * request was acknowledged or sent as NON; default EXCHANGE_LIFETIME */
    uint32_t response_timeout_ms;

    coaps_coap_random_fn random; /* may be NULL: PRNG from random_seed */
    void *random_ctx;
    uint64_t random_seed;
    /* Deduplication shared with other servers (RFC 7252 4.5 across the
     * nodes of a cluster, docs/cluster.md); NULL: none (the default).
     * The reply to a CON request whose method is not safe (RFC 7252 5.1:
     * anything but GET and FETCH) is handed to shared_reply_save. Before
     * such a request from a peer this endpoint has no duplicate state
     * for (a peer new here, e.g. one another node served until now) is
     * run, shared_reply_find may give the reply another node sent to the
     * same Message ID (true, *len <= cap): it is sent again instead, the
     * handler is not run. */
    void (*shared_reply_save)(void *user, const coaps_peer *peer, uint16_t mid,
                              const uint8_t *reply, size_t len);
    bool (*shared_reply_find)(void *user, const coaps_peer *peer, uint16_t mid, uint8_t *reply,
                              size_t cap, size_t *len);
    void *shared_reply_user;
} coaps_coap_config;

/* Fill *cfg with the defaults named above (random_seed 0, no callback). */
COAPS_API void coaps_coap_config_default(coaps_coap_config *cfg);

/* ------------------------------------------------------------------------
 * Endpoint lifetime
 * ---------------------------------------------------------------------- */

typedef struct coaps_coap_endpoint coaps_coap_endpoint;

/* Bytes an endpoint with this configuration needs (0 if cfg is invalid).
 * Memory must be aligned for uint64_t (malloc's is). */
COAPS_API size_t coaps_coap_endpoint_size(const coaps_coap_config *cfg);

/* Lay out an endpoint in mem (mem_len >= coaps_coap_endpoint_size(cfg)).
 * The endpoint lives as long as mem; there is nothing to free.
 * COAPS_E_CONFIG for an invalid configuration (zero table sizes, block size
 * not a power of two in 16..1024, max_message_size < 64 or smaller than a
 * block plus headers), COAPS_E_NOSPACE when mem_len is too small. */
COAPS_API coaps_status coaps_coap_endpoint_init(void *mem, size_t mem_len, const coaps_coap_config *cfg,
                                                coaps_coap_endpoint **out);

/* ------------------------------------------------------------------------
 * I/O: the sans-IO surface the edge (UDP socket or DTLS session) drives
 * ---------------------------------------------------------------------- */

/* Process one received datagram from `from`. Runs handlers and client
 * callbacks; queues replies for coaps_coap_output(). Bad input is normal:
 * it is counted in the stats and answered as the RFC says (RST for a
 * malformed CON, 4.02 for an unrecognised critical option in a CON
 * request — a NON one is rejected with RST, RFC 7252 5.4.1 / 4.3, as
 * libcoap does —, 5.05 for Proxy-Uri,
 * ...) or dropped.
 * Returns COAPS_OK when the datagram was processed (even if dropped);
 * COAPS_E_INVALID only for NULL arguments. */
COAPS_API coaps_status coaps_coap_input(coaps_coap_endpoint *ep, const coaps_peer *from,
                                        const uint8_t *dgram, size_t len, uint64_t now_ms);

/* Take the next datagram to send: copies it into buf and sets *to, *len.
 * COAPS_OK; COAPS_E_AGAIN when nothing is queued; COAPS_E_NOSPACE when cap
 * is too small (the datagram stays queued; max_message_size always fits). */
COAPS_API coaps_status coaps_coap_output(coaps_coap_endpoint *ep, coaps_peer *to, uint8_t *buf,
                                         size_t cap, size_t *len, uint64_t now_ms);

/* Earliest time coaps_coap_tick() has work (retransmission, notification of
 * a dirty resource, expiry), or UINT64_MAX when none. A value <= now means
 * "call tick now" (pending notifications report 0). */
COAPS_API uint64_t coaps_coap_next_deadline(const coaps_coap_endpoint *ep);

/* Do what is due at now_ms: retransmit CONs, give up after
 * MAX_RETRANSMIT, send pending notifications (as many as the output
 * queue has room for; see coaps_coap_resource_notify), start
 * queued requests, expire dedup/Block1 state. Then drain coaps_coap_output. */
COAPS_API void coaps_coap_tick(coaps_coap_endpoint *ep, uint64_t now_ms);

/* Drop all state for a peer (the DTLS layer calls it when a session closes):
 * its observers, dedup entries, Block1 uploads, queued datagrams and
 * separate responses awaiting their ACK; its client requests end with
 * status COAPS_E_CLOSED (callbacks run inside this call). A
 * coaps_coap_deferred the application still holds for the peer stays
 * usable: its response is queued as usual, and the edge drops it if the
 * session is gone. */
COAPS_API void coaps_coap_forget_peer(coaps_coap_endpoint *ep, const coaps_peer *peer);

/* The peer at `from` is now at `to` (its address changed: NAT rebinding,
 * moved by the DTLS layer when a DTLS 1.2 Connection ID session, RFC 9146,
 * proves itself from a new address). All of from's state becomes to's:
 * its observers (Observe registrations with their tokens and sequence
 * numbers), outstanding client requests and CON messages awaiting their
 * ACK, the deduplication slot with its cached replies, Block1 uploads and
 * kept Block2 response bodies, and datagrams queued but not yet taken by
 * coaps_coap_output(). State `to` already had is forgotten first, as
 * coaps_coap_forget_peer() does (its client requests end with
 * COAPS_E_CLOSED), since the address now belongs to the moved peer. A
 * coaps_coap_deferred the application holds still names `from`. No-op
 * when from equals to or nothing is known about from. O(state), no
 * allocation. */
COAPS_API void coaps_coap_move_peer(coaps_coap_endpoint *ep, const coaps_peer *from,
                                    const coaps_peer *to);

typedef struct coaps_coap_stats {
    uint64_t rx_datagrams;       /* datagrams given to coaps_coap_input */
    uint64_t rx_malformed;       /* dropped or RST'd: format errors */
    uint64_t rx_duplicates;      /* CON/NON seen again within the lifetime */
    uint64_t rx_ignored;         /* well-formed but unmatched (stray ACK,
                                    unknown version, empty NON, ...) */
    uint64_t rx_requests;        /* requests handed to the resource layer */
    uint64_t rx_responses;       /* responses matched to a client request */
    uint64_t tx_datagrams;       /* datagrams taken out by coaps_coap_output */
    uint64_t tx_retransmissions; /* CON retransmissions */
    uint64_t tx_rst;             /* Reset messages queued */
    uint64_t tx_notifications;   /* Observe notifications queued */
    uint64_t tx_dropped;         /* replies lost because the outq was full */
    uint64_t timeouts;           /* CONs given up after MAX_RETRANSMIT */
    uint64_t bad_options;        /* requests answered 4.02 */
    uint64_t observers_added;
    uint64_t observers_removed;
    uint64_t table_full;         /* a live peer's dedup state evicted for a
                                    new peer (dedup_peers reached),
                                    observer/exchange/body table exhaustion */
    uint64_t dedup_recycled;     /* a peer's oldest live dedup entry replaced
                                    by its own newer message (dedup_per_peer
                                    or its reply bytes reached) */
    uint64_t obs_reregistered;   /* our observations registered again after
                                    their last notification's Max-Age ran
                                    out (RFC 7641 3.3.1) */
} coaps_coap_stats;

/* Live counters; valid as long as the endpoint. */
COAPS_API const coaps_coap_stats *coaps_coap_get_stats(const coaps_coap_endpoint *ep);

/* ------------------------------------------------------------------------
 * Server side: resources and handlers
 * ---------------------------------------------------------------------- */

typedef struct coaps_coap_request coaps_coap_request;   /* opaque, handler-only */
typedef struct coaps_coap_response coaps_coap_response; /* see below */
typedef struct coaps_coap_resource coaps_coap_resource; /* opaque handle */

/* A handler fills *resp. Return COAPS_OK to send it (or after
 * coaps_coap_response_defer); a negative status sends 5.00.
 * The request and response are valid only during the call. */
typedef coaps_status (*coaps_coap_handler)(void *user, const coaps_coap_request *req,
                                           coaps_coap_response *resp);

/* Index into coaps_coap_resource_def.handler: the method code (1..7). */
#define COAPS_COAP_METHOD_MAX 7

typedef struct coaps_coap_resource_def {
    /* "sensors/temp": Uri-Path segments joined by '/', no leading slash.
     * Borrowed: must outlive the endpoint (string literals are ideal). */
    const char *path;
    /* handler[method], e.g. handler[COAPS_COAP_GET]; NULL -> 4.05 */
    coaps_coap_handler handler[COAPS_COAP_METHOD_MAX + 1];
    void *user;
    /* RFC 6690 link attributes for /.well-known/core; NULL/CF_NONE/0 omit.
     * rt and if_ may hold several space-separated values. */
    const char *rt;
    const char *if_;
    int32_t ct;         /* COAPS_COAP_CF_NONE or a Content-Format */
    uint32_t sz;        /* 0: omit */
    bool observable;    /* GET accepts Observe registrations; "obs" attr
                           (FETCH + Observe of RFC 8132 is not supported) */
    bool hidden;        /* not listed in /.well-known/core */
    bool notify_con;    /* every notification CON (else NON, with a CON
                           every notify_con_every / notify_con_interval) */
    /* Content-Formats accepted in request payloads: a request with a
     * payload and another (or no) Content-Format gets 4.15. The list ends
     * at the first COAPS_COAP_CF_NONE; all four COAPS_COAP_CF_NONE accepts
     * anything. Careful: a memset-0 def accepts only text/plain (0). */
    int32_t accept_cf[4];
} coaps_coap_resource_def;

/* Zero *def, set path, ct = COAPS_COAP_CF_NONE and accept_cf all
 * COAPS_COAP_CF_NONE (accept anything). Use it, then fill in the handlers
 * and attributes (a memset-0 def would advertise ct=0). */
COAPS_API void coaps_coap_resource_def_init(coaps_coap_resource_def *def, const char *path);

/* Register a resource. The def is copied; the strings it points to are
 * borrowed. *out (may be NULL) receives a handle valid for the endpoint's
 * lifetime. COAPS_E_FULL after max_resources, COAPS_E_INVALID for a NULL
 * path. "/.well-known/core" is built in (registering it replaces it). */
COAPS_API coaps_status coaps_coap_resource_add(coaps_coap_endpoint *ep, const coaps_coap_resource_def *def,
                                               coaps_coap_resource **out);

/* Mark the resource changed (RFC 7641 4.2) for the observers registered
 * now. Sends nothing now: the next coaps_coap_tick() calls its GET handler
 * once per such observer and queues the notifications; several changes
 * before the tick give one notification with the latest state. Safe to
 * call from inside a handler. With no observers it does nothing, and an
 * observer that registers (or re-registers) after the call gets the
 * current state in its registration response only, not again as a
 * notification.
 * Each notification takes one slot of the output queue (outq_entries):
 * those that do not fit stay pending, are not dropped, and go out on the
 * following ticks as coaps_coap_output() frees slots (next_deadline() is
 * 0 meanwhile), so the queue need not be sized for every observer.
 * Notifications are NON, with a CON one every notify_con_every, after
 * notify_con_interval_ms, or always when def.notify_con (RFC 7641 4.5).
 * When a CON notification is still unacknowledged, the new state replaces
 * it (the old one is not retransmitted again) and goes out at once with a
 * new MID, keeping the retransmission counter and timeout (RFC 7641
 * 4.5.2). A notification rejected with RST, never acknowledged, or
 * answered by the handler with a 4.xx/5.xx code ends the observation. */
COAPS_API void coaps_coap_resource_notify(coaps_coap_resource *res);

/* Observers currently registered on the resource. */
COAPS_API size_t coaps_coap_resource_observer_count(const coaps_coap_resource *res);

/* Set the resource's current ETag (0..8 bytes; 0 = none) for conditional
 * requests (RFC 7252 5.10.8): If-Match / If-None-Match are checked against
 * it before the handler runs (4.12 Precondition Failed on mismatch). */
COAPS_API coaps_status coaps_coap_resource_set_etag(coaps_coap_resource *res, const uint8_t *etag,
                                                    size_t len);

/* --- reading the request inside a handler --- */
COAPS_API const coaps_coap_msg *coaps_coap_request_msg(const coaps_coap_request *req);
COAPS_API const coaps_peer *coaps_coap_request_peer(const coaps_coap_request *req);
COAPS_API uint8_t coaps_coap_request_method(const coaps_coap_request *req);
/* The full body: reassembled from Block1 blocks when the client sent it
 * block-wise (RFC 7959 2.5). */
COAPS_API const uint8_t *coaps_coap_request_payload(const coaps_coap_request *req, size_t *len);
/* Content-Format / Accept of the request, COAPS_COAP_CF_NONE when absent. */
COAPS_API int32_t coaps_coap_request_content_format(const coaps_coap_request *req);
COAPS_API int32_t coaps_coap_request_accept(const coaps_coap_request *req);
/* True when the handler is producing an Observe notification (from tick)
 * rather than answering a request. */
COAPS_API bool coaps_coap_request_is_notification(const coaps_coap_request *req);

/* --- filling the response --- */

/* Bytes of Location-Path/Query kept in a response (joined with '/' or '&'). */
#define COAPS_COAP_LOCATION_MAX 128

struct coaps_coap_response {
    uint8_t code;           /* default 2.05 for GET/FETCH, 2.04 otherwise */
    int32_t content_format; /* COAPS_COAP_CF_NONE = none */
    bool has_max_age;
    uint32_t max_age;
    bool has_size1;         /* RFC 7959 4: Size1 in a 4.13 response */
    uint32_t size1;
    uint8_t etag_len;
    uint8_t etag[8];
    char location_path[COAPS_COAP_LOCATION_MAX];  /* "" = none; "a/b" */
    char location_query[COAPS_COAP_LOCATION_MAX]; /* "" = none; "x=1&y" */
    uint8_t *payload;   /* buffer owned by whoever initialised the response */
    size_t payload_len;
    size_t payload_cap;
    /* private: set by coaps_coap_response_defer */
    bool deferred_;
    void *internal_;
};

/* Initialise a response for coaps_coap_deferred_respond() over a caller
 * buffer (the endpoint initialises the one a handler gets). */
COAPS_API void coaps_coap_response_init(coaps_coap_response *resp, uint8_t code, uint8_t *buf, size_t cap);
COAPS_API void coaps_coap_response_set_code(coaps_coap_response *resp, uint8_t code);
COAPS_API void coaps_coap_response_set_content_format(coaps_coap_response *resp, int32_t cf);
COAPS_API void coaps_coap_response_set_max_age(coaps_coap_response *resp, uint32_t seconds);
/* Add a Size1 option (RFC 7959 4): in a 4.13 Request Entity Too Large it
 * tells the client the largest body, in bytes, the server can handle for
 * this request. The endpoint adds Size1 by itself only for its own
 * max_body_size limit on Block1 uploads; a handler with a smaller limit of
 * its own says so with this. Any response code may carry it (RFC 7959 4
 * leaves other uses open); it is sent on every Block2 block. */
COAPS_API void coaps_coap_response_set_size1(coaps_coap_response *resp, uint32_t bytes);
/* COAPS_E_INVALID when len > 8. */
COAPS_API coaps_status coaps_coap_response_set_etag(coaps_coap_response *resp, const uint8_t *etag,
                                                    size_t len);
/* Copy the payload in; COAPS_E_NOSPACE when longer than payload_cap
 * (max_body_size for handler responses). Block2 slicing is automatic. */
COAPS_API coaps_status coaps_coap_response_set_payload(coaps_coap_response *resp, const void *data,
                                                       size_t len);
/* Append to the payload (e.g. for formatted output). COAPS_E_NOSPACE. */
COAPS_API coaps_status coaps_coap_response_append(coaps_coap_response *resp, const void *data, size_t len);
/* COAPS_E_NOSPACE when longer than COAPS_COAP_LOCATION_MAX - 1. */
COAPS_API coaps_status coaps_coap_response_set_location(coaps_coap_response *resp, const char *path,
                                                        const char *query);

/* --- separate responses (RFC 7252 5.2.2) --- */

/* What the endpoint needs to answer a request later. Plain data: copy it. */
typedef struct coaps_coap_deferred {
    coaps_peer peer;
    uint8_t token_len;
    uint8_t token[COAPS_COAP_TOKEN_MAX];
    uint8_t req_type; /* CON or NON: the separate response uses the same */
    uint8_t method;
    uint16_t req_mid;
    uint8_t block2_szx; /* block size asked for, or the default */
    bool valid;
} coaps_coap_deferred;

/* Inside a handler: "I'll answer later". The endpoint acknowledges a CON
 * request with an empty ACK now and sends nothing else; *out receives the
 * handle for coaps_coap_deferred_respond(). Whatever else the handler put in
 * resp is ignored. Observe registration does not happen for deferred GETs. */
COAPS_API coaps_status coaps_coap_response_defer(coaps_coap_response *resp, coaps_coap_deferred *out);

/* Send the separate response: as CON (retransmitted until ACKed, like any
 * CON) when the request was CON, else as NON. resp was set up with
 * coaps_coap_response_init(); it is copied, the buffer can be reused
 * after the call. Payloads larger than one block are sent as the first
 * Block2 block (the client fetches the rest with follow-up requests that
 * reach the handler normally). COAPS_E_FULL when the exchange table or the
 * output queue is full; COAPS_E_INVALID for an unused handle. */
COAPS_API coaps_status coaps_coap_deferred_respond(coaps_coap_endpoint *ep, const coaps_coap_deferred *d,
                                                   const coaps_coap_response *resp, uint64_t now_ms);

/* ------------------------------------------------------------------------
 * Client side
 * ---------------------------------------------------------------------- */

typedef struct coaps_coap_client_event {
    /* COAPS_OK: a response (or notification) arrived; COAPS_E_TIMEOUT: no
     * ACK after MAX_RETRANSMIT or no response in response_timeout_ms;
     * COAPS_E_CLOSED: the peer answered RST, or was forgotten;
     * COAPS_E_NOSPACE: a Block2 body was larger than max_body_size;
     * COAPS_E_BAD_OPTION: the response carried an unrecognised critical
     * option (RFC 7252 5.4.1; it was rejected); COAPS_E_MALFORMED: the
     * server broke block-wise rules. */
    coaps_status status;
    uint8_t code;               /* response code, 0 on failure */
    const coaps_coap_msg *msg;  /* last response message, NULL on failure */
    const uint8_t *payload;     /* full body (Block2 reassembled, also for
                                   notifications, RFC 7959 3.4) */
    size_t payload_len;
    bool is_notification;       /* carries Observe (RFC 7641) */
    uint32_t observe_seq;
    bool final;                 /* no further callbacks for this request */
} coaps_coap_client_event;

/* Called from coaps_coap_input/tick (or forget_peer). Borrowed data is
 * valid during the call only. */
typedef void (*coaps_coap_response_cb)(void *user, const coaps_coap_client_event *ev);

/* One Uri-Path segment or Uri-Query item of a client request, already
 * split and percent-decoded (RFC 7252 6.4 steps 8-9): any bytes, '/',
 * '&', NUL and the empty segment included; at most 255 bytes (RFC 7252
 * 5.10). Borrowed for the duration of coaps_coap_request_send() only. */
typedef struct coaps_coap_segment {
    const void *data; /* may be NULL when len == 0 */
    size_t len;
} coaps_coap_segment;

typedef struct coaps_coap_client_request {
    coaps_peer peer;
    uint8_t method;         /* GET, POST, PUT, DELETE, FETCH, PATCH, iPATCH */
    bool confirmable;       /* CON when true (the _init default), else NON */
    const char *uri_host;   /* NULL = none */
    uint16_t uri_port;      /* 0 = none */
    const char *uri_path;   /* "a/b" (leading '/' ignored), split on '/' */
    const char *uri_query;  /* "a=1&b" split on '&', NULL = none */
    /* The same as one option per segment, for what the strings cannot
     * carry ("a%2Fb", NUL bytes, empty segments): path_segs[0..path_count)
     * become Uri-Path options, query_items[0..query_count) Uri-Query
     * options, in order. Use either uri_path or path_segs (and either
     * uri_query or query_items), not both: COAPS_E_INVALID. */
    const coaps_coap_segment *path_segs;
    size_t path_count;
    const coaps_coap_segment *query_items;
    size_t query_count;
    int32_t content_format; /* COAPS_COAP_CF_NONE = none */
    int32_t accept;         /* COAPS_COAP_CF_NONE = none */
    /* Payload; sent as Block1 blocks of block_size when larger than one
     * block. Borrowed: must stay valid until the final callback. */
    const uint8_t *payload;
    size_t payload_len;
    const uint8_t *token;   /* token_len > 0: use this token */
    uint8_t token_len;      /* 0: generate an 8-byte random token */
    bool observe;           /* GET with Observe=0; notifications follow.
                               When a notification's Max-Age (default 60 s)
                               runs out with nothing newer, the registration
                               is sent again (RFC 7641 3.3.1), 2-5 s later;
                               if that fails, the final event says so */
    uint16_t block_size;    /* 0: config default; else 16..1024, power of 2;
                               also the Block2 size asked for (late
                               negotiation: a smaller server size wins) */
    /* GET/FETCH only: ask for the response from Block2 block number
     * block2_start on (RFC 7959 2.4; counted in blocks of block_size, or
     * the config default); the body delivered is the representation from
     * that block's offset to its end. 0: from the start. Not with observe
     * (RFC 7959 3.4: notifications start at block 0): COAPS_E_INVALID, as
     * for another method or a number past 2^20-1. */
    uint32_t block2_start;
    /* Extra options (ETag, If-Match, ...), copied; values borrowed until
     * the final callback. */
    const coaps_coap_option *extra_opts;
    size_t extra_count;
    coaps_coap_response_cb cb;
    void *user;
} coaps_coap_client_request;

/* Fill *r with defaults: CON GET, no options, CF_NONE fields, Block2 from
 * block 0. */
COAPS_API void coaps_coap_client_request_init(coaps_coap_client_request *r);

/* Handle of a client request (0 is never a valid handle). */
typedef uint32_t coaps_coap_request_id;

/* Start a request. It is sent now, or queued while NSTART requests are
 * outstanding to that peer (RFC 7252 4.7). Responses and notifications go
 * to r->cb; the last callback has final == true. *id (may be NULL) gets a
 * handle for coaps_coap_request_cancel().
 * COAPS_E_FULL: no free exchange; COAPS_E_INVALID: bad method/uri/token;
 * COAPS_E_NOSPACE: the options do not fit max_message_size. */
COAPS_API coaps_status coaps_coap_request_send(coaps_coap_endpoint *ep, const coaps_coap_client_request *r,
                                               uint64_t now_ms, coaps_coap_request_id *id);

/* Stop a request or an observation. No further callbacks. When observing
 * and deregister is true, a GET with Observe=1 is sent (RFC 7641 3.6,
 * proactive); otherwise the next notification is answered with RST.
 * COAPS_E_NOT_FOUND when the handle is stale. */
COAPS_API coaps_status coaps_coap_request_cancel(coaps_coap_endpoint *ep, coaps_coap_request_id id,
                                                 bool deregister, uint64_t now_ms);

/* Send a CoAP ping (empty CON, RFC 7252 4.3). The callback gets one final
 * event: COAPS_OK with code 0 when the RST (the pong) comes back, or
 * COAPS_E_TIMEOUT. */
COAPS_API coaps_status coaps_coap_ping(coaps_coap_endpoint *ep, const coaps_peer *peer,
                                       coaps_coap_response_cb cb, void *user, uint64_t now_ms,
                                       coaps_coap_request_id *id);

#ifdef __cplusplus
}
#endif
#endif /* COAPS_COAP_H */
