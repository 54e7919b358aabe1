/*
 * dtls_server.h - coaps:// for the server's edge (RFC 7252 9.1): DTLS 1.2
 * sessions between the edge's sockets and its CoAP endpoint.
 *
 * One datagram's path: net_edge (socket) -> rx hook -> session lookup by
 * peer address (session_table.h, O(1)) -> no session: the engine's
 * stateless front door (HelloVerifyRequest, RFC 6347 4.2.1; nothing is
 * kept before a valid cookie) / a session: coaps_dtls_input -> decrypted
 * CoAP -> net_edge_deliver(). Back: the CoAP endpoint's output for a
 * COAPS_TRANSPORT_DTLS peer -> tx hook -> the peer's session ->
 * coaps_dtls_write -> net_endpoint_queue(). Responses and notifications so
 * go out on the session the request came in on.
 *
 * Memory is bounded and allocated at init:
 *   - max_sessions slots (a connection, NET_DTLS_SESSION_BYTES each, plus
 *     the crypto backend's AEAD contexts while a session lives and is not
 *     cold: silent for cold_after_ms, it gives them back, coaps_dtls_cool);
 *   - max_handshakes handshake contexts (COAPS_DTLS_HS_BASE_SIZE, 2 KiB
 *     each: all a PSK handshake needs) and max_cert_handshakes certificate
 *     areas (COAPS_DTLS_HS_PKI_SIZE, 24.5 KiB each: only for ClientHellos
 *     that may use ECDHE_ECDSA, coaps_dtls_server_wants_pki), lent to a
 *     session only while it handshakes. A repeated ClientHello from a peer
 *     whose handshake is in progress goes to that handshake (which resends
 *     its flight, RFC 6347 4.2.4) and takes nothing. When all are lent, a
 *     new cookie-valid ClientHello displaces a handshake chosen by
 *     hs_pool.h: one without progress, from the source host holding the
 *     most, the oldest. A flood from validated addresses so displaces
 *     itself, not the slow devices beside it.
 * Pages of slots never used are not touched (calloc), so RSS grows with
 * the sessions in use, not with max_sessions.
 *
 * Session life:
 *   - a new cookie-valid ClientHello from an address that has a session
 *     replaces it (the client lost its state, RFC 6347 4.2.8);
 *   - close_notify, a fatal alert or a handshake timeout end a session;
 *   - a session silent (no record in either direction) for idle_timeout_ms
 *     is closed with close_notify. Observe notifications count as traffic,
 *     so an observer of a changing resource stays; an observation silent
 *     longer than the idle timeout ends with the session, and the client
 *     re-registers as RFC 7641 3.3.1 has it (Max-Age, re-register);
 *   - when the table is full, a newcomer evicts the least recently used
 *     session if it has been silent for busy_ms (default MAX_TRANSMIT_WAIT,
 *     RFC 7252 4.8.2: no CoAP exchange can still be in progress on it),
 *     else the newcomer is refused.
 * Every end calls coaps_coap_forget_peer(), which drops the peer's observe
 * registrations and exchanges.
 */
#ifndef COAPS_NET_DTLS_SERVER_H
#define COAPS_NET_DTLS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coaps/dtls.h"
#include "net/cid_table.h"
#include "net/edge.h"
#include "net/hs_pool.h"
#include "net/log.h"
#include "net/loop.h"
#include "net/psk_store.h"
#include "net/session_cache.h"
#include "net/session_table.h"
#include "net/dtls_cluster.h"

/* Defaults of the flags (coaps-server -h). 10000 sessions x ~2 KiB =
 * 20 MiB at most; 4096 handshakes x 2 KiB = 8 MiB of contexts (+ 4096 x
 * 80 bytes of pool bookkeeping) and 64 certificate areas x 24.5 KiB =
 * 1.5 MiB, all allocated untouched: RSS grows only with the handshakes
 * actually in progress. libcoap's session timeout is 300 s too
 * (COAP_DEFAULT_SESSION_TIMEOUT). */
