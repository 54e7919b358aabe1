/*
 * block.c - Block1/Block2 option values (RFC 7959 2.2), body buffers and
 * server-side Block1 reassembly (RFC 7959 2.5).
 */
#include <string.h>

#include "coap/endpoint.h"
#include "common/try.h"

/* RFC 7959 2.2: NUM is at most 20 bits (3-byte option). */
#define COAP_BLOCK_NUM_MAX 0xFFFFFu
/* RFC 7959 2.2: SZX 7 is reserved. */
#define COAP_BLOCK_SZX_RESERVED 7u
#define COAP_BLOCK_SZX_MAX 6u

size_t coaps_coap_block_size(uint8_t szx)
{
    return (size_t)16u << (szx > COAP_BLOCK_SZX_MAX ? COAP_BLOCK_SZX_MAX : szx);
}

uint8_t coaps_coap_block_szx(size_t bytes)
{
    uint8_t szx = 0;
    while (szx < COAP_BLOCK_SZX_MAX && coaps_coap_block_size((uint8_t)(szx + 1)) <= bytes)
        szx++;
    return szx;
}

coaps_status coaps_coap_msg_get_block(const coaps_coap_msg *m, uint16_t number,
                                      coaps_coap_block *b)
{
    const coaps_coap_option *o = coaps_coap_msg_find_option(m, number, NULL);
    ENSURE(o != NULL, COAPS_E_NOT_FOUND);
    ENSURE(o->len <= 3, COAPS_E_MALFORMED);
    uint32_t v;
    TRY(coaps_coap_msg_get_uint(m, number, &v));
    b->num = v >> 4;
    b->more = (v & 0x08) != 0;
    b->szx = v & 0x07;
    ENSURE(b->szx != COAP_BLOCK_SZX_RESERVED, COAPS_E_MALFORMED);
    return COAPS_OK;
}

coaps_status coaps_coap_msg_add_block(coaps_coap_msg *m, uint16_t number,
                                      const coaps_coap_block *b)
{
    ENSURE(b->num <= COAP_BLOCK_NUM_MAX && b->szx <= COAP_BLOCK_SZX_MAX, COAPS_E_INVALID);
    return coaps_coap_msg_add_uint(m, number, b->num << 4 | (b->more ? 0x08u : 0u) | b->szx);
}

/* ---- body slots ---------------------------------------------------------- */

struct coap_body *coap_body_alloc(coaps_coap_endpoint *ep, uint64_t now_ms)
{
    for (size_t i = 0; i < ep->cfg.body_slots; i++) {
        struct coap_body *b = &ep->body[i];
        /* server slots expire; client slots live as long as their exchange */
        if (b->used && (b->client || b->expires_ms > now_ms))
            continue;
        b->used = true;
        b->client = false;
        b->response = false;
        b->len = 0;
        b->expires_ms = now_ms + ep->cfg.exchange_lifetime_ms;
        return b;
    }
    ep->stats.table_full++;
    return NULL;
}

void coap_body_free(struct coap_body *b)
{
    b->used = false;
}

uint16_t coap_body_index(const coaps_coap_endpoint *ep, const struct coap_body *b)
{
    return (uint16_t)(b - ep->body);
}

void coap_body_forget_peer(coaps_coap_endpoint *ep, const coaps_peer *p)
{
    for (size_t i = 0; i < ep->cfg.body_slots; i++)
        if (ep->body[i].used && !ep->body[i].client && coaps_peer_equal(&ep->body[i].peer, p))
            coap_body_free(&ep->body[i]);
}

bool coap_body_has_peer(const coaps_coap_endpoint *ep, const coaps_peer *p)
{
    for (size_t i = 0; i < ep->cfg.body_slots; i++)
        if (ep->body[i].used && !ep->body[i].client && coaps_peer_equal(&ep->body[i].peer, p))
            return true;
    return false;
}

/* A client body belongs to its exchange (x->body), not to a peer: only
 * server bodies (Block1 uploads, kept Block2 responses) are moved. */
void coap_body_move_peer(coaps_coap_endpoint *ep, const coaps_peer *from, const coaps_peer *to)
{
    for (size_t i = 0; i < ep->cfg.body_slots; i++)
        if (ep->body[i].used && !ep->body[i].client && coaps_peer_equal(&ep->body[i].peer, from))
            ep->body[i].peer = *to;
}

/* ---- server Block1 ------------------------------------------------------- */

/* RFC 7959 2.5: blocks of one body are matched by endpoint and request
 * URI; the key hashes the Uri-Path and Uri-Query options (FNV-1a). */
