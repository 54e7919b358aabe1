/* runtime_dtls.c - coaps:// sessions for the runtime (see runtime_dtls.h). */
#include "runtime/runtime_dtls.h"

#include <string.h>

#include "common/try.h"
#include "port/port.h"

#define SESSION_NONE (-1)

_Static_assert(COAPS_RUNTIME_SESSIONS <= INT8_MAX, "session indexes are int8_t");
_Static_assert(COAPS_RUNTIME_HANDSHAKES >= 1 && COAPS_RUNTIME_HANDSHAKES <= INT8_MAX,
               "handshake owners are int8_t");
/* The front door writes a HelloVerifyRequest of up to 256 bytes to dgram. */
_Static_assert(COAPS_RUNTIME_DTLS_DGRAM_MAX >= 256, "front door output fits dgram");
/* A CoAP message sealed in place: the record's header and nonce before it
 * (the headroom), the largest tag (16) after it. */
_Static_assert(COAPS_RUNTIME_HEADROOM >= COAPS_DTLS_WRITE_HEADROOM_MAX,
               "a record's header and nonce fit before the message");
_Static_assert(COAPS_RUNTIME_DTLS_DGRAM_MAX >=
                   COAPS_RUNTIME_HEADROOM + COAPS_RUNTIME_MESSAGE_MAX + 16u,
               "a sealed CoAP message fits dgram");

static coaps_status dtls_random(void *user, void *out, size_t len)
{
    (void)user;
    return coaps_port_entropy(out, len);
}

static int find(const struct coaps_runtime_dtls *d, const coaps_peer *peer)
{
    for (int i = 0; i < COAPS_RUNTIME_SESSIONS; i++)
        if (d->sessions[i].used && coaps_peer_equal(&d->sessions[i].peer, peer))
            return i;
    return SESSION_NONE;
}

static void flush(struct coaps_runtime_dtls *d, struct coaps_runtime_dtls_session *s,
                  uint64_t now_ms)
{
    size_t len;
    while (coaps_dtls_output(&s->conn, d->rt->dgram, sizeof d->rt->dgram, &len, now_ms) ==
           COAPS_OK) {
        (void)coaps_runtime_send(d->rt, &s->peer, d->rt->dgram, len);
        s->last_ms = now_ms;
    }
}

static void hs_give_back(struct coaps_runtime_dtls *d, struct coaps_runtime_dtls_session *s)
{
    if (s->hs != SESSION_NONE)
        d->hs_owner[s->hs] = SESSION_NONE;
    s->hs = SESSION_NONE;
}

/* Free a slot: the peer's CoAP state, the crypto state. With notify an
 * established session sends close_notify first. */
static void session_end(struct coaps_runtime_dtls *d, int i, bool notify, uint64_t now_ms)
{
    struct coaps_runtime_dtls_session *s = &d->sessions[i];
    if (notify && coaps_dtls_state(&s->conn) == COAPS_DTLS_ESTABLISHED) {
        (void)coaps_dtls_close(&s->conn);
        flush(d, s, now_ms);
    }
    if (s->established)
        coaps_coap_forget_peer(d->rt->coap, &s->peer);
    hs_give_back(d, s);
    coaps_dtls_conn_clear(&s->conn);
    memset(s, 0, sizeof *s);
    s->hs = SESSION_NONE;
}

/* A free handshake context, or the oldest in use (its handshake fails). */
static int hs_take(struct coaps_runtime_dtls *d, uint64_t now_ms)
{
    int oldest = 0;
    for (int h = 0; h < COAPS_RUNTIME_HANDSHAKES; h++) {
        if (d->hs_owner[h] == SESSION_NONE)
            return h;
        if (d->hs_started[h] < d->hs_started[oldest])
            oldest = h;
    }
    session_end(d, d->hs_owner[oldest], false, now_ms);
    return oldest;
}

/* A slot for a newcomer: a free one, or the one silent longest if it has
 * been silent for COAPS_RUNTIME_DTLS_BUSY_MS. */
static int slot(struct coaps_runtime_dtls *d, uint64_t now_ms)
{
    int victim = SESSION_NONE;
    for (int i = 0; i < COAPS_RUNTIME_SESSIONS; i++) {
        if (!d->sessions[i].used)
            return i;
        if (victim == SESSION_NONE || d->sessions[i].last_ms < d->sessions[victim].last_ms)
            victim = i;
    }
    if (now_ms - d->sessions[victim].last_ms < COAPS_RUNTIME_DTLS_BUSY_MS)
        return SESSION_NONE;
    session_end(d, victim, true, now_ms);
    return victim;
}

/* Handshake context h for a connection: its base, and its certificate
 * area in a build that has one (without it the engine offers and picks
 * PSK suites only). */
