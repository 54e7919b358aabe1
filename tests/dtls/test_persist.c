/*
 * test_persist.c - durable sessions in the engine (src/dtls/persist.c):
 * our client and server in memory with a fake clock; after a handshake
 * and data both ways an end is exported, its connection cleared (the
 * process "restarts") and a fresh one imported from the bytes, which goes
 * on both ways with no handshake, sends beyond the sequence-number gap,
 * still refuses replays of records read before, and keeps its Connection
 * IDs. Truncated, altered or foreign blobs are refused, never crash.
 * The server across a real restart: tests/net/test_state_restart.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "coaps/dtls.h"
#include "dtls/conn.h"
#include "engine_harness.h"
#include "engine_asserts.h"

/* The 48-bit sequence number of a record's header (RFC 6347 4.1). */
static uint64_t rec_seq(const uint8_t *rec)
{
    uint64_t s = 0;
    for (int i = 5; i < 11; i++)
        s = (s << 8) | rec[i];
    return s;
}

/* from -> to, one record; returns the record's sequence number. */
static uint64_t app_seq(struct h_net *n, coaps_dtls_conn *from, coaps_dtls_conn *to,
                        const char *msg)
{
    uint8_t rec[H_DGRAM_MAX];
    size_t len = 0;
    assert_int_equal(coaps_dtls_write(from, (const uint8_t *)msg, strlen(msg), rec, sizeof rec,
                                      &len),
                     COAPS_OK);
    uint64_t seq = rec_seq(rec);
    assert_int_equal(coaps_dtls_input(to, rec, len, n->now), COAPS_OK);
    const uint8_t *p;
    size_t plen;
    assert_int_equal(coaps_dtls_read(to, &p, &plen), COAPS_OK);
    assert_memory_equal(p, msg, strlen(msg));
    return seq;
}

static struct h_net *session(uint64_t seed, int cid_len)
{
    struct h_net *n = h_new(seed);
    if (cid_len >= 0) {
        n->ccfg.cid = n->scfg.cid = true;
        n->ccfg.cid_len = 4;
        n->scfg.cid_len = (uint8_t)cid_len;
    }
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 10000);
    assert_established(n);
    for (int i = 0; i < 5; i++) {
        app_roundtrip(n, &n->cl, &n->sv, "GET /light");
        app_roundtrip(n, &n->sv, &n->cl, "2.05 {\"on\":true}");
    }
    return n;
}

/* Export conn, clear it (the old process is gone), import the bytes into
 * the same storage, as a restarted process would. */
static size_t restart(coaps_dtls_conn *conn, const coaps_dtls_config *cfg, uint8_t *blob)
{
    size_t len = 0;
    assert_int_equal(coaps_dtls_export(conn, blob, COAPS_DTLS_EXPORT_MAX, &len), COAPS_OK);
    assert_true(len > 0 && len <= COAPS_DTLS_EXPORT_MAX);
    coaps_dtls_conn_clear(conn);
    memset(conn, 0x5a, sizeof *conn); /* nothing of the old one is relied on */
    assert_int_equal(coaps_dtls_import(conn, cfg, blob, len), COAPS_OK);
    return len;
}

