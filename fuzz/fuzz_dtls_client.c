/*
 * fuzz_dtls_client.c - the client side of our DTLS engine alone: one
 * client connection (PSK, or ECDHE_ECDSA with the certificates of
 * tests/crypto/certs) fed server datagrams from the input, with a fake
 * clock, so that every client state meets arbitrary bytes: the cookie
 * exchange, ServerHello, ServerKeyExchange, Certificate, CertificateRequest,
 * ServerHelloDone, ChangeCipherSpec, Finished, and the established session.
 *
 * The fuzzer cannot make a valid Finished or an epoch-1 record, so the seeds
 * in fuzz/corpus/dtls_client/ are real handshakes: the client's randomness
 * is a fixed xorshift (fuzz_rng.h) and the generator mode of this file runs
 * our server engine against the same client in memory and records what the
 * server sent, so replaying a seed takes the client to ESTABLISHED and the
 * fuzzer mutates from there. Generate them with
 *   FUZZ_CLIENT_GEN=fuzz/corpus/dtls_client build/.../fuzz_dtls_client -runs=0
 * (docs/fuzzing.md). ECDHE key pairs are made from a fixed scalar (the
 * link wraps crypto_kx_generate), so an ECDHE_ECDSA seed replays to the end
 * too, except with a client certificate: its CertificateVerify signature
 * (random ECDSA) differs each time, and the server's Finished with it.
 *
 * Input: byte 0 = flags (F_* below), then chunks of
 *   u8 ctl, u16 length (big-endian), datagram bytes
 * ctl bits 0-5: clock advance before the datagram, in 100 ms steps; bit 6:
 * first jump to the client's next deadline (a retransmission or the
 * handshake timeout); bit 7: after the datagram the client writes one
 * application record, or, for an empty chunk (length 0), closes.
 * Every datagram the client sends is taken and checked.
 *
 * Invariants (abort on violation), besides the sanitizers:
 *   - every datagram the client sends fits its MTU and is a sequence of
 *     whole records of types 20-23 at epoch 0 or 1, application data only
 *     where the client wrote it;
 *   - the state never goes back: ESTABLISHED never returns to
 *     HANDSHAKING, CLOSED and FAILED are final;
 *   - once the handshake has ended the engine no longer touches the
 *     handshake context (ASan poisons it);
 *   - with the wrong credentials (F_WRONG) the client is never established;
 *   - a PSK client is established only with the keys of an honest
 *     handshake with our server (coaps_dtls_key_digest; honest_keys);
 *   - application data read is a record our server wrote (the body names
 *     its sequence number and can be checked), each read at most once;
 *   - an established client can write, a handshaking one cannot.
 * FUZZ_CLIENT_TRACE=1 prints how each run ended.
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

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#define CL_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define CL_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#endif
#endif
#ifndef CL_POISON
#define CL_POISON(p, n) ((void)(p), (void)(n))
#define CL_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define CL_DGRAM_MAX 2048 /* larger chunks are cut: datagrams are small */
#define CL_CHUNKS 256     /* chunks read from one input */
#define CL_DRAIN 64       /* datagrams taken from the client per turn */

/* flags, byte 0 of the input */
enum {
    F_MUTUAL = 1,      /* PKI: the client has a certificate (else CA only) */
    F_SHORT = 2,       /* short timers: 3 retransmissions, 8 s handshake */
    F_PKI = 4,         /* ECDHE_ECDSA suites instead of PSK */
    F_MTU256 = 8,      /* MTU 256 */
    F_SPLIT = 16,      /* PSK: the 2 KiB base context alone, own allocation */
    F_FAIL_LIMIT = 32, /* auth_fail_limit 2 */
    F_WRONG = 64,      /* PSK: wrong key; PKI: a name the certificate lacks */
    F_CALLBACK = 128,  /* PSK: identity and key from psk_client, seeing the hint */
};

/* chunk control byte */
enum { CTL_CLOCK = 63, CTL_WAIT = 64, CTL_ACT = 128 };

/* The four suites of each kind, in the order the client offers them; the
 * server of a seed picks one. */
static const uint16_t psk_suites[] = {
    COAPS_DTLS_PSK_AES_128_CCM_8, COAPS_DTLS_PSK_AES_128_GCM_SHA256,
    COAPS_DTLS_PSK_CHACHA20_POLY1305_SHA256, COAPS_DTLS_PSK_AES_128_CCM};
static const uint16_t pki_suites[] = {
    COAPS_DTLS_ECDHE_ECDSA_AES_128_CCM_8, COAPS_DTLS_ECDHE_ECDSA_AES_128_GCM_SHA256,
    COAPS_DTLS_ECDHE_ECDSA_CHACHA20_POLY1305_SHA256, COAPS_DTLS_ECDHE_ECDSA_AES_128_CCM};
#define N_SUITES 4

/* ---- credentials ------------------------------------------------------------- */

static const uint8_t psk_right[16] = "secretPSK-123456";
static const uint8_t psk_wrong[16] = "secretPSK-654321";

/* client CA only, client with certificate, server, server requiring a
 * client certificate */
enum { PKI_CLIENT, PKI_CLIENT_CERT, PKI_SERVER, PKI_SERVER_MUTUAL, PKI_N };
static coaps_dtls_pki *pkis[PKI_N];

