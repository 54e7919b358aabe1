/*
 * fuzz_dtls_flow.c - whole handshakes and sessions between our own client
 * and server engines (front door + connection), in memory, with the fuzz
 * input acting as the network between them. At each step the input says
 * what happens to the next datagram of one direction: pass, drop,
 * duplicate, reorder, truncate, flip or set a byte, rewrite a header field
 * (record type, version, epoch, sequence number, length; handshake type,
 * length, message_seq, fragment offset and length), or inject a datagram
 * (an earlier one of either direction: another message type, an old
 * flight, a replay; or one crafted from the input: handshake, CCS, alert or
 * application record at epoch 0 or 1). It may also advance the clock, make
 * either side write application data, close either side, or make either
 * side seal a record of any type under its own epoch-1 keys (renegotiation
 * attempts, a second Finished, authenticated alerts). So every
 * mutation reaches both state machines at every step: the cookie exchange,
 * each flight, after the keys change, and in the established session.
 *
 * Input: byte 0 = flags
 *   bits 0-1: suite (CCM_8, GCM, ChaCha20-Poly1305, CCM) of the key exchange
 *   bit 2: ECDHE_ECDSA with certificates (tests/crypto/certs) instead of PSK
 *   bit 3: MTU 256, so flights are fragmented over many datagrams
 *   bit 4: PSK handshake contexts of the 2 KiB base alone (own allocation)
 *   bit 5: with PKI, mutual authentication; with PSK, Connection ID
 *   bit 6: auth_fail_limit 2, so forged records reach the limit
 *   bit 7: with PSK, the client has the wrong key (the handshake must fail);
 *          with PKI, Connection ID
 * With a Connection ID (RFC 9146; bits 5 and 7 had no meaning there
 * before, so older inputs keep theirs) byte 1 gives the lengths: low
 * nibble the server's CID, high nibble the client's (0-14, or 16 for 15);
 * both offer the extension, and every epoch-1 record to a side with a
 * non-empty CID is a tls12_cid record. Then ops, one byte each (low 4
 * bits the action, bit 4 the direction: 0 client->server, 1
 * server->client, bit 5 for a mutation: deliver the mutated copy and keep
 * the original queued), followed by the op's arguments.
 * Missing bytes read as 0. When the input ends the network turns honest:
 * everything is delivered in order and timers run until both sides rest.
 *
 * Invariants (abort on violation), besides the sanitizers:
 *   - whenever both ends are established, their key blocks are the same;
 *   - application data read is exactly a record the peer wrote, once;
 *   - a run with no mutation ends with both established. Benign are drops,
 *     duplicates and reorders (at most FLOW_DROP_BUDGET drops and
 *     FLOW_TICK_BUDGET_MS of extra clock), and forgeries that cannot open
 *     (records at epoch 1, late copies of old datagrams; at most
 *     FLOW_FORGED_MAX): a forged record must not end a handshake or a
 *     session before the AEAD's limit (issue 18). Forged epoch-0 content
 *     (a HelloVerifyRequest, ServerHello, alert) counts as a mutation: it
 *     is unauthenticated in DTLS 1.2 and may spoil any handshake;
 *   - two established ends exchange application data both ways at the end;
 *   - with a wrong PSK the two ends are never both established;
 *   - two established ends agree that a CID was negotiated, exactly when
 *     both asked for one; application records to a side with a CID carry
 *     it (tls12_cid), others none;
 *   - a crafted datagram never counts as the newest record from its
 *     sender (coaps_dtls_input_newest: the edge would follow the peer's
 *     address on it, RFC 9146 6); an honest record at the end does;
 *   - bounded: FLOW_STEPS ops, FLOW_SETTLE rounds of honest delivery.
 * FUZZ_FLOW_TRACE=1 prints how each run ended (docs/fuzzing.md).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coaps/dtls.h"
#include "common/wire.h"
#include "dtls/conn.h"
#include "fuzz_check.h"
#include "fuzz_pki.h"
#include "fuzz_rng.h"
#include "fuzz_ticket.h"

#define FLOW_DGRAM_MAX 1500
#define FLOW_QUEUE 64         /* datagrams waiting per direction */
#define FLOW_HISTORY 32       /* datagrams kept per direction for injection */
#define FLOW_STEPS 400        /* ops read from one input */
#define FLOW_SETTLE 200       /* honest delivery rounds at the end */
#define FLOW_DROP_BUDGET 4    /* drops a benign run may have: 1+2+4+8 s of timers */
#define FLOW_TICK_BUDGET_MS 10000
#define FLOW_APP_MAX 256      /* application records written per direction */
/* Forged datagrams a benign run may have: below the smallest per-AEAD
 * failed-decryption limit (CCM_8: 2^7, RFC 9147 4.5.3) even when each
 * holds two records. */
