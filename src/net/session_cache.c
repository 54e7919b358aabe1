/* session_cache.c - resumable sessions of the server (session_cache.h). */
#include "net/session_cache.h"

#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "common/try.h"
#include "crypto/crypto.h"
#include "net/buckets.h"

#define NONE UINT32_MAX

coaps_status net_session_cache_init(struct net_session_cache *c, uint32_t cap)
{
    memset(c, 0, sizeof *c);
    ENSURE(cap > 0 && cap <= (UINT32_MAX >> 2), COAPS_E_INVALID);
    c->buckets = net_buckets_new(cap, &c->bucket_mask); /* all NONE */
    c->e = calloc(cap, sizeof *c->e);
    if (!c->buckets || !c->e) {
        net_session_cache_free(c);
        return COAPS_E_NOMEM;
    }
    c->cap = cap;
    c->lifetime_ms = NET_SESSION_CACHE_LIFETIME_MS;
    return COAPS_OK;
}

void net_session_cache_free(struct net_session_cache *c)
{
    if (c->e)
        crypto_wipe(c->e, (size_t)c->cap * sizeof *c->e);
    free(c->e);
    free(c->buckets);
    memset(c, 0, sizeof *c);
}

static uint32_t bucket_of(const struct net_session_cache *c, const uint8_t *id, size_t len)
{
    return net_fnv1a(id, len) & c->bucket_mask;
}

static uint32_t find_entry(const struct net_session_cache *c, const uint8_t *id, size_t len)
{
    for (uint32_t i = c->buckets[bucket_of(c, id, len)]; i != NONE; i = c->e[i].next)
        if (c->e[i].s.id_len == len && memcmp(c->e[i].s.id, id, len) == 0)
            return i;
    return NONE;
}

static void drop_entry(struct net_session_cache *c, uint32_t i)
{
    struct net_cached_session *e = &c->e[i];
    if (e->s.version == 0)
        return;
    uint32_t *link = &c->buckets[bucket_of(c, e->s.id, e->s.id_len)];
    while (*link != i)
        link = &c->e[*link].next;
    *link = e->next;
    crypto_wipe(e, sizeof *e);
}

void net_session_cache_store(void *user, const coaps_dtls_session *s)
{
    struct net_session_cache *c = user;
    if (!c->e || s->id_len == 0 || s->id_len > COAPS_DTLS_SESSION_ID_MAX)
        return;
    uint32_t i = find_entry(c, s->id, s->id_len);
    if (i == NONE) { /* a new session takes the oldest entry */
        i = c->head;
        c->head = (c->head + 1) % c->cap;
    }
    drop_entry(c, i);
    struct net_cached_session *e = &c->e[i];
    e->s.version = s->version;
    e->s.suite = s->suite;
    e->s.id_len = s->id_len;
    memcpy(e->s.id, s->id, s->id_len);
    memcpy(e->s.master_secret, s->master_secret, sizeof(e->s.master_secret));
    e->stored_ms = c->now_ms;
    uint32_t b = bucket_of(c, s->id, s->id_len);
    e->next = c->buckets[b];
    c->buckets[b] = i;
    c->stored++;
}

coaps_status net_session_cache_find(void *user, const uint8_t *id, size_t id_len,
                                    coaps_dtls_session *out)
{
    struct net_session_cache *c = user;
    uint32_t i = c->e && id_len ? find_entry(c, id, id_len) : NONE;
    if (i != NONE && c->now_ms - c->e[i].stored_ms >= c->lifetime_ms) {
        drop_entry(c, i); /* expired: never resumed */
        i = NONE;
    }
    if (i == NONE) {
        c->missed++;
        return COAPS_E_NOT_FOUND;
    }
    const struct net_cached_core *e = &c->e[i].s;
    memset(out, 0, sizeof *out); /* no ticket */
    out->version = e->version;
    out->suite = e->suite;
    out->id_len = e->id_len;
    memcpy(out->id, e->id, e->id_len);
    memcpy(out->master_secret, e->master_secret, sizeof(e->master_secret));
    c->found++;
    return COAPS_OK;
}