#define NET_DTLS_MAX_SESSIONS_DEFAULT 10000
#define NET_DTLS_MAX_HANDSHAKES_DEFAULT 4096
#define NET_DTLS_MAX_CERT_HANDSHAKES_DEFAULT 64
#define NET_DTLS_IDLE_TIMEOUT_MS_DEFAULT 300000u
/* A session silent this long goes cold (coaps_dtls_cool: its crypto
 * backend's contexts given back, 1.3 KiB on OpenSSL; the next record
 * re-keys, a few microseconds once). 30 s: far above the gaps inside one
 * CoAP exchange (ACK_TIMEOUT 2-3 s, RFC 7252 4.8) and an active client's
 * requests, so a busy session never pays the re-keying, while a device
 * that reports every minute or less often costs only its keys between
 * reports. */
#define NET_DTLS_COLD_AFTER_MS_DEFAULT 30000u
/* Sessions made cold by one timer run at most (as NET_DTLS_EXPIRE_BATCH). */
#define NET_DTLS_COOL_BATCH 256
/* Heap pages go back to the OS (dtls_server.c, server_trim) once 1024
 * sessions went cold (1.3 MiB of contexts on OpenSSL), or at most every
 * 10 s while fewer did. */
#define NET_DTLS_TRIM_SESSIONS 1024
#define NET_DTLS_TRIM_MS 10000u
/* RFC 7252 4.8.2 MAX_TRANSMIT_WAIT: the longest a CON exchange lasts. */
#define NET_DTLS_BUSY_MS_DEFAULT 93000u
/* Handshakes give up after 30 s (not the engine's 120 s): a half-open
 * handshake holds a context. RFC 6347 4.2.4.1 retransmissions at 1, 2, 4,
 * 8 s still fit. */
#define NET_DTLS_HANDSHAKE_TIMEOUT_MS 30000u

/* Bounds of the flags. 2^20 sessions (NET_SESSION_TABLE_MAX); 65536
 * handshake contexts = 128 MiB; 4096 certificate areas = 98 MiB. */
#define NET_DTLS_MAX_HANDSHAKES_LIMIT 65536
#define NET_DTLS_MAX_CERT_HANDSHAKES_LIMIT 4096

/* Log lines about failed handshakes: at most NET_DTLS_LOG_BURST per
 * NET_DTLS_LOG_WINDOW_MS, then a count of the ones suppressed; a flood
 * must not fill the disk. */
#define NET_DTLS_LOG_BURST 10
#define NET_DTLS_LOG_WINDOW_MS 10000u

/* Sessions closed by one timer run at most (idle expiry): bounds the time
 * one callback takes; the rest go at the next run, 1 ms later. */
#define NET_DTLS_EXPIRE_BATCH 256

struct net_dtls_server_opts {
    uint32_t max_sessions;    /* slots; 0: default */
    /* a bound on sessions shared with other servers (a server's workers,
     * net/server_worker.h), or NULL: then max_sessions is the bound */
    struct net_session_total *sessions_total;
    uint32_t max_handshakes;  /* 0: default */
    uint32_t max_cert_handshakes; /* 0: default */
    /* handshakes in progress from one source host (net_hs_host_key: an
     * IPv4 address, an IPv6 /64) at most: past it, the host's newest
     * displaces its own oldest (no progress first). 0: a quarter of
     * max_handshakes. Certificate areas: a quarter of
     * max_cert_handshakes. */
    uint32_t max_handshakes_per_host;
    uint32_t idle_timeout_ms; /* 0: default */
    uint32_t busy_ms;         /* 0: default */
    uint32_t cold_after_ms;   /* 0: default; UINT32_MAX: never cold */
    /* resumable sessions kept (RFC 5246 7.3, session_cache.h); 0: as many
     * as max_sessions; session_cache_off: no session IDs, no resumption */
    uint32_t session_cache;
    bool session_cache_off;
    /* session tickets (RFC 5077, ticket.h): on unless tickets_off; keys
     * from ticket_secret when has_ticket_secret (shared by workers and
     * nodes; kept across restarts), else from a random one; a ticket
     * lives one to two periods of ticket_period_s (0: the default) */
    bool tickets_off;
    bool has_ticket_secret;
    uint8_t ticket_secret[COAPS_DTLS_TICKET_SECRET_LEN];
    uint32_t ticket_period_s;
};

