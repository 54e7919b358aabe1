/* test_cookie.c - stateless DTLS cookie (src/dtls/cookie.c, RFC 6347
 * 4.2.1), including the handling of a fragmented ClientHello without state
 * on a real OpenSSL ClientHello. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dtls/cookie.h"
#include "dtls/dtls_vectors.h"

static const uint8_t secret1[32] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                    11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                                    22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

/* ClientHello body (see test_handshake_msg.c): fefd, random 32 x 11,
 * session_id <0>, cookie <4> deadbeef, suites c0a8 00ff, compression null,
 * no extensions. */
static const uint8_t ch_body[] = {
    0xfe, 0xfd, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
    0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
    0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x04,
    0xc0, 0xa8, 0x00, 0xff, 0x01, 0x00,
};

/* HMAC-SHA256(secret1, "coaps dtls cookie v2" || 01 || 10 || addr ||
 * fefd || random || 0004 c0a8 00ff || 01 00), computed independently
 * with python3's hmac module: pins the input format documented in cookie.c
 * (no session_id: cookie.h). */
static const uint8_t expected_cookie[32] = {
    0x00, 0xd4, 0x27, 0xbc, 0x0f, 0xbf, 0x78, 0x5d, 0xf3, 0x2d, 0xd2, 0xd7, 0xef, 0xb7, 0x43, 0x87,
    0xcb, 0x2d, 0x03, 0x55, 0x9d, 0x08, 0x83, 0x0d, 0xbe, 0xe0, 0x22, 0xeb, 0x89, 0x17, 0x08, 0x61};

/* A sockaddr_in-like address: family 2, port, 127.0.0.1, zero padding. */
static coaps_peer peer_at(uint16_t port)
{
    coaps_peer p;
    memset(&p, 0, sizeof p);
    p.addr[0] = 2;
    p.addr[2] = (uint8_t)(port >> 8);
    p.addr[3] = (uint8_t)port;
    p.addr[4] = 127;
    p.addr[7] = 1;
    p.addr_len = 16;
    p.transport = COAPS_TRANSPORT_DTLS;
    return p;
}

static void parse(const uint8_t *b, size_t n, struct dtls_client_hello *ch)
{
    assert_int_equal(dtls_client_hello_parse(b, n, ch), COAPS_OK);
}

static void known_answer_and_determinism(void **state)
{
    (void)state;
    struct dtls_cookie_ctx c;
    struct dtls_client_hello ch;
    uint8_t k1[DTLS_COOKIE_LEN], k2[DTLS_COOKIE_LEN];
    coaps_peer p = peer_at(5684);
    assert_int_equal(dtls_cookie_init(&c, secret1, sizeof secret1, 0), COAPS_OK);
    parse(ch_body, sizeof ch_body, &ch);
    assert_int_equal(dtls_cookie_make(&c, &p, &ch, k1), COAPS_OK);
    assert_memory_equal(k1, expected_cookie, 32);
    assert_int_equal(dtls_cookie_make(&c, &p, &ch, k2), COAPS_OK);
    assert_memory_equal(k1, k2, DTLS_COOKIE_LEN);
    /* The cookie the client echoes is not part of the input. */
    ch.cookie = (struct dtls_view){k1, sizeof k1};
    assert_int_equal(dtls_cookie_make(&c, &p, &ch, k2), COAPS_OK);
    assert_memory_equal(k1, k2, DTLS_COOKIE_LEN);
    assert_int_equal(dtls_cookie_verify(&c, &p, &ch), COAPS_OK);
    assert_true(DTLS_COOKIE_LEN <= 32); /* GnuTLS refuses longer cookies */
    dtls_cookie_clear(&c);
}