static uint32_t request_key(const coaps_coap_msg *m)
{
    uint32_t h = 2166136261u ^ m->code;
    for (size_t i = 0; i < m->opt_count; i++) {
        const coaps_coap_option *o = &m->opts[i];
        if (o->number != COAPS_COAP_OPT_URI_PATH && o->number != COAPS_COAP_OPT_URI_QUERY)
            continue;
        const uint8_t *v = coaps_coap_option_value(o);
        h = (h ^ o->number) * 16777619u;
        for (size_t k = 0; k < o->len; k++)
            h = (h ^ v[k]) * 16777619u;
        h = (h ^ 0xFFu) * 16777619u; /* separator: "ab","c" != "a","bc" */
    }
    return h;
}

static struct coap_body *body_find(coaps_coap_endpoint *ep, const coaps_peer *p, uint32_t key,
                                   bool response, uint64_t now_ms)
{
    for (size_t i = 0; i < ep->cfg.body_slots; i++) {
        struct coap_body *b = &ep->body[i];
        if (b->used && !b->client && b->response == response && b->key == key &&
            b->expires_ms > now_ms && coaps_peer_equal(&b->peer, p))
            return b;
    }
    return NULL;
}

static bool too_large(const coaps_coap_endpoint *ep, const coaps_coap_msg *req, uint64_t end)
{
    uint32_t size1;
    /* RFC 7959 4: Size1 announces the total size up front. */
    if (coaps_coap_msg_get_uint(req, COAPS_COAP_OPT_SIZE1, &size1) == COAPS_OK &&
        size1 > ep->cfg.max_body_size)
        return true;
    return end > ep->cfg.max_body_size;
}

enum coap_b1 coap_block1_receive(coaps_coap_endpoint *ep, const coaps_peer *from,
                                 const coaps_coap_msg *req, const coaps_coap_block *b,
                                 uint64_t now_ms, struct coap_body **body)
{
    uint32_t key = request_key(req);
    size_t size = coaps_coap_block_size(b->szx);
    uint64_t off = (uint64_t)b->num * size;
    struct coap_body *s = body_find(ep, from, key, false, now_ms);
    /* RFC 7959 2.3: every block but the last carries exactly one block. */
    if (b->more && req->payload_len != size)
        return COAP_B1_BAD;
    if (too_large(ep, req, off + req->payload_len)) {
        if (s)
            coap_body_free(s);
        return COAP_B1_TOO_LARGE;
    }
    if (b->num == 0 && s == NULL) {
        s = coap_body_alloc(ep, now_ms);
        if (s == NULL)
            return COAP_B1_BUSY;
        s->peer = *from;
        s->key = key;
    }
    if (b->num == 0)
        s->len = 0; /* a new upload of the same resource restarts it */
    /* RFC 7959 2.5: a block that does not continue what we hold -> 4.08. */
    if (s == NULL || off != s->len)
        return COAP_B1_INCOMPLETE;
    if (req->payload_len)
        memcpy(s->buf + s->len, req->payload, req->payload_len);
    s->len += (uint32_t)req->payload_len;
    s->szx = b->szx;
    s->expires_ms = now_ms + ep->cfg.exchange_lifetime_ms;
    if (b->more)
        return COAP_B1_CONTINUE;
    *body = s;
    return COAP_B1_DONE;
}

/* ---- server Block2 of non-GET responses ---------------------------------- */

void coap_block2_keep(coaps_coap_endpoint *ep, const coaps_peer *from, const coaps_coap_msg *req,
                      const coaps_coap_response *resp, uint64_t now_ms)
{
    uint32_t key = request_key(req);
    struct coap_body *s = body_find(ep, from, key, true, now_ms);
    if (s == NULL)
        s = coap_body_alloc(ep, now_ms);
    if (s == NULL || resp->payload_len > ep->cfg.max_body_size)
        return; /* follow-ups then run the handler again */
    s->response = true;
    s->peer = *from;
    s->key = key;
    s->code = resp->code;
    s->cf = resp->content_format;
    s->etag_len = resp->etag_len;
    memcpy(s->etag, resp->etag, sizeof s->etag);
    memcpy(s->buf, resp->payload, resp->payload_len);
    s->len = (uint32_t)resp->payload_len;
}

struct coap_body *coap_block2_kept(coaps_coap_endpoint *ep, const coaps_peer *from,
                                   const coaps_coap_msg *req, uint64_t now_ms)
{
    return body_find(ep, from, request_key(req), true, now_ms);
}
