/* report.c - one JSON line (default) or a short text summary per run. */
#include <inttypes.h>
#include <stdio.h>

#include "bench.h"

static const char *const mode_names[] = {"requests", "handshakes", "idle"};
static const char *const scheme_names[] = {"coap", "coaps"};

/* What one operation is in each mode: the unit of rates and CPU per op. */
static const char *const op_names[] = {"requests", "handshakes", "established"};
static const char *const rate_names[] = {"rps", "hps", "eps"};

/* How the server was authenticated: PSK, its certificate chain, or its
 * pinned raw public key. */
static const char *auth_name(const struct bench_opts *o)
{
    if (!o->ecdhe)
        return "psk";
    return o->pki.rpk_trust_file != NULL ? "rpk" : "x509";
}

static double per_second(uint64_t n, uint64_t us)
{
    return us ? (double)n * 1e6 / (double)us : 0.0;
}

static double per_op(uint64_t n, uint64_t ops)
{
    return ops ? (double)n / (double)ops : 0.0;
}

static void report_json(const struct bench_opts *o, const struct bench_result *r)
{
    uint64_t ops = o->mode == BENCH_IDLE ? r->setup_ok : r->completed;
    printf("{\"mode\":\"%s\",\"scheme\":\"%s\",\"host\":\"%s\",\"port\":%u,\"path\":\"%s\"",
           mode_names[o->mode], scheme_names[o->scheme], o->host, o->port, o->path);
    if (o->scheme == BENCH_COAPS)
        printf(",\"suite\":\"%s\",\"auth\":\"%s\"", coaps_dtls_suite_name(o->suite),
               auth_name(o));
    printf(",\"gso\":%s,\"fleet\":%s", o->gso ? "true" : "false", o->fleet ? "true" : "false");
    if (o->cid)
        printf(",\"cid\":%u,\"cid_sessions\":%" PRIu64, (unsigned)o->cid_len, r->cid_sessions);
    if (o->resume)
        printf(",\"resume\":true,\"resumed\":%" PRIu64, r->resumed);
    if (o->tickets)
        printf(",\"tickets\":true");
    printf(",\"sessions\":%" PRIu32 ",\"window\":%" PRIu32 ",\"duration_s\":%" PRIu32
           ",\"elapsed_s\":%.3f",
           o->sessions, o->window, o->duration_s, (double)r->elapsed_us / 1e6);
    printf(",\"%s\":%" PRIu64, op_names[o->mode], ops);
    if (o->mode != BENCH_IDLE)
        printf(",\"%s\":%.1f,\"p50_us\":%" PRIu64 ",\"p99_us\":%" PRIu64, rate_names[o->mode],
               per_second(ops, r->elapsed_us), bench_hist_quantile(&r->hist, 0.50),
               bench_hist_quantile(&r->hist, 0.99));
    printf(",\"setup_ok\":%" PRIu64 ",\"setup_failed\":%" PRIu64 ",\"failures\":%" PRIu64
           ",\"timeouts\":%" PRIu64 ",\"retransmits\":%" PRIu64 ",\"errors\":%" PRIu64
           ",\"stray\":%" PRIu64 ",\"client_cpu_us\":%" PRIu64,
           r->setup_ok, r->setup_failed, r->failures, r->timeouts, r->retransmits, r->errors,
           r->stray, r->client_cpu_us);
    printf(",\"client_cpu_us_per_op\":%.2f", ops ? (double)r->client_cpu_us / (double)ops : 0.0);
    printf(",\"tx_bytes\":%" PRIu64 ",\"rx_bytes\":%" PRIu64 ",\"tx_datagrams\":%" PRIu64
           ",\"rx_datagrams\":%" PRIu64 ",\"tx_bytes_per_op\":%.1f,\"rx_bytes_per_op\":%.1f",
           r->tx_bytes, r->rx_bytes, r->tx_dgrams, r->rx_dgrams, per_op(r->tx_bytes, ops),
           per_op(r->rx_bytes, ops));
    if (o->server_pid > 0) {
        const struct bench_proc_sample *a = &r->srv_before, *b = &r->srv_after;
        printf(",\"server_pid\":%d", o->server_pid);
        if (a->ok && b->ok) {
            uint64_t cpu = b->cpu_us - a->cpu_us, sys = b->sys_us - a->sys_us;
            int64_t rss = (int64_t)b->rss_kb - (int64_t)a->rss_kb;
            printf(",\"server_sys_us\":%" PRIu64 ",\"server_sys_us_per_op\":%.2f", sys,
                   ops ? (double)sys / (double)ops : 0.0);
            printf(",\"server_cpu_us\":%" PRIu64 ",\"server_cpu_us_per_op\":%.2f"
                   ",\"server_rss_kb_before\":%" PRIu64 ",\"server_rss_kb_after\":%" PRIu64
                   ",\"server_rss_delta_kb\":%" PRId64,
                   cpu, ops ? (double)cpu / (double)ops : 0.0, a->rss_kb, b->rss_kb, rss);
            if (o->mode == BENCH_IDLE)
                printf(",\"rss_per_session_bytes\":%.0f",
                       ops ? (double)rss * 1024.0 / (double)ops : 0.0);
        } else {
            printf(",\"server_sample\":\"unreadable\"");
        }
    }
    printf("}\n");
}

