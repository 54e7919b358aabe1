/* cid_table.c - sessions by Connection ID (cid_table.h). */
#include "net/cid_table.h"

#include <stdlib.h>
#include <string.h>

#include "common/try.h"
#include "net/buckets.h"

coaps_status net_cid_table_init(struct net_cid_table *t, uint32_t cap, size_t len,
                                size_t prefix_len)
{
    memset(t, 0, sizeof *t);
    ENSURE(cap > 0 && cap <= (UINT32_MAX >> 2) && len > 0 && len <= COAPS_DTLS_CID_MAX &&
               prefix_len <= len,
           COAPS_E_INVALID);
    t->buckets = net_buckets_new(cap, &t->bucket_mask); /* all NET_CID_NONE */
    t->entries = calloc(cap, sizeof *t->entries);
    if (!t->buckets || !t->entries) {
        net_cid_table_free(t);
        return COAPS_E_NOMEM;
    }
    t->cap = cap;
    t->len = (uint8_t)len;
    t->skip = (uint8_t)(prefix_len < len ? prefix_len : 0);
    return COAPS_OK;
}

void net_cid_table_free(struct net_cid_table *t)
{
    free(t->buckets);
    free(t->entries);
    memset(t, 0, sizeof *t);
}

/* The random part: the prefix is the same in every CID. */
static uint32_t bucket_of(const struct net_cid_table *t, const uint8_t *cid)
{
    return net_fnv1a(cid + t->skip, (size_t)(t->len - t->skip)) & t->bucket_mask;
}

uint32_t net_cid_find(const struct net_cid_table *t, const uint8_t *cid)
{
    if (!t->buckets)
        return NET_CID_NONE;
    for (uint32_t i = t->buckets[bucket_of(t, cid)]; i != NET_CID_NONE; i = t->entries[i].next)
        if (memcmp(t->entries[i].cid, cid, t->len) == 0)
            return i;
    return NET_CID_NONE;
}

void net_cid_insert(struct net_cid_table *t, uint32_t slot, const uint8_t *cid)
{
    struct net_cid_entry *e = &t->entries[slot];
    uint32_t b = bucket_of(t, cid);
    memcpy(e->cid, cid, t->len);
    e->used = true;
    e->next = t->buckets[b];
    t->buckets[b] = slot;
}

void net_cid_remove(struct net_cid_table *t, uint32_t slot)
{
    if (!t->entries || slot >= t->cap || !t->entries[slot].used)
        return;
    uint32_t *link = &t->buckets[bucket_of(t, t->entries[slot].cid)];
    while (*link != slot)
        link = &t->entries[*link].next;
    *link = t->entries[slot].next;
    memset(&t->entries[slot], 0, sizeof t->entries[slot]);
}
