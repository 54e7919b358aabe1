/*
 * test_engine.c - the DTLS 1.2 PSK engine end to end, in memory, with a
 * fake clock: our client against our server (front door + connection).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "coaps/dtls.h"
#include "common/try.h"
#include "common/wire.h"
#include "dtls/conn.h"
#include "engine_harness.h"
#include "engine_asserts.h"

static const uint16_t all_suites[] = {
    COAPS_DTLS_PSK_AES_128_CCM_8,      COAPS_DTLS_PSK_AES_128_CCM,
    COAPS_DTLS_PSK_AES_128_GCM_SHA256, COAPS_DTLS_PSK_AES_256_GCM_SHA384,
    COAPS_DTLS_PSK_CHACHA20_POLY1305_SHA256,
};




static struct h_net *handshake_with(uint16_t suite, uint64_t seed)
{
    struct h_net *n = h_new(seed);
    static uint16_t one[1];
    one[0] = suite;
    n->ccfg.suites = one;
    n->ccfg.suites_len = 1;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 10000);
    return n;
}

/* RFC 6347 4.2.1 / RFC 4279 2: the full exchange for every suite; both
 * ends derive the same key block; data flows both ways; close_notify. */
static void handshake_every_suite(void **state)
{
    (void)state;
    for (size_t i = 0; i < COAPS_ARRAY_LEN(all_suites); i++) {
        struct h_net *n = handshake_with(all_suites[i], 7 + i);
        assert_established(n);
        assert_int_equal(coaps_dtls_suite(&n->cl), all_suites[i]);
        assert_int_equal(coaps_dtls_suite(&n->sv), all_suites[i]);
        assert_int_equal(n->hvr_sent, 1); /* exactly one cookie exchange */
        app_roundtrip(n, &n->cl, &n->sv, "hello server");
        app_roundtrip(n, &n->sv, &n->cl, "hello client");
        /* close_notify is answered with close_notify (RFC 5246 7.2.1) */
        assert_int_equal(coaps_dtls_close(&n->cl), COAPS_OK);
        uint8_t buf[H_DGRAM_MAX];
        size_t len;
        assert_int_equal(coaps_dtls_output(&n->cl, buf, sizeof buf, &len, n->now), COAPS_OK);
        assert_int_equal(coaps_dtls_input(&n->sv, buf, len, n->now), COAPS_E_CLOSED);
        assert_int_equal(coaps_dtls_state(&n->sv), COAPS_DTLS_CLOSED);
        coaps_dtls_error e = coaps_dtls_error_reason(&n->sv);
        assert_int_equal(e.alert, 0);
        assert_false(e.alert_sent);
        assert_int_equal(coaps_dtls_output(&n->sv, buf, sizeof buf, &len, n->now), COAPS_OK);
        assert_int_equal(coaps_dtls_input(&n->cl, buf, len, n->now), COAPS_E_CLOSED);
        h_free(n);
    }
}

/* A PSK handshake needs only the 2 KiB base context (COAPS_DTLS_HS_BASE_SIZE,
 * no certificate area), for every suite, also when its messages come
 * fragmented (MTU 128, a 100-byte SNI, a 128-byte hint: the ClientHello
 * and ServerKeyExchange are reassembled in the base context's small arena)
 * and with loss (flights resent from the base context's flight buffer).
 * Each base is its own allocation of exactly its size: ASan catches any
 * use past it. */
static void psk_handshake_in_base_context_only(void **state)
{
    (void)state;
    static char sni[101];
    memset(sni, 'b', 100);
    static uint8_t hint[COAPS_DTLS_PSK_HINT_MAX];
    memset(hint, 'h', sizeof hint);
    for (size_t i = 0; i < COAPS_ARRAY_LEN(all_suites); i++) {
        for (int impaired = 0; impaired < 2; impaired++) {
            struct h_net *n = h_new(40 + i * 2 + (size_t)impaired);
            n->split = true;
            n->ccfg.suites = &all_suites[i];
            n->ccfg.suites_len = 1;
            if (impaired) {
                n->ch[H_C2S].loss = n->ch[H_S2C].loss = 200;
            } else {
                n->ccfg.mtu = n->scfg.mtu = 128;
                n->ccfg.server_name = sni;
                n->scfg.psk_hint = hint;
                n->scfg.psk_hint_len = sizeof hint;
            }
            assert_int_equal(h_start(n), COAPS_OK);
            h_run(n, 60000);
            assert_established(n);
            assert_int_equal(coaps_dtls_suite(&n->sv), all_suites[i]);
            app_roundtrip(n, &n->cl, &n->sv, "base context");
            app_roundtrip(n, &n->sv, &n->cl, "base context back");
            h_free(n);
        }
    }
}

/* The server picks by its own preference among what the client offers. */
static void server_preference_wins(void **state)
{
    (void)state;
    struct h_net *n = h_new(3);
    static const uint16_t pref[] = {COAPS_DTLS_PSK_AES_256_GCM_SHA384,
                                    COAPS_DTLS_PSK_AES_128_CCM_8};
    n->scfg.suites = pref;
    n->scfg.suites_len = 2;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 10000);
    assert_established(n);
    assert_int_equal(coaps_dtls_suite(&n->cl), COAPS_DTLS_PSK_AES_256_GCM_SHA384);
    h_free(n);
}

