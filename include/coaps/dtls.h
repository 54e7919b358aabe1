/*
 * coaps/dtls.h - our own DTLS 1.2 engine (RFC 6347) with AEAD cipher suites
 * only: PSK key exchange (RFC 4279) and ECDHE_ECDSA (RFC 8422) with X.509
 * certificates or raw public keys (RFC 7250), mutual authentication
 * optional. The suites used follow the credentials configured.
 *
 * Sans-IO: the engine never touches sockets or clocks. The caller
 *   - feeds every datagram received from the peer: coaps_dtls_input();
 *   - takes datagrams to send until E_AGAIN: coaps_dtls_output();
 *   - asks when to call again: coaps_dtls_next_deadline() / coaps_dtls_tick();
 *   - takes decrypted application data: coaps_dtls_read();
 *   - protects application data: coaps_dtls_write().
 * Time is a monotonic uint64_t in milliseconds, chosen by the caller.
 *
 * Memory: the caller owns every byte. A connection (coaps_dtls_conn) is a
 * fixed-size struct, COAPS_DTLS_CONN_SIZE bytes. While the handshake runs it
 * also needs a handshake context holding the transcript, reassembly buffers
 * and the flight being sent: a 2 KiB base (coaps_dtls_hs_base) for PSK,
 * plus a certificate area (coaps_dtls_hs_pki) where ECDHE_ECDSA may be
 * used, or both in one (coaps_dtls_hs, COAPS_DTLS_HS_SIZE bytes); once
 * coaps_dtls_hs_released() says so (handshake ended, either way) the caller
 * may free or reuse that context. An established session keeps only what it
 * needs for records (+ the server's last Finished to resend it, RFC 6347
 * 4.2.4). Nothing is allocated per packet; the crypto backend allocates
 * inside the AEAD and hash contexts when keys are set up (never per record).
 *
 * Servers put a stateless front door (coaps_dtls_server) before the
 * connections: a ClientHello without a valid cookie is answered with a
 * HelloVerifyRequest and creates no state (RFC 6347 4.2.1).
 */
#ifndef COAPS_DTLS_H
#define COAPS_DTLS_H

#include "coaps/export.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coaps/peer.h"
#include "coaps/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- cipher suites (IANA TLS Cipher Suite registry) -------------------- */

#define COAPS_DTLS_PSK_AES_128_CCM_8 0xC0A8            /* RFC 6655 */
#define COAPS_DTLS_PSK_AES_128_CCM 0xC0A4              /* RFC 6655 */
#define COAPS_DTLS_PSK_AES_128_GCM_SHA256 0x00A8       /* RFC 5487 */
#define COAPS_DTLS_PSK_AES_256_GCM_SHA384 0x00A9       /* RFC 5487 */
#define COAPS_DTLS_PSK_CHACHA20_POLY1305_SHA256 0xCCAB /* RFC 7905 */

/* Most suites a configuration may list (we implement 5 PSK + 5 ECDHE). */
#define COAPS_DTLS_SUITES_MAX 12

/* The suite id for an IANA name ("TLS_PSK_WITH_AES_128_CCM_8") or an
 * OpenSSL-style name ("PSK-AES128-CCM8"); 0 when unknown. */
COAPS_API uint16_t coaps_dtls_suite_by_name(const char *name);
/* The IANA name of a suite we implement, or NULL. */
COAPS_API const char *coaps_dtls_suite_name(uint16_t suite);
/* Whether the crypto backend this library was built with has the suite's
 * AEAD: a suite it lacks is never offered nor chosen. false for an id we
 * do not implement. */
COAPS_API bool coaps_dtls_suite_available(uint16_t suite);
/* Every suite id we implement, in our default order of preference (*n is
 * set to their number, at most COAPS_DTLS_SUITES_MAX). Static storage. */
COAPS_API const uint16_t *coaps_dtls_suites_all(size_t *n);
/* The crypto backend this library was built with: "openssl" or "psa". */
COAPS_API const char *coaps_dtls_crypto_backend(void);

/* ---- PSK (RFC 4279) ------------------------------------------------------ */

/* RFC 4279 5.3: identities up to 128 bytes and keys up to 64 bytes must be
 * supported; those are our bounds. */
#define COAPS_DTLS_PSK_IDENTITY_MAX 128
#define COAPS_DTLS_PSK_KEY_MAX 64
#define COAPS_DTLS_PSK_HINT_MAX 128

/* A key as people type it: text (1..64 bytes) or "0x" + 2..128 hex digits
 * (an even count) into key (COAPS_DTLS_PSK_KEY_MAX bytes). COAPS_E_INVALID
 * with a one-line reason in *why (static text). Linux edge only. */
COAPS_API coaps_status coaps_dtls_psk_from_text(const char *text, size_t text_len, uint8_t *key,
                                                size_t *key_len, const char **why);

/* Server: find the key for a client's identity. Write it to key (key_cap =
 * COAPS_DTLS_PSK_KEY_MAX bytes) and its length to *key_len, return COAPS_OK;
 * return COAPS_E_PSK_IDENTITY when the identity is unknown (the handshake then
 * fails with an unknown_psk_identity alert, RFC 4279 2). */
typedef coaps_status (*coaps_dtls_psk_lookup_fn)(void *user, const uint8_t *identity,
                                                 size_t identity_len, uint8_t *key,
                                                 size_t key_cap, size_t *key_len);

