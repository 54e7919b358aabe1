/*
 * store_memory.c - the "memory:" store (store.h): this process's memory,
 * with the semantics of the Redis store, so that a single node needs no
 * Redis and tests can run two servers against one store.
 *
 * Every handle opened on the same "memory:NAME" ("memory:" is the name "")
 * shares one instance, counted by reference and freed with its last
 * handle; a mutex makes it safe for the threads of coaps-server --workers.
 *
 * Bounded: STORE_MEMORY_ENTRIES entries (sessions, cached replies, shared
 * values, counters and secrets all count), laid out in one block allocated
 * at the first open. Entries are handed out from a high-water mark and a
 * free list, so only the pages of entries ever used become resident. When
 * all are taken the least recently used entry is evicted (an evicted
 * session costs its device a full handshake, as an expired one does):
 * a store that refused instead would turn away new devices while idle ones
 * hold their place.
 *
 * Times to live are read from the monotonic clock (clock.h); an expired
 * entry is freed when it is next looked up, or evicted as the oldest.
 *
 * Events (another handle took a session; a shared value changed) are
 * queued per handle and delivered on the handle's loop through an eventfd
 * (net_store_attach): on its own thread, never from inside another
 * handle's call. A handle attached without a loop receives none.
 */
#include "net/store_impl.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/try.h"
#include "net/clock.h"

/* 65,536 sessions of one node, with their cached replies: the session
 * table's default bound. Only the pages of entries in use are resident. */
#define STORE_MEMORY_ENTRIES 65536u
/* Events waiting for a handle's loop: a burst of takeovers between two
 * turns of the loop. Past it the oldest is dropped, with one log line:
 * a lost() missed is learnt at the next reservation (COAPS_E_STATE). */
#define STORE_MEMORY_EVENTS 64u
#define NIL UINT32_MAX

struct mem_entry {
    uint32_t hash_next, lru_prev, lru_next;
    uint8_t kind;
    uint8_t id_len;
    uint8_t id[STORE_ID_MAX];
    bool live;        /* a session dropped keeps its fence: live false */
    uint64_t expires; /* ms on the monotonic clock; 0: never */
    uint64_t fence;   /* sessions: the holder's fence */
    uint64_t seq;     /* sessions: the next unreserved sequence number */
    uint64_t counter; /* counters */
    uint16_t len;
    uint8_t val[STORE_SEALED_MAX]; /* last: small values touch few pages */
};

struct mem_event {
    bool lost;
    uint8_t id[STORE_ID_MAX];
    size_t id_len;
    uint64_t fence;
    char name[NET_STORE_NAME_MAX];
    size_t len;
    uint8_t val[STORE_SEALED_MAX];
};

struct mem_handle {
    struct net_store *st;
    struct mem_shared *sh;
    struct mem_handle *next; /* the instance's handles */
    int efd;                 /* -1 until attached to a loop */
    pthread_mutex_t qmu;
    struct mem_event q[STORE_MEMORY_EVENTS];
    size_t q_head, q_len, q_dropped;
};

struct mem_shared {
    char name[64];
    unsigned refs;
    struct mem_shared *next; /* the process's instances */
    pthread_mutex_t mu;
    struct mem_entry *e;
    uint32_t cap;      /* entries: STORE_MEMORY_ENTRIES (tests: fewer) */
    uint32_t *buckets; /* cap heads: a load of at most 1 */
    uint32_t high, free_head;
    uint32_t lru_head, lru_tail; /* head: most recently used */
    uint32_t used;
    struct mem_handle *handles;
};

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static struct mem_shared *registry;
static uint64_t (*mem_clock)(void);
static uint32_t mem_cap = STORE_MEMORY_ENTRIES;

void store_memory_set_capacity(uint32_t entries)
{
    mem_cap = entries ? entries : STORE_MEMORY_ENTRIES;
}

void store_memory_set_clock(uint64_t (*now_ms)(void))
{
    mem_clock = now_ms;
}

static uint64_t now_ms(void)
{
    return mem_clock ? mem_clock() : net_now_ms();
}

/* ---- the table: hash chains and an LRU list over fixed entries ---------- */

static uint32_t hash_id(const struct mem_shared *sh, uint8_t kind, const uint8_t *id, size_t n)
{
    uint32_t h = 2166136261u ^ kind; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ id[i]) * 16777619u;
    return h % sh->cap;
}

