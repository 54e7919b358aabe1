/*
 * ticket.c - the server's session tickets (RFC 5077): key ring, seal and
 * open. The format and its reasons are in ticket.h.
 */
#include "dtls/ticket.h"

#include <string.h>

#include "common/try.h"
#include "common/wire.h"

#define TICKET_FORMAT 1
#define TICKET_FLAG_EMS 0x01

_Static_assert(sizeof(struct dtls_ticket_keys) <= COAPS_DTLS_TICKET_KEYS_SIZE,
               "COAPS_DTLS_TICKET_KEYS_SIZE promised in coaps/dtls.h is too small");
_Static_assert(_Alignof(struct dtls_ticket_keys) <= _Alignof(coaps_dtls_ticket_keys),
               "the public storage is aligned for the internal struct");

static struct dtls_ticket_keys *ring_of(coaps_dtls_ticket_keys *k)
{
    return (struct dtls_ticket_keys *)(void *)k->u.opaque;
}

static const struct dtls_ticket_keys *ring_of_const(const coaps_dtls_ticket_keys *k)
{
    return (const struct dtls_ticket_keys *)(const void *)k->u.opaque;
}

/* Key slot s for period p: HMAC-SHA256(secret, label || p). */
static coaps_status slot_key(struct dtls_ticket_keys *r, unsigned s, uint32_t p)
{
    static const char label[] = "coaps ticket key";
    uint8_t name[4];
    struct wire_wr nw = wire_wr_init(name, sizeof(name));
    TRY(wire_wr_u32(&nw, p));
    struct crypto_iov parts[2] = {{label, sizeof(label) - 1}, {name, sizeof(name)}};
    uint8_t key[CRYPTO_HASH_MAX];
    crypto_aead_clear(&r->aead[s]);
    r->live[s] = false;
    coaps_status st = crypto_hmac_iov(CRYPTO_SHA256, r->secret, sizeof(r->secret), parts, 2, key);
    if (st == COAPS_OK)
        st = crypto_aead_init(&r->aead[s], CRYPTO_AES_256_GCM, key, 32);
    crypto_wipe(key, sizeof(key));
    TRY(st);
    r->period[s] = p;
    r->live[s] = true;
    return COAPS_OK;
}

static uint32_t period_of(const struct dtls_ticket_keys *r, uint64_t unix_s)
{
    return (uint32_t)(unix_s / r->period_s);
}

coaps_status coaps_dtls_ticket_keys_init(coaps_dtls_ticket_keys *k, const uint8_t *secret,
                                         size_t secret_len, uint32_t period_s, uint64_t unix_s)
{
    ENSURE(k && secret && secret_len == COAPS_DTLS_TICKET_SECRET_LEN, COAPS_E_INVALID);
    struct dtls_ticket_keys *r = ring_of(k);
    memset(r, 0, sizeof(*r));
    memcpy(r->secret, secret, secret_len);
    r->period_s = period_s ? period_s : COAPS_DTLS_TICKET_PERIOD_S;
    uint32_t p = period_of(r, unix_s);
    r->cur = 0;
    coaps_status st = slot_key(r, 0, p);
    if (st == COAPS_OK && p > 0)
        st = slot_key(r, 1, p - 1);
    if (st != COAPS_OK)
        coaps_dtls_ticket_keys_clear(k);
    return st;
}

coaps_status coaps_dtls_ticket_keys_update(coaps_dtls_ticket_keys *k, uint64_t unix_s)
{
    ENSURE(k, COAPS_E_INVALID);
    struct dtls_ticket_keys *r = ring_of(k);
    ENSURE(r->period_s > 0, COAPS_E_STATE);
    uint32_t p = period_of(r, unix_s);
    if (r->live[r->cur] && r->period[r->cur] == p)
        return COAPS_OK;
    unsigned old = r->cur ^ 1u;
    if (r->live[r->cur] && r->period[r->cur] + 1 == p) {
        /* the usual step: the current key becomes the previous one */
        TRY(slot_key(r, old, p));
        r->cur = (uint8_t)old;
        return COAPS_OK;
    }
    /* a jump (a long sleep, a clock set): both keys again */
    TRY(slot_key(r, r->cur, p));
    if (p > 0)
        return slot_key(r, old, p - 1);
    crypto_aead_clear(&r->aead[old]);
    r->live[old] = false;
    return COAPS_OK;
}

