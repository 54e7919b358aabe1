/*
 * conn.h - the inside of a DTLS connection (coaps_dtls_conn) and of its
 * handshake context (coaps_dtls_hs), shared by the engine files:
 *   engine.c     public input/output/tick/read/write API, record dispatch
 *   record_io.c  record protection, epochs, replay window
 *   handshake.c  the handshake table (client and server rows)
 *   flight.c     our flight: storage, packing into datagrams, timers
 *   alert.c      alerts and error reasons
 * The connection keeps what an established session needs; everything
 * handshake-only lives in struct conn_hs, which the caller provides and gets
 * back (coaps_dtls_hs_released) when the handshake ends.
 */
#ifndef COAPS_DTLS_CONN_H
#define COAPS_DTLS_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coaps/config.h"
#include "coaps/dtls.h"
#include "crypto/crypto.h"
#include "dtls/cid.h"
#include "dtls/handshake_msg.h"
#include "dtls/key_schedule.h"
#include "dtls/pki.h"
#include "dtls/reassembly.h"
#include "dtls/record.h"
#include "dtls/replay_window.h"
#include "dtls/suites.h"


/* Handshake states: a client walks the C_ rows, a server the S_ rows of the
 * table in handshake.c. */
enum conn_hs_state {
    HS_C_WAIT_HVR_OR_SH = 0, /* sent ClientHello (no cookie) */
    HS_C_WAIT_SH,            /* sent ClientHello with cookie */
    HS_C_WAIT_SKE_OR_SHD,    /* got ServerHello (ECDHE: wait Certificate) */
    HS_C_WAIT_SHD,           /* got ServerKeyExchange (PSK hint) */
    HS_C_WAIT_FINISHED,      /* sent CKE, CCS, Finished */
    HS_S_WAIT_CH,            /* fresh server connection */
    HS_S_WAIT_CKE,           /* sent ServerHello .. ServerHelloDone */
    HS_S_WAIT_FINISHED,      /* got CKE, keys derived */
    HS_DONE,
    /* ECDHE_ECDSA (RFC 8422 2.2, RFC 5246 7.3) */
    HS_C_WAIT_SKE,           /* got the server's Certificate */
    HS_C_WAIT_CR_OR_SHD,     /* got the signed ServerKeyExchange */
    HS_C_WAIT_SHD_AFTER_CR,  /* got CertificateRequest */
    HS_S_WAIT_CKE_AFTER_CERT, /* got the client's Certificate */
    HS_S_WAIT_CV_OR_FINISHED, /* got CKE after a client Certificate */
    /* abbreviated handshake: a resumed session (RFC 5246 7.3, resume.c) */
    HS_C_WAIT_FINISHED_ABBR,  /* got ServerHello naming our session */
    HS_S_WAIT_FINISHED_ABBR,  /* sent ServerHello, CCS, Finished */
};

/* ---- our flight (flight.c) ----------------------------------------------- */

/* Bytes of handshake bodies in one flight of ours, with certificates (the
 * flight buffer of the PKI area). The largest flight without certificates
 * is the client's second ClientHello (see CONN_FLIGHT_PSK_BYTES); a
 * certificate flight adds our chain (DTLS_PKI_CHAIN_BYTES_MAX + 3 + 3 per
 * certificate, at most CRYPTO_CHAIN_MAX), the certificate extensions of
 * the ClientHello (groups 8, point formats 6, signature_algorithms 24,
 * certificate types 2*7) and SKE (4+65+4+72) or CKE + CertificateVerify
 * (66 + 4+72) and CertificateRequest (1+2+2+2*9+2): under 512 bytes. */
