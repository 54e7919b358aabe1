/*
 * cbench.h - crypto-bench: the cost of the crypto backend's primitives as
 * the DTLS engine uses them, measured without the network, so that two
 * backends (OpenSSL, PSA on Mbed TLS) can be compared figure by figure.
 *
 * Record protection: per AEAD of our cipher suites, one context keyed once
 * per direction (as a session keeps them), then seal and open of a CoAP-sized
 * record: 64 and 1024 bytes of payload, the 13-byte DTLS additional data
 * (RFC 6347 4.1.2.1 / RFC 5246 6.2.3.3) and a nonce that changes with the
 * sequence number on every record. Handshake primitives: HMAC-SHA256, one
 * TLS 1.2 PRF call, ECDHE (key pair + shared secret) and ECDSA P-256 sign and
 * verify. Each figure is this thread's CPU time per operation.
 *
 * Internal to the benchmark: it calls src/crypto/crypto.h directly.
 */
#ifndef COAPS_CBENCH_H
#define COAPS_CBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CBENCH_PROG "crypto-bench"

struct cb_opts {
    uint32_t time_ms; /* CPU time spent on each figure */
    bool json;        /* one JSON line per figure (default), else text */
};

/* Run an operation n times; false when the backend failed (the operation
 * says why on stderr). */
typedef bool (*cb_op_fn)(void *arg, uint64_t n);

struct cb_result {
    uint64_t ops;
    uint64_t cpu_ns; /* CPU time of those ops */
};

/* Time fn: batches grow until one takes about a millisecond (those warm-up
 * batches are not counted), then batches run until budget_ns of CPU time
 * is spent. False when fn failed. */
bool cb_measure(cb_op_fn fn, void *arg, uint64_t budget_ns, struct cb_result *r);

/* Print one figure: alg, op, bytes of input (0 when not meaningful).
 * r NULL: the backend does not implement alg. */
void cb_print(const struct cb_opts *o, const char *alg, const char *op, size_t bytes,
              const struct cb_result *r);

/* The figure groups; each returns 0 when every figure ran, 1 otherwise. */
int cb_aead_all(const struct cb_opts *o);
int cb_handshake_all(const struct cb_opts *o);

#endif /* COAPS_CBENCH_H */