void coaps_dtls_ticket_keys_clear(coaps_dtls_ticket_keys *k)
{
    if (!k)
        return;
    struct dtls_ticket_keys *r = ring_of(k);
    crypto_aead_clear(&r->aead[0]);
    crypto_aead_clear(&r->aead[1]);
    crypto_wipe(r, sizeof(*r));
}

uint32_t dtls_ticket_lifetime_s(const coaps_dtls_ticket_keys *keys)
{
    return ring_of_const(keys)->period_s;
}

coaps_status dtls_ticket_seal(coaps_dtls_ticket_keys *keys, const struct dtls_ticket_state *st,
                              const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN],
                              uint8_t out[DTLS_TICKET_LEN])
{
    struct dtls_ticket_keys *r = ring_of(keys);
    ENSURE(r->live[r->cur], COAPS_E_STATE);
    uint8_t state[DTLS_TICKET_STATE_LEN];
    struct wire_wr w = wire_wr_init(out, DTLS_TICKET_LEN);
    struct wire_wr sw = wire_wr_init(state, sizeof(state));
    TRY(wire_wr_u32(&w, r->period[r->cur]));
    TRY(wire_wr_bytes(&w, nonce, CRYPTO_AEAD_NONCE_LEN));
    coaps_status s = wire_wr_u8(&sw, TICKET_FORMAT);
    if (s == COAPS_OK)
        s = wire_wr_u16(&sw, st->suite);
    if (s == COAPS_OK)
        s = wire_wr_u8(&sw, st->ems ? TICKET_FLAG_EMS : 0);
    if (s == COAPS_OK)
        s = wire_wr_bytes(&sw, st->ms, sizeof(st->ms));
    if (s == COAPS_OK)
        s = crypto_aead_seal(&r->aead[r->cur], nonce, out, 4, state, sizeof(state),
                             out + w.off);
    crypto_wipe(state, sizeof(state));
    return s;
}

/* The slot whose key belongs to period p, or -1. */
static int slot_for(const struct dtls_ticket_keys *r, uint32_t p)
{
    for (int s = 0; s < 2; s++)
        if (r->live[s] && r->period[s] == p)
            return s;
    return -1;
}

static coaps_status read_state(const uint8_t *p, struct dtls_ticket_state *st)
{
    struct wire_rd r = wire_rd_init(p, DTLS_TICKET_STATE_LEN);
    uint8_t format, flags;
    TRY(wire_rd_u8(&r, &format));
    TRY(wire_rd_u16(&r, &st->suite));
    TRY(wire_rd_u8(&r, &flags));
    TRY(wire_rd_bytes(&r, st->ms, sizeof(st->ms)));
    ENSURE(format == TICKET_FORMAT && (flags & ~TICKET_FLAG_EMS) == 0, COAPS_E_NOT_FOUND);
    st->ems = (flags & TICKET_FLAG_EMS) != 0;
    return COAPS_OK;
}

coaps_status dtls_ticket_open(coaps_dtls_ticket_keys *keys, const uint8_t *ticket, size_t len,
                              struct dtls_ticket_state *st, bool *current)
{
    struct dtls_ticket_keys *r = ring_of(keys);
    if (!ticket || len != DTLS_TICKET_LEN)
        return COAPS_E_NOT_FOUND;
    struct wire_rd rd = wire_rd_init(ticket, len);
    uint32_t p;
    const uint8_t *nonce, *sealed;
    if (wire_rd_u32(&rd, &p) != COAPS_OK ||
        wire_rd_view(&rd, CRYPTO_AEAD_NONCE_LEN, &nonce) != COAPS_OK ||
        wire_rd_view(&rd, wire_rd_left(&rd), &sealed) != COAPS_OK)
        return COAPS_E_NOT_FOUND;
    int s = slot_for(r, p);
    if (s < 0)
        return COAPS_E_NOT_FOUND;
    /* additional data: the key name, the ticket's first 4 bytes */
    uint8_t state[DTLS_TICKET_STATE_LEN];
    coaps_status rc = crypto_aead_open(&r->aead[s], nonce, ticket, 4, sealed, sizeof(state),
                                       state);
    if (rc == COAPS_OK)
        rc = read_state(state, st);
    crypto_wipe(state, sizeof(state));
    if (rc != COAPS_OK) {
        crypto_wipe(st, sizeof(*st));
        return COAPS_E_NOT_FOUND;
    }
    *current = s == r->cur;
    return COAPS_OK;
}
