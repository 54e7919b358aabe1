/*
 * test_engine_ticket.c - session tickets (RFC 5077) in the engine, our
 * client against our server in memory: a server with ticket keys and no
 * session cache gives a ticket in its final flight and keeps its handshake
 * context until the client's first record; the client keeps the ticket
 * with its session and resumes with it (an abbreviated handshake with no
 * state on the server); the keys' periods decide which tickets open and
 * when a fresh one is sent; a damaged or foreign ticket, or a lost final
 * flight, still ends established. Real peers:
 * tests/interop/test_dtls_tickets.sh.
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
#include "dtls/ticket.h"
#include "engine_harness.h"
#include "engine_asserts.h"

#define T0 1796557600ull /* a wall-clock time, seconds */
#define PERIOD 3600u

static coaps_dtls_ticket_keys keys;
static const uint8_t secret[COAPS_DTLS_TICKET_SECRET_LEN] = {
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
};

struct saved {
    coaps_dtls_session s;
    unsigned stores;
};
static struct saved client_saved;

static void store(void *user, const coaps_dtls_session *s)
{
    struct saved *c = user;
    c->s = *s;
    c->stores++;
}

static struct h_net *net(uint64_t seed, const coaps_dtls_session *resume)
{
    struct h_net *n = h_new(seed);
    n->split = true; /* base contexts only, as the server edge lends them */
    n->scfg.ticket_keys = &keys;
    n->ccfg.tickets = true;
    n->ccfg.session_store = store;
    n->ccfg.session_user = &client_saved;
    n->ccfg.resume = resume;
    return n;
}

/* Both established; the server may still hold its context (lingering). */
static void assert_up(struct h_net *n)
{
    char buf[256];
    if (coaps_dtls_state(&n->cl) != COAPS_DTLS_ESTABLISHED)
        fail_msg("client: %s", coaps_dtls_error_str(&n->cl, buf, sizeof buf));
    if (coaps_dtls_state(&n->sv) != COAPS_DTLS_ESTABLISHED)
        fail_msg("server: %s", coaps_dtls_error_str(&n->sv, buf, sizeof buf));
    assert_true(coaps_dtls_hs_released(&n->cl));
    assert_same_keys(n);
}

/* A full handshake that leaves the client a ticket. */
static struct h_net *first_handshake(uint64_t seed)
{
    memset(&client_saved, 0, sizeof client_saved);
    struct h_net *n = net(seed, NULL);
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 10000);
    assert_up(n);
    assert_false(coaps_dtls_resumed(&n->cl));
    assert_int_equal(client_saved.stores, 1);
    assert_int_equal(client_saved.s.ticket_len, DTLS_TICKET_LEN);
    assert_int_equal(client_saved.s.ticket_lifetime_s, PERIOD);
    assert_int_equal(client_saved.s.id_len, 0); /* the server keeps no IDs */
    return n;
}

static void keys_at(uint64_t unix_s)
{
    assert_int_equal(coaps_dtls_ticket_keys_update(&keys, unix_s), COAPS_OK);
}

static int setup(void **state)
{
    (void)state;
    return coaps_dtls_ticket_keys_init(&keys, secret, sizeof secret, PERIOD, T0) == COAPS_OK
               ? 0
               : -1;
}

static int teardown(void **state)
{
    (void)state;
    coaps_dtls_ticket_keys_clear(&keys);
    return 0;
}

/* Resume with s; returns the net, established. */
static struct h_net *resume_with(uint64_t seed, const coaps_dtls_session *s, bool want_resumed)
{
    struct h_net *n = net(seed, s);
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 10000);
    assert_up(n);
    assert_int_equal(coaps_dtls_resumed(&n->cl), want_resumed);
    assert_int_equal(coaps_dtls_resumed(&n->sv), want_resumed);
    return n;
}

/* The full handshake lingers until the client's first record; the ticket
 * then resumes with no server state, every PSK suite. */
