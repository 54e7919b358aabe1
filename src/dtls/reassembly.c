/* reassembly.c - incoming handshake ordering and reassembly (reassembly.h). */
#include "dtls/reassembly.h"

#include "common/try.h"

_Static_assert(sizeof(struct dtls_reasm) <= DTLS_REASM_SIZE_MAX,
               "struct dtls_reasm grew past the size promised in reassembly.h");
_Static_assert(DTLS_REASM_ARENA_BYTES >= DTLS_REASM_ARENA_MIN,
               "reassembly arena too small for PSK flights");
_Static_assert(DTLS_REASM_ARENA_BYTES <= UINT32_MAX, "arena offsets are 32-bit");

/* Arena bytes of a message: its body, then one bitmap bit per body byte. */
static uint32_t region_len(uint32_t length)
{
    return length + (length + 7) / 8;
}

void dtls_reasm_init(struct dtls_reasm *r, uint8_t *arena, size_t arena_cap, uint16_t next_seq)
{
    memset(r, 0, sizeof(*r));
    r->arena = arena;
    /* a bad arena (the engine's are constants) leaves no room: all dropped */
    r->arena_cap = arena && arena_cap >= DTLS_REASM_ARENA_MIN && arena_cap <= DTLS_REASM_ARENA_BYTES
                       ? (uint32_t)arena_cap
                       : 0;
    r->next_seq = next_seq;
    r->released = -1;
}

/* Free the slot whose body was handed out by the previous dtls_reasm_next()
 * and pack the arena so free space stays in one piece at the end. */
static void release_pending(struct dtls_reasm *r)
{
    if (r->released < 0)
        return;
    struct dtls_reasm_slot *s = &r->slots[r->released];
    uint32_t gone = region_len(s->length);
    uint32_t end = s->at + gone;
    memmove(r->arena + s->at, r->arena + end, r->arena_used - end);
    for (size_t i = 0; i < DTLS_REASM_WINDOW; i++)
        if (r->slots[i].used && r->slots[i].at > s->at)
            r->slots[i].at -= gone;
    r->arena_used -= gone;
    s->used = false;
    r->released = -1;
}

static struct dtls_reasm_slot *find_slot(struct dtls_reasm *r, uint16_t seq)
{
    for (size_t i = 0; i < DTLS_REASM_WINDOW; i++)
        if (r->slots[i].used && r->slots[i].message_seq == seq)
            return &r->slots[i];
    return NULL;
}

/* A fresh slot with a zeroed bitmap, or NULL when the arena is full. */
static struct dtls_reasm_slot *open_slot(struct dtls_reasm *r, const struct dtls_hs_header *h)
{
    uint32_t need = region_len(h->length);
    if (need > r->arena_cap - r->arena_used)
        return NULL;
    for (size_t i = 0; i < DTLS_REASM_WINDOW; i++) {
        struct dtls_reasm_slot *s = &r->slots[i];
        if (s->used)
            continue;
        s->used = true;
        s->complete = false;
        s->msg_type = h->msg_type;
        s->message_seq = h->message_seq;
        s->length = h->length;
        s->received = 0;
        s->at = r->arena_used;
        memset(r->arena + s->at + s->length, 0, need - s->length);
        r->arena_used += need;
        return s;
    }
    /* Unreachable: the window admits DTLS_REASM_WINDOW distinct seqs. */
    return NULL;
}

/* Copy the fragment's bytes that are new; bytes already held win (RFC 6347
 * 4.2.3 allows overlapping fragments and expects identical contents). */
static void fill(struct dtls_reasm *r, struct dtls_reasm_slot *s, const struct dtls_hs_header *h,
                 const uint8_t *frag)
{
    uint8_t *body = r->arena + s->at;
    uint8_t *bits = body + s->length;
    for (uint32_t i = 0; i < h->fragment_length; i++) {
        uint32_t pos = h->fragment_offset + i;
        uint8_t mask = (uint8_t)(1u << (pos % 8));
        if (bits[pos / 8] & mask)
            continue;
        bits[pos / 8] |= mask;
        body[pos] = frag[i];
        s->received++;
    }
    s->complete = s->received == s->length;
}

