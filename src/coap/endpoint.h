/*
 * endpoint.h - the inside of a coaps_coap_endpoint, shared by the files of
 * src/coap/. Every table lives in the caller's memory block, laid out by
 * coaps_coap_endpoint_init() (endpoint.c); its length is a config field.
 */
#ifndef COAPS_COAP_ENDPOINT_H
#define COAPS_COAP_ENDPOINT_H

#include <stdbool.h>
#include <stdint.h>

#include "coaps/coap.h"

/* Bytes of an Observe registration request we keep to rebuild the request
 * for each notification (token, Uri-Path/Query, Accept, Block2). Real
 * registrations are tens of bytes; a longer one is answered but not
 * registered (RFC 7641 4.1 lets a server decline). A device build may set
 * its own (-D): each observer slot holds this many bytes. */
#ifndef COAP_OBS_REQ_MAX
#define COAP_OBS_REQ_MAX 256
#endif
/* RFC 7641 4.4: Observe sequence numbers are 24 bits. */
#define COAP_OBS_SEQ_MASK 0xFFFFFFu
/* RFC 7641 3.4: a notification is newer if it arrives > 128 s later. */
#define COAP_OBS_REORDER_MS 128000u
/* RFC 7252 4.4: Message IDs are 16 bits. */
#define COAP_MID_MASK 0xFFFFu
/* Length of tokens we generate: RFC 7252 5.3.1 asks for enough randomness
 * to make off-path spoofing hard; 8 bytes is the maximum and the safest. */
#define COAP_TOKEN_GEN_LEN 8
/* RFC 7959 2.4: when the ETag changes between blocks the client starts
 * over; a resource changing faster than it can be read ends the request
 * after this many restarts instead of looping. */
#define COAP_B2_MAX_RESTARTS 3
/* Index meaning "none" in the uint16_t table links below. */
#define COAP_NONE 0xFFFFu

/* One datagram waiting for coaps_coap_output(). */
struct coap_outq_slot {
    coaps_peer peer;
    uint16_t len;
    uint8_t *buf; /* max_message_size bytes */
};

/* Deduplication (RFC 7252 4.5, dedup.c) is per peer: a peer's own
 * messages can push out only its own older ones, and a new peer only the
 * peer heard from least recently, so no rate of traffic from others can
 * make us forget a peer's recent exchange. */

/* Most Message IDs one peer's slot keeps (dedup_per_peer). With NSTART = 1
 * (RFC 7252 4.7) a client has one exchange in flight, and a duplicate
 * older than its last few exchanges can only come from the network
 * (MAX_LATENCY); 64 leaves room for clients that pipeline, and keeps the
 * FIFO indices in a uint8_t. */
#define COAP_DEDUP_PER_PEER_MAX 64u

/* One Message ID of a peer seen recently, and what we answered. */
struct coap_dedup {
    uint64_t expires_ms;
    uint16_t mid;
    uint16_t reply_off; /* in the peer's reply area */
    uint16_t reply_len; /* 0: nothing to replay (NON, or not yet) */
};

/* A peer's slot: a FIFO of up to dedup_per_peer entries (ep->dedup, slot
 * after slot) and max_message_size bytes for their replies
 * (ep->dedup_replies, slot after slot), used as a ring: a new reply goes
 * after the newest one and pushes out the oldest entries it would
 * overwrite, so one full-size reply always fits. */
struct coap_dedup_peer {
    coaps_peer peer;
    uint16_t hash_next;          /* chain of its hash bucket, or COAP_NONE;
                                    for a free slot, the next free one */
    uint16_t lru_prev, lru_next; /* towards the most / least recently heard */
    uint8_t head, count;         /* oldest entry, entries in use */
    uint16_t reply_tail;         /* where the next reply goes */
    uint64_t expires_ms;         /* every entry of the slot dead from then */
};

/* Dedup hash buckets: a power of two >= 2 x dedup_peers, so chains stay
 * short (load factor <= 1/2). */
static inline size_t coap_dedup_buckets(size_t peers)
{
    size_t n = 1;
    while (n < 2 * peers)
        n <<= 1;
    return n;
}