static int drop_first_c2s(struct h_net *n, int dir, uint8_t *d, size_t *len)
{
    (void)d;
    (void)len;
    unsigned *left = n->user;
    if (dir == H_C2S && *left > 0) {
        (*left)--;
        return 0;
    }
    return 1;
}

/* RFC 6347 4.2.4.1: the ClientHello is resent after 1, 2, 4 s (doubling). */
static void lost_client_hello_retransmitted_with_backoff(void **state)
{
    (void)state;
    struct h_net *n = h_new(11);
    unsigned drop = 3;
    n->user = &drop;
    n->filter = drop_first_c2s;
    uint64_t t0 = n->now;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 60000);
    assert_established(n);
    assert_true(n->c_sent >= 4);
    assert_int_equal(n->c_times[0], t0);
    assert_int_equal(n->c_times[1], t0 + 1000);
    assert_int_equal(n->c_times[2], t0 + 3000);
    assert_int_equal(n->c_times[3], t0 + 7000);
    assert_int_equal(coaps_dtls_get_stats(&n->cl).retransmits, 3);
    h_free(n);
}

/* A datagram-level filter that drops server->client datagrams holding a
 * record of the given content type / epoch the first `count` times. */
struct drop_spec {
    int dir;
    uint8_t type;
    uint16_t epoch;
    unsigned count;
};

static bool dgram_has(const uint8_t *d, size_t len, uint8_t type, uint16_t epoch)
{
    size_t off = 0;
    while (off + 13 <= len) {
        uint16_t e = (uint16_t)(d[off + 3] << 8 | d[off + 4]);
        size_t rl = (size_t)(d[off + 11] << 8 | d[off + 12]);
        if (d[off] == type && e == epoch)
            return true;
        off += 13 + rl;
    }
    return false;
}

static int drop_matching(struct h_net *n, int dir, uint8_t *d, size_t *len)
{
    struct drop_spec *s = n->user;
    if (dir == s->dir && s->count > 0 && dgram_has(d, *len, s->type, s->epoch)) {
        s->count--;
        return 0;
    }
    return 1;
}

/* The server's final flight (CCS, Finished) is lost: the client's timer
 * resends its flight, the established server answers with its retained
 * final flight (RFC 6347 4.2.4). */
static void lost_server_final_flight(void **state)
{
    (void)state;
    struct h_net *n = h_new(12);
    struct drop_spec s = {H_S2C, 20 /* CCS */, 0, 2};
    n->user = &s;
    n->filter = drop_matching;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 60000);
    assert_established(n);
    assert_int_equal(s.count, 0);
    assert_true(coaps_dtls_get_stats(&n->cl).retransmits >= 2);
    app_roundtrip(n, &n->cl, &n->sv, "after loss");
    h_free(n);
}

/* The server's first flight is lost twice: its own timer and the client's
 * both retransmit; the handshake completes. */
static void lost_server_hello_flight(void **state)
{
    (void)state;
    struct h_net *n = h_new(13);
    struct drop_spec s = {H_S2C, 22, 0, 3};
    n->user = &s;
    n->filter = drop_matching;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 60000);
    assert_established(n);
    h_free(n);
}

static int duplicate_all(struct h_net *n, int dir, uint8_t *d, size_t *len)
{
    (void)n;
    (void)dir;
    (void)d;
    (void)len;
    return 2;
}

/* Every datagram arrives twice: duplicates are harmless. */
static void duplicated_datagrams(void **state)
{
    (void)state;
    struct h_net *n = h_new(14);
    n->filter = duplicate_all;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 60000);
    assert_established(n);
    h_free(n);
}

/* Split the client's final flight (CKE, CCS, Finished in one datagram) into
 * one datagram per record, delivered in reverse order: Finished and CCS
 * overtake the ClientKeyExchange (RFC 6347 4.1: next-epoch records may
 * arrive first). */
static int reverse_final_flight(struct h_net *n, int dir, uint8_t *d, size_t *len)
{
    bool *done = n->user;
    if (dir != H_C2S || *done || !dgram_has(d, *len, 20, 0))
        return 1;
    *done = true;
    size_t off = 0, starts[8], lens[8], k = 0;
    while (off + 13 <= *len && k < 8) {
        size_t rl = (size_t)(d[off + 11] << 8 | d[off + 12]);
        starts[k] = off;
        lens[k++] = 13 + rl;
        off += 13 + rl;
    }
    assert_true(k >= 3);
    n->filter = NULL;
    for (size_t i = k; i-- > 0;)
        h_put(n, H_C2S, d + starts[i], lens[i]);
    n->filter = reverse_final_flight;
    return 0;
}

static void overtaking_ccs_and_finished(void **state)
{
    (void)state;
    struct h_net *n = h_new(15);
    bool done = false;
    n->user = &done;
    n->filter = reverse_final_flight;
    assert_int_equal(h_start(n), COAPS_OK);
    uint64_t t0 = n->now;
    h_run(n, 60000);
    assert_true(done);
    assert_established(n);
    /* no retransmission was needed: the early Finished was kept */
    assert_int_equal(coaps_dtls_get_stats(&n->cl).retransmits, 0);
    assert_true(n->now - t0 < 1000);
    h_free(n);
}