/* Type and length are fixed by the first fragment of a message_seq. */
static bool agrees(uint8_t type, uint32_t length, const struct dtls_hs_header *h)
{
    return type == h->msg_type && length == h->length;
}

coaps_status dtls_reasm_add(struct dtls_reasm *r, const struct dtls_hs_header *h,
                            const uint8_t *frag)
{
    ENSURE(r != NULL && h != NULL && (frag != NULL || h->fragment_length == 0), COAPS_E_INVALID);
    release_pending(r);
    if (h->length > DTLS_HS_MSG_MAX) {
        r->stats.too_large++;
        return COAPS_E_UNSUPPORTED;
    }
    if ((uint64_t)h->fragment_offset + h->fragment_length > h->length) {
        r->stats.malformed++;
        return COAPS_E_MALFORMED;
    }
    /* RFC 6347 4.2.2: below next_receive_seq is a retransmission. */
    if (h->message_seq < r->next_seq) {
        r->stats.old++;
        return COAPS_E_DUPLICATE;
    }
    if (h->message_seq >= r->next_seq + DTLS_REASM_WINDOW) {
        r->stats.future++;
        return COAPS_E_FULL;
    }
    if (r->direct.pending && r->direct.message_seq == h->message_seq) {
        /* Already complete: a copy adds nothing, a contradiction is dropped. */
        if (agrees(r->direct.msg_type, (uint32_t)r->direct.len, h))
            return COAPS_OK;
        r->stats.conflict++;
        return COAPS_E_MALFORMED;
    }
    struct dtls_reasm_slot *s = find_slot(r, h->message_seq);
    if (s == NULL && h->message_seq == r->next_seq && dtls_hs_header_is_whole(h)) {
        /* Fast path: the message we wait for, in one piece: no copy. */
        r->direct.pending = true;
        r->direct.msg_type = h->msg_type;
        r->direct.message_seq = h->message_seq;
        r->direct.body = frag;
        r->direct.len = h->length;
        return COAPS_OK;
    }
    if (s == NULL && (s = open_slot(r, h)) == NULL) {
        r->stats.no_space++;
        return COAPS_E_FULL;
    }
    if (!agrees(s->msg_type, s->length, h)) {
        r->stats.conflict++;
        return COAPS_E_MALFORMED;
    }
    fill(r, s, h, frag);
    return COAPS_OK;
}

coaps_status dtls_reasm_next(struct dtls_reasm *r, struct dtls_hs_msg *msg)
{
    ENSURE(r != NULL && msg != NULL, COAPS_E_INVALID);
    release_pending(r);
    if (r->direct.pending) {
        msg->msg_type = r->direct.msg_type;
        msg->message_seq = r->direct.message_seq;
        msg->body = r->direct.body;
        msg->len = r->direct.len;
        r->direct.pending = false;
        r->next_seq++;
        return COAPS_OK;
    }
    if (r->next_seq > UINT16_MAX)
        return COAPS_E_AGAIN;
    struct dtls_reasm_slot *s = find_slot(r, (uint16_t)r->next_seq);
    if (s == NULL || !s->complete)
        return COAPS_E_AGAIN;
    msg->msg_type = s->msg_type;
    msg->message_seq = s->message_seq;
    msg->body = r->arena + s->at;
    msg->len = s->length;
    r->released = (int)(s - r->slots);
    r->next_seq++;
    return COAPS_OK;
}

bool dtls_reasm_has_partial(const struct dtls_reasm *r)
{
    if (r->direct.pending)
        return true;
    for (int i = 0; i < DTLS_REASM_WINDOW; i++)
        if (r->slots[i].used && i != r->released)
            return true;
    return false;
}
