/*
 * run.c - the event loop and the three modes of coaps-bench (bench.h).
 *
 * The measured window is [t0, t1): completions inside it are counted, the
 * server's /proc counters and our own CPU time are sampled at its edges.
 * Setting up the sessions of requests mode (handshakes included) happens
 * before t0 and is not measured.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include "net/addr.h"
#include "run.h"

/* Events taken per epoll_wait: one per session that became readable. */
#define RUN_EPOLL_BATCH 256
/* File descriptors besides the sessions' sockets (stdio, epoll, /proc). */
#define RUN_FD_MARGIN 64

/* ---- mode policy -------------------------------------------------------- */

static void setup_finished(struct bench_ctx *c, bool ok)
{
    c->in_setup--;
    if (ok)
        c->r->setup_ok++;
    else
        c->r->setup_failed++;
}

void run_on_established(struct bench_ctx *c, struct bench_session *s)
{
    if (c->o->mode == BENCH_REQUESTS) {
        s->state = SESS_READY;
        setup_finished(c, true);
        return;
    }
    /* idle and handshakes: one GET proves the session carries requests */
    s->state = SESS_SETUP_GET;
    sess_issue(c, s, 0);
}

void run_on_response(struct bench_ctx *c, struct bench_session *s, uint32_t idx,
                     uint64_t latency_us)
{
    switch (c->o->mode) {
    case BENCH_REQUESTS:
        if (c->measuring) {
            c->r->completed++;
            bench_hist_add(&c->r->hist, latency_us);
        }
        if (c->issuing)
            sess_issue(c, s, idx);
        return;
    case BENCH_IDLE:
        if (s->state == SESS_SETUP_GET) {
            s->state = SESS_READY;
            setup_finished(c, true);
        }
        return;
    case BENCH_HANDSHAKES:
        if (c->measuring) {
            c->r->completed++;
            bench_hist_add(&c->r->hist, c->now_us - s->started_us);
        }
        sess_close(c, s);
        if (c->issuing && !sess_open(c, s))
            c->issuing = false; /* out of sockets: stop, report what we have */
        return;
    }
}

void run_on_session_failed(struct bench_ctx *c, struct bench_session *s)
{
    bool in_setup = s->state == SESS_HANDSHAKING || s->state == SESS_SETUP_GET;
    sess_close(c, s);
    switch (c->o->mode) {
    case BENCH_HANDSHAKES:
        if (c->counting)
            c->r->failures++;
        if (c->issuing && !sess_open(c, s))
            c->issuing = false;
        return;
    case BENCH_REQUESTS:
    case BENCH_IDLE:
        if (in_setup)
            setup_finished(c, false);
        else if (c->counting)
            c->r->failures++; /* an established session was lost */
        return;
    }
}

void run_on_request_failed(struct bench_ctx *c, struct bench_session *s, uint32_t idx,
                           bool timeout)
{
    if (timeout) {
        if (c->counting)
            c->r->timeouts++;
        bench_note_error(c, "request timed out after %d retransmissions", BENCH_MAX_RETRANSMIT);
    }
    if (c->o->mode == BENCH_REQUESTS) {
        if (c->issuing)
            sess_issue(c, s, idx);
        return;
    }
    run_on_session_failed(c, s); /* the set-up GET of idle/handshakes failed */
}

/* ---- event loop ---------------------------------------------------------- */

static void timers(struct bench_ctx *c)
{
    for (uint32_t i = 0; i < c->o->sessions; i++)
        sess_on_timer(c, &c->sessions[i]);
}

/* Run until until_us, or until step() (called every turn, may be NULL)
 * says the phase is over. */
static void loop_until(struct bench_ctx *c, uint64_t until_us, bool (*step)(struct bench_ctx *))
{
    struct epoll_event ev[RUN_EPOLL_BATCH];
    uint64_t next_tick = bench_now_us() + BENCH_TICK_MS * 1000u;
    for (;;) {
        c->now_us = bench_now_us();
        if (c->now_us >= until_us || (step != NULL && step(c)))
            return;
        if (c->now_us >= next_tick) {
            timers(c);
            next_tick = c->now_us + BENCH_TICK_MS * 1000u;
        }
        uint64_t wake = next_tick < until_us ? next_tick : until_us;
        int timeout_ms = wake > c->now_us ? (int)((wake - c->now_us + 999) / 1000) : 0;
        int n = epoll_wait(c->epfd, ev, RUN_EPOLL_BATCH, timeout_ms);
        for (int i = 0; i < n; i++) {
            struct bench_session *s = ev[i].data.ptr;
            if (s->state != SESS_CLOSED)
                sess_on_readable(c, s);
        }
    }
}

/* requests/idle set-up: open sessions, at most BENCH_SETUP_INFLIGHT
 * handshaking at once; over when all have succeeded or failed. */
