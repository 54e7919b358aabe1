/*
 * store_impl.h - what store.c (the front: URI, sealing, stats, events)
 * and the two implementations behind it (store_memory.c, store_redis.c)
 * share. Private to them, the fuzz harness of the sealing
 * (fuzz/fuzz_store_value.c) and the tests.
 *
 * An implementation sees only sealed bytes: store.c seals every value
 * before handing it down and opens every value handed up, so neither
 * the process's memory store nor Redis ever holds a record in clear.
 */
#ifndef COAPS_NET_STORE_IMPL_H
#define COAPS_NET_STORE_IMPL_H

#include "crypto/crypto.h"
#include "net/store.h"

/* The sealed layout: u8 version | 12 nonce | ciphertext | 16 tag. */
#define STORE_SEAL_VERSION 1
#define STORE_SEAL_OVERHEAD (1 + CRYPTO_AEAD_NONCE_LEN + 16)
#define STORE_SEALED_MAX (NET_STORE_VALUE_MAX + STORE_SEAL_OVERHEAD)

/* What a sealed value is, bound into its additional data: a value
 * sealed as one kind never opens as another. */
enum store_kind {
    STORE_KIND_SESSION = 's',
    STORE_KIND_REPLY = 'r',  /* key = session key + the Message ID (be16) */
    STORE_KIND_VALUE = 'v',  /* key = name */
    STORE_KIND_SECRET = 'x', /* key = name */
};
/* Longest key of any kind: a session key and a Message ID. */
#define STORE_ID_MAX (NET_STORE_KEY_MAX + 2)

/* Seal in (len <= NET_STORE_VALUE_MAX) as kind/key into out (cap
 * bytes, at least len + STORE_SEAL_OVERHEAD). a: AES-256-GCM keyed
 * with the state key. A fresh random nonce per value. */
coaps_status store_seal(struct crypto_aead *a, enum store_kind kind, const uint8_t *key,
                        size_t key_len, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                        size_t *out_len);
/* Open what store_seal made for the same kind/key: the plaintext into
 * out (cap bytes). COAPS_E_MALFORMED for anything else (short, another
 * version, another key or kind, damaged); COAPS_E_NOSPACE when it opens
 * but does not fit in cap. */
coaps_status store_open(struct crypto_aead *a, enum store_kind kind, const uint8_t *key,
                        size_t key_len, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                        size_t *out_len);

/* A parsed URI. */
struct store_uri {
    char scheme[8];    /* "memory" or "redis" */
    char name[64];     /* memory:NAME ("" for "memory:") */
    char host[256];    /* redis: an IPv4 or IPv6 literal or a name */
    uint16_t port;
    unsigned db;       /* 0-15 */
    /* redis: AUTH (Redis 6 ACL user, or "" for the default user) with
     * password (none when ""): the URI's USER:PASSWORD@ (percent-decoded),
     * else the password in COAPS_STORE_PASSWORD, which keeps it out of the
     * process list. Wiped by store_uri_wipe. */
    char user[64];
    char password[128];
};
/* COAPS_E_INVALID with one line in err for anything but "memory:",
 * "memory:NAME" or "redis://[[USER]:PASSWORD@]HOST:PORT[/DB]" ("[v6]" for
 * an IPv6 host). The message never shows the password. */
coaps_status store_uri_parse(struct store_uri *u, const char *uri, char *err, size_t cap);
void store_uri_wipe(struct store_uri *u);

/*
 * An implementation: every call takes and gives sealed bytes. The
 * semantics are store.h's; fences and blocks are the implementation's.
 */