static void every_covered_field_changes_the_cookie(void **state)
{
    (void)state;
    struct dtls_cookie_ctx c;
    struct dtls_client_hello ch;
    uint8_t base[DTLS_COOKIE_LEN], k[DTLS_COOKIE_LEN];
    coaps_peer p = peer_at(5684);
    assert_int_equal(dtls_cookie_init(&c, secret1, sizeof secret1, 0), COAPS_OK);
    parse(ch_body, sizeof ch_body, &ch);
    assert_int_equal(dtls_cookie_make(&c, &p, &ch, base), COAPS_OK);

    coaps_peer q = peer_at(5685); /* another port */
    assert_int_equal(dtls_cookie_make(&c, &q, &ch, k), COAPS_OK);
    assert_memory_not_equal(k, base, DTLS_COOKIE_LEN);
    q = p;
    q.transport = COAPS_TRANSPORT_UDP;
    assert_int_equal(dtls_cookie_make(&c, &q, &ch, k), COAPS_OK);
    assert_memory_not_equal(k, base, DTLS_COOKIE_LEN);
    q = p;
    q.addr_len = 15;
    assert_int_equal(dtls_cookie_make(&c, &q, &ch, k), COAPS_OK);
    assert_memory_not_equal(k, base, DTLS_COOKIE_LEN);

    /* one byte changed in each ClientHello field covered */
    static const size_t at[] = {1, 2, 33, 43, 45};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        uint8_t b[sizeof ch_body];
        memcpy(b, ch_body, sizeof b);
        b[at[i]] ^= 0x01;
        struct dtls_client_hello x;
        parse(b, sizeof b, &x);
        assert_int_equal(dtls_cookie_make(&c, &p, &x, k), COAPS_OK);
        if (memcmp(k, base, DTLS_COOKIE_LEN) == 0)
            fail_msg("byte %zu of the ClientHello is not covered by the cookie", at[i]);
    }
    /* compression list {0, 1} instead of {0} */
    uint8_t b[sizeof ch_body + 1];
    memcpy(b, ch_body, sizeof ch_body);
    b[46] = 2;
    b[48] = 1;
    struct dtls_client_hello x;
    parse(b, sizeof b, &x);
    assert_int_equal(dtls_cookie_make(&c, &p, &x, k), COAPS_OK);
    assert_memory_not_equal(k, base, DTLS_COOKIE_LEN);
    /* A session_id, which moves the suites, is no input (cookie.h):
     * session_id_is_not_covered. */
    dtls_cookie_clear(&c);
}

/* A ClientHello body like ch_body with a session_id of sid_len bytes, each
 * sid_byte; returns its length. */
static size_t with_session_id(uint8_t *out, size_t cap, uint8_t sid_len, uint8_t sid_byte)
{
    size_t n = sizeof ch_body + sid_len;
    assert_true(n <= cap);
    memcpy(out, ch_body, 34);
    out[34] = sid_len;
    memset(out + 35, sid_byte, sid_len);
    memcpy(out + 35 + sid_len, ch_body + 35, sizeof ch_body - 35);
    return n;
}

/* RFC 5077 3.4: a client offering a ticket may send a fresh session_id in
 * every ClientHello (Mbed TLS 2.28 does), so the cookie must not cover it:
 * any session_id, of any length, gives the same cookie, and the cookie
 * made for one ClientHello verifies on another that differs only there. */
static void session_id_is_not_covered(void **state)
{
    (void)state;
    struct dtls_cookie_ctx c;
    struct dtls_client_hello ch, x;
    uint8_t base[DTLS_COOKIE_LEN], k[DTLS_COOKIE_LEN], b[sizeof ch_body + 32];
    coaps_peer p = peer_at(5684);
    assert_int_equal(dtls_cookie_init(&c, secret1, sizeof secret1, 0), COAPS_OK);
    parse(ch_body, sizeof ch_body, &ch);
    assert_int_equal(ch.session_id.len, 0);
    assert_int_equal(dtls_cookie_make(&c, &p, &ch, base), COAPS_OK);
    static const struct {
        uint8_t len, byte;
    } sids[] = {{1, 0x00}, {16, 0x5a}, {32, 0xa5}, {32, 0x3c}};
    for (size_t i = 0; i < sizeof sids / sizeof sids[0]; i++) {
        size_t n = with_session_id(b, sizeof b, sids[i].len, sids[i].byte);
        parse(b, n, &x);
        assert_int_equal(x.session_id.len, sids[i].len);
        assert_int_equal(dtls_cookie_make(&c, &p, &x, k), COAPS_OK);
        assert_memory_equal(k, base, DTLS_COOKIE_LEN);
        x.cookie = (struct dtls_view){base, DTLS_COOKIE_LEN};
        assert_int_equal(dtls_cookie_verify(&c, &p, &x), COAPS_OK);
    }
    /* ...but the other fields still count with any session_id: another
     * random, another suite list, is refused. */
    size_t n = with_session_id(b, sizeof b, 32, 0x3c);
    b[2] ^= 0x01; /* first byte of the random */
    parse(b, n, &x);
    x.cookie = (struct dtls_view){base, DTLS_COOKIE_LEN};
    assert_int_equal(dtls_cookie_verify(&c, &p, &x), COAPS_E_COOKIE);
    n = with_session_id(b, sizeof b, 32, 0x3c);
    b[35 + 32 + 5 + 2] ^= 0x01; /* first suite, after cookie <4> and the length */
    parse(b, n, &x);
    assert_int_equal(x.cipher_suites.p[0], 0xc1);
    x.cookie = (struct dtls_view){base, DTLS_COOKIE_LEN};
    assert_int_equal(dtls_cookie_verify(&c, &p, &x), COAPS_E_COOKIE);
    dtls_cookie_clear(&c);
}