enum coap_xkind {
    COAP_X_FREE = 0,
    COAP_X_CLIENT,   /* our request, with its callback */
    COAP_X_PING,     /* our empty CON */
    COAP_X_SEPARATE, /* server's separate CON response */
    COAP_X_NOTIFY,   /* server's CON notification */
};

enum coap_xstate {
    COAP_XS_QUEUED,    /* waiting for NSTART (RFC 7252 4.7) */
    COAP_XS_WAIT_ACK,  /* CON sent, retransmitting */
    COAP_XS_WAIT_RESP, /* ACKed or NON: waiting for the response */
    COAP_XS_OBSERVING, /* registered: notifications keep coming */
};

/* An outgoing message we track: retransmission, and for client requests,
 * block-wise progress and the callback. */
struct coap_exchange {
    uint8_t kind;  /* enum coap_xkind */
    uint8_t state; /* enum coap_xstate */
    uint16_t gen;  /* bumped on free: makes request ids unique */
    uint32_t seq;  /* creation order, for NSTART queueing */
    coaps_peer peer;
    uint16_t mid;
    bool con;
    uint8_t token_len;
    uint8_t token[COAPS_COAP_TOKEN_MAX];
    uint8_t retransmits;
    uint32_t timeout_ms;  /* current retransmission timeout */
    uint64_t deadline_ms; /* next retransmission / give-up, UINT64_MAX none */
    uint16_t len;
    uint8_t *buf; /* the datagram (max_message_size bytes) */
    uint16_t observer; /* COAP_X_NOTIFY: observer index */

    /* client */
    coaps_coap_response_cb cb;
    void *user;
    uint8_t method;
    bool observe;
    const uint8_t *payload; /* borrowed until the final callback */
    size_t payload_len;
    size_t b1_off;   /* bytes of payload in the block in flight starts here */
    size_t b1_len;   /* bytes of payload in the block in flight */
    uint8_t b1_szx;
    uint8_t b2_szx;
    uint16_t body;   /* body slot of Block2 reassembly, or COAP_NONE */
    uint32_t b2_base; /* byte offset of the first Block2 block asked for
                         (block2_start x size; < 2^30, RFC 7959 2.2) */
    uint8_t b2_etag_len; /* ETag of block 0, to spot a changed resource */
    uint8_t b2_etag[8];
    uint8_t b2_restarts;
    uint32_t obs_seq;
    uint64_t obs_time_ms;
    bool obs_seen;
    bool notif_pending; /* the body being delivered is a notification */
    uint32_t notif_seq; /* ... with this Observe value */
};

/* A buffer for a body reassembled from blocks: Block1 uploads on the
 * server, Block2 downloads on the client. */
struct coap_body {
    bool used;
    bool client;      /* owned by a client exchange */
    bool response;    /* server: a response body kept for Block2 follow-ups */
    uint8_t code;     /* ... its code, Content-Format and ETag */
    int32_t cf;
    uint8_t etag_len;
    uint8_t etag[8];
    coaps_peer peer;
    uint32_t key;     /* server: hash of the Uri-Path, RFC 7959 2.5 */
    uint8_t method;
    uint8_t szx;
    uint32_t len;     /* bytes received so far */
    uint64_t expires_ms;
    uint8_t *buf;     /* max_body_size bytes */
};

struct coap_observer {
    bool used;
    bool pending;       /* a notification is due: set by resource_notify,
                           cleared when one is queued (or a re-registration
                           answered with the current state) */
    uint16_t resource;  /* index in resources */
    coaps_peer peer;
    uint8_t token_len;
    uint8_t token[COAPS_COAP_TOKEN_MAX];
    uint32_t seq;       /* last Observe value sent */
    uint16_t non_count; /* NON notifications since the last CON */
    uint64_t last_con_ms;
    uint16_t last_mid;  /* of the last notification, to match a RST */
    uint16_t xchg;      /* exchange of a CON notification in flight */
    uint16_t req_len;
    uint8_t req[COAP_OBS_REQ_MAX];
};

struct coaps_coap_resource {
    coaps_coap_resource_def def;
    coaps_coap_endpoint *ep; /* owner: notify marks its observers */
    bool used;
    uint16_t observers;
    uint8_t etag_len;
    uint8_t etag[8];
};

