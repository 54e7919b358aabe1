/*
 * test_front_door.c - the server's stateless front door (coaps_dtls_server,
 * RFC 6347 4.2.1) seen from outside, through the public API only:
 *   - a HelloVerifyRequest is never larger than the ClientHello that caused
 *     it (so the server cannot be used as an amplifier);
 *   - a flood of ClientHellos from many ports is answered with no memory
 *     kept: the heap does not grow;
 *   - forged, truncated and stale inputs never create a connection;
 *   - a second ClientHello with a new session_id still opens (RFC 5077 3.4);
 *   - front doors given one cookie secret (a server's workers) accept each
 *     other's cookies.
 * ClientHellos are the real ones OpenSSL and GnuTLS sent (tests/dtls/vectors).
 */
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "coaps/dtls.h"
#include "dtls/dtls_vectors.h"

static coaps_status lookup(void *user, const uint8_t *identity, size_t identity_len, uint8_t *key,
                           size_t key_cap, size_t *key_len)
{
    (void)user;
    (void)identity;
    (void)identity_len;
    if (key_cap < 2)
        return COAPS_E_NOSPACE;
    key[0] = 0x01;
    key[1] = 0x02;
    *key_len = 2;
    return COAPS_OK;
}

static void peer_for_port(coaps_peer *p, uint32_t port)
{
    memset(p, 0, sizeof *p);
    p->transport = COAPS_TRANSPORT_DTLS;
    p->addr_len = 8;
    p->addr[0] = 127;
    p->addr[3] = 1;
    p->addr[4] = (uint8_t)(port >> 8);
    p->addr[5] = (uint8_t)port;
    p->addr[6] = (uint8_t)(port >> 16);
}

static void init_server(coaps_dtls_server *srv, coaps_dtls_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->role = COAPS_DTLS_SERVER;
    cfg->psk_lookup = lookup;
    cfg->psk_hint = (const uint8_t *)"CoAP";
    cfg->psk_hint_len = 4;
    assert_int_equal(coaps_dtls_server_init(srv, cfg, 1000), COAPS_OK);
}

static const char *const first_hellos[] = {
    "openssl_dtls12_psk_client_hello.bin",
    "gnutls_dtls12_psk_client_hello.bin",
};

/* RFC 6347 4.2.1: the HelloVerifyRequest is small so that it cannot
 * amplify; ours must never exceed the ClientHello datagram. Also checked
 * against every shorter prefix that still parses. */
static void hvr_never_larger_than_client_hello(void **state)
{
    (void)state;
    coaps_dtls_config cfg;
    coaps_dtls_server srv;
    init_server(&srv, &cfg);
    for (size_t i = 0; i < sizeof first_hellos / sizeof first_hellos[0]; i++) {
        uint8_t ch[2048], out[512];
        size_t n = load_vector(first_hellos[i], ch, sizeof ch);
        coaps_peer peer;
        peer_for_port(&peer, 40000);
        size_t out_len = 0;
        enum coaps_dtls_accept v;
        assert_int_equal(coaps_dtls_server_accept(&srv, &peer, ch, n, 2000, out, sizeof out,
                                                  &out_len, &v),
                         COAPS_OK);
        assert_int_equal(v, COAPS_DTLS_ACCEPT_SEND);
        assert_true(out_len > 0);
        assert_true(out_len <= n);
        /* HelloVerifyRequest: handshake record (22) carrying msg_type 3. */
        assert_int_equal(out[0], 22);
        assert_int_equal(out[13], 3);
    }
    coaps_dtls_server_clear(&srv);
}

/* A flood of first ClientHellos from 20000 source ports: every one gets a
 * HelloVerifyRequest, none a connection, and the heap does not grow. */
