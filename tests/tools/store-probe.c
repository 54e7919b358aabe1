/*
 * store-probe - one node of a cluster's session store (src/net/store.h),
 * driven from the command line, for tests/net/test_store_redis.sh and the
 * bench: each operation prints one line, "<op> <status> ...", status one of
 * ok, not_found, state, io, malformed, nospace, invalid.
 *
 *   store-probe [--node NAME] URI KEYFILE OP [ARGS] [OP [ARGS]]...
 *
 *   create KEY SEQ TTL_MS      -> create ok FENCE SEQ_NEXT SEQ_LIMIT
 *   fetch KEY                  -> fetch ok TEXT
 *   take KEY                   -> take ok FENCE SEQ_NEXT SEQ_LIMIT
 *   reserve KEY FENCE          -> reserve ok FENCE SEQ_NEXT SEQ_LIMIT
 *   update KEY FENCE TEXT TTL  -> update ok
 *   drop KEY FENCE             -> drop ok
 *   touch TTL_MS KEY[,KEY...]  -> touch ok
 *   race KEY N                 N takes and reserves in a random order,
 *                              one line per block: block FENCE NEXT LIMIT
 *   listen MS                  events for MS ms on a loop: lost KEY FENCE,
 *                              changed NAME TEXT
 *   poll KEY MS                fetch KEY every 10 ms for MS ms (a loop
 *                              turning meanwhile): then one line
 *                              poll ok=N io=N other=N max_io_us=N max_us=N
 *                              first_io_ms=N back_ms=N
 *   value-set NAME TEXT / value-get NAME / counter NAME / secret NAME
 *   reply-put KEY MID TEXT TTL / reply-get KEY MID
 *   stats                      -> stats CALLS FAILED MALFORMED RECONNECTS PREV_KEY
 *   sleep MS
 *
 * KEY is hex (a session key's bytes). Exit status 0 unless the arguments
 * or the store's URI are bad (2).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net/clock.h"
#include "net/log.h"
#include "net/loop.h"
#include "net/state_file.h"
#include "net/store.h"

static const char *tag(coaps_status s)
{
    switch (s) {
    case COAPS_OK: return "ok";
    case COAPS_E_NOT_FOUND: return "not_found";
    case COAPS_E_STATE: return "state";
    case COAPS_E_IO: return "io";
    case COAPS_E_MALFORMED: return "malformed";
    case COAPS_E_NOSPACE: return "nospace";
    case COAPS_E_INVALID: return "invalid";
    default: return coaps_status_str(s);
    }
}

static void usage(const char *why)
{
    fprintf(stderr, "store-probe: %s\nusage: store-probe [--node NAME] URI KEYFILE OP [ARGS]...\n",
            why);
    exit(2);
}

static size_t hex_key(const char *s, uint8_t key[NET_STORE_KEY_MAX])
{
    size_t n = strlen(s);
    if (n == 0 || n % 2 || n / 2 > NET_STORE_KEY_MAX)
        usage("a KEY is 1-40 bytes in hex");
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            usage("a KEY is hex");
        key[i] = (uint8_t)v;
    }
    return n / 2;
}

static void print_hex(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%02x", p[i]);
}

static uint64_t num(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s == 0 || *end)
        usage("not a number");
    return v;
}

static void print_lease(const char *op, coaps_status s, const struct net_store_lease *l)
{
    printf("%s %s", op, tag(s));
    if (s == COAPS_OK)
        printf(" %" PRIu64 " %" PRIu64 " %" PRIu64, l->fence, l->seq_next, l->seq_limit);
    printf("\n");
}

static void print_text(const char *op, coaps_status s, const uint8_t *p, size_t n)
{
    printf("%s %s", op, tag(s));
    if (s == COAPS_OK)
        printf(" %.*s", (int)n, (const char *)p);
    printf("\n");
}

/* ---- events ------------------------------------------------------------------ */

static void on_lost(void *ctx, const uint8_t *key, size_t n, uint64_t fence)
{
    (void)ctx;
    printf("lost ");
    print_hex(key, n);
    printf(" %" PRIu64 "\n", fence);
    fflush(stdout);
}

static void on_changed(void *ctx, const char *name, const uint8_t *v, size_t n)
{
    (void)ctx;
    printf("changed %s %.*s\n", name, (int)n, (const char *)v);
    fflush(stdout);
}

static void turn_for(struct net_loop *loop, uint64_t ms)
{
    uint64_t end = net_now_ms() + ms;
    for (uint64_t now = net_now_ms(); now < end; now = net_now_ms()) {
        uint64_t left = end - now;
        (void)net_loop_turn(loop, (int)(left < 10 ? left : 10));
    }
}

/* ---- the operations with more to them ------------------------------------------ */

