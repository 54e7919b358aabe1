/*
 * test_handoff.c - the workers' hand-off rings (src/net/handoff.c): order,
 * bounds, the "was empty" wake-up signal, and one writer and one reader on
 * two threads passing 200,000 datagrams with none lost, none duplicated,
 * none out of order, and no wake-up missed (the reader sleeps on a
 * condition only the writer's was_empty can end).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "net/handoff.h"

static void peer_n(coaps_peer *p, uint32_t n)
{
    memset(p, 0, sizeof *p);
    p->transport = COAPS_TRANSPORT_DTLS;
    p->addr_len = 8;
    memcpy(p->addr, &n, sizeof n);
}

static void fifo_and_bounds(void **state)
{
    (void)state;
    struct net_handoff_ring *r = calloc(1, sizeof *r);
    assert_non_null(r);
    assert_null(net_handoff_peek(r));
    uint8_t d[NET_UDP_DGRAM_MAX + 1];
    memset(d, 0xab, sizeof d);
    coaps_peer p;
    bool empty = false;
    /* a datagram longer than a slot is refused, the ring untouched */
    peer_n(&p, 1);
    assert_false(net_handoff_push(r, &p, d, sizeof d, &empty));
    assert_null(net_handoff_peek(r));
    for (uint32_t i = 0; i < NET_HANDOFF_SLOTS; i++) {
        peer_n(&p, i);
        d[0] = (uint8_t)i;
        assert_true(net_handoff_push(r, &p, d, 1 + i % 100, &empty));
        assert_int_equal(empty, i == 0); /* only the first found it empty */
    }
    peer_n(&p, 999);
    assert_false(net_handoff_push(r, &p, d, 1, &empty)); /* full */
    for (uint32_t i = 0; i < NET_HANDOFF_SLOTS; i++) {
        const struct net_handoff_slot *s = net_handoff_peek(r);
        assert_non_null(s);
        coaps_peer want;
        peer_n(&want, i);
        assert_true(coaps_peer_equal(&s->peer, &want));
        assert_int_equal(s->len, 1 + i % 100);
        assert_int_equal(s->data[0], (uint8_t)i);
        net_handoff_pop(r);
    }
    assert_null(net_handoff_peek(r));
    /* empty again: the next push says so (the reader may sleep) */
    assert_true(net_handoff_push(r, &p, d, 1, &empty));
    assert_true(empty);
    free(r);
}

#define STRESS_N 200000u

struct stress {
    struct net_handoff_ring ring;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    unsigned kicks; /* wake-ups sent, as an eventfd counts them */
};

static void *writer(void *arg)
{
    struct stress *st = arg;
    coaps_peer p;
    peer_n(&p, 7);
    uint8_t d[8];
    for (uint32_t i = 0; i < STRESS_N;) {
        memcpy(d, &i, sizeof i);
        bool empty = false;
        if (!net_handoff_push(&st->ring, &p, d, sizeof d, &empty))
            continue; /* full: the reader is behind, try again */
        i++;
        if (empty) {
            pthread_mutex_lock(&st->lock);
            st->kicks++;
            pthread_cond_signal(&st->cond);
            pthread_mutex_unlock(&st->lock);
        }
    }
    return NULL;
}

/* The reader drains, then sleeps until a kick: a missed wake-up would
 * leave it asleep with datagrams in the ring (the test's timeout). */
static void two_threads(void **state)
{
    (void)state;
    struct stress *st = calloc(1, sizeof *st);
    assert_non_null(st);
    pthread_mutex_init(&st->lock, NULL);
    pthread_cond_init(&st->cond, NULL);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, writer, st), 0);
    uint32_t next = 0;
    unsigned seen_kicks = 0;
    while (next < STRESS_N) {
        const struct net_handoff_slot *s;
        while ((s = net_handoff_peek(&st->ring)) != NULL) {
            uint32_t v;
            assert_int_equal(s->len, 8);
            memcpy(&v, s->data, sizeof v);
            assert_int_equal(v, next);
            next++;
            net_handoff_pop(&st->ring);
        }
        if (next == STRESS_N)
            break;
        pthread_mutex_lock(&st->lock);
        while (st->kicks == seen_kicks)
            pthread_cond_wait(&st->cond, &st->lock);
        seen_kicks = st->kicks;
        pthread_mutex_unlock(&st->lock);
    }
    pthread_join(t, NULL);
    assert_null(net_handoff_peek(&st->ring));
    pthread_cond_destroy(&st->cond);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fifo_and_bounds),
        cmocka_unit_test(two_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