static const coaps_dtls_pki *pki(int which)
{
    static const struct fuzz_pki_spec specs[PKI_N] = {
        {.ca = "ca.pem"},
        {.cert = "client.pem", .key = "client.key", .ca = "ca.pem"},
        {.cert = "server.pem", .key = "server.key"},
        {.cert = "server.pem", .key = "server.key", .ca = "ca.pem", .require_client_cert = true},
    };
    if (!pkis[which])
        pkis[which] = fuzz_pki_load(&specs[which]);
    return pkis[which];
}

/* The client's callback: identity "client1" and the key user points to
 * (right or wrong) whatever the hint, except a hint longer than 64 bytes,
 * which it refuses (internal_error). */
static coaps_status psk_client(void *user, const uint8_t *hint, size_t hint_len, uint8_t *id,
                               size_t id_cap, size_t *id_len, uint8_t *key, size_t key_cap,
                               size_t *key_len)
{
    (void)hint;
    if (hint_len > 64 || id_cap < 7 || key_cap < sizeof psk_right)
        return COAPS_E_PSK_IDENTITY;
    memcpy(id, "client1", 7);
    *id_len = 7;
    memcpy(key, user, sizeof psk_right);
    *key_len = sizeof psk_right;
    return COAPS_OK;
}

/* The session the client completes (RFC 5077: with the server's ticket):
 * its fields are in bounds. */
static void client_store(void *user, const coaps_dtls_session *s)
{
    (void)user;
    CHECK(s->version == COAPS_DTLS_SESSION_VERSION && s->id_len <= COAPS_DTLS_SESSION_ID_MAX &&
          s->ticket_len <= COAPS_DTLS_TICKET_MAX && (s->id_len > 0 || s->ticket_len > 0));
}

static void configure_client(coaps_dtls_config *c, uint8_t flags, struct fuzz_rng *rng)
{
    memset(c, 0, sizeof *c);
    c->role = COAPS_DTLS_CLIENT;
    c->tickets = true; /* asks for a ticket: NewSessionTicket in every seed */
    c->session_store = client_store;
    c->random = fuzz_random;
    c->random_user = rng;
    c->suites = (flags & F_PKI) ? pki_suites : psk_suites;
    c->suites_len = N_SUITES;
    if (flags & F_MTU256)
        c->mtu = 256;
    if (flags & F_SHORT) {
        c->max_retransmits = 3;
        c->handshake_timeout_ms = 8000;
    }
    if (flags & F_FAIL_LIMIT)
        c->auth_fail_limit = 2;
    if (flags & F_PKI) {
        c->pki = pki((flags & F_MUTUAL) ? PKI_CLIENT_CERT : PKI_CLIENT);
        c->server_name = (flags & F_WRONG) ? "wrong.example" : "localhost";
    } else if (flags & F_CALLBACK) {
        c->psk_client = psk_client;
        c->psk_user = (void *)((flags & F_WRONG) ? psk_wrong : psk_right);
    } else {
        c->psk_identity = (const uint8_t *)"client1";
        c->psk_identity_len = 7;
        c->psk_key = (flags & F_WRONG) ? psk_wrong : psk_right;
        c->psk_key_len = sizeof psk_right;
    }
}

/* ECDHE key pairs from a fixed scalar, for the client and the generator's
 * server alike (the link wraps the engine's calls: cmake/CoapsTests.cmake),
 * so that the client's ClientKeyExchange, and with it the keys, are the
 * same in the generator and in every replay. Only the key pair is fixed;
 * the peer's public value is still checked by the crypto library. */
coaps_status __wrap_crypto_kx_generate(struct crypto_kx *kx, enum crypto_kx_group group,
                                       uint8_t pub[CRYPTO_KX_PUBLIC_MAX], size_t *pub_len);

coaps_status __wrap_crypto_kx_generate(struct crypto_kx *kx, enum crypto_kx_group group,
                                       uint8_t pub[CRYPTO_KX_PUBLIC_MAX], size_t *pub_len)
{
    uint8_t priv[32];
    for (size_t i = 0; i < sizeof priv; i++)
        priv[i] = (uint8_t)(0x11 + i); /* below the P-256 order */
    return crypto_kx_import_private(kx, group, priv, sizeof priv, pub, pub_len);
}

/* ---- one client run: shared by the fuzzer and the generator ---------------- */

struct run {
    coaps_dtls_config cfg;
    struct fuzz_rng rng;
    coaps_dtls_conn cl;
    coaps_dtls_hs *hs;         /* full context (PKI, or PSK without F_SPLIT) */
    coaps_dtls_hs_base *base;  /* F_SPLIT */
    bool poisoned;
    uint64_t now;
    uint8_t flags;
    enum coaps_dtls_state st; /* the last state seen */
    bool generating;          /* the generator drives: no digest check */
    unsigned writes;
    uint8_t app_seen[65536 / 8]; /* server record numbers read */
    /* where the client's datagrams go (the generator's server); NULL: away */
    void (*sink)(void *user, const uint8_t *b, size_t len);
    void *sink_user;
};

static bool honest_keys(uint16_t suite, const uint8_t got[32]);

/* A datagram of ours: within the MTU, whole records of known types;
 * application data only from coaps_dtls_write (app), never in what
 * coaps_dtls_output sends (handshake flights, alerts). */
