/*
 * runtime_dtls.h - coaps:// for the single-loop runtime: DTLS 1.2 server
 * sessions in a fixed number of slots chosen at compile time, one
 * handshake context shared by the handshakes in progress, the stateless
 * front door (cookies, RFC 6347 4.2.1) before any slot is taken. The Linux
 * edge's net/dtls_server.c does the same with a hash table and heap-sized
 * pools; a device has a handful of peers, so slots are searched linearly.
 */
#ifndef COAPS_RUNTIME_DTLS_H
#define COAPS_RUNTIME_DTLS_H

#include <stdbool.h>
#include <stdint.h>

#include "coaps/config.h"
#include "coaps/dtls.h"
#include "runtime/runtime.h"

/* Sessions kept at once (the budget: 4). A newcomer beyond them
 * takes the slot of the session silent longest, if silent for
 * COAPS_RUNTIME_DTLS_BUSY_MS; else it is refused. */
#ifndef COAPS_RUNTIME_SESSIONS
#define COAPS_RUNTIME_SESSIONS 4
#endif
/* Handshake contexts: one; a second handshake arriving meanwhile displaces
 * the older one, which its client retransmits into later (RFC 6347 4.2.4).
 * Each is a base (COAPS_DTLS_HS_BASE_SIZE, all a PSK handshake needs) and,
 * only in a build with certificates (COAPS_WITH_PKI), a certificate area
 * (COAPS_DTLS_HS_PKI_SIZE, the bulk of such a build's RAM). */
#ifndef COAPS_RUNTIME_HANDSHAKES
#define COAPS_RUNTIME_HANDSHAKES 1
#endif
/* RFC 7252 4.8.2: MAX_TRANSMIT_WAIT (93 s): a session silent this long
 * has no exchange in flight and may be displaced. */
#define COAPS_RUNTIME_DTLS_BUSY_MS 93000u
/* Sessions silent this long are closed (as coaps-server's default). */
#define COAPS_RUNTIME_DTLS_IDLE_MS 300000u
/* Bytes of one DTLS datagram: a CoAP message plus the record header (13),
 * explicit nonce (8) and the largest tag (16), with margin; also the MTU
 * of our handshake flights (PSK flights are far smaller). Those we send
 * are sealed in the runtime's dgram, a CoAP message where it lies; those
 * received are decrypted where the port keeps them (port.h), which must
 * take this many bytes. */
#define COAPS_RUNTIME_DTLS_DGRAM_MAX COAPS_RUNTIME_DGRAM_MAX

struct coaps_runtime_dtls_stats {
    uint32_t hello_verify;  /* cookies sent by the front door */
    uint32_t handshakes;    /* sessions started (valid cookie) */
    uint32_t established;
    uint32_t failed;        /* handshake or session failed (alert, timeout) */
    uint32_t refused;       /* no slot */
    int16_t alert_last;     /* the alert (RFC 5246 7.2) that ended the last
                               failed handshake or session, sent or
                               received; -1 when none did */
    uint64_t hs_cost_last;  /* coaps_port_cost() of the last handshake that
                               completed: the cookie-bearing ClientHello
                               through the server's Finished */
    uint64_t hs_cost_hvr;   /* ... of the last HelloVerifyRequest */
};

struct coaps_runtime_dtls_session {
    bool used;
    bool established;
    int8_t hs;             /* handshake context, or -1 */
    coaps_peer peer;
    uint64_t last_ms;      /* last datagram in or out */
    uint64_t hello_hash;   /* the ClientHello that made it (RFC 6347 4.2.8) */
    uint64_t hs_cost;      /* work on this handshake so far */
    coaps_dtls_conn conn;
};

struct coaps_runtime_dtls {
    struct coaps_runtime *rt;
    coaps_dtls_config cfg;
    coaps_dtls_server front;
    struct coaps_runtime_dtls_session sessions[COAPS_RUNTIME_SESSIONS];
    coaps_dtls_hs_base hs_base[COAPS_RUNTIME_HANDSHAKES];
#if COAPS_WITH_PKI
    coaps_dtls_hs_pki hs_pki[COAPS_RUNTIME_HANDSHAKES];
#endif
    int8_t hs_owner[COAPS_RUNTIME_HANDSHAKES]; /* session index, or -1 */
    uint64_t hs_started[COAPS_RUNTIME_HANDSHAKES];
    struct coaps_runtime_dtls_stats stats;
};

/* Set up coaps:// on rt: cfg (a server config with psk_lookup; copied, its
 * pointers must outlive d) gets the port's entropy as its random source and
 * COAPS_RUNTIME_DTLS_DGRAM_MAX as MTU, and d becomes rt's secure
 * transport. COAPS_E_CONFIG for a bad config. */
coaps_status coaps_runtime_dtls_init(struct coaps_runtime_dtls *d, struct coaps_runtime *rt,
                                     const coaps_dtls_config *cfg, uint64_t now_ms);

#endif /* COAPS_RUNTIME_DTLS_H */