/* Client: choose identity and key, seeing the server's hint (hint_len may be
 * 0). Any failure aborts the handshake with internal_error. */
typedef coaps_status (*coaps_dtls_psk_client_fn)(void *user, const uint8_t *hint, size_t hint_len,
                                                 uint8_t *identity, size_t identity_cap,
                                                 size_t *identity_len, uint8_t *key,
                                                 size_t key_cap, size_t *key_len);

/* ---- certificates and raw public keys (ECDHE_ECDSA, RFC 8422, RFC 7250) -- */

#define COAPS_DTLS_ECDHE_ECDSA_AES_128_CCM_8 0xC0AE            /* RFC 7251 */
#define COAPS_DTLS_ECDHE_ECDSA_AES_128_CCM 0xC0AC              /* RFC 7251 */
#define COAPS_DTLS_ECDHE_ECDSA_AES_128_GCM_SHA256 0xC02B       /* RFC 5289 */
#define COAPS_DTLS_ECDHE_ECDSA_AES_256_GCM_SHA384 0xC02C       /* RFC 5289 */
#define COAPS_DTLS_ECDHE_ECDSA_CHACHA20_POLY1305_SHA256 0xCCA9 /* RFC 7905 */

/* NamedGroup ids for coaps_dtls_config.groups (RFC 8422 5.1.1, RFC 7748). */
#define COAPS_DTLS_GROUP_SECP256R1 23
#define COAPS_DTLS_GROUP_X25519 29
#define COAPS_DTLS_GROUPS_MAX 2 /* the two groups we implement */

/* Loaded certificate material: our credential (certificate chain + EC P-256
 * key, or the key alone for raw public keys), the CAs we trust and the raw
 * public keys we pin. Opaque; made by coaps_dtls_pki_new, read-only after,
 * so one object may serve any number of connections (and threads). */
typedef struct coaps_dtls_pki coaps_dtls_pki;

/* Files to load (libcoap-style flags -c -j -C --rpk-trust). Any pointer may
 * be NULL. A server needs cert_file (or key_file with use_rpk) to offer
 * ECDHE_ECDSA; a client needs ca_file/ca_dir or rpk_trust_file to check the
 * server, and cert_file+key_file only for mutual authentication. */
typedef struct coaps_dtls_pki_files {
    const char *cert_file;      /* PEM: our certificate, then intermediates */
    const char *key_file;       /* PEM: EC P-256 private key (NULL: in cert_file) */
    const char *ca_file;        /* PEM: trusted CA certificates */
    const char *rpk_trust_file; /* PEM: "PUBLIC KEY" blocks of pinned peers (RFC 7250) */
    /* Server: refuse a client without a certificate (handshake_failure,
     * RFC 5246 7.4.6). When ca_file/ca_dir/rpk_trust_file is set the server
     * always asks for one (CertificateRequest) and checks it if sent. */
    bool require_client_cert;
    const char *ca_dir;         /* directory of .pem / .crt CA files */
    /* Send our key as a raw public key (RFC 7250) when the peer offers it. */
    bool use_rpk;
    /* Client: do not check the server certificate's names against
     * coaps_dtls_config.server_name (the chain is still verified). */
    bool no_name_check;
} coaps_dtls_pki_files;

/*
 * Load the files (set-up path: reads files, allocates). On success *out owns
 * the material; free it with coaps_dtls_pki_free after every connection and
 * server using it is gone. On failure returns COAPS_E_IO (unreadable file),
 * COAPS_E_MALFORMED / COAPS_E_UNSUPPORTED / COAPS_E_CONFIG (bad contents, a
 * key that is not EC P-256 or does not match the certificate) or
 * COAPS_E_INVALID (nothing usable given), and err (err_cap bytes, may be
 * NULL) receives one line naming the file and the problem.
 */
COAPS_API coaps_status coaps_dtls_pki_new(coaps_dtls_pki **out, const coaps_dtls_pki_files *files,
                                          char *err, size_t err_cap);

/* The same material as PEM in memory: a device's certificate and key in
 * flash, say. Any pointer may be NULL (key NULL: in cert); the bytes are
 * read (and the certificates copied) during the call only. */
typedef struct coaps_dtls_pki_pem {
    const void *cert;  /* our certificate, then intermediates */
    size_t cert_len;
    const void *key;   /* EC P-256 private key */
    size_t key_len;
    const void *trust; /* CA certificates and "PUBLIC KEY" blocks of pinned peers */
    size_t trust_len;
    bool require_client_cert; /* as in coaps_dtls_pki_files */
    bool use_rpk;
    bool no_name_check;
} coaps_dtls_pki_pem;

/* coaps_dtls_pki_new from PEM in memory; the same results, and err names
 * the "certificate chain" or "private key" where it would name a file. */
COAPS_API coaps_status coaps_dtls_pki_new_pem(coaps_dtls_pki **out, const coaps_dtls_pki_pem *pem,
                                              char *err, size_t err_cap);
/* Free what coaps_dtls_pki_new or _new_pem made; NULL is fine. */
COAPS_API void coaps_dtls_pki_free(coaps_dtls_pki *pki);

/* Longest Connection ID (RFC 9146) we use in either direction: 128 random
 * bits never collide. A peer asking for a longer one gets no CID from a
 * server, and a client refuses it (illegal_parameter). */
