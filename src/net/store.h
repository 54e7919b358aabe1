/*
 * store.h - what the nodes of a coaps-server cluster share (issue 19,
 * docs/cluster.md): `coaps-server --store URI`.
 *
 * One small interface, two implementations behind it:
 *   - "memory:" (store_memory.c): this process's memory; what one node
 *     with its state file (state_save.h) already has. Tests use it to
 *     run two servers against one store in one process.
 *   - "redis://[[USER]:PASSWORD@]HOST:PORT[/DB]" (store_redis.c, hiredis): every node of
 *     the cluster reads and writes the same Redis.
 *
 * Everything a store keeps is sealed here (store.c) with AES-256-GCM
 * under the --state-key, the record's kind and key as additional data:
 * Redis never holds a key in clear, and a value copied under another key,
 * a damaged one, one from another key or version opens as
 * COAPS_E_MALFORMED (the caller counts it and goes on: a full handshake).
 *
 * Synchronous, with short time limits: every call is one round trip at
 * most (the implementation's atomic scripts make a lease and a block of
 * sequence numbers one trip) and is made only on the rare paths: a
 * session's creation, takeover, close, a new block of sequence numbers,
 * a batch of time-to-live refreshes, and state changes that must be
 * shared. A store that is down answers COAPS_E_IO at once (no waiting)
 * until its back-off lets it try to reconnect; the caller then keeps
 * serving what it holds.
 *
 * Sessions and leases. A session is known by its key (NET_STORE_KEY_MAX
 * bytes: the server's CID for a session with one, else the peer's
 * address). One node serves it at a time: the holder of its lease. Each
 * take of the lease raises the session's fencing counter and reserves
 * the taker a block of NET_STORE_SEQ_BLOCK write sequence numbers from
 * the session's counter, atomically: two nodes that both believe they
 * hold a session still seal with disjoint numbers. A node asks for the
 * next block before its block runs out, and learns then (COAPS_E_STATE)
 * if its lease was taken; it also hears of it at once through the
 * events' lost() (Redis pub/sub).
 *
 * Internal (programs in this tree): no COAPS_API.
 */
#ifndef COAPS_NET_STORE_H
#define COAPS_NET_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coaps/status.h"
#include "net/log.h"
#include "net/loop.h"
#include "net/state_file.h"

/* A session's key: 1 kind byte + a CID (at most 16 bytes, RFC 9146 as we
 * allow it) or a coaps_peer's address bytes (sockaddr_in6: 28). */
#define NET_STORE_KEY_MAX 40
/* A session record (state_file.h's session layout: the DTLS export, the
 * peer, its Observe registrations) or a cached CoAP reply, unsealed. */
#define NET_STORE_VALUE_MAX 4096
/* Write sequence numbers per block: 2^16 = COAPS_DTLS_IMPORT_SEQ_GAP, so
 * a block reserved after a session was stored starts past every number an
 * import of that record could use. A block lasts 65,536 records (at one
 * request a second, 18 hours): a reservation is rare, and a lost lease
 * wastes at most one block of 2^48. */
#define NET_STORE_SEQ_BLOCK (UINT64_C(1) << 16)
/* Name of a shared value or counter ("light", "counter"). */
#define NET_STORE_NAME_MAX 32

struct net_store;

struct net_store_lease {
    uint64_t fence;     /* this holder's fencing counter (1, 2, ...) */
    uint64_t seq_next;  /* first write sequence number of the block */
    uint64_t seq_limit; /* one past its last */
};

/* What other nodes did, delivered on the loop's thread (net_store_attach). */
struct net_store_events {
    /* Another node took the session of key with fence: stop sending on it. */
    void (*lost)(void *ctx, const uint8_t *key, size_t key_len, uint64_t fence);
    /* A shared value changed (net_store_value_set on any node, this one
     * included): its name and new contents. */
    void (*changed)(void *ctx, const char *name, const uint8_t *value, size_t len);
    void *ctx;
};

struct net_store_stats {
    uint64_t calls;     /* operations tried */
    uint64_t failed;    /* of those: the store down or erring (COAPS_E_IO) */
    uint64_t malformed; /* values that did not open (damaged, foreign key, version) */
    uint64_t prev_key;  /* values that opened under the previous state key only */
    uint64_t reconnects;
};

/*
 * Open the store uri names ("memory:" or "redis://[[USER]:PASSWORD@]HOST:PORT[/DB]"), its
 * values sealed under k (copied). node: this node's name, for its leases
 * (e.g. "host:pid"). A Redis that cannot be reached now is not an error
 * (one line in the log, then back-off); a uri that is not one of ours is:
 * COAPS_E_INVALID with one line in err. COAPS_E_NOMEM.
 */
