/*
 * test_engine_hostile.c - the DTLS engine against a hostile network, in
 * memory with a fake clock: forged epoch-1 records during the handshake and
 * in a session (RFC 6347 4.1.2.7, RFC 9147 4.5.3), a wrong PSK told from a
 * forgery, the ChangeCipherSpec before Finished (RFC 5246 7.4.9) and
 * renegotiation refused (RFC 5246 7.2.2).
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

#define CT_CCS 20
#define CT_ALERT 21
#define CT_HANDSHAKE 22
#define CT_APP 23

/* ---- helpers ------------------------------------------------------------ */



static struct h_net *handshake_with(uint16_t suite, uint64_t seed)
{
    struct h_net *n = h_new(seed);
    static uint16_t one[1];
    one[0] = suite;
    n->ccfg.suites = one;
    n->ccfg.suites_len = 1;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 10000);
    assert_established(n);
    return n;
}

/* A record of random bytes under epoch 1, as a forger without the keys
 * makes it: a plausible header, a body of body_len random bytes. */
static size_t forge_record(struct h_net *n, uint8_t *out, uint8_t type, uint64_t seq,
                           size_t body_len)
{
    out[0] = type;
    out[1] = 0xfe;
    out[2] = 0xfd;
    out[3] = 0;
    out[4] = 1; /* epoch 1 */
    for (int i = 0; i < 6; i++)
        out[5 + i] = (uint8_t)(seq >> (8 * (5 - i)));
    out[11] = (uint8_t)(body_len >> 8);
    out[12] = (uint8_t)body_len;
    for (size_t i = 0; i < body_len; i++)
        out[13 + i] = (uint8_t)h_rand(n);
    return 13 + body_len;
}

/* The records of a datagram: offsets and lengths (header included). */
static size_t split_records(const uint8_t *d, size_t len, size_t *starts, size_t *lens,
                            size_t max)
{
    size_t off = 0, k = 0;
    while (off + 13 <= len && k < max) {
        size_t rl = (size_t)(d[off + 11] << 8 | d[off + 12]);
        starts[k] = off;
        lens[k++] = 13 + rl;
        off += 13 + rl;
    }
    return k;
}

static bool dgram_has(const uint8_t *d, size_t len, uint8_t type, uint16_t epoch)
{
    size_t starts[16], lens[16];
    size_t k = split_records(d, len, starts, lens, 16);
    for (size_t i = 0; i < k; i++)
        if (d[starts[i]] == type && (d[starts[i] + 3] << 8 | d[starts[i] + 4]) == epoch)
            return true;
    return false;
}

/* Put d into the channel untouched by the filter. */
static void put_raw(struct h_net *n, int dir, const uint8_t *d, size_t len)
{
    h_filter f = n->filter;
    n->filter = NULL;
    h_put(n, dir, d, len);
    n->filter = f;
}

/* ---- one forged record during the handshake ------------------------------ */

/* How the client's final flight (CKE, CCS, Finished) travels, with one
 * forged epoch-1 handshake record around it. */
enum inject_at {
    INJECT_BEFORE_WHOLE_FLIGHT = 0, /* forged; CKE+CCS+Finished in one datagram */
    INJECT_BEFORE_SPLIT_FLIGHT,     /* forged; CKE; CCS; Finished */
    INJECT_AFTER_CKE,               /* CKE; forged; CCS; Finished */
    INJECT_KINDS,
};

struct inject {
    enum inject_at at;
    bool done;
};

static int inject_forged(struct h_net *n, int dir, uint8_t *d, size_t *len)
{
    struct inject *in = n->user;
    if (dir != H_C2S || in->done || !dgram_has(d, *len, CT_CCS, 0))
        return 1;
    in->done = true;
    uint8_t forged[64];
    size_t flen = forge_record(n, forged, CT_HANDSHAKE, h_rand(n) % 1000, 40);
    size_t starts[8], lens[8];
    size_t k = split_records(d, *len, starts, lens, 8);
    assert_int_equal(k, 3);
    if (in->at == INJECT_BEFORE_WHOLE_FLIGHT) {
        put_raw(n, H_C2S, forged, flen);
        put_raw(n, H_C2S, d, *len);
        return 0;
    }
    if (in->at == INJECT_BEFORE_SPLIT_FLIGHT)
        put_raw(n, H_C2S, forged, flen);
    for (size_t i = 0; i < k; i++) {
        put_raw(n, H_C2S, d + starts[i], lens[i]);
        if (i == 0 && in->at == INJECT_AFTER_CKE)
            put_raw(n, H_C2S, forged, flen);
    }
    return 0;
}