#define FLOW_FORGED_MAX 60

enum { C2S = 0, S2C = 1 };

enum op {
    OP_PASS, OP_SEAL, OP_DROP, OP_DUP, OP_REORDER, OP_TRUNC, OP_FLIP, OP_SET,
    OP_FIELD, OP_INJECT_OLD, OP_INJECT_NEW, OP_TICK, OP_APP, OP_CLOSE, OP_FLUSH, OP_WAIT,
};

struct dgram {
    uint8_t b[FLOW_DGRAM_MAX];
    size_t len;
};

struct queue {
    struct dgram q[FLOW_QUEUE];
    size_t n;
};

struct flow {
    const uint8_t *in;
    size_t size, off;
    uint64_t now;
    coaps_dtls_config ccfg, scfg;
    coaps_dtls_server front;
    coaps_dtls_conn cl, sv;
    coaps_dtls_hs *chs, *shs;
    coaps_dtls_hs_base *cbase, *sbase;
    bool sv_up;
    bool cid;          /* both ends ask for a Connection ID */
    uint8_t rx_cid[2]; /* CID length of tls12_cid records in each direction */
    struct queue q[2];
    struct dgram hist[2][FLOW_HISTORY];
    unsigned hist_n[2];
    /* what the run did: decides which invariants hold */
    bool mutated; /* on-path: a datagram changed or lost for good, a close */
    bool forged;  /* off-path: datagrams added, every original still arrives */
    unsigned forged_n;
    unsigned drops;
    uint64_t ticked_ms;
    /* application data written (next number) and read (bitmap) per direction */
    unsigned app_sent[2];
    uint8_t app_seen[2][FLOW_APP_MAX / 8];
};

static coaps_dtls_pki *pkis[4]; /* server, server+client required, client CA, client cert */

static void load_pkis(void)
{
    static const struct fuzz_pki_spec specs[4] = {
        {.cert = "server.pem", .key = "server.key"},
        {.cert = "server.pem", .key = "server.key", .ca = "ca.pem", .require_client_cert = true},
        {.ca = "ca.pem"},
        {.cert = "client.pem", .key = "client.key", .ca = "ca.pem"},
    };
    for (size_t i = 0; i < 4; i++)
        pkis[i] = fuzz_pki_load(&specs[i]);
}

/* ---- reading the input: missing bytes are 0 ---------------------------- */

static uint8_t in_u8(struct flow *f)
{
    return f->off < f->size ? f->in[f->off++] : 0;
}

static uint16_t in_u16(struct flow *f)
{
    uint16_t hi = in_u8(f);
    return (uint16_t)(hi << 8 | in_u8(f));
}

/* ---- PSK ----------------------------------------------------------------- */

static const uint8_t psk_right[16] = "secretPSK-123456";
static const uint8_t psk_wrong[16] = "secretPSK-654321";

static coaps_status lookup(void *user, const uint8_t *id, size_t id_len, uint8_t *key, size_t cap,
                           size_t *key_len)
{
    (void)user;
    if (id_len != 7 || memcmp(id, "client1", 7) != 0 || cap < sizeof psk_right)
        return COAPS_E_PSK_IDENTITY;
    memcpy(key, psk_right, sizeof psk_right);
    *key_len = sizeof psk_right;
    return COAPS_OK;
}

/* ---- application data: numbered records with a checkable body ----------- */

static size_t app_make(int dir, unsigned n, size_t fill, uint8_t *out)
{
    out[0] = 'D';
    out[1] = (uint8_t)dir;
    out[2] = (uint8_t)(n >> 8);
    out[3] = (uint8_t)n;
    for (size_t i = 0; i < fill; i++)
        out[4 + i] = (uint8_t)(n * 7 + i);
    return 4 + fill;
}

/* Data read by the receiver of direction dir must be a record the sender
 * wrote, unchanged, and read only once (the replay window). */
static void app_check(struct flow *f, int dir, const uint8_t *d, size_t len)
{
    CHECK(len >= 4 && d[0] == 'D' && d[1] == dir);
    unsigned n = (unsigned)d[2] << 8 | d[3];
    CHECK(n < f->app_sent[dir]);
    uint8_t want[4 + 64];
    CHECK(len - 4 <= 64 && app_make(dir, n, len - 4, want) == len && memcmp(want, d, len) == 0);
    CHECK(!(f->app_seen[dir][n / 8] & (1u << (n % 8))));
    f->app_seen[dir][n / 8] |= (uint8_t)(1u << (n % 8));
}

