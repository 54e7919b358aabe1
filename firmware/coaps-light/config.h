/*
 * config.h - the one place a coaps-light build is sized. Every table of the
 * CoAP endpoint is fixed here at compile time; the runtime checks at start
 * that the endpoint fits FW_COAP_MEM and stops (QEMU exits non-zero) if
 * not. Sizes target a light: a handful of clients, small JSON bodies.
 */
#ifndef COAPS_FW_CONFIG_H
#define COAPS_FW_CONFIG_H

/* One datagram: a 256-byte block (RFC 7959 2.2) or the light's largest
 * state (LIGHT_STATE_MAX) plus the 128 bytes of header, token and options
 * the CoAP core reserves (COAP_MSG_OVERHEAD). Every message buffer of the
 * endpoint (send queue, CON exchanges, duplicate replies: 15 of them) has
 * this size, so it is the largest lever on RAM; but a 128-byte block
 * would split /stats (about 160 bytes) into blocks of a representation
 * that changes with every request, and without an ETag (RFC 7959 2.4) a
 * client would join pieces of two. Must not exceed
 * COAPS_RUNTIME_MESSAGE_MAX (set to the same value by the build). */
#define FW_MESSAGE_MAX 384
/* Default Block2 size of our responses; clients may ask for smaller. */
#define FW_BLOCK_SIZE 256
/* Largest representation we build or take in blocks (Block1): the light's
 * state (LIGHT_STATE_MAX, 256), /.well-known/core (135), the /stats
 * documents (under 260 bytes with every counter at its widest). */
#define FW_BODY_MAX 384
/* RFC 7252 4.5 duplicate detection, kept per peer: the peers remembered
 * and the Message IDs (with replies) of each. A light talks to a few
 * clients, each with one request in flight (NSTART 1). */
#define FW_DEDUP_PEERS 4
#define FW_DEDUP_PER_PEER 2
/* Replies waiting for the line in one turn: a request's answer plus the
 * notifications of every observer after a PUT. */
#define FW_OUTQ_ENTRIES 6
/* CON notifications awaiting their ACK (one per observer). */
#define FW_EXCHANGES 4
#define FW_OBSERVERS 4
/* light, stats, stats/uart, stats/dtls (+ .well-known/core, built in). */
#define FW_RESOURCES 4
/* Block1 uploads reassembled at once (a PUT of the light in blocks). */
#define FW_BODY_SLOTS 1

/* Bytes of the CoAP endpoint block for the tables above on rv32: exactly
 * what coaps_coap_endpoint_size() says (checked at start; the firmware
 * stops and names the figure when the tables grow past it). Of it, the 15
 * message buffers are 5,760 bytes, the 4 observers (each keeping a
 * registration of up to COAP_OBS_REQ_MAX, 64, bytes) 544; the endpoint's
 * copy of its config 16 of it for a cluster's shared-dedup hooks the
 * light never sets (COAPS_WITH_SHARED_DEDUP 0 leaves their code out). */
#define FW_COAP_MEM 9168

/* coaps:// (built when the firmware's Mbed TLS is, COAPS_FW_DTLS): the
 * reference device's DEMO PSK credentials (scripts/run-server). Session
 * slots and handshake contexts: COAPS_RUNTIME_SESSIONS (4) and
 * COAPS_RUNTIME_HANDSHAKES (1) in runtime/runtime_dtls.h. */
#define FW_PSK_KEY "esp32c3_key"
#define FW_PSK_HINT "CoAP"

#endif /* COAPS_FW_CONFIG_H */
