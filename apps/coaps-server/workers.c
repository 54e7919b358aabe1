/*
 * workers.c - coaps-server --workers N: N threads, each a whole
 * coaps_server (its own event loop, sockets, edge, DTLS sessions, CoAP
 * endpoint) on ports it shares with the others (SO_REUSEPORT); see
 * net/server_worker.h and docs/workers.md.
 *
 * Nothing the stack touches per request is shared between workers. What
 * is shared:
 *   - read-only after set-up: the flags and the secrets of
 *     net_workers_shared (the cookie secret, the session-ticket secret);
 *   - the light's state (struct shared_light): a PUT on one worker is what
 *     a GET on any other returns, and every worker's observers are told.
 *     The light's handlers copy its 256 bytes under a mutex (the
 *     application's state, not the stack's: the mutex is held for a
 *     memcpy and taken only by /light requests), and a PUT writes each
 *     other worker's eventfd; that worker, woken in its own loop, sees
 *     the new version and marks its own /light changed, so its observers
 *     are notified from its own thread, on their own sessions.
 *   - the --test-resources (test_resources.h), one set for all.
 * The main thread sets the workers up, restores the --state file into
 * them (each session into the worker its records will reach), starts
 * them, waits for SIGINT/SIGTERM, stops them (the stop flag and their
 * eventfds), saves their sessions into the one state file and prints the
 * server's statistics: the totals, then a line a worker.
 *
 * The bounds of the flags (--max-sessions, ...) are the server's: each
 * worker gets ceil(N / workers) (split_bounds), except the sessions: a
 * count the workers share holds --max-sessions, and each worker has slots
 * for its share plus the spread of peers over workers (worker_slots).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "coaps/coap.h"
#include "coaps/server.h"
#include "net/dtls_server.h"
#include "net/log.h"
#include "net/server_worker.h"
#include "server_app.h"
#include "test_resources.h"

/* "coaps-server[63]" and its NUL. */
#define WORKER_NAME_MAX 24

struct shared_light {
    pthread_mutex_t lock;
    uint8_t state[LIGHT_STATE_MAX];
    size_t len;
    _Atomic uint64_t version; /* bumped by every PUT, under lock */
};

struct workers;

struct worker {
    unsigned index;
    struct workers *all;
    struct server s;  /* s.light shows the shared light through store */
    struct light_store store;
    int wake_fd;      /* eventfd: a PUT elsewhere, or stop */
    uint64_t seen;    /* light version this worker's observers were told of */
    pthread_t thread;
    bool started;
    coaps_status run_status;
    char name[WORKER_NAME_MAX];
};

struct workers {
    unsigned n;
    struct worker *w;
    struct net_workers_shared shared;
    struct net_session_total sessions; /* --max-sessions, all workers' */
    struct shared_light light;
    struct net_handoff_ring *rings; /* --cid-steer handoff: n x n, [from][to] */
    struct test_resources *test;    /* --test-resources, or NULL */
    coaps_server *srv[SERVER_WORKERS_MAX]; /* each worker's, for the whole-server calls */
    struct net_log log;             /* the server's own lines ("coaps-server: ...") */
    atomic_bool stop;
    pthread_t main_thread;
};

unsigned server_online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        return 1;
    return n > SERVER_WORKERS_MAX ? SERVER_WORKERS_MAX : (unsigned)n;
}

/* ---- the shared light ------------------------------------------------------ */

static size_t light_load(void *ctx, uint8_t state[LIGHT_STATE_MAX])
{
    struct shared_light *l = &((struct worker *)ctx)->all->light;
    pthread_mutex_lock(&l->lock);
    size_t len = l->len;
    memcpy(state, l->state, len);
    pthread_mutex_unlock(&l->lock);
    return len;
}

static void worker_kick(const struct worker *w)
{
    uint64_t one = 1;
    /* EAGAIN: the counter is full, the worker will wake anyway */
    (void)!write(w->wake_fd, &one, sizeof one);
}

/* After a PUT on worker ctx (which notified its own observers): the new
 * state for all, and every other worker woken to notify its own. */
static void light_store(void *ctx, const uint8_t *state, size_t len)
{
    struct worker *self = ctx;
    struct workers *all = self->all;
    struct shared_light *l = &all->light;
    pthread_mutex_lock(&l->lock);
    memcpy(l->state, state, len);
    l->len = len;
    self->seen = atomic_fetch_add(&l->version, 1) + 1;
    pthread_mutex_unlock(&l->lock);
    for (unsigned i = 0; i < all->n; i++)
        if (&all->w[i] != self)
            worker_kick(&all->w[i]);
}

/* ---- the hand-off route (--cid-steer handoff, net/handoff.h) ----------------- */