/* RFC 6347 4.1.2.7: one epoch-1 handshake record of random bytes from the
 * client's address, before or among the client's final flight, is dropped
 * (and counted once it could be opened) and the handshake completes at
 * once, without a retransmission. */
static void forged_record_in_handshake_is_dropped(void **state)
{
    (void)state;
    static const uint32_t failures[INJECT_KINDS] = {0, 1, 1};
    for (int at = 0; at < INJECT_KINDS; at++) {
        struct h_net *n = h_new(100 + (uint64_t)at);
        struct inject in = {(enum inject_at)at, false};
        n->user = &in;
        n->filter = inject_forged;
        assert_int_equal(h_start(n), COAPS_OK);
        h_run(n, 60000);
        assert_true(in.done);
        assert_established(n);
        assert_int_equal(coaps_dtls_get_stats(&n->cl).retransmits, 0);
        if (coaps_dtls_get_stats(&n->sv).auth_failures != failures[at])
            fail_msg("injection %d: %llu authentication failures, want %u", at,
                     (unsigned long long)coaps_dtls_get_stats(&n->sv).auth_failures,
                     failures[at]);
        app_roundtrip(n, &n->cl, &n->sv, "forgery ignored");
        h_free(n);
    }
}

/* ---- forged records in a session: the per-AEAD limit ---------------------- */

/* Input count forged application records to conn (fresh sequence numbers
 * from first_seq); each is dropped silently. */
static void forge_into(struct h_net *n, coaps_dtls_conn *conn, unsigned count, uint64_t first_seq)
{
    for (unsigned i = 0; i < count; i++) {
        uint8_t rec[64];
        size_t len = forge_record(n, rec, CT_APP, first_seq + i, 8 + 20 + 8);
        coaps_status st = coaps_dtls_input(conn, rec, len, n->now);
        if (st != COAPS_OK)
            fail_msg("forged record %u ended the session: %s", i, coaps_status_str(st));
        uint8_t out[64];
        size_t olen;
        assert_int_equal(coaps_dtls_output(conn, out, sizeof out, &olen, n->now), COAPS_E_AGAIN);
    }
}

/* The attack: 70 forged application records into an established
 * TLS_PSK_WITH_AES_128_CCM_8 session (the suite RFC 7252 9.1.3.1 makes
 * every CoAP device have) do not end it: CCM_8's limit is 2^7
 * (RFC 9147 B.3). */
static void seventy_forged_records_ccm8_session_survives(void **state)
{
    (void)state;
    struct h_net *n = handshake_with(COAPS_DTLS_PSK_AES_128_CCM_8, 41);
    forge_into(n, &n->sv, 70, 5000);
    assert_int_equal(coaps_dtls_state(&n->sv), COAPS_DTLS_ESTABLISHED);
    assert_int_equal(coaps_dtls_get_stats(&n->sv).auth_failures, 70);
    app_roundtrip(n, &n->cl, &n->sv, "still here");
    app_roundtrip(n, &n->sv, &n->cl, "and back");
    h_free(n);
}

/* RFC 9147 4.5.3: reaching the AEAD's limit ends the session: no alert
 * (the datagrams may be spoofed), COAPS_E_AUTH_LIMIT as the reason and the
 * counts in the statistics, for the edge to count and log. CCM_8 is the
 * suite with the small limit: 127 forged records are survived, the 128th
 * ends it. */