struct coaps_coap_request {
    const coaps_coap_msg *msg;
    const coaps_peer *peer;
    const uint8_t *payload;
    size_t payload_len;
    bool notification;
};

struct coaps_coap_endpoint {
    coaps_coap_config cfg;
    coaps_coap_stats stats;
    uint64_t rng;
    uint16_t next_mid;
    uint32_t next_seq;

    struct coap_outq_slot *outq;
    uint16_t outq_head, outq_count;
    /* dedup.c: slots of peers, their entries and replies. Slots from
     * dedup_fresh on have never been used and their memory never touched
     * (endpoint_init leaves it alone), so an endpoint sized for thousands
     * of peers costs RSS only for the peers it has heard from. */
    struct coap_dedup_peer *dedup_slots; /* dedup_peers of them */
    struct coap_dedup *dedup;            /* dedup_peers x dedup_per_peer */
    uint8_t *dedup_replies;              /* dedup_peers x max_message_size */
    uint16_t *dedup_bucket;              /* coap_dedup_buckets() chain heads */
    uint32_t dedup_mask;                 /* coap_dedup_buckets() - 1 */
    uint16_t dedup_lru_head;             /* the peer heard from last */
    uint16_t dedup_lru_tail;             /* ... and least recently: evicted first */
    uint16_t dedup_free;                 /* forgotten slots, through hash_next */
    uint16_t dedup_fresh;                /* first never-used slot */
    struct coap_exchange *xchg;
    /* Exchanges not COAP_X_FREE (exchange.c), and whether an observer may
     * have a notification pending (set by coap_observe_mark, cleared by a
     * tick that leaves none): the event loop asks next_deadline() on
     * every wake-up, and without these it scanned both tables each time,
     * O(max_exchanges + max_observers) per datagram for a server that
     * mostly has neither in use. */
    uint32_t xchg_live;
    bool obs_marked;
    struct coap_body *body;
    struct coap_observer *obs;
    struct coaps_coap_resource *res; /* max_resources + 1 (well-known) */
    uint16_t res_count;
    uint8_t *scratch;     /* max_message_size: encoding */
    uint8_t *resp_body;   /* max_body_size: handler responses */
};

/* --- endpoint.c --- */
uint32_t coap_random(coaps_coap_endpoint *ep);
uint16_t coap_new_mid(coaps_coap_endpoint *ep);
/* Queue a datagram (copied). Sending is fire and forget, as on the wire:
 * a datagram that finds the queue full (or is too large) is counted in
 * tx_dropped and lost like one lost in the network; RFC 7252's
 * retransmissions (ours for a CON exchange, the peer's for its request)
 * recover it. So callers have nothing to decide, and nothing is returned. */
void coap_outq_push(coaps_coap_endpoint *ep, const coaps_peer *to, const uint8_t *d, size_t len);
/* Encode m into the scratch buffer and queue it (coap_outq_push). Fails
 * only when m does not encode in max_message_size. */
coaps_status coap_send_msg(coaps_coap_endpoint *ep, const coaps_peer *to,
                           const coaps_coap_msg *m);
/* An empty ACK or RST (always encodes), queued as coap_outq_push. */
void coap_send_empty(coaps_coap_endpoint *ep, const coaps_peer *to, uint8_t type, uint16_t mid);
/* coaps_coap_output without the copy, for the edge: takes the next
 * datagram off the queue and points *data at it in the queue's own slot,
 * where it stays until something is queued again (coaps_coap_input, _tick,
 * a request or a notification); forgetting or moving a peer leaves it be.
 * COAPS_E_AGAIN when nothing is queued. */
coaps_status coap_output_take(coaps_coap_endpoint *ep, coaps_peer *to, const uint8_t **data,
                              size_t *len);

/* --- dedup.c --- */
void coap_dedup_init(coaps_coap_endpoint *ep);
/* RFC 7252 4.5 for a CON or NON just received: a duplicate is answered
 * from the cache (a CON gets the same reply again, a NON nothing), counted,
 * and true returned; otherwise the message is remembered for its lifetime
 * (*entry: its cache entry, NULL with dedup off) and false returned. */