/* Wrong PSK: the keys differ, so the client's Finished record does not
 * authenticate: the server ends the handshake with bad_record_mac
 * (RFC 5246 7.2.2) instead of waiting for a timeout; the client learns
 * which alert ended it. (A Finished that decrypts but does not match gets
 * decrypt_error, RFC 5246 7.4.9.) */
static void wrong_psk_fails_with_bad_record_mac(void **state)
{
    (void)state;
    struct h_net *n = h_new(16);
    static const uint8_t other[16] = "another-key-9999";
    n->ccfg.psk_key = other;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 60000);
    assert_int_equal(coaps_dtls_state(&n->sv), COAPS_DTLS_FAILED);
    coaps_dtls_error e = coaps_dtls_error_reason(&n->sv);
    assert_int_equal(e.alert, 20);
    assert_true(e.alert_sent);
    assert_int_equal(coaps_dtls_state(&n->cl), COAPS_DTLS_FAILED);
    e = coaps_dtls_error_reason(&n->cl);
    assert_int_equal(e.status, COAPS_E_ALERT);
    assert_int_equal(e.alert, 20);
    assert_false(e.alert_sent);
    char buf[96];
    assert_string_equal(coaps_dtls_error_str(&n->cl, buf, sizeof buf),
                        "fatal alert, alert received: bad_record_mac");
    h_free(n);
}

/* RFC 4279 2: unknown identity -> unknown_psk_identity (our choice). */
static void unknown_identity_fails(void **state)
{
    (void)state;
    struct h_net *n = h_new(17);
    n->ccfg.psk_identity = (const uint8_t *)"mallory";
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 60000);
    coaps_dtls_error e = coaps_dtls_error_reason(&n->cl);
    assert_int_equal(coaps_dtls_state(&n->cl), COAPS_DTLS_FAILED);
    assert_int_equal(e.alert, 115);
    assert_int_equal(coaps_dtls_error_reason(&n->sv).status, COAPS_E_PSK_IDENTITY);
    h_free(n);
}

/* Find the first ClientHello the client sends with a cookie. */
static int capture_ch2(struct h_net *n, int dir, uint8_t *d, size_t *len)
{
    struct h_dgram *cap = n->user;
    if (dir == H_C2S && cap->len == 0 && n->hvr_sent == 1) {
        memcpy(cap->b, d, *len);
        cap->len = *len;
    }
    return 1;
}

/* Count the datagrams the server has to send now (taking them). */
static unsigned server_datagrams(struct h_net *n)
{
    uint8_t out[H_DGRAM_MAX];
    size_t len;
    unsigned k = 0;
    while (coaps_dtls_output(&n->sv, out, sizeof out, &len, n->now) == COAPS_OK)
        k++;
    return k;
}

/* RFC 6347 4.2.4: a repeated ClientHello means our flight was lost, so it
 * is resent at once; but under the 4.2.4.1 timer: not again within half
 * the current timeout, which each resend doubles. A client (or a flood at
 * its address) repeating its ClientHello every millisecond gets the
 * flight 3 times in 3.5 s, not 3,500. */
static void repeated_client_hello_paced_by_timer(void **state)
{
    (void)state;
    struct h_net *n = h_new(52);
    struct h_dgram cap = {0};
    n->user = &cap;
    n->filter = capture_ch2;
    assert_int_equal(h_start(n), COAPS_OK);
    while (!n->sv_up) {
        h_collect(n);
        assert_true(h_deliver_one(n));
    }
    assert_true(cap.len > 0);
    assert_true(server_datagrams(n) >= 1); /* the ServerHello flight */
    uint64_t t0 = n->now;
    unsigned resent = 0, resent_at[8];
    for (uint64_t t = 1; t <= 3500; t++) {
        n->now = t0 + t;
        uint8_t copy[H_DGRAM_MAX];
        memcpy(copy, cap.b, cap.len);
        assert_int_equal(coaps_dtls_input(&n->sv, copy, cap.len, n->now), COAPS_OK);
        if (server_datagrams(n) > 0 && resent < 8)
            resent_at[resent++] = (unsigned)t;
        (void)coaps_dtls_tick(&n->sv, n->now); /* the timer itself stays due later */
        if (server_datagrams(n) > 0 && resent < 8)
            resent_at[resent++] = (unsigned)t;
    }
    /* rto 1 s: a repeat is answered at 500 ms (rto becomes 2 s); the next
     * 1 s later (rto 4 s, timer at 1500 + 4000); the one after would be
     * due 2 s later, at 3500 */
    assert_int_equal(resent, 3);
    assert_int_equal(resent_at[0], 500);
    assert_int_equal(resent_at[1], 1500);
    assert_int_equal(resent_at[2], 3500);
    assert_int_equal(coaps_dtls_state(&n->sv), COAPS_DTLS_HANDSHAKING);
    assert_false(coaps_dtls_hs_progressed(&n->sv)); /* nothing but ClientHellos */
    /* the honest rest of the handshake still completes */
    n->filter = NULL;
    h_run(n, 60000);
    assert_established(n);
    assert_true(coaps_dtls_hs_progressed(&n->sv));
    h_free(n);
}