#define COAPS_DTLS_CID_MAX 16

/* ---- session resumption (RFC 5246 7.3, 7.4.1.2) ------------------------- */

/* A session to resume: what both ends need for an abbreviated handshake
 * (one round trip, no key exchange, no certificate). Only sessions with
 * the extended master secret are kept or resumed (RFC 7627 5.3). It holds
 * the master secret: store it as you would a key. */
#define COAPS_DTLS_SESSION_ID_MAX 32
#define COAPS_DTLS_MASTER_SECRET_LEN 48
/* Longest session ticket (RFC 5077) a client keeps. Tickets are opaque
 * server state: OpenSSL 3.0 sends about 180 bytes for a PSK session,
 * coaps 84; a server that puts certificates in them goes beyond this, and
 * its tickets are not kept (resumption by session ID still works). */
#define COAPS_DTLS_TICKET_MAX 1024
#define COAPS_DTLS_SESSION_VERSION 2
typedef struct coaps_dtls_session {
    uint16_t version;  /* COAPS_DTLS_SESSION_VERSION (anything else: not used) */
    uint16_t suite;    /* the cipher suite it was made with */
    uint8_t id_len;    /* 0..COAPS_DTLS_SESSION_ID_MAX (0: a ticket only) */
    uint8_t id[COAPS_DTLS_SESSION_ID_MAX];
    uint8_t master_secret[COAPS_DTLS_MASTER_SECRET_LEN];
    /* Client: the server's ticket for this session (RFC 5077 3.3), 0 when
     * it gave none; offered instead of (next to) the ID when resuming. */
    uint32_t ticket_lifetime_s; /* the server's hint; 0: unspecified */
    uint16_t ticket_len;
    uint8_t ticket[COAPS_DTLS_TICKET_MAX];
} coaps_dtls_session;

/* Keep a session that completed a handshake (full or abbreviated): a
 * server's cache, a client's file. Called from inside coaps_dtls_input. */
typedef void (*coaps_dtls_session_store_fn)(void *user, const coaps_dtls_session *session);
/* Server: the session with this ID, if still cached: fill *out, COAPS_OK;
 * COAPS_E_NOT_FOUND otherwise (a full handshake follows). */
typedef coaps_status (*coaps_dtls_session_find_fn)(void *user, const uint8_t *id, size_t id_len,
                                                   coaps_dtls_session *out);

/* Session tickets (RFC 5077), server side: the keys that seal and open
 * them. A ticket is the session (suite, master secret) sealed with
 * AES-256-GCM under the key of a period (period_s seconds of wall-clock
 * time); keys are derived from one secret and the period's number
 * (HMAC-SHA256), so every worker or node given the same secret makes and
 * accepts the same tickets with no shared state. A ticket is accepted in
 * the period it was made in and the next one ("old keys accepted for one
 * period"): its lifetime is one to two periods. Not shared between
 * threads while one of them updates it: give each thread its own copy
 * (coaps_dtls_ticket_keys_init with the same secret). */
#define COAPS_DTLS_TICKET_SECRET_LEN 32
#define COAPS_DTLS_TICKET_PERIOD_S 3600 /* default: tickets live 1-2 hours */
#ifndef COAPS_DTLS_TICKET_KEYS_SIZE
#define COAPS_DTLS_TICKET_KEYS_SIZE 512
#endif
typedef struct coaps_dtls_ticket_keys {
    union {
        max_align_t align_;
        unsigned char opaque[COAPS_DTLS_TICKET_KEYS_SIZE];
    } u;
} coaps_dtls_ticket_keys;

/* Set up keys from secret (COAPS_DTLS_TICKET_SECRET_LEN bytes) for the
 * period holding unix_s (seconds since 1970). period_s 0: the default. */
COAPS_API coaps_status coaps_dtls_ticket_keys_init(coaps_dtls_ticket_keys *k,
                                                   const uint8_t *secret, size_t secret_len,
                                                   uint32_t period_s, uint64_t unix_s);
/* Move to the period holding unix_s (call it now and then, e.g. on every
 * timer turn; cheap when the period has not changed). */
COAPS_API coaps_status coaps_dtls_ticket_keys_update(coaps_dtls_ticket_keys *k, uint64_t unix_s);
/* Wipe the keys. */
COAPS_API void coaps_dtls_ticket_keys_clear(coaps_dtls_ticket_keys *k);

/* Source of randomness; NULL in the config means the crypto backend's. */
typedef coaps_status (*coaps_dtls_random_fn)(void *user, void *out, size_t len);

/* Receives one NSS key log line ("CLIENT_RANDOM <hex> <hex>", no newline)
 * when a handshake completes; for debugging with Wireshark only. */
typedef void (*coaps_dtls_keylog_fn)(void *user, const char *line);

/* ---- configuration --------------------------------------------------------- */

enum coaps_dtls_role {
    COAPS_DTLS_CLIENT = 0,
    COAPS_DTLS_SERVER = 1,
};

/* Defaults used when a field is 0 (a zeroed config is a valid start). */
#define COAPS_DTLS_MTU_DEFAULT 1200       /* fits an IPv6 minimum MTU of 1280 */
#define COAPS_DTLS_MTU_MIN 128            /* a fragment must carry some body */
#define COAPS_DTLS_RETRANS_INITIAL_MS 1000 /* RFC 6347 4.2.4.1 */
#define COAPS_DTLS_RETRANS_MAX_MS 60000    /* RFC 6347 4.2.4.1 */
#define COAPS_DTLS_HANDSHAKE_TIMEOUT_MS 120000

