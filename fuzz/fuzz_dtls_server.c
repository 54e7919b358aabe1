/*
 * fuzz_dtls_server.c - the whole server side of the DTLS engine (stateless
 * front door + one connection) fed arbitrary datagram sequences with a fake
 * clock. Nothing may crash, leak, hang or read out of bounds.
 *
 * Input: byte 0 = flags (bit 0: hand datagrams straight to a connection,
 * as if the front door had accepted the cookie, so the fuzzer reaches the
 * handshake table without forging an HMAC; bit 1: first run a complete
 * handshake with our own client in memory, so the fuzzed datagrams hit an
 * established session: records, alerts, replays, renegotiation; bit 2: a
 * PSK-only context of the 2 KiB base alone; bit 3: Connection ID, RFC
 * 9146: then byte 1 gives the lengths, low nibble the server's CID, high
 * nibble the in-memory client's (bit 1), each 0-14 or 16 for 15); then
 * records of
 *   u16 length (big-endian), u8 clock step (x 100 ms), datagram bytes.
 * Timers run between datagrams; every output is drained.
 *
 * With a server CID the datagrams are routed as the edge routes them
 * (src/net/dtls_server.c): one that starts with a tls12_cid record goes to
 * the session whose CID it carries, or nowhere (an unknown CID); the
 * connection's CID is set by the edge's coaps_dtls_set_own_cid. With bit 1
 * the in-memory client offers a CID too, and the handshake must negotiate
 * it and carry application data both ways in tls12_cid records.
 *
 * FUZZ_SERVER_GEN=dir records seeds (cid-*): our client's datagrams of a
 * real handshake with CID (front door or direct), an application record
 * and close_notify, as this harness's input; the generator replays each
 * and checks that the server reached the session and read the record:
 *   FUZZ_SERVER_GEN=fuzz/corpus/dtls_server build/.../fuzz_dtls_server -runs=0
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coaps/dtls.h"
#include "fuzz_check.h"
#include "fuzz_rng.h"
#include "fuzz_ticket.h"

#define FUZZ_DGRAM_MAX 2048 /* larger inputs are cut: datagrams are small */
#define FLAG_DIRECT 1
#define FLAG_ESTABLISH 2
#define FLAG_BASE 4
#define FLAG_CID 8

/* CID lengths a nibble of byte 1 selects: every length 0..DTLS_CID_MAX but 15. */
static const uint8_t cid_lens[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16};
/* The CID the edge gives the connection (coaps_dtls_set_own_cid). */
static const uint8_t edge_cid[COAPS_DTLS_CID_MAX] = {0xc1, 0xd0, 2, 3, 4, 5, 6, 7,
                                                     8,    9,    10, 11, 12, 13, 14, 15};
static const uint8_t psk[16] = "secretPSK-123456";
static const uint8_t app_msg[] = "GET /light";

static coaps_status fuzz_lookup(void *user, const uint8_t *id, size_t id_len, uint8_t *key,
                                size_t cap, size_t *key_len)
{
    (void)user;
    if (id_len != 7 || memcmp(id, "client1", 7) != 0 || cap < 16)
        return COAPS_E_PSK_IDENTITY;
    memcpy(key, psk, 16);
    *key_len = 16;
    return COAPS_OK;
}

/* Where the server's datagrams go: nowhere (fuzzing), or to the client of
 * the in-memory handshake and the generator. */
typedef void (*sink_fn)(void *user, const uint8_t *d, size_t len);

/* The server side: front door, the one connection, and what it read. */
struct server {
    coaps_dtls_config cfg;
    struct fuzz_rng rng;
    coaps_dtls_server front;
    coaps_dtls_conn conn;
    coaps_dtls_hs *hs;
    coaps_dtls_hs_base *base;
    coaps_peer peer;
    bool up;
    bool read_app; /* application data came out of the session */
    sink_fn sink;
    void *sink_user;
};

static void server_config(struct server *s, uint8_t flags, uint8_t cid_byte)
{
    static const uint16_t suites[] = {COAPS_DTLS_PSK_AES_128_CCM_8,
                                      COAPS_DTLS_PSK_AES_128_GCM_SHA256,
                                      COAPS_DTLS_PSK_CHACHA20_POLY1305_SHA256};
    coaps_dtls_config *cfg = &s->cfg;
    memset(cfg, 0, sizeof *cfg);
    s->rng.s = 0x1234567890abcdefull;
    cfg->role = COAPS_DTLS_SERVER;
    cfg->psk_lookup = fuzz_lookup;
    cfg->psk_hint = (const uint8_t *)"hint";
    cfg->psk_hint_len = 4;
    cfg->random = fuzz_random;
    cfg->random_user = &s->rng;
    cfg->suites = suites;
    cfg->suites_len = 3;
    cfg->mtu = 256;
    cfg->auth_fail_limit = 4;
    cfg->ticket_keys = fuzz_ticket_keys(); /* RFC 5077: tickets given and opened */
    if (flags & FLAG_CID) {
        cfg->cid = true;
        cfg->cid_len = cid_lens[cid_byte & 15];
    }
}