/* RFC 6347 4.2.1: a forged cookie gets a HelloVerifyRequest again and no
 * state; a DTLS 1.0 ClientHello gets protocol_version. */
static void forged_cookie_and_dtls10(void **state)
{
    (void)state;
    struct h_net *n = h_new(18);
    struct h_dgram cap = {0};
    n->user = &cap;
    n->filter = capture_ch2;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 10000);
    assert_established(n);
    assert_true(cap.len > 13 + 12 + 2 + 32 + 1 + 1 + 32);
    /* record 13 + hs header 12 + version 2 + random 32 + sid len 1 (0) +
     * cookie len 1, then the cookie */
    size_t cookie_at = 13 + 12 + 2 + 32 + 1 + 1;
    assert_int_equal(cap.b[cookie_at - 1], 32);
    coaps_peer peer = {{1, 2, 3, 4}, 4, COAPS_TRANSPORT_DTLS};
    uint8_t out[512];
    size_t out_len;
    enum coaps_dtls_accept v;
    /* the genuine one is accepted ... */
    assert_int_equal(coaps_dtls_server_accept(&n->front, &peer, cap.b, cap.len, n->now, out,
                                              sizeof out, &out_len, &v),
                     COAPS_OK);
    assert_int_equal(v, COAPS_DTLS_ACCEPT_NEW);
    /* ... from its own address only ... */
    coaps_peer other = peer;
    other.addr[3] = 5;
    assert_int_equal(coaps_dtls_server_accept(&n->front, &other, cap.b, cap.len, n->now, out,
                                              sizeof out, &out_len, &v),
                     COAPS_OK);
    assert_int_equal(v, COAPS_DTLS_ACCEPT_SEND);
    assert_int_equal(out[0], 22);
    assert_int_equal(out[13], 3); /* HelloVerifyRequest */
    /* ... and a forged cookie gets a new HVR, server_version 1.0 */
    cap.b[cookie_at + 5] ^= 0x40;
    assert_int_equal(coaps_dtls_server_accept(&n->front, &peer, cap.b, cap.len, n->now, out,
                                              sizeof out, &out_len, &v),
                     COAPS_OK);
    assert_int_equal(v, COAPS_DTLS_ACCEPT_SEND);
    assert_int_equal(out[13], 3);
    assert_int_equal(out[25], 0xfe);
    assert_int_equal(out[26], 0xff);
    /* DTLS 1.0 ClientHello -> fatal protocol_version alert */
    cap.b[25] = 0xfe;
    cap.b[26] = 0xff;
    assert_int_equal(coaps_dtls_server_accept(&n->front, &peer, cap.b, cap.len, n->now, out,
                                              sizeof out, &out_len, &v),
                     COAPS_OK);
    assert_int_equal(v, COAPS_DTLS_ACCEPT_SEND);
    assert_int_equal(out_len, 15);
    assert_int_equal(out[0], 21);
    assert_int_equal(out[13], 2);
    assert_int_equal(out[14], 70);
    assert_true(coaps_dtls_is_client_hello(cap.b, cap.len));
    assert_false(coaps_dtls_is_client_hello(out, out_len));
    assert_false(coaps_dtls_is_client_hello(cap.b, 13));
    assert_false(coaps_dtls_is_client_hello(NULL, 0));
    /* garbage is dropped without an answer */
    uint8_t junk[40] = {22, 0xfe, 0xfd};
    assert_int_equal(coaps_dtls_server_accept(&n->front, &peer, junk, sizeof junk, n->now, out,
                                              sizeof out, &out_len, &v),
                     COAPS_OK);
    assert_int_equal(v, COAPS_DTLS_ACCEPT_DROP);
    h_free(n);
}

/* RFC 6347 4.2.4: an established server that sees the client repeat an
 * old flight resends its final flight (CCS + Finished) at once, without a
 * timer; the established client ignores the repeat. */
static void repeated_peer_flight_answered(void **state)
{
    (void)state;
    struct h_net *n = h_new(37);
    struct h_dgram cap = {0};
    n->user = &cap;
    n->filter = capture_ch2;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 10000);
    assert_established(n);
    assert_int_equal(coaps_dtls_input(&n->sv, cap.b, cap.len, n->now), COAPS_OK);
    uint8_t out[H_DGRAM_MAX];
    size_t len;
    assert_int_equal(coaps_dtls_output(&n->sv, out, sizeof out, &len, n->now), COAPS_OK);
    assert_int_equal(out[0], 20);                /* ChangeCipherSpec, epoch 0 */
    assert_int_equal(out[14 + 0], 22);           /* then a handshake record */
    assert_int_equal(out[14 + 3] << 8 | out[14 + 4], 1); /* in epoch 1 */
    /* the client takes the repeated Finished as old and stays up */
    assert_int_equal(coaps_dtls_input(&n->cl, out, len, n->now), COAPS_OK);
    assert_int_equal(coaps_dtls_state(&n->cl), COAPS_DTLS_ESTABLISHED);
    assert_int_equal(coaps_dtls_output(&n->sv, out, sizeof out, &len, n->now), COAPS_E_AGAIN);
    assert_int_equal(coaps_dtls_get_stats(&n->sv).retransmits, 0);
    app_roundtrip(n, &n->cl, &n->sv, "after repeat");
    h_free(n);
}