static void flood_keeps_no_state(void **state)
{
    (void)state;
    coaps_dtls_config cfg;
    coaps_dtls_server srv;
    init_server(&srv, &cfg);
    uint8_t ch[2048], out[512];
    size_t n = load_vector("openssl_dtls12_psk_client_hello.bin", ch, sizeof ch);

    /* Warm up whatever the crypto backend caches once per process. */
    for (uint32_t port = 1; port <= 100; port++) {
        coaps_peer peer;
        peer_for_port(&peer, port);
        size_t out_len;
        enum coaps_dtls_accept v;
        coaps_dtls_server_accept(&srv, &peer, ch, n, 2000, out, sizeof out, &out_len, &v);
    }
    struct mallinfo2 before = mallinfo2();
    size_t hvrs = 0;
    for (uint32_t port = 1000; port < 21000; port++) {
        coaps_peer peer;
        peer_for_port(&peer, port);
        size_t out_len = 0;
        enum coaps_dtls_accept v;
        assert_int_equal(coaps_dtls_server_accept(&srv, &peer, ch, n, 2000 + port, out,
                                                  sizeof out, &out_len, &v),
                         COAPS_OK);
        assert_int_not_equal(v, COAPS_DTLS_ACCEPT_NEW);
        hvrs += v == COAPS_DTLS_ACCEPT_SEND;
    }
    struct mallinfo2 after = mallinfo2();
    assert_int_equal(hvrs, 20000);
    /* Live heap bytes may wobble by an allocator chunk, never by a
     * per-client amount (20000 clients x even 16 bytes = 320 KB). */
    long grew = (long)after.uordblks - (long)before.uordblks;
    if (grew > 4096)
        fail_msg("heap grew by %ld bytes over 20000 ClientHellos", grew);
    coaps_dtls_server_clear(&srv);
}

/* The cookie answered to one client does not open the door for another
 * address, a changed cookie is refused, and the right one is accepted. */
static void only_the_right_cookie_opens(void **state)
{
    (void)state;
    coaps_dtls_config cfg;
    coaps_dtls_server srv;
    init_server(&srv, &cfg);
    uint8_t ch[2048], out[512];
    size_t n = load_vector("openssl_dtls12_psk_client_hello.bin", ch, sizeof ch);
    coaps_peer alice, mallory;
    peer_for_port(&alice, 5000);
    peer_for_port(&mallory, 5001);
    size_t out_len = 0;
    enum coaps_dtls_accept v;
    assert_int_equal(coaps_dtls_server_accept(&srv, &alice, ch, n, 2000, out, sizeof out,
                                              &out_len, &v),
                     COAPS_OK);
    assert_int_equal(v, COAPS_DTLS_ACCEPT_SEND);

    /* Build ClientHello #2 with the cookie from the HVR. HVR body: 12-byte
     * handshake header at 13, then version(2) cookie_len(1) cookie. ClientHello
     * body at 25: version(2) random(32) sid_len(1) sid cookie_len(1) cookie... */
    size_t cookie_len = out[13 + 12 + 2];
    const uint8_t *cookie = &out[13 + 12 + 3];
    assert_true(cookie_len > 0 && cookie_len <= 32);
    size_t sid_at = 25 + 2 + 32;
    size_t cookie_at = sid_at + 1 + ch[sid_at];
    assert_int_equal(ch[cookie_at], 0); /* the first ClientHello has none */
    uint8_t ch2[2048];
    size_t m = 0;
    memcpy(ch2, ch, cookie_at);
    m = cookie_at;
    ch2[m++] = (uint8_t)cookie_len;
    memcpy(ch2 + m, cookie, cookie_len);
    m += cookie_len;
    memcpy(ch2 + m, ch + cookie_at + 1, n - cookie_at - 1);
    m += n - cookie_at - 1;
    /* Fix the lengths: record length, handshake length, fragment length;
     * message_seq becomes 1. */
    size_t body = m - 25;
    ch2[11] = (uint8_t)((m - 13) >> 8);
    ch2[12] = (uint8_t)(m - 13);
    for (int at = 14; at <= 22; at += 8) {
        ch2[at] = (uint8_t)(body >> 16);
        ch2[at + 1] = (uint8_t)(body >> 8);
        ch2[at + 2] = (uint8_t)body;
    }
    ch2[17] = 0;
    ch2[18] = 1;

    assert_int_equal(coaps_dtls_server_accept(&srv, &mallory, ch2, m, 2100, out, sizeof out,
                                              &out_len, &v),
                     COAPS_OK);
    assert_int_not_equal(v, COAPS_DTLS_ACCEPT_NEW);

    uint8_t forged[2048];
    memcpy(forged, ch2, m);
    forged[cookie_at + 1] ^= 0x01;
    assert_int_equal(coaps_dtls_server_accept(&srv, &alice, forged, m, 2100, out, sizeof out,
                                              &out_len, &v),
                     COAPS_OK);
    assert_int_not_equal(v, COAPS_DTLS_ACCEPT_NEW);

    assert_int_equal(coaps_dtls_server_accept(&srv, &alice, ch2, m, 2100, out, sizeof out,
                                              &out_len, &v),
                     COAPS_OK);
    assert_int_equal(v, COAPS_DTLS_ACCEPT_NEW);
    coaps_dtls_server_clear(&srv);
}