static void server_continues(void **state)
{
    (void)state;
    struct h_net *n = session(1, -1);
    uint8_t before[32], after[32], blob[COAPS_DTLS_EXPORT_MAX];
    assert_int_equal(coaps_dtls_key_digest(&n->sv, before), COAPS_OK);
    uint64_t last = app_seq(n, &n->sv, &n->cl, "before");
    /* a record the server read before the restart, kept to replay later */
    uint8_t old[H_DGRAM_MAX];
    size_t old_len = 0;
    assert_int_equal(coaps_dtls_write(&n->cl, (const uint8_t *)"old", 3, old, sizeof old,
                                      &old_len),
                     COAPS_OK);
    uint8_t copy[H_DGRAM_MAX];
    memcpy(copy, old, old_len);
    assert_int_equal(coaps_dtls_input(&n->sv, copy, old_len, n->now), COAPS_OK);
    const uint8_t *p;
    size_t plen;
    assert_int_equal(coaps_dtls_read(&n->sv, &p, &plen), COAPS_OK);

    restart(&n->sv, &n->scfg, blob);
    assert_int_equal(coaps_dtls_state(&n->sv), COAPS_DTLS_ESTABLISHED);
    assert_true(coaps_dtls_hs_released(&n->sv));
    assert_int_equal(coaps_dtls_suite(&n->sv), coaps_dtls_suite(&n->cl));
    assert_int_equal(coaps_dtls_key_digest(&n->sv, after), COAPS_OK);
    assert_memory_equal(before, after, 32);
    /* both ways, with no handshake: nothing else goes out */
    app_roundtrip(n, &n->cl, &n->sv, "GET /light again");
    uint64_t next = app_seq(n, &n->sv, &n->cl, "after");
    assert_true(next >= last + 1 + COAPS_DTLS_IMPORT_SEQ_GAP);
    assert_true(next <= last + 1 + COAPS_DTLS_IMPORT_SEQ_GAP + 1);
    uint8_t buf[H_DGRAM_MAX];
    size_t len;
    assert_int_equal(coaps_dtls_output(&n->sv, buf, sizeof buf, &len, n->now), COAPS_E_AGAIN);
    assert_int_equal(coaps_dtls_output(&n->cl, buf, sizeof buf, &len, n->now), COAPS_E_AGAIN);
    /* the replay window came along: the old record is refused */
    uint32_t replays = coaps_dtls_get_stats(&n->sv).replays;
    memcpy(copy, old, old_len);
    assert_int_equal(coaps_dtls_input(&n->sv, copy, old_len, n->now), COAPS_OK);
    assert_int_equal(coaps_dtls_read(&n->sv, &p, &plen), COAPS_E_AGAIN);
    assert_int_equal(coaps_dtls_get_stats(&n->sv).replays, replays + 1);
    /* and a restart of the restarted one skips another gap */
    restart(&n->sv, &n->scfg, blob);
    uint64_t again = app_seq(n, &n->sv, &n->cl, "after twice");
    assert_true(again >= next + 1 + COAPS_DTLS_IMPORT_SEQ_GAP);
    h_free(n);
}

static void client_continues(void **state)
{
    (void)state;
    struct h_net *n = session(2, -1);
    uint8_t blob[COAPS_DTLS_EXPORT_MAX];
    uint64_t last = app_seq(n, &n->cl, &n->sv, "before");
    restart(&n->cl, &n->ccfg, blob);
    uint64_t next = app_seq(n, &n->cl, &n->sv, "after");
    assert_true(next >= last + 1 + COAPS_DTLS_IMPORT_SEQ_GAP);
    app_roundtrip(n, &n->sv, &n->cl, "2.05");
    /* close_notify still works on an imported connection */
    assert_int_equal(coaps_dtls_close(&n->cl), COAPS_OK);
    h_run(n, 1000);
    assert_int_equal(coaps_dtls_state(&n->sv), COAPS_DTLS_CLOSED);
    h_free(n);
}

/* With Connection IDs (RFC 9146): the server's records carry the
 * client's CID and the client's carry the server's, as before. */