static bool setup_step(struct bench_ctx *c)
{
    while (c->opened < c->o->sessions && c->in_setup < BENCH_SETUP_INFLIGHT) {
        struct bench_session *s = &c->sessions[c->opened++];
        c->in_setup++;
        if (!sess_open(c, s)) {
            setup_finished(c, false);
            c->opened = c->o->sessions; /* out of sockets: stop opening */
        }
    }
    return c->opened == c->o->sessions && c->in_setup == 0;
}

static uint64_t self_cpu_us(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
           (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

struct window {
    uint64_t t0, cpu0;
};

static void window_open(struct bench_ctx *c, struct window *w)
{
    bench_proc_sample(c->o->server_pid, &c->r->srv_before);
    w->cpu0 = self_cpu_us();
    w->t0 = bench_now_us();
    c->now_us = w->t0;
    c->measuring = true;
    c->issuing = true;
}

static void window_close(struct bench_ctx *c, const struct window *w)
{
    uint64_t t1 = bench_now_us();
    c->measuring = false;
    c->issuing = false;
    c->counting = false;
    c->r->elapsed_us = t1 - w->t0;
    c->r->client_cpu_us = self_cpu_us() - w->cpu0;
    bench_proc_sample(c->o->server_pid, &c->r->srv_after);
}

static int run_requests(struct bench_ctx *c)
{
    loop_until(c, bench_now_us() + BENCH_SETUP_TIMEOUT_MS * 1000u, setup_step);
    if (c->r->setup_ok == 0) {
        fprintf(stderr, BENCH_PROG ": no session could be set up (%s)\n",
                c->r->first_error[0] ? c->r->first_error : "timeout");
        return 1;
    }
    struct window w;
    window_open(c, &w);
    for (uint32_t i = 0; i < c->o->sessions; i++)
        sess_fill_window(c, &c->sessions[i]);
    loop_until(c, w.t0 + (uint64_t)c->o->duration_s * 1000000u, NULL);
    window_close(c, &w);
    return 0;
}

static int run_handshakes(struct bench_ctx *c)
{
    struct window w;
    window_open(c, &w);
    for (uint32_t i = 0; i < c->o->sessions; i++)
        if (!sess_open(c, &c->sessions[i])) {
            fprintf(stderr, BENCH_PROG ": %s\n", c->r->first_error);
            return 1;
        }
    loop_until(c, w.t0 + (uint64_t)c->o->duration_s * 1000000u, NULL);
    window_close(c, &w);
    return 0;
}

static int run_idle(struct bench_ctx *c)
{
    /* Memory is a difference: the baseline is taken before any session. */
    struct window w;
    window_open(c, &w);
    c->measuring = false;
    c->issuing = false;
    loop_until(c, bench_now_us() + BENCH_SETUP_TIMEOUT_MS * 1000u, setup_step);
    if (c->r->setup_ok == 0) {
        fprintf(stderr, BENCH_PROG ": no session could be set up (%s)\n",
                c->r->first_error[0] ? c->r->first_error : "timeout");
        return 1;
    }
    loop_until(c, bench_now_us() + (uint64_t)c->o->duration_s * 1000000u, NULL);
    window_close(c, &w);
    return 0;
}

/* ---- set-up and tear-down -------------------------------------------------- */

static int split_path(struct bench_ctx *c)
{
    snprintf(c->path_buf, sizeof c->path_buf, "%s", c->o->path);
    char *p = c->path_buf;
    while (*p != '\0') {
        char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len > 0) { /* "a//b" has an empty segment: skip it */
            if (c->nsegs == BENCH_PATH_SEGMENTS_MAX) {
                fprintf(stderr, BENCH_PROG ": --path '%s': more than %d segments\n", c->o->path,
                        BENCH_PATH_SEGMENTS_MAX);
                return 2;
            }
            c->segs[c->nsegs] = p;
            c->seg_len[c->nsegs++] = len;
        }
        if (slash == NULL)
            break;
        p = slash + 1;
    }
    return 0;
}

static int setup_server(struct bench_ctx *c)
{
    const char *err = NULL;
    if (net_addr_resolve(c->o->host, c->o->port, false, &c->server, &c->server_len, &err) !=
        COAPS_OK) {
        fprintf(stderr, BENCH_PROG ": --host '%s': %s\n", c->o->host, err ? err : "not found");
        return 2;
    }
    if (net_peer_from_sockaddr((const struct sockaddr *)&c->server, c->server_len,
                               COAPS_TRANSPORT_DTLS, &c->peer) != COAPS_OK) {
        fprintf(stderr, BENCH_PROG ": --host '%s': not an IPv4 or IPv6 address\n", c->o->host);
        return 2;
    }
    return 0;
}

/* ECDHE_ECDSA: the server is checked as coaps-client checks it, chain (or
 * pinned key) and name, so the handshake is the one real clients make. */
static int setup_pki(struct bench_ctx *c)
{
    char err[256] = "";
    coaps_status st = coaps_dtls_pki_new(&c->pki, &c->o->pki, err, sizeof err);
    if (st != COAPS_OK) {
        fprintf(stderr, BENCH_PROG ": certificates: %s\n", err[0] ? err : coaps_status_str(st));
        return 2;
    }
    c->dtls.pki = c->pki;
    c->dtls.server_name = c->o->host;
    return 0;
}

/* --resume: the last session made, offered by the next handshakes. */
static void keep_session(void *user, const coaps_dtls_session *s)
{
    struct bench_ctx *c = user;
    c->resume = *s;
}

static int setup_dtls(struct bench_ctx *c)
{
    coaps_dtls_config *d = &c->dtls;
    memset(d, 0, sizeof *d);
    d->role = COAPS_DTLS_CLIENT;
    c->suites[0] = c->o->suite;
    d->suites = c->suites;
    d->suites_len = 1;
    if (c->o->ecdhe) {
        if (setup_pki(c) != 0)
            return 2;
    } else {
        d->psk_identity = (const uint8_t *)c->o->psk_identity;
        d->psk_identity_len = strlen(c->o->psk_identity);
        d->psk_key = (const uint8_t *)c->o->psk_key;
        d->psk_key_len = strlen(c->o->psk_key);
    }
    d->handshake_timeout_ms = BENCH_HANDSHAKE_TIMEOUT_MS;
    d->cid = c->o->cid;
    d->cid_len = c->o->cid_len;
    d->tickets = c->o->tickets;
    if (c->o->resume) {
        /* the first handshake is full; each session made is offered next
         * (its version is 0 until then: not offered) */
        d->session_store = keep_session;
        d->session_user = c;
        d->resume = &c->resume;
    }
    if (coaps_dtls_config_check(d) != COAPS_OK) {
        fprintf(stderr, BENCH_PROG ": DTLS configuration refused (identity, key, suite or "
                        "certificates)\n");
        return 2;
    }
    return 0;
}

/* One socket per session: make sure the descriptor limit allows it. */
static int setup_fd_limit(uint32_t sessions)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)sessions + RUN_FD_MARGIN;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return 0;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
        /* root (CAP_SYS_RESOURCE) may raise the hard limit too, up to
         * fs.nr_open: 100,000 sessions are above the usual 20,000 */
        struct rlimit hard = {.rlim_cur = want, .rlim_max = want};
        if (setrlimit(RLIMIT_NOFILE, &hard) == 0)
            return 0;
        fprintf(stderr, BENCH_PROG ": --sessions %u needs %llu file descriptors, limit is %llu\n",
                sessions, (unsigned long long)want, (unsigned long long)rl.rlim_max);
        return 2;
    }
    rl.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        fprintf(stderr, BENCH_PROG ": cannot raise the file descriptor limit: %s\n",
                strerror(errno));
        return 2;
    }
    return 0;
}