/* with_hello(ch, n, sid, sid_len, cookie, cookie_len, out): the
 * ClientHello datagram ch (one record, one whole message) with its
 * session_id and cookie replaced and every length fixed up; message_seq 1
 * when a cookie is given (the client's second ClientHello). Returns the new
 * length. */
static size_t with_hello(const uint8_t *ch, size_t n, const uint8_t *sid, size_t sid_len,
                         const uint8_t *cookie, size_t cookie_len, uint8_t *out, size_t cap)
{
    const size_t sid_at = 25 + 2 + 32; /* record 13, handshake 12, version, random */
    size_t cookie_at = sid_at + 1 + ch[sid_at];
    size_t rest_at = cookie_at + 1 + ch[cookie_at];
    assert_true(rest_at < n);
    size_t m = sid_at + 1 + sid_len + 1 + cookie_len + (n - rest_at);
    assert_true(m <= cap && sid_len <= 32 && cookie_len <= 255);
    memcpy(out, ch, sid_at);
    size_t at = sid_at;
    out[at++] = (uint8_t)sid_len;
    if (sid_len > 0)
        memcpy(out + at, sid, sid_len);
    at += sid_len;
    out[at++] = (uint8_t)cookie_len;
    if (cookie_len > 0)
        memcpy(out + at, cookie, cookie_len);
    at += cookie_len;
    memcpy(out + at, ch + rest_at, n - rest_at);
    size_t body = m - 25;
    out[11] = (uint8_t)((m - 13) >> 8); /* record length */
    out[12] = (uint8_t)(m - 13);
    for (int f = 14; f <= 22; f += 8) { /* handshake length, fragment_length */
        out[f] = (uint8_t)(body >> 16);
        out[f + 1] = (uint8_t)(body >> 8);
        out[f + 2] = (uint8_t)body;
    }
    out[17] = 0; /* message_seq */
    out[18] = cookie_len > 0;
    return m;
}

/* A client that offers a session ticket may choose its session_id (RFC
 * 5077 3.4), and Mbed TLS 2.28 draws a fresh one for every ClientHello, so
 * the cookie leaves session_id out (cookie.h). A second ClientHello that
 * differs from the first only in its session_id, carrying the cookie of
 * the first's HelloVerifyRequest, opens the door (the client does not loop
 * on HelloVerifyRequests); one that differs in its random or its
 * cipher_suites does not. Over both captured ClientHellos. */