static void op_race(struct net_store *st, const uint8_t *key, size_t n, uint64_t count)
{
    struct net_store_lease l = {0};
    bool holds = false;
    srand((unsigned)getpid());
    for (uint64_t i = 0; i < count; i++) {
        bool take = !holds || rand() % 4 == 0;
        coaps_status s = take ? net_store_session_take(st, key, n, &l)
                              : net_store_seq_reserve(st, key, n, &l);
        if (s == COAPS_OK) {
            holds = true;
            printf("block %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", l.fence, l.seq_next,
                   l.seq_limit);
        } else if (s == COAPS_E_STATE) {
            holds = false; /* another node took it: take it back next */
            printf("refused %" PRIu64 "\n", l.fence);
        } else {
            printf("race %s\n", tag(s));
        }
    }
}

static void op_poll(struct net_store *st, struct net_loop *loop, const uint8_t *key, size_t n,
                    uint64_t ms)
{
    uint64_t start = net_now_ms(), end = start + ms;
    uint64_t ok = 0, io = 0, other = 0, max_io_us = 0, max_us = 0;
    int64_t first_io = -1, back = -1;
    uint8_t buf[NET_STORE_VALUE_MAX];
    while (net_now_ms() < end) {
        struct timespec a, b;
        size_t len;
        clock_gettime(CLOCK_MONOTONIC, &a);
        coaps_status s = net_store_session_fetch(st, key, n, buf, sizeof buf, &len);
        clock_gettime(CLOCK_MONOTONIC, &b);
        uint64_t us = (uint64_t)(b.tv_sec - a.tv_sec) * 1000000u +
                      (uint64_t)((b.tv_nsec - a.tv_nsec) / 1000);
        if (us > max_us)
            max_us = us;
        if (s == COAPS_E_IO) {
            io++;
            if (us > max_io_us)
                max_io_us = us;
            if (first_io < 0)
                first_io = (int64_t)(net_now_ms() - start);
        } else if (s == COAPS_OK) {
            ok++;
            if (first_io >= 0 && back < 0)
                back = (int64_t)(net_now_ms() - start);
        } else {
            other++;
        }
        turn_for(loop, 10);
    }
    printf("poll ok=%" PRIu64 " io=%" PRIu64 " other=%" PRIu64 " max_io_us=%" PRIu64
           " max_us=%" PRIu64 " first_io_ms=%" PRId64 " back_ms=%" PRId64 "\n",
           ok, io, other, max_io_us, max_us, first_io, back);
}

static void op_touch(struct net_store *st, uint32_t ttl, const char *list)
{
    uint8_t keys[64][NET_STORE_KEY_MAX];
    const uint8_t *kp[64];
    size_t lens[64], n = 0;
    char buf[64 * (2 * NET_STORE_KEY_MAX + 1) + 1];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save, *t = strtok_r(buf, ",", &save); t && n < 64; t = strtok_r(NULL, ",", &save)) {
        lens[n] = hex_key(t, keys[n]);
        kp[n] = keys[n];
        n++;
    }
    printf("touch %s\n", tag(net_store_session_touch(st, kp, lens, n, ttl)));
}

