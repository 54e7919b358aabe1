/*
 * runtime.h - the single loop of a device without an operating system: it
 * drives one CoAP endpoint, and through a transport hook the DTLS server
 * sessions of runtime_dtls.h, on the port functions of port/port.h.
 *
 * Memory: everything lives in struct coaps_runtime and in the CoAP endpoint
 * block the caller passes; both are static on a device. Nothing is
 * allocated.
 */
#ifndef COAPS_RUNTIME_H
#define COAPS_RUNTIME_H

#include <stdint.h>

#include "coaps/coap.h"

/* Bytes of one datagram out of the CoAP endpoint: at least the device's
 * max_message_size (checked at init). A device build may set it (-D) to
 * its own; 384 holds a 256-byte block (RFC 7959 2.2) plus the 128 bytes
 * the CoAP core reserves for header, token and options. */
#ifndef COAPS_RUNTIME_MESSAGE_MAX
#define COAPS_RUNTIME_MESSAGE_MAX 384u
#endif
/* Where a CoAP message out sits in the runtime's datagram buffer: after
 * room for the most a secure transport puts before it, so that coaps://
 * seals it where it lies (a DTLS record header and explicit nonce,
 * coaps_dtls_write_headroom) and a device keeps one datagram buffer, not
 * a plaintext one and a record one. */
#define COAPS_RUNTIME_HEADROOM 21u
/* Bytes of that buffer, the largest datagram the runtime sends: the
 * headroom, a message and a record's tag (16) fit with margin; also the
 * MTU of coaps:// handshake flights (PSK flights are far smaller). */
#define COAPS_RUNTIME_DGRAM_MAX (COAPS_RUNTIME_MESSAGE_MAX + 64u)

struct coaps_runtime_stats {
    uint32_t datagrams_in;
    uint32_t datagrams_out;
    uint32_t send_errors;
    uint32_t requests;        /* datagrams measured below */
    uint64_t cost_last;       /* coaps_port_cost() of the last datagram in,
                                 through every reply it produced, less the
                                 cost of handing them to the port */
    uint64_t cost_min;        /* smallest and largest such figure */
    uint64_t cost_max;
    uint64_t io_cost;         /* running total spent in coaps_port_send */
};

/* A secure transport under the CoAP endpoint (coaps://): datagrams from
 * COAPS_TRANSPORT_DTLS peers go to rx, CoAP messages to such peers to tx
 * (msg lies in the runtime's dgram at COAPS_RUNTIME_HEADROOM; tx may use
 * all of dgram around it, and the transport uses dgram for whatever else
 * it sends), and its timers join the loop's. */
struct coaps_runtime_transport {
    void (*rx)(void *ctx, const coaps_peer *from, uint8_t *data, size_t len,
               uint64_t now_ms); /* data: the port's, changed in place */
    coaps_status (*tx)(void *ctx, const coaps_peer *to, const uint8_t *msg, size_t len,
                       uint64_t now_ms);
    uint64_t (*deadline)(void *ctx);
    void (*due)(void *ctx, uint64_t now_ms);
    void *ctx;
};

struct coaps_runtime {
    coaps_coap_endpoint *coap;
    struct coaps_runtime_transport secure; /* rx NULL: coap:// only */
    uint8_t dgram[COAPS_RUNTIME_DGRAM_MAX]; /* the one datagram being sent */
    struct coaps_runtime_stats stats;
};

/* Lay out the CoAP endpoint in coap_mem (see coaps_coap_endpoint_init) with
 * cfg; cfg->random is set to the port's entropy. COAPS_E_CONFIG when
 * max_message_size exceeds COAPS_RUNTIME_MESSAGE_MAX, COAPS_E_NOSPACE
 * when coap_mem is too small. */
coaps_status coaps_runtime_init(struct coaps_runtime *rt, void *coap_mem, size_t coap_mem_len,
                                coaps_coap_config *cfg);

/* Send a datagram through the port, counting it and what it cost (so that
 * per-request figures leave the line's waiting out). */
coaps_status coaps_runtime_send(struct coaps_runtime *rt, const coaps_peer *to,
                                const uint8_t *data, size_t len);

/* One turn: every datagram received so far, the timers that are due, every
 * reply sent. Returns the next deadline (for coaps_port_wait). */
uint64_t coaps_runtime_step(struct coaps_runtime *rt);

/* Forever: step, then sleep until input or the next deadline. */
_Noreturn void coaps_runtime_run(struct coaps_runtime *rt);

#endif /* COAPS_RUNTIME_H */