static void session_id_may_change_after_hvr(void **state)
{
    (void)state;
    coaps_dtls_config cfg;
    coaps_dtls_server srv;
    init_server(&srv, &cfg);
    uint8_t sid1[32], sid2[32];
    memset(sid1, 0x5a, sizeof sid1);
    for (size_t i = 0; i < sizeof sid2; i++)
        sid2[i] = (uint8_t)(0xa0 + i);
    for (size_t i = 0; i < sizeof first_hellos / sizeof first_hellos[0]; i++) {
        uint8_t ch[2048], ch1[2048], ch2[2048], out[512], cookie[32];
        size_t n = load_vector(first_hellos[i], ch, sizeof ch);
        coaps_peer peer;
        peer_for_port(&peer, 7000 + (uint32_t)i);
        size_t out_len = 0;
        enum coaps_dtls_accept v;
        /* 1: a ClientHello with a session_id and no cookie: an HVR. */
        size_t n1 = with_hello(ch, n, sid1, sizeof sid1, NULL, 0, ch1, sizeof ch1);
        assert_int_equal(coaps_dtls_server_accept(&srv, &peer, ch1, n1, 2000, out, sizeof out,
                                                  &out_len, &v),
                         COAPS_OK);
        assert_int_equal(v, COAPS_DTLS_ACCEPT_SEND);
        assert_int_equal(out[13], 3); /* HelloVerifyRequest */
        size_t cookie_len = out[13 + 12 + 2];
        assert_int_equal(cookie_len, sizeof cookie);
        memcpy(cookie, &out[13 + 12 + 3], cookie_len);

        /* 2: the same with a new session_id (and with none) and the cookie:
         * accepted. */
        size_t n2 = with_hello(ch, n, sid2, sizeof sid2, cookie, cookie_len, ch2, sizeof ch2);
        assert_int_equal(coaps_dtls_server_accept(&srv, &peer, ch2, n2, 2100, out, sizeof out,
                                                  &out_len, &v),
                         COAPS_OK);
        assert_int_equal(v, COAPS_DTLS_ACCEPT_NEW);
        n2 = with_hello(ch, n, NULL, 0, cookie, cookie_len, ch2, sizeof ch2);
        assert_int_equal(coaps_dtls_server_accept(&srv, &peer, ch2, n2, 2100, out, sizeof out,
                                                  &out_len, &v),
                         COAPS_OK);
        assert_int_equal(v, COAPS_DTLS_ACCEPT_NEW);

        /* 3: another random with the cookie: a fresh HVR, no connection. */
        n2 = with_hello(ch, n, sid2, sizeof sid2, cookie, cookie_len, ch2, sizeof ch2);
        ch2[25 + 2] ^= 0x01; /* first byte of the random */
        assert_int_equal(coaps_dtls_server_accept(&srv, &peer, ch2, n2, 2100, out, sizeof out,
                                                  &out_len, &v),
                         COAPS_OK);
        assert_int_equal(v, COAPS_DTLS_ACCEPT_SEND);
        assert_int_equal(out[13], 3);

        /* 4: another cipher_suites list with the cookie: the same. */
        n2 = with_hello(ch, n, sid2, sizeof sid2, cookie, cookie_len, ch2, sizeof ch2);
        size_t suites_at = 25 + 2 + 32 + 1 + sizeof sid2 + 1 + cookie_len;
        size_t suites_len = (size_t)ch2[suites_at] << 8 | ch2[suites_at + 1];
        assert_true(suites_len >= 4);
        ch2[suites_at + 2 + suites_len - 1] ^= 0x01; /* the last suite's low byte */
        assert_int_equal(coaps_dtls_server_accept(&srv, &peer, ch2, n2, 2100, out, sizeof out,
                                                  &out_len, &v),
                         COAPS_OK);
        assert_int_equal(v, COAPS_DTLS_ACCEPT_SEND);
        assert_int_equal(out[13], 3);
        /* ...and the unchanged one still opens: the refusals were the
         * changes, not the cookie. */
        n2 = with_hello(ch, n, sid2, sizeof sid2, cookie, cookie_len, ch2, sizeof ch2);
        assert_int_equal(coaps_dtls_server_accept(&srv, &peer, ch2, n2, 2100, out, sizeof out,
                                                  &out_len, &v),
                         COAPS_OK);
        assert_int_equal(v, COAPS_DTLS_ACCEPT_NEW);
    }
    coaps_dtls_server_clear(&srv);
}

