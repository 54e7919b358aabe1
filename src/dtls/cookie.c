/* cookie.c - stateless DTLS cookie (cookie.h, RFC 6347 4.2.1). */
#include "dtls/cookie.h"

#include <string.h>

#include "common/try.h"
#include "crypto/crypto.h"

_Static_assert(DTLS_COOKIE_LEN <= 32, "HMAC-SHA256 gives 32 bytes; GnuTLS takes <= 32");

/* Domain separation: this HMAC key is used for nothing else, but the label
 * makes the input self-describing. v2: session_id is no longer an input
 * (cookie.h says why). */
static const char cookie_label[] = "coaps dtls cookie v2";

/* HMAC-SHA256(secret, label || transport || addr_len || addr || version ||
 * random || len16(cipher_suites) || len8(compression_methods)), every
 * variable field length-prefixed so no two different inputs give the same
 * byte string. session_id is left out on purpose (cookie.h). */
static coaps_status cookie_mac(const struct crypto_hmac_key *key, const coaps_peer *peer,
                               const struct dtls_client_hello *ch, uint8_t out[DTLS_COOKIE_LEN])
{
    ENSURE(peer->addr_len <= COAPS_PEER_ADDR_MAX && ch->random != NULL, COAPS_E_INVALID);
    ENSURE(ch->cipher_suites.len <= 0xffff && ch->compression_methods.len <= 0xff,
           COAPS_E_INVALID);
    uint8_t head[2 + 2 + DTLS_RANDOM_LEN], cs_len[2], cm_len[1];
    struct wire_wr w = wire_wr_init(head, sizeof head);
    TRY(wire_wr_u8(&w, peer->transport));
    TRY(wire_wr_u8(&w, peer->addr_len));
    TRY(wire_wr_u16(&w, ch->client_version));
    TRY(wire_wr_bytes(&w, ch->random, DTLS_RANDOM_LEN));
    w = wire_wr_init(cs_len, sizeof cs_len);
    TRY(wire_wr_u16(&w, (uint16_t)ch->cipher_suites.len));
    cm_len[0] = (uint8_t)ch->compression_methods.len;

    /* head carries transport and addr_len before the address bytes. */
    const struct crypto_iov parts[] = {
        {cookie_label, sizeof cookie_label - 1},
        {head, 2},
        {peer->addr, peer->addr_len},
        {head + 2, sizeof head - 2},
        {cs_len, sizeof cs_len},
        {ch->cipher_suites.p, ch->cipher_suites.len},
        {cm_len, sizeof cm_len},
        {ch->compression_methods.p, ch->compression_methods.len},
    };
    uint8_t mac[CRYPTO_HASH_MAX];
    coaps_status st = crypto_hmac_keyed(key, parts, COAPS_ARRAY_LEN(parts), mac);
    if (st == COAPS_OK)
        memcpy(out, mac, DTLS_COOKIE_LEN);
    crypto_wipe(mac, sizeof mac);
    return st == COAPS_E_INVALID ? COAPS_E_INVALID : st == COAPS_OK ? COAPS_OK : COAPS_E_CRYPTO;
}

coaps_status dtls_cookie_init(struct dtls_cookie_ctx *c, const uint8_t *secret,
                              size_t secret_len, uint64_t now_ms)
{
    ENSURE(c != NULL && secret != NULL && secret_len == DTLS_COOKIE_SECRET_LEN, COAPS_E_INVALID);
    memset(c, 0, sizeof *c);
    TRY(crypto_hmac_key_init(&c->cur, CRYPTO_SHA256, secret, secret_len));
    c->has_cur = true;
    c->rotated_ms = now_ms;
    return COAPS_OK;
}

coaps_status dtls_cookie_rotate(struct dtls_cookie_ctx *c, const uint8_t *fresh,
                                size_t fresh_len, uint64_t now_ms)
{
    ENSURE(c != NULL && fresh != NULL && fresh_len == DTLS_COOKIE_SECRET_LEN, COAPS_E_INVALID);
    if (!c->has_cur)
        return dtls_cookie_init(c, fresh, fresh_len, now_ms);
    struct crypto_hmac_key next;
    TRY(crypto_hmac_key_init(&next, CRYPTO_SHA256, fresh, fresh_len));
    if (c->has_prev)
        crypto_hmac_key_clear(&c->prev);
    c->prev = c->cur;
    c->has_prev = true;
    c->cur = next;
    c->rotated_ms = now_ms;
    return COAPS_OK;
}

bool dtls_cookie_rotation_due(const struct dtls_cookie_ctx *c, uint64_t now_ms)
{
    /* A clock that went backwards also asks for a fresh secret. */
    return !c->has_cur || now_ms < c->rotated_ms || now_ms - c->rotated_ms >= DTLS_COOKIE_ROTATE_MS;
}

coaps_status dtls_cookie_make(const struct dtls_cookie_ctx *c, const coaps_peer *peer,
                              const struct dtls_client_hello *ch, uint8_t out[DTLS_COOKIE_LEN])
{
    ENSURE(c != NULL && peer != NULL && ch != NULL && out != NULL, COAPS_E_INVALID);
    ENSURE(c->has_cur, COAPS_E_STATE);
    return cookie_mac(&c->cur, peer, ch, out);
}

coaps_status dtls_cookie_verify(const struct dtls_cookie_ctx *c, const coaps_peer *peer,
                                const struct dtls_client_hello *ch)
{
    ENSURE(c != NULL && peer != NULL && ch != NULL, COAPS_E_INVALID);
    ENSURE(c->has_cur, COAPS_E_STATE);
    if (ch->cookie.len != DTLS_COOKIE_LEN || ch->cookie.p == NULL)
        return COAPS_E_COOKIE;
    uint8_t want[DTLS_COOKIE_LEN];
    bool ok;
    TRY(cookie_mac(&c->cur, peer, ch, want));
    ok = crypto_ct_equal(want, ch->cookie.p, DTLS_COOKIE_LEN);
    if (c->has_prev) {
        /* Computed even after a match so timing does not tell which
         * secret a cookie was made under. */
        coaps_status st = cookie_mac(&c->prev, peer, ch, want);
        if (st != COAPS_OK) {
            crypto_wipe(want, sizeof want);
            return st;
        }
        ok = crypto_ct_equal(want, ch->cookie.p, DTLS_COOKIE_LEN) || ok;
    }
    crypto_wipe(want, sizeof want);
    return ok ? COAPS_OK : COAPS_E_COOKIE;
}

void dtls_cookie_clear(struct dtls_cookie_ctx *c)
{
    if (c == NULL)
        return;
    if (c->has_cur)
        crypto_hmac_key_clear(&c->cur);
    if (c->has_prev)
        crypto_hmac_key_clear(&c->prev);
    crypto_wipe(c, sizeof *c);
    c->has_cur = false;
    c->has_prev = false;
    c->rotated_ms = 0;
}