static void read_all(struct flow *f, coaps_dtls_conn *c, int dir)
{
    const uint8_t *d;
    size_t len;
    for (int i = 0; i < 64 && coaps_dtls_read(c, &d, &len) == COAPS_OK; i++)
        app_check(f, dir, d, len);
}

/* ---- the network ----------------------------------------------------------- */

static void remember(struct flow *f, int dir, const uint8_t *b, size_t len)
{
    struct dgram *h = &f->hist[dir][f->hist_n[dir]++ % FLOW_HISTORY];
    memcpy(h->b, b, len);
    h->len = len;
}

static void enqueue(struct flow *f, int dir, const uint8_t *b, size_t len)
{
    struct queue *q = &f->q[dir];
    remember(f, dir, b, len);
    if (q->n == FLOW_QUEUE) {
        f->drops++; /* a full network loses datagrams */
        return;
    }
    memcpy(q->q[q->n].b, b, len);
    q->q[q->n++].len = len;
}

static bool both_established(struct flow *f)
{
    return f->sv_up && coaps_dtls_state(&f->cl) == COAPS_DTLS_ESTABLISHED &&
           coaps_dtls_state(&f->sv) == COAPS_DTLS_ESTABLISHED;
}

static void check_keys(struct flow *f)
{
    if (!both_established(f))
        return;
    uint8_t a[32], b[32];
    CHECK(coaps_dtls_key_digest(&f->cl, a) == COAPS_OK);
    CHECK(coaps_dtls_key_digest(&f->sv, b) == COAPS_OK);
    CHECK(memcmp(a, b, sizeof a) == 0);
    /* the same hellos (the keys cover the transcript): the same answer */
    CHECK(coaps_dtls_cid_negotiated(&f->cl) == f->cid &&
          coaps_dtls_cid_negotiated(&f->sv) == f->cid);
}

/* Move what both ends have to send into the network. A server connection
 * that ended is dropped, as an edge would, after its last words (an alert)
 * went out; the next ClientHello meets the front door again. */
static void collect(struct flow *f)
{
    uint8_t buf[FLOW_DGRAM_MAX];
    size_t len;
    for (int i = 0; i < 64 && coaps_dtls_output(&f->cl, buf, sizeof buf, &len, f->now) == COAPS_OK;
         i++)
        enqueue(f, C2S, buf, len);
    if (!f->sv_up)
        return;
    for (int i = 0; i < 64 && coaps_dtls_output(&f->sv, buf, sizeof buf, &len, f->now) == COAPS_OK;
         i++)
        enqueue(f, S2C, buf, len);
    enum coaps_dtls_state st = coaps_dtls_state(&f->sv);
    if (st == COAPS_DTLS_FAILED || st == COAPS_DTLS_CLOSED) {
        char why[128];
        (void)coaps_dtls_error_str(&f->sv, why, sizeof why);
        coaps_dtls_conn_clear(&f->sv);
        f->sv_up = false;
    }
}

static void to_server(struct flow *f, uint8_t *b, size_t len)
{
    coaps_peer peer = {{127, 0, 0, 1}, 4, COAPS_TRANSPORT_DTLS};
    if (f->sv_up) {
        (void)coaps_dtls_input(&f->sv, b, len, f->now);
        read_all(f, &f->sv, C2S);
        return;
    }
    uint8_t out[512];
    size_t out_len = 0;
    enum coaps_dtls_accept v;
    if (coaps_dtls_server_accept(&f->front, &peer, b, len, f->now, out, sizeof out, &out_len,
                                 &v) != COAPS_OK)
        return;
    if (v == COAPS_DTLS_ACCEPT_SEND) {
        enqueue(f, S2C, out, out_len);
    } else if (v == COAPS_DTLS_ACCEPT_NEW) {
        bool pki = coaps_dtls_server_wants_pki(&f->front, b, len);
        coaps_status st = f->sbase && !pki
                              ? coaps_dtls_conn_init_split(&f->sv, &f->scfg, f->sbase, NULL, &peer,
                                                           f->now)
                              : coaps_dtls_conn_init(&f->sv, &f->scfg, f->shs, &peer, f->now);
        CHECK(st == COAPS_OK);
        f->sv_up = true;
        (void)coaps_dtls_input(&f->sv, b, len, f->now);
        read_all(f, &f->sv, C2S);
    }
}

