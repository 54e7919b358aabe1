/* loop.c - epoll event loop with core-driven timers (see loop.h). */
#include "net/loop.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common/try.h"
#include "net/clock.h"

static void signals_for_loop(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
}

static coaps_status loop_add_fd(struct net_loop *loop, int fd, void *ptr)
{
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.ptr = ptr;
    ENSURE(epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) == 0, COAPS_E_IO);
    return COAPS_OK;
}

coaps_status net_loop_init(struct net_loop *loop, const struct net_log *log, bool catch_signals)
{
    memset(loop, 0, sizeof *loop);
    loop->log = log;
    loop->sigfd = -1;
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    ENSURE(loop->epfd >= 0, COAPS_E_IO);
    if (!catch_signals)
        return COAPS_OK;
    sigset_t set;
    signals_for_loop(&set);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
        goto fail;
    loop->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (loop->sigfd < 0 || loop_add_fd(loop, loop->sigfd, NULL) != COAPS_OK)
        goto fail;
    return COAPS_OK;
fail:
    net_loop_close(loop);
    return COAPS_E_IO;
}

coaps_status net_loop_watch(struct net_loop *loop, int fd, net_loop_cb on_readable, void *ctx)
{
    ENSURE(loop->n_watches < NET_LOOP_MAX_WATCHES, COAPS_E_FULL);
    struct net_loop_watch *w = &loop->watches[loop->n_watches];
    w->fd = fd;
    w->on_readable = on_readable;
    w->ctx = ctx;
    TRY(loop_add_fd(loop, fd, w));
    loop->n_watches++;
    return COAPS_OK;
}

coaps_status net_loop_add_timer(struct net_loop *loop, net_loop_deadline_cb deadline,
                                net_loop_cb due, void *ctx)
{
    ENSURE(loop->n_timers < NET_LOOP_MAX_TIMERS, COAPS_E_FULL);
    struct net_loop_timer *t = &loop->timers[loop->n_timers++];
    t->deadline = deadline;
    t->due = due;
    t->ctx = ctx;
    return COAPS_OK;
}

void net_loop_stop(struct net_loop *loop)
{
    loop->stop = true;
}

/* Fire the timers whose time has come; return the earliest deadline left. */
static uint64_t loop_run_timers(struct net_loop *loop, uint64_t now)
{
    uint64_t next = NET_NO_DEADLINE;
    for (size_t i = 0; i < loop->n_timers && !loop->stop; i++) {
        struct net_loop_timer *t = &loop->timers[i];
        uint64_t d = t->deadline(t->ctx);
        if (d <= now) {
            t->due(t->ctx, now);
            d = t->deadline(t->ctx);
        }
        if (d < next)
            next = d;
    }
    return next;
}

/* epoll_wait's timeout for a deadline. A deadline still in the past right
 * after its timer fired would spin; wait 1 ms instead. */
static int loop_timeout(uint64_t next, uint64_t now)
{
    if (next == NET_NO_DEADLINE)
        return -1;
    if (next <= now)
        return 1;
    uint64_t ms = next - now;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

static void loop_read_signal(struct net_loop *loop)
{
    struct signalfd_siginfo si;
    while (read(loop->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
        loop->stop = true;
        loop->stop_signal = (int)si.ssi_signo;
        NET_LOG(loop->log, NET_LOG_NOTICE, "signal %d, shutting down", (int)si.ssi_signo);
    }
}

static void loop_dispatch(struct net_loop *loop, const struct epoll_event *evs, int n,
                          uint64_t now)
{
    for (int i = 0; i < n && !loop->stop; i++) {
        struct net_loop_watch *w = evs[i].data.ptr;
        if (w == NULL)
            loop_read_signal(loop);
        else
            w->on_readable(w->ctx, now);
    }
}

coaps_status net_loop_run(struct net_loop *loop)
{
    struct epoll_event evs[NET_LOOP_EVENTS];
    loop->stop = false;
    /* One clock read per turn, after the wait: the datagrams of the turn
     * and then the timers see that time. A deadline that passes while the
     * turn's datagrams are handled (microseconds for a batch) fires on the
     * next turn, at most that much late; at one datagram per wake-up (a
     * fleet of NSTART = 1 devices) two clock reads fewer per request. */
    uint64_t now = net_now_ms();
    while (!loop->stop) {
        uint64_t next = loop_run_timers(loop, now);
        if (loop->stop)
            break;
        int n = epoll_wait(loop->epfd, evs, NET_LOOP_EVENTS, loop_timeout(next, now));
        now = net_now_ms();
        if (n < 0 && errno == EINTR)
            continue;
        ENSURE(n >= 0, COAPS_E_IO);
        loop_dispatch(loop, evs, n, now);
    }
    return COAPS_OK;
}

uint64_t net_loop_next_deadline(const struct net_loop *loop)
{
    uint64_t next = NET_NO_DEADLINE;
    for (size_t i = 0; i < loop->n_timers; i++) {
        uint64_t d = loop->timers[i].deadline(loop->timers[i].ctx);
        if (d < next)
            next = d;
    }
    return next;
}

int net_loop_timeout_ms(const struct net_loop *loop, uint64_t now_ms)
{
    uint64_t next = net_loop_next_deadline(loop);
    if (next == NET_NO_DEADLINE)
        return -1;
    return next <= now_ms ? 0 : loop_timeout(next, now_ms);
}

coaps_status net_loop_turn(struct net_loop *loop, int max_wait_ms)
{
    struct epoll_event evs[NET_LOOP_EVENTS];
    uint64_t now = net_now_ms();
    uint64_t next = loop_run_timers(loop, now);
    int wait = loop_timeout(next, now);
    if (max_wait_ms >= 0 && (wait < 0 || wait > max_wait_ms))
        wait = max_wait_ms;
    int n = epoll_wait(loop->epfd, evs, NET_LOOP_EVENTS, wait);
    if (n < 0 && errno == EINTR)
        return COAPS_OK;
    ENSURE(n >= 0, COAPS_E_IO);
    now = net_now_ms();
    loop_dispatch(loop, evs, n, now);
    loop_run_timers(loop, now);
    return COAPS_OK;
}

void net_loop_close(struct net_loop *loop)
{
    if (loop->sigfd >= 0) {
        close(loop->sigfd);
        loop->sigfd = -1;
        sigset_t set;
        signals_for_loop(&set);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
    }
    if (loop->epfd >= 0) {
        close(loop->epfd);
        loop->epfd = -1;
    }
}
