/*
 * engine_harness.h - an in-memory network for DTLS engine tests: one client
 * connection, one server (front door + connection), a fake clock, and two
 * impairable channels (loss, duplication, reordering by random delay, MTU
 * drop, custom filters). Deterministic: all randomness comes from a seeded
 * xorshift generator, including the engines' own random bytes.
 */
#ifndef COAPS_TEST_ENGINE_HARNESS_H
#define COAPS_TEST_ENGINE_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coaps/dtls.h"

#define H_DGRAM_MAX 1500
#define H_QUEUE 128 /* datagrams in flight per direction */

enum { H_C2S = 0, H_S2C = 1 };

struct h_dgram {
    uint8_t b[H_DGRAM_MAX];
    size_t len;
    uint64_t at; /* delivery time */
    uint32_t order;
};

struct h_chan {
    struct h_dgram q[H_QUEUE];
    size_t n;
    /* impairments, per mille */
    unsigned loss, dup, reorder;
    unsigned max_delay_ms; /* reordered datagrams wait up to this long */
    size_t mtu_drop;       /* drop datagrams above this size (0: none) */
    unsigned sent, delivered, dropped;
};

struct h_net;
/* Return how many copies to deliver (0 drops). May edit the datagram. */
typedef int (*h_filter)(struct h_net *n, int dir, uint8_t *d, size_t *len);

struct h_net {
    uint64_t now;
    uint64_t rng;
    uint32_t order;
    coaps_dtls_config ccfg, scfg;
    coaps_dtls_conn cl, sv;
    coaps_dtls_hs *chs, *shs;
    /* split: each side gets only a base context of its exact size (its
     * own allocation, so ASan sees any access past it) and no PKI area */
    bool split;
    bool client_full; /* with split: the client still gets chs (both parts) */
    coaps_dtls_hs_base *cbase, *sbase;
    coaps_dtls_server front;
    bool sv_up;
    struct h_chan ch[2];
    h_filter filter;
    void *user;
    unsigned hvr_sent;
    /* times at which the client sent datagrams (first 32) */
    uint64_t c_times[32];
    unsigned c_sent;
    uint8_t psk[16];
    const char *identity;
};

static inline uint32_t h_rand(struct h_net *n)
{
    uint64_t x = n->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    n->rng = x;
    return (uint32_t)(x >> 32);
}

static coaps_status h_random(void *user, void *out, size_t len)
{
    struct h_net *n = user;
    uint8_t *p = out;
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)h_rand(n);
    return COAPS_OK;
}

static coaps_status h_lookup(void *user, const uint8_t *id, size_t id_len, uint8_t *key,
                             size_t cap, size_t *key_len)
{
    struct h_net *n = user;
    if (id_len != strlen(n->identity) || memcmp(id, n->identity, id_len) != 0)
        return COAPS_E_PSK_IDENTITY;
    if (cap < sizeof(n->psk))
        return COAPS_E_NOSPACE;
    memcpy(key, n->psk, sizeof(n->psk));
    *key_len = sizeof(n->psk);
    return COAPS_OK;
}

static const uint8_t h_client_psk[16] = "secretPSK-123456";

/* A fresh network; the caller may edit the configs before h_start. */
static struct h_net *h_new(uint64_t seed)
{
    struct h_net *n = calloc(1, sizeof(*n));
    n->chs = calloc(1, sizeof(*n->chs));
    n->shs = calloc(1, sizeof(*n->shs));
    n->rng = seed ? seed : 88172645463325252ull;
    n->now = 1000000;
    n->identity = "client1";
    memcpy(n->psk, h_client_psk, sizeof(n->psk));
    n->ccfg.role = COAPS_DTLS_CLIENT;
    n->ccfg.psk_identity = (const uint8_t *)"client1";
    n->ccfg.psk_identity_len = 7;
    n->ccfg.psk_key = h_client_psk;
    n->ccfg.psk_key_len = sizeof(h_client_psk);
    n->ccfg.random = h_random;
    n->ccfg.random_user = n;
    n->scfg.role = COAPS_DTLS_SERVER;
    n->scfg.psk_lookup = h_lookup;
    n->scfg.psk_user = n;
    n->scfg.psk_hint = (const uint8_t *)"hint";
    n->scfg.psk_hint_len = 4;
    n->scfg.random = h_random;
    n->scfg.random_user = n;
    return n;
}