/* The cookie from the HelloVerifyRequest that srv sends at now_ms for a
 * first ClientHello (no session_id, no cookie) from peer. */
static void cookie_of(coaps_dtls_server *srv, const coaps_peer *peer, const uint8_t *ch, size_t n,
                      uint64_t now_ms, uint8_t cookie[32])
{
    uint8_t ch1[2048], out[512];
    size_t n1 = with_hello(ch, n, NULL, 0, NULL, 0, ch1, sizeof ch1);
    size_t out_len = 0;
    enum coaps_dtls_accept v;
    assert_int_equal(coaps_dtls_server_accept(srv, peer, ch1, n1, now_ms, out, sizeof out,
                                              &out_len, &v),
                     COAPS_OK);
    assert_int_equal(v, COAPS_DTLS_ACCEPT_SEND);
    assert_int_equal(out[13], 3);
    assert_int_equal(out[13 + 12 + 2], 32);
    memcpy(cookie, &out[13 + 12 + 3], 32);
}

/* What srv says at now_ms to the second ClientHello carrying cookie. */
static enum coaps_dtls_accept second_hello(coaps_dtls_server *srv, const coaps_peer *peer,
                                           const uint8_t *ch, size_t n, uint64_t now_ms,
                                           const uint8_t cookie[32])
{
    uint8_t ch2[2048], out[512];
    size_t n2 = with_hello(ch, n, NULL, 0, cookie, 32, ch2, sizeof ch2);
    size_t out_len = 0;
    enum coaps_dtls_accept v;
    assert_int_equal(coaps_dtls_server_accept(srv, peer, ch2, n2, now_ms, out, sizeof out,
                                              &out_len, &v),
                     COAPS_OK);
    return v;
}

/* Front doors given one cookie_secret (a server's workers, each started
 * at its own time and rotating lazily at its own next ClientHello) accept
 * each other's cookies for one to two periods, aligned on the clock;
 * another secret's cookies, never. */
static void shared_cookie_secret(void **state)
{
    (void)state;
    const uint64_t R = COAPS_DTLS_COOKIE_ROTATE_MS;
    uint8_t secret[COAPS_DTLS_COOKIE_SECRET_LEN], other[COAPS_DTLS_COOKIE_SECRET_LEN];
    memset(secret, 0x42, sizeof secret);
    memset(other, 0x43, sizeof other);
    coaps_dtls_config ca, cb, cc;
    coaps_dtls_server a, b, c;
    init_server(&a, &ca); /* random secrets: re-made below with the shared one */
    coaps_dtls_server_clear(&a);
    ca.cookie_secret = secret;
    assert_int_equal(coaps_dtls_server_init(&a, &ca, 10 * R + 1000), COAPS_OK);
    init_server(&b, &cb);
    coaps_dtls_server_clear(&b);
    cb.cookie_secret = secret;
    assert_int_equal(coaps_dtls_server_init(&b, &cb, 10 * R + R / 2), COAPS_OK);
    init_server(&c, &cc);
    coaps_dtls_server_clear(&c);
    cc.cookie_secret = other;
    assert_int_equal(coaps_dtls_server_init(&c, &cc, 10 * R + 1000), COAPS_OK);

    uint8_t ch[2048], cookie[32];
    size_t n = load_vector("openssl_dtls12_psk_client_hello.bin", ch, sizeof ch);
    coaps_peer peer;
    peer_for_port(&peer, 9000);
    /* made by a, opened by b in the same period, and in the next one */
    cookie_of(&a, &peer, ch, n, 10 * R + 2000, cookie);
    assert_int_equal(second_hello(&b, &peer, ch, n, 10 * R + 2100, cookie), COAPS_DTLS_ACCEPT_NEW);
    assert_int_equal(second_hello(&b, &peer, ch, n, 11 * R + 10, cookie), COAPS_DTLS_ACCEPT_NEW);
    /* a, silent since, makes one late in period 11; b (rotated early in
     * it) opens it: both rotate at the period's edge, not a period after
     * their own start */
    cookie_of(&a, &peer, ch, n, 12 * R - 5, cookie);
    assert_int_equal(second_hello(&b, &peer, ch, n, 12 * R - 1, cookie), COAPS_DTLS_ACCEPT_NEW);
    assert_int_equal(second_hello(&b, &peer, ch, n, 12 * R + 1, cookie), COAPS_DTLS_ACCEPT_NEW);
    /* two periods on: too old */
    assert_int_equal(second_hello(&b, &peer, ch, n, 13 * R + 1, cookie), COAPS_DTLS_ACCEPT_SEND);
    /* another secret never opens it, nor the other way round */
    cookie_of(&a, &peer, ch, n, 13 * R + 2, cookie);
    assert_int_equal(second_hello(&c, &peer, ch, n, 13 * R + 3, cookie), COAPS_DTLS_ACCEPT_SEND);
    cookie_of(&c, &peer, ch, n, 13 * R + 4, cookie);
    assert_int_equal(second_hello(&a, &peer, ch, n, 13 * R + 5, cookie), COAPS_DTLS_ACCEPT_SEND);
    /* and the cookie is still the peer's own */
    coaps_peer other_peer;
    peer_for_port(&other_peer, 9001);
    cookie_of(&a, &peer, ch, n, 13 * R + 6, cookie);
    assert_int_equal(second_hello(&b, &other_peer, ch, n, 13 * R + 7, cookie),
                     COAPS_DTLS_ACCEPT_SEND);
    assert_int_equal(second_hello(&b, &peer, ch, n, 13 * R + 8, cookie), COAPS_DTLS_ACCEPT_NEW);
    coaps_dtls_server_clear(&a);
    coaps_dtls_server_clear(&b);
    coaps_dtls_server_clear(&c);
}