struct net_dtls_server_stats {
    uint64_t hello_verify;       /* ClientHellos answered statelessly */
    uint64_t front_dropped;      /* datagrams from unknown peers dropped */
    uint64_t handshakes;         /* sessions started (cookie-valid) */
    uint64_t established;
    uint64_t failed;             /* handshake or session failures */
    uint64_t closed;             /* close_notify from the peer */
    uint64_t restarted;          /* replaced by a new ClientHello */
    uint64_t idle_expired;
    uint64_t evicted;            /* LRU eviction for a newcomer */
    uint64_t handshakes_evicted; /* handshake displaced (hs_pool.h order) */
    uint64_t handshakes_host_capped; /* a host at its bound gave up its own */
    uint64_t refused;            /* no slot: table full of busy sessions */
    uint64_t tx_no_session;      /* CoAP output for a peer without session */
    uint64_t unknown_identity;
    uint64_t auth_limit;         /* ended at the AEAD's limit of records failing
                                  * authentication (RFC 9147 4.5.3) */
    uint64_t cid_unknown;        /* tls12_cid records with a CID no session has */
    uint64_t cid_handed_off;     /* of those, passed to the worker of their tag */
    uint64_t peer_moved;         /* sessions that followed their peer to a new
                                  * address (RFC 9146 6) */
    uint64_t resumed;            /* established by an abbreviated handshake */
    uint64_t restored;           /* taken from a state file at start (state_save.h) */
    uint64_t cooled;             /* silent sessions made cold (cold_after_ms) */
    uint64_t woken;              /* cold sessions that had traffic again */
    /* a cluster (coaps-server --store, dtls_cluster.h) */
    uint64_t stored;             /* sessions put in the store */
    uint64_t taken_over;         /* sessions taken from the store (another
                                  * node's, or this one's before a restart) */
    uint64_t take_refused;       /* a record that did not authenticate under
                                  * the stored session, or whose session the
                                  * store has no more */
    uint64_t take_limited;       /* takeovers not tried: over the rate limit */
    uint64_t take_us;            /* microseconds the takeovers took (fetch,
                                  * check, lease), for the average */
    uint64_t lost;               /* sessions another node took */
    uint64_t store_failed;       /* store calls that failed (down, erring) */
};

struct net_ratelimit {
    uint64_t window_start;
    uint32_t count;
    uint32_t suppressed;
};

/* Kinds of abuse log lines, each with its own rate limit, so that a flood
 * of one kind does not hide the others. */
enum net_dtls_log_kind {
    NET_DTLS_LOG_FAILURE = 0, /* handshake or session failed (wrong key, identity) */
    NET_DTLS_LOG_HS_BUSY = 1, /* handshake pool full: one displaced */
    NET_DTLS_LOG_FULL = 2,    /* session table full: newcomer refused */
    NET_DTLS_LOG_KINDS = 3,
};

struct net_dtls_session {
    coaps_dtls_conn conn;
    struct net_endpoint *ep; /* the socket the client talks to */
    uint32_t hs;             /* handshake context index, or NET_HS_NONE */
    uint32_t pki;            /* certificate area index, or NET_HS_NONE */
    bool established;
    bool cold; /* made cold (coaps_dtls_cool), no traffic since */
    /* in the state file (state_save.h): ends without close_notify, the
     * client goes on with the next process */
    bool saved;
    /* Hash of the ClientHello that started the session (without its record
     * header): a duplicate or late retransmission of it must not restart
     * an established session (RFC 6347 4.2.8 is for a client that starts
     * over, with a new random). */
    uint64_t hello_hash;
    /* In the cluster's store (dtls_cluster.h): the lease's fence, and the
     * end of the block of write sequence numbers it holds. */
    bool stored;
    bool lost; /* another node holds it now: ends without a word */
    uint64_t fence;
    uint64_t seq_limit;
};

/* Bytes one session slot costs (connection + table entry), without the
 * crypto backend's AEAD contexts. */
#define NET_DTLS_SESSION_BYTES (sizeof(struct net_dtls_session) + sizeof(struct net_session_slot))