#define CONN_FLIGHT_BYTES (1024 + DTLS_PKI_CHAIN_BYTES_MAX + 512)
/* Bytes of handshake bodies in one PSK flight (the flight buffer of the
 * base context). The largest is the client's ClientHello with a cookie:
 * fixed fields 2+32+1+1 + cookie 255 + suites 2+2*COAPS_DTLS_SUITES_MAX(12)
 * + compression 2 + extensions 2 + EMS 4 + renegotiation_info 5 + SNI
 * 9+255 + connection_id 5+16 = 614 bytes. The server's PSK flight is ServerHello (38 + 2+4+5
 * extensions) + ServerKeyExchange (2 + hint 128) + ServerHelloDone, then
 * Finished: 191 bytes; the client's flight 5 CKE (2 + identity 128) +
 * Finished 12. */
#define CONN_FLIGHT_PSK_BYTES 616
/* The largest handshake message body this build writes: the bound of the
 * stack scratch that handshake.c and flight.c build messages in. Without
 * certificates (COAPS_WITH_PKI 0) every message fits the base context's
 * flight buffer, and a device's stack need not hold a certificate flight. */
#if COAPS_WITH_PKI
#define CONN_MSG_BYTES_MAX CONN_FLIGHT_BYTES
#else
#define CONN_MSG_BYTES_MAX CONN_FLIGHT_PSK_BYTES
#endif
/* Bytes of the reassembly arena of the base context: a PSK peer's
 * messages normally come whole and take the zero-copy path; the arena
 * holds what comes fragmented or out of order, body plus bitmap (9/8).
 * 320 bytes hold a 284-byte message: a ServerHello, a CKE with a
 * 128-byte identity, a ClientHello of 100 suites. Larger fragmented
 * messages come with certificates, and the PKI area's arena takes them
 * (DTLS_REASM_ARENA_BYTES). A dropped fragment is resent by the peer. */
#define CONN_REASM_PSK_BYTES 320
/* Entries in one flight: ServerHello, Certificate, ServerKeyExchange,
 * CertificateRequest, ServerHelloDone (5) and Certificate, CKE,
 * CertificateVerify, CCS, Finished (5) are the longest; 6 leaves one. */
#define CONN_FLIGHT_ENTRIES 6
/* Next-epoch records held until their keys exist and the peer's
 * ChangeCipherSpec has come (RFC 6347 4.1: "MAY buffer ... records of the
 * next epoch"): the peer's Finished, and room for one more (a forged
 * record must not be able to push the honest Finished out alone). Bytes
 * per record: a Finished record is at most 13+8+12+12+16 = 61 bytes, 78
 * with a 16-byte Connection ID and its inner type (RFC 9146); 112 covers
 * a small CoAP request sent right behind it (a larger one is dropped, and
 * the client's CoAP retransmission brings it again), and keeps the PSK
 * context within 2 KiB on the PSA backend, whose running hash is 232
 * bytes. */
#define CONN_EARLY_RECORDS 2
#define CONN_EARLY_RECORD_BYTES 112

struct conn_flight_entry {
    uint8_t content_type; /* DTLS_CT_HANDSHAKE or DTLS_CT_CHANGE_CIPHER_SPEC */
    uint8_t msg_type;
    uint16_t epoch;
    uint16_t message_seq;
    uint16_t off, len; /* body in conn_hs.flight_buf */
};

struct conn_flight {
    struct conn_flight_entry e[CONN_FLIGHT_ENTRIES];
    uint8_t n;
    uint16_t used;      /* bytes of flight_buf in use */
    /* transmission cursor: entry index and byte offset in its body */
    uint8_t tx_entry;
    uint16_t tx_off;
    bool tx_started;    /* the current entry's first fragment went out */
    bool tx_pending;    /* datagrams remain to be taken by output */
};

/* The certificate part of a handshake (ECDHE_ECDSA suites, handshake_cert.c):
 * in the caller's coaps_dtls_hs_pki, attached only when a certificate may
 * be in play. Its head holds secrets (kx, pms) and is zeroed at attach and
 * wiped at release; the bulk buffers after it are written before read. */