static void check_sent(const struct run *r, const uint8_t *b, size_t len, bool app)
{
    size_t mtu = r->cfg.mtu ? r->cfg.mtu : COAPS_DTLS_MTU_DEFAULT;
    CHECK(len > 0 && len <= mtu);
    for (size_t at = 0; at < len;) {
        CHECK(at + 13 <= len);
        CHECK(b[at] >= 20 && b[at] <= (app ? 23 : 22));
        CHECK(b[at + 1] == 0xfe && (b[at + 2] == 0xfd || b[at + 2] == 0xff));
        CHECK(b[at + 3] == 0 && b[at + 4] <= 1);
        at += 13 + ((size_t)b[at + 11] << 8 | b[at + 12]);
        CHECK(at <= len);
    }
}

/* Application data from our server: 'S', the low 16 bits of the record's
 * sequence number, a fill length and a fill made from both (gen_sv_write).
 * Read at most once: the replay window. */
static void check_read(struct run *r, const uint8_t *d, size_t len)
{
    CHECK(len >= 4 && d[0] == 'S' && len == 4 + (size_t)d[3]);
    unsigned n = (unsigned)d[1] << 8 | d[2];
    for (size_t i = 0; i < d[3]; i++)
        CHECK(d[4 + i] == (uint8_t)(n * 7 + i));
    CHECK(!(r->app_seen[n / 8] & (1u << (n % 8))));
    r->app_seen[n / 8] |= (uint8_t)(1u << (n % 8));
}

static void check_state(struct run *r)
{
    enum coaps_dtls_state st = coaps_dtls_state(&r->cl);
    if (r->st == COAPS_DTLS_CLOSED || r->st == COAPS_DTLS_FAILED)
        CHECK(st == r->st);
    if (r->st == COAPS_DTLS_ESTABLISHED)
        CHECK(st != COAPS_DTLS_HANDSHAKING);
    if (st != COAPS_DTLS_HANDSHAKING)
        CHECK(coaps_dtls_hs_released(&r->cl));
    if (st == COAPS_DTLS_ESTABLISHED && r->st != COAPS_DTLS_ESTABLISHED) {
        CHECK(!(r->flags & F_WRONG));
        uint8_t got[32];
        CHECK(coaps_dtls_key_digest(&r->cl, got) == COAPS_OK);
        if (!(r->flags & F_PKI) && !r->generating)
            CHECK(honest_keys(coaps_dtls_suite(&r->cl), got));
    }
    /* released: from now on any touch of the context is a use after free */
    if (coaps_dtls_hs_released(&r->cl) && !r->poisoned) {
        if (r->hs)
            CL_POISON(r->hs, sizeof *r->hs);
        if (r->base)
            CL_POISON(r->base, sizeof *r->base);
        r->poisoned = true;
    }
    r->st = st;
}

/* Take what the client has to send and what it read. */
static void drain(struct run *r)
{
    uint8_t buf[CL_DGRAM_MAX];
    size_t len;
    for (int i = 0;
         i < CL_DRAIN && coaps_dtls_output(&r->cl, buf, sizeof buf, &len, r->now) == COAPS_OK;
         i++) {
        check_sent(r, buf, len, false);
        if (r->sink)
            r->sink(r->sink_user, buf, len);
    }
    const uint8_t *d;
    for (int i = 0; i < CL_DRAIN && coaps_dtls_read(&r->cl, &d, &len) == COAPS_OK; i++)
        check_read(r, d, len);
    check_state(r);
}

static void client_write(struct run *r)
{
    uint8_t msg[8] = {'C', (uint8_t)r->writes}, rec[CL_DGRAM_MAX];
    size_t len = 0;
    coaps_status st = coaps_dtls_write(&r->cl, msg, sizeof msg, rec, sizeof rec, &len);
    if (coaps_dtls_state(&r->cl) != COAPS_DTLS_ESTABLISHED) {
        CHECK(st != COAPS_OK);
        return;
    }
    CHECK(st == COAPS_OK);
    r->writes++;
    check_sent(r, rec, len, true);
    if (r->sink)
        r->sink(r->sink_user, rec, len);
}

static void run_start(struct run *r, uint8_t flags)
{
    memset(r, 0, sizeof *r);
    r->flags = flags;
    r->rng.s = 0x1234567890abcdefull;
    r->now = 1000;
    configure_client(&r->cfg, flags, &r->rng);
    coaps_peer peer = {{127, 0, 0, 1}, 4, COAPS_TRANSPORT_DTLS};
    if ((flags & F_SPLIT) && !(flags & F_PKI)) {
        r->base = malloc(sizeof *r->base);
        CHECK(r->base);
        CHECK(coaps_dtls_conn_init_split(&r->cl, &r->cfg, r->base, NULL, &peer, r->now) ==
              COAPS_OK);
    } else {
        r->hs = malloc(sizeof *r->hs);
        CHECK(r->hs);
        CHECK(coaps_dtls_conn_init(&r->cl, &r->cfg, r->hs, &peer, r->now) == COAPS_OK);
    }
}

/* One chunk: time, then the datagram, then the client's own act. */
static void run_chunk(struct run *r, uint8_t ctl, const uint8_t *b, size_t len)
{
    if (ctl & CTL_WAIT) {
        uint64_t d = coaps_dtls_next_deadline(&r->cl);
        if (d != UINT64_MAX && d > r->now)
            r->now = d;
    }
    r->now += (uint64_t)(ctl & CTL_CLOCK) * 100;
    (void)coaps_dtls_tick(&r->cl, r->now);
    drain(r);
    if (len) {
        uint8_t buf[CL_DGRAM_MAX];
        memcpy(buf, b, len); /* decrypted in place */
        (void)coaps_dtls_input(&r->cl, buf, len, r->now);
        drain(r);
    }
    if (ctl & CTL_ACT) {
        if (len)
            client_write(r);
        else
            (void)coaps_dtls_close(&r->cl);
        drain(r);
    }
}