static void drain(struct server *s, uint64_t now)
{
    uint8_t out[FUZZ_DGRAM_MAX];
    size_t len;
    for (int i = 0; i < 64 && coaps_dtls_output(&s->conn, out, sizeof(out), &len, now) == COAPS_OK;
         i++)
        if (s->sink)
            s->sink(s->sink_user, out, len);
    const uint8_t *d;
    size_t dl;
    while (coaps_dtls_read(&s->conn, &d, &dl) == COAPS_OK)
        s->read_app = true;
}

/* A connection as the edge makes one: with a CID, the edge's own. */
static void server_conn_init(struct server *s, uint64_t now)
{
    CHECK((s->base ? coaps_dtls_conn_init_split(&s->conn, &s->cfg, s->base, NULL, &s->peer, now)
                   : coaps_dtls_conn_init(&s->conn, &s->cfg, s->hs, &s->peer, now)) == COAPS_OK);
    s->up = true;
    if (!s->cfg.cid)
        return;
    const uint8_t *own;
    CHECK(coaps_dtls_set_own_cid(&s->conn, edge_cid, s->cfg.cid_len) == COAPS_OK);
    CHECK(coaps_dtls_own_cid(&s->conn, &own) == s->cfg.cid_len &&
          memcmp(own, edge_cid, s->cfg.cid_len) == 0);
}

/* With a server CID, a datagram that starts with a tls12_cid record is
 * routed by its CID (src/net/dtls_server.c server_rx): to the session
 * that has it, else dropped. */
static bool routed_by_cid(struct server *s, const uint8_t *d, size_t len, bool *to_session)
{
    const uint8_t *cid;
    if (!s->cfg.cid || s->cfg.cid_len == 0 ||
        !coaps_dtls_datagram_cid(d, len, s->cfg.cid_len, &cid))
        return false;
    CHECK(d[0] == 25 && cid == d + 11 && len >= 13u + s->cfg.cid_len);
    const uint8_t *own;
    *to_session = s->up && coaps_dtls_own_cid(&s->conn, &own) == s->cfg.cid_len &&
                  memcmp(own, cid, s->cfg.cid_len) == 0;
    return true;
}

/* One datagram into the server side (dgram is decrypted in place). */
static void server_feed(struct server *s, uint8_t *dgram, size_t len, uint64_t now)
{
    bool to_session = s->up;
    if (routed_by_cid(s, dgram, len, &to_session) && !to_session)
        return; /* unknown CID: counted and dropped by the edge */
    if (s->up) {
        (void)coaps_dtls_tick(&s->conn, now);
        (void)coaps_dtls_input(&s->conn, dgram, len, now);
        (void)coaps_dtls_input_newest(&s->conn);
        drain(s, now);
        return;
    }
    uint8_t out[512];
    size_t out_len;
    enum coaps_dtls_accept v;
    if (coaps_dtls_server_accept(&s->front, &s->peer, dgram, len, now, out, sizeof(out), &out_len,
                                 &v) != COAPS_OK)
        return;
    if (v == COAPS_DTLS_ACCEPT_SEND && s->sink)
        s->sink(s->sink_user, out, out_len);
    if (v == COAPS_DTLS_ACCEPT_NEW) {
        server_conn_init(s, now);
        (void)coaps_dtls_input(&s->conn, dgram, len, now);
        drain(s, now);
    }
}

/* ---- our client, in memory ------------------------------------------------ */

struct client {
    coaps_dtls_conn conn;
    coaps_dtls_hs *hs;
    struct fuzz_rng rng;
};

static void client_init(struct client *c, const struct server *s, uint8_t flags,
                        uint8_t cid_byte, struct fuzz_rng *rng, uint64_t now)
{
    static coaps_dtls_config ccfg;
    memset(&ccfg, 0, sizeof ccfg);
    ccfg.role = COAPS_DTLS_CLIENT;
    ccfg.psk_identity = (const uint8_t *)"client1";
    ccfg.psk_identity_len = 7;
    ccfg.psk_key = psk;
    ccfg.psk_key_len = sizeof(psk);
    ccfg.random = fuzz_random;
    ccfg.random_user = rng;
    ccfg.tickets = true; /* the session then lingers for its ticket flight */
    if (flags & FLAG_CID) {
        ccfg.cid = true;
        ccfg.cid_len = cid_lens[cid_byte >> 4];
    }
    c->hs = malloc(sizeof(*c->hs));
    CHECK(c->hs && coaps_dtls_conn_init(&c->conn, &ccfg, c->hs, &s->peer, now) == COAPS_OK);
}