struct conn_hs_pki {
    struct crypto_kx kx;            /* our ephemeral key pair */
    uint8_t kx_pub[CRYPTO_KX_PUBLIC_MAX]; /* our ephemeral public value */
    uint8_t pms[CRYPTO_KX_SECRET_MAX]; /* client: ECDH secret from SKE */
    struct crypto_peer_key peer_key; /* the peer's verified leaf or raw key */
    /* ---- bulk: the CertificateVerify transcripts (set up by
     * crypto_hash_init before use, read only while hs->cv_on, no secret:
     * handshake messages), our flight with our chain, the peer's chain in
     * reassembly */
    struct crypto_hash cv_hash[2];  /* SHA-256, SHA-384 transcripts for
                                     * CertificateVerify (RFC 5246 7.4.8) */
    uint8_t flight_buf[CONN_FLIGHT_BYTES];
    uint8_t arena[DTLS_REASM_ARENA_BYTES];
};

/* Where the PKI area's bulk starts. */
#define CONN_HS_PKI_HEAD_BYTES offsetof(struct conn_hs_pki, cv_hash)

/* The handshake context: everything a PSK handshake needs, in the caller's
 * coaps_dtls_hs_base (COAPS_DTLS_HS_BASE_SIZE, 2 KiB), plus a pointer to
 * the optional certificate area. */
struct conn_hs {
    uint8_t state;  /* enum conn_hs_state */
    bool transcript_on;
    bool ske_seen;
    bool ems;       /* negotiated extended_master_secret */
    uint8_t hvr_count; /* client: cookie exchanges so far */
    bool ch_seen;   /* server: the first ClientHello fragment arrived */
    bool peer_progress; /* a new peer message arrived since our last flight */
    /* The peer's ChangeCipherSpec and what failed after it (engine.c):
     * epoch-1 records are read only after the CCS (RFC 5246 7.4.9), and a
     * PSK mismatch is told from forgery by failures in two transmissions
     * of the peer's flight, each announced by its CCS. All saturate. */
    uint8_t ccs_copies;    /* peer CCS records seen in this handshake */
    uint8_t fail_copy;     /* ccs_copies at the last epoch-1 failure */
    uint8_t failed_copies; /* transmissions in which an epoch-1 record failed */
    /* ECDHE_ECDSA flags (handshake_cert.c); the bulky state is in pki */
    bool cv_on;                     /* pki->cv_hash running */
    bool kx_on;                     /* pki->kx holds a key pair */
    uint8_t kx_pub_len;
    uint8_t pms_len;
    uint8_t server_cert_type;       /* DTLS_CERT_TYPE_*, RFC 7250 */
    uint8_t client_cert_type;
    bool cert_requested;            /* server sent / client got a CertificateRequest */
    bool can_sign_cv;               /* client: we can answer it with our key */
    bool peer_cert_cv_due;          /* server: client sent a key, CV must follow */
    uint8_t ticket;                 /* CONN_TICKET_* (resume.c, RFC 5077) */
    uint16_t group;                 /* NamedGroup in use */
    struct conn_hs_pki *pki;        /* NULL: PSK suites only */
    uint8_t client_random[DTLS_RANDOM_LEN];
    uint8_t server_random[DTLS_RANDOM_LEN];
    uint8_t ms[DTLS_MASTER_SECRET_LEN];
    bool ms_key_on;
    struct crypto_hmac_key ms_key; /* ms prepared for the PRF: key block, Finished */
    uint8_t hint[COAPS_DTLS_PSK_HINT_MAX];
    uint8_t hint_len;
    /* session ID (resume.c): the one offered (client) or given (server) */
    uint8_t session_id_len;
    uint8_t session_id[DTLS_SESSION_ID_MAX];
    uint16_t next_send_seq;  /* message_seq of our next message */
    /* timers, RFC 6347 4.2.4 */
    uint64_t started_ms;     /* handshake start, for the give-up limit */
    uint32_t rto_ms;         /* current retransmission timeout */
    uint32_t retransmits;    /* of the current flight */
    uint64_t deadline_ms;    /* UINT64_MAX: timer not armed */
    struct conn_flight fl;
    uint8_t *flight_buf;     /* flight_psk, or pki->flight_buf */
    uint16_t flight_cap;
    uint8_t early_n;
    uint16_t early_len[CONN_EARLY_RECORDS];
    /* ---- bulk buffers: everything from here on is written before it is
     * read, holds no secret (our own flight, the peer's handshake
     * messages, records still encrypted), and is neither zeroed at init
     * nor wiped at release: zeroing was ~9 % of a PSK handshake when the
     * context was 25 KiB. Secrets (ms) stay above. The transcript hash is
     * set up by crypto_hash_init before use and read only while
     * transcript_on; with OpenSSL it is the SHA-2 context itself (216
     * bytes), which the head need not zero and wipe. */
    struct crypto_hash transcript; /* RFC 5246 7.4.9 handshake_messages */
    uint8_t flight_psk[CONN_FLIGHT_PSK_BYTES];
    uint8_t early[CONN_EARLY_RECORDS][CONN_EARLY_RECORD_BYTES];
    struct dtls_reasm reasm; /* dtls_reasm_init zeroes its own head */
    uint8_t arena_psk[CONN_REASM_PSK_BYTES];
};