static void run_end(struct run *r)
{
    if (coaps_dtls_state(&r->cl) == COAPS_DTLS_ESTABLISHED)
        client_write(r);
    char why[128];
    (void)coaps_dtls_error_str(&r->cl, why, sizeof why);
    coaps_dtls_conn_clear(&r->cl);
    if (r->hs) {
        CL_UNPOISON(r->hs, sizeof *r->hs);
        free(r->hs);
    }
    if (r->base) {
        CL_UNPOISON(r->base, sizeof *r->base);
        free(r->base);
    }
}

/* ---- the generator: our server against the same client, recorded ----------- */

#define GEN_QUEUE 64
#define GEN_SEED_MAX 16384

struct gen_dgram {
    uint8_t b[CL_DGRAM_MAX];
    size_t len;
};

struct gen {
    struct run r;
    coaps_dtls_config scfg;
    struct fuzz_rng srng;
    coaps_dtls_server front;
    coaps_dtls_conn sv;
    coaps_dtls_hs *shs;
    bool sv_up;
    uint16_t sv_suite;
    struct gen_dgram q[GEN_QUEUE]; /* server -> client, not yet delivered */
    size_t qn;
    uint8_t seed[GEN_SEED_MAX]; /* the input that replays this run */
    size_t seed_len;
};

static coaps_status gen_lookup(void *user, const uint8_t *id, size_t id_len, uint8_t *key,
                               size_t cap, size_t *key_len)
{
    (void)user;
    if (id_len != 7 || memcmp(id, "client1", 7) != 0 || cap < sizeof psk_right)
        return COAPS_E_PSK_IDENTITY;
    memcpy(key, psk_right, sizeof psk_right);
    *key_len = sizeof psk_right;
    return COAPS_OK;
}

static void gen_push(struct gen *g, const uint8_t *b, size_t len)
{
    CHECK(g->qn < GEN_QUEUE && len <= CL_DGRAM_MAX);
    memcpy(g->q[g->qn].b, b, len);
    g->q[g->qn++].len = len;
}

static void gen_collect(struct gen *g)
{
    uint8_t buf[CL_DGRAM_MAX];
    size_t len;
    if (!g->sv_up)
        return;
    while (coaps_dtls_output(&g->sv, buf, sizeof buf, &len, g->r.now) == COAPS_OK)
        gen_push(g, buf, len);
    const uint8_t *d;
    while (coaps_dtls_read(&g->sv, &d, &len) == COAPS_OK) {
    }
}

/* The client's datagram reaches the server: front door, then connection. */
static void gen_to_server(void *user, const uint8_t *b, size_t len)
{
    struct gen *g = user;
    uint8_t buf[CL_DGRAM_MAX], out[512];
    memcpy(buf, b, len);
    coaps_peer peer = {{127, 0, 0, 2}, 4, COAPS_TRANSPORT_DTLS};
    if (g->sv_up) {
        (void)coaps_dtls_input(&g->sv, buf, len, g->r.now);
        gen_collect(g);
        return;
    }
    size_t out_len = 0;
    enum coaps_dtls_accept v;
    if (coaps_dtls_server_accept(&g->front, &peer, buf, len, g->r.now, out, sizeof out,
                                 &out_len, &v) != COAPS_OK)
        return;
    if (v == COAPS_DTLS_ACCEPT_SEND) {
        gen_push(g, out, out_len);
    } else if (v == COAPS_DTLS_ACCEPT_NEW) {
        CHECK(coaps_dtls_conn_init(&g->sv, &g->scfg, g->shs, &peer, g->r.now) == COAPS_OK);
        g->sv_up = true;
        (void)coaps_dtls_input(&g->sv, buf, len, g->r.now);
        gen_collect(g);
    }
}

/* Server options of a seed beyond the client's flags. */
enum { SV_X25519 = 1, SV_NO_HINT = 2, SV_MUTUAL = 4 /* requires a client certificate */ };

static void gen_start(struct gen *g, uint8_t flags, int suite_idx, unsigned sv_opts)
{
    static const uint16_t x25519[] = {COAPS_DTLS_GROUP_X25519};
    memset(g, 0, sizeof *g);
    run_start(&g->r, flags);
    g->r.generating = true;
    g->r.sink = gen_to_server;
    g->r.sink_user = g;
    g->srng.s = 0x0fedcba987654321ull;
    coaps_dtls_config *s = &g->scfg;
    s->role = COAPS_DTLS_SERVER;
    s->ticket_keys = fuzz_ticket_keys(); /* seeds carry NewSessionTicket */
    s->random = fuzz_random;
    s->random_user = &g->srng;
    g->sv_suite = ((flags & F_PKI) ? pki_suites : psk_suites)[suite_idx];
    s->suites = &g->sv_suite;
    s->suites_len = 1;
    if (flags & F_MTU256)
        s->mtu = 256;
    if (flags & F_PKI) {
        s->pki = pki((sv_opts & SV_MUTUAL) ? PKI_SERVER_MUTUAL : PKI_SERVER);
        if (sv_opts & SV_X25519) {
            s->groups = x25519;
            s->groups_len = 1;
        }
    } else {
        s->psk_lookup = gen_lookup;
        if (!(sv_opts & SV_NO_HINT)) {
            s->psk_hint = (const uint8_t *)"hint";
            s->psk_hint_len = 4;
        }
    }
    g->shs = malloc(sizeof *g->shs);
    CHECK(g->shs);
    CHECK(coaps_dtls_server_init(&g->front, s, g->r.now) == COAPS_OK);
    g->seed[0] = flags;
    g->seed_len = 1;
    drain(&g->r); /* the first ClientHello */
}