/*
 * The config is read, not copied: it must outlive every connection and
 * server that uses it. Pointers inside it likewise.
 */
typedef struct coaps_dtls_config {
    enum coaps_dtls_role role;

    /* Suites in preference order (the server picks its first that the
     * client offers; a client offers them in this order). NULL/0: the five
     * PSK suites, then the five ECDHE_ECDSA suites, CCM_8 first in each.
     * Only suites whose credentials are configured are offered or accepted
     * (PSK: psk_key/psk_client or psk_lookup; ECDHE_ECDSA: pki, with our
     * key on a server, with a CA or pinned keys on a client). */
    const uint16_t *suites;
    size_t suites_len;

    /* Client: static identity and key, or psk_client to choose by hint. */
    const uint8_t *psk_identity;
    size_t psk_identity_len;
    const uint8_t *psk_key;
    size_t psk_key_len;
    coaps_dtls_psk_client_fn psk_client;
    /* Server: psk_lookup is required; the hint is sent in a
     * ServerKeyExchange when non-empty. */
    coaps_dtls_psk_lookup_fn psk_lookup;
    const uint8_t *psk_hint;
    size_t psk_hint_len;
    void *psk_user;

    /* Client: server_name to send (RFC 6066 3; not sent for an IP literal),
     * NULL for none. With a pki it is also the name the server's
     * certificate must carry (dNSName, or iPAddress for a literal); with
     * NULL the chain is verified but no name is checked. */
    const char *server_name;

    /* Largest datagram we send (UDP payload bytes); 0: default. */
    uint16_t mtu;
    /* RFC 6347 4.2.4 timers; 0: defaults. The handshake fails with
     * COAPS_E_TIMEOUT once handshake_timeout_ms has passed since it began,
     * or after max_retransmits retransmissions of one flight (0: no count
     * limit, only the time limit). */
    uint32_t retrans_initial_ms;
    uint32_t retrans_max_ms;
    uint32_t handshake_timeout_ms;
    uint32_t max_retransmits;

    /* Extended master secret (RFC 7627) is always offered/accepted; with
     * require_ems a peer without it is refused with handshake_failure. */
    bool require_ems;
    /* Records that may fail authentication under one key before the
     * session ends with COAPS_E_AUTH_LIMIT; 0: the limit of the negotiated
     * AEAD after RFC 9147 4.5.3 and Appendix B (AES-128-CCM_8 2^7, AES-128-
     * CCM 2^23.5, AES-GCM and ChaCha20-Poly1305 2^36). A deployment with
     * safeguards against forged datagrams may raise the CCM_8 limit here
     * (RFC 9147 4.5.3 asks for exactly that judgement): see
     * docs/dtls-limits.md. The value applies to every suite. */
    uint32_t auth_fail_limit;

    coaps_dtls_random_fn random;
    void *random_user;
    coaps_dtls_keylog_fn keylog;
    void *keylog_user;
    /* Server: NULL, or a secret (COAPS_DTLS_COOKIE_SECRET_LEN bytes, kept
     * by the caller) that the cookie secrets derive from, one per period of
     * COAPS_DTLS_COOKIE_ROTATE_MS on the now_ms clock (HMAC-SHA256 of the
     * period's number), instead of random ones: the front doors of one
     * server's workers, given the same secret and clock, accept each
     * other's cookies. */
    const uint8_t *cookie_secret;

    /* Certificates / raw public keys (ECDHE_ECDSA suites); NULL: PSK only.
     * PSK and PKI may be configured together: the suites offered and
     * accepted follow the credentials present. Must outlive the config. */
    const coaps_dtls_pki *pki;
    /* ECDHE groups in preference order (COAPS_DTLS_GROUP_*); NULL/0:
     * secp256r1 then x25519 (RFC 7252 9.1.3.2 mandates secp256r1). */
    const uint16_t *groups;
    size_t groups_len;

    /* Connection ID (RFC 9146), so that a session survives the peer's
     * address changing (NAT rebinding). With cid a client offers the
     * connection_id extension and a server accepts it; either side names
     * the CID it wants to receive: cid_len bytes (0..COAPS_DTLS_CID_MAX;
     * 0 = "I send with your CID but need none"), the first cid_prefix_len
     * of them cid_prefix (a routing tag: worker or node), the rest random.
     * A server's edge finds sessions by CID, so all its connections use
     * one length. Builds without COAPS_WITH_CID refuse cid. */
    bool cid;
    uint8_t cid_len;
    const uint8_t *cid_prefix;
    size_t cid_prefix_len;

    /* Session resumption by session ID (RFC 5246 7.3). Client: resume
     * offers that session (its ID in the ClientHello); the server may
     * agree (an abbreviated handshake) or not (a full one). Server: with
     * session_find set, a ClientHello naming a cached session whose suite
     * it still offers, with extended_master_secret, is resumed; with
     * session_store set, full handshakes get a random session ID. Both
     * roles: session_store receives each completed session. */
    const coaps_dtls_session *resume;
    coaps_dtls_session_store_fn session_store;
    coaps_dtls_session_find_fn session_find;
    void *session_user;
    /* Session tickets (RFC 5077). Client: with tickets, the ClientHello
     * carries the session_ticket extension (resume's ticket, or empty to
     * ask for one) and a ticket the server sends is passed to
     * session_store with the session. Server: with ticket_keys, a client
     * that asks gets a ticket and a valid ticket resumes its session with
     * no server state; the final flight then carries NewSessionTicket and
     * the handshake context is released only when the client's first
     * record of the session shows that flight arrived (or at the
     * handshake's time limit), since a resend must repeat the same
     * ticket. Builds without COAPS_WITH_RESUMPTION refuse both. */
    bool tickets;
    coaps_dtls_ticket_keys *ticket_keys; /* sealing uses its contexts */
} coaps_dtls_config;