static struct net_handoff_ring *ring_of(const struct workers *all, unsigned from, unsigned to)
{
    return &all->rings[from * all->n + to];
}

/* On worker ctx's thread: a CID record no session of ours has. Tagged
 * with another worker: into our ring to it, waking it if it may sleep. A
 * full ring, or our own or no worker's tag: dropped as unknown. */
static bool worker_pass_on(void *ctx, const coaps_peer *src, const uint8_t *cid,
                           const uint8_t *data, size_t len)
{
    struct worker *self = ctx;
    struct workers *all = self->all;
    unsigned tag = cid[0];
    bool was_empty = false;
    if (tag >= all->n || tag == self->index ||
        !net_handoff_push(ring_of(all, self->index, tag), src, data, len, &was_empty))
        return false;
    if (was_empty)
        worker_kick(&all->w[tag]);
    return true;
}

/* The worker's eventfd, in its own loop: stop, records passed on to it,
 * or a new light to tell its observers of. */
static void worker_woken(void *ctx, uint64_t now_ms)
{
    struct worker *w = ctx;
    uint64_t n;
    (void)!read(w->wake_fd, &n, sizeof n);
    if (w->all->rings)
        for (unsigned from = 0; from < w->all->n; from++)
            if (from != w->index)
                net_server_take_handoff(w->s.srv, ring_of(w->all, from, w->index), now_ms);
    if (atomic_load(&w->all->stop)) {
        coaps_server_stop(w->s.srv);
        return;
    }
    uint64_t v = atomic_load(&w->all->light.version);
    if (v != w->seen) {
        w->seen = v;
        coaps_coap_resource_notify(w->s.light.res);
    }
}

/* ---- set-up ---------------------------------------------------------------- */

/* Worker i's server, resources and credentials, its wake-up eventfd. */
static int worker_setup(struct worker *w, struct server_opts *o)
{
    snprintf(w->name, sizeof w->name, PROG "[%u]", w->index);
    o->cfg.log_name = w->name; /* copied by coaps_server_new */
    o->cfg.catch_signals = false; /* the main thread waits for them */
    /* one ticket secret for all, so each opens the others' tickets
     * (unless the flags name one: then all read the same) */
    const uint8_t *ticket_secret = o->cfg.ticket_secret;
    if (ticket_secret == NULL && o->cfg.ticket_key_file == NULL)
        o->cfg.ticket_secret = w->all->shared.ticket_secret;
    int rc = server_setup(&w->s, o, w->all->test);
    o->cfg.ticket_secret = ticket_secret;
    o->cfg.log_name = PROG;
    if (rc)
        return rc;
    struct net_worker nw = {.index = (uint8_t)w->index,
                            .count = (uint8_t)w->all->n,
                            .steer = o->cid_steer,
                            .foreign_cid = worker_pass_on,
                            .foreign_ctx = w,
                            .shared = &w->all->shared,
                            .sessions = &w->all->sessions};
    w->store = (struct light_store){light_load, light_store, w};
    if (w->s.light.store == NULL) /* --store: the cluster's light (cluster.h) */
        w->s.light.store = &w->store;
    w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->wake_fd < 0 || net_server_set_worker(w->s.srv, &nw) != COAPS_OK ||
        net_server_watch(w->s.srv, w->wake_fd, worker_woken, w) != COAPS_OK) {
        fprintf(stderr, PROG ": cannot set up worker %u: %s\n", w->index, strerror(errno));
        return 1;
    }
    return 0;
}

/* Every worker's sockets, worker 0 first: it picks the ports (-p 0); the
 * others join its ports, in index order (the steering program finds
 * worker i's socket at place i of the group). Worker 0's "listening on"
 * lines are kept in coap_line and coaps_line (SERVER_LINE_MAX each). */
static int workers_listen(struct workers *all, const struct server_opts *o, char *coap_line,
                          char *coaps_line)
{
    struct server *first = &all->w[0].s;
    int rc = o->no_coap ? 0 : server_listen_on(first, o, o->port, false, coap_line);
    if (rc == 0)
        rc = server_listen_coaps(first, o, coaps_line);
    uint16_t coap_port = net_server_port(first->srv, false);
    uint16_t coaps_port = net_server_port(first->srv, true);
    for (unsigned i = 1; rc == 0 && i < all->n; i++) {
        struct server *s = &all->w[i].s;
        if (!o->no_coap)
            rc = server_listen_on(s, o, coap_port, false, NULL);
        if (rc == 0 && coaps_port != 0)
            rc = server_listen_on(s, o, coaps_port, true, NULL);
    }
    return rc;
}

/* --state: the last run's sessions into the workers (a file that cannot
 * be used is one warning line and a clean start), and the workers'
 * sessions into the file once every loop has stopped. */
