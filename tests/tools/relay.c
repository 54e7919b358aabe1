/*
 * relay - an impairing UDP relay for fault tests. Clients talk to the
 * relay's listening port; each client gets its own upstream socket to the
 * server. Per direction, seeded and bounded, it drops, duplicates, delays
 * (and so reorders) datagrams and drops those larger than an MTU.
 *
 *   relay -l PORT -s HOST:PORT [--seed N] [--loss PCT] [--dup PCT]
 *         [--reorder PCT] [--delay MS] [--mtu N]
 *         [--c2s-loss PCT] [--s2c-loss PCT] [--c2s-mtu N] [--s2c-mtu N]
 *
 * PCT is a percentage 0..100. A reordered datagram waits a random 1..MS
 * milliseconds (default 50) while later ones pass. On SIGTERM/SIGINT it
 * prints its counters on stderr and exits 0.
 *
 * On SIGUSR1 it acts as a NAT that lost its mappings (a rebinding): every
 * client gets a new upstream socket, so the server sees the same clients
 * from new source ports; it says so on stderr ("relay: rebound N").
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RELAY_CLIENTS 32  /* distinct client addresses served */
#define RELAY_QUEUE 256   /* delayed datagrams held at once */
#define RELAY_DGRAM 65536 /* largest UDP payload */

enum { C2S = 0, S2C = 1 };

struct dir_cfg {
    unsigned loss, dup, reorder; /* percent */
    unsigned delay_ms;
    size_t mtu; /* 0: no limit */
    unsigned long seen, dropped, duplicated, delayed, too_big;
};

struct client {
    bool used;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    int up; /* socket connected to the server */
};

struct held {
    bool used;
    uint64_t at;
    int fd;
    struct sockaddr_storage to;
    socklen_t to_len; /* 0: fd is connected */
    size_t len;
    uint8_t *data;
};

static volatile sig_atomic_t stop, rebind;
static uint64_t rng = 88172645463325252ull;
static struct dir_cfg dirs[2];
static struct client clients[RELAY_CLIENTS];
static struct held queue[RELAY_QUEUE];

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void on_rebind(int sig)
{
    (void)sig;
    rebind = 1;
}

/* A fresh upstream socket to the server: a new source port. */
static int upstream(const struct addrinfo *server)
{
    int fd = socket(server->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, server->ai_addr, server->ai_addrlen) != 0) {
        perror("relay: upstream socket");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* SIGUSR1: every client's upstream socket replaced (datagrams the server
 * sends to the old port are lost, as behind a NAT). */
static void rebind_all(const struct addrinfo *server)
{
    unsigned n = 0;
    for (size_t i = 0; i < RELAY_CLIENTS; i++) {
        int fd;
        if (!clients[i].used || (fd = upstream(server)) < 0)
            continue;
        close(clients[i].up);
        clients[i].up = fd;
        n++;
    }
    fprintf(stderr, "relay: rebound %u\n", n);
}

static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 32);
}