static void lru_unlink(struct mem_shared *sh, uint32_t i)
{
    struct mem_entry *e = &sh->e[i];
    if (e->lru_prev != NIL)
        sh->e[e->lru_prev].lru_next = e->lru_next;
    else
        sh->lru_head = e->lru_next;
    if (e->lru_next != NIL)
        sh->e[e->lru_next].lru_prev = e->lru_prev;
    else
        sh->lru_tail = e->lru_prev;
}

static void lru_front(struct mem_shared *sh, uint32_t i)
{
    struct mem_entry *e = &sh->e[i];
    e->lru_prev = NIL;
    e->lru_next = sh->lru_head;
    if (sh->lru_head != NIL)
        sh->e[sh->lru_head].lru_prev = i;
    sh->lru_head = i;
    if (sh->lru_tail == NIL)
        sh->lru_tail = i;
}

static void entry_free(struct mem_shared *sh, uint32_t i)
{
    struct mem_entry *e = &sh->e[i];
    uint32_t *p = &sh->buckets[hash_id(sh, e->kind, e->id, e->id_len)];
    while (*p != i)
        p = &sh->e[*p].hash_next;
    *p = e->hash_next;
    lru_unlink(sh, i);
    crypto_wipe(e->val, e->len);
    e->len = 0;
    e->hash_next = sh->free_head;
    sh->free_head = i;
    sh->used--;
}

/* The entry of kind/id, or NIL; an expired one is freed on the way. */
static uint32_t entry_find(struct mem_shared *sh, uint8_t kind, const uint8_t *id, size_t n)
{
    for (uint32_t i = sh->buckets[hash_id(sh, kind, id, n)]; i != NIL; i = sh->e[i].hash_next) {
        struct mem_entry *e = &sh->e[i];
        if (e->kind != kind || e->id_len != n || memcmp(e->id, id, n) != 0)
            continue;
        if (e->expires != 0 && e->expires <= now_ms()) {
            entry_free(sh, i);
            return NIL;
        }
        lru_unlink(sh, i);
        lru_front(sh, i);
        return i;
    }
    return NIL;
}

/* A new entry of kind/id (none there), evicting the least recently used
 * when all are taken. */
static uint32_t entry_new(struct mem_shared *sh, uint8_t kind, const uint8_t *id, size_t n)
{
    uint32_t i;
    if (sh->free_head != NIL) {
        i = sh->free_head;
        sh->free_head = sh->e[i].hash_next;
    } else if (sh->high < sh->cap) {
        i = sh->high++;
    } else {
        entry_free(sh, sh->lru_tail);
        i = sh->free_head;
        sh->free_head = sh->e[i].hash_next;
    }
    struct mem_entry *e = &sh->e[i];
    uint32_t b = hash_id(sh, kind, id, n);
    e->kind = kind;
    e->id_len = (uint8_t)n;
    memcpy(e->id, id, n);
    e->live = true;
    e->expires = 0;
    e->fence = e->seq = e->counter = 0;
    e->len = 0;
    e->hash_next = sh->buckets[b];
    sh->buckets[b] = i;
    lru_front(sh, i);
    sh->used++;
    return i;
}

static uint32_t entry_get(struct mem_shared *sh, uint8_t kind, const uint8_t *id, size_t n)
{
    uint32_t i = entry_find(sh, kind, id, n);
    return i != NIL ? i : entry_new(sh, kind, id, n);
}

static coaps_status entry_put(struct mem_entry *e, const uint8_t *val, size_t len)
{
    ENSURE(len <= sizeof e->val, COAPS_E_INVALID);
    crypto_wipe(e->val, e->len);
    memcpy(e->val, val, len);
    e->len = (uint16_t)len;
    return COAPS_OK;
}

static coaps_status entry_copy(const struct mem_entry *e, uint8_t *val, size_t cap, size_t *len)
{
    ENSURE(e->len <= cap, COAPS_E_NOSPACE);
    memcpy(val, e->val, e->len);
    *len = e->len;
    return COAPS_OK;
}

/* ---- events ------------------------------------------------------------------ */