coaps_status net_store_open(struct net_store **st, const char *uri,
                            const struct net_state_key *k, const char *node,
                            const struct net_log *log, char *err, size_t cap);
void net_store_close(struct net_store *st);

/* Deliver other nodes' events through ev (copied) on loop's thread, and
 * reconnect with back-off from loop's timers. Before any other call. */
coaps_status net_store_attach(struct net_store *st, struct net_loop *loop,
                              const struct net_store_events *ev);

bool net_store_up(const struct net_store *st);
const struct net_store_stats *net_store_get_stats(const struct net_store *st);

/* ---- sessions ------------------------------------------------------------- */

/* A new session: its record stored with ttl_ms to live, the lease taken
 * (fence 1, or one past any earlier holder's of the same key) with the
 * block [seq_next, seq_next + NET_STORE_SEQ_BLOCK). */
coaps_status net_store_session_create(struct net_store *st, const uint8_t *key, size_t key_len,
                                      const uint8_t *rec, size_t rec_len, uint64_t seq_next,
                                      uint32_t ttl_ms, struct net_store_lease *lease);
/* The record of key into rec (cap bytes). COAPS_E_NOT_FOUND: none (or it
 * expired); COAPS_E_MALFORMED: it did not open; COAPS_E_IO. Takes nothing. */
coaps_status net_store_session_fetch(struct net_store *st, const uint8_t *key, size_t key_len,
                                     uint8_t *rec, size_t cap, size_t *rec_len);
/* Take the lease of key (a new fence) and a block past every block
 * reserved before, and tell the other nodes (lost()). COAPS_E_NOT_FOUND
 * when the session is gone. */
coaps_status net_store_session_take(struct net_store *st, const uint8_t *key, size_t key_len,
                                    struct net_store_lease *lease);
/* The next block for the holder of fence: lease updated. COAPS_E_STATE
 * when another node holds the lease now (stop sending on the session). */
coaps_status net_store_seq_reserve(struct net_store *st, const uint8_t *key, size_t key_len,
                                   struct net_store_lease *lease);
/* Replace the record (a newer replay-window snapshot, Observe
 * registrations), if fence still holds the lease. COAPS_E_STATE otherwise. */
coaps_status net_store_session_update(struct net_store *st, const uint8_t *key, size_t key_len,
                                      uint64_t fence, const uint8_t *rec, size_t rec_len,
                                      uint32_t ttl_ms);
/* Keep n sessions (keys[i], key_lens[i]) alive another ttl_ms: one round
 * trip for all (pipelined). */
coaps_status net_store_session_touch(struct net_store *st, const uint8_t *const *keys,
                                     const size_t *key_lens, size_t n, uint32_t ttl_ms);
/* The session ended (close_notify, failure, idle): forget it, if fence
 * still holds the lease. */
coaps_status net_store_session_drop(struct net_store *st, const uint8_t *key, size_t key_len,
                                    uint64_t fence);

/* ---- CoAP state every node must see alike ---------------------------------- */

/* The cached reply to a request (RFC 7252 4.5) of the session or peer
 * key with Message ID mid, for ttl_ms (EXCHANGE_LIFETIME). */
coaps_status net_store_reply_put(struct net_store *st, const uint8_t *key, size_t key_len,
                                 uint16_t mid, const uint8_t *reply, size_t len, uint32_t ttl_ms);
/* COAPS_E_NOT_FOUND when none. */
coaps_status net_store_reply_get(struct net_store *st, const uint8_t *key, size_t key_len,
                                 uint16_t mid, uint8_t *reply, size_t cap, size_t *len);
/* A shared value (the light's JSON): set it and tell every node
 * (changed()), or read it (COAPS_E_NOT_FOUND when never set). */
coaps_status net_store_value_set(struct net_store *st, const char *name, const uint8_t *value,
                                 size_t len);
coaps_status net_store_value_get(struct net_store *st, const char *name, uint8_t *value,
                                 size_t cap, size_t *len);
/* Add one to a shared counter; its new value into *value. */
coaps_status net_store_counter_incr(struct net_store *st, const char *name, uint64_t *value);
/* A shared counter's value (0 when never added to). */
coaps_status net_store_counter_get(struct net_store *st, const char *name, uint64_t *value);
/* A 32-byte secret every node shares (the cookie and ticket secrets): the
 * first node to ask makes it (random), the others read it. */
coaps_status net_store_secret(struct net_store *st, const char *name, uint8_t secret[32]);

#endif /* COAPS_NET_STORE_H */
