/*
 * session_cache.h - the coaps:// server's cache of resumable sessions
 * (RFC 5246 7.3 session IDs), behind coaps_dtls_config.session_find and
 * session_store. Bounded: cap entries allocated once at set-up (untouched
 * pages cost no RSS), O(1) lookup by a hash of the ID, the oldest entry
 * replaced when full (FIFO: a flood of handshakes can push sessions out,
 * which costs their clients a full handshake, never memory), and an entry
 * older than its lifetime is never returned (RFC 5246 F.1.4 suggests at
 * most 24 hours). Entries hold master secrets: wiped when replaced,
 * expired or freed.
 */
#ifndef COAPS_NET_SESSION_CACHE_H
#define COAPS_NET_SESSION_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "coaps/dtls.h"
#include "coaps/status.h"

#define NET_SESSION_CACHE_LIFETIME_MS (24u * 3600u * 1000u)

/* What a server keeps of a session: coaps_dtls_session without the
 * client's ticket (a server's sessions have none), 85 bytes, not 1.1 KiB. */
struct net_cached_core {
    uint16_t version; /* 0: free */
    uint16_t suite;
    uint8_t id_len;
    uint8_t id[COAPS_DTLS_SESSION_ID_MAX];
    uint8_t master_secret[COAPS_DTLS_MASTER_SECRET_LEN];
};

struct net_cached_session {
    struct net_cached_core s;
    uint64_t stored_ms;
    uint32_t next; /* next entry in the same bucket */
};

struct net_session_cache {
    uint32_t cap;
    uint32_t head; /* the entry replaced next */
    uint32_t bucket_mask;
    uint32_t *buckets;
    struct net_cached_session *e;
    uint64_t lifetime_ms;
    uint64_t now_ms; /* the time store and find see (set by the edge) */
    uint64_t stored, found, missed;
};

/* A cache of cap (>= 1) sessions. COAPS_E_NOMEM, COAPS_E_INVALID. */
coaps_status net_session_cache_init(struct net_session_cache *c, uint32_t cap);
/* Wipe and free. */
void net_session_cache_free(struct net_session_cache *c);
/* The coaps_dtls_config callbacks; user is the cache. */
void net_session_cache_store(void *user, const coaps_dtls_session *s);
coaps_status net_session_cache_find(void *user, const uint8_t *id, size_t id_len,
                                    coaps_dtls_session *out);

#endif /* COAPS_NET_SESSION_CACHE_H */