bool coap_dedup_seen(coaps_coap_endpoint *ep, const coaps_peer *from, const coaps_coap_msg *m,
                     uint64_t now_ms, struct coap_dedup **entry);
/* Cache reply (len <= max_message_size) for the entry that
 * coap_dedup_seen just gave out, within the same coaps_coap_input call. */
void coap_dedup_set_reply(coaps_coap_endpoint *ep, struct coap_dedup *d, const uint8_t *reply,
                          size_t len, uint64_t now_ms);
void coap_dedup_forget_peer(coaps_coap_endpoint *ep, const coaps_peer *p);
/* The per-peer *_move_peer functions below serve coaps_coap_move_peer():
 * they give from's state to `to`, which by then has none. */
bool coap_dedup_has_peer(const coaps_coap_endpoint *ep, const coaps_peer *p);
void coap_dedup_move_peer(coaps_coap_endpoint *ep, const coaps_peer *from, const coaps_peer *to);

/* --- exchange.c --- */
struct coap_exchange *coap_xchg_alloc(coaps_coap_endpoint *ep, uint8_t kind);
void coap_xchg_free(coaps_coap_endpoint *ep, struct coap_exchange *x);
/* Send x->buf now (queued as coap_outq_push); CON gets the RFC 7252 4.2
 * initial timeout, so a first copy dropped at a full queue goes again. */
void coap_xchg_transmit(coaps_coap_endpoint *ep, struct coap_exchange *x, uint64_t now_ms);
struct coap_exchange *coap_xchg_by_mid(coaps_coap_endpoint *ep, const coaps_peer *p,
                                       uint16_t mid);
/* Retransmit or give up (RFC 7252 4.2); called from tick for due x.
 * Returns true when the exchange gave up (caller decides what that means). */
bool coap_xchg_retransmit(coaps_coap_endpoint *ep, struct coap_exchange *x, uint64_t now_ms);
uint16_t coap_xchg_index(const coaps_coap_endpoint *ep, const struct coap_exchange *x);
bool coap_xchg_has_peer(const coaps_coap_endpoint *ep, const coaps_peer *p);
void coap_xchg_move_peer(coaps_coap_endpoint *ep, const coaps_peer *from, const coaps_peer *to);

/* --- server.c --- */
/* A request arrived (raw: its datagram, kept for Observe registration). */
void coap_server_request(coaps_coap_endpoint *ep, const coaps_peer *from, coaps_coap_msg *m,
                         const uint8_t *raw, size_t raw_len, uint64_t now_ms);
/* A request with more than COAPS_COAP_MAX_OPTIONS options: 4.02. */
void coap_server_too_many_options(coaps_coap_endpoint *ep, const coaps_peer *from,
                                  const coaps_coap_msg *m, uint64_t now_ms);
struct coaps_coap_resource *coap_resource_by_path(coaps_coap_endpoint *ep,
                                                  const coaps_coap_msg *m);
/* Build the reply to `req` from `resp` (Block2 slicing, Observe, ETag
 * validation) into m; payload slices borrow resp->payload. */
coaps_status coap_build_response(coaps_coap_endpoint *ep, const coaps_coap_msg *req,
                                 coaps_coap_response *resp, bool has_obs, uint32_t obs_seq,
                                 coaps_coap_msg *m);
void coap_response_prepare(coaps_coap_endpoint *ep, coaps_coap_response *resp, uint8_t method);

/* --- observe.c --- */
/* Handle the Observe option of a GET after its handler answered (RFC 7641
 * 4.1): register, refresh or deregister. *seq gets the value to send. */
bool coap_observe_request(coaps_coap_endpoint *ep, const coaps_peer *from,
                          const coaps_coap_msg *req, const uint8_t *raw, size_t raw_len,
                          struct coaps_coap_resource *res, uint8_t code, uint32_t *seq,
                          uint64_t now_ms);
void coap_observe_deregister(coaps_coap_endpoint *ep, const coaps_peer *p,
                             const coaps_coap_msg *req);