struct store_ops {
    coaps_status (*open)(struct net_store *st, const struct store_uri *u, char *err, size_t cap);
    void (*close)(struct net_store *st);
    coaps_status (*attach)(struct net_store *st, struct net_loop *loop);
    bool (*up)(const struct net_store *st);
    coaps_status (*create)(struct net_store *st, const uint8_t *key, size_t key_len,
                           const uint8_t *val, size_t len, uint64_t seq_next, uint32_t ttl_ms,
                           struct net_store_lease *lease);
    coaps_status (*fetch)(struct net_store *st, const uint8_t *key, size_t key_len, uint8_t *val,
                          size_t cap, size_t *len);
    coaps_status (*take)(struct net_store *st, const uint8_t *key, size_t key_len,
                         struct net_store_lease *lease);
    coaps_status (*reserve)(struct net_store *st, const uint8_t *key, size_t key_len,
                            struct net_store_lease *lease);
    coaps_status (*update)(struct net_store *st, const uint8_t *key, size_t key_len,
                           uint64_t fence, const uint8_t *val, size_t len, uint32_t ttl_ms);
    coaps_status (*touch)(struct net_store *st, const uint8_t *const *keys,
                          const size_t *key_lens, size_t n, uint32_t ttl_ms);
    coaps_status (*drop)(struct net_store *st, const uint8_t *key, size_t key_len,
                         uint64_t fence);
    coaps_status (*reply_put)(struct net_store *st, const uint8_t *id, size_t id_len,
                              const uint8_t *val, size_t len, uint32_t ttl_ms);
    coaps_status (*reply_get)(struct net_store *st, const uint8_t *id, size_t id_len,
                              uint8_t *val, size_t cap, size_t *len);
    /* Set and tell every node (store_event_changed with the sealed bytes). */
    coaps_status (*value_set)(struct net_store *st, const char *name, const uint8_t *val,
                              size_t len);
    coaps_status (*value_get)(struct net_store *st, const char *name, uint8_t *val, size_t cap,
                              size_t *len);
    /* Add delta (0: only read) to a counter (0 when new); its value after. */
    coaps_status (*counter_add)(struct net_store *st, const char *name, uint64_t delta,
                                uint64_t *value);
    /* Store cand under name unless one is there, then read what is. */
    coaps_status (*secret)(struct net_store *st, const char *name, const uint8_t *cand,
                           size_t cand_len, uint8_t *val, size_t cap, size_t *len);
    /* Tests only (NULL where not offered): the raw sealed bytes of a
     * value of kind/key, read (get) or overwritten in place (put). */
    coaps_status (*raw)(struct net_store *st, enum store_kind kind, const uint8_t *id,
                        size_t id_len, bool put, uint8_t *val, size_t cap, size_t *len);
};

extern const struct store_ops store_memory_ops;
extern const struct store_ops store_redis_ops;

struct net_store {
    const struct store_ops *ops;
    void *impl;
    struct crypto_aead seal; /* one context per direction (crypto.h) */
    struct crypto_aead open;
    struct crypto_aead open_prev; /* the previous state key, during a rotation */
    bool has_prev;
    char node[64];
    const struct net_log *log;
    struct net_store_events ev;
    bool has_events;
    struct net_store_stats stats;
};

/* For the implementations: another node took key's session with fence;
 * a shared value changed (its sealed bytes: opened here, dropped and
 * counted when they do not open). On the loop's thread. */
void store_event_lost(struct net_store *st, const uint8_t *key, size_t key_len, uint64_t fence);
void store_event_changed(struct net_store *st, const char *name, const uint8_t *sealed,
                         size_t len);

/* Tests: the sealed bytes of a stored value (memory: only), as
 * store_ops.raw. COAPS_E_UNSUPPORTED for a store without it. */
coaps_status net_store_raw(struct net_store *st, enum store_kind kind, const uint8_t *id,
                           size_t id_len, bool put, uint8_t *val, size_t cap, size_t *len);
/* Tests: the memory store's clock (NULL: net_now_ms again). */
void store_memory_set_clock(uint64_t (*now_ms)(void));
/* Tests: the entries of memory stores made from now on (0: the default). */
void store_memory_set_capacity(uint32_t entries);

#endif /* COAPS_NET_STORE_IMPL_H */