/* Run the operation at argv[0]; the number of arguments it used. */
static int run_op(struct net_store *st, struct net_loop *loop, int argc, char **argv)
{
    const char *op = argv[0];
    uint8_t key[NET_STORE_KEY_MAX], buf[NET_STORE_VALUE_MAX];
    size_t kn = 0, n = 0;
    struct net_store_lease l = {0};
#define NEED(k)                                                                            \
    do {                                                                                   \
        if (argc < (k) + 1)                                                                \
            usage("missing arguments");                                                    \
    } while (0)
    if (strcmp(op, "create") == 0) {
        NEED(3);
        kn = hex_key(argv[1], key);
        static const char rec[] = "record";
        print_lease(op, net_store_session_create(st, key, kn, (const uint8_t *)rec, sizeof rec - 1,
                                                 num(argv[2]), (uint32_t)num(argv[3]), &l),
                    &l);
        return 3;
    }
    if (strcmp(op, "fetch") == 0) {
        NEED(1);
        kn = hex_key(argv[1], key);
        coaps_status s = net_store_session_fetch(st, key, kn, buf, sizeof buf, &n);
        print_text(op, s, buf, n);
        return 1;
    }
    if (strcmp(op, "take") == 0) {
        NEED(1);
        kn = hex_key(argv[1], key);
        print_lease(op, net_store_session_take(st, key, kn, &l), &l);
        return 1;
    }
    if (strcmp(op, "reserve") == 0) {
        NEED(2);
        kn = hex_key(argv[1], key);
        l.fence = num(argv[2]);
        print_lease(op, net_store_seq_reserve(st, key, kn, &l), &l);
        return 2;
    }
    if (strcmp(op, "update") == 0) {
        NEED(4);
        kn = hex_key(argv[1], key);
        printf("update %s\n", tag(net_store_session_update(st, key, kn, num(argv[2]),
                                                           (const uint8_t *)argv[3],
                                                           strlen(argv[3]),
                                                           (uint32_t)num(argv[4]))));
        return 4;
    }
    if (strcmp(op, "drop") == 0) {
        NEED(2);
        kn = hex_key(argv[1], key);
        printf("drop %s\n", tag(net_store_session_drop(st, key, kn, num(argv[2]))));
        return 2;
    }
    if (strcmp(op, "touch") == 0) {
        NEED(2);
        op_touch(st, (uint32_t)num(argv[1]), argv[2]);
        return 2;
    }
    if (strcmp(op, "race") == 0) {
        NEED(2);
        kn = hex_key(argv[1], key);
        op_race(st, key, kn, num(argv[2]));
        return 2;
    }
    if (strcmp(op, "listen") == 0) {
        NEED(1);
        printf("listening\n");
        fflush(stdout);
        turn_for(loop, num(argv[1]));
        return 1;
    }
    if (strcmp(op, "poll") == 0) {
        NEED(2);
        kn = hex_key(argv[1], key);
        op_poll(st, loop, key, kn, num(argv[2]));
        return 2;
    }
    if (strcmp(op, "value-set") == 0) {
        NEED(2);
        printf("value-set %s\n", tag(net_store_value_set(st, argv[1], (const uint8_t *)argv[2],
                                                         strlen(argv[2]))));
        return 2;
    }
    if (strcmp(op, "value-get") == 0) {
        NEED(1);
        coaps_status s = net_store_value_get(st, argv[1], buf, sizeof buf, &n);
        print_text(op, s, buf, n);
        return 1;
    }
    if (strcmp(op, "counter") == 0) {
        NEED(1);
        uint64_t v = 0;
        coaps_status s = net_store_counter_incr(st, argv[1], &v);
        printf("counter %s %" PRIu64 "\n", tag(s), v);
        return 1;
    }
    if (strcmp(op, "secret") == 0) {
        NEED(1);
        uint8_t sec[32];
        coaps_status s = net_store_secret(st, argv[1], sec);
        printf("secret %s ", tag(s));
        if (s == COAPS_OK)
            print_hex(sec, sizeof sec);
        printf("\n");
        return 1;
    }
    if (strcmp(op, "reply-put") == 0) {
        NEED(4);
        kn = hex_key(argv[1], key);
        printf("reply-put %s\n",
               tag(net_store_reply_put(st, key, kn, (uint16_t)num(argv[2]),
                                       (const uint8_t *)argv[3], strlen(argv[3]),
                                       (uint32_t)num(argv[4]))));
        return 4;
    }
    if (strcmp(op, "reply-get") == 0) {
        NEED(2);
        kn = hex_key(argv[1], key);
        coaps_status s = net_store_reply_get(st, key, kn, (uint16_t)num(argv[2]), buf, sizeof buf,
                                             &n);
        print_text(op, s, buf, n);
        return 2;
    }
    if (strcmp(op, "stats") == 0) {
        const struct net_store_stats *s = net_store_get_stats(st);
        printf("stats %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", s->calls,
               s->failed, s->malformed, s->reconnects, s->prev_key);
        return 0;
    }
    if (strcmp(op, "sleep") == 0) {
        NEED(1);
        turn_for(loop, num(argv[1]));
        return 1;
    }
    usage("unknown operation");
    return 0;
#undef NEED
}

int main(int argc, char **argv)
{
    const char *node = NULL;
    char defnode[64];
    int i = 1;
    if (argc > 2 && strcmp(argv[1], "--node") == 0) {
        node = argv[2];
        i = 3;
    }
    if (argc - i < 3)
        usage("missing arguments");
    if (node == NULL) {
        snprintf(defnode, sizeof defnode, "probe:%d", (int)getpid());
        node = defnode;
    }
    struct net_log log = {.level = NET_LOG_NOTICE, .prog = "store-probe"};
    char err[256];
    struct net_state_key k;
    if (net_state_key_load(&k, argv[i + 1], err, sizeof err) != COAPS_OK) {
        fprintf(stderr, "store-probe: %s\n", err);
        return 2;
    }
    struct net_store *st;
    if (net_store_open(&st, argv[i], &k, node, &log, err, sizeof err) != COAPS_OK) {
        fprintf(stderr, "store-probe: %s\n", err);
        return 2;
    }
    struct net_loop loop;
    if (net_loop_init(&loop, &log, false) != COAPS_OK)
        return 2;
    struct net_store_events ev = {on_lost, on_changed, NULL};
    if (net_store_attach(st, &loop, &ev) != COAPS_OK) {
        fprintf(stderr, "store-probe: cannot attach the store to a loop\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (i += 2; i < argc;)
        i += 1 + run_op(st, &loop, argc - i, argv + i);
    net_store_close(st);
    net_loop_close(&loop);
    return 0;
}