/* conn_hs.ticket: session tickets (RFC 5077) in this handshake. A ticket
 * the client receives waits at its flight's tail (after the flight's last
 * message, which is only resent from then on, never rebuilt) until the
 * server's Finished proves it: u32 lifetime, u16 length, the ticket. */
enum {
    CONN_TICKET_OFFERED = 1u << 0,  /* client: sent the extension */
    CONN_TICKET_EXPECTED = 1u << 1, /* client: the ServerHello answered it */
    CONN_TICKET_RECEIVED = 1u << 2, /* client: NewSessionTicket came */
    CONN_TICKET_KEPT = 1u << 3,     /* client: ... and is at the flight's tail */
    CONN_TICKET_ISSUE = 1u << 4,    /* server: send NewSessionTicket */
};

/* Tickets come with resumption (COAPS_WITH_RESUMPTION); without it every
 * ticket branch is constant false and compiled out (a device's flash). */
#define CONN_TICKETS COAPS_WITH_RESUMPTION

/* Where the bulk buffers start (see above). */
#define CONN_HS_HEAD_BYTES offsetof(struct conn_hs, transcript)

/* The reassembly arena in use: the PKI area's when attached. */
static inline uint8_t *conn_hs_arena(struct conn_hs *hs, size_t *cap)
{
    if (hs->pki) {
        *cap = sizeof(hs->pki->arena);
        return hs->pki->arena;
    }
    *cap = sizeof(hs->arena_psk);
    return hs->arena_psk;
}

/* (Re)start reassembly at next_seq in the arena in use. */
static inline void conn_hs_reasm_start(struct conn_hs *hs, uint16_t next_seq)
{
    size_t cap;
    uint8_t *arena = conn_hs_arena(hs, &cap);
    dtls_reasm_init(&hs->reasm, arena, cap, next_seq);
}

/* ---- record protection state (record_io.c) --------------------------------- */

/* Application records of one input datagram, decrypted in place; the
 * bound is how many records a datagram can hold at our smallest useful
 * record (13 + 8 + 1 + 8): 1500 / 30 = 50; beyond 16 the rest wait for no
 * one and are dropped (counted). */
#define CONN_APP_RECORDS 16

struct conn {
    const coaps_dtls_config *cfg;
    struct conn_hs *hs; /* NULL once released */
    const struct dtls_suite *suite;
    coaps_peer peer;
    uint8_t role;  /* enum coaps_dtls_role */
    uint8_t state; /* enum coaps_dtls_state */
    coaps_dtls_error err;

