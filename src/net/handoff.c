/* handoff.c - the workers' single-producer, single-consumer rings (see
 * handoff.h). Head and tail count up forever (uint32_t wraps); a slot is
 * the count modulo NET_HANDOFF_SLOTS. */
#include "net/handoff.h"

#include <string.h>

_Static_assert((NET_HANDOFF_SLOTS & (NET_HANDOFF_SLOTS - 1)) == 0, "a power of two");

bool net_handoff_push(struct net_handoff_ring *r, const coaps_peer *peer, const uint8_t *data,
                      size_t len, bool *was_empty)
{
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint32_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    if (len > NET_UDP_DGRAM_MAX || tail - head >= NET_HANDOFF_SLOTS)
        return false;
    struct net_handoff_slot *s = &r->slots[tail % NET_HANDOFF_SLOTS];
    s->peer = *peer;
    s->len = (uint16_t)len;
    memcpy(s->data, data, len);
    /* Sequentially consistent, as are the reader's head store and tail
     * load: either the reader sees this tail before it sleeps, or we see
     * that it had taken everything before ours (head == our slot) and
     * wake it. A wake-up too many costs one eventfd read. */
    atomic_store(&r->tail, tail + 1);
    *was_empty = atomic_load(&r->head) == tail;
    return true;
}

struct net_handoff_slot *net_handoff_peek(struct net_handoff_ring *r)
{
    uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint32_t tail = atomic_load(&r->tail);
    return head == tail ? NULL : &r->slots[head % NET_HANDOFF_SLOTS];
}

void net_handoff_pop(struct net_handoff_ring *r)
{
    uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    atomic_store(&r->head, head + 1);
}
