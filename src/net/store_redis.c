/*
 * store_redis.c - the "redis://[[USER]:PASSWORD@]HOST:PORT[/DB]" store (store.h) through
 * hiredis: every node of a cluster reads and writes one Redis.
 *
 * Two connections. Commands go over a synchronous one with short time
 * limits (connect REDIS_CONNECT_MS, each reply REDIS_COMMAND_MS): a call
 * is one round trip, and the lease, the fence and the block of sequence
 * numbers change together in one Lua script, so two nodes racing for a
 * session see one order. Events come over a second, subscribed to the
 * database's "lost" and "changed" channels, read without blocking from
 * the loop (pub/sub is global to a Redis server, so the channels carry
 * the database number).
 *
 * Any error marks the store down: one log line, every call then fails at
 * once with COAPS_E_IO until the back-off (REDIS_BACKOFF_MIN_MS doubling
 * to REDIS_BACKOFF_MAX_MS) lets the next call, or the loop's timer, try to
 * connect again. A call thus blocks at most one time limit, or, when it
 * reconnects, the connect limit and one command limit.
 *
 * Keys, a session's two with the same time to live:
 *   coaps:s:<hex key>   its sealed record
 *   coaps:m:<hex key>   a small hash: f its fencing counter, q its next
 *                       unreserved write sequence number, o its holder
 *                       ("<node>:<fence>"). One key rather than three
 *                       saves Redis a quarter of a session's memory
 *                       (bench/README.md, "Cluster store"). Kept after a
 *                       drop (without o) until it expires, so a new
 *                       session of the key fences past the old one.
 *   coaps:r:<hex key>:<mid>  a cached reply; coaps:v:<name> a shared value;
 *   coaps:c:<name> a counter; coaps:x:<name> a shared secret (sealed)
 */
#include "net/store_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "common/try.h"
#include "net/clock.h"

#define REDIS_CONNECT_MS 200
#define REDIS_COMMAND_MS 100
#define REDIS_BACKOFF_MIN_MS 100
#define REDIS_BACKOFF_MAX_MS 10000
/* A key name: "coaps:r:" + hex of a key + ":" + a Message ID. */
#define REDIS_KEY_NAME_MAX (8 + 2 * NET_STORE_KEY_MAX + 8)
/* A "lost" message: "<fence> <node> <hex key>". */
#define REDIS_LOST_MAX (24 + 64 + 2 * NET_STORE_KEY_MAX)

/* ---- the scripts ------------------------------------------------------------ */

/* KEYS: s m. ARGV: record, next sequence number, ttl, node, channel,
 * hex key. The fence goes one past any earlier holder's. */
static const char SCRIPT_CREATE[] =
    "local prev = redis.call('HEXISTS', KEYS[2], 'o')\n"
    "local f = redis.call('HINCRBY', KEYS[2], 'f', 1)\n"
    "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])\n"
    "redis.call('HSET', KEYS[2], 'q', ARGV[2], 'o', ARGV[4] .. ':' .. f)\n"
    "redis.call('PEXPIRE', KEYS[2], ARGV[3])\n"
    "if prev == 1 then redis.call('PUBLISH', ARGV[5], f .. ' ' .. ARGV[4] .. ' ' .. ARGV[6]) end\n"
    "return f\n";