static void ccm8_limit_reached_ends_session(void **state)
{
    (void)state;
    struct h_net *n = handshake_with(COAPS_DTLS_PSK_AES_128_CCM_8, 42);
    coaps_dtls_stats ds = coaps_dtls_get_stats(&n->sv);
    assert_int_equal(ds.auth_fail_limit, 128);
    forge_into(n, &n->sv, 127, 9000);
    assert_int_equal(coaps_dtls_state(&n->sv), COAPS_DTLS_ESTABLISHED);
    uint8_t rec[64];
    size_t len = forge_record(n, rec, CT_APP, 9127, 36);
    assert_int_equal(coaps_dtls_input(&n->sv, rec, len, n->now), COAPS_E_AUTH_LIMIT);
    assert_int_equal(coaps_dtls_state(&n->sv), COAPS_DTLS_FAILED);
    coaps_dtls_error e = coaps_dtls_error_reason(&n->sv);
    assert_int_equal(e.status, COAPS_E_AUTH_LIMIT);
    assert_int_equal(e.alert, -1);
    ds = coaps_dtls_get_stats(&n->sv);
    assert_int_equal(ds.auth_failures, 128);
    assert_int_equal(ds.auth_fail_limit, 128);
    uint8_t out[64];
    size_t olen;
    assert_int_equal(coaps_dtls_output(&n->sv, out, sizeof out, &olen, n->now), COAPS_E_AGAIN);
    char why[96];
    assert_string_equal(coaps_dtls_error_str(&n->sv, why, sizeof why),
                        "too many records failed authentication");
    h_free(n);
}

/* The limit follows the AEAD negotiated (RFC 9147 4.5.3 and B.2), on both
 * ends, counted per key from the moment keys exist; a config value
 * overrides it for every suite. */
static void limit_per_aead(void **state)
{
    (void)state;
    static const struct {
        uint16_t suite;
        uint64_t limit;
    } rows[] = {
        {COAPS_DTLS_PSK_AES_128_CCM_8, 128},
        {COAPS_DTLS_PSK_AES_128_CCM, 11863283}, /* 2^23.5 */
        {COAPS_DTLS_PSK_AES_128_GCM_SHA256, UINT64_C(1) << 36},
        {COAPS_DTLS_PSK_AES_256_GCM_SHA384, UINT64_C(1) << 36},
        {COAPS_DTLS_PSK_CHACHA20_POLY1305_SHA256, UINT64_C(1) << 36},
    };
    for (size_t i = 0; i < COAPS_ARRAY_LEN(rows); i++) {
        if (!coaps_dtls_suite_available(rows[i].suite))
            continue;
        struct h_net *n = handshake_with(rows[i].suite, 50 + i);
        assert_int_equal(coaps_dtls_get_stats(&n->cl).auth_fail_limit, rows[i].limit);
        assert_int_equal(coaps_dtls_get_stats(&n->sv).auth_fail_limit, rows[i].limit);
        forge_into(n, &n->cl, 3, 700);
        assert_int_equal(coaps_dtls_get_stats(&n->cl).auth_failures, 3);
        h_free(n);
    }
    struct h_net *n = h_new(60);
    n->scfg.auth_fail_limit = 1000;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 10000);
    assert_established(n);
    assert_int_equal(coaps_dtls_get_stats(&n->sv).auth_fail_limit, 1000);
    assert_int_equal(coaps_dtls_get_stats(&n->cl).auth_fail_limit, 128);
    h_free(n);
}

/* ---- wrong PSK -------------------------------------------------------------- */

static int note_final_flight(struct h_net *n, int dir, uint8_t *d, size_t *len)
{
    uint64_t *first = n->user;
    if (dir == H_C2S && *first == 0 && dgram_has(d, *len, CT_CCS, 0))
        *first = n->now;
    return 1;
}

/* A wrong PSK is no forgery: the client's Finished fails in its first
 * flight and again in the retransmission (one retransmission timeout
 * later, RFC 6347 4.2.4.1), and that second failure ends the handshake with
 * bad_record_mac (RFC 5246 7.2.2) - not the first, which a forger could
 * have caused, and not the handshake timeout. */
static void wrong_psk_fails_at_first_retransmission(void **state)
{
    (void)state;
    struct h_net *n = h_new(61);
    static const uint8_t other[16] = "another-key-9999";
    n->ccfg.psk_key = other;
    uint64_t flight_at = 0;
    n->user = &flight_at;
    n->filter = note_final_flight;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 60000);
    assert_true(flight_at != 0);
    assert_int_equal(coaps_dtls_state(&n->sv), COAPS_DTLS_FAILED);
    coaps_dtls_error e = coaps_dtls_error_reason(&n->sv);
    assert_int_equal(e.status, COAPS_E_AUTH);
    assert_int_equal(e.alert, 20);
    assert_true(e.alert_sent);
    assert_int_equal(coaps_dtls_get_stats(&n->sv).auth_failures, 2);
    e = coaps_dtls_error_reason(&n->cl);
    assert_int_equal(coaps_dtls_state(&n->cl), COAPS_DTLS_FAILED);
    assert_int_equal(e.alert, 20);
    assert_false(e.alert_sent);
    /* ended by the first retransmission (1 s), before the second (3 s) */
    uint64_t took = n->now - flight_at;
    if (took < COAPS_DTLS_RETRANS_INITIAL_MS || took >= 3 * COAPS_DTLS_RETRANS_INITIAL_MS)
        fail_msg("wrong PSK ended %llu ms after the client's flight",
                 (unsigned long long)took);
    h_free(n);
}