static void forged_or_missing_cookies_are_refused(void **state)
{
    (void)state;
    struct dtls_cookie_ctx c;
    struct dtls_client_hello ch;
    uint8_t k[DTLS_COOKIE_LEN + 1];
    coaps_peer p = peer_at(5684);
    assert_int_equal(dtls_cookie_init(&c, secret1, sizeof secret1, 0), COAPS_OK);
    parse(ch_body, sizeof ch_body, &ch);
    assert_int_equal(dtls_cookie_verify(&c, &p, &ch), COAPS_E_COOKIE); /* deadbeef */
    ch.cookie = (struct dtls_view){NULL, 0};
    assert_int_equal(dtls_cookie_verify(&c, &p, &ch), COAPS_E_COOKIE);
    assert_int_equal(dtls_cookie_make(&c, &p, &ch, k), COAPS_OK);
    k[DTLS_COOKIE_LEN] = 0;
    ch.cookie = (struct dtls_view){k, DTLS_COOKIE_LEN};
    assert_int_equal(dtls_cookie_verify(&c, &p, &ch), COAPS_OK);
    ch.cookie.len = DTLS_COOKIE_LEN - 1; /* a prefix */
    assert_int_equal(dtls_cookie_verify(&c, &p, &ch), COAPS_E_COOKIE);
    ch.cookie.len = DTLS_COOKIE_LEN + 1; /* with a byte appended */
    assert_int_equal(dtls_cookie_verify(&c, &p, &ch), COAPS_E_COOKIE);
    ch.cookie.len = DTLS_COOKIE_LEN;
    for (size_t i = 0; i < DTLS_COOKIE_LEN; i += 7) {
        k[i] ^= 0x80;
        assert_int_equal(dtls_cookie_verify(&c, &p, &ch), COAPS_E_COOKIE);
        k[i] ^= 0x80;
    }
    coaps_peer q = peer_at(40000); /* replayed from another address */
    assert_int_equal(dtls_cookie_verify(&c, &q, &ch), COAPS_E_COOKIE);
    /* another server's secret */
    struct dtls_cookie_ctx other;
    uint8_t s2[32];
    memset(s2, 0x77, sizeof s2);
    assert_int_equal(dtls_cookie_init(&other, s2, sizeof s2, 0), COAPS_OK);
    assert_int_equal(dtls_cookie_verify(&other, &p, &ch), COAPS_E_COOKIE);
    dtls_cookie_clear(&other);
    dtls_cookie_clear(&c);
}