/* RFC 6347 4.2.1: the cookie secret rotates; a cookie stays good for one
 * more period, then gets a fresh HelloVerifyRequest. */
static void cookie_rotation(void **state)
{
    (void)state;
    struct h_net *n = h_new(36);
    struct h_dgram cap = {0};
    n->user = &cap;
    n->filter = capture_ch2;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 10000);
    assert_true(cap.len > 0);
    coaps_peer peer = {{1, 2, 3, 4}, 4, COAPS_TRANSPORT_DTLS};
    uint8_t out[512], copy[H_DGRAM_MAX];
    size_t out_len;
    enum coaps_dtls_accept v;
    uint64_t t = n->now + COAPS_DTLS_COOKIE_ROTATE_MS + 1; /* one rotation */
    memcpy(copy, cap.b, cap.len);
    assert_int_equal(coaps_dtls_server_accept(&n->front, &peer, copy, cap.len, t, out,
                                              sizeof out, &out_len, &v),
                     COAPS_OK);
    assert_int_equal(v, COAPS_DTLS_ACCEPT_NEW);
    t += COAPS_DTLS_COOKIE_ROTATE_MS + 1; /* two rotations: too old */
    assert_int_equal(coaps_dtls_server_accept(&n->front, &peer, copy, cap.len, t, out,
                                              sizeof out, &out_len, &v),
                     COAPS_OK);
    assert_int_equal(v, COAPS_DTLS_ACCEPT_SEND);
    assert_int_equal(out[13], 3);
    h_free(n);
}

/* The same DTLS 1.0 ClientHello given to a server connection directly. */
static void dtls10_hello_to_connection(void **state)
{
    (void)state;
    struct h_net *n = h_new(19);
    struct h_dgram cap = {0};
    n->user = &cap;
    n->filter = capture_ch2;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 10000);
    assert_true(cap.len > 0);
    cap.b[25] = 0xfe;
    cap.b[26] = 0xff;
    coaps_dtls_conn sv;
    coaps_peer peer = {{1, 2, 3, 4}, 4, COAPS_TRANSPORT_DTLS};
    assert_int_equal(coaps_dtls_conn_init(&sv, &n->scfg, n->shs, &peer, n->now), COAPS_OK);
    assert_int_equal(coaps_dtls_input(&sv, cap.b, cap.len, n->now), COAPS_E_UNSUPPORTED);
    coaps_dtls_error e = coaps_dtls_error_reason(&sv);
    assert_int_equal(e.alert, 70);
    assert_true(e.alert_sent);
    uint8_t out[64];
    size_t len;
    assert_int_equal(coaps_dtls_output(&sv, out, sizeof out, &len, n->now), COAPS_OK);
    assert_int_equal(out[0], 21);
    assert_int_equal(out[14], 70);
    coaps_dtls_conn_clear(&sv);
    h_free(n);
}

static int check_mtu(struct h_net *n, int dir, uint8_t *d, size_t *len)
{
    (void)d;
    size_t *max = n->user;
    if (*len > max[dir])
        max[dir] = *len;
    max[2 + dir]++;
    return 1;
}

/* RFC 6347 4.2.3: with a small path MTU, messages are fragmented on both
 * sides and reassembled: a long SNI makes the ClientHello > 256 bytes, a
 * long hint makes the ServerKeyExchange > 128 bytes. */
static void small_mtu_fragments_both_ways(void **state)
{
    (void)state;
    static char sni[201];
    memset(sni, 'a', 200);
    static uint8_t hint[128];
    memset(hint, 'h', sizeof hint);
    static const uint16_t mtus[] = {256, 128};
    for (size_t i = 0; i < 2; i++) {
        struct h_net *n = h_new(20 + i);
        size_t max[4] = {0};
        n->user = max;
        n->filter = check_mtu;
        n->ccfg.mtu = n->scfg.mtu = mtus[i];
        n->ccfg.server_name = sni;
        n->scfg.psk_hint = hint;
        n->scfg.psk_hint_len = sizeof hint;
        assert_int_equal(h_start(n), COAPS_OK);
        h_run(n, 10000);
        assert_established(n);
        assert_true(max[0] <= mtus[i] && max[1] <= mtus[i]);
        /* more datagrams than messages: fragments were sent */
        assert_true(max[2] >= 4);
        assert_true(max[3] >= (mtus[i] == 128 ? 5u : 3u));
        app_roundtrip(n, &n->cl, &n->sv, "small mtu");
        h_free(n);
    }
}

/* RFC 6347 4.1.2.6: a replayed application record is dropped. */
static void replayed_record_dropped(void **state)
{
    (void)state;
    struct h_net *n = handshake_with(COAPS_DTLS_PSK_AES_128_CCM_8, 21);
    assert_established(n);
    uint8_t rec[64], copy[64];
    size_t len;
    assert_int_equal(coaps_dtls_write(&n->cl, (const uint8_t *)"once", 4, rec, sizeof rec, &len),
                     COAPS_OK);
    memcpy(copy, rec, len);
    const uint8_t *p;
    size_t plen;
    assert_int_equal(coaps_dtls_input(&n->sv, rec, len, n->now), COAPS_OK);
    assert_int_equal(coaps_dtls_read(&n->sv, &p, &plen), COAPS_OK);
    assert_int_equal(coaps_dtls_input(&n->sv, copy, len, n->now), COAPS_OK);
    assert_int_equal(coaps_dtls_read(&n->sv, &p, &plen), COAPS_E_AGAIN);
    assert_int_equal(coaps_dtls_get_stats(&n->sv).replays, 1);
    h_free(n);
}