/* Check a config before use: COAPS_OK or COAPS_E_CONFIG. */
COAPS_API coaps_status coaps_dtls_config_check(const coaps_dtls_config *cfg);

/* ---- connection ------------------------------------------------------------ */

/* Sizes promised to callers; the implementation _Static_asserts them.
 * A connection is 464 bytes on x86-64 today (cipher states, record
 * numbers, replay window, the retained Finished); 512 leaves room to grow
 * without an ABI break. The crypto backend adds its two AEAD contexts,
 * made once per handshake (OpenSSL 3.0: 1.3 KiB for AES-CCM, 2.2 KiB for
 * ChaCha20-Poly1305, 2.4 KiB for AES-GCM per session, measured).
 *
 * A handshake context is a base (COAPS_DTLS_HS_BASE_SIZE) that holds all a
 * PSK handshake needs (1.8 KiB on x86-64 with OpenSSL, 2.0 KiB with PSA:
 * state, transcript and secrets, our PSK flight, two early records, a
 * small reassembly arena), plus, only when a certificate may be in play
 * (ECDHE_ECDSA suites), a certificate area (COAPS_DTLS_HS_PKI_SIZE): the
 * reassembly arena for one 16 KiB handshake message (a peer's certificate
 * chain) and our flight with our own chain (up to 4 KiB). coaps_dtls_hs is
 * the two together, for callers that do not want to tell them apart.
 * A device build that knows its struct conn (376 bytes on rv32 with the
 * PSA backend) may set COAPS_DTLS_CONN_SIZE closer to it; the engine
 * _Static_asserts that it fits, and the ABI is then that build's own. */
#ifndef COAPS_DTLS_CONN_SIZE /* a device build may set its own (-D), checked */
#define COAPS_DTLS_CONN_SIZE 512
#endif
#define COAPS_DTLS_HS_BASE_SIZE 2048
#define COAPS_DTLS_HS_PKI_SIZE 25088
#define COAPS_DTLS_HS_SIZE (COAPS_DTLS_HS_BASE_SIZE + COAPS_DTLS_HS_PKI_SIZE)

/* Storage for the engine's internal structs: sized by the constants above
 * and aligned for any type (max_align_t), so the engine may keep whatever
 * it needs there. Callers never touch the bytes; the engine reaches them
 * only through one accessor per type (src/dtls/conn.h), always as its one
 * internal struct, so no storage is ever read as two different types. */
typedef struct coaps_dtls_conn {
    union {
        max_align_t align_;
        unsigned char opaque[COAPS_DTLS_CONN_SIZE];
    } u;
} coaps_dtls_conn;

typedef struct coaps_dtls_hs_base {
    union {
        max_align_t align_;
        unsigned char opaque[COAPS_DTLS_HS_BASE_SIZE];
    } u;
} coaps_dtls_hs_base;

typedef struct coaps_dtls_hs_pki {
    union {
        max_align_t align_;
        unsigned char opaque[COAPS_DTLS_HS_PKI_SIZE];
    } u;
} coaps_dtls_hs_pki;

/* A whole handshake context: base and certificate area. */
typedef struct coaps_dtls_hs {
    coaps_dtls_hs_base base;
    coaps_dtls_hs_pki pki;
} coaps_dtls_hs;

enum coaps_dtls_state {
    COAPS_DTLS_HANDSHAKING = 0,
    COAPS_DTLS_ESTABLISHED = 1,
    COAPS_DTLS_CLOSED = 2, /* close_notify sent or received */
    COAPS_DTLS_FAILED = 3, /* fatal alert, timeout or limit; see error */
};

/* Why a connection ended. */
typedef struct coaps_dtls_error {
    coaps_status status; /* COAPS_E_ALERT (peer's fatal alert), COAPS_E_TIMEOUT, ... */
    int16_t alert;       /* alert description, -1 when none was involved */
    bool alert_sent;     /* true: we sent it; false: the peer sent it */
} coaps_dtls_error;

/*
 * Start a connection with peer. A client queues its first ClientHello
 * (take it with coaps_dtls_output). A server connection is normally made by
 * the front door (coaps_dtls_server_accept said NEW): init it, then input
 * the same ClientHello datagram.
 * conn and hs are the caller's; both must stay in place (not moved) while in
 * use. Returns COAPS_E_CONFIG for a bad config.
 */
COAPS_API coaps_status coaps_dtls_conn_init(coaps_dtls_conn *conn, const coaps_dtls_config *cfg,
                                            coaps_dtls_hs *hs, const coaps_peer *peer, uint64_t now_ms);