static int setup_sessions(struct bench_ctx *c)
{
    c->sessions = calloc(c->o->sessions, sizeof *c->sessions);
    if (c->sessions == NULL)
        return 1;
    for (uint32_t i = 0; i < c->o->sessions; i++) {
        c->sessions[i].fd = -1;
        c->sessions[i].reqs = calloc(c->o->window, sizeof *c->sessions[i].reqs);
        if (c->sessions[i].reqs == NULL)
            return 1;
    }
    return 0;
}

static void teardown(struct bench_ctx *c)
{
    if (c->sessions != NULL) {
        for (uint32_t i = 0; i < c->o->sessions; i++) {
            sess_close(c, &c->sessions[i]);
            free(c->sessions[i].hs);
            free(c->sessions[i].reqs);
        }
        free(c->sessions);
    }
    if (c->epfd >= 0)
        close(c->epfd);
    coaps_dtls_pki_free(c->pki); /* after every connection using it */
}

int bench_run(const struct bench_opts *o, struct bench_result *r)
{
    struct bench_ctx *c = calloc(1, sizeof *c);
    if (c == NULL) {
        fprintf(stderr, BENCH_PROG ": out of memory\n");
        return 1;
    }
    c->o = o;
    c->r = r;
    c->epfd = -1;
    c->counting = true;
    int rc = split_path(c);
    if (rc == 0)
        rc = setup_server(c);
    if (rc == 0 && o->scheme == BENCH_COAPS)
        rc = setup_dtls(c);
    if (rc == 0)
        rc = setup_fd_limit(o->sessions);
    if (rc == 0 && setup_sessions(c) != 0) {
        fprintf(stderr, BENCH_PROG ": out of memory for %u sessions\n", o->sessions);
        rc = 1;
    }
    if (rc == 0) {
        c->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (c->epfd < 0) {
            fprintf(stderr, BENCH_PROG ": epoll: %s\n", strerror(errno));
            rc = 1;
        }
    }
    if (rc == 0) {
        if (o->mode == BENCH_REQUESTS)
            rc = run_requests(c);
        else if (o->mode == BENCH_HANDSHAKES)
            rc = run_handshakes(c);
        else
            rc = run_idle(c);
    }
    teardown(c);
    free(c);
    return rc;
}