static void gen_end(struct gen *g)
{
    run_end(&g->r);
    if (g->sv_up)
        coaps_dtls_conn_clear(&g->sv);
    coaps_dtls_server_clear(&g->front);
    free(g->shs);
}

/* A chunk recorded and played to the client; the server's clock follows. */
static void gen_chunk(struct gen *g, uint8_t ctl, const uint8_t *b, size_t len)
{
    CHECK(g->seed_len + 3 + len <= sizeof g->seed);
    uint8_t *p = g->seed + g->seed_len;
    p[0] = ctl;
    p[1] = (uint8_t)(len >> 8);
    p[2] = (uint8_t)len;
    if (len)
        memcpy(p + 3, b, len);
    g->seed_len += 3 + len;
    run_chunk(&g->r, ctl, b, len);
    if (g->sv_up) {
        (void)coaps_dtls_tick(&g->sv, g->r.now);
        gen_collect(g);
    }
}

static void gen_pop(struct gen *g, struct gen_dgram *d)
{
    *d = g->q[0];
    memmove(&g->q[0], &g->q[1], (g->qn - 1) * sizeof g->q[0]);
    g->qn--;
}

/* Deliver the next server datagram (ctl: time before, write after). */
static bool gen_pass(struct gen *g, uint8_t ctl)
{
    static struct gen_dgram d;
    if (!g->qn)
        return false;
    gen_pop(g, &d);
    gen_chunk(g, ctl, d.b, d.len);
    return true;
}

static void gen_drop(struct gen *g)
{
    static struct gen_dgram d;
    if (g->qn)
        gen_pop(g, &d);
}

static void gen_pass_all(struct gen *g)
{
    for (int i = 0; i < 256 && gen_pass(g, 0); i++) {
    }
}

/* Until the client rests: deliver, and wait for timers when nothing is in
 * flight. */
static void gen_settle(struct gen *g)
{
    for (int round = 0; round < 16; round++) {
        gen_pass_all(g);
        if (coaps_dtls_state(&g->r.cl) != COAPS_DTLS_HANDSHAKING)
            return;
        gen_chunk(g, CTL_WAIT, NULL, 0);
    }
}

static bool gen_established(const struct gen *g)
{
    return coaps_dtls_state(&g->r.cl) == COAPS_DTLS_ESTABLISHED && g->sv_up &&
           coaps_dtls_state(&g->sv) == COAPS_DTLS_ESTABLISHED;
}

/* The server's application record, numbered by its sequence number. */
static void gen_sv_body(struct gen *g, uint8_t fill, uint8_t *msg, size_t *len)
{
    unsigned n = (unsigned)conn_of(&g->sv)->wr.next_seq;
    msg[0] = 'S';
    msg[1] = (uint8_t)(n >> 8);
    msg[2] = (uint8_t)n;
    msg[3] = fill;
    for (size_t i = 0; i < fill; i++)
        msg[4 + i] = (uint8_t)(n * 7 + i);
    *len = 4 + (size_t)fill;
}

static void gen_sv_write(struct gen *g, uint8_t fill)
{
    uint8_t msg[4 + 255], rec[CL_DGRAM_MAX];
    size_t len, out_len;
    gen_sv_body(g, fill, msg, &len);
    CHECK(coaps_dtls_write(&g->sv, msg, len, rec, sizeof rec, &out_len) == COAPS_OK);
    gen_push(g, rec, out_len);
}

/* Several of the server's records in one datagram. */
static void gen_sv_write_many(struct gen *g, int n)
{
    uint8_t msg[4 + 16], rec[CL_DGRAM_MAX];
    struct wire_wr w = wire_wr_init(rec, sizeof rec);
    for (int i = 0; i < n; i++) {
        size_t len;
        gen_sv_body(g, (uint8_t)(3 * i), msg, &len);
        CHECK(conn_write_record(conn_of(&g->sv), &w, 23, 1, msg, len) == COAPS_OK);
    }
    gen_push(g, rec, w.off);
}

/* The server sealing a record of any type under its epoch-1 keys: what a
 * misbehaving server can send (HelloRequest, a second Finished, ...). */
static void gen_sv_seal(struct gen *g, uint8_t type, const uint8_t *body, size_t len)
{
    uint8_t rec[CL_DGRAM_MAX];
    struct wire_wr w = wire_wr_init(rec, sizeof rec);
    CHECK(conn_write_record(conn_of(&g->sv), &w, type, 1, body, len) == COAPS_OK);
    gen_push(g, rec, w.off);
}

/* A record in the clear, as anyone on the path can send it. */
static void gen_plain(struct gen *g, uint8_t type, uint16_t epoch, uint16_t seq,
                      const uint8_t *body, size_t len)
{
    uint8_t rec[CL_DGRAM_MAX] = {type, 0xfe, 0xfd, (uint8_t)(epoch >> 8), (uint8_t)epoch,
                                 0,    0,    0,    0, (uint8_t)(seq >> 8), (uint8_t)seq,
                                 (uint8_t)(len >> 8), (uint8_t)len};
    memcpy(rec + 13, body, len);
    gen_push(g, rec, 13 + len);
}