/* KEYS: s m. ARGV: block, node, channel, hex key. {fence, seq after} */
static const char SCRIPT_TAKE[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end\n"
    "local f = redis.call('HINCRBY', KEYS[2], 'f', 1)\n"
    "local q = redis.call('HINCRBY', KEYS[2], 'q', ARGV[1])\n"
    "redis.call('HSET', KEYS[2], 'o', ARGV[2] .. ':' .. f)\n"
    "local t = redis.call('PTTL', KEYS[1])\n"
    "if t > 0 then redis.call('PEXPIRE', KEYS[2], t) end\n"
    "redis.call('PUBLISH', ARGV[3], f .. ' ' .. ARGV[2] .. ' ' .. ARGV[4])\n"
    "return {f, q}\n";
/* KEYS: s m. ARGV: holder, block. -1 gone, -2 held by another. */
static const char SCRIPT_RESERVE[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end\n"
    "if redis.call('HGET', KEYS[2], 'o') ~= ARGV[1] then return -2 end\n"
    "return redis.call('HINCRBY', KEYS[2], 'q', ARGV[2])\n";
/* KEYS: s m. ARGV: holder, record, ttl. */
static const char SCRIPT_UPDATE[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end\n"
    "if redis.call('HGET', KEYS[2], 'o') ~= ARGV[1] then return -2 end\n"
    "redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])\n"
    "redis.call('PEXPIRE', KEYS[2], ARGV[3])\n"
    "return 0\n";
/* KEYS: s m. ARGV: holder. The fence and counter stay until they expire. */
static const char SCRIPT_DROP[] =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end\n"
    "if redis.call('HGET', KEYS[2], 'o') ~= ARGV[1] then return -2 end\n"
    "redis.call('DEL', KEYS[1])\n"
    "redis.call('HDEL', KEYS[2], 'o')\n"
    "return 0\n";
/* KEYS: v. ARGV: value, channel, message. */
static const char SCRIPT_VALUE_SET[] =
    "redis.call('SET', KEYS[1], ARGV[1])\n"
    "redis.call('PUBLISH', ARGV[2], ARGV[3])\n"
    "return 0\n";

enum { S_CREATE, S_TAKE, S_RESERVE, S_UPDATE, S_DROP, S_VALUE_SET, S_COUNT };
static const char *const scripts[S_COUNT] = {SCRIPT_CREATE,  SCRIPT_TAKE, SCRIPT_RESERVE,
                                            SCRIPT_UPDATE,  SCRIPT_DROP, SCRIPT_VALUE_SET};

struct rd {
    struct net_store *st;
    struct store_uri u;
    redisContext *c;   /* commands; NULL while down */
    redisContext *sub; /* pub/sub; NULL while down or not attached */
    int epfd;          /* holds sub's fd: the loop watches this one, whose
                          number stays the same across reconnections */
    struct net_loop *loop;
    bool was_up;       /* for one log line per change */
    bool ever_up;
    uint64_t retry_at;
    uint32_t backoff_ms;
    char sha[S_COUNT][41];
    char chan_lost[32], chan_changed[32];
};

/* ---- connection, back-off ----------------------------------------------------- */

static struct timeval ms_tv(unsigned ms)
{
    return (struct timeval){.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
}

static void drop_conns(struct rd *r)
{
    if (r->sub) {
        redisFree(r->sub); /* closing its fd takes it out of epfd */
        r->sub = NULL;
    }
    if (r->c) {
        redisFree(r->c);
        r->c = NULL;
    }
}

/* Mark down after an error: one line, then quiet until it is back. */
static void go_down(struct rd *r, const char *what, const char *why)
{
    char w[160]; /* why may lie in a context freed below */
    snprintf(w, sizeof w, "%s", why ? why : "error");
    drop_conns(r);
    r->backoff_ms = r->backoff_ms ? r->backoff_ms * 2 : REDIS_BACKOFF_MIN_MS;
    if (r->backoff_ms > REDIS_BACKOFF_MAX_MS)
        r->backoff_ms = REDIS_BACKOFF_MAX_MS;
    r->retry_at = net_now_ms() + r->backoff_ms;
    if (r->was_up || !r->ever_up)
        NET_LOG(r->st->log, NET_LOG_WARN,
                "store redis://%s:%u: %s: %s; down, retrying with back-off up to %u s",
                r->u.host, r->u.port, what, w, REDIS_BACKOFF_MAX_MS / 1000);
    r->was_up = false;
    r->ever_up = true; /* the first failure is logged once, too */
}

/* AUTH [USER] PASSWORD (Redis 6 ACL; the default user without USER). */
static bool auth(struct rd *r, redisContext *c, const char **why)
{
    const char *argv[3] = {"AUTH"};
    int n = 1;
    if (r->u.user[0] != 0)
        argv[n++] = r->u.user;
    argv[n++] = r->u.password;
    redisReply *rep = redisCommandArgv(c, n, argv, NULL);
    bool ok = rep != NULL && rep->type == REDIS_REPLY_STATUS;
    static __thread char buf[160];
    if (!ok)
        snprintf(buf, sizeof buf, "AUTH: %s",
                 rep == NULL ? (c->errstr[0] ? c->errstr : "no reply")
                 : rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
    if (rep != NULL)
        freeReplyObject(rep);
    if (!ok)
        *why = buf;
    return ok;
}

static redisContext *connect_one(struct rd *r, const char **why)
{
    redisContext *c = redisConnectWithTimeout(r->u.host, r->u.port, ms_tv(REDIS_CONNECT_MS));
    if (c == NULL) {
        *why = "out of memory";
        return NULL;
    }
    if (c->err || redisSetTimeout(c, ms_tv(REDIS_COMMAND_MS)) != REDIS_OK) {
        static __thread char buf[sizeof c->errstr];
        snprintf(buf, sizeof buf, "%s", c->errstr[0] ? c->errstr : "connect failed");
        *why = buf;
        redisFree(c);
        return NULL;
    }
    if (r->u.password[0] != 0 && !auth(r, c, why)) {
        redisFree(c);
        return NULL;
    }
    return c;
}

/* One reply to a command appended before; false (why set) on an error. */
static bool reply_ok(redisContext *c, redisReply **out, const char **why)
{
    void *p = NULL;
    if (redisGetReply(c, &p) != REDIS_OK || p == NULL) {
        *why = c->errstr[0] ? c->errstr : "no reply";
        return false;
    }
    redisReply *rep = p;
    if (rep->type == REDIS_REPLY_ERROR) {
        static __thread char buf[128];
        snprintf(buf, sizeof buf, "%s", rep->str);
        *why = buf;
        freeReplyObject(rep);
        return false;
    }
    if (out)
        *out = rep;
    else
        freeReplyObject(rep);
    return true;
}

/* SELECT the database and load the scripts: one round trip. */
static bool setup_cmd(struct rd *r, const char **why)
{
    char db[4];
    snprintf(db, sizeof db, "%u", r->u.db);
    const char *sel[] = {"SELECT", db};
    redisAppendCommandArgv(r->c, 2, sel, NULL);
    for (int i = 0; i < S_COUNT; i++) {
        const char *argv[] = {"SCRIPT", "LOAD", scripts[i]};
        redisAppendCommandArgv(r->c, 3, argv, NULL);
    }
    bool ok = reply_ok(r->c, NULL, why);
    for (int i = 0; i < S_COUNT; i++) {
        redisReply *rep = NULL;
        bool got = reply_ok(r->c, &rep, why);
        if (got && rep->type == REDIS_REPLY_STRING && rep->len == 40)
            memcpy(r->sha[i], rep->str, 41);
        else if (got)
            *why = "SCRIPT LOAD: unexpected reply", got = false;
        if (rep)
            freeReplyObject(rep);
        ok = ok && got;
    }
    return ok;
}

static bool setup_sub(struct rd *r, const char **why)
{
    const char *argv[] = {"SUBSCRIBE", r->chan_lost, r->chan_changed};
    redisAppendCommandArgv(r->sub, 3, argv, NULL);
    for (int i = 0; i < 2; i++)
        if (!reply_ok(r->sub, NULL, why))
            return false;
    int fl = fcntl(r->sub->fd, F_GETFL);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = r};
    if (fl < 0 || fcntl(r->sub->fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
        epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->sub->fd, &ev) < 0) {
        *why = strerror(errno);
        return false;
    }
    return true;
}

/* Connect what is not connected, if the back-off allows. */
static coaps_status ensure_up(struct rd *r)
{
    if (r->c != NULL && (r->sub != NULL || r->loop == NULL))
        return COAPS_OK;
    if (net_now_ms() < r->retry_at)
        return r->c != NULL ? COAPS_OK : COAPS_E_IO;
    const char *why = "";
    if (r->c == NULL) {
        if ((r->c = connect_one(r, &why)) == NULL || !setup_cmd(r, &why)) {
            go_down(r, "connect", why);
            return COAPS_E_IO;
        }
    }
    if (r->loop != NULL && r->sub == NULL) {
        if ((r->sub = connect_one(r, &why)) == NULL || !setup_sub(r, &why)) {
            go_down(r, "subscribe", why);
            return COAPS_E_IO;
        }
    }
    if (!r->was_up) {
        if (r->ever_up) {
            r->st->stats.reconnects++;
            NET_LOG(r->st->log, NET_LOG_NOTICE, "store redis://%s:%u: up again", r->u.host,
                    r->u.port);
        }
        r->was_up = r->ever_up = true;
    }
    r->backoff_ms = 0;
    return COAPS_OK;
}

/* ---- events: the subscription --------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* "<fence> <node> <hex key>": another node took a session. */
static void on_lost(struct rd *r, const char *m, size_t n)
{
    char buf[REDIS_LOST_MAX + 1];
    if (n > REDIS_LOST_MAX)
        return;
    memcpy(buf, m, n);
    buf[n] = 0;
    char *sp1 = strchr(buf, ' ');
    char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (sp2 == NULL)
        return;
    *sp1 = *sp2 = 0;
    if (strcmp(sp1 + 1, r->st->node) == 0)
        return; /* our own take */
    char *end;
    errno = 0;
    uint64_t fence = strtoull(buf, &end, 10);
    const char *hex = sp2 + 1;
    size_t hl = strlen(hex);
    if (errno || *end || hl == 0 || hl % 2 || hl / 2 > NET_STORE_KEY_MAX)
        return;
    uint8_t key[NET_STORE_KEY_MAX];
    for (size_t i = 0; i < hl / 2; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return;
        key[i] = (uint8_t)(hi << 4 | lo);
    }
    store_event_lost(r->st, key, hl / 2, fence);
}

/* "<name> <sealed value>". */
static void on_changed(struct rd *r, const char *m, size_t n)
{
    const char *sp = memchr(m, ' ', n);
    if (sp == NULL || sp == m || (size_t)(sp - m) >= NET_STORE_NAME_MAX)
        return;
    char name[NET_STORE_NAME_MAX];
    memcpy(name, m, (size_t)(sp - m));
    name[sp - m] = 0;
    store_event_changed(r->st, name, (const uint8_t *)sp + 1, n - (size_t)(sp - m) - 1);
}

static void on_message(struct rd *r, const redisReply *rep)
{
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 3 ||
        rep->element[0]->type != REDIS_REPLY_STRING || strcmp(rep->element[0]->str, "message") ||
        rep->element[1]->type != REDIS_REPLY_STRING || rep->element[2]->type != REDIS_REPLY_STRING)
        return;
    const redisReply *ch = rep->element[1], *msg = rep->element[2];
    if (strcmp(ch->str, r->chan_lost) == 0)
        on_lost(r, msg->str, msg->len);
    else if (strcmp(ch->str, r->chan_changed) == 0)
        on_changed(r, msg->str, msg->len);
}

/* The subscription's socket is readable: read what is there, deliver. */
static void sub_read(struct rd *r)
{
    char buf[16384];
    for (;;) {
        ssize_t n = read(r->sub->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0 || redisReaderFeed(r->sub->reader, buf, (size_t)n) != REDIS_OK) {
            go_down(r, "subscription", n == 0 ? "closed by the server" : "read failed");
            return;
        }
    }
    for (;;) {
        void *p = NULL;
        if (redisGetReplyFromReader(r->sub, &p) != REDIS_OK) {
            go_down(r, "subscription", "protocol error");
            return;
        }
        if (p == NULL)
            return;
        on_message(r, p);
        freeReplyObject(p);
        if (r->sub == NULL)
            return; /* a callback closed us: nothing more */
    }
}

static void on_readable(void *ctx, uint64_t now)
{
    (void)now;
    struct rd *r = ctx;
    struct epoll_event ev[2];
    int n = epoll_wait(r->epfd, ev, 2, 0);
    if (n > 0 && r->sub != NULL)
        sub_read(r);
}

static uint64_t rd_deadline(void *ctx)
{
    struct rd *r = ctx;
    bool whole = r->c != NULL && (r->sub != NULL || r->loop == NULL);
    return whole ? NET_NO_DEADLINE : r->retry_at;
}

static void rd_due(void *ctx, uint64_t now)
{
    (void)now;
    (void)ensure_up(ctx);
}

/* ---- open, close, attach ------------------------------------------------------- */

static coaps_status rd_open(struct net_store *st, const struct store_uri *u, char *err,
                            size_t cap)
{
    struct rd *r = calloc(1, sizeof *r);
    if (r == NULL)
        return net_fail(COAPS_E_NOMEM, err, cap, "store: out of memory");
    r->st = st;
    r->u = *u;
    r->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (r->epfd < 0) {
        store_uri_wipe(&r->u);
        free(r);
        return net_fail(COAPS_E_IO, err, cap, "store: epoll: %s", strerror(errno));
    }
    /* hiredis writes with write(): a Redis that went away would end the
     * process with SIGPIPE instead of an error we can count. A program
     * that chose a handler of its own keeps it. */
    struct sigaction sa;
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
        signal(SIGPIPE, SIG_IGN);
    snprintf(r->chan_lost, sizeof r->chan_lost, "coaps:lost:%u", u->db);
    snprintf(r->chan_changed, sizeof r->chan_changed, "coaps:changed:%u", u->db);
    st->impl = r;
    (void)ensure_up(r); /* unreachable now: logged, retried later */
    return COAPS_OK;
}

static void rd_close(struct net_store *st)
{
    struct rd *r = st->impl;
    drop_conns(r);
    close(r->epfd);
    store_uri_wipe(&r->u);
    free(r);
}

static coaps_status rd_attach(struct net_store *st, struct net_loop *loop)
{
    struct rd *r = st->impl;
    if (loop == NULL || r->loop != NULL)
        return COAPS_OK;
    TRY(net_loop_watch(loop, r->epfd, on_readable, r));
    TRY(net_loop_add_timer(loop, rd_deadline, rd_due, r));
    r->loop = loop;
    r->retry_at = 0; /* subscribe now */
    (void)ensure_up(r);
    return COAPS_OK;
}

static bool rd_up(const struct net_store *st)
{
    const struct rd *r = st->impl;
    return r->c != NULL;
}

/* ---- commands ------------------------------------------------------------------ */

static void key_name(char out[REDIS_KEY_NAME_MAX], char kind, const uint8_t *key, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    int at = snprintf(out, REDIS_KEY_NAME_MAX, "coaps:%c:", kind);
    for (size_t i = 0; i < n; i++) {
        out[at++] = hex[key[i] >> 4];
        out[at++] = hex[key[i] & 15];
    }
    out[at] = 0;
}

/* One command; *out the reply (the caller frees), or COAPS_E_IO with the
 * store marked down. An error reply is COAPS_E_IO too, the connection
 * kept. EVALSHA that finds no script falls back to EVAL. */
static coaps_status command(struct rd *r, int argc, const char **argv, const size_t *lens,
                            redisReply **out)
{
    TRY(ensure_up(r));
    redisReply *rep = redisCommandArgv(r->c, argc, argv, lens);
    if (rep == NULL) {
        go_down(r, argv[0], r->c->errstr[0] ? r->c->errstr : "no reply");
        return COAPS_E_IO;
    }
    if (rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "NOSCRIPT", 8) == 0 &&
        strcmp(argv[0], "EVALSHA") == 0) {
        freeReplyObject(rep);
        return COAPS_E_AGAIN;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        /* A replica after a failover, or a Redis still loading: connect
         * again (a name may lead to the new primary by then). */
        bool away = strncmp(rep->str, "READONLY", 8) == 0 || strncmp(rep->str, "LOADING", 7) == 0 ||
                    strncmp(rep->str, "MASTERDOWN", 10) == 0;
        if (away)
            go_down(r, argv[0], rep->str);
        else
            NET_LOG(r->st->log, NET_LOG_WARN, "store redis: %s: %s", argv[0], rep->str);
        freeReplyObject(rep);
        return COAPS_E_IO;
    }
    *out = rep;
    return COAPS_OK;
}

/* Run script s: argv[0..2] are filled in here ("EVALSHA", sha, numkeys). */
static coaps_status script(struct rd *r, int s, int nkeys, int argc, const char **argv,
                           size_t *lens, redisReply **out)
{
    char nk[4];
    snprintf(nk, sizeof nk, "%d", nkeys);
    argv[0] = "EVALSHA", lens[0] = 7;
    argv[1] = r->sha[s], lens[1] = strlen(r->sha[s]);
    argv[2] = nk, lens[2] = strlen(nk);
    coaps_status st = command(r, argc, argv, lens, out);
    if (st != COAPS_E_AGAIN)
        return st;
    argv[0] = "EVAL", lens[0] = 4; /* a Redis that lost its scripts (restarted) */
    argv[1] = scripts[s], lens[1] = strlen(scripts[s]);
    st = command(r, argc, argv, lens, out);
    return st == COAPS_E_AGAIN ? COAPS_E_IO : st;
}

static bool int_reply(const redisReply *rep, long long *v)
{
    if (rep->type != REDIS_REPLY_INTEGER)
        return false;
    *v = rep->integer;
    return true;
}

/* The two keys of a session. */
struct skeys {
    char s[REDIS_KEY_NAME_MAX], m[REDIS_KEY_NAME_MAX];
    char hex[2 * NET_STORE_KEY_MAX + 1];
};

static void skeys_of(struct skeys *k, const uint8_t *key, size_t n)
{
    key_name(k->s, 's', key, n);
    key_name(k->m, 'm', key, n);
    strcpy(k->hex, k->s + 8);
}

#define U64S(buf, v) (snprintf((buf), sizeof(buf), "%" PRIu64, (uint64_t)(v)), (buf))

static coaps_status rd_create(struct net_store *st, const uint8_t *key, size_t key_len,
                              const uint8_t *val, size_t len, uint64_t seq_next, uint32_t ttl_ms,
                              struct net_store_lease *lease)
{
    struct rd *r = st->impl;
    struct skeys k;
    skeys_of(&k, key, key_len);
    char q[24], ttl[16];
    const char *argv[] = {0, 0, 0, k.s, k.m, (const char *)val,
                          U64S(q, seq_next + NET_STORE_SEQ_BLOCK), U64S(ttl, ttl_ms),
                          st->node, r->chan_lost, k.hex};
    size_t lens[11];
    for (int i = 3; i < 11; i++)
        lens[i] = i == 5 ? len : strlen(argv[i]);
    redisReply *rep;
    TRY(script(r, S_CREATE, 2, 11, argv, lens, &rep));
    long long f;
    bool ok = int_reply(rep, &f) && f > 0;
    freeReplyObject(rep);
    ENSURE(ok, COAPS_E_IO);
    *lease = (struct net_store_lease){(uint64_t)f, seq_next, seq_next + NET_STORE_SEQ_BLOCK};
    return COAPS_OK;
}

static coaps_status get_string(struct rd *r, const char *name, uint8_t *val, size_t cap,
                               size_t *len)
{
    const char *argv[] = {"GET", name};
    redisReply *rep;
    TRY(command(r, 2, argv, NULL, &rep));
    coaps_status s = COAPS_OK;
    if (rep->type == REDIS_REPLY_NIL)
        s = COAPS_E_NOT_FOUND;
    else if (rep->type != REDIS_REPLY_STRING || rep->len > STORE_SEALED_MAX)
        s = COAPS_E_MALFORMED; /* not ours: counted as a value that did not open */
    else if (rep->len > cap)
        s = COAPS_E_NOSPACE;
    else {
        memcpy(val, rep->str, rep->len);
        *len = rep->len;
    }
    freeReplyObject(rep);
    return s;
}

static coaps_status rd_fetch(struct net_store *st, const uint8_t *key, size_t key_len,
                             uint8_t *val, size_t cap, size_t *len)
{
    char name[REDIS_KEY_NAME_MAX];
    key_name(name, 's', key, key_len);
    return get_string(st->impl, name, val, cap, len);
}

static coaps_status rd_take(struct net_store *st, const uint8_t *key, size_t key_len,
                            struct net_store_lease *lease)
{
    struct rd *r = st->impl;
    struct skeys k;
    skeys_of(&k, key, key_len);
    char b[24];
    const char *argv[] = {0, 0, 0, k.s, k.m, U64S(b, NET_STORE_SEQ_BLOCK),
                          st->node, r->chan_lost, k.hex};
    size_t lens[9];
    for (int i = 3; i < 9; i++)
        lens[i] = strlen(argv[i]);
    redisReply *rep;
    TRY(script(r, S_TAKE, 2, 9, argv, lens, &rep));
    coaps_status s = COAPS_E_IO;
    long long f, q;
    if (rep->type == REDIS_REPLY_INTEGER && rep->integer == -1)
        s = COAPS_E_NOT_FOUND;
    else if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
             int_reply(rep->element[0], &f) && int_reply(rep->element[1], &q) &&
             q >= (long long)NET_STORE_SEQ_BLOCK) {
        *lease = (struct net_store_lease){(uint64_t)f, (uint64_t)q - NET_STORE_SEQ_BLOCK,
                                          (uint64_t)q};
        s = COAPS_OK;
    }
    freeReplyObject(rep);
    return s;
}

/* A script's -1 (gone) / -2 (held by another) / value. */
static coaps_status fenced(redisReply *rep, long long *v)
{
    long long x = 0;
    bool ok = int_reply(rep, &x);
    freeReplyObject(rep);
    ENSURE(ok, COAPS_E_IO);
    ENSURE(x != -1, COAPS_E_NOT_FOUND);
    ENSURE(x != -2, COAPS_E_STATE);
    *v = x;
    return COAPS_OK;
}

static coaps_status rd_reserve(struct net_store *st, const uint8_t *key, size_t key_len,
                               struct net_store_lease *lease)
{
    struct rd *r = st->impl;
    struct skeys k;
    skeys_of(&k, key, key_len);
    char holder[96], b[24];
    snprintf(holder, sizeof holder, "%s:%" PRIu64, st->node, lease->fence);
    const char *argv[] = {0, 0, 0, k.s, k.m, holder, U64S(b, NET_STORE_SEQ_BLOCK)};
    size_t lens[7];
    for (int i = 3; i < 7; i++)
        lens[i] = strlen(argv[i]);
    redisReply *rep;
    TRY(script(r, S_RESERVE, 2, 7, argv, lens, &rep));
    long long q;
    TRY(fenced(rep, &q));
    ENSURE(q >= (long long)NET_STORE_SEQ_BLOCK, COAPS_E_IO);
    lease->seq_next = (uint64_t)q - NET_STORE_SEQ_BLOCK;
    lease->seq_limit = (uint64_t)q;
    return COAPS_OK;
}

static coaps_status rd_update(struct net_store *st, const uint8_t *key, size_t key_len,
                              uint64_t fence, const uint8_t *val, size_t len, uint32_t ttl_ms)
{
    struct rd *r = st->impl;
    struct skeys k;
    skeys_of(&k, key, key_len);
    char holder[96], ttl[16];
    snprintf(holder, sizeof holder, "%s:%" PRIu64, st->node, fence);
    const char *argv[] = {0, 0, 0, k.s, k.m, holder, (const char *)val, U64S(ttl, ttl_ms)};
    size_t lens[8];
    for (int i = 3; i < 8; i++)
        lens[i] = i == 6 ? len : strlen(argv[i]);
    redisReply *rep;
    TRY(script(r, S_UPDATE, 2, 8, argv, lens, &rep));
    long long v;
    return fenced(rep, &v);
}

static coaps_status rd_drop(struct net_store *st, const uint8_t *key, size_t key_len,
                            uint64_t fence)
{
    struct rd *r = st->impl;
    struct skeys k;
    skeys_of(&k, key, key_len);
    char holder[96];
    snprintf(holder, sizeof holder, "%s:%" PRIu64, st->node, fence);
    const char *argv[] = {0, 0, 0, k.s, k.m, holder};
    size_t lens[6];
    for (int i = 3; i < 6; i++)
        lens[i] = strlen(argv[i]);
    redisReply *rep;
    TRY(script(r, S_DROP, 2, 6, argv, lens, &rep));
    long long v;
    return fenced(rep, &v);
}

/* PEXPIRE of every key of n sessions, pipelined: one round trip. */
static coaps_status rd_touch(struct net_store *st, const uint8_t *const *keys,
                             const size_t *key_lens, size_t n, uint32_t ttl_ms)
{
    struct rd *r = st->impl;
    TRY(ensure_up(r));
    char ttl[16];
    U64S(ttl, ttl_ms);
    static const char kinds[] = "sm";
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < 2; j++) {
            char name[REDIS_KEY_NAME_MAX];
            key_name(name, kinds[j], keys[i], key_lens[i]);
            const char *argv[] = {"PEXPIRE", name, ttl};
            if (redisAppendCommandArgv(r->c, 3, argv, NULL) != REDIS_OK) {
                go_down(r, "PEXPIRE", "out of memory");
                return COAPS_E_IO;
            }
        }
    const char *why = NULL;
    bool ok = true;
    for (size_t i = 0; i < 2 * n && r->c != NULL; i++)
        if (!reply_ok(r->c, NULL, &why)) {
            ok = false;
            if (r->c->err) /* the connection failed: the rest will not come */
                break;
        }
    if (!ok && r->c != NULL && r->c->err)
        go_down(r, "PEXPIRE", why);
    return ok ? COAPS_OK : COAPS_E_IO;
}