/* Every truncation of a ClientHello datagram, and garbage, is dropped or
 * answered statelessly; nothing crashes and no connection is made. */
static void truncations_never_open(void **state)
{
    (void)state;
    coaps_dtls_config cfg;
    coaps_dtls_server srv;
    init_server(&srv, &cfg);
    uint8_t ch[2048], out[512];
    size_t n = load_vector("gnutls_dtls12_psk_client_hello_cookie.bin", ch, sizeof ch);
    coaps_peer peer;
    peer_for_port(&peer, 6000);
    for (size_t len = 0; len < n; len++) {
        size_t out_len = 0;
        enum coaps_dtls_accept v = COAPS_DTLS_ACCEPT_NEW;
        coaps_status st = coaps_dtls_server_accept(&srv, &peer, ch, len, 2000, out, sizeof out,
                                                   &out_len, &v);
        if (st == COAPS_OK)
            assert_int_not_equal(v, COAPS_DTLS_ACCEPT_NEW);
    }
    coaps_dtls_server_clear(&srv);
}

/* A retransmitted copy of a ClientHello (only the record sequence number
 * differs) hashes the same; another ClientHello (new random) does not. */
static void client_hello_hash_ignores_record_seq(void **state)
{
    (void)state;
    uint8_t ch[2048], copy[2048];
    size_t n = load_vector("openssl_dtls12_psk_client_hello.bin", ch, sizeof ch);
    memcpy(copy, ch, n);
    copy[10] ^= 0x5a; /* low byte of the 48-bit record sequence number */
    assert_true(coaps_dtls_client_hello_hash(ch, n) == coaps_dtls_client_hello_hash(copy, n));
    copy[13 + 12 + 2] ^= 0x01; /* first byte of the client random */
    assert_true(coaps_dtls_client_hello_hash(ch, n) != coaps_dtls_client_hello_hash(copy, n));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hvr_never_larger_than_client_hello),
        cmocka_unit_test(flood_keeps_no_state),
        cmocka_unit_test(only_the_right_cookie_opens),
        cmocka_unit_test(session_id_may_change_after_hvr),
        cmocka_unit_test(shared_cookie_secret),
        cmocka_unit_test(truncations_never_open),
        cmocka_unit_test(client_hello_hash_ignores_record_seq),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