/* Hand one datagram to the receiver of dir (it may be decrypted in place). */
static void deliver(struct flow *f, int dir, const uint8_t *b, size_t len)
{
    uint8_t buf[FLOW_DGRAM_MAX];
    memcpy(buf, b, len);
    if (dir == C2S) {
        to_server(f, buf, len);
    } else {
        (void)coaps_dtls_input(&f->cl, buf, len, f->now);
        read_all(f, &f->cl, S2C);
    }
    collect(f);
    check_keys(f);
}

static void pop(struct flow *f, int dir, struct dgram *out)
{
    struct queue *q = &f->q[dir];
    *out = q->q[0];
    memmove(&q->q[0], &q->q[1], (q->n - 1) * sizeof q->q[0]);
    q->n--;
}

static uint64_t next_deadline(struct flow *f)
{
    uint64_t a = coaps_dtls_next_deadline(&f->cl);
    uint64_t b = f->sv_up ? coaps_dtls_next_deadline(&f->sv) : UINT64_MAX;
    return a < b ? a : b;
}

static void run_timers(struct flow *f)
{
    (void)coaps_dtls_tick(&f->cl, f->now);
    if (f->sv_up)
        (void)coaps_dtls_tick(&f->sv, f->now);
    collect(f);
    check_keys(f);
}

/* Nothing in flight: jump to the next timer. False when none is set. */
static bool wait_timer(struct flow *f)
{
    uint64_t d = next_deadline(f);
    if (d == UINT64_MAX)
        return false;
    /* waiting while datagrams are in flight delays them: that counts
     * against the budget of a benign run, as a tick does */
    if (d > f->now && (f->q[C2S].n || f->q[S2C].n))
        f->ticked_ms += d - f->now;
    if (d > f->now)
        f->now = d;
    run_timers(f);
    return true;
}

/* ---- mutations of one datagram ------------------------------------------- */

/* Header length of a record of this type going in direction dir: a
 * tls12_cid record carries the receiver's CID after the sequence number. */
static size_t header_len(const struct flow *f, int dir, uint8_t type)
{
    return 13u + (type == 25 ? f->rx_cid[dir] : 0u);
}

/* Offset of the record after the one at at (past the end when its header
 * does not fit). */
static size_t record_next(const struct flow *f, int dir, const struct dgram *d, size_t at)
{
    size_t h = header_len(f, dir, d->b[at]);
    if (at + h > d->len)
        return d->len + 1;
    return at + h + ((size_t)d->b[at + h - 2] << 8 | d->b[at + h - 1]);
}

/* Offset of record idx (mod the number of records) in a datagram. */
static size_t record_at(const struct flow *f, int dir, const struct dgram *d, unsigned idx)
{
    size_t offs[16], n = 0;
    for (size_t at = 0; at + 13 <= d->len && n < 16; at = record_next(f, dir, d, at))
        offs[n++] = at;
    return n ? offs[idx % n] : 0;
}

static void put_be(uint8_t *p, size_t width, uint32_t v)
{
    for (size_t i = 0; i < width; i++)
        p[i] = (uint8_t)(v >> (8 * (width - 1 - i)));
}

static uint32_t get_be(const uint8_t *p, size_t width)
{
    uint32_t v = 0;
    for (size_t i = 0; i < width; i++)
        v = v << 8 | p[i];
    return v;
}

/* Rewrite one header field of one record: set it, or add to it. */
static void mutate_field(struct flow *f, int dir, struct dgram *d)
{
    /* offset from the record start, width */
    static const uint8_t fields[][2] = {
        {0, 1},  /* content type */
        {1, 2},  /* version */
        {3, 2},  /* epoch */
        {9, 2},  /* sequence number, low bits */
        {11, 2}, /* record length */
        {13, 1}, /* handshake msg_type */
        {14, 3}, /* handshake length */
        {17, 2}, /* message_seq */
        {19, 3}, /* fragment_offset */
        {22, 3}, /* fragment_length */
    };
    unsigned idx = in_u8(f);
    uint8_t sel = in_u8(f);
    uint16_t val = in_u16(f);
    size_t rec = record_at(f, dir, d, idx);
    const uint8_t *fl = fields[(sel & 0x7f) % (sizeof fields / sizeof fields[0])];
    /* fields after the sequence number move behind a CID */
    size_t cid = rec < d->len ? header_len(f, dir, d->b[rec]) - 13 : 0;
    size_t at = rec + fl[0] + (fl[0] >= 11 ? cid : 0), w = fl[1];
    if (at + w > d->len)
        return;
    uint32_t v = (sel & 0x80) ? get_be(d->b + at, w) + (uint32_t)(int16_t)val : val;
    put_be(d->b + at, w, v);
}