static void h_free(struct h_net *n)
{
    coaps_dtls_conn_clear(&n->cl);
    if (n->sv_up)
        coaps_dtls_conn_clear(&n->sv);
    coaps_dtls_server_clear(&n->front);
    free(n->chs);
    free(n->shs);
    free(n->cbase);
    free(n->sbase);
    free(n);
}

static coaps_status h_start(struct h_net *n)
{
    coaps_peer cp = {{1, 2, 3, 4}, 4, COAPS_TRANSPORT_DTLS};
    coaps_status st = coaps_dtls_server_init(&n->front, &n->scfg, n->now);
    if (st != COAPS_OK)
        return st;
    if (n->split) {
        n->cbase = malloc(sizeof(*n->cbase));
        n->sbase = malloc(sizeof(*n->sbase));
        if (!n->cbase || !n->sbase)
            return COAPS_E_NOMEM;
        memset(n->cbase, 0xa5, sizeof(*n->cbase)); /* no reliance on zeroed memory */
        memset(n->sbase, 0xa5, sizeof(*n->sbase));
        if (n->client_full)
            return coaps_dtls_conn_init(&n->cl, &n->ccfg, n->chs, &cp, n->now);
        return coaps_dtls_conn_init_split(&n->cl, &n->ccfg, n->cbase, NULL, &cp, n->now);
    }
    return coaps_dtls_conn_init(&n->cl, &n->ccfg, n->chs, &cp, n->now);
}

static void h_put(struct h_net *n, int dir, const uint8_t *d, size_t len)
{
    struct h_chan *c = &n->ch[dir];
    uint8_t tmp[H_DGRAM_MAX];
    memcpy(tmp, d, len);
    c->sent++;
    int copies = 1;
    if (n->filter)
        copies = n->filter(n, dir, tmp, &len);
    if (c->mtu_drop && len > c->mtu_drop)
        copies = 0;
    if (copies && c->loss && h_rand(n) % 1000 < c->loss)
        copies = 0;
    if (copies && c->dup && h_rand(n) % 1000 < c->dup)
        copies++;
    for (int i = 0; i < copies && c->n < H_QUEUE; i++) {
        struct h_dgram *g = &c->q[c->n++];
        memcpy(g->b, tmp, len);
        g->len = len;
        g->at = n->now;
        if (c->reorder && h_rand(n) % 1000 < c->reorder)
            g->at += 1 + h_rand(n) % (c->max_delay_ms ? c->max_delay_ms : 50);
        g->order = n->order++;
    }
    if (!copies)
        c->dropped++;
}

/* Move every datagram each side has to send into the channels. */
static bool h_collect(struct h_net *n)
{
    bool any = false;
    uint8_t buf[H_DGRAM_MAX];
    size_t len;
    while (coaps_dtls_output(&n->cl, buf, sizeof(buf), &len, n->now) == COAPS_OK) {
        if (n->c_sent < 32)
            n->c_times[n->c_sent] = n->now;
        n->c_sent++;
        h_put(n, H_C2S, buf, len);
        any = true;
    }
    while (n->sv_up && coaps_dtls_output(&n->sv, buf, sizeof(buf), &len, n->now) == COAPS_OK) {
        h_put(n, H_S2C, buf, len);
        any = true;
    }
    return any;
}