void coap_observer_remove(coaps_coap_endpoint *ep, struct coap_observer *o);
/* RST matching a NON notification's MID. */
bool coap_observe_rst(coaps_coap_endpoint *ep, const coaps_peer *p, uint16_t mid);
void coap_observe_tick(coaps_coap_endpoint *ep, uint64_t now_ms);
bool coap_observe_pending(const coaps_coap_endpoint *ep);
void coap_observe_forget_peer(coaps_coap_endpoint *ep, const coaps_peer *p);
bool coap_observe_has_peer(const coaps_coap_endpoint *ep, const coaps_peer *p);
void coap_observe_move_peer(coaps_coap_endpoint *ep, const coaps_peer *from,
                            const coaps_peer *to);
/* coaps_coap_resource_notify: mark the resource's observers pending. */
void coap_observe_mark(coaps_coap_endpoint *ep, const struct coaps_coap_resource *res);
/* A CON notification was ACKed / RST / timed out. */
void coap_observe_xchg_done(coaps_coap_endpoint *ep, struct coap_exchange *x, bool ok,
                            uint64_t now_ms);

/* --- block.c --- */
/* Server Block1 (RFC 7959 2.5): what to do with one received block. */
enum coap_b1 {
    COAP_B1_DONE,       /* last block: *body holds the whole payload */
    COAP_B1_CONTINUE,   /* answer 2.31 Continue */
    COAP_B1_INCOMPLETE, /* answer 4.08 */
    COAP_B1_TOO_LARGE,  /* answer 4.13 with Size1 */
    COAP_B1_BAD,        /* answer 4.00 (a non-last block not full size) */
    COAP_B1_BUSY,       /* no free body slot: answer 5.03 */
};
enum coap_b1 coap_block1_receive(coaps_coap_endpoint *ep, const coaps_peer *from,
                                 const coaps_coap_msg *req, const coaps_coap_block *b,
                                 uint64_t now_ms, struct coap_body **body);
/* RFC 7959 3.3: keep the response body of a non-GET request (POST,
 * PUT, ...) that is too large for one message, so that the client's
 * Block2 follow-ups get the rest without running the handler again. */
void coap_block2_keep(coaps_coap_endpoint *ep, const coaps_peer *from, const coaps_coap_msg *req,
                      const coaps_coap_response *resp, uint64_t now_ms);
struct coap_body *coap_block2_kept(coaps_coap_endpoint *ep, const coaps_peer *from,
                                   const coaps_coap_msg *req, uint64_t now_ms);
struct coap_body *coap_body_alloc(coaps_coap_endpoint *ep, uint64_t now_ms);
void coap_body_free(struct coap_body *b);
void coap_body_forget_peer(coaps_coap_endpoint *ep, const coaps_peer *p);
bool coap_body_has_peer(const coaps_coap_endpoint *ep, const coaps_peer *p);
void coap_body_move_peer(coaps_coap_endpoint *ep, const coaps_peer *from, const coaps_peer *to);
uint16_t coap_body_index(const coaps_coap_endpoint *ep, const struct coap_body *b);

/* --- client.c --- */
void coap_client_response(coaps_coap_endpoint *ep, const coaps_peer *from, coaps_coap_msg *m,
                          uint64_t now_ms);
/* An empty ACK or RST matched exchange x (client or ping). */
void coap_client_empty(coaps_coap_endpoint *ep, struct coap_exchange *x, uint8_t type,
                       uint64_t now_ms);
void coap_client_fail(coaps_coap_endpoint *ep, struct coap_exchange *x, coaps_status st,
                      uint64_t now_ms);
/* End x with a final failure event, without starting queued requests. */
void coap_client_close(coaps_coap_endpoint *ep, struct coap_exchange *x, coaps_status st);
void coap_client_pump(coaps_coap_endpoint *ep, uint64_t now_ms);
/* An observation whose last notification went stale: register again. */
void coap_client_reregister(coaps_coap_endpoint *ep, struct coap_exchange *x, uint64_t now_ms);

/* --- link_format.c --- */
coaps_status coap_link_format(coaps_coap_endpoint *ep, const coaps_coap_msg *req,
                              coaps_coap_response *resp);
coaps_status coap_well_known_handler(void *user, const coaps_coap_request *req,
                                     coaps_coap_response *resp);

#endif /* COAPS_COAP_ENDPOINT_H */
