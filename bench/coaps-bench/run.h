/*
 * run.h - what a session's events mean for the run; the policy of each
 * mode lives here (run.c), the mechanics in session.c. After any of these
 * the session may be closed or reopened (its epoch changed).
 */
#ifndef COAPS_BENCH_RUN_H
#define COAPS_BENCH_RUN_H

#include "session.h"

/* coaps: the handshake completed; coap: the socket is open. */
void run_on_established(struct bench_ctx *c, struct bench_session *s);
/* A 2.05 with the right token arrived for slot idx (already freed). */
void run_on_response(struct bench_ctx *c, struct bench_session *s, uint32_t idx,
                     uint64_t latency_us);
/* Slot idx (already freed) got a wrong answer, or timed out. */
void run_on_request_failed(struct bench_ctx *c, struct bench_session *s, uint32_t idx,
                           bool timeout);
/* The session is unusable: DTLS failed or closed, or a socket error. */
void run_on_session_failed(struct bench_ctx *c, struct bench_session *s);

#endif /* COAPS_BENCH_RUN_H */