/*
 * The same with the two parts of the handshake context apart: base is
 * required, pki may be NULL. Without pki the connection uses only PSK
 * suites: a client offers only those (COAPS_E_CONFIG if it has no PSK), a
 * server picks only those (handshake_failure for a client that offers no
 * other). A server edge learns before init whether a ClientHello needs pki
 * (coaps_dtls_server_wants_pki). Both stay the caller's and in place until
 * coaps_dtls_hs_released.
 */
COAPS_API coaps_status coaps_dtls_conn_init_split(coaps_dtls_conn *conn, const coaps_dtls_config *cfg,
                                                  coaps_dtls_hs_base *base, coaps_dtls_hs_pki *pki,
                                                  const coaps_peer *peer, uint64_t now_ms);

/* Release all crypto state and wipe conn (and hs if still attached). */
COAPS_API void coaps_dtls_conn_clear(coaps_dtls_conn *conn);

/*
 * Process one received datagram. It may be decrypted in place, so the
 * caller passes it writable; application data read through coaps_dtls_read
 * points into it and stays valid until the next input call or until the
 * caller reuses the buffer. Bad records are dropped and counted
 * (RFC 6347 4.1.2.7), so the result is COAPS_OK for any input unless the
 * connection just ended (COAPS_E_CLOSED / COAPS_E_ALERT / ...; see
 * coaps_dtls_error_reason).
 */
COAPS_API coaps_status coaps_dtls_input(coaps_dtls_conn *conn, uint8_t *dgram, size_t len, uint64_t now_ms);

/*
 * Take the next datagram to send: COAPS_OK with *len bytes in buf, or
 * COAPS_E_AGAIN when nothing is pending. cap must be >= the config's MTU.
 */
COAPS_API coaps_status coaps_dtls_output(coaps_dtls_conn *conn, uint8_t *buf, size_t cap, size_t *len,
                                         uint64_t now_ms);

/* The time coaps_dtls_tick wants to run next; UINT64_MAX when none. */
COAPS_API uint64_t coaps_dtls_next_deadline(const coaps_dtls_conn *conn);

/* Run timers: retransmit a flight (then output has datagrams) or give up. */
COAPS_API coaps_status coaps_dtls_tick(coaps_dtls_conn *conn, uint64_t now_ms);

/* Take the next application record of the last input, in order: COAPS_OK
 * with data and len set to the plaintext, which points into the last input
 * datagram; or COAPS_E_AGAIN when there is none. */
COAPS_API coaps_status coaps_dtls_read(coaps_dtls_conn *conn, const uint8_t **data, size_t *len);

/* Most plaintext bytes one application record may carry with this
 * connection's MTU and suite (0 before the handshake completes). */
COAPS_API size_t coaps_dtls_max_plaintext(const coaps_dtls_conn *conn);

/*
 * Protect application data into one record: out receives the datagram
 * (*out_len bytes) to send. data may lie inside out at exactly
 * coaps_dtls_write_headroom(conn) bytes from its start: it is then sealed
 * where it lies, with no second buffer; any other overlap with out is
 * COAPS_E_INVALID. COAPS_E_STATE unless established, COAPS_E_NOSPACE when
 * len does not fit cap.
 */
COAPS_API coaps_status coaps_dtls_write(coaps_dtls_conn *conn, const uint8_t *data, size_t len,
                                        uint8_t *out, size_t cap, size_t *out_len);

/* Most bytes a record puts before its plaintext: the record header (13,
 * RFC 6347 4.1) and the explicit nonce of AES-GCM and AES-CCM (8,
 * RFC 5288 3, RFC 6655 3); with a Connection ID (RFC 9146 4) the peer's
 * CID on top, at most COAPS_DTLS_CID_MAX bytes. */
#define COAPS_DTLS_WRITE_HEADROOM_MAX 21
#define COAPS_DTLS_WRITE_HEADROOM_CID_MAX (COAPS_DTLS_WRITE_HEADROOM_MAX + COAPS_DTLS_CID_MAX)
/* Bytes coaps_dtls_write puts before the plaintext with this connection's
 * suite: 21, or 13 for ChaCha20-Poly1305 (no explicit nonce, RFC 7905 2),
 * plus the length of the peer's CID when one is in use; 0 unless
 * established. */
COAPS_API size_t coaps_dtls_write_headroom(const coaps_dtls_conn *conn);

/* Send close_notify (queued for coaps_dtls_output) and move to CLOSED. */
COAPS_API coaps_status coaps_dtls_close(coaps_dtls_conn *conn);

COAPS_API enum coaps_dtls_state coaps_dtls_state(const coaps_dtls_conn *conn);
COAPS_API coaps_dtls_error coaps_dtls_error_reason(const coaps_dtls_conn *conn);
/* A one-line description of the error, e.g. "alert received: bad_record_mac". */
COAPS_API const char *coaps_dtls_error_str(const coaps_dtls_conn *conn, char *buf, size_t cap);
/* Name of an alert description ("handshake_failure"), never NULL. */
COAPS_API const char *coaps_dtls_alert_name(int alert);

/* True once the peer answered our first flight of the handshake (a server
 * got more than the ClientHello: its ClientKeyExchange or Certificate; a
 * client got the ServerHello flight), or the handshake is over. A server
 * that must displace a handshake prefers one without progress: a peer
 * that only repeats its ClientHello never makes any. */
COAPS_API bool coaps_dtls_hs_progressed(const coaps_dtls_conn *conn);