static void workers_restore_state(struct workers *all)
{
    char err[512] = "";
    uint32_t n = 0;
    if (net_servers_restore_state(all->srv, all->n, &all->log, &n, err, sizeof err) != COAPS_OK)
        fprintf(stderr, PROG ": warning: %s\n", err);
}

static void workers_save_state(struct workers *all)
{
    char err[512] = "";
    uint32_t n = 0;
    if (net_servers_save_state(all->srv, all->n, &all->log, &n, err, sizeof err) != COAPS_OK)
        fprintf(stderr, PROG ": warning: %s\n", err);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    w->run_status = coaps_server_run(w->s.srv);
    if (w->run_status != COAPS_OK) {
        fprintf(stderr, PROG ": worker %u: event loop failed: %s\n", w->index, strerror(errno));
        /* the whole server stops, as one loop's failure stops one server */
        pthread_kill(w->all->main_thread, SIGTERM);
    }
    return NULL;
}

/* ---- statistics ------------------------------------------------------------ */

/* One line a worker (at -v info), after the server's totals: enough for
 * a test to see that every worker served requests and kept its sessions.
 * Each worker's own statistics lines only at -v debug: at -v info the
 * lines a test or a person reads are the server's. */
static void worker_report(const struct worker *w, int log_level)
{
    if (log_level >= NET_LOG_DEBUG)
        coaps_server_log_stats(w->s.srv);
    if (log_level < NET_LOG_INFO)
        return;
    const coaps_coap_stats *c = coaps_coap_get_stats(coaps_server_coap(w->s.srv));
    const struct net_dtls_server_stats *d = net_server_dtls_stats(w->s.srv);
    fprintf(stderr,
            PROG ": worker %u: requests %llu, notifications %llu, established %llu, "
            "resumed %llu, restored %llu, moved %llu, unknown cid %llu, handed off %llu\n",
            w->index, (unsigned long long)c->rx_requests,
            (unsigned long long)c->tx_notifications,
            (unsigned long long)(d ? d->established : 0), (unsigned long long)(d ? d->resumed : 0),
            (unsigned long long)(d ? d->restored : 0), (unsigned long long)(d ? d->peer_moved : 0),
            (unsigned long long)(d ? d->cid_unknown : 0),
            (unsigned long long)(d ? d->cid_handed_off : 0));
}

/* The bounds of the flags are the server's: each worker gets ceil(bound /
 * workers) (a flag not given: its default, split the same way). A peer
 * without a CID always reaches the same worker, so a worker's share of
 * the peers, and of what they hold, is its share of the bounds. */
static uint32_t share(uint32_t bound, uint32_t fallback, unsigned n)
{
    uint32_t b = bound ? bound : fallback;
    return (uint32_t)(((uint64_t)b + n - 1) / n);
}

/* A worker's session slots when the workers share a bound of total: its
 * share, and room for the spread. Each peer's address hash picks one of n
 * workers, so a worker's count of peers is binomial, with a standard
 * deviation below the square root of its share: four of them (and 16 for
 * small bounds) make it all but certain that the shared bound, not a
 * worker's slots, is what refuses a peer. The memory bound is n times
 * this (docs/workers.md). */
static uint32_t worker_slots(uint32_t total, unsigned n)
{
    uint32_t s = share(total, 0, n), root = 0;
    while ((uint64_t)(root + 1) * (root + 1) <= s)
        root++;
    uint64_t slots = (uint64_t)s + 4u * root + 16u;
    return slots < total ? (uint32_t)slots : total;
}

/* Each worker's bounds from the server's (cfg's); returns the server's
 * session bound, which the workers hold together (struct workers). */
static uint32_t split_bounds(coaps_server_config *cfg, unsigned n)
{
    coaps_coap_config cc;
    coaps_coap_config_default(&cc);
    uint32_t sessions = cfg->max_sessions ? cfg->max_sessions : NET_DTLS_MAX_SESSIONS_DEFAULT;
    cfg->max_sessions = worker_slots(sessions, n);
    cfg->max_handshakes = share(cfg->max_handshakes, NET_DTLS_MAX_HANDSHAKES_DEFAULT, n);
    cfg->max_cert_handshakes =
        share(cfg->max_cert_handshakes, NET_DTLS_MAX_CERT_HANDSHAKES_DEFAULT, n);
    if (cfg->session_cache) /* else each worker's follows its max_sessions */
        cfg->session_cache = share(cfg->session_cache, 0, n);
    cfg->dedup_peers = (uint16_t)share(cfg->dedup_peers, cc.dedup_peers, n);
    cfg->max_observers = (uint16_t)share(cfg->max_observers, cc.max_observers, n);
    return sessions;
}