/* Queue ev for h (the instance's lock held) and wake its loop. */
static void event_queue(struct mem_handle *h, const struct mem_event *ev)
{
    if (h->efd < 0)
        return;
    pthread_mutex_lock(&h->qmu);
    if (h->q_len == STORE_MEMORY_EVENTS) {
        h->q_head = (h->q_head + 1) % STORE_MEMORY_EVENTS;
        h->q_len--;
        h->q_dropped++;
    }
    h->q[(h->q_head + h->q_len) % STORE_MEMORY_EVENTS] = *ev;
    h->q_len++;
    pthread_mutex_unlock(&h->qmu);
    uint64_t one = 1;
    ssize_t r = write(h->efd, &one, sizeof one);
    (void)r; /* a full counter still wakes the loop */
}

static void event_lost(struct mem_handle *self, const uint8_t *id, size_t n, uint64_t fence)
{
    struct mem_event ev = {.lost = true, .id_len = n, .fence = fence};
    memcpy(ev.id, id, n);
    for (struct mem_handle *h = self->sh->handles; h; h = h->next)
        if (h != self)
            event_queue(h, &ev);
}

static void event_changed(struct mem_handle *self, const char *name, const uint8_t *val,
                          size_t len)
{
    struct mem_event ev = {.lost = false, .len = len};
    strcpy(ev.name, name);
    memcpy(ev.val, val, len);
    for (struct mem_handle *h = self->sh->handles; h; h = h->next)
        event_queue(h, &ev);
}

static void on_events(void *ctx, uint64_t now)
{
    (void)now;
    struct mem_handle *h = ctx;
    uint64_t n;
    ssize_t r = read(h->efd, &n, sizeof n);
    (void)r;
    for (;;) {
        struct mem_event ev;
        size_t dropped;
        pthread_mutex_lock(&h->qmu);
        if (h->q_len == 0) {
            pthread_mutex_unlock(&h->qmu);
            break;
        }
        ev = h->q[h->q_head];
        h->q_head = (h->q_head + 1) % STORE_MEMORY_EVENTS;
        h->q_len--;
        dropped = h->q_dropped;
        h->q_dropped = 0;
        pthread_mutex_unlock(&h->qmu);
        if (dropped)
            NET_LOG(h->st->log, NET_LOG_WARN, "store: %zu events dropped (loop too slow)",
                    dropped);
        if (ev.lost)
            store_event_lost(h->st, ev.id, ev.id_len, ev.fence);
        else
            store_event_changed(h->st, ev.name, ev.val, ev.len);
    }
}

/* ---- open, close ------------------------------------------------------------ */

static struct mem_shared *shared_new(const char *name)
{
    struct mem_shared *sh = calloc(1, sizeof *sh);
    if (sh == NULL)
        return NULL;
    sh->cap = mem_cap;
    sh->e = calloc(sh->cap, sizeof *sh->e);
    sh->buckets = malloc(sh->cap * sizeof *sh->buckets);
    if (sh->e == NULL || sh->buckets == NULL) {
        free(sh->e);
        free(sh->buckets);
        free(sh);
        return NULL;
    }
    memset(sh->buckets, 0xff, sh->cap * sizeof *sh->buckets);
    strcpy(sh->name, name);
    sh->free_head = sh->lru_head = sh->lru_tail = NIL;
    pthread_mutex_init(&sh->mu, NULL);
    return sh;
}

static coaps_status mem_open(struct net_store *st, const struct store_uri *u, char *err,
                             size_t cap)
{
    struct mem_handle *h = calloc(1, sizeof *h);
    if (h == NULL)
        return net_fail(COAPS_E_NOMEM, err, cap, "store memory:%s: out of memory", u->name);
    h->st = st;
    h->efd = -1;
    pthread_mutex_init(&h->qmu, NULL);
    pthread_mutex_lock(&registry_mu);
    struct mem_shared *sh = registry;
    while (sh && strcmp(sh->name, u->name) != 0)
        sh = sh->next;
    if (sh == NULL && (sh = shared_new(u->name)) != NULL) {
        sh->next = registry;
        registry = sh;
    }
    if (sh != NULL) {
        sh->refs++;
        pthread_mutex_lock(&sh->mu);
        h->sh = sh;
        h->next = sh->handles;
        sh->handles = h;
        pthread_mutex_unlock(&sh->mu);
    }
    pthread_mutex_unlock(&registry_mu);
    if (sh == NULL) {
        pthread_mutex_destroy(&h->qmu);
        free(h);
        return net_fail(COAPS_E_NOMEM, err, cap, "store memory:%s: out of memory", u->name);
    }
    st->impl = h;
    return COAPS_OK;
}