/* True when the handshake that established the connection was an
 * abbreviated one (a resumed session). */
COAPS_API bool coaps_dtls_resumed(const coaps_dtls_conn *conn);

/* True once the engine no longer uses the handshake context. */
COAPS_API bool coaps_dtls_hs_released(const coaps_dtls_conn *conn);
/* An established server connection may still hold its handshake context
 * after sending a session ticket in its final flight (until the client's
 * first record, or the handshake time limit: coaps_dtls_next_deadline and
 * coaps_dtls_tick see to that). Give it up now (e.g. when every context
 * is lent and a new handshake needs one); the session goes on, and only a
 * client that lost that final flight must start again. No-op otherwise. */
COAPS_API void coaps_dtls_release_hs(coaps_dtls_conn *conn);

/* The suite negotiated (0 before ServerHello). */
COAPS_API uint16_t coaps_dtls_suite(const coaps_dtls_conn *conn);

/* Counters for operators and tests. */
typedef struct coaps_dtls_stats {
    uint32_t records_dropped;  /* unparsable, wrong epoch, replayed, wrong CID */
    uint32_t retransmits;      /* flights we resent */
    uint32_t replays;          /* records dropped by the replay window */
    uint64_t auth_failures;    /* AEAD tag failures under the current read key */
    uint64_t auth_fail_limit;  /* the limit in force for that key (0 before
                                * keys exist); reaching it ends the session
                                * with COAPS_E_AUTH_LIMIT */
} coaps_dtls_stats;
COAPS_API coaps_dtls_stats coaps_dtls_get_stats(const coaps_dtls_conn *conn);

/* SHA-256 of the key block (RFC 5246 6.3) both sides derived: tests compare
 * the two ends. COAPS_E_STATE before keys exist. */
COAPS_API coaps_status coaps_dtls_key_digest(const coaps_dtls_conn *conn, uint8_t out[32]);

/*
 * An idle session's memory: give back what the crypto backend keeps for
 * this ESTABLISHED connection (handshake context released) outside conn,
 * and keep only its keys, inside conn. Nothing else changes: the next
 * record in or out re-keys on its own (the cost of keying, once), with the
 * same sequence numbers, replay window and failure counts;
 * coaps_dtls_export works as before. true when something was given back
 * (OpenSSL: two EVP cipher contexts, about 1.3 KiB for AES-128-CCM_8);
 * false when the connection is not idle-able (handshaking, failed) or
 * cold already, and always on the PSA backend, whose keys live only in
 * its key store. A server calls it for sessions silent a while
 * (coaps-server --cold-after).
 */
COAPS_API bool coaps_dtls_cool(coaps_dtls_conn *conn);

/* ---- durable sessions (src/dtls/persist.c) ------------------------------------ */

/* Most bytes coaps_dtls_export writes: an established connection's record
 * state (suite, keys and IVs of both directions, sequence numbers, replay
 * window, Connection IDs): docs/sessions.md, "Durable sessions". */
#define COAPS_DTLS_EXPORT_MAX 224
/* Records an imported connection skips before its first write: the blob
 * holds the exact next sequence number, and a (key, nonce) pair must
 * never be used twice; the gap covers records a caller sealed after it
 * took the snapshot (persist.c says why 2^16). */
#define COAPS_DTLS_IMPORT_SEQ_GAP (UINT64_C(1) << 16)

/*
 * Write what an established connection needs to go on (its keys
 * included: seal the bytes as you would a key) into buf (cap bytes,
 * COAPS_DTLS_EXPORT_MAX suffice), the length to *len. Only for a
 * connection that is ESTABLISHED with its handshake context released,
 * else COAPS_E_STATE; COAPS_E_UNSUPPORTED in a build without
 * COAPS_WITH_PERSIST (coaps/config.h). The connection is not changed:
 * take the snapshot after its last record, and import it at most once.
 */
COAPS_API coaps_status coaps_dtls_export(const coaps_dtls_conn *conn, uint8_t *buf, size_t cap,
                                         size_t *len);
/*
 * Make conn (its previous contents are overwritten, not cleared: clear a
 * used one first) the connection exported into buf, established, with
 * cfg (it must have the role, a suite list that allows the suite, and,
 * for a connection with a Connection ID, the same CID length). Its writes
 * continue COAPS_DTLS_IMPORT_SEQ_GAP records after the exported number.
 * Every field is checked: COAPS_E_TRUNCATED or COAPS_E_MALFORMED for bytes
 * that are not a blob of ours, COAPS_E_UNSUPPORTED for another version,
 * COAPS_E_CONFIG for one cfg does not allow, COAPS_E_STATE when no
 * sequence numbers are left, COAPS_E_AUTH_LIMIT when its read key had
 * already failed too often; then conn is FAILED (clearing it is safe).
 */
COAPS_API coaps_status coaps_dtls_import(coaps_dtls_conn *conn, const coaps_dtls_config *cfg,
                                         const uint8_t *buf, size_t len);

/*
 * For the nodes of a cluster that share a session (coaps-server --store,
 * docs/cluster.md): seal the next record with sequence number next, and
 * none at or past limit (writes then fail with COAPS_E_STATE until a new
 * block is set). The caller guarantees that no other holder of the
 * session's keys uses these numbers (the store reserves disjoint blocks).
 * Only for an ESTABLISHED connection: COAPS_E_STATE; next >= limit or
 * limit past 2^48: COAPS_E_INVALID; COAPS_E_UNSUPPORTED without
 * COAPS_WITH_PERSIST.
 */