static void rotation_keeps_previous_secret_for_one_period(void **state)
{
    (void)state;
    struct dtls_cookie_ctx c;
    struct dtls_client_hello ch;
    uint8_t k0[DTLS_COOKIE_LEN], k1[DTLS_COOKIE_LEN];
    uint8_t fresh[32];
    coaps_peer p = peer_at(5684);
    assert_int_equal(dtls_cookie_init(&c, secret1, sizeof secret1, 1000), COAPS_OK);
    parse(ch_body, sizeof ch_body, &ch);
    assert_int_equal(dtls_cookie_make(&c, &p, &ch, k0), COAPS_OK);
    ch.cookie = (struct dtls_view){k0, DTLS_COOKIE_LEN};

    assert_false(dtls_cookie_rotation_due(&c, 1000 + DTLS_COOKIE_ROTATE_MS - 1));
    assert_true(dtls_cookie_rotation_due(&c, 1000 + DTLS_COOKIE_ROTATE_MS));
    assert_true(dtls_cookie_rotation_due(&c, 999)); /* clock went back */

    memset(fresh, 0x42, sizeof fresh);
    assert_int_equal(dtls_cookie_rotate(&c, fresh, sizeof fresh, 1000 + DTLS_COOKIE_ROTATE_MS),
                     COAPS_OK);
    assert_false(dtls_cookie_rotation_due(&c, 1000 + DTLS_COOKIE_ROTATE_MS));
    /* old cookie still accepted, new cookies differ and are accepted */
    assert_int_equal(dtls_cookie_verify(&c, &p, &ch), COAPS_OK);
    assert_int_equal(dtls_cookie_make(&c, &p, &ch, k1), COAPS_OK);
    assert_memory_not_equal(k0, k1, DTLS_COOKIE_LEN);
    struct dtls_client_hello ch1 = ch;
    ch1.cookie = (struct dtls_view){k1, DTLS_COOKIE_LEN};
    assert_int_equal(dtls_cookie_verify(&c, &p, &ch1), COAPS_OK);

    memset(fresh, 0x43, sizeof fresh);
    assert_int_equal(dtls_cookie_rotate(&c, fresh, sizeof fresh, 2000 + DTLS_COOKIE_ROTATE_MS),
                     COAPS_OK);
    assert_int_equal(dtls_cookie_verify(&c, &p, &ch), COAPS_E_COOKIE); /* two rotations old */
    assert_int_equal(dtls_cookie_verify(&c, &p, &ch1), COAPS_OK);     /* one rotation old */
    dtls_cookie_clear(&c);
    assert_int_equal(dtls_cookie_verify(&c, &p, &ch1), COAPS_E_STATE);
}

static void bad_arguments(void **state)
{
    (void)state;
    struct dtls_cookie_ctx c;
    struct dtls_client_hello ch;
    uint8_t k[DTLS_COOKIE_LEN];
    coaps_peer p = peer_at(1);
    memset(&c, 0, sizeof c);
    parse(ch_body, sizeof ch_body, &ch);
    assert_int_equal(dtls_cookie_make(&c, &p, &ch, k), COAPS_E_STATE);
    assert_int_equal(dtls_cookie_init(&c, secret1, 16, 0), COAPS_E_INVALID);
    assert_int_equal(dtls_cookie_init(&c, NULL, 32, 0), COAPS_E_INVALID);
    /* rotate without a current secret behaves as init */
    assert_int_equal(dtls_cookie_rotate(&c, secret1, 32, 5), COAPS_OK);
    assert_int_equal(dtls_cookie_make(&c, &p, &ch, k), COAPS_OK);
    assert_int_equal(dtls_cookie_rotate(&c, secret1, 31, 5), COAPS_E_INVALID);
    p.addr_len = COAPS_PEER_ADDR_MAX + 1;
    assert_int_equal(dtls_cookie_make(&c, &p, &ch, k), COAPS_E_INVALID);
    p = peer_at(1);
    ch.random = NULL;
    assert_int_equal(dtls_cookie_make(&c, &p, &ch, k), COAPS_E_INVALID);
    dtls_cookie_clear(&c);
    dtls_cookie_clear(&c); /* twice is harmless */
    assert_int_equal(dtls_cookie_make(&c, &p, &ch, k), COAPS_E_STATE);
}

/* ---- the stateless fragmented-ClientHello policy of cookie.h ------------- */

