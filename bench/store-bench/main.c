/*
 * store-bench - what the cluster's session store (src/net/store.h) costs
 * against a local Redis: the round-trip time of its calls and Redis's
 * memory per session. bench/README.md, "Cluster store".
 *
 *   store-bench [--uri redis://HOST:PORT[/DB]] [--sessions N] [--memory M]
 *               [--record BYTES]
 *
 * Without --uri it starts a redis-server of its own (no persistence) on a
 * free loopback port and stops it at the end, by its PID. Then:
 *   - create, fetch, take, reserve: N sessions (default 1,000) one call
 *     each, each call timed: mean, median, 99th percentile;
 *   - touch: the N sessions in one call (pipelined), 20 times: median;
 *   - memory: Redis's used_memory (INFO memory) before and after creating
 *     M sessions (default 10,000) of a BYTES record (default 300: a DTLS
 *     export, the peer and a few Observe registrations), per session.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "net/state_file.h"
#include "net/store.h"

#define TOUCH_ROUNDS 20

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *what, uint64_t *ns, size_t n)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += ns[i];
    qsort(ns, n, sizeof *ns, cmp_u64);
    printf("%-8s %6zu calls  mean %7.1f us  median %7.1f us  p99 %7.1f us\n", what, n,
           (double)sum / (double)n / 1000.0, (double)ns[n / 2] / 1000.0,
           (double)ns[n * 99 / 100] / 1000.0);
}

static void die(const char *m)
{
    fprintf(stderr, "store-bench: %s\n", m);
    exit(1);
}

static int free_tcp_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0)
        die("no free port");
    close(fd);
    return ntohs(a.sin_port);
}

static pid_t start_redis(int port)
{
    char p[8];
    snprintf(p, sizeof p, "%d", port);
    pid_t pid = fork();
    if (pid == 0) {
        if (freopen("/dev/null", "w", stdout) == NULL || freopen("/dev/null", "w", stderr) == NULL)
            _exit(127);
        execlp("redis-server", "redis-server", "--port", p, "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--loglevel", "warning", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100; i++) {
        redisContext *c = redisConnect("127.0.0.1", port);
        bool ok = c && !c->err;
        redisFree(c);
        if (ok)
            return pid;
        usleep(50000);
    }
    kill(pid, SIGKILL);
    die("redis-server does not start (is it installed? scripts/install-deps)");
    return -1;
}

static long long used_memory(const char *host, int port, unsigned db)
{
    redisContext *c = redisConnect(host, port);
    if (c == NULL || c->err)
        die("cannot reach Redis for INFO");
    redisReply *r = redisCommand(c, "INFO memory");
    long long v = -1;
    const char *at = r && r->type == REDIS_REPLY_STRING ? strstr(r->str, "used_memory:") : NULL;
    if (at)
        v = atoll(at + 12);
    freeReplyObject(r);
    (void)db;
    redisFree(c);
    return v;
}

static void key_of(uint8_t key[9], uint32_t base, uint32_t i)
{
    key[0] = 'c'; /* a CID of 8 bytes */
    uint64_t v = (uint64_t)base << 32 | i;
    for (int b = 0; b < 8; b++)
        key[1 + b] = (uint8_t)(v >> (8 * b));
}

