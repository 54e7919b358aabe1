/*
 * state_file.h - the server's durable sessions file (coaps-server --state
 * FILE --state-key KEYFILE; docs/sessions.md, "Durable sessions"): what it
 * holds, how it is sealed, and how it reaches the disk. The sessions
 * themselves go in and out in state_save.c; the bytes are here, apart
 * from the file, so that the parser can be fuzzed alone
 * (fuzz/fuzz_state_file.c).
 *
 * The file: a 40-byte header, then the body sealed with AES-256-GCM under
 * the state key, the header as additional data:
 *
 *   "CSST"  u16 version (1)  u16 flags (0)  8 key id  u64 created (Unix
 *   time, ms)  12 nonce (random)  u32 body length  | body | 16 tag
 *
 * The key id is the first 8 bytes of SHA-256("coaps state key id" ||
 * key): a file sealed under another key is named as such, without trying
 * it. The body: u32 count, then count sessions, each u16 length + record:
 *
 *   u8 n + n   peer address (coaps_peer bytes: a sockaddr_in/_in6)
 *   u16        the local port of the socket it came in on
 *   u32        ms since its last traffic, when saved
 *   u64        hash of the ClientHello that made it (dtls_server.h)
 *   u8 n + n   the DTLS connection (coaps_dtls_export)
 *   u16 n + n  the peer's Observe registrations (coap/observe_state.h)
 */
#ifndef COAPS_NET_STATE_FILE_H
#define COAPS_NET_STATE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coaps/dtls.h"
#include "coaps/peer.h"
#include "common/wire.h"

#define NET_STATE_KEY_LEN 32 /* AES-256 */
#define NET_STATE_KEY_ID_LEN 8
#define NET_STATE_HEADER_LEN 40
#define NET_STATE_TAG_LEN 16
#define NET_STATE_VERSION 1
/* Largest file read: 10,000 sessions take about 3 MB; 256 MiB is room
 * for the largest session table (2^20) with a few observers each. */
#define NET_STATE_FILE_MAX (256u << 20)
/* A file written more than this after our clock says now: a clock that
 * went back, or not our file. */
#define NET_STATE_FUTURE_MS 60000u
/* Bytes of an error or warning line. */
#define NET_STATE_MSG_MAX 512

/* The key that seals, and during a rotation the previous one, which still
 * opens (a state file written before the rotation, a store's values of
 * other nodes not yet rotated; docs/cluster.md). */
struct net_state_key {
    uint8_t key[NET_STATE_KEY_LEN];
    uint8_t id[NET_STATE_KEY_ID_LEN];
    bool has_prev;
    uint8_t prev[NET_STATE_KEY_LEN];
    uint8_t prev_id[NET_STATE_KEY_ID_LEN];
};

/* The key from a file of 64 hex digits (32 bytes; surrounding white space
 * allowed), optionally followed by the previous key: COAPS_OK, or
 * COAPS_E_IO / COAPS_E_INVALID with one line in err naming the file and
 * the problem. */
coaps_status net_state_key_load(struct net_state_key *k, const char *path, char *err,
                                size_t cap);
/* The key and its id from 32 bytes (no previous key). */
coaps_status net_state_key_set(struct net_state_key *k, const uint8_t key[NET_STATE_KEY_LEN]);

/* One session of the body, views into the caller's bytes. */
struct net_state_session {
    coaps_peer peer;
    uint16_t local_port;
    uint32_t idle_ms;
    uint64_t hello_hash;
    const uint8_t *dtls;
    uint8_t dtls_len;
    const uint8_t *obs;
    uint16_t obs_len;
};

/* Append s to w as a u16 length + record. COAPS_E_NOSPACE when it does
 * not fit (w unchanged past its old end is not promised: reset w.off). */
coaps_status net_state_put_session(struct wire_wr *w, const struct net_state_session *s);
/* The next session of a body. COAPS_E_TRUNCATED / COAPS_E_MALFORMED for
 * bytes that are not one (lengths in bounds, addresses of a known size). */
coaps_status net_state_next_session(struct wire_rd *r, struct net_state_session *s);

/* Why a file was not used. */
enum net_state_verdict {
    NET_STATE_OK = 0,
    NET_STATE_TRUNCATED,  /* shorter than its header or its body says */
    NET_STATE_NOT_OURS,   /* no "CSST", or longer than its body says */
    NET_STATE_OTHER_VERSION, /* another layout version */
    NET_STATE_FOREIGN,    /* sealed with another key (key id) */
    NET_STATE_DAMAGED,    /* the tag did not verify */
    NET_STATE_STALE,      /* older than the sessions could have lived */
    NET_STATE_FUTURE,     /* written after now (NET_STATE_FUTURE_MS) */
};

/* Seal a body in place: buf holds NET_STATE_HEADER_LEN bytes of room,
 * then body_len bytes of body, then NET_STATE_TAG_LEN bytes of room. The
 * header is written (created_ms, a random nonce); *len receives the file's
 * length. */
coaps_status net_state_seal(const struct net_state_key *k, uint64_t created_ms, uint8_t *buf,
                            size_t body_len, size_t *len);
/* Check and open a file's bytes in place: the verdict, and on NET_STATE_OK
 * the body (inside buf, decrypted) and the creation time. max_age_ms: a
 * file created longer ago than this before now_ms is NET_STATE_STALE. */
enum net_state_verdict net_state_open(const struct net_state_key *k, uint8_t *buf, size_t len,
                                      uint64_t now_ms, uint64_t max_age_ms,
                                      const uint8_t **body, size_t *body_len,
                                      uint64_t *created_ms);
/* A few words for a verdict ("sealed with another key"). */
const char *net_state_verdict_str(enum net_state_verdict v);

/* (Writing the file: net_secret_file_write, net/secret_file.h.) */
/* Read path whole (at most NET_STATE_FILE_MAX bytes) into *buf (malloc;
 * the caller frees). COAPS_E_NOT_FOUND when there is none, COAPS_E_IO
 * (unreadable), COAPS_E_MALFORMED (too large), each with a line. */
coaps_status net_state_read_file(const char *path, uint8_t **buf, size_t *len, char *err,
                                 size_t cap);

/* Wall-clock milliseconds (CLOCK_REALTIME): a file's age survives the
 * process, which a monotonic clock does not. */
uint64_t net_state_wall_ms(void);

#endif /* COAPS_NET_STATE_FILE_H */