/* ---- the seeds ------------------------------------------------------------ */

static const uint8_t hs_hello_request[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
static const uint8_t hs_finished[] = {20, 0, 0, 12, 0, 5, 0, 0, 0, 0, 0, 12,
                                      1,  2, 3, 4,  5, 6, 7, 8, 9, 10, 11, 12};
static const uint8_t alert_fatal[] = {2, 40};
static const uint8_t alert_warning[] = {1, 100};
static const uint8_t alert_close[] = {1, 0};
static const uint8_t ccs[] = {1};

/* After the handshake: data, then the server closes. */
static void sc_session(struct gen *g)
{
    gen_settle(g);
    CHECK(gen_established(g));
    gen_sv_write(g, 10);
    gen_pass(g, CTL_ACT); /* the client answers */
    gen_sv_write(g, 0);
    gen_sv_write(g, 40);
    gen_pass_all(g);
    (void)coaps_dtls_close(&g->sv);
    gen_collect(g);
    gen_pass_all(g);
}

static void sc_handshake(struct gen *g)
{
    gen_settle(g);
}

/* The client closes in the session. */
static void sc_client_close(struct gen *g)
{
    gen_settle(g);
    gen_sv_write(g, 5);
    gen_sv_write(g, 6);
    gen_pass(g, 0);
    gen_chunk(g, CTL_ACT, NULL, 0);
    gen_pass_all(g); /* too late: the client is closed */
}

/* The client closes while it waits for the ServerHello. */
static void sc_close_in_handshake(struct gen *g)
{
    gen_pass(g, 0); /* HelloVerifyRequest */
    gen_chunk(g, CTL_ACT, NULL, 0);
    gen_pass_all(g);
}

/* The HelloVerifyRequest is lost: the client resends its ClientHello. */
static void sc_lost_hvr(struct gen *g)
{
    gen_drop(g);
    gen_chunk(g, CTL_WAIT, NULL, 0);
    sc_session(g);
}

/* The server's flight is lost once: the client resends its ClientHello,
 * the server its flight. */
static void sc_lost_server_flight(struct gen *g)
{
    gen_pass(g, 0); /* HelloVerifyRequest */
    while (g->qn)
        gen_drop(g);
    gen_chunk(g, CTL_WAIT, NULL, 0);
    sc_session(g);
}

/* The server's Finished flight is lost: the client resends its last flight. */
static void sc_lost_finished(struct gen *g)
{
    for (int i = 0; i < 16 && !g->sv_up; i++)
        gen_pass(g, 0);
    for (int i = 0; i < 16 && g->qn; i++) {
        if (coaps_dtls_state(&g->sv) == COAPS_DTLS_ESTABLISHED) {
            while (g->qn)
                gen_drop(g);
            break;
        }
        gen_pass(g, 0);
    }
    gen_chunk(g, CTL_WAIT, NULL, 0);
    sc_session(g);
}

/* Each server datagram twice. */
static void sc_duplicates(struct gen *g)
{
    for (int i = 0; i < 64 && g->qn; i++) {
        struct gen_dgram *d = &g->q[0];
        gen_chunk(g, 0, d->b, d->len);
        gen_pass(g, 0);
    }
    sc_session(g);
}

/* Each flight of the server delivered last datagram first. */
static void sc_reversed(struct gen *g)
{
    for (int round = 0; round < 8 && coaps_dtls_state(&g->r.cl) == COAPS_DTLS_HANDSHAKING;
         round++) {
        while (g->qn) {
            static struct gen_dgram d;
            d = g->q[--g->qn];
            gen_chunk(g, 0, d.b, d.len);
        }
    }
    sc_session(g);
}

/* Timers: nothing answers after the HelloVerifyRequest (F_SHORT: the
 * handshake times out). */
static void sc_silence(struct gen *g)
{
    gen_pass(g, 0);
    for (int i = 0; i < 8; i++)
        gen_chunk(g, CTL_WAIT, NULL, 0);
}

/* In the session, records sealed by a misbehaving server. */
static void sc_hello_request(struct gen *g)
{
    gen_settle(g);
    gen_sv_seal(g, 22, hs_hello_request, sizeof hs_hello_request);
    gen_sv_write(g, 1);
    gen_pass_all(g);
}

static void sc_sealed_finished(struct gen *g)
{
    gen_settle(g);
    gen_sv_seal(g, 22, hs_finished, sizeof hs_finished);
    gen_sv_write(g, 2);
    gen_pass_all(g);
}

static void sc_sealed_ccs(struct gen *g)
{
    gen_settle(g);
    gen_sv_seal(g, 20, ccs, sizeof ccs);
    gen_sv_write(g, 3);
    gen_pass_all(g);
}

static void sc_sealed_warning(struct gen *g)
{
    gen_settle(g);
    gen_sv_seal(g, 21, alert_warning, sizeof alert_warning);
    gen_sv_write(g, 4);
    gen_pass_all(g);
}

static void sc_sealed_fatal(struct gen *g)
{
    gen_settle(g);
    gen_sv_write(g, 4);
    gen_sv_seal(g, 21, alert_fatal, sizeof alert_fatal);
    gen_pass_all(g);
}

static void sc_sealed_unknown(struct gen *g)
{
    gen_settle(g);
    gen_sv_seal(g, 25, ccs, sizeof ccs);
    gen_sv_write(g, 5);
    gen_pass_all(g);
}

/* Several records in a datagram, and a replay of it. */
static void sc_many_and_replay(struct gen *g)
{
    gen_settle(g);
    gen_sv_write_many(g, 3);
    struct gen_dgram d = g->q[g->qn - 1];
    gen_pass_all(g);
    gen_chunk(g, 0, d.b, d.len);
    gen_sv_write(g, 7);
    gen_pass_all(g);
}

/* Epoch-0 records in the session: an alert, a handshake message, CCS. */
static void sc_plain_in_session(struct gen *g)
{
    gen_settle(g);
    gen_plain(g, 22, 0, 50, hs_hello_request, sizeof hs_hello_request);
    gen_plain(g, 20, 0, 51, ccs, sizeof ccs);
    gen_sv_write(g, 8);
    gen_plain(g, 21, 0, 52, alert_close, sizeof alert_close);
    gen_sv_write(g, 9);
    gen_pass_all(g);
}

/* Forged epoch-1 records (F_FAIL_LIMIT: the third ends the session). */
static void sc_forged(struct gen *g)
{
    uint8_t junk[40];
    gen_settle(g);
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(i * 13);
    for (uint16_t i = 0; i < 3; i++) {
        gen_plain(g, 23, 1, (uint16_t)(100 + i), junk, sizeof junk);
        gen_sv_write(g, (uint8_t)i);
    }
    gen_pass_all(g);
}

/* A fatal alert in the clear before the server's Finished. */
static void sc_plain_alert_before_finished(struct gen *g)
{
    static struct gen_dgram d;
    gen_pass(g, 0); /* HelloVerifyRequest */
    gen_pass(g, 0); /* ServerHello .. ServerHelloDone */
    gen_pop(g, &d); /* the server's last flight, held back */
    gen_plain(g, 21, 0, 9, alert_fatal, sizeof alert_fatal);
    gen_pass_all(g);
    gen_chunk(g, 0, d.b, d.len);
}

struct seed {
    const char *name;
    uint8_t flags;
    uint8_t suite; /* index into psk_suites / pki_suites: the server's */
    uint8_t sv_opts;
    void (*script)(struct gen *);
    uint8_t want; /* the client's state at the end of a replay */
};

enum { UP = COAPS_DTLS_ESTABLISHED, CLOSED = COAPS_DTLS_CLOSED, FAILED = COAPS_DTLS_FAILED };

static const struct seed seeds[] = {
    {"psk-ccm8-session", 0, 0, 0, sc_session, CLOSED},
    {"psk-gcm-session", 0, 1, 0, sc_session, CLOSED},
    {"psk-chacha-session", 0, 2, 0, sc_session, CLOSED},
    {"psk-ccm-session", 0, 3, 0, sc_session, CLOSED},
    {"psk-mtu256-session", F_MTU256, 0, 0, sc_session, CLOSED},
    {"psk-split-session", F_SPLIT, 1, 0, sc_session, CLOSED},
    {"psk-callback-session", F_CALLBACK, 0, 0, sc_session, CLOSED},
    {"psk-callback-no-hint", F_CALLBACK, 0, SV_NO_HINT, sc_session, CLOSED},
    {"psk-no-hint", 0, 2, SV_NO_HINT, sc_handshake, UP},
    {"psk-wrong-key", F_WRONG, 0, 0, sc_handshake, FAILED},
    {"psk-client-close", 0, 0, 0, sc_client_close, CLOSED},
    {"psk-close-in-handshake", 0, 0, 0, sc_close_in_handshake, CLOSED},
    {"psk-lost-hvr", 0, 0, 0, sc_lost_hvr, CLOSED},
    {"psk-lost-server-flight", 0, 1, 0, sc_lost_server_flight, CLOSED},
    {"psk-lost-finished", 0, 3, 0, sc_lost_finished, CLOSED},
    {"psk-mtu256-lost-finished", F_MTU256, 2, 0, sc_lost_finished, CLOSED},
    {"psk-duplicates", 0, 0, 0, sc_duplicates, CLOSED},
    {"psk-mtu256-reversed", F_MTU256, 0, 0, sc_reversed, CLOSED},
    {"psk-short-silence", F_SHORT, 0, 0, sc_silence, FAILED},
    {"psk-hello-request", 0, 0, 0, sc_hello_request, UP},
    {"psk-sealed-finished", 0, 1, 0, sc_sealed_finished, UP},
    {"psk-sealed-ccs", 0, 0, 0, sc_sealed_ccs, UP},
    {"psk-sealed-warning", 0, 2, 0, sc_sealed_warning, UP},
    {"psk-sealed-fatal", 0, 0, 0, sc_sealed_fatal, FAILED},
    {"psk-sealed-unknown-type", 0, 3, 0, sc_sealed_unknown, UP},
    {"psk-many-records-replay", 0, 0, 0, sc_many_and_replay, UP},
    {"psk-plain-in-session", 0, 0, 0, sc_plain_in_session, UP},
    {"psk-forged-limit", F_FAIL_LIMIT, 0, 0, sc_forged, FAILED},
    {"psk-plain-alert-before-finished", 0, 0, 0, sc_plain_alert_before_finished, FAILED},
    {"pki-ccm8-session", F_PKI, 0, 0, sc_session, CLOSED},
    {"pki-mtu256-reversed", F_PKI | F_MTU256, 3, 0, sc_reversed, CLOSED},
    {"pki-mtu256-duplicates", F_PKI | F_MTU256, 0, SV_X25519, sc_duplicates, CLOSED},
    {"pki-lost-finished", F_PKI, 1, 0, sc_lost_finished, CLOSED},
    {"pki-gcm-x25519", F_PKI, 1, SV_X25519, sc_handshake, UP},
    {"pki-mutual", F_PKI | F_MUTUAL, 0, SV_MUTUAL, sc_handshake, FAILED},
    {"pki-cert-request-no-cert", F_PKI, 2, SV_MUTUAL, sc_handshake, FAILED},
    {"pki-wrong-name", F_PKI | F_WRONG, 0, 0, sc_handshake, FAILED},
};

static void gen_run(struct gen *g, const struct seed *s)
{
    gen_start(g, s->flags, s->suite, s->sv_opts);
    s->script(g);
}

static void generate(const char *dir)
{
    static struct gen g;
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        gen_run(&g, &seeds[i]);
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, seeds[i].name);
        FILE *fp = fopen(path, "wb");
        if (!fp || fwrite(g.seed, 1, g.seed_len, fp) != g.seed_len || fclose(fp) != 0) {
            fprintf(stderr, "fuzz_dtls_client: cannot write %s\n", path);
            exit(1);
        }
        fprintf(stderr, "%-32s %5zu bytes, client %d\n", seeds[i].name, g.seed_len,
                (int)coaps_dtls_state(&g.r.cl));
        gen_end(&g);
    }
}