int main(int argc, char **argv)
{
    const char *uri = NULL;
    size_t n = 1000, m = 10000, rec_len = 300;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--uri") == 0)
            uri = argv[i + 1];
        else if (strcmp(argv[i], "--sessions") == 0)
            n = strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--memory") == 0)
            m = strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--record") == 0)
            rec_len = strtoul(argv[i + 1], NULL, 10);
        else
            die("usage: store-bench [--uri URI] [--sessions N] [--memory M] [--record BYTES]");
    }
    if (n == 0 || m == 0 || rec_len > NET_STORE_VALUE_MAX)
        die("--sessions and --memory at least 1, --record at most 4096");
    char own[64];
    pid_t redis = -1;
    if (uri == NULL) {
        int port = free_tcp_port();
        redis = start_redis(port);
        snprintf(own, sizeof own, "redis://127.0.0.1:%d", port);
        uri = own;
    }
    uint8_t k[NET_STATE_KEY_LEN];
    memset(k, 7, sizeof k);
    struct net_state_key sk;
    net_state_key_set(&sk, k);
    char err[256], node[32];
    snprintf(node, sizeof node, "bench:%d", (int)getpid());
    struct net_store *st;
    if (net_store_open(&st, uri, &sk, node, NULL, err, sizeof err) != COAPS_OK)
        die(err);
    if (!net_store_up(st))
        die("Redis is not reachable");

    uint8_t *rec = calloc(1, rec_len + 1);
    uint64_t *ns = calloc(m > n ? m : n, sizeof *ns);
    uint8_t (*keys)[9] = calloc(n, sizeof *keys);
    const uint8_t **kp = calloc(n, sizeof *kp);
    size_t *lens = calloc(n, sizeof *lens);
    uint64_t *fences = calloc(n, sizeof *fences);
    if (!rec || !ns || !keys || !kp || !lens || !fences)
        die("out of memory");
    memset(rec, 0xa5, rec_len);
    uint32_t base = (uint32_t)getpid();
    struct net_store_lease l;
    uint8_t buf[NET_STORE_VALUE_MAX];
    size_t got;

    printf("store-bench: %s, record %zu bytes (sealed %zu)\n", uri, rec_len, rec_len + 29);
    for (size_t i = 0; i < n; i++) {
        key_of(keys[i], base, (uint32_t)i);
        kp[i] = keys[i];
        lens[i] = sizeof keys[i];
        uint64_t t = now_ns();
        if (net_store_session_create(st, keys[i], 9, rec, rec_len, 0, 600000, &l) != COAPS_OK)
            die("create failed");
        ns[i] = now_ns() - t;
    }
    report("create", ns, n);
    for (size_t i = 0; i < n; i++) {
        uint64_t t = now_ns();
        if (net_store_session_fetch(st, keys[i], 9, buf, sizeof buf, &got) != COAPS_OK)
            die("fetch failed");
        ns[i] = now_ns() - t;
    }
    report("fetch", ns, n);
    for (size_t i = 0; i < n; i++) {
        uint64_t t = now_ns();
        if (net_store_session_take(st, keys[i], 9, &l) != COAPS_OK)
            die("take failed");
        ns[i] = now_ns() - t;
        fences[i] = l.fence;
    }
    report("take", ns, n);
    for (size_t i = 0; i < n; i++) {
        l.fence = fences[i];
        uint64_t t = now_ns();
        if (net_store_seq_reserve(st, keys[i], 9, &l) != COAPS_OK)
            die("reserve failed");
        ns[i] = now_ns() - t;
    }
    report("reserve", ns, n);
    for (size_t r = 0; r < TOUCH_ROUNDS; r++) {
        uint64_t t = now_ns();
        if (net_store_session_touch(st, kp, lens, n, 600000) != COAPS_OK)
            die("touch failed");
        ns[r] = now_ns() - t;
    }
    qsort(ns, TOUCH_ROUNDS, sizeof *ns, cmp_u64);
    printf("touch    %zu sessions in one call: median %.2f ms (%.2f us a session)\n", n,
           (double)ns[TOUCH_ROUNDS / 2] / 1e6, (double)ns[TOUCH_ROUNDS / 2] / 1e3 / (double)n);
    for (size_t i = 0; i < n; i++)
        (void)net_store_session_drop(st, keys[i], 9, fences[i]);

    /* memory: the host and port back out of the URI's parse */
    char host[256];
    int port;
    if (sscanf(uri, "redis://%255[^:]:%d", host, &port) != 2)
        die("--uri: memory needs redis://HOST:PORT");
    long long before = used_memory(host, port, 0);
    for (size_t i = 0; i < m; i++) {
        uint8_t key[9];
        key_of(key, base + 1, (uint32_t)i);
        if (net_store_session_create(st, key, 9, rec, rec_len, 0, 600000, &l) != COAPS_OK)
            die("create failed");
    }
    long long after = used_memory(host, port, 0);
    printf("memory   %zu sessions of %zu bytes: used_memory %+lld bytes, %.0f bytes a session\n",
           m, rec_len, after - before, (double)(after - before) / (double)m);
    for (size_t i = 0; i < m; i++) {
        uint8_t key[9];
        key_of(key, base + 1, (uint32_t)i);
        (void)net_store_session_drop(st, key, 9, 1);
    }
    net_store_close(st);
    if (redis > 0) {
        kill(redis, SIGTERM);
        waitpid(redis, NULL, 0);
    }
    free(rec), free(ns), free(keys), free(kp), free(lens), free(fences);
    return 0;
}