static void to_client(void *user, const uint8_t *d, size_t len)
{
    struct client *c = user;
    uint8_t buf[FUZZ_DGRAM_MAX];
    memcpy(buf, d, len);
    (void)coaps_dtls_input(&c->conn, buf, len, 1000);
}

/* Optional record of what the client sent, as this harness's input. */
struct tape {
    uint8_t b[16384];
    size_t len;
};

static void tape_put(struct tape *t, const uint8_t *d, size_t len)
{
    if (t == NULL)
        return;
    CHECK(t->len + 3 + len <= sizeof t->b);
    t->b[t->len++] = (uint8_t)(len >> 8);
    t->b[t->len++] = (uint8_t)len;
    t->b[t->len++] = 0; /* no clock step */
    memcpy(t->b + t->len, d, len);
    t->len += len;
}

/* Pump datagrams from the client to the server side until the client has
 * nothing more to say (bounded: a handshake is 4 flights). */
static void pump(struct client *c, struct server *s, struct tape *t, uint64_t now)
{
    uint8_t buf[FUZZ_DGRAM_MAX];
    size_t len;
    for (int round = 0; round < 16; round++)
        while (coaps_dtls_output(&c->conn, buf, sizeof(buf), &len, now) == COAPS_OK) {
            tape_put(t, buf, len);
            server_feed(s, buf, len, now);
        }
}

/* The in-memory client sends application data over the session; with a
 * CID negotiated its record carries the server's CID, and the server's
 * answer the client's (none when the client asked for a zero-length one). */
static void client_talks(struct client *c, struct server *s, struct tape *t, uint64_t now)
{
    uint8_t rec[FUZZ_DGRAM_MAX];
    size_t len;
    CHECK(coaps_dtls_write(&c->conn, app_msg, sizeof app_msg, rec, sizeof rec, &len) == COAPS_OK);
    const uint8_t *cid;
    size_t sv_len = coaps_dtls_own_cid(&s->conn, &cid);
    bool with_cid = coaps_dtls_cid_negotiated(&c->conn) && sv_len > 0;
    CHECK(rec[0] == (with_cid ? 25 : 23));
    CHECK(!with_cid || memcmp(rec + 11, cid, sv_len) == 0);
    tape_put(t, rec, len);
    s->read_app = false;
    server_feed(s, rec, len, now);
    CHECK(s->read_app && coaps_dtls_input_newest(&s->conn));
    CHECK(coaps_dtls_write(&s->conn, app_msg, sizeof app_msg, rec, sizeof rec, &len) == COAPS_OK);
    size_t cl_len = coaps_dtls_own_cid(&c->conn, &cid);
    CHECK(rec[0] == (coaps_dtls_cid_negotiated(&s->conn) && cl_len > 0 ? 25 : 23));
    to_client(c, rec, len);
    const uint8_t *d;
    CHECK(coaps_dtls_read(&c->conn, &d, &len) == COAPS_OK && len == sizeof app_msg);
}

/* A complete handshake between a real client and the server; an
 * established handshake between our own ends must work, and with both
 * asking for a CID, negotiate it. */
static void establish(struct server *s, uint8_t flags, uint8_t cid_byte, struct fuzz_rng *crng,
                      struct tape *t, uint64_t now)
{
    struct client c;
    client_init(&c, s, flags, cid_byte, crng, now);
    s->sink = to_client;
    s->sink_user = &c;
    pump(&c, s, t, now);
    CHECK(s->up && coaps_dtls_state(&s->conn) == COAPS_DTLS_ESTABLISHED &&
          coaps_dtls_state(&c.conn) == COAPS_DTLS_ESTABLISHED);
    bool cid = (flags & FLAG_CID) != 0;
    CHECK(coaps_dtls_cid_negotiated(&s->conn) == cid &&
          coaps_dtls_cid_negotiated(&c.conn) == cid);
    if (cid)
        client_talks(&c, s, t, now);
    if (t != NULL) { /* the generator: the client says goodbye */
        CHECK(coaps_dtls_close(&c.conn) == COAPS_OK);
        pump(&c, s, t, now);
    }
    s->sink = NULL;
    coaps_dtls_conn_clear(&c.conn);
    free(c.hs);
}