static void cid_continues(void **state)
{
    (void)state;
    struct h_net *n = session(3, 6);
    assert_true(coaps_dtls_cid_negotiated(&n->sv));
    const uint8_t *cid;
    uint8_t own[COAPS_DTLS_CID_MAX], blob[COAPS_DTLS_EXPORT_MAX];
    size_t own_len = coaps_dtls_own_cid(&n->sv, &cid);
    assert_int_equal(own_len, 6);
    memcpy(own, cid, own_len);
    size_t headroom = coaps_dtls_write_headroom(&n->sv);
    restart(&n->sv, &n->scfg, blob);
    assert_true(coaps_dtls_cid_negotiated(&n->sv));
    assert_int_equal(coaps_dtls_own_cid(&n->sv, &cid), 6);
    assert_memory_equal(cid, own, 6);
    assert_int_equal(coaps_dtls_write_headroom(&n->sv), headroom);
    uint8_t rec[H_DGRAM_MAX];
    size_t len;
    assert_int_equal(coaps_dtls_write(&n->cl, (const uint8_t *)"x", 1, rec, sizeof rec, &len),
                     COAPS_OK);
    const uint8_t *seen;
    assert_true(coaps_dtls_datagram_cid(rec, len, 6, &seen));
    assert_memory_equal(seen, own, 6);
    assert_int_equal(coaps_dtls_input(&n->sv, rec, len, n->now), COAPS_OK);
    const uint8_t *p;
    size_t plen;
    assert_int_equal(coaps_dtls_read(&n->sv, &p, &plen), COAPS_OK);
    app_roundtrip(n, &n->sv, &n->cl, "2.05 with the client's CID");
    /* a configuration with another CID length cannot take it */
    size_t blen = 0;
    assert_int_equal(coaps_dtls_export(&n->sv, blob, sizeof blob, &blen), COAPS_OK);
    coaps_dtls_config other = n->scfg;
    other.cid_len = 8;
    coaps_dtls_conn c;
    assert_int_equal(coaps_dtls_import(&c, &other, blob, blen), COAPS_E_CONFIG);
    assert_int_equal(coaps_dtls_state(&c), COAPS_DTLS_FAILED);
    coaps_dtls_conn_clear(&c);
    h_free(n);
}

/* Only an established connection without a handshake context exports. */
static void export_needs_a_session(void **state)
{
    (void)state;
    struct h_net *n = h_new(4);
    assert_int_equal(h_start(n), COAPS_OK);
    uint8_t blob[COAPS_DTLS_EXPORT_MAX];
    size_t len = 0;
    assert_int_equal(coaps_dtls_export(&n->cl, blob, sizeof blob, &len), COAPS_E_STATE);
    h_run(n, 10000);
    assert_established(n);
    assert_int_equal(coaps_dtls_export(&n->sv, blob, 10, &len), COAPS_E_NOSPACE);
    assert_int_equal(coaps_dtls_close(&n->sv), COAPS_OK);
    assert_int_equal(coaps_dtls_export(&n->sv, blob, sizeof blob, &len), COAPS_E_STATE);
    h_free(n);
}

static void refused(const coaps_dtls_config *cfg, const uint8_t *b, size_t len)
{
    coaps_dtls_conn c;
    memset(&c, 0xa5, sizeof c);
    coaps_status st = coaps_dtls_import(&c, cfg, b, len);
    assert_true(st < 0);
    assert_int_equal(coaps_dtls_state(&c), COAPS_DTLS_FAILED);
    uint8_t out[64];
    size_t olen;
    assert_int_equal(coaps_dtls_write(&c, (const uint8_t *)"x", 1, out, sizeof out, &olen),
                     COAPS_E_STATE);
    coaps_dtls_conn_clear(&c);
}

/* Truncated at every length, a byte more, altered fields, the other role:
 * refused, the connection FAILED and unusable. */
static void bad_blobs_refused(void **state)
{
    (void)state;
    struct h_net *n = session(5, -1);
    uint8_t blob[COAPS_DTLS_EXPORT_MAX + 1], bad[COAPS_DTLS_EXPORT_MAX + 1];
    size_t len = 0;
    assert_int_equal(coaps_dtls_export(&n->sv, blob, COAPS_DTLS_EXPORT_MAX, &len), COAPS_OK);
    for (size_t cut = 0; cut < len; cut++)
        refused(&n->scfg, blob, cut);
    memcpy(bad, blob, len);
    bad[len] = 0;
    refused(&n->scfg, bad, len + 1); /* trailing byte */
    refused(&n->ccfg, blob, len);    /* a server's session for a client */
    static const struct {
        size_t at;
        uint8_t v;
    } edits[] = {
        {0, 2},     /* version */
        {2, 0xff},  /* suite 0xff.. */
        {4, 0x80},  /* unknown flag */
        {5, 0},     /* mtu high byte 0 ... */
        {23, 0xff}, /* write sequence number at the top: no room for the gap */
        {51, 33},   /* write key length */
        {0, 0},     /* write IV length (after the key: below) */
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        memcpy(bad, blob, len);
        bad[edits[i].at] = edits[i].v;
        if (edits[i].at == 5)
            bad[6] = 10; /* mtu 10 */
        if (edits[i].at == 23)
            memset(bad + 23, 0xff, 6);
        if (edits[i].v == 0 && edits[i].at == 0)
            bad[52 + blob[51]] = 13;
        refused(&n->scfg, bad, len);
    }
    /* a suite the configuration no longer allows */
    coaps_dtls_config only = n->scfg;
    static const uint16_t gcm[] = {COAPS_DTLS_PSK_AES_256_GCM_SHA384};
    only.suites = gcm;
    only.suites_len = 1;
    if (coaps_dtls_suite(&n->sv) != gcm[0])
        refused(&only, blob, len);
    h_free(n);
}