/* A record made from the input: type, epoch, sequence and body. With a
 * CID and bit 1 of the epoch byte, a record for the receiver of dir (>= 0)
 * becomes a tls12_cid record with the receiver's CID (so it passes the
 * CID check and meets the AEAD, which it cannot pass). */
static size_t craft(struct flow *f, uint8_t *out, int dir)
{
    static const uint8_t types[] = {22, 20, 21, 23, 22, 0};
    uint8_t t = types[in_u8(f) % sizeof types];
    uint8_t eb = in_u8(f);
    uint8_t epoch = eb & 1;
    uint16_t seq = in_u16(f);
    size_t body = 0;
    uint8_t *p = out + 13;
    if (t == 22) { /* a handshake fragment: type, message_seq, whole */
        size_t n = in_u8(f) % 48;
        p[0] = in_u8(f);
        put_be(p + 1, 3, (uint32_t)n);
        put_be(p + 4, 2, in_u16(f));
        put_be(p + 6, 3, 0);
        put_be(p + 9, 3, (uint32_t)n);
        for (size_t i = 0; i < n; i++)
            p[12 + i] = in_u8(f);
        body = 12 + n;
    } else if (t == 20) {
        p[0] = 1;
        body = 1;
    } else if (t == 21) {
        p[0] = in_u8(f) & 1 ? 2 : 1; /* fatal or warning */
        p[1] = in_u8(f);
        body = 2;
    } else { /* application data or junk type 0: raw bytes */
        body = in_u8(f) % 64;
        for (size_t i = 0; i < body; i++)
            p[i] = in_u8(f);
    }
    out[0] = t;
    out[1] = 0xfe;
    out[2] = 0xfd;
    put_be(out + 3, 2, epoch);
    put_be(out + 5, 4, 0);
    put_be(out + 9, 2, seq);
    put_be(out + 11, 2, (uint32_t)body);
    if (dir < 0 || !(eb & 2) || f->rx_cid[dir] == 0)
        return 13 + body;
    /* the receiver's CID goes between the sequence number and the length */
    size_t n = f->rx_cid[dir];
    const uint8_t *cid = NULL;
    coaps_dtls_conn *rx = dir == C2S ? (f->sv_up ? &f->sv : NULL) : &f->cl;
    if (rx == NULL || coaps_dtls_own_cid(rx, &cid) != n)
        cid = NULL;
    memmove(out + 11 + n, out + 11, 2 + body);
    for (size_t i = 0; i < n; i++)
        out[11 + i] = cid ? cid[i] : (uint8_t)i;
    out[0] = 25;
    return 13 + n + body;
}

/* Classify a datagram added by the network. Whatever it holds at epoch 0 is
 * unauthenticated (a forged HelloVerifyRequest, ServerHello or alert) and
 * may spoil a DTLS 1.2 handshake in any implementation: that counts as a
 * mutation. Records at epoch 1 cannot open without the keys and late
 * duplicates are the network's normal business: those are forgeries that a
 * handshake and a session must survive (issue 18: dropped and counted). */
static void forgery(struct flow *f, int dir, const struct dgram *d, bool duplicate)
{
    f->forged = true;
    f->forged_n++;
    if (duplicate)
        return;
    for (size_t at = 0; at < d->len; at = record_next(f, dir, d, at)) {
        if (at + 13 > d->len || (d->b[at + 3] == 0 && d->b[at + 4] == 0)) {
            f->mutated = true;
            return;
        }
    }
}

/* ---- one op ------------------------------------------------------------------ */

static void app_write(struct flow *f, int dir)
{
    coaps_dtls_conn *c = dir == C2S ? &f->cl : &f->sv;
    size_t fill = in_u8(f) % 65;
    if ((dir == S2C && !f->sv_up) || coaps_dtls_state(c) != COAPS_DTLS_ESTABLISHED ||
        f->app_sent[dir] >= FLOW_APP_MAX)
        return;
    uint8_t msg[4 + 64], rec[FLOW_DGRAM_MAX];
    size_t len = app_make(dir, f->app_sent[dir], fill, msg), out_len;
    CHECK(coaps_dtls_write(c, msg, len, rec, sizeof rec, &out_len) == COAPS_OK);
    /* RFC 9146 4: to a side with a non-empty CID, tls12_cid records
     * carrying it; else plain application data */
    size_t n = coaps_dtls_cid_negotiated(c) ? f->rx_cid[dir] : 0;
    CHECK(out_len >= 13 + n && rec[0] == (n ? 25 : 23));
    const uint8_t *cid;
    if (n && (dir == S2C || f->sv_up)) /* (a server that ended is cleared) */
        CHECK(coaps_dtls_own_cid(dir == C2S ? &f->sv : &f->cl, &cid) == n &&
              memcmp(rec + 11, cid, n) == 0);
    f->app_sent[dir]++;
    enqueue(f, dir, rec, out_len);
}