/* A record sealed where its plaintext lies: data at out +
 * coaps_dtls_write_headroom (the record header and, for AES-GCM/CCM, the
 * explicit nonce of RFC 5288 3; none for ChaCha20-Poly1305, RFC 7905 2)
 * needs no second buffer, and the peer reads it back; data anywhere else
 * inside out is refused. Before the handshake there is no headroom. */
static void write_in_place_at_headroom(void **state)
{
    (void)state;
    for (size_t i = 0; i < COAPS_ARRAY_LEN(all_suites); i++) {
        struct h_net *n = h_new(70 + i);
        static uint16_t one[1];
        one[0] = all_suites[i];
        n->ccfg.suites = one;
        n->ccfg.suites_len = 1;
        assert_int_equal(coaps_dtls_write_headroom(&n->cl), 0);
        assert_int_equal(h_start(n), COAPS_OK);
        h_run(n, 10000);
        assert_established(n);
        size_t room = coaps_dtls_write_headroom(&n->cl);
        bool chacha = all_suites[i] == COAPS_DTLS_PSK_CHACHA20_POLY1305_SHA256;
        assert_int_equal(room, chacha ? 13u : (size_t)COAPS_DTLS_WRITE_HEADROOM_MAX);
        assert_int_equal(coaps_dtls_write_headroom(&n->sv), room);
        static const char msg[] = "sealed in place";
        uint8_t rec[H_DGRAM_MAX];
        size_t len;
        memcpy(rec + room + 1, msg, sizeof msg - 1);
        assert_int_equal(coaps_dtls_write(&n->cl, rec + room + 1, sizeof msg - 1, rec, sizeof rec,
                                          &len),
                         COAPS_E_INVALID);
        memcpy(rec + room, msg, sizeof msg - 1);
        assert_int_equal(
            coaps_dtls_write(&n->cl, rec + room, sizeof msg - 1, rec, sizeof rec, &len),
            COAPS_OK);
        assert_int_equal(coaps_dtls_input(&n->sv, rec, len, n->now), COAPS_OK);
        const uint8_t *p;
        size_t plen;
        assert_int_equal(coaps_dtls_read(&n->sv, &p, &plen), COAPS_OK);
        assert_int_equal(plen, sizeof msg - 1);
        assert_memory_equal(p, msg, plen);
        h_free(n);
    }
}

/* RFC 6347 4.1.2.7: forged records are dropped silently and counted; at
 * the configured limit the session ends (RFC 9147 4.5.3), without an
 * alert and with its own reason. */
static void auth_failure_limit_closes(void **state)
{
    (void)state;
    struct h_net *n = h_new(22);
    n->scfg.auth_fail_limit = 3;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 10000);
    assert_established(n);
    for (int i = 0; i < 3; i++) {
        uint8_t rec[64];
        size_t len;
        assert_int_equal(
            coaps_dtls_write(&n->cl, (const uint8_t *)"evil", 4, rec, sizeof rec, &len),
            COAPS_OK);
        rec[len - 1] ^= 1; /* break the tag */
        coaps_status st = coaps_dtls_input(&n->sv, rec, len, n->now);
        uint8_t out[64];
        size_t olen;
        /* never answered */
        assert_int_equal(coaps_dtls_output(&n->sv, out, sizeof out, &olen, n->now),
                         COAPS_E_AGAIN);
        if (i < 2)
            assert_int_equal(st, COAPS_OK);
        else
            assert_int_equal(st, COAPS_E_AUTH_LIMIT);
    }
    assert_int_equal(coaps_dtls_state(&n->sv), COAPS_DTLS_FAILED);
    assert_int_equal(coaps_dtls_error_reason(&n->sv).status, COAPS_E_AUTH_LIMIT);
    assert_int_equal(coaps_dtls_get_stats(&n->sv).auth_failures, 3);
    assert_int_equal(coaps_dtls_get_stats(&n->sv).auth_fail_limit, 3);
    h_free(n);
}

static int drop_all(struct h_net *n, int dir, uint8_t *d, size_t *len)
{
    (void)n;
    (void)dir;
    (void)d;
    (void)len;
    return 0;
}

/* No answer at all: the client gives up with a timeout reason. */
static void silent_peer_times_out(void **state)
{
    (void)state;
    struct h_net *n = h_new(23);
    n->filter = drop_all;
    n->ccfg.handshake_timeout_ms = 20000;
    uint64_t t0 = n->now;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 100000);
    assert_int_equal(coaps_dtls_state(&n->cl), COAPS_DTLS_FAILED);
    assert_int_equal(coaps_dtls_error_reason(&n->cl).status, COAPS_E_TIMEOUT);
    assert_int_equal(n->now, t0 + 20000);
    /* sent at 0, 1, 3, 7, 15 s */
    assert_int_equal(n->c_sent, 5);
    h_free(n);

    n = h_new(24);
    n->filter = drop_all;
    n->ccfg.max_retransmits = 2;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 100000);
    assert_int_equal(coaps_dtls_error_reason(&n->cl).status, COAPS_E_TIMEOUT);
    assert_int_equal(n->c_sent, 3);
    h_free(n);
}