static void shared_free(struct mem_shared *sh)
{
    crypto_wipe(sh->e, (size_t)sh->high * sizeof *sh->e);
    free(sh->e);
    free(sh->buckets);
    pthread_mutex_destroy(&sh->mu);
    free(sh);
}

static void mem_close(struct net_store *st)
{
    struct mem_handle *h = st->impl;
    struct mem_shared *sh = h->sh;
    pthread_mutex_lock(&registry_mu);
    pthread_mutex_lock(&sh->mu);
    struct mem_handle **p = &sh->handles;
    while (*p != h)
        p = &(*p)->next;
    *p = h->next;
    pthread_mutex_unlock(&sh->mu);
    bool last = --sh->refs == 0;
    if (last) {
        struct mem_shared **q = &registry;
        while (*q != sh)
            q = &(*q)->next;
        *q = sh->next;
    }
    pthread_mutex_unlock(&registry_mu);
    if (last)
        shared_free(sh);
    if (h->efd >= 0)
        close(h->efd);
    pthread_mutex_destroy(&h->qmu);
    crypto_wipe(h->q, sizeof h->q);
    free(h);
}

static coaps_status mem_attach(struct net_store *st, struct net_loop *loop)
{
    struct mem_handle *h = st->impl;
    if (loop == NULL || h->efd >= 0)
        return COAPS_OK;
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ENSURE(fd >= 0, COAPS_E_IO);
    coaps_status s = net_loop_watch(loop, fd, on_events, h);
    if (s != COAPS_OK) {
        close(fd);
        return s;
    }
    pthread_mutex_lock(&h->sh->mu);
    h->efd = fd;
    pthread_mutex_unlock(&h->sh->mu);
    return COAPS_OK;
}

static bool mem_up(const struct net_store *st)
{
    (void)st;
    return true;
}

/* ---- the calls: each under the instance's lock ------------------------------ */

#define LOCKED(st, body)                                                                   \
    do {                                                                                   \
        struct mem_handle *h_ = (st)->impl;                                                \
        struct mem_shared *sh = h_->sh;                                                    \
        (void)sh;                                                                          \
        pthread_mutex_lock(&h_->sh->mu);                                                   \
        coaps_status s_ = (body);                                                          \
        pthread_mutex_unlock(&h_->sh->mu);                                                 \
        return s_;                                                                         \
    } while (0)

static uint64_t expiry(uint32_t ttl_ms)
{
    return now_ms() + ttl_ms;
}

/* A live session of key, or NIL. */
static uint32_t session_find(struct mem_shared *sh, const uint8_t *key, size_t n)
{
    uint32_t i = entry_find(sh, STORE_KIND_SESSION, key, n);
    return i != NIL && sh->e[i].live ? i : NIL;
}

static void block(struct mem_entry *e, struct net_store_lease *lease)
{
    lease->fence = e->fence;
    lease->seq_next = e->seq;
    e->seq += NET_STORE_SEQ_BLOCK;
    lease->seq_limit = e->seq;
}

static coaps_status do_create(struct mem_handle *h, const uint8_t *key, size_t n,
                              const uint8_t *val, size_t len, uint64_t seq_next, uint32_t ttl,
                              struct net_store_lease *lease)
{
    struct mem_shared *sh = h->sh;
    uint32_t i = entry_get(sh, STORE_KIND_SESSION, key, n);
    struct mem_entry *e = &sh->e[i];
    bool held = e->fence != 0 && e->live;
    TRY(entry_put(e, val, len));
    e->live = true;
    e->fence++;
    e->seq = seq_next;
    e->expires = expiry(ttl);
    block(e, lease);
    if (held)
        event_lost(h, key, n, e->fence);
    return COAPS_OK;
}

static coaps_status mem_create(struct net_store *st, const uint8_t *key, size_t key_len,
                               const uint8_t *val, size_t len, uint64_t seq_next, uint32_t ttl_ms,
                               struct net_store_lease *lease)
{
    LOCKED(st, do_create(h_, key, key_len, val, len, seq_next, ttl_ms, lease));
}

static coaps_status do_fetch(struct mem_shared *sh, const uint8_t *key, size_t n, uint8_t *val,
                             size_t cap, size_t *len)
{
    uint32_t i = session_find(sh, key, n);
    ENSURE(i != NIL, COAPS_E_NOT_FOUND);
    return entry_copy(&sh->e[i], val, cap, len);
}