    /* record layer */
    uint16_t write_epoch;     /* 0 or 1: we never renegotiate */
    bool read_keys;           /* epoch 1 read keys exist */
    bool write_keys;          /* epoch 1 write keys exist */
    uint64_t write_seq0;      /* next epoch-0 sequence number */
    struct dtls_replay_window replay; /* epoch 1, RFC 6347 4.1.2.6 */
    bool rx_newest; /* the last input authenticated a record newer than all
                     * before it (RFC 9146 6: coaps_dtls_input_newest) */
    struct dtls_cipher_state rd, wr;  /* epoch 1 */
#if COAPS_WITH_PERSIST
    /* 0: none. Else no record is sealed with a sequence number at or past
     * it: a cluster node's block of numbers (coaps_dtls_set_write_block). */
    uint64_t write_limit;
#endif
    coaps_dtls_stats stats; /* auth_failures, auth_fail_limit: per read key */
    uint8_t key_digest[32];

    /* handshake numbering that outlives the handshake */
    uint16_t peer_next_seq;  /* peer's next message_seq once hs is gone */
    bool resumed; /* established by an abbreviated handshake */
    /* our final flight (the server's of a full handshake, the client's of
     * an abbreviated one), kept to resend (RFC 6347 4.2.4) */
    bool retain;
    uint16_t retain_seq;
    uint8_t retain_verify[DTLS_VERIFY_DATA_LEN];

    /* output wanted */
    bool resend_retained;
    bool alert_pending;
    uint8_t alert_level, alert_desc;

    /* application data of the last input */
    uint8_t *app_base;
    uint8_t app_n, app_next;
    struct {
        uint16_t off, len;
    } app[CONN_APP_RECORDS];
    uint16_t mtu;
#if COAPS_WITH_CID
    struct conn_cid cid; /* Connection ID (cid.h) */
#endif
    /* why the peer's certificate or signature was refused (enum
     * crypto_x509_reason), for coaps_dtls_error_str */
    uint8_t x509_reason;
};

/* The one way from the public storage to the internal structs (see
 * coaps/dtls.h): the storage is max_align_t-aligned and large enough
 * (_Static_asserts in engine.c), and is only ever accessed as this type
 * (plus character-typed memset/wipe), never as two different types. */
static inline struct conn *conn_of(coaps_dtls_conn *c)
{
    return (struct conn *)(void *)c->u.opaque;
}
static inline const struct conn *conn_of_const(const coaps_dtls_conn *c)
{
    return (const struct conn *)(const void *)c->u.opaque;
}
static inline struct conn_hs *hs_of(coaps_dtls_hs_base *h)
{
    return (struct conn_hs *)(void *)h->u.opaque;
}
static inline struct conn_hs_pki *hs_pki_of(coaps_dtls_hs_pki *h)
{
    return (struct conn_hs_pki *)(void *)h->u.opaque;
}

/* ---- record_io.c ------------------------------------------------------- */

/* Key epoch 1 from the key block (both directions). */
coaps_status conn_install_keys(struct conn *c, const struct dtls_key_block *kb);
void conn_clear_keys(struct conn *c);
/* Append one record of type/epoch with plaintext pt (len) to w; protects it
 * under epoch 1. Takes the next sequence number of that epoch. */
coaps_status conn_write_record(struct conn *c, struct wire_wr *w, uint8_t type, uint16_t epoch,
                               const uint8_t *pt, size_t len);
/* Overhead a record adds at epoch (header + explicit nonce + tag). */
size_t conn_record_overhead(const struct conn *c, uint16_t epoch);
/* Decrypt an epoch-1 record in place inside dgram. On success pt and
 * pt_len give the plaintext (inside dgram) and *type its content type (a
 * tls12_cid record's inner one). Counts failures; checks and updates the
 * replay window; COAPS_E_NOT_FOUND for a record whose CID (or lack of
 * one) does not fit the connection (cid.h). */