static coaps_status hs_attach(struct coaps_runtime_dtls *d, struct coaps_runtime_dtls_session *s,
                              int h, const coaps_peer *peer, uint64_t now_ms)
{
#if COAPS_WITH_PKI
    coaps_dtls_hs_pki *pki = &d->hs_pki[h];
#else
    coaps_dtls_hs_pki *pki = NULL;
#endif
    return coaps_dtls_conn_init_split(&s->conn, &d->cfg, &d->hs_base[h], pki, peer, now_ms);
}

static int session_new(struct coaps_runtime_dtls *d, const coaps_peer *peer, uint64_t hello,
                       uint64_t now_ms)
{
    int i = slot(d, now_ms);
    if (i == SESSION_NONE) {
        d->stats.refused++;
        return SESSION_NONE;
    }
    int h = hs_take(d, now_ms);
    struct coaps_runtime_dtls_session *s = &d->sessions[i];
    memset(s, 0, sizeof *s);
    if (hs_attach(d, s, h, peer, now_ms) != COAPS_OK) {
        s->hs = SESSION_NONE;
        return SESSION_NONE;
    }
    s->used = true;
    s->peer = *peer;
    s->hs = (int8_t)h;
    s->hello_hash = hello;
    s->last_ms = now_ms;
    d->hs_owner[h] = (int8_t)i;
    d->hs_started[h] = now_ms;
    d->stats.handshakes++;
    return i;
}

/* A datagram for the front door (no session, or a new ClientHello from a
 * peer past its handshake, RFC 6347 4.2.8). The session to feed it to, or
 * SESSION_NONE when it was answered or dropped here. */
static int front_door(struct coaps_runtime_dtls *d, const coaps_peer *from, int i,
                      const uint8_t *data, size_t len, uint64_t now_ms)
{
    enum coaps_dtls_accept verdict = COAPS_DTLS_ACCEPT_DROP;
    size_t out_len = 0;
    if (coaps_dtls_server_accept(&d->front, from, data, len, now_ms, d->rt->dgram,
                                 sizeof d->rt->dgram, &out_len, &verdict) != COAPS_OK)
        verdict = COAPS_DTLS_ACCEPT_DROP;
    if (verdict == COAPS_DTLS_ACCEPT_SEND) {
        d->stats.hello_verify++;
        (void)coaps_runtime_send(d->rt, from, d->rt->dgram, out_len);
        return SESSION_NONE;
    }
    if (verdict != COAPS_DTLS_ACCEPT_NEW)
        return i;
    if (i != SESSION_NONE)
        session_end(d, i, false, now_ms);
    return session_new(d, from, coaps_dtls_client_hello_hash(data, len), now_ms);
}

/* After input or tick: deliver CoAP, send records, follow the state. */
static void service(struct coaps_runtime_dtls *d, int i, uint64_t now_ms)
{
    struct coaps_runtime_dtls_session *s = &d->sessions[i];
    const uint8_t *data;
    size_t len;
    while (coaps_dtls_read(&s->conn, &data, &len) == COAPS_OK) {
        s->last_ms = now_ms;
        (void)coaps_coap_input(d->rt->coap, &s->peer, data, len, now_ms);
    }
    flush(d, s, now_ms);
    enum coaps_dtls_state st = coaps_dtls_state(&s->conn);
    if (st == COAPS_DTLS_ESTABLISHED && !s->established) {
        s->established = true;
        d->stats.established++;
    }
    if (s->hs != SESSION_NONE && coaps_dtls_hs_released(&s->conn))
        hs_give_back(d, s); /* only needed while handshaking */
    if (st == COAPS_DTLS_FAILED || st == COAPS_DTLS_CLOSED) {
        if (st == COAPS_DTLS_FAILED) {
            d->stats.failed++;
            d->stats.alert_last = coaps_dtls_error_reason(&s->conn).alert;
        }
        session_end(d, i, false, now_ms);
    }
}

/* Which session a datagram from `from` goes to, or SESSION_NONE. */
static int route(struct coaps_runtime_dtls *d, const coaps_peer *from, const uint8_t *data,
                 size_t len, uint64_t now_ms)
{
    int i = find(d, from);
    if (i == SESSION_NONE)
        return front_door(d, from, i, data, len, now_ms);
    if (coaps_dtls_state(&d->sessions[i].conn) == COAPS_DTLS_HANDSHAKING ||
        !coaps_dtls_is_client_hello(data, len))
        return i;
    if (coaps_dtls_client_hello_hash(data, len) == d->sessions[i].hello_hash)
        return SESSION_NONE; /* a late copy of the ClientHello that made it */
    return front_door(d, from, i, data, len, now_ms);
}