static coaps_status mem_fetch(struct net_store *st, const uint8_t *key, size_t key_len,
                              uint8_t *val, size_t cap, size_t *len)
{
    LOCKED(st, do_fetch(sh, key, key_len, val, cap, len));
}

static coaps_status do_take(struct mem_handle *h, const uint8_t *key, size_t n,
                            struct net_store_lease *lease)
{
    uint32_t i = session_find(h->sh, key, n);
    ENSURE(i != NIL, COAPS_E_NOT_FOUND);
    struct mem_entry *e = &h->sh->e[i];
    e->fence++;
    block(e, lease);
    event_lost(h, key, n, e->fence);
    return COAPS_OK;
}

static coaps_status mem_take(struct net_store *st, const uint8_t *key, size_t key_len,
                             struct net_store_lease *lease)
{
    LOCKED(st, do_take(h_, key, key_len, lease));
}

/* The live session of key held by fence: NOT_FOUND, STATE or OK. */
static coaps_status held(struct mem_shared *sh, const uint8_t *key, size_t n, uint64_t fence,
                         uint32_t *out)
{
    uint32_t i = session_find(sh, key, n);
    ENSURE(i != NIL, COAPS_E_NOT_FOUND);
    ENSURE(sh->e[i].fence == fence, COAPS_E_STATE);
    *out = i;
    return COAPS_OK;
}

static coaps_status do_reserve(struct mem_shared *sh, const uint8_t *key, size_t n,
                               struct net_store_lease *lease)
{
    uint32_t i;
    TRY(held(sh, key, n, lease->fence, &i));
    block(&sh->e[i], lease);
    return COAPS_OK;
}

static coaps_status mem_reserve(struct net_store *st, const uint8_t *key, size_t key_len,
                                struct net_store_lease *lease)
{
    LOCKED(st, do_reserve(sh, key, key_len, lease));
}

static coaps_status do_update(struct mem_shared *sh, const uint8_t *key, size_t n, uint64_t fence,
                              const uint8_t *val, size_t len, uint32_t ttl)
{
    uint32_t i;
    TRY(held(sh, key, n, fence, &i));
    TRY(entry_put(&sh->e[i], val, len));
    sh->e[i].expires = expiry(ttl);
    return COAPS_OK;
}

static coaps_status mem_update(struct net_store *st, const uint8_t *key, size_t key_len,
                               uint64_t fence, const uint8_t *val, size_t len, uint32_t ttl_ms)
{
    LOCKED(st, do_update(sh, key, key_len, fence, val, len, ttl_ms));
}

static coaps_status do_touch(struct mem_shared *sh, const uint8_t *const *keys,
                             const size_t *lens, size_t n, uint32_t ttl)
{
    for (size_t k = 0; k < n; k++) {
        uint32_t i = session_find(sh, keys[k], lens[k]);
        if (i != NIL)
            sh->e[i].expires = expiry(ttl);
    }
    return COAPS_OK;
}

static coaps_status mem_touch(struct net_store *st, const uint8_t *const *keys,
                              const size_t *key_lens, size_t n, uint32_t ttl_ms)
{
    LOCKED(st, do_touch(sh, keys, key_lens, n, ttl_ms));
}

/* The record goes, the entry stays until it expires: a later create of
 * the same key still gets a fence past this one. */
static coaps_status do_drop(struct mem_shared *sh, const uint8_t *key, size_t n, uint64_t fence)
{
    uint32_t i;
    TRY(held(sh, key, n, fence, &i));
    struct mem_entry *e = &sh->e[i];
    crypto_wipe(e->val, e->len);
    e->len = 0;
    e->live = false;
    return COAPS_OK;
}

static coaps_status mem_drop(struct net_store *st, const uint8_t *key, size_t key_len,
                             uint64_t fence)
{
    LOCKED(st, do_drop(sh, key, key_len, fence));
}

static coaps_status do_put(struct mem_shared *sh, uint8_t kind, const uint8_t *id, size_t n,
                           const uint8_t *val, size_t len, uint64_t expires)
{
    uint32_t i = entry_get(sh, kind, id, n);
    sh->e[i].expires = expires;
    return entry_put(&sh->e[i], val, len);
}

static coaps_status do_get(struct mem_shared *sh, uint8_t kind, const uint8_t *id, size_t n,
                           uint8_t *val, size_t cap, size_t *len)
{
    uint32_t i = entry_find(sh, kind, id, n);
    ENSURE(i != NIL, COAPS_E_NOT_FOUND);
    return entry_copy(&sh->e[i], val, cap, len);
}