/* Whether the keys are those of an honest PSK handshake with suite, the
 * server sending its hint or not (what the seeds' servers vary): the only
 * keys a fuzzed server can take the client to, as it cannot make the
 * server's Finished. Each honest handshake is run once, on first use. */
static bool honest_keys(uint16_t suite, const uint8_t got[32])
{
    static uint8_t digests[N_SUITES][2][32];
    static bool known[N_SUITES];
    int idx = -1;
    for (int i = 0; i < N_SUITES; i++)
        if (psk_suites[i] == suite)
            idx = i;
    CHECK(idx >= 0);
    for (int hint = 0; !known[idx] && hint < 2; hint++) {
        static struct gen g;
        gen_start(&g, 0, idx, hint ? 0 : SV_NO_HINT);
        gen_settle(&g);
        CHECK(gen_established(&g));
        CHECK(coaps_dtls_key_digest(&g.r.cl, digests[idx][hint]) == COAPS_OK);
        gen_end(&g);
    }
    known[idx] = true;
    return memcmp(got, digests[idx][0], 32) == 0 || memcmp(got, digests[idx][1], 32) == 0;
}

/* ---- libFuzzer ------------------------------------------------------------- */

static enum coaps_dtls_state run_input(const uint8_t *data, size_t size)
{
    static struct run r;
    run_start(&r, data[0]);
    size_t off = 1;
    for (int i = 0; i < CL_CHUNKS && off + 3 <= size; i++) {
        uint8_t ctl = data[off];
        size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
        off += 3;
        if (len > size - off)
            len = size - off;
        if (len > CL_DGRAM_MAX)
            len = CL_DGRAM_MAX;
        run_chunk(&r, ctl, data + off, len);
        off += len;
    }
    enum coaps_dtls_state end = coaps_dtls_state(&r.cl);
    static int trace = -1;
    if (trace < 0)
        trace = getenv("FUZZ_CLIENT_TRACE") != NULL;
    if (trace) {
        char why[128];
        coaps_dtls_stats st = coaps_dtls_get_stats(&r.cl);
        fprintf(stderr,
                "client: state %d (%s), suite %04x, writes %u, dropped %u, auth failures "
                "%llu/%llu\n",
                (int)end, coaps_dtls_error_str(&r.cl, why, sizeof why), coaps_dtls_suite(&r.cl),
                r.writes, st.records_dropped, (unsigned long long)st.auth_failures,
                (unsigned long long)st.auth_fail_limit);
    }
    run_end(&r);
    return end;
}