static void h_to_server(struct h_net *n, uint8_t *d, size_t len)
{
    if (n->sv_up) {
        (void)coaps_dtls_input(&n->sv, d, len, n->now);
        return;
    }
    coaps_peer cp = {{1, 2, 3, 4}, 4, COAPS_TRANSPORT_DTLS};
    uint8_t out[512];
    size_t out_len = 0;
    enum coaps_dtls_accept v;
    if (coaps_dtls_server_accept(&n->front, &cp, d, len, n->now, out, sizeof(out), &out_len,
                                 &v) != COAPS_OK)
        return;
    if (v == COAPS_DTLS_ACCEPT_SEND) {
        n->hvr_sent++;
        h_put(n, H_S2C, out, out_len);
    } else if (v == COAPS_DTLS_ACCEPT_NEW) {
        coaps_status st =
            n->split ? coaps_dtls_conn_init_split(&n->sv, &n->scfg, n->sbase, NULL, &cp, n->now)
                     : coaps_dtls_conn_init(&n->sv, &n->scfg, n->shs, &cp, n->now);
        if (st == COAPS_OK) {
            n->sv_up = true;
            (void)coaps_dtls_input(&n->sv, d, len, n->now);
        }
    }
}

/* Deliver the due datagram with the smallest (time, order); false if none. */
static bool h_deliver_one(struct h_net *n)
{
    int best_dir = -1;
    size_t best = 0;
    for (int dir = 0; dir < 2; dir++) {
        struct h_chan *c = &n->ch[dir];
        for (size_t i = 0; i < c->n; i++) {
            struct h_dgram *g = &c->q[i];
            if (g->at > n->now)
                continue;
            if (best_dir < 0 || g->order < n->ch[best_dir].q[best].order) {
                best_dir = dir;
                best = i;
            }
        }
    }
    if (best_dir < 0)
        return false;
    struct h_chan *c = &n->ch[best_dir];
    struct h_dgram g = c->q[best];
    memmove(&c->q[best], &c->q[best + 1], (c->n - best - 1) * sizeof(c->q[0]));
    c->n--;
    c->delivered++;
    if (best_dir == H_C2S)
        h_to_server(n, g.b, g.len);
    else
        (void)coaps_dtls_input(&n->cl, g.b, g.len, n->now);
    return true;
}

static uint64_t h_next_event(struct h_net *n)
{
    uint64_t t = coaps_dtls_next_deadline(&n->cl);
    if (n->sv_up) {
        uint64_t s = coaps_dtls_next_deadline(&n->sv);
        if (s < t)
            t = s;
    }
    for (int dir = 0; dir < 2; dir++)
        for (size_t i = 0; i < n->ch[dir].n; i++)
            if (n->ch[dir].q[i].at < t)
                t = n->ch[dir].q[i].at;
    return t;
}

static bool h_done(struct h_net *n)
{
    enum coaps_dtls_state c = coaps_dtls_state(&n->cl);
    enum coaps_dtls_state s = n->sv_up ? coaps_dtls_state(&n->sv) : COAPS_DTLS_HANDSHAKING;
    if (c == COAPS_DTLS_FAILED || s == COAPS_DTLS_FAILED)
        return true;
    return c == COAPS_DTLS_ESTABLISHED && s == COAPS_DTLS_ESTABLISHED;
}

/* Run until both are established or one failed, and the channels are
 * quiet, or until the fake clock passes limit_ms from now. */
static void h_run(struct h_net *n, uint64_t limit_ms)
{
    uint64_t end = n->now + limit_ms;
    while (n->now <= end) {
        bool moved = h_collect(n);
        while (h_deliver_one(n)) {
            h_collect(n);
            moved = true;
        }
        if (moved)
            continue;
        if (h_done(n) && n->ch[0].n == 0 && n->ch[1].n == 0)
            return;
        uint64_t t = h_next_event(n);
        if (t == UINT64_MAX || t > end)
            return;
        if (t > n->now)
            n->now = t;
        (void)coaps_dtls_tick(&n->cl, n->now);
        if (n->sv_up)
            (void)coaps_dtls_tick(&n->sv, n->now);
    }
}

#endif /* COAPS_TEST_ENGINE_HARNESS_H */