static void reply_name(char out[REDIS_KEY_NAME_MAX], const uint8_t *id, size_t id_len)
{
    key_name(out, 'r', id, id_len - 2);
    size_t at = strlen(out);
    snprintf(out + at, REDIS_KEY_NAME_MAX - at, ":%u", (unsigned)(id[id_len - 2] << 8 | id[id_len - 1]));
}

static coaps_status simple(struct rd *r, int argc, const char **argv, const size_t *lens)
{
    redisReply *rep;
    TRY(command(r, argc, argv, lens, &rep));
    freeReplyObject(rep);
    return COAPS_OK;
}

static coaps_status rd_reply_put(struct net_store *st, const uint8_t *id, size_t id_len,
                                 const uint8_t *val, size_t len, uint32_t ttl_ms)
{
    char name[REDIS_KEY_NAME_MAX], ttl[16];
    reply_name(name, id, id_len);
    const char *argv[] = {"SET", name, (const char *)val, "PX", U64S(ttl, ttl_ms)};
    size_t lens[] = {3, strlen(name), len, 2, strlen(ttl)};
    return simple(st->impl, 5, argv, lens);
}

static coaps_status rd_reply_get(struct net_store *st, const uint8_t *id, size_t id_len,
                                 uint8_t *val, size_t cap, size_t *len)
{
    char name[REDIS_KEY_NAME_MAX];
    reply_name(name, id, id_len);
    return get_string(st->impl, name, val, cap, len);
}