/* Counts the server's handshake datagrams (epoch 0) sent once the client's
 * final flight has gone out. */
struct flight_watch {
    uint64_t flight_at;
    unsigned server_resends;
};

static int watch_server_resends(struct h_net *n, int dir, uint8_t *d, size_t *len)
{
    struct flight_watch *w = n->user;
    if (dir == H_C2S && w->flight_at == 0 && dgram_has(d, *len, CT_CCS, 0))
        w->flight_at = n->now;
    else if (dir == H_S2C && w->flight_at != 0 && dgram_has(d, *len, CT_HANDSHAKE, 0))
        w->server_resends++;
    return 1;
}

/* RFC 6347 4.2.4: once part of the client's next flight has come in (its
 * ClientKeyExchange), the client has the server's flight; the server's
 * timer then resends nothing and leaves the retransmitting to the client.
 * Resending would only cross the client's flight - and a real client
 * (libcoap with GnuTLS) that gets the old flight back just before the
 * bad_record_mac of a wrong PSK misses the alert. Here the client's timer
 * is slower than the server's, so the server's fires first. */
static void server_waits_for_client_flight_in_progress(void **state)
{
    (void)state;
    struct h_net *n = h_new(62);
    static const uint8_t other[16] = "another-key-9999";
    n->ccfg.psk_key = other;
    n->ccfg.retrans_initial_ms = 3 * COAPS_DTLS_RETRANS_INITIAL_MS;
    struct flight_watch w = {0, 0};
    n->user = &w;
    n->filter = watch_server_resends;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 60000);
    assert_true(w.flight_at != 0);
    assert_int_equal(coaps_dtls_state(&n->sv), COAPS_DTLS_FAILED);
    assert_int_equal(coaps_dtls_error_reason(&n->sv).alert, 20);
    assert_int_equal(coaps_dtls_error_reason(&n->cl).alert, 20);
    assert_int_equal(w.server_resends, 0);
    h_free(n);
}

/* ---- ChangeCipherSpec before Finished ------------------------------------- */

/* Drop the ChangeCipherSpec record from the first datagram in direction
 * dir that carries one, keeping a copy; the rest of it goes on. */
struct strip_ccs {
    int dir;
    bool done;
    uint8_t ccs[32];
    size_t ccs_len;
};

static int strip_first_ccs(struct h_net *n, int dir, uint8_t *d, size_t *len)
{
    struct strip_ccs *s = n->user;
    if (dir != s->dir || s->done || !dgram_has(d, *len, CT_CCS, 0))
        return 1;
    s->done = true;
    size_t starts[8], lens[8], k = split_records(d, *len, starts, lens, 8);
    uint8_t rest[H_DGRAM_MAX];
    size_t rest_len = 0;
    for (size_t i = 0; i < k; i++) {
        if (d[starts[i]] == CT_CCS) {
            assert_true(lens[i] <= sizeof s->ccs);
            memcpy(s->ccs, d + starts[i], lens[i]);
            s->ccs_len = lens[i];
        } else {
            memcpy(rest + rest_len, d + starts[i], lens[i]);
            rest_len += lens[i];
        }
    }
    memcpy(d, rest, rest_len);
    *len = rest_len;
    return 1;
}

/* RFC 5246 7.4.9 / RFC 6347 4.1: the client's Finished arriving with no
 * ChangeCipherSpec before it does not complete the server's handshake; it
 * is held, and read when the CCS comes. With the CCS lost for good, the
 * client's retransmitted flight completes the handshake. */