/* Body of the one handshake message in a captured datagram. */
static const uint8_t *vector_body(const uint8_t *dg, size_t n, size_t *len)
{
    struct wire_rd r = wire_rd_init(dg, n);
    struct dtls_hs_header h;
    const uint8_t *body;
    assert_int_equal(wire_rd_skip(&r, 13), COAPS_OK); /* record header */
    assert_int_equal(dtls_hs_header_read(&r, &h, &body), COAPS_OK);
    assert_true(dtls_hs_header_is_whole(&h));
    *len = h.length;
    return body;
}

/* The server answers a ClientHello that arrives in fragments from its first
 * fragment alone: the cookie from a prefix equals the cookie from the whole
 * message; a prefix too short to hold the fixed fields is dropped. */
static void fragmented_client_hello_handled_from_first_fragment(void **state)
{
    (void)state;
    uint8_t dg[2048];
    size_t n = load_vector("openssl_dtls12_psk_client_hello_cookie.bin", dg, sizeof dg), len;
    assert_true(n > 25); /* a record header and a handshake header at least */
    const uint8_t *body = vector_body(dg, n, &len);
    uint8_t b[2048];
    memcpy(b, body, len); /* writable copy to put our cookie in */

    struct dtls_cookie_ctx c;
    coaps_peer p = peer_at(47311);
    struct dtls_client_hello whole, first;
    uint8_t k_whole[DTLS_COOKIE_LEN], k_first[DTLS_COOKIE_LEN];
    assert_int_equal(dtls_cookie_init(&c, secret1, sizeof secret1, 0), COAPS_OK);
    parse(b, len, &whole);
    assert_int_equal(whole.cookie.len, 32); /* the capture's cookie (a0..bf) */
    assert_int_equal(dtls_cookie_verify(&c, &p, &whole), COAPS_E_COOKIE);

    /* Fixed fields: 2 + 32 + 1 + (1 + 32) + (2 + 0x6c) + (1 + 1) = 180. */
    const size_t fixed = 180;
    for (size_t cut = 0; cut < fixed; cut += 17)
        assert_int_equal(dtls_client_hello_parse_prefix(b, cut, &first), COAPS_E_TRUNCATED);
    assert_int_equal(dtls_client_hello_parse_prefix(b, fixed, &first), COAPS_OK);
    assert_int_equal(dtls_cookie_make(&c, &p, &whole, k_whole), COAPS_OK);
    assert_int_equal(dtls_cookie_make(&c, &p, &first, k_first), COAPS_OK);
    assert_memory_equal(k_whole, k_first, DTLS_COOKIE_LEN);

    /* The HelloVerifyRequest the server sends from the prefix. */
    uint8_t hvr_buf[64];
    struct wire_wr w = wire_wr_init(hvr_buf, sizeof hvr_buf);
    struct dtls_hello_verify_request hvr = {DTLS_VERSION_1_0, {k_first, DTLS_COOKIE_LEN}};
    assert_int_equal(dtls_hello_verify_request_write(&w, &hvr), COAPS_OK);
    assert_int_equal(w.off, 3 + DTLS_COOKIE_LEN);

    /* The client echoes it (same length as the captured cookie, so the
     * bytes go in place): verified from the whole message and from the
     * first fragment alone. */
    memcpy((uint8_t *)whole.cookie.p, k_first, DTLS_COOKIE_LEN);
    parse(b, len, &whole);
    assert_int_equal(dtls_cookie_verify(&c, &p, &whole), COAPS_OK);
    assert_int_equal(dtls_client_hello_parse_prefix(b, fixed, &first), COAPS_OK);
    assert_int_equal(dtls_cookie_verify(&c, &p, &first), COAPS_OK);
    /* from another port the same fragment is refused */
    coaps_peer q = peer_at(47312);
    assert_int_equal(dtls_cookie_verify(&c, &q, &first), COAPS_E_COOKIE);
    dtls_cookie_clear(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(known_answer_and_determinism),
        cmocka_unit_test(every_covered_field_changes_the_cookie),
        cmocka_unit_test(session_id_is_not_covered),
        cmocka_unit_test(forged_or_missing_cookies_are_refused),
        cmocka_unit_test(rotation_keeps_previous_secret_for_one_period),
        cmocka_unit_test(bad_arguments),
        cmocka_unit_test(fragmented_client_hello_handled_from_first_fragment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