static void named(char out[REDIS_KEY_NAME_MAX], char kind, const char *name)
{
    snprintf(out, REDIS_KEY_NAME_MAX, "coaps:%c:%s", kind, name);
}

static coaps_status rd_value_set(struct net_store *st, const char *name, const uint8_t *val,
                                 size_t len)
{
    struct rd *r = st->impl;
    char key[REDIS_KEY_NAME_MAX];
    named(key, 'v', name);
    uint8_t msg[NET_STORE_NAME_MAX + 1 + STORE_SEALED_MAX];
    size_t nl = strlen(name);
    memcpy(msg, name, nl);
    msg[nl] = ' ';
    memcpy(msg + nl + 1, val, len);
    const char *argv[] = {0, 0, 0, key, (const char *)val, r->chan_changed, (const char *)msg};
    size_t lens[] = {0, 0, 0, strlen(key), len, strlen(r->chan_changed), nl + 1 + len};
    redisReply *rep;
    TRY(script(r, S_VALUE_SET, 1, 7, argv, lens, &rep));
    freeReplyObject(rep);
    return COAPS_OK;
}

static coaps_status rd_value_get(struct net_store *st, const char *name, uint8_t *val,
                                 size_t cap, size_t *len)
{
    char key[REDIS_KEY_NAME_MAX];
    named(key, 'v', name);
    return get_string(st->impl, key, val, cap, len);
}