coaps_status conn_open_record(struct conn *c, const struct dtls_record *rec, uint8_t *dgram,
                              size_t dgram_len, uint8_t **pt, size_t *pt_len, uint8_t *type);

/* ---- flight.c ------------------------------------------------------------- */

void conn_flight_reset(struct conn_hs *hs);
/* Append a handshake message (body written by the caller into the returned
 * writer region via conn_flight_begin/commit). */
coaps_status conn_flight_add(struct conn_hs *hs, uint8_t content_type, uint8_t msg_type,
                             uint16_t epoch, uint16_t message_seq, const uint8_t *body,
                             size_t len);
/* A writer over the free end of flight_buf: build a large body (a
 * certificate chain) in place, then conn_flight_add it from there. */
struct wire_wr conn_flight_tail(struct conn_hs *hs);
/* Start (re)sending the flight from its first entry. */
void conn_flight_send(struct conn_hs *hs);
/* Fill one datagram from the flight; *len 0 when nothing is pending. */
coaps_status conn_flight_output(struct conn *c, uint8_t *buf, size_t cap, size_t *len);
/* Arm the retransmission timer at its initial value (a new flight). */
void conn_timer_restart(struct conn *c, uint64_t now_ms);
void conn_timer_stop(struct conn *c);
/* The peer repeated its flight (RFC 6347 4.2.4: ours was lost): whether
 * ours may go again now, and sending it. A repeat-triggered resend obeys
 * the 4.2.4.1 timer: at most one per half the current timeout, and it
 * doubles the timeout as a timer expiry does. So a peer (or a flood at its
 * address) that repeats its ClientHello hundreds of times a second gets
 * our flight a few times in all, while an honest peer, whose repeats
 * come when its own timer (1 s) fires, gets it at once every time. */
bool conn_timer_repeat_due(const struct conn *c, uint64_t now_ms);
void conn_timer_repeat(struct conn *c, uint64_t now_ms);
/* Timer handling for coaps_dtls_tick. */
coaps_status conn_timer_tick(struct conn *c, uint64_t now_ms);
/* Resend the server's final flight from the retained Finished. */
coaps_status conn_retained_output(struct conn *c, uint8_t *buf, size_t cap, size_t *len);

/* ---- handshake.c ---------------------------------------------------------- */

/* Random bytes from the config's source, or the crypto backend's. */
coaps_status conn_random(const struct conn *c, void *out, size_t len);
/* Client: build and queue the first ClientHello. */
coaps_status conn_hs_client_start(struct conn *c, uint64_t now_ms);
/* A complete handshake message in message_seq order. epoch is that of the
 * record(s) it came in. */
coaps_status conn_hs_message(struct conn *c, const struct dtls_hs_msg *m, uint16_t epoch,
                             uint64_t now_ms);
/* Wipe and detach the handshake context. */
void conn_hs_release(struct conn *c);
/* Helpers shared with handshake_cert.c. */
coaps_status conn_hs_transcript_add(struct conn_hs *hs, uint8_t type, uint16_t seq,
                                    const uint8_t *body, size_t len);
/* Queue one of our handshake messages (body copied; it may already sit at
 * conn_flight_tail) and hash it into the transcript. */
coaps_status conn_hs_send_msg(struct conn *c, uint8_t type, uint16_t epoch, const uint8_t *body,
                              size_t len);
/* Master secret, key block and epoch-1 keys from a premaster secret, after
 * ClientKeyExchange is in the transcript. */
coaps_status conn_hs_derive_keys(struct conn *c, const uint8_t *pms, size_t pms_len);
/* Key block and epoch-1 keys from hs->ms (a resumed session's). */
coaps_status conn_hs_keys_from_ms(struct conn *c);
/* Start the transcript with the suite's hash. */
coaps_status conn_hs_transcript_start(struct conn *c);
/* Our Finished verify_data over the transcript so far. */
coaps_status conn_hs_finished_data(struct conn *c, bool client,
                                   uint8_t out[DTLS_VERIFY_DATA_LEN]);
