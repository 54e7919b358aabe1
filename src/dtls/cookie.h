/*
 * cookie.h - the stateless DTLS cookie exchange (RFC 6347 4.2.1).
 *
 * A server answers a ClientHello without a valid cookie with a
 * HelloVerifyRequest carrying
 *     cookie = HMAC-SHA256(secret, peer address || ClientHello fields)
 * truncated to DTLS_COOKIE_LEN bytes, and keeps no state for that client.
 * The fields covered are client_version, random, cipher_suites and
 * compression_methods - not the cookie itself, not message_seq, not the
 * extensions, and not session_id. RFC 6347 4.2.1 has the client repeat
 * version, random, session_id, suites and compression in its second
 * ClientHello (MUST) and the server bind them into the cookie (SHOULD).
 * We leave session_id out, a knowing departure from that SHOULD: a client
 * that offers a session ticket may put a session_id of its own choosing in
 * its ClientHello (RFC 5077 3.4: the server echoes it to accept the
 * ticket), and Mbed TLS 2.28 draws a fresh one for every ClientHello it
 * writes, so a cookie over it never verifies and such a client loops on
 * HelloVerifyRequest (test_dtls_mbedtls.sh, ticket_case). What the cookie
 * is for still holds: it proves the address (the cookie's purpose in
 * 4.2.1), and the random, 32 bytes the client drew, ties the second
 * ClientHello to the first. The secret rotates
 * (dtls_cookie_rotate); cookies under the previous secret stay valid for
 * one more period so a client mid-exchange is not refused.
 *
 * Fragmented ClientHellos without state (our policy):
 *   - A ClientHello that arrives whole is handled normally.
 *   - For a ClientHello whose FIRST fragment (fragment_offset 0) holds all
 *     fields through compression_methods, the server parses that prefix
 *     with dtls_client_hello_parse_prefix() and makes / verifies the cookie
 *     from it alone: no valid cookie -> HelloVerifyRequest computed from the
 *     prefix; valid cookie -> the server now creates state (the address is
 *     proven), feeds this fragment to its reassembly and waits for the rest.
 *   - Any other fragment of a ClientHello arriving without state (offset > 0,
 *     or a first fragment too short to hold the fixed fields) is dropped
 *     silently: no state is kept for unproven addresses. The client's
 *     retransmission brings the first fragment again.
 * The fixed fields are at most 2+32+1+32+1+255+2+2*n+1+m bytes, well within
 * one fragment for any sane MTU and suite list.
 *
 * Ownership: struct dtls_cookie_ctx is owned by the caller (one per server
 * endpoint, not per client); it holds secrets and their prepared HMAC
 * keys: dtls_cookie_clear frees and wipes them, and must end every
 * successful init.
 */
#ifndef COAPS_DTLS_COOKIE_H
#define COAPS_DTLS_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coaps/peer.h"
#include "coaps/status.h"
#include "crypto/crypto.h"
#include "dtls/handshake_msg.h"

/* Cookie length we emit: 32 bytes = the full HMAC-SHA256 output; DTLS 1.2
 * allows 255 (RFC 6347 4.2.1) but GnuTLS clients refuse cookies longer than
 * 32 bytes (DTLS 1.0 limit of RFC 4347). */
#define DTLS_COOKIE_LEN 32
/* Secret length: the HMAC-SHA256 block-size-independent key strength. */
#define DTLS_COOKIE_SECRET_LEN 32
/* Rotate the secret this often (milliseconds): a cookie then lives between
 * one and two periods, long enough for the client's second ClientHello
 * even after several retransmissions (RFC 6347 4.2.4.1: timers up to 60 s)
 * and short enough to bound replays of a captured cookie. */
#define DTLS_COOKIE_ROTATE_MS (5 * 60 * 1000)

/* The secrets are kept only as prepared HMAC keys: a cookie costs one
 * keyed HMAC, not a key set-up each time (two per handshake). */
struct dtls_cookie_ctx {
    struct crypto_hmac_key cur;  /* makes and verifies */
    struct crypto_hmac_key prev; /* verifies only */
    bool has_cur;
    bool has_prev;
    uint64_t rotated_ms; /* now_ms of the last init/rotate */
};

/* Start with a first secret (fresh random bytes from the caller, e.g.
 * crypto_random()), on memory that holds no live context. COAPS_E_INVALID
 * when secret_len != DTLS_COOKIE_SECRET_LEN (c untouched). */
coaps_status dtls_cookie_init(struct dtls_cookie_ctx *c, const uint8_t *secret,
                              size_t secret_len, uint64_t now_ms);

/* Make `fresh` the current secret; the current one becomes the previous one
 * (still accepted), the previous one is wiped. COAPS_E_INVALID when
 * fresh_len != DTLS_COOKIE_SECRET_LEN. */
coaps_status dtls_cookie_rotate(struct dtls_cookie_ctx *c, const uint8_t *fresh,
                                size_t fresh_len, uint64_t now_ms);

/* true when DTLS_COOKIE_ROTATE_MS has passed since the last rotation (the
 * caller then rotates with fresh random bytes). */
bool dtls_cookie_rotation_due(const struct dtls_cookie_ctx *c, uint64_t now_ms);

/* Compute the cookie for this client under the current secret into out
 * (DTLS_COOKIE_LEN bytes). ch may come from dtls_client_hello_parse() or
 * dtls_client_hello_parse_prefix(); its cookie field is ignored.
 * Returns COAPS_OK, COAPS_E_STATE (no secret yet), COAPS_E_INVALID (a
 * field beyond its wire bounds), COAPS_E_CRYPTO (HMAC failed). */
coaps_status dtls_cookie_make(const struct dtls_cookie_ctx *c, const coaps_peer *peer,
                              const struct dtls_client_hello *ch, uint8_t out[DTLS_COOKIE_LEN]);

/* Check ch->cookie against the cookie for (peer, ch) under the current and
 * the previous secret, in constant time (crypto_ct_equal).
 * Returns COAPS_OK when it matches; COAPS_E_COOKIE when it is empty, of the
 * wrong length or does not match (answer with a HelloVerifyRequest);
 * COAPS_E_STATE / COAPS_E_CRYPTO as dtls_cookie_make. */
coaps_status dtls_cookie_verify(const struct dtls_cookie_ctx *c, const coaps_peer *peer,
                                const struct dtls_client_hello *ch);

/* Free and wipe the secrets; c is then as after a failed init. */
void dtls_cookie_clear(struct dtls_cookie_ctx *c);

#endif /* COAPS_DTLS_COOKIE_H */