/* The sender of dir, misbehaving under its own keys: a record of any type
 * (a renegotiating ClientHello or HelloRequest, a second Finished, an
 * authenticated alert or CCS, an unknown type) sealed at epoch 1, so the
 * receiver's session handling sees what a forger cannot produce. */
static void seal(struct flow *f, int dir)
{
    uint8_t plain[128], rec[FLOW_DGRAM_MAX];
    size_t len = craft(f, plain, -1);
    coaps_dtls_conn *c = dir == C2S ? &f->cl : &f->sv;
    if (dir == S2C && !f->sv_up)
        return;
    if (plain[0] == 23) { /* application data is checked by the reader */
        if (f->app_sent[dir] >= FLOW_APP_MAX)
            return;
        len = 13 + app_make(dir, f->app_sent[dir]++, (len - 13) % 65, plain + 13);
    }
    struct wire_wr w = wire_wr_init(rec, sizeof rec);
    if (conn_write_record(conn_of(c), &w, plain[0], 1, plain + 13, len - 13) != COAPS_OK)
        return; /* no epoch-1 keys yet */
    f->mutated = true;
    deliver(f, dir, rec, w.off);
}

static void step(struct flow *f)
{
    uint8_t op = in_u8(f);
    int dir = (op >> 4) & 1;
    enum op a = (enum op)(op & 15);
    struct dgram d;
    switch (a) {
    case OP_TICK: {
        uint64_t ms = ((uint64_t)in_u8(f) + 1) * 50;
        f->now += ms;
        f->ticked_ms += ms;
        run_timers(f);
        return;
    }
    case OP_WAIT:
        (void)wait_timer(f);
        return;
    case OP_APP:
        app_write(f, dir);
        return;
    case OP_CLOSE:
        f->mutated = true;
        if (dir == C2S)
            (void)coaps_dtls_close(&f->cl);
        else if (f->sv_up)
            (void)coaps_dtls_close(&f->sv);
        collect(f);
        return;
    case OP_INJECT_OLD: {
        unsigned src = in_u8(f);
        int from = src & 1;
        unsigned n = f->hist_n[from] < FLOW_HISTORY ? f->hist_n[from] : FLOW_HISTORY;
        if (n == 0)
            return;
        d = f->hist[from][(src >> 1) % n];
        /* an old datagram of this direction is a late duplicate */
        forgery(f, from, &d, from == dir);
        deliver(f, dir, d.b, d.len);
        return;
    }
    case OP_SEAL:
        seal(f, dir);
        return;
    case OP_INJECT_NEW:
        d.len = craft(f, d.b, dir);
        forgery(f, dir, &d, false);
        deliver(f, dir, d.b, d.len);
        /* nothing crafted authenticates: never the peer's newest record */
        if (dir == S2C || f->sv_up)
            CHECK(!coaps_dtls_input_newest(dir == C2S ? &f->sv : &f->cl));
        return;
    default:
        break;
    }
    /* the rest act on the next datagram of a direction (the other one when
     * this one is empty; when both are, time passes) */
    if (f->q[dir].n == 0)
        dir ^= 1;
    if (f->q[dir].n == 0) {
        (void)wait_timer(f);
        return;
    }
    struct queue *q = &f->q[dir];
    switch (a) {
    case OP_DROP:
        pop(f, dir, &d);
        f->drops++;
        return;
    case OP_DUP:
        deliver(f, dir, q->q[0].b, q->q[0].len); /* the original stays queued */
        return;
    case OP_REORDER: { /* the head goes behind the next k datagrams */
        size_t k = 1 + in_u8(f) % 4;
        if (k >= q->n)
            k = q->n - 1;
        pop(f, dir, &d);
        memmove(&q->q[k + 1], &q->q[k], (q->n - k) * sizeof q->q[0]);
        q->q[k] = d;
        q->n++;
        return;
    }
    case OP_FLUSH:
        while (f->q[dir].n) {
            pop(f, dir, &d);
            deliver(f, dir, d.b, d.len);
        }
        return;
    default:
        break;
    }
    /* bit 5: a forged copy goes first and the original stays queued (an
     * off-path forger who saw the datagram); else the datagram is changed
     * on its way (on-path). Passing takes the original. */
    if ((op & 32) && a != OP_PASS)
        d = q->q[0];
    else
        pop(f, dir, &d);
    if (!(op & 32))
        f->mutated = true;
    if (a == OP_TRUNC) {
        d.len = d.len ? in_u16(f) % d.len : 0;
    } else if (a == OP_FLIP || a == OP_SET) {
        size_t at = d.len ? in_u16(f) % d.len : 0;
        uint8_t v = in_u8(f);
        if (d.len)
            d.b[at] = a == OP_FLIP ? d.b[at] ^ (v ? v : 1) : v;
    } else if (a == OP_FIELD) {
        mutate_field(f, dir, &d);
    }
    if (op & 32)
        forgery(f, dir, &d, false);
    deliver(f, dir, d.b, d.len);
}