static void finished_without_ccs_server(void **state)
{
    (void)state;
    struct h_net *n = h_new(70);
    struct strip_ccs s = {H_C2S, false, {0}, 0};
    n->user = &s;
    n->filter = strip_first_ccs;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, COAPS_DTLS_RETRANS_INITIAL_MS / 2); /* no timer fires */
    assert_true(s.done);
    assert_int_equal(s.ccs_len, 14);
    assert_true(n->sv_up);
    assert_int_equal(coaps_dtls_state(&n->sv), COAPS_DTLS_HANDSHAKING);
    assert_int_equal(coaps_dtls_state(&n->cl), COAPS_DTLS_HANDSHAKING);
    assert_int_equal(coaps_dtls_get_stats(&n->sv).auth_failures, 0);
    /* the CCS arrives late: the held Finished is read after it */
    assert_int_equal(coaps_dtls_input(&n->sv, s.ccs, s.ccs_len, n->now), COAPS_OK);
    assert_int_equal(coaps_dtls_state(&n->sv), COAPS_DTLS_ESTABLISHED);
    h_run(n, 10000);
    assert_established(n);
    assert_int_equal(coaps_dtls_get_stats(&n->cl).retransmits, 0);
    h_free(n);

    n = h_new(71);
    struct strip_ccs lost = {H_C2S, false, {0}, 0};
    n->user = &lost;
    n->filter = strip_first_ccs;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 60000);
    assert_true(lost.done);
    assert_established(n);
    assert_true(coaps_dtls_get_stats(&n->cl).retransmits >= 1);
    h_free(n);
}

/* The same on the client: the server's Finished without its CCS does not
 * complete the client's handshake until the CCS comes. A CCS that came
 * before the client sent its own flight (forged: the server sends its CCS
 * only after that flight) does not count. */
static void finished_without_ccs_client(void **state)
{
    (void)state;
    struct h_net *n = h_new(72);
    struct strip_ccs s = {H_S2C, false, {0}, 0};
    n->user = &s;
    n->filter = strip_first_ccs;
    assert_int_equal(h_start(n), COAPS_OK);
    uint8_t early_ccs[14] = {CT_CCS, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 40, 0, 1, 1};
    uint32_t dropped = coaps_dtls_get_stats(&n->cl).records_dropped;
    assert_int_equal(coaps_dtls_input(&n->cl, early_ccs, sizeof early_ccs, n->now), COAPS_OK);
    assert_int_equal(coaps_dtls_get_stats(&n->cl).records_dropped, dropped + 1);
    h_run(n, COAPS_DTLS_RETRANS_INITIAL_MS / 2);
    assert_true(s.done);
    assert_int_equal(coaps_dtls_state(&n->sv), COAPS_DTLS_ESTABLISHED);
    assert_int_equal(coaps_dtls_state(&n->cl), COAPS_DTLS_HANDSHAKING);
    assert_int_equal(coaps_dtls_input(&n->cl, s.ccs, s.ccs_len, n->now), COAPS_OK);
    assert_established(n);
    h_free(n);

    n = h_new(73);
    struct strip_ccs lost = {H_S2C, false, {0}, 0};
    n->user = &lost;
    n->filter = strip_first_ccs;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 60000);
    assert_established(n);
    assert_true(coaps_dtls_get_stats(&n->cl).retransmits >= 1);
    h_free(n);
}

/* ---- renegotiation ------------------------------------------------------------ */

/* A handshake message header (no body beyond 4 zero bytes) of msg_type and
 * message_seq, protected by from as one epoch-1 record into rec. */
static size_t protected_hs(coaps_dtls_conn *from, uint8_t msg_type, uint16_t seq, uint8_t *rec,
                           size_t cap)
{
    uint8_t frag[DTLS_HS_HEADER_LEN + 4] = {0};
    uint32_t body = msg_type == DTLS_HS_HELLO_REQUEST ? 0 : 4;
    struct wire_wr fw = wire_wr_init(frag, sizeof frag);
    struct dtls_hs_header h = {msg_type, body, seq, 0, body};
    assert_int_equal(dtls_hs_header_write(&fw, &h), COAPS_OK);
    struct wire_wr w = wire_wr_init(rec, cap);
    assert_int_equal(conn_write_record(conn_of(from), &w, DTLS_CT_HANDSHAKE, 1, frag,
                                       DTLS_HS_HEADER_LEN + body),
                     COAPS_OK);
    return w.off;
}

