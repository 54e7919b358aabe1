/*
 * coap_test_util.h - shared helpers of the tests/coap/ unit tests: an
 * endpoint on malloc'd memory, peers, and the datagrams it queues.
 * Header-only (static functions) so each test stays one file.
 */
#ifndef COAPS_TEST_COAP_UTIL_H
#define COAPS_TEST_COAP_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "coaps/coap.h"

#define T_MSG_MAX 1280

static inline coaps_peer t_peer(uint8_t n)
{
    coaps_peer p;
    memset(&p, 0, sizeof p);
    p.addr[0] = 127;
    p.addr[3] = n;
    p.addr_len = 4;
    p.transport = COAPS_TRANSPORT_UDP;
    return p;
}

static inline coaps_coap_endpoint *t_endpoint(const coaps_coap_config *cfg_in, void **mem)
{
    coaps_coap_config cfg;
    if (cfg_in) {
        cfg = *cfg_in;
    } else {
        coaps_coap_config_default(&cfg);
        cfg.random_seed = 42;
    }
    size_t n = coaps_coap_endpoint_size(&cfg);
    assert_true(n > 0);
    *mem = malloc(n);
    assert_non_null(*mem);
    coaps_coap_endpoint *ep = NULL;
    assert_int_equal(coaps_coap_endpoint_init(*mem, n, &cfg, &ep), COAPS_OK);
    return ep;
}

/* One queued datagram, kept with its bytes so a parsed view stays valid. */
struct t_dgram {
    coaps_peer to;
    uint8_t buf[T_MSG_MAX];
    size_t len;
    coaps_coap_msg m;
};

/* Pop the next datagram; fails the test when there is none. */
static inline void t_pop(coaps_coap_endpoint *ep, struct t_dgram *d)
{
    coaps_status st = coaps_coap_output(ep, &d->to, d->buf, sizeof d->buf, &d->len, 0);
    assert_int_equal(st, COAPS_OK);
    assert_int_equal(coaps_coap_msg_parse(&d->m, d->buf, d->len), COAPS_OK);
}

static inline void t_none(coaps_coap_endpoint *ep)
{
    struct t_dgram d;
    assert_int_equal(coaps_coap_output(ep, &d.to, d.buf, sizeof d.buf, &d.len, 0),
                     COAPS_E_AGAIN);
}

static inline size_t t_drain(coaps_coap_endpoint *ep)
{
    struct t_dgram d;
    size_t n = 0;
    while (coaps_coap_output(ep, &d.to, d.buf, sizeof d.buf, &d.len, 0) == COAPS_OK)
        n++;
    return n;
}

/* Encode m and feed it to ep. */
static inline void t_feed(coaps_coap_endpoint *ep, const coaps_peer *from,
                          const coaps_coap_msg *m, uint64_t now)
{
    uint8_t buf[T_MSG_MAX];
    size_t len;
    assert_int_equal(coaps_coap_msg_encode(m, buf, sizeof buf, &len), COAPS_OK);
    assert_int_equal(coaps_coap_input(ep, from, buf, len, now), COAPS_OK);
}

static inline void t_feed_bytes(coaps_coap_endpoint *ep, const coaps_peer *from,
                                const uint8_t *b, size_t len, uint64_t now)
{
    assert_int_equal(coaps_coap_input(ep, from, b, len, now), COAPS_OK);
}

/* A request with a path ("a/b") and a 2-byte token. */
static inline void t_req(coaps_coap_msg *m, uint8_t type, uint8_t code, uint16_t mid,
                         const char *path)
{
    static const uint8_t tok[2] = {0xAB, 0xCD};
    coaps_coap_msg_init(m, type, code, mid);
    coaps_coap_msg_set_token(m, tok, sizeof tok);
    while (path && *path) {
        const char *e = strchr(path, '/');
        size_t n = e ? (size_t)(e - path) : strlen(path);
        assert_int_equal(coaps_coap_msg_add_option(m, COAPS_COAP_OPT_URI_PATH, path, n),
                         COAPS_OK);
        path = e ? e + 1 : NULL;
    }
}

static inline uint32_t t_uint(const coaps_coap_msg *m, uint16_t number)
{
    uint32_t v = 0xFFFFFFFFu;
    assert_int_equal(coaps_coap_msg_get_uint(m, number, &v), COAPS_OK);
    return v;
}

static inline void t_payload_is(const coaps_coap_msg *m, const char *s)
{
    assert_int_equal(m->payload_len, strlen(s));
    if (m->payload_len)
        assert_memory_equal(m->payload, s, m->payload_len);
}

#endif /* COAPS_TEST_COAP_UTIL_H */
