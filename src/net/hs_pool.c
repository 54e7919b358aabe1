/* hs_pool.c - handshake slots and the eviction order (see hs_pool.h). */
#include "net/hs_pool.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "common/try.h"

/* What docs/architecture.md and dtls_server.h promise (x86-64; the host
 * table has two entries a slot when cap is a power of two). */
_Static_assert(NET_HS_POOL_BYTES_PER_SLOT <= 80, "pool bookkeeping grew past 80 bytes a slot");

coaps_status net_hs_pool_init(struct net_hs_pool *p, uint32_t cap)
{
    memset(p, 0, sizeof *p);
    ENSURE(cap >= 1 && cap <= NET_HS_POOL_MAX, COAPS_E_INVALID);
    p->cap = cap;
    uint32_t n = 2;
    while (n < 2 * cap) /* load factor <= 1/2 */
        n *= 2;
    p->mask = n - 1;
    p->slot = calloc(cap, sizeof *p->slot);
    p->used = calloc(cap, sizeof *p->used);
    p->free_list = calloc(cap, sizeof *p->free_list);
    p->hosts = calloc(n, sizeof *p->hosts);
    p->host_count = calloc(cap, sizeof *p->host_count);
    p->host_free = calloc(cap, sizeof *p->host_free);
    if (!p->slot || !p->used || !p->free_list || !p->hosts || !p->host_count || !p->host_free) {
        net_hs_pool_free(p);
        return COAPS_E_NOMEM;
    }
    /* the stack pops the lowest slots first: the first handshakes touch
     * the first pages of the caller's contexts */
    for (uint32_t i = 0; i < cap; i++) {
        p->slot[i].owner = NET_HS_NONE;
        p->free_list[i] = cap - 1 - i;
        p->host_free[i] = cap - 1 - i;
    }
    return COAPS_OK;
}

void net_hs_pool_free(struct net_hs_pool *p)
{
    free(p->slot);
    free(p->used);
    free(p->free_list);
    free(p->hosts);
    free(p->host_count);
    free(p->host_free);
    memset(p, 0, sizeof *p);
}

/* FNV-1a 64 over the bytes that name the host. */
static uint64_t fnv(uint64_t h, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

uint64_t net_hs_host_key(const coaps_peer *peer)
{
    uint64_t h = 14695981039346656037ull;
    sa_family_t family = 0;
    if (peer->addr_len >= sizeof family)
        memcpy(&family, peer->addr, sizeof family);
    if (family == AF_INET && peer->addr_len >= sizeof(struct sockaddr_in)) {
        struct sockaddr_in s4;
        memcpy(&s4, peer->addr, sizeof s4);
        return fnv(h, (const uint8_t *)&s4.sin_addr, sizeof s4.sin_addr);
    }
    if (family == AF_INET6 && peer->addr_len >= sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 s6;
        memcpy(&s6, peer->addr, sizeof s6);
        return fnv(h ^ 6, s6.sin6_addr.s6_addr, 8); /* the /64 prefix */
    }
    return fnv(h, peer->addr, peer->addr_len); /* not a socket address: all of it */
}

/* Home entry of a host key in the table. */
static uint32_t host_home(const struct net_hs_pool *p, uint64_t key)
{
    return (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 32) & p->mask;
}

/* The entry of key, or the empty entry where it would go. */
static uint32_t host_find(const struct net_hs_pool *p, uint64_t key)
{
    uint32_t i = host_home(p, key);
    while (p->hosts[i].live && p->hosts[i].key != key)
        i = (i + 1) & p->mask;
    return i;
}

uint32_t net_hs_pool_host_count(const struct net_hs_pool *p, uint64_t host)
{
    const struct net_hs_host *e = &p->hosts[host_find(p, host)];
    return e->live ? p->host_count[e->id] : 0;
}

/* One slot more for key: its id (a new one for a host holding none). A
 * host holds a slot, and there are cap slots, so an id is always free. */
static uint32_t host_add(struct net_hs_pool *p, uint64_t key)
{
    struct net_hs_host *e = &p->hosts[host_find(p, key)];
    if (!e->live) {
        e->key = key;
        e->id = p->host_free[p->cap - p->hosts_live - 1];
        e->live = true;
        p->hosts_live++;
        p->host_count[e->id] = 0;
    }
    p->host_count[e->id]++;
    return e->id;
}

/* One slot fewer for key; a host at zero leaves the table by backward
 * shift, so probe chains stay unbroken without tombstones. */
static void host_remove(struct net_hs_pool *p, uint64_t key)
{
    uint32_t i = host_find(p, key);
    if (!p->hosts[i].live || --p->host_count[p->hosts[i].id] > 0)
        return;
    p->host_free[p->cap - p->hosts_live] = p->hosts[i].id;
    p->hosts_live--;
    for (uint32_t j = (i + 1) & p->mask; p->hosts[j].live; j = (j + 1) & p->mask) {
        uint32_t k = host_home(p, p->hosts[j].key);
        /* j stays when its home lies cyclically in (i, j] */
        bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (stays)
            continue;
        p->hosts[i] = p->hosts[j];
        i = j;
    }
    p->hosts[i].live = false;
}

uint32_t net_hs_pool_take(struct net_hs_pool *p, uint32_t owner, uint64_t host, uint64_t now_ms)
{
    if (p->in_use == p->cap || owner == NET_HS_NONE)
        return NET_HS_NONE;
    uint32_t h = p->free_list[p->cap - p->in_use - 1];
    struct net_hs_slot *s = &p->slot[h];
    s->owner = owner;
    s->pos = p->in_use;
    s->started_ms = now_ms;
    s->progress = false;
    s->host = host;
    s->host_id = host_add(p, host);
    p->used[p->in_use++] = h;
    return h;
}

void net_hs_pool_give(struct net_hs_pool *p, uint32_t h)
{
    if (h >= p->cap || p->slot[h].owner == NET_HS_NONE)
        return;
    struct net_hs_slot *s = &p->slot[h];
    host_remove(p, s->host);
    /* keep used[] dense: the last lent slot takes h's place */
    uint32_t last = p->used[--p->in_use];
    p->used[s->pos] = last;
    p->slot[last].pos = s->pos;
    s->owner = NET_HS_NONE;
    p->free_list[p->cap - p->in_use - 1] = h;
}


/* true when slot a (its host holding ca) is the better victim than b
 * (holding cb): hs_pool.h, no progress, host holding more, older. */
static bool worse(const struct net_hs_slot *a, uint32_t ca, const struct net_hs_slot *b,
                  uint32_t cb)
{
    if (a->progress != b->progress)
        return !a->progress;
    if (ca != cb)
        return ca > cb;
    return a->started_ms < b->started_ms;
}

uint32_t net_hs_pool_victim(const struct net_hs_pool *p)
{
    uint32_t best = NET_HS_NONE, best_count = 0;
    for (uint32_t i = 0; i < p->in_use; i++) {
        uint32_t h = p->used[i];
        uint32_t count = p->host_count[p->slot[h].host_id];
        if (best == NET_HS_NONE || worse(&p->slot[h], count, &p->slot[best], best_count)) {
            best = h;
            best_count = count;
        }
    }
    return best;
}

uint32_t net_hs_pool_host_victim(const struct net_hs_pool *p, uint64_t host)
{
    uint32_t best = NET_HS_NONE;
    for (uint32_t i = 0; i < p->in_use; i++) {
        uint32_t h = p->used[i];
        if (p->slot[h].host != host)
            continue;
        if (best == NET_HS_NONE || worse(&p->slot[h], 0, &p->slot[best], 0))
            best = h;
    }
    return best;
}