static void full_then_resumed(void **state)
{
    (void)state;
    static const uint16_t suites[] = {
        COAPS_DTLS_PSK_AES_128_CCM_8,      COAPS_DTLS_PSK_AES_128_GCM_SHA256,
        COAPS_DTLS_PSK_AES_256_GCM_SHA384, COAPS_DTLS_PSK_CHACHA20_POLY1305_SHA256,
    };
    for (size_t i = 0; i < COAPS_ARRAY_LEN(suites); i++) {
        static uint16_t one[1];
        one[0] = suites[i];
        memset(&client_saved, 0, sizeof client_saved);
        struct h_net *n = net(10 + i, NULL);
        n->ccfg.suites = one;
        n->ccfg.suites_len = 1;
        assert_int_equal(h_start(n), COAPS_OK);
        h_run(n, 10000);
        assert_up(n);
        assert_int_equal(client_saved.s.ticket_len, DTLS_TICKET_LEN);
        assert_false(coaps_dtls_hs_released(&n->sv)); /* lingering */
        assert_true(coaps_dtls_next_deadline(&n->sv) != UINT64_MAX);
        app_roundtrip(n, &n->cl, &n->sv, "GET /light");
        assert_true(coaps_dtls_hs_released(&n->sv));
        assert_int_equal(coaps_dtls_next_deadline(&n->sv), UINT64_MAX);
        app_roundtrip(n, &n->sv, &n->cl, "2.05 Content");
        uint8_t first[32];
        assert_int_equal(coaps_dtls_key_digest(&n->cl, first), COAPS_OK);
        h_free(n);

        coaps_dtls_session saved = client_saved.s;
        n = resume_with(20 + i, &saved, true);
        assert_int_equal(coaps_dtls_suite(&n->sv), suites[i]);
        assert_true(coaps_dtls_hs_released(&n->sv)); /* its flight was not the last */
        uint8_t second[32];
        assert_int_equal(coaps_dtls_key_digest(&n->cl, second), COAPS_OK);
        assert_memory_not_equal(first, second, 32);
        app_roundtrip(n, &n->cl, &n->sv, "GET /light");
        /* a current ticket is not renewed: the session is stored again with it */
        assert_int_equal(client_saved.stores, 2);
        assert_int_equal(client_saved.s.ticket_len, saved.ticket_len);
        assert_memory_equal(client_saved.s.ticket, saved.ticket, saved.ticket_len);
        assert_memory_equal(client_saved.s.master_secret, saved.master_secret, 48);
        h_free(n);
    }
}

/* Old keys are accepted for one period: a ticket of the previous period
 * resumes and is replaced; one two periods old gets a full handshake (and
 * a new ticket). */
static void keys_rotate(void **state)
{
    (void)state;
    keys_at(T0);
    h_free(first_handshake(30));
    coaps_dtls_session old = client_saved.s;

    keys_at(T0 + PERIOD);
    struct h_net *n = resume_with(31, &old, true);
    assert_int_equal(client_saved.s.ticket_len, DTLS_TICKET_LEN);
    assert_memory_not_equal(client_saved.s.ticket, old.ticket, DTLS_TICKET_LEN);
    coaps_dtls_session renewed = client_saved.s;
    h_free(n);

    keys_at(T0 + 2 * PERIOD);
    n = resume_with(32, &old, false); /* too old */
    assert_int_equal(client_saved.s.ticket_len, DTLS_TICKET_LEN);
    h_free(n);
    n = resume_with(33, &renewed, true); /* the renewed one still opens */
    h_free(n);

    /* keys are derived, not stored: a clock set back refuses tickets of
     * its future, and a fresh ring from the same secret (a restarted
     * server, another worker) opens what the first one sealed */
    keys_at(T0 - PERIOD);
    h_free(resume_with(34, &old, false));
    coaps_dtls_ticket_keys_clear(&keys);
    assert_int_equal(coaps_dtls_ticket_keys_init(&keys, secret, sizeof secret, PERIOD, T0 + 60),
                     COAPS_OK);
    h_free(resume_with(35, &old, true));
    keys_at(T0);
}

/* A ticket that is not ours gives a full handshake, never a failure:
 * damaged anywhere, cut short, sealed under another secret. */
static void bad_tickets(void **state)
{
    (void)state;
    keys_at(T0);
    h_free(first_handshake(40));
    coaps_dtls_session good = client_saved.s;
    for (size_t i = 0; i < good.ticket_len; i += 7) {
        coaps_dtls_session bad = good;
        bad.ticket[i] ^= 0x20;
        h_free(resume_with(41 + i, &bad, false));
    }
    coaps_dtls_session cut = good;
    cut.ticket_len = 40;
    h_free(resume_with(200, &cut, false));
    /* one too large for a PSK client's 616-byte flight is not offered;
     * the extension still asks for a new ticket */
    coaps_dtls_session big = good;
    big.ticket_len = COAPS_DTLS_TICKET_MAX;
    memset(big.ticket, 0x5a, sizeof big.ticket);
    h_free(resume_with(202, &big, false));
    assert_int_equal(client_saved.s.ticket_len, DTLS_TICKET_LEN);

    coaps_dtls_ticket_keys other;
    uint8_t other_secret[COAPS_DTLS_TICKET_SECRET_LEN] = {9};
    assert_int_equal(
        coaps_dtls_ticket_keys_init(&other, other_secret, sizeof other_secret, PERIOD, T0),
        COAPS_OK);
    struct h_net *n = net(201, &good);
    n->scfg.ticket_keys = &other;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 10000);
    assert_up(n);
    assert_false(coaps_dtls_resumed(&n->sv));
    h_free(n);
    coaps_dtls_ticket_keys_clear(&other);

    /* a server without ticket keys: no ticket, a full handshake */
    n = net(202, &good);
    n->scfg.ticket_keys = NULL;
    unsigned stores = client_saved.stores;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 10000);
    assert_established(n);
    assert_false(coaps_dtls_resumed(&n->sv));
    assert_int_equal(client_saved.stores, stores); /* neither ID nor ticket to keep */
    h_free(n);
}