static coaps_status mem_reply_put(struct net_store *st, const uint8_t *id, size_t id_len,
                                  const uint8_t *val, size_t len, uint32_t ttl_ms)
{
    LOCKED(st, do_put(sh, STORE_KIND_REPLY, id, id_len, val, len, expiry(ttl_ms)));
}

static coaps_status mem_reply_get(struct net_store *st, const uint8_t *id, size_t id_len,
                                  uint8_t *val, size_t cap, size_t *len)
{
    LOCKED(st, do_get(sh, STORE_KIND_REPLY, id, id_len, val, cap, len));
}

static coaps_status do_value_set(struct mem_handle *h, const char *name, const uint8_t *val,
                                 size_t len)
{
    TRY(do_put(h->sh, STORE_KIND_VALUE, (const uint8_t *)name, strlen(name), val, len, 0));
    event_changed(h, name, val, len);
    return COAPS_OK;
}

static coaps_status mem_value_set(struct net_store *st, const char *name, const uint8_t *val,
                                  size_t len)
{
    LOCKED(st, do_value_set(h_, name, val, len));
}

static coaps_status mem_value_get(struct net_store *st, const char *name, uint8_t *val,
                                  size_t cap, size_t *len)
{
    LOCKED(st, do_get(sh, STORE_KIND_VALUE, (const uint8_t *)name, strlen(name), val, cap, len));
}

/* Counters are not sealed: a count of requests is no secret, and Redis
 * must be able to add to it. */
#define KIND_COUNTER 'c'

static coaps_status do_add(struct mem_shared *sh, const char *name, uint64_t delta,
                           uint64_t *value)
{
    uint32_t i = entry_get(sh, KIND_COUNTER, (const uint8_t *)name, strlen(name));
    sh->e[i].counter += delta;
    *value = sh->e[i].counter;
    return COAPS_OK;
}

static coaps_status mem_counter_add(struct net_store *st, const char *name, uint64_t delta,
                                    uint64_t *value)
{
    LOCKED(st, do_add(sh, name, delta, value));
}

static coaps_status do_secret(struct mem_shared *sh, const char *name, const uint8_t *cand,
                              size_t cand_len, uint8_t *val, size_t cap, size_t *len)
{
    const uint8_t *id = (const uint8_t *)name;
    uint32_t i = entry_find(sh, STORE_KIND_SECRET, id, strlen(name));
    if (i == NIL) {
        i = entry_new(sh, STORE_KIND_SECRET, id, strlen(name));
        TRY(entry_put(&sh->e[i], cand, cand_len));
    }
    return entry_copy(&sh->e[i], val, cap, len);
}

static coaps_status mem_secret(struct net_store *st, const char *name, const uint8_t *cand,
                               size_t cand_len, uint8_t *val, size_t cap, size_t *len)
{
    LOCKED(st, do_secret(sh, name, cand, cand_len, val, cap, len));
}

static coaps_status do_raw(struct mem_shared *sh, enum store_kind kind, const uint8_t *id,
                           size_t n, bool put, uint8_t *val, size_t cap, size_t *len)
{
    uint32_t i = entry_find(sh, (uint8_t)kind, id, n);
    ENSURE(i != NIL, COAPS_E_NOT_FOUND);
    if (put)
        return entry_put(&sh->e[i], val, *len);
    return entry_copy(&sh->e[i], val, cap, len);
}

static coaps_status mem_raw(struct net_store *st, enum store_kind kind, const uint8_t *id,
                            size_t id_len, bool put, uint8_t *val, size_t cap, size_t *len)
{
    LOCKED(st, do_raw(sh, kind, id, id_len, put, val, cap, len));
}

const struct store_ops store_memory_ops = {
    .open = mem_open,
    .close = mem_close,
    .attach = mem_attach,
    .up = mem_up,
    .create = mem_create,
    .fetch = mem_fetch,
    .take = mem_take,
    .reserve = mem_reserve,
    .update = mem_update,
    .touch = mem_touch,
    .drop = mem_drop,
    .reply_put = mem_reply_put,
    .reply_get = mem_reply_get,
    .value_set = mem_value_set,
    .value_get = mem_value_get,
    .counter_add = mem_counter_add,
    .secret = mem_secret,
    .raw = mem_raw,
};