/* A cluster's blocks (coaps_dtls_set_write_block): two servers holding
 * the same session seal with the numbers each was given, never past its
 * limit, and the client reads both. */
static void write_blocks(void **state)
{
    (void)state;
    struct h_net *n = session(7, -1);
    uint8_t blob[COAPS_DTLS_EXPORT_MAX];
    size_t len = 0;
    assert_int_equal(coaps_dtls_export(&n->sv, blob, sizeof blob, &len), COAPS_OK);
    coaps_dtls_conn *other = calloc(1, sizeof *other);
    assert_non_null(other);
    assert_int_equal(coaps_dtls_import(other, &n->scfg, blob, len), COAPS_OK);
    /* a block on a connection without keys, or an empty one: refused */
    coaps_dtls_conn fresh;
    memset(&fresh, 0, sizeof fresh);
    assert_int_equal(coaps_dtls_set_write_block(&fresh, 0, 10), COAPS_E_STATE);
    assert_int_equal(coaps_dtls_write_seq(&fresh), 0);
    assert_int_equal(coaps_dtls_set_write_block(&n->sv, 10, 10), COAPS_E_INVALID);
    assert_int_equal(coaps_dtls_set_write_block(&n->sv, 0, (UINT64_C(1) << 48) + 1),
                     COAPS_E_INVALID);
    /* node A: [100, 103); node B: [1000, 2000) */
    assert_int_equal(coaps_dtls_set_write_block(&n->sv, 100, 103), COAPS_OK);
    assert_int_equal(coaps_dtls_set_write_block(other, 1000, 2000), COAPS_OK);
    assert_int_equal(coaps_dtls_write_seq(&n->sv), 100);
    assert_int_equal(app_seq(n, &n->sv, &n->cl, "a1"), 100);
    assert_int_equal(app_seq(n, &n->sv, &n->cl, "a2"), 101);
    assert_int_equal(app_seq(n, &n->sv, &n->cl, "a3"), 102);
    /* A's block is used up: nothing is sealed, nothing moves */
    uint8_t rec[H_DGRAM_MAX];
    size_t rlen = 0;
    assert_int_equal(coaps_dtls_write(&n->sv, (const uint8_t *)"a4", 2, rec, sizeof rec, &rlen),
                     COAPS_E_STATE);
    assert_int_equal(coaps_dtls_write_seq(&n->sv), 103);
    assert_int_equal(app_seq(n, other, &n->cl, "b1"), 1000);
    /* A's next block */
    assert_int_equal(coaps_dtls_set_write_block(&n->sv, 2000, 3000), COAPS_OK);
    assert_int_equal(app_seq(n, &n->sv, &n->cl, "a4"), 2000);
    /* B, unaware, goes on in its own block: its record is older than the
     * client's window and dropped, never a number A used */
    assert_int_equal(coaps_dtls_write(other, (const uint8_t *)"b2", 2, rec, sizeof rec, &rlen),
                     COAPS_OK);
    assert_int_equal(rec_seq(rec), 1001);
    assert_int_equal(coaps_dtls_input(&n->cl, rec, rlen, n->now), COAPS_OK);
    const uint8_t *p;
    size_t plen;
    assert_int_equal(coaps_dtls_read(&n->cl, &p, &plen), COAPS_E_AGAIN);
    coaps_dtls_conn_clear(other);
    free(other);
    h_free(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(server_continues),    cmocka_unit_test(client_continues),
        cmocka_unit_test(cid_continues),       cmocka_unit_test(export_needs_a_session),
        cmocka_unit_test(bad_blobs_refused),   cmocka_unit_test(write_blocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