/* Drop the server's first datagram that carries NewSessionTicket. */
static int drop_first_ticket(struct h_net *n, int dir, uint8_t *d, size_t *len)
{
    unsigned *seen = n->user;
    if (dir == H_S2C && *len > 13 && d[0] == 22 && d[13] == DTLS_HS_NEW_SESSION_TICKET &&
        (*seen)++ == 0)
        return 0;
    return 1;
}

/* RFC 6347 4.2.4: the server's final flight (with the ticket) lost; the
 * client repeats its flight and the lingering server resends the same
 * flight, the same ticket. */
static void lost_ticket_flight(void **state)
{
    (void)state;
    keys_at(T0);
    memset(&client_saved, 0, sizeof client_saved);
    unsigned seen = 0;
    struct h_net *n = net(50, NULL);
    n->filter = drop_first_ticket;
    n->user = &seen;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 20000);
    assert_up(n);
    assert_int_equal(seen, 2);
    assert_int_equal(client_saved.s.ticket_len, DTLS_TICKET_LEN);
    app_roundtrip(n, &n->cl, &n->sv, "after loss");
    assert_true(coaps_dtls_hs_released(&n->sv));
    h_free(n);
    h_free(resume_with(51, &client_saved.s, true));
}

/* A client that never speaks: the server lets the context go at the
 * handshake's time limit, or at once when asked, and the session goes on. */
static void linger_ends(void **state)
{
    (void)state;
    keys_at(T0);
    struct h_net *n = first_handshake(60);
    assert_false(coaps_dtls_hs_released(&n->sv));
    uint64_t until = coaps_dtls_next_deadline(&n->sv);
    assert_true(until > n->now && until - n->now <= COAPS_DTLS_HANDSHAKE_TIMEOUT_MS);
    assert_int_equal(coaps_dtls_tick(&n->sv, until - 1), COAPS_OK);
    assert_false(coaps_dtls_hs_released(&n->sv));
    assert_int_equal(coaps_dtls_tick(&n->sv, until), COAPS_OK);
    assert_true(coaps_dtls_hs_released(&n->sv));
    assert_int_equal(coaps_dtls_state(&n->sv), COAPS_DTLS_ESTABLISHED);
    app_roundtrip(n, &n->cl, &n->sv, "still here");
    h_free(n);

    n = first_handshake(61);
    coaps_dtls_release_hs(&n->sv);
    assert_true(coaps_dtls_hs_released(&n->sv));
    app_roundtrip(n, &n->sv, &n->cl, "still here");
    coaps_dtls_release_hs(&n->cl); /* a no-op on a released one */
    h_free(n);
}

/* With both a cache and tickets the server resumes either way; a client
 * without tickets sends no extension and gets none. */
static void tickets_and_ids(void **state)
{
    (void)state;
    keys_at(T0);
    h_free(first_handshake(70));
    coaps_dtls_session s = client_saved.s;
    struct h_net *n = net(71, &s);
    n->ccfg.tickets = false; /* a ticket-only session is not offered */
    unsigned stores = client_saved.stores;
    assert_int_equal(h_start(n), COAPS_OK);
    h_run(n, 10000);
    assert_established(n); /* no ticket asked for: nothing lingers */
    assert_false(coaps_dtls_resumed(&n->sv));
    assert_int_equal(client_saved.stores, stores);
    h_free(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_then_resumed), cmocka_unit_test(keys_rotate),
        cmocka_unit_test(bad_tickets),       cmocka_unit_test(lost_ticket_flight),
        cmocka_unit_test(linger_ends),       cmocka_unit_test(tickets_and_ids),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