static void dtls_rx(void *ctx, const coaps_peer *from, uint8_t *data, size_t len,
                    uint64_t now_ms)
{
    struct coaps_runtime_dtls *d = ctx;
    uint64_t io0 = d->rt->stats.io_cost;
    uint64_t t0 = coaps_port_cost();
    uint32_t hvr0 = d->stats.hello_verify;
    int i = route(d, from, data, len, now_ms);
    if (i == SESSION_NONE) {
        if (d->stats.hello_verify != hvr0)
            d->stats.hs_cost_hvr = coaps_port_cost() - t0 - (d->rt->stats.io_cost - io0);
        return;
    }
    struct coaps_runtime_dtls_session *s = &d->sessions[i];
    bool handshaking = !s->established;
    /* decrypted in place, in the port's buffer (port.h) */
    (void)coaps_dtls_input(&s->conn, data, len, now_ms);
    s->last_ms = now_ms;
    service(d, i, now_ms);
    if (!handshaking || !s->used)
        return;
    s->hs_cost += coaps_port_cost() - t0 - (d->rt->stats.io_cost - io0);
    if (s->established)
        d->stats.hs_cost_last = s->hs_cost;
}

static coaps_status dtls_tx(void *ctx, const coaps_peer *to, const uint8_t *msg, size_t len,
                            uint64_t now_ms)
{
    struct coaps_runtime_dtls *d = ctx;
    int i = find(d, to);
    ENSURE(i != SESSION_NONE, COAPS_E_NOT_FOUND);
    struct coaps_runtime_dtls_session *s = &d->sessions[i];
    ENSURE(coaps_dtls_state(&s->conn) == COAPS_DTLS_ESTABLISHED, COAPS_E_STATE);
    /* msg lies at COAPS_RUNTIME_HEADROOM in dgram: the record starts where
     * its plaintext is msg, which is sealed there, not copied */
    size_t skip = COAPS_RUNTIME_HEADROOM - coaps_dtls_write_headroom(&s->conn);
    uint8_t *rec = d->rt->dgram + skip;
    size_t out_len;
    TRY(coaps_dtls_write(&s->conn, msg, len, rec, sizeof d->rt->dgram - skip, &out_len));
    s->last_ms = now_ms;
    return coaps_runtime_send(d->rt, to, rec, out_len);
}

static uint64_t dtls_deadline(void *ctx)
{
    const struct coaps_runtime_dtls *d = ctx;
    uint64_t next = UINT64_MAX;
    for (int i = 0; i < COAPS_RUNTIME_SESSIONS; i++) {
        const struct coaps_runtime_dtls_session *s = &d->sessions[i];
        if (!s->used)
            continue;
        uint64_t t = coaps_dtls_next_deadline(&s->conn);
        if (s->established && s->last_ms + COAPS_RUNTIME_DTLS_IDLE_MS < t)
            t = s->last_ms + COAPS_RUNTIME_DTLS_IDLE_MS;
        if (t < next)
            next = t;
    }
    return next;
}

static void dtls_due(void *ctx, uint64_t now_ms)
{
    struct coaps_runtime_dtls *d = ctx;
    for (int i = 0; i < COAPS_RUNTIME_SESSIONS; i++) {
        struct coaps_runtime_dtls_session *s = &d->sessions[i];
        if (!s->used)
            continue;
        if (s->established && now_ms - s->last_ms >= COAPS_RUNTIME_DTLS_IDLE_MS) {
            session_end(d, i, true, now_ms);
        } else if (coaps_dtls_next_deadline(&s->conn) <= now_ms) {
            (void)coaps_dtls_tick(&s->conn, now_ms);
            service(d, i, now_ms);
        }
    }
}

coaps_status coaps_runtime_dtls_init(struct coaps_runtime_dtls *d, struct coaps_runtime *rt,
                                     const coaps_dtls_config *cfg, uint64_t now_ms)
{
    memset(d, 0, sizeof *d);
    d->rt = rt;
    d->cfg = *cfg;
    d->cfg.role = COAPS_DTLS_SERVER;
    d->cfg.random = dtls_random;
    d->cfg.mtu = COAPS_RUNTIME_DTLS_DGRAM_MAX;
    for (int i = 0; i < COAPS_RUNTIME_SESSIONS; i++)
        d->sessions[i].hs = SESSION_NONE;
    for (int h = 0; h < COAPS_RUNTIME_HANDSHAKES; h++)
        d->hs_owner[h] = SESSION_NONE;
    d->stats.alert_last = -1;
    ENSURE(coaps_dtls_config_check(&d->cfg) == COAPS_OK, COAPS_E_CONFIG);
    TRY(coaps_dtls_server_init(&d->front, &d->cfg, now_ms));
    rt->secure = (struct coaps_runtime_transport){dtls_rx, dtls_tx, dtls_deadline, dtls_due, d};
    return COAPS_OK;
}