struct net_dtls_server {
    coaps_dtls_config cfg; /* the caller's, with our psk_lookup */
    const struct net_psk_store *psk;
    struct net_edge *edge;
    const struct net_log *log;
    struct net_dtls_server_opts opts;
    coaps_dtls_server front;
    struct net_session_table table;
    struct net_session_cache cache; /* resumable sessions (session IDs) */
    coaps_dtls_ticket_keys tickets; /* when cfg.ticket_keys (= &tickets) */
    struct net_cid_table cids;    /* sessions by our CID (RFC 9146), when
                                   * cfg.cid with cid_len > 0 */
    struct net_dtls_session *sessions; /* parallel to table slots */
    coaps_dtls_hs_base *hs_mem;   /* max_handshakes contexts */
    coaps_dtls_hs_pki *pki_mem;   /* max_cert_handshakes areas */
    struct net_hs_pool hs_pool;   /* who holds which context */
    struct net_hs_pool pki_pool;  /* who holds which area */
    struct net_dtls_server_stats stats;
    uint64_t trim_cooled; /* stats.cooled at the last heap trim */
    uint64_t trim_ms;     /* and its time */
    /* A tls12_cid record whose CID no session here has: true when the
     * hook took it (another worker's, net/handoff.h), else it is dropped
     * as unknown. NULL (net_dtls_server_init's): dropped. */
    bool (*foreign_cid)(void *ctx, const coaps_peer *src, const uint8_t *cid,
                        const uint8_t *data, size_t len);
    void *foreign_ctx;
    struct net_cluster cluster; /* a node of a cluster: its store */
    struct net_ratelimit log_limit[NET_DTLS_LOG_KINDS];
    /* the identity our lookup last refused, for the log line */
    uint8_t bad_identity[COAPS_DTLS_PSK_IDENTITY_MAX];
    size_t bad_identity_len;
    /* a copy of a datagram a takeover tries (dtls_cluster.c), decrypted
     * there: the datagram itself goes to the front door if it fails */
    uint8_t rx[NET_UDP_DGRAM_MAX];
    uint8_t tx[NET_UDP_DGRAM_MAX]; /* one record or flight datagram */
};

/*
 * Set up the server side of coaps://. base: role, suites, hint, mtu, keylog
 * (copied; pointers in it must outlive srv); psk: the keys (borrowed, must
 * outlive srv), may be NULL when base carries other credentials. Allocates
 * the tables. COAPS_E_CONFIG, COAPS_E_NOMEM.
 */
coaps_status net_dtls_server_init(struct net_dtls_server *srv, struct net_edge *edge,
                                  const struct net_log *log, const coaps_dtls_config *base,
                                  const struct net_psk_store *psk,
                                  const struct net_dtls_server_opts *opts, uint64_t now_ms);

/* Route the edge's COAPS_TRANSPORT_DTLS traffic through srv and add its
 * timer to loop. */
coaps_status net_dtls_server_attach(struct net_dtls_server *srv, struct net_loop *loop);

/* For the modules that put sessions in and take them out (state_save.c,
 * dtls_cluster.c): end session i (its CoAP state, crypto state and slot;
 * close_notify first with notify), and serve it after input (deliver
 * its CoAP, send its records, follow its state). */
void net_dtls_session_end(struct net_dtls_server *srv, uint32_t i, bool notify, uint64_t now_ms);
void net_dtls_session_service(struct net_dtls_server *srv, uint32_t i, uint64_t now_ms);
/* A session put back from its export (blob: coaps_dtls_import) into a new
 * slot at peer, on ep, not yet established nor on the LRU list: its slot,
 * or NET_SESSION_NONE (address taken, table full, blob refused: nothing
 * kept). net_dtls_session_discard takes such a slot back silently. */
uint32_t net_dtls_session_import(struct net_dtls_server *srv, struct net_endpoint *ep,
                                 const coaps_peer *peer, uint64_t hello_hash,
                                 const uint8_t *blob, size_t len, uint64_t now_ms);
void net_dtls_session_discard(struct net_dtls_server *srv, uint32_t i);

/* Number of sessions (handshaking or established). */
uint32_t net_dtls_server_sessions(const struct net_dtls_server *srv);

/* Send close_notify to every established session, end all, free memory. */
void net_dtls_server_close(struct net_dtls_server *srv, uint64_t now_ms);

/* Rate limiter used for abuse log lines: true when a line may be printed
 * now; *suppressed receives (and resets) the count held back before a new
 * window opened. */
bool net_ratelimit_allow(struct net_ratelimit *rl, uint64_t now_ms, uint32_t burst,
                         uint64_t window_ms, uint32_t *suppressed);

#endif /* COAPS_NET_DTLS_SERVER_H */