/* Check the peer's Finished (peer_client: it is the client's) and hash it. */
coaps_status conn_hs_check_finished(struct conn *c, const struct dtls_hs_msg *m,
                                    bool peer_client);
/* The handshake is over: keys logged, session stored, context released
 * (a server that sent a ticket in its final flight keeps it: see
 * conn_hs_lingering). */
void conn_hs_established(struct conn *c);
/* Our flights after the ClientHello (rows of hs_flights in handshake.c). */
enum conn_hs_flight {
    CONN_FL_SERVER_HELLO,   /* ServerHello .. ServerHelloDone */
    CONN_FL_CLIENT_FINAL,   /* [Certificate] ClientKeyExchange [CertificateVerify] CCS Finished */
    CONN_FL_SERVER_RESUMED, /* ServerHello [NewSessionTicket] CCS Finished */
    CONN_FL_SERVER_TICKET,  /* NewSessionTicket CCS Finished, ending a full handshake */
};
/* Build flight f from its rows (ch: the ClientHello a server flight
 * answers, else NULL) and start sending it. */
coaps_status conn_hs_send_flight(struct conn *c, enum conn_hs_flight f,
                                 const struct dtls_client_hello *ch, uint64_t now_ms);
/* Start transmitting the flight just built and arm its timer. */
void conn_hs_flight_go(struct conn *c, uint64_t now_ms);

/* ---- resume.c: session resumption (RFC 5246 7.3) ---------------------------- */

/* Client, at the start: the session ID to offer (cfg->resume's, or a
 * random one to go with a ticket alone; none without a session). */
coaps_status conn_resume_client_start(struct conn *c);
/* Client: the session ID chosen by conn_resume_client_start. */
struct dtls_view conn_resume_offer(const struct conn *c);
/* Client: the ServerHello named our session: check it (suite, extended
 * master secret, RFC 7627 5.3) and key the connection from it. Returns an
 * alert (>0) for a server that breaks the rules, else 0; *resumed says
 * whether this is an abbreviated handshake. */
int conn_resume_server_hello(struct conn *c, const struct dtls_server_hello *sh, bool *resumed);
/* Server: resume the session ch names if the cache has it and the rules
 * allow; then the abbreviated flight is queued and *resumed set. Else
 * *resumed is false and hs->session_id holds a new random ID (when
 * sessions are stored). */
coaps_status conn_resume_server_try(struct conn *c, const struct dtls_client_hello *ch,
                                    const struct dtls_hs_msg *m, uint64_t now_ms, bool *resumed);
/* At the end of a handshake: the session to cfg->session_store. */
void conn_resume_store(struct conn *c);
/* Client: the session_ticket extension of the ClientHello (with
 * cfg->tickets; the ticket of cfg->resume unless bare). */
coaps_status conn_ticket_client_hello_ext(struct conn *c, struct wire_wr *w, bool bare);
/* Client: the ServerHello's session_ticket extension; an alert (>0) if the
 * server sent one we did not ask for. */
int conn_ticket_server_hello(struct conn *c, const struct dtls_server_hello *sh);
/* Client: the Finished handlers' check that a promised ticket came. */
bool conn_ticket_missing(const struct conn *c);
/* Server: the session_ticket extension of our ServerHello, if issuing. */
coaps_status conn_ticket_server_hello_ext(const struct conn *c, struct wire_wr *w);
/* Server: queue NewSessionTicket (a fresh ticket for this session). */
coaps_status conn_ticket_send(struct conn *c);
/* Row: the client receives NewSessionTicket. */
coaps_status conn_ticket_on_new_session_ticket(struct conn *c, const struct dtls_hs_msg *m,
                                               uint64_t now_ms);