static void report_text(const struct bench_opts *o, const struct bench_result *r)
{
    uint64_t ops = o->mode == BENCH_IDLE ? r->setup_ok : r->completed;
    printf("%s %s://%s:%u/%s  sessions %" PRIu32 " window %" PRIu32 "  %.2f s\n",
           mode_names[o->mode], scheme_names[o->scheme], o->host, o->port, o->path, o->sessions,
           o->window, (double)r->elapsed_us / 1e6);
    printf("  %s %" PRIu64, op_names[o->mode], ops);
    if (o->mode != BENCH_IDLE)
        printf("  %.1f/s  p50 %" PRIu64 " us  p99 %" PRIu64 " us", per_second(ops, r->elapsed_us),
               bench_hist_quantile(&r->hist, 0.50), bench_hist_quantile(&r->hist, 0.99));
    printf("\n  UDP payload sent %" PRIu64 " B in %" PRIu64 " datagrams (%.1f B per op), received %" PRIu64
           " B in %" PRIu64 " (%.1f B per op)",
           r->tx_bytes, r->tx_dgrams, per_op(r->tx_bytes, ops), r->rx_bytes, r->rx_dgrams,
           per_op(r->rx_bytes, ops));
    if (o->cid)
        printf("\n  Connection ID %u bytes: negotiated by %" PRIu64 " sessions", (unsigned)o->cid_len,
               r->cid_sessions);
    if (o->resume)
        printf("\n  resumed (abbreviated handshakes): %" PRIu64, r->resumed);
    printf("\n  failures %" PRIu64 "  timeouts %" PRIu64 "  retransmits %" PRIu64
           "  errors %" PRIu64 "  setup failed %" PRIu64 "\n",
           r->failures, r->timeouts, r->retransmits, r->errors, r->setup_failed);
    if (o->server_pid > 0 && r->srv_before.ok && r->srv_after.ok) {
        uint64_t cpu = r->srv_after.cpu_us - r->srv_before.cpu_us;
        printf("  server cpu %" PRIu64 " us (%.2f us per op)  rss %" PRIu64 " -> %" PRIu64 " kB\n",
               cpu, ops ? (double)cpu / (double)ops : 0.0, r->srv_before.rss_kb,
               r->srv_after.rss_kb);
    }
}

void bench_report(const struct bench_opts *o, const struct bench_result *r)
{
    if (o->json)
        report_json(o, r);
    else
        report_text(o, r);
    fflush(stdout); /* the line first, then any note on stderr */
    if (r->first_error[0] != '\0')
        fprintf(stderr, BENCH_PROG ": first error: %s\n", r->first_error);
}