static coaps_status rd_counter_add(struct net_store *st, const char *name, uint64_t delta,
                                   uint64_t *value)
{
    char key[REDIS_KEY_NAME_MAX], by[24];
    named(key, 'c', name);
    snprintf(by, sizeof by, "%" PRIu64, delta);
    const char *argv[] = {"INCRBY", key, by}; /* INCRBY 0: a read (0 when none) */
    redisReply *rep;
    TRY(command(st->impl, 3, argv, NULL, &rep));
    long long v;
    bool ok = int_reply(rep, &v) && v >= 0;
    freeReplyObject(rep);
    ENSURE(ok, COAPS_E_IO);
    *value = (uint64_t)v;
    return COAPS_OK;
}

/* SET NX then GET (two round trips, once per secret at start-up): the
 * first node's secret wins. */
static coaps_status rd_secret(struct net_store *st, const char *name, const uint8_t *cand,
                              size_t cand_len, uint8_t *val, size_t cap, size_t *len)
{
    struct rd *r = st->impl;
    char key[REDIS_KEY_NAME_MAX];
    named(key, 'x', name);
    TRY(ensure_up(r));
    const char *set[] = {"SET", key, (const char *)cand, "NX"};
    size_t set_lens[] = {3, strlen(key), cand_len, 2};
    redisAppendCommandArgv(r->c, 4, set, set_lens);
    const char *why = NULL;
    if (!reply_ok(r->c, NULL, &why)) {
        if (r->c->err)
            go_down(r, "SET", why);
        return COAPS_E_IO;
    }
    return get_string(r, key, val, cap, len);
}

const struct store_ops store_redis_ops = {
    .open = rd_open,
    .close = rd_close,
    .attach = rd_attach,
    .up = rd_up,
    .create = rd_create,
    .fetch = rd_fetch,
    .take = rd_take,
    .reserve = rd_reserve,
    .update = rd_update,
    .touch = rd_touch,
    .drop = rd_drop,
    .reply_put = rd_reply_put,
    .reply_get = rd_reply_get,
    .value_set = rd_value_set,
    .value_get = rd_value_get,
    .counter_add = rd_counter_add,
    .secret = rd_secret,
    .raw = NULL,
};