/* ---- the end: an honest network until both sides rest -------------------- */

static void settle(struct flow *f)
{
    struct dgram d;
    for (int round = 0; round < FLOW_SETTLE; round++) {
        if (f->q[C2S].n == 0 && f->q[S2C].n == 0) {
            if (!wait_timer(f))
                return;
            continue;
        }
        for (int dir = 0; dir < 2; dir++) {
            while (f->q[dir].n) {
                pop(f, dir, &d);
                deliver(f, dir, d.b, d.len);
            }
        }
    }
}

/* Two established ends must carry data both ways on an honest network. */
static void round_trip(struct flow *f)
{
    for (int dir = 0; dir < 2; dir++) {
        unsigned before = f->app_sent[dir];
        if (before >= FLOW_APP_MAX)
            continue;
        f->off = f->size; /* the input is spent: app_write reads 0 */
        app_write(f, dir);
        CHECK(f->app_sent[dir] == before + 1);
        struct dgram d;
        /* the record is the last datagram queued now: deliver up to it */
        for (size_t n = f->q[dir].n; n > 0 && f->q[dir].n; n--) {
            pop(f, dir, &d);
            deliver(f, dir, d.b, d.len);
        }
        /* an honest record newer than any before it (RFC 9146 6) */
        if (dir == S2C || f->sv_up)
            CHECK(coaps_dtls_input_newest(dir == C2S ? &f->sv : &f->cl));
        while (f->q[dir].n) {
            pop(f, dir, &d);
            deliver(f, dir, d.b, d.len);
        }
        CHECK(f->app_seen[dir][before / 8] & (1u << (before % 8)));
    }
}

/* ---- set-up ------------------------------------------------------------------ */

/* CID lengths a nibble selects: every length 0..COAPS_DTLS_CID_MAX but 15. */
static const uint8_t cid_lens[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16};

static bool cid_on(uint8_t flags)
{
    return (flags & 4) ? (flags & 128) != 0 : (flags & 32) != 0;
}

static void configure(struct flow *f, uint8_t flags, struct fuzz_rng *rng)
{
    static const uint16_t psk_suites[] = {
        COAPS_DTLS_PSK_AES_128_CCM_8, COAPS_DTLS_PSK_AES_128_GCM_SHA256,
        COAPS_DTLS_PSK_CHACHA20_POLY1305_SHA256, COAPS_DTLS_PSK_AES_128_CCM};
    static const uint16_t pki_suites[] = {
        COAPS_DTLS_ECDHE_ECDSA_AES_128_CCM_8, COAPS_DTLS_ECDHE_ECDSA_AES_128_GCM_SHA256,
        COAPS_DTLS_ECDHE_ECDSA_CHACHA20_POLY1305_SHA256, COAPS_DTLS_ECDHE_ECDSA_AES_128_CCM};
    bool pki = flags & 4, mutual = pki && (flags & 32);
    const uint16_t *suite = (pki ? pki_suites : psk_suites) + (flags & 3);
    if (!coaps_dtls_suite_available(*suite))
        suite = pki ? pki_suites : psk_suites; /* CCM_8: every backend has it */
    coaps_dtls_config *c = &f->ccfg, *s = &f->scfg;
    c->role = COAPS_DTLS_CLIENT;
    s->role = COAPS_DTLS_SERVER;
    c->tickets = true; /* RFC 5077: a NewSessionTicket in every handshake */
    s->ticket_keys = fuzz_ticket_keys();
    c->suites = s->suites = suite;
    c->suites_len = s->suites_len = 1;
    c->random = s->random = fuzz_random;
    c->random_user = s->random_user = rng;
    if (flags & 8)
        c->mtu = s->mtu = 256;
    if (flags & 64)
        c->auth_fail_limit = s->auth_fail_limit = 2;
    if (cid_on(flags)) {
        uint8_t lens = in_u8(f);
        f->cid = c->cid = s->cid = true;
        s->cid_len = cid_lens[lens & 15];
        c->cid_len = cid_lens[lens >> 4];
        f->rx_cid[C2S] = s->cid_len;
        f->rx_cid[S2C] = c->cid_len;
    }
    if (pki) {
        if (!pkis[0])
            load_pkis();
        s->pki = mutual ? pkis[1] : pkis[0];
        c->pki = mutual ? pkis[3] : pkis[2];
        c->server_name = "localhost";
    } else {
        c->psk_identity = (const uint8_t *)"client1";
        c->psk_identity_len = 7;
        c->psk_key = (flags & 128) ? psk_wrong : psk_right;
        c->psk_key_len = sizeof psk_right;
        s->psk_lookup = lookup;
        s->psk_hint = (const uint8_t *)"hint";
        s->psk_hint_len = 4;
    }
}