/* ---- running --------------------------------------------------------------- */

static int workers_start(struct workers *all)
{
    for (unsigned i = 0; i < all->n; i++) {
        struct worker *w = &all->w[i];
        int err = pthread_create(&w->thread, NULL, worker_main, w);
        if (err != 0) {
            fprintf(stderr, PROG ": cannot start worker %u: %s\n", i, strerror(err));
            return 1;
        }
        w->started = true;
    }
    return 0;
}

/* Until SIGINT or SIGTERM (blocked in every thread: they come here). */
static void workers_wait(const sigset_t *sigs)
{
    int sig = 0;
    while (sigwait(sigs, &sig) != 0)
        ;
}

static int workers_stop(struct workers *all)
{
    atomic_store(&all->stop, true);
    int rc = 0;
    for (unsigned i = 0; i < all->n; i++)
        if (all->w[i].started)
            worker_kick(&all->w[i]);
    for (unsigned i = 0; i < all->n; i++) {
        if (!all->w[i].started)
            continue;
        pthread_join(all->w[i].thread, NULL);
        if (all->w[i].run_status != COAPS_OK)
            rc = 1;
    }
    return rc;
}

static void workers_free(struct workers *all)
{
    for (unsigned i = 0; i < all->n; i++) {
        struct worker *w = &all->w[i];
        coaps_server_free(w->s.srv);
        if (w->wake_fd >= 0)
            close(w->wake_fd);
    }
    pthread_mutex_destroy(&all->light.lock);
    net_workers_shared_clear(&all->shared);
    free(all->rings);
    free(all->w);
}

static int workers_init(struct workers *all, unsigned n, uint32_t max_sessions,
                        const struct server_opts *o, struct test_resources *test)
{
    enum net_cid_steer steer = o->cid_steer;
    memset(all, 0, sizeof *all);
    atomic_init(&all->sessions.count, 0);
    all->sessions.cap = max_sessions;
    all->test = test;
    all->log = (struct net_log){.level = o->cfg.log_level, .prog = PROG};
    pthread_mutex_init(&all->light.lock, NULL);
    all->w = calloc(n, sizeof *all->w);
    /* calloc: ring pages no datagram reaches are never touched */
    bool handoff = steer == NET_STEER_HANDOFF || steer == NET_STEER_MISROUTE;
    if (handoff)
        all->rings = calloc((size_t)n * n, sizeof *all->rings);
    if (all->w == NULL || (handoff && all->rings == NULL)) {
        fprintf(stderr, PROG ": out of memory\n");
        return 1;
    }
    all->n = n;
    all->main_thread = pthread_self();
    for (unsigned i = 0; i < n; i++) {
        all->w[i].index = i;
        all->w[i].all = all;
        all->w[i].wake_fd = -1;
    }
    memcpy(all->light.state, LIGHT_INITIAL_STATE, sizeof LIGHT_INITIAL_STATE - 1);
    all->light.len = sizeof LIGHT_INITIAL_STATE - 1;
    if (net_workers_shared_init(&all->shared) != COAPS_OK) {
        fprintf(stderr, PROG ": no randomness for the workers' secrets\n");
        return 1;
    }
    return 0;
}

int workers_run(struct server_opts *o, struct test_resources *test)
{
    /* Blocked before any thread exists, so every worker inherits it and
     * the signals wait for sigwait in this thread. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    uint32_t max_sessions = split_bounds(&o->cfg, o->workers);
    struct workers all;
    char coap_line[SERVER_LINE_MAX] = "", coaps_line[SERVER_LINE_MAX] = "";
    int rc = workers_init(&all, o->workers, max_sessions, o, test);
    for (unsigned i = 0; rc == 0 && i < all.n; i++) {
        rc = worker_setup(&all.w[i], o);
        all.srv[i] = all.w[i].s.srv;
    }
    if (rc == 0)
        rc = workers_listen(&all, o, coap_line, coaps_line);
    if (rc == 0) { /* every worker's sockets bound, its sessions back: a test may start */
        workers_restore_state(&all);
        fprintf(stderr, "%s%s" PROG ": %u workers\n", coap_line, coaps_line, all.n);
    }
    if (rc == 0 && (rc = workers_start(&all)) == 0)
        workers_wait(&sigs);
    int stop_rc = workers_stop(&all);
    if (rc == 0 && stop_rc == 0) {
        workers_save_state(&all);
        net_servers_log_stats(all.srv, all.n, &all.log);
        for (unsigned i = 0; i < all.n; i++)
            worker_report(&all.w[i], o->cfg.log_level);
    }
    workers_free(&all);
    return rc ? rc : stop_rc;
}