COAPS_API coaps_status coaps_dtls_set_write_block(coaps_dtls_conn *conn, uint64_t next,
                                                  uint64_t limit);
/* The sequence number the next epoch-1 record will carry (0 before keys). */
COAPS_API uint64_t coaps_dtls_write_seq(const coaps_dtls_conn *conn);

/* ---- Connection ID (RFC 9146) ------------------------------------------------ */

/* Our CID: the one the peer puts in the records it sends us (before the
 * handshake, the one we will ask for). Returns its length and points *cid
 * at it; 0 when the config asks for none. */
COAPS_API size_t coaps_dtls_own_cid(const coaps_dtls_conn *conn, const uint8_t **cid);
/* Server: replace our CID (len must be the config's cid_len) after init,
 * before the first input, to keep CIDs unique in the edge's table.
 * COAPS_E_STATE later, and for a client (its CID left in the ClientHello
 * that init sent). */
COAPS_API coaps_status coaps_dtls_set_own_cid(coaps_dtls_conn *conn, const uint8_t *cid,
                                              size_t len);
/* True once a CID was negotiated (both hellos carried connection_id). */
COAPS_API bool coaps_dtls_cid_negotiated(const coaps_dtls_conn *conn);
/* For a receiver whose CIDs are cid_len (> 0) bytes: true when dgram starts
 * with a tls12_cid record, with *cid pointing at its CID (RFC 9146 4); the
 * edge looks the session up by it. */
COAPS_API bool coaps_dtls_datagram_cid(const uint8_t *dgram, size_t len, size_t cid_len,
                                       const uint8_t **cid);
/* True when the last coaps_dtls_input authenticated a record whose
 * sequence number is newer than any before: the only datagram from which
 * the peer's address may be updated (RFC 9146 6), never a forged,
 * replayed or reordered one. */
COAPS_API bool coaps_dtls_input_newest(const coaps_dtls_conn *conn);

/* ---- server front door --------------------------------------------------- */

/* Cookie secrets rotate every COAPS_DTLS_COOKIE_ROTATE_MS (inside
 * coaps_dtls_server_accept, from the config's random source); a cookie made
 * with the previous secret is still accepted, so a cookie lives one to two
 * periods. */
#define COAPS_DTLS_COOKIE_ROTATE_MS (5 * 60 * 1000)
#define COAPS_DTLS_COOKIE_SECRET_LEN 32
#define COAPS_DTLS_SERVER_SIZE 256

typedef struct coaps_dtls_server {
    union {
        max_align_t align_;
        unsigned char opaque[COAPS_DTLS_SERVER_SIZE];
    } u;
} coaps_dtls_server;

enum coaps_dtls_accept {
    COAPS_DTLS_ACCEPT_DROP = 0, /* ignore the datagram */
    COAPS_DTLS_ACCEPT_SEND = 1, /* send out[0..*out_len) (HVR or alert); no state */
    COAPS_DTLS_ACCEPT_NEW = 2,  /* valid cookie: make a connection, input the datagram */
};

COAPS_API coaps_status coaps_dtls_server_init(coaps_dtls_server *srv, const coaps_dtls_config *cfg,
                                              uint64_t now_ms);
COAPS_API void coaps_dtls_server_clear(coaps_dtls_server *srv);

/* Judge a datagram from a peer that has no connection. Never keeps state
 * about the peer. out (cap >= 256 bytes) receives a HelloVerifyRequest, or a
 * protocol_version alert for a DTLS 1.0 ClientHello. */
COAPS_API coaps_status coaps_dtls_server_accept(coaps_dtls_server *srv, const coaps_peer *peer,
                                                const uint8_t *dgram, size_t len, uint64_t now_ms,
                                                uint8_t *out, size_t cap, size_t *out_len,
                                                enum coaps_dtls_accept *verdict);

/* True when the connection a ClientHello (the datagram the front door said
 * NEW for) makes needs a certificate area (coaps_dtls_conn_init_split):
 * it offers an ECDHE_ECDSA suite this server's config would use (a
 * certificate or raw public key is loaded), or it comes in fragments too
 * large for the base context's reassembly arena (a few hundred bytes).
 * False for anything else. */
COAPS_API bool coaps_dtls_server_wants_pki(const coaps_dtls_server *srv, const uint8_t *dgram, size_t len);

/* True when a datagram starts with an epoch-0 record holding a ClientHello
 * (fragment). An edge that finds such a datagram from a peer whose session
 * is established passes it to the front door first: a valid cookie means
 * the client lost its state and starts over (RFC 6347 4.2.8). */
COAPS_API bool coaps_dtls_is_client_hello(const uint8_t *dgram, size_t len);

/* A 64-bit hash (FNV-1a) of a ClientHello datagram past its 13-byte record
 * header, so a retransmitted or duplicated copy (new record sequence number,
 * same handshake bytes) hashes the same. An edge keeps the hash of the
 * ClientHello that made a session and ignores late copies of it: only a new
 * ClientHello may restart the session (RFC 6347 4.2.8). */
COAPS_API uint64_t coaps_dtls_client_hello_hash(const uint8_t *dgram, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* COAPS_DTLS_H */