/* Turn the client's extended_master_secret extension (the first one we
 * write: ... 00 17 00 00 | ff 01 00 01 00 at the end) into an unknown
 * type 0xfe17: the server sees a client without EMS that also sends an
 * extension it does not know (RFC 5246 7.4.1.4: tolerated). */
static int strip_ems(struct h_net *n, int dir, uint8_t *d, size_t *len)
{
    unsigned *count = n->user;
    if (dir == H_C2S && *len > 30 && d[0] == 22 && d[13] == 1) {
        uint8_t *e = d + *len - 9;
        if (e[0] == 0x00 && e[1] == 0x17 && e[2] == 0 && e[3] == 0 && e[4] == 0xff) {
            e[0] = 0xfe;
            (*count)++;
        }
    }
    return 1;
}

/* RFC 7627 5.3: a server that requires EMS refuses a client without it
 * with handshake_failure. One that does not require it goes on without EMS
 * (RFC 5246 8.1 master secret) - and then the Finished exchange catches
 * the tampering: the client hashed the ClientHello it sent, the server the
 * one it received, so the client's Finished decrypts (same keys) but does
 * not match: decrypt_error (RFC 5246 7.4.9). (A non-EMS handshake without
 * tampering is tested against GnuTLS's %NO_SESSION_HASH in interop.) */
static void ems_required_or_tampering_detected(void **state)
{
    (void)state;
    for (int required = 0; required < 2; required++) {
        struct h_net *n = h_new(30 + (uint64_t)required);
        unsigned stripped = 0;
        n->user = &stripped;
        n->filter = strip_ems;
        n->scfg.require_ems = required;
        assert_int_equal(h_start(n), COAPS_OK);
        h_run(n, 10000);
        assert_true(stripped >= 2);
        coaps_dtls_error e = coaps_dtls_error_reason(&n->cl);
        assert_int_equal(coaps_dtls_state(&n->cl), COAPS_DTLS_FAILED);
        assert_int_equal(e.alert, required ? 40 : 51);
        assert_false(e.alert_sent);
        e = coaps_dtls_error_reason(&n->sv);
        assert_int_equal(e.alert, required ? 40 : 51);
        assert_true(e.alert_sent);
        h_free(n);
    }
}

static coaps_status pick_by_hint(void *user, const uint8_t *hint, size_t hint_len, uint8_t *id,
                                 size_t id_cap, size_t *id_len, uint8_t *key, size_t key_cap,
                                 size_t *key_len)
{
    (void)user;
    if (hint_len != 8 || memcmp(hint, "tenant-7", 8) != 0 || id_cap < 7 || key_cap < 16)
        return COAPS_E_NOT_FOUND;
    memcpy(id, "client1", 7);
    *id_len = 7;
    memcpy(key, h_client_psk, 16);
    *key_len = 16;
    return COAPS_OK;
}

/* RFC 4279 2/5.2: the client chooses identity and key seeing the hint. */
static void client_callback_sees_hint(void **state)
{
    (void)state;
    struct h_net *n = h_new(32);
    n->ccfg.psk_identity = NULL;
    n->ccfg.psk_identity_len = 0;
    n->ccfg.psk_key = NULL;
    n->ccfg.psk_key_len = 0;
    n->ccfg.psk_client = pick_by_hint;
    n->scfg.psk_hint = (const uint8_t *)"tenant-7";
    n->scfg.psk_hint_len = 8;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 10000);
    assert_established(n);
    h_free(n);
    /* a hint the callback does not know: the client aborts */
    n = h_new(33);
    n->ccfg.psk_client = pick_by_hint;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 10000);
    assert_int_equal(coaps_dtls_state(&n->cl), COAPS_DTLS_FAILED);
    assert_int_equal(coaps_dtls_error_reason(&n->cl).alert, 80);
    h_free(n);
}

/* RFC 5746 / RFC 5246 7.2.2: a ClientHello on an established connection
 * (renegotiation) gets a no_renegotiation warning; the session goes on. */