/* Rows of the abbreviated handshake. */
coaps_status conn_resume_on_server_finished(struct conn *c, const struct dtls_hs_msg *m,
                                            uint64_t now_ms);
coaps_status conn_resume_on_client_finished(struct conn *c, const struct dtls_hs_msg *m,
                                            uint64_t now_ms);

/* ---- handshake_cert.c: ECDHE_ECDSA rows and pieces -------------------------- */

/* Client: the certificate extensions of the ClientHello. */
coaps_status conn_cert_client_hello_exts(const struct conn *c, struct wire_wr *w);
/* Client: read the certificate extensions of the ServerHello. Returns an
 * alert to send (>0) or 0. */
int conn_cert_server_hello(struct conn *c, const struct dtls_server_hello *sh);
/* Server: whether an ECDHE_ECDSA suite can be used with this client (group,
 * point format, signature and certificate types), choosing group and
 * certificate types into hs. */
bool conn_cert_server_can(struct conn *c, const struct dtls_client_hello *ch);
/* Server: the certificate extensions of the ServerHello. */
coaps_status conn_cert_server_hello_exts(const struct conn *c, const struct dtls_client_hello *ch,
                                         struct wire_wr *w);
/* Server: whether we ask the client for a certificate (a CA or pinned key
 * to check it against, or one required, and a type both can use). */
bool conn_cert_want_client(const struct conn *c);
/* Writers of the ECDHE_ECDSA rows of our flights (hs_flights in
 * handshake.c): each queues its message; ch is unused. The client's
 * ClientKeyExchange also derives the keys. */
coaps_status conn_cert_write_server_certificate(struct conn *c, const struct dtls_client_hello *ch);
coaps_status conn_cert_write_server_key_exchange(struct conn *c,
                                                 const struct dtls_client_hello *ch);
coaps_status conn_cert_write_certificate_request(struct conn *c,
                                                 const struct dtls_client_hello *ch);
coaps_status conn_cert_write_client_certificate(struct conn *c, const struct dtls_client_hello *ch);
coaps_status conn_cert_write_client_key_exchange(struct conn *c,
                                                 const struct dtls_client_hello *ch);
coaps_status conn_cert_write_certificate_verify(struct conn *c,
                                                const struct dtls_client_hello *ch);
/* Start the CertificateVerify transcripts (ECDHE suites). */
coaps_status conn_cert_transcript_start(struct conn_hs *hs);
/* Handshake handlers (rows of the table). */
coaps_status conn_cert_on_server_certificate(struct conn *c, const struct dtls_hs_msg *m,
                                             uint64_t now_ms);
coaps_status conn_cert_on_server_key_exchange(struct conn *c, const struct dtls_hs_msg *m,
                                              uint64_t now_ms);
coaps_status conn_cert_on_certificate_request(struct conn *c, const struct dtls_hs_msg *m,
                                              uint64_t now_ms);
coaps_status conn_cert_on_client_certificate(struct conn *c, const struct dtls_hs_msg *m,
                                             uint64_t now_ms);
coaps_status conn_cert_on_client_key_exchange(struct conn *c, const struct dtls_hs_msg *m);
coaps_status conn_cert_on_certificate_verify(struct conn *c, const struct dtls_hs_msg *m,
                                             uint64_t now_ms);
/* Release what the ECDHE part of hs holds. */
void conn_cert_release(struct conn_hs *hs);

/* ---- alert.c -------------------------------------------------------------- */

/* End the connection with a fatal alert we send (desc), or none (-1). */
coaps_status conn_fail(struct conn *c, coaps_status st, int alert_desc);
/* Queue a warning alert (close_notify, no_renegotiation). */
void conn_queue_alert(struct conn *c, uint8_t level, uint8_t desc);
/* An alert record body received. */
coaps_status conn_alert_received(struct conn *c, const uint8_t *body, size_t len);

#endif /* COAPS_DTLS_CONN_H */