/* Take to's one answer and check it is a no_renegotiation warning
 * (level 1, description 100) protected under the session, opened by peer. */
static void expect_no_renegotiation(struct h_net *n, coaps_dtls_conn *to, coaps_dtls_conn *peer)
{
    uint8_t out[128];
    size_t len;
    assert_int_equal(coaps_dtls_output(to, out, sizeof out, &len, n->now), COAPS_OK);
    assert_int_equal(out[0], CT_ALERT);
    struct wire_rd r = wire_rd_init(out, len);
    struct dtls_record rec;
    assert_int_equal(dtls_record_next(&r, &rec), COAPS_OK);
    assert_int_equal(rec.epoch, 1);
    uint8_t *pt, type;
    size_t pt_len;
    assert_int_equal(conn_open_record(conn_of(peer), &rec, out, len, &pt, &pt_len, &type),
                     COAPS_OK);
    assert_int_equal(type, CT_ALERT);
    assert_int_equal(pt_len, 2);
    assert_int_equal(pt[0], 1);   /* warning */
    assert_int_equal(pt[1], 100); /* no_renegotiation */
    /* nothing else: in particular not the server's last flight again */
    assert_int_equal(coaps_dtls_output(to, out, sizeof out, &len, n->now), COAPS_E_AGAIN);
}

/* RFC 5246 7.2.2 / RFC 5746 4.4: a ClientHello inside the session is
 * answered with no_renegotiation whatever its message_seq - a new
 * handshake numbers from 0 (RFC 6347 4.2.2), which must not pass for a
 * repeat of the old one - and a HelloRequest to the client likewise; the
 * session goes on. The same messages in the wrong direction are dropped. */
static void renegotiation_refused_any_seq(void **state)
{
    (void)state;
    struct h_net *n = handshake_with(COAPS_DTLS_PSK_AES_128_CCM_8, 80);
    static const uint16_t seqs[] = {0, 1, 3, 4, 9, 0xffff};
    uint8_t rec[128];
    for (size_t i = 0; i < COAPS_ARRAY_LEN(seqs); i++) {
        size_t len = protected_hs(&n->cl, DTLS_HS_CLIENT_HELLO, seqs[i], rec, sizeof rec);
        assert_int_equal(coaps_dtls_input(&n->sv, rec, len, n->now), COAPS_OK);
        expect_no_renegotiation(n, &n->sv, &n->cl);
        assert_int_equal(coaps_dtls_state(&n->sv), COAPS_DTLS_ESTABLISHED);
    }
    size_t len = protected_hs(&n->sv, DTLS_HS_HELLO_REQUEST, 0, rec, sizeof rec);
    assert_int_equal(coaps_dtls_input(&n->cl, rec, len, n->now), COAPS_OK);
    expect_no_renegotiation(n, &n->cl, &n->sv);
    assert_int_equal(coaps_dtls_state(&n->cl), COAPS_DTLS_ESTABLISHED);
    /* wrong direction: dropped, no answer */
    uint8_t out[128];
    size_t olen;
    uint32_t dropped = coaps_dtls_get_stats(&n->sv).records_dropped;
    len = protected_hs(&n->cl, DTLS_HS_HELLO_REQUEST, 0, rec, sizeof rec);
    assert_int_equal(coaps_dtls_input(&n->sv, rec, len, n->now), COAPS_OK);
    assert_int_equal(coaps_dtls_output(&n->sv, out, sizeof out, &olen, n->now), COAPS_E_AGAIN);
    assert_int_equal(coaps_dtls_get_stats(&n->sv).records_dropped, dropped + 1);
    app_roundtrip(n, &n->cl, &n->sv, "no renegotiation");
    app_roundtrip(n, &n->sv, &n->cl, "still one session");
    h_free(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(forged_record_in_handshake_is_dropped),
        cmocka_unit_test(seventy_forged_records_ccm8_session_survives),
        cmocka_unit_test(ccm8_limit_reached_ends_session),
        cmocka_unit_test(limit_per_aead),
        cmocka_unit_test(wrong_psk_fails_at_first_retransmission),
        cmocka_unit_test(server_waits_for_client_flight_in_progress),
        cmocka_unit_test(finished_without_ccs_server),
        cmocka_unit_test(finished_without_ccs_client),
        cmocka_unit_test(renegotiation_refused_any_seq),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
