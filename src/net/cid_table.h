/*
 * cid_table.h - the coaps:// server's sessions by Connection ID (RFC 9146):
 * the second way to find a session, the one that still works after the
 * peer's address changed (NAT rebinding). O(1) lookup in a chained hash
 * table over one entry per session slot (the session table's slot
 * numbers), allocated once at set-up. Every CID in one table has the same
 * length (the server's configured cid_len): the length is not on the wire,
 * the receiver knows it (RFC 9146 4).
 *
 * CIDs are random after an optional fixed prefix, so their bytes after the
 * prefix are the hash; a flood of made-up CIDs costs one bucket walk each,
 * and a bucket holds about one entry.
 */
#ifndef COAPS_NET_CID_TABLE_H
#define COAPS_NET_CID_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coaps/dtls.h"
#include "coaps/status.h"

#define NET_CID_NONE UINT32_MAX

struct net_cid_entry {
    uint8_t cid[COAPS_DTLS_CID_MAX];
    uint32_t next; /* next slot in the same bucket */
    bool used;
};

struct net_cid_table {
    uint32_t cap;
    uint8_t len;     /* bytes of every CID in the table */
    uint8_t skip;    /* bytes of fixed prefix, left out of the hash */
    uint32_t bucket_mask;
    uint32_t *buckets;
    struct net_cid_entry *entries; /* by slot */
};

/* A table for cap slots, CIDs of len bytes (1..COAPS_DTLS_CID_MAX) whose
 * first prefix_len bytes are the same for all. COAPS_E_NOMEM, _INVALID. */
coaps_status net_cid_table_init(struct net_cid_table *t, uint32_t cap, size_t len,
                                size_t prefix_len);
void net_cid_table_free(struct net_cid_table *t);

/* The slot whose CID is cid (len bytes), or NET_CID_NONE. */
uint32_t net_cid_find(const struct net_cid_table *t, const uint8_t *cid);
/* Give slot the CID cid; the caller checked with net_cid_find that no
 * other slot has it, and that slot has none. */
void net_cid_insert(struct net_cid_table *t, uint32_t slot, const uint8_t *cid);
/* Forget slot's CID, if it has one. */
void net_cid_remove(struct net_cid_table *t, uint32_t slot);

#endif /* COAPS_NET_CID_TABLE_H */