/* FUZZ_FLOW_TRACE=1 in the environment: one line per input on how it ended
 * (to see what a corpus file does: fuzz_dtls_flow FILE). */
static bool trace(void)
{
    static int on = -1;
    if (on < 0)
        on = getenv("FUZZ_FLOW_TRACE") != NULL;
    return on;
}


static void trace_end(struct flow *f)
{
    char why[128];
    const char *sv = !f->sv_up ? "none"
                     : coaps_dtls_state(&f->sv) == COAPS_DTLS_ESTABLISHED ? "established"
                                                                          : "up";
    (void)coaps_dtls_error_str(&f->cl, why, sizeof why);
    fprintf(stderr, "flow: client %d (%s), server %s, mutated %d, forged %d, drops %u, app %u/%u\n",
            (int)coaps_dtls_state(&f->cl), why, sv, (int)f->mutated, (int)f->forged, f->drops,
            f->app_sent[0], f->app_sent[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static struct flow fl;
    struct flow *f = &fl;
    memset(f, 0, sizeof *f);
    f->in = data;
    f->size = size;
    f->off = 1;
    f->now = 1000;
    uint8_t flags = data[0];
    struct fuzz_rng rng = {0x1234567890abcdefull};
    configure(f, flags, &rng);
    if ((flags & 16) && !(flags & 4)) {
        f->cbase = malloc(sizeof *f->cbase);
        f->sbase = malloc(sizeof *f->sbase);
        CHECK(f->cbase && f->sbase);
    }
    f->chs = malloc(sizeof *f->chs);
    f->shs = malloc(sizeof *f->shs);
    CHECK(f->chs && f->shs);
    coaps_peer peer = {{127, 0, 0, 2}, 4, COAPS_TRANSPORT_DTLS};
    CHECK(coaps_dtls_server_init(&f->front, &f->scfg, f->now) == COAPS_OK);
    CHECK((f->cbase ? coaps_dtls_conn_init_split(&f->cl, &f->ccfg, f->cbase, NULL, &peer, f->now)
                    : coaps_dtls_conn_init(&f->cl, &f->ccfg, f->chs, &peer, f->now)) ==
          COAPS_OK);
    collect(f);
    bool wrong_key = (flags & 128) && !(flags & 4); /* (with PKI: a CID) */
    if (wrong_key)
        f->mutated = true; /* the handshake must not complete */

    for (int i = 0; i < FLOW_STEPS && f->off < f->size; i++)
        step(f);
    settle(f);

    bool benign = !f->mutated && f->drops <= FLOW_DROP_BUDGET &&
                  f->ticked_ms <= FLOW_TICK_BUDGET_MS;
    /* forgeries end a session only through the failed-decryption limit */
    if (f->forged && ((flags & 64) || f->forged_n > FLOW_FORGED_MAX))
        benign = false;
    if (benign)
        CHECK(both_established(f));
    if (wrong_key)
        CHECK(!both_established(f));
    if (both_established(f)) {
        check_keys(f);
        round_trip(f);
    }

    if (trace())
        trace_end(f);
    coaps_dtls_conn_clear(&f->cl);
    if (f->sv_up)
        coaps_dtls_conn_clear(&f->sv);
    coaps_dtls_server_clear(&f->front);
    free(f->chs);
    free(f->shs);
    free(f->cbase);
    free(f->sbase);
    return 0;
}