/* Each named seed in dir still replays to the state it was made for: a
 * change to what the client sends makes the recorded server's Finished
 * fail, and the fuzzer would silently lose every state after it. */
static int check_seeds(const char *dir)
{
    static uint8_t buf[GEN_SEED_MAX];
    int bad = 0;
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, seeds[i].name);
        FILE *fp = fopen(path, "rb");
        size_t n = fp ? fread(buf, 1, sizeof buf, fp) : 0;
        if (fp)
            fclose(fp);
        enum coaps_dtls_state end = n ? run_input(buf, n) : COAPS_DTLS_HANDSHAKING;
        if (!n || end != seeds[i].want) {
            fprintf(stderr, "%s: %s, client state %d, want %d: regenerate the seeds\n", path,
                    n ? "replayed" : "missing", (int)end, (int)seeds[i].want);
            bad++;
        }
    }
    fprintf(stderr, "fuzz_dtls_client: %zu seeds, %d not as recorded\n",
            sizeof seeds / sizeof seeds[0], bad);
    return bad ? 1 : 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* FUZZ_CLIENT_GEN=dir: write the seeds; FUZZ_CLIENT_CHECK=dir: check them. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *dir = getenv("FUZZ_CLIENT_GEN");
    if (dir) {
        generate(dir);
        exit(0);
    }
    dir = getenv("FUZZ_CLIENT_CHECK");
    if (dir)
        exit(check_seeds(dir));
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 1)
        (void)run_input(data, size);
    return 0;
}