static bool chance(unsigned pct)
{
    return pct && rnd() % 100 < pct;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static unsigned num(const char *name, const char *arg, unsigned max)
{
    char *end;
    unsigned long v = strtoul(arg, &end, 10);
    if (*end || end == arg || v > max) {
        fprintf(stderr, "relay: %s must be 0..%u, got '%s'\n", name, max, arg);
        exit(2);
    }
    return (unsigned)v;
}

static void send_now(int fd, const struct sockaddr_storage *to, socklen_t to_len,
                     const uint8_t *d, size_t len)
{
    if (to_len)
        (void)sendto(fd, d, len, 0, (const struct sockaddr *)to, to_len);
    else
        (void)send(fd, d, len, 0);
}

/* Apply one direction's impairments to a datagram. */
static void forward(int dir, int fd, const struct sockaddr_storage *to, socklen_t to_len,
                    const uint8_t *d, size_t len)
{
    struct dir_cfg *c = &dirs[dir];
    c->seen++;
    if (c->mtu && len > c->mtu) {
        c->too_big++;
        return;
    }
    if (chance(c->loss)) {
        c->dropped++;
        return;
    }
    int copies = 1;
    if (chance(c->dup)) {
        copies = 2;
        c->duplicated++;
    }
    for (int i = 0; i < copies; i++) {
        if (!chance(c->reorder)) {
            send_now(fd, to, to_len, d, len);
            continue;
        }
        struct held *h = NULL;
        for (size_t k = 0; k < RELAY_QUEUE && !h; k++)
            if (!queue[k].used)
                h = &queue[k];
        if (!h || !(h->data = malloc(len))) {
            send_now(fd, to, to_len, d, len); /* queue full: no delay */
            continue;
        }
        c->delayed++;
        h->used = true;
        h->at = now_ms() + 1 + rnd() % (c->delay_ms ? c->delay_ms : 50);
        h->fd = fd;
        h->to = *to;
        h->to_len = to_len;
        h->len = len;
        memcpy(h->data, d, len);
    }
}

static void release_due(void)
{
    uint64_t now = now_ms();
    for (size_t k = 0; k < RELAY_QUEUE; k++) {
        struct held *h = &queue[k];
        if (h->used && h->at <= now) {
            send_now(h->fd, &h->to, h->to_len, h->data, h->len);
            free(h->data);
            h->data = NULL;
            h->used = false;
        }
    }
}

static int next_timeout(void)
{
    uint64_t now = now_ms(), t = UINT64_MAX;
    for (size_t k = 0; k < RELAY_QUEUE; k++)
        if (queue[k].used && queue[k].at < t)
            t = queue[k].at;
    if (t == UINT64_MAX)
        return 200;
    return t <= now ? 0 : (int)(t - now);
}

static struct addrinfo *resolve(const char *hostport)
{
    char host[256];
    const char *colon = strrchr(hostport, ':');
    if (!colon || (size_t)(colon - hostport) >= sizeof(host)) {
        fprintf(stderr, "relay: -s wants HOST:PORT, got '%s'\n", hostport);
        exit(2);
    }
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = 0;
    struct addrinfo hints = {0}, *res;
    hints.ai_socktype = SOCK_DGRAM;
    if (getaddrinfo(host, colon + 1, &hints, &res) != 0) {
        fprintf(stderr, "relay: cannot resolve '%s'\n", hostport);
        exit(2);
    }
    return res;
}

static struct client *client_for(const struct sockaddr_storage *a, socklen_t len,
                                 const struct addrinfo *server)
{
    for (size_t i = 0; i < RELAY_CLIENTS; i++)
        if (clients[i].used && clients[i].addr_len == len && memcmp(&clients[i].addr, a, len) == 0)
            return &clients[i];
    for (size_t i = 0; i < RELAY_CLIENTS; i++) {
        struct client *c = &clients[i];
        if (c->used)
            continue;
        c->up = upstream(server);
        if (c->up < 0)
            return NULL;
        c->used = true;
        c->addr = *a;
        c->addr_len = len;
        return c;
    }
    return NULL; /* table full: drop */
}

int main(int argc, char **argv)
{
    static const struct option longs[] = {
        {"seed", required_argument, NULL, 'S'},     {"loss", required_argument, NULL, 'L'},
        {"dup", required_argument, NULL, 'D'},      {"reorder", required_argument, NULL, 'R'},
        {"delay", required_argument, NULL, 'd'},    {"mtu", required_argument, NULL, 'M'},
        {"c2s-loss", required_argument, NULL, 1},   {"s2c-loss", required_argument, NULL, 2},
        {"c2s-mtu", required_argument, NULL, 3},    {"s2c-mtu", required_argument, NULL, 4},
        {NULL, 0, NULL, 0},
    };
    const char *listen_port = NULL, *server = NULL;
    int ch;
    while ((ch = getopt_long(argc, argv, "l:s:", longs, NULL)) != -1) {
        switch (ch) {
        case 'l': listen_port = optarg; break;
        case 's': server = optarg; break;
        case 'S': rng = strtoull(optarg, NULL, 0) * 2654435761u + 1; break;
        case 'L': dirs[0].loss = dirs[1].loss = num("--loss", optarg, 100); break;
        case 'D': dirs[0].dup = dirs[1].dup = num("--dup", optarg, 100); break;
        case 'R': dirs[0].reorder = dirs[1].reorder = num("--reorder", optarg, 100); break;
        case 'd': dirs[0].delay_ms = dirs[1].delay_ms = num("--delay", optarg, 60000); break;
        case 'M': dirs[0].mtu = dirs[1].mtu = num("--mtu", optarg, 65535); break;
        case 1: dirs[C2S].loss = num("--c2s-loss", optarg, 100); break;
        case 2: dirs[S2C].loss = num("--s2c-loss", optarg, 100); break;
        case 3: dirs[C2S].mtu = num("--c2s-mtu", optarg, 65535); break;
        case 4: dirs[S2C].mtu = num("--s2c-mtu", optarg, 65535); break;
        default:
            fprintf(stderr, "usage: relay -l PORT -s HOST:PORT [--seed N] [--loss PCT] ...\n");
            return 2;
        }
    }
    if (!listen_port || !server) {
        fprintf(stderr, "relay: -l PORT and -s HOST:PORT are required\n");
        return 2;
    }
    struct addrinfo *srv = resolve(server);
    struct sockaddr_in la = {0};
    la.sin_family = AF_INET;
    la.sin_port = htons((uint16_t)num("-l", listen_port, 65535));
    la.sin_addr.s_addr = htonl(0x7f000001); /* loopback only */
    int lfd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&la, sizeof(la)) != 0) {
        perror("relay: bind");
        return 2;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGUSR1, on_rebind);
    static uint8_t buf[RELAY_DGRAM];
    while (!stop) {
        if (rebind) {
            rebind = 0;
            rebind_all(srv);
        }
        struct pollfd pfd[1 + RELAY_CLIENTS];
        struct client *owner[1 + RELAY_CLIENTS];
        nfds_t n = 0;
        pfd[n].fd = lfd;
        pfd[n].events = POLLIN;
        owner[n++] = NULL;
        for (size_t i = 0; i < RELAY_CLIENTS; i++)
            if (clients[i].used) {
                pfd[n].fd = clients[i].up;
                pfd[n].events = POLLIN;
                owner[n++] = &clients[i];
            }
        int r = poll(pfd, n, next_timeout());
        if (r < 0 && errno != EINTR)
            break;
        for (nfds_t i = 0; r > 0 && i < n; i++) {
            if (!(pfd[i].revents & POLLIN))
                continue;
            if (!owner[i]) {
                struct sockaddr_storage from;
                socklen_t from_len = sizeof(from);
                ssize_t len = recvfrom(lfd, buf, sizeof(buf), 0, (struct sockaddr *)&from,
                                       &from_len);
                struct client *c = len > 0 ? client_for(&from, from_len, srv) : NULL;
                if (c)
                    forward(C2S, c->up, &from, 0, buf, (size_t)len);
            } else {
                ssize_t len = recv(owner[i]->up, buf, sizeof(buf), 0);
                if (len > 0)
                    forward(S2C, lfd, &owner[i]->addr, owner[i]->addr_len, buf, (size_t)len);
            }
        }
        release_due();
    }
    static const char *names[2] = {"client->server", "server->client"};
    for (int d = 0; d < 2; d++)
        fprintf(stderr,
                "relay: %s: %lu seen, %lu dropped, %lu duplicated, %lu delayed, %lu over MTU\n",
                names[d], dirs[d].seen, dirs[d].dropped, dirs[d].duplicated, dirs[d].delayed,
                dirs[d].too_big);
    for (size_t k = 0; k < RELAY_QUEUE; k++)
        free(queue[k].data);
    for (size_t i = 0; i < RELAY_CLIENTS; i++)
        if (clients[i].used)
            close(clients[i].up);
    freeaddrinfo(srv);
    close(lfd);
    return 0;
}