static void renegotiation_refused(void **state)
{
    (void)state;
    struct h_net *n = handshake_with(COAPS_DTLS_PSK_AES_128_CCM_8, 34);
    assert_established(n);
    /* the client's next message_seq is 4 (CH, CH+cookie, CKE, Finished) */
    uint8_t frag[DTLS_HS_HEADER_LEN + 4] = {0}, rec[128];
    struct wire_wr fw = wire_wr_init(frag, sizeof frag);
    struct dtls_hs_header h = {DTLS_HS_CLIENT_HELLO, 4, 4, 0, 4};
    assert_int_equal(dtls_hs_header_write(&fw, &h), COAPS_OK);
    struct wire_wr w = wire_wr_init(rec, sizeof rec);
    assert_int_equal(conn_write_record(conn_of(&n->cl), &w, DTLS_CT_HANDSHAKE, 1, frag,
                                       sizeof frag),
                     COAPS_OK);
    assert_int_equal(coaps_dtls_input(&n->sv, rec, w.off, n->now), COAPS_OK);
    uint8_t out[128];
    size_t len;
    assert_int_equal(coaps_dtls_output(&n->sv, out, sizeof out, &len, n->now), COAPS_OK);
    assert_int_equal(out[0], 21);          /* an alert ... */
    assert_int_equal(len, 13 + 8 + 2 + 8); /* ... protected under CCM_8 */
    uint32_t dropped = coaps_dtls_get_stats(&n->cl).records_dropped;
    assert_int_equal(coaps_dtls_input(&n->cl, out, len, n->now), COAPS_OK);
    assert_int_equal(coaps_dtls_get_stats(&n->cl).records_dropped, dropped);
    assert_int_equal(coaps_dtls_state(&n->cl), COAPS_DTLS_ESTABLISHED);
    assert_int_equal(coaps_dtls_state(&n->sv), COAPS_DTLS_ESTABLISHED);
    app_roundtrip(n, &n->sv, &n->cl, "still here");
    h_free(n);
}

static void save_line(void *user, const char *line)
{
    char *dst = user;
    strncpy(dst, line, 255);
}

/* The NSS key log line (for Wireshark): same on both ends, right shape. */
static void keylog_lines_match(void **state)
{
    (void)state;
    static char cl_line[256], sv_line[256];
    struct h_net *n = h_new(35);
    n->ccfg.keylog = save_line;
    n->ccfg.keylog_user = cl_line;
    n->scfg.keylog = save_line;
    n->scfg.keylog_user = sv_line;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 10000);
    assert_established(n);
    assert_string_equal(cl_line, sv_line);
    assert_int_equal(strlen(cl_line), 14 + 64 + 1 + 96);
    assert_memory_equal(cl_line, "CLIENT_RANDOM ", 14);
    assert_int_equal(cl_line[14 + 64], ' ');
    h_free(n);
}

/* Suite names, both IANA and OpenSSL style. */
static void suite_names(void **state)
{
    (void)state;
    assert_int_equal(coaps_dtls_suite_by_name("TLS_PSK_WITH_AES_128_CCM_8"), 0xC0A8);
    assert_int_equal(coaps_dtls_suite_by_name("PSK-AES128-CCM8"), 0xC0A8);
    assert_int_equal(coaps_dtls_suite_by_name("PSK-CHACHA20-POLY1305"), 0xCCAB);
    assert_int_equal(coaps_dtls_suite_by_name("nope"), 0);
    assert_string_equal(coaps_dtls_suite_name(0x00A9), "TLS_PSK_WITH_AES_256_GCM_SHA384");
}

/* Sizes promised in the header. */
static void sizes(void **state)
{
    (void)state;
    printf("# coaps_dtls_conn %zu bytes, coaps_dtls_hs %zu bytes (base %zu of it used %zu, "
           "certificate area %zu of it used %zu)\n",
           sizeof(coaps_dtls_conn), sizeof(coaps_dtls_hs), sizeof(coaps_dtls_hs_base),
           sizeof(struct conn_hs), sizeof(coaps_dtls_hs_pki), sizeof(struct conn_hs_pki));
    assert_true(sizeof(coaps_dtls_conn) <= 4096);
    /* issue 18: a PSK handshake context of at most 2 KiB */
    assert_true(sizeof(coaps_dtls_hs_base) <= 2048);
    assert_true(sizeof(struct conn_hs) <= sizeof(coaps_dtls_hs_base));
    assert_true(sizeof(struct conn_hs_pki) <= sizeof(coaps_dtls_hs_pki));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(handshake_every_suite),
        cmocka_unit_test(psk_handshake_in_base_context_only),
        cmocka_unit_test(server_preference_wins),
        cmocka_unit_test(lost_client_hello_retransmitted_with_backoff),
        cmocka_unit_test(lost_server_final_flight),
        cmocka_unit_test(lost_server_hello_flight),
        cmocka_unit_test(duplicated_datagrams),
        cmocka_unit_test(overtaking_ccs_and_finished),
        cmocka_unit_test(wrong_psk_fails_with_bad_record_mac),
        cmocka_unit_test(unknown_identity_fails),
        cmocka_unit_test(forged_cookie_and_dtls10),
        cmocka_unit_test(repeated_peer_flight_answered),
        cmocka_unit_test(repeated_client_hello_paced_by_timer),
        cmocka_unit_test(cookie_rotation),
        cmocka_unit_test(dtls10_hello_to_connection),
        cmocka_unit_test(small_mtu_fragments_both_ways),
        cmocka_unit_test(replayed_record_dropped),
        cmocka_unit_test(write_in_place_at_headroom),
        cmocka_unit_test(auth_failure_limit_closes),
        cmocka_unit_test(silent_peer_times_out),
        cmocka_unit_test(ems_required_or_tampering_detected),
        cmocka_unit_test(client_callback_sees_hint),
        cmocka_unit_test(renegotiation_refused),
        cmocka_unit_test(keylog_lines_match),
        cmocka_unit_test(suite_names),
        cmocka_unit_test(sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