static void server_start(struct server *s, uint8_t flags, uint8_t cid_byte, uint64_t now)
{
    server_config(s, flags, cid_byte);
    s->peer = (coaps_peer){{127, 0, 0, 1}, 4, COAPS_TRANSPORT_DTLS};
    CHECK(coaps_dtls_server_init(&s->front, &s->cfg, now) == COAPS_OK);
    s->hs = malloc(sizeof(*s->hs));
    /* bit 2: a PSK-only server context, the 2 KiB base alone in its own
     * allocation (ASan sees any use past it), no certificate area */
    s->base = (flags & FLAG_BASE) ? malloc(sizeof(*s->base)) : NULL;
    CHECK(s->hs && (s->base || !(flags & FLAG_BASE)));
}

static void server_stop(struct server *s, uint64_t now)
{
    if (s->up) {
        (void)coaps_dtls_tick(&s->conn, now + 200000);
        drain(s, now + 200000);
        coaps_dtls_conn_clear(&s->conn);
    }
    coaps_dtls_server_clear(&s->front);
    free(s->hs);
    free(s->base);
}

/* What the last run reached (the generator checks its seeds with it). */
static struct {
    bool established, read_app;
} last;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t flags = data[0];
    size_t off = 1;
    uint8_t cid_byte = 0;
    if (flags & FLAG_CID) {
        if (size < 2)
            return 0;
        cid_byte = data[off++];
    }
    uint64_t now = 1000;
    static struct server sv;
    struct server *s = &sv;
    memset(s, 0, sizeof *s);
    server_start(s, flags, cid_byte, now);
    if (flags & FLAG_ESTABLISH) {
        /* (the client shares the server's random source, as it always did) */
        establish(s, flags, cid_byte, &s->rng, NULL, now);
    } else if (flags & FLAG_DIRECT) {
        server_conn_init(s, now);
    }

    uint8_t dgram[FUZZ_DGRAM_MAX];
    while (off + 3 <= size) {
        size_t len = (size_t)data[off] << 8 | data[off + 1];
        now += (uint64_t)data[off + 2] * 100;
        off += 3;
        if (len > size - off)
            len = size - off;
        size_t use = len < sizeof(dgram) ? len : sizeof(dgram);
        memcpy(dgram, data + off, use); /* the engine decrypts in place */
        off += len;
        server_feed(s, dgram, use, now);
    }
    last.established = s->up && coaps_dtls_state(&s->conn) >= COAPS_DTLS_ESTABLISHED &&
                        coaps_dtls_cid_negotiated(&s->conn);
    last.read_app = s->read_app;
    server_stop(s, now);
    return 0;
}

/* ---- FUZZ_SERVER_GEN: seeds recorded off our client with CID ------------- */

static void gen_one(const char *dir, const char *name, uint8_t flags, uint8_t cid_byte)
{
    static struct tape t;
    static struct server s;
    t.len = 0;
    t.b[t.len++] = (uint8_t)(flags & ~FLAG_ESTABLISH);
    t.b[t.len++] = cid_byte;
    memset(&s, 0, sizeof s);
    server_start(&s, flags, cid_byte, 1000);
    if (flags & FLAG_DIRECT)
        server_conn_init(&s, 1000);
    /* the client's own random source: the replay has no client */
    struct fuzz_rng crng = {0x0badc0ffee15deadull};
    establish(&s, flags, cid_byte, &crng, &t, 1000);
    server_stop(&s, 1000);

    LLVMFuzzerTestOneInput(t.b, t.len);
    fprintf(stderr, "%s: %zu bytes, replayed: session with CID %d, application data %d\n", name,
            t.len, (int)last.established, (int)last.read_app);
    CHECK(last.established && last.read_app);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL && fwrite(t.b, 1, t.len, f) == t.len && fclose(f) == 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *dir = getenv("FUZZ_SERVER_GEN");
    if (dir == NULL)
        return 0;
    /* byte 1: low nibble the server's CID length, high nibble the client's */
    gen_one(dir, "cid-front-door-s8-c0", FLAG_CID, 0x08);
    gen_one(dir, "cid-front-door-s4-c8", FLAG_CID, 0x84);
    gen_one(dir, "cid-front-door-s0-c16", FLAG_CID, 0xf0);
    gen_one(dir, "cid-direct-s16-c1", FLAG_CID | FLAG_DIRECT, 0x1f);
    gen_one(dir, "cid-direct-base-s1-c5", FLAG_CID | FLAG_DIRECT | FLAG_BASE, 0x51);
    exit(0);
}
