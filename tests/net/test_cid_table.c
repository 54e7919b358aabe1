/*
 * test_cid_table.c - sessions by Connection ID (src/net/cid_table.c):
 * found by their CID only (the prefix shared), gone once removed, and the
 * chains intact when many share a bucket.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "net/cid_table.h"

static void cid(uint32_t n, uint8_t out[8])
{
    out[0] = 0xab; /* routing prefix */
    out[1] = 0xcd;
    memcpy(out + 2, &n, 4);
    out[6] = (uint8_t)(n >> 3);
    out[7] = 0x11;
}

static void insert_find_remove(void **state)
{
    (void)state;
    struct net_cid_table t;
    assert_int_equal(net_cid_table_init(&t, 16, 8, 2), COAPS_OK);
    uint8_t a[8], b[8];
    cid(1, a);
    cid(2, b);
    assert_int_equal(net_cid_find(&t, a), NET_CID_NONE);
    net_cid_insert(&t, 5, a);
    net_cid_insert(&t, 9, b);
    assert_int_equal(net_cid_find(&t, a), 5);
    assert_int_equal(net_cid_find(&t, b), 9);
    a[7] ^= 1; /* one bit off: another CID */
    assert_int_equal(net_cid_find(&t, a), NET_CID_NONE);
    a[7] ^= 1;
    net_cid_remove(&t, 5);
    net_cid_remove(&t, 5); /* twice: nothing */
    net_cid_remove(&t, 3); /* never had one */
    assert_int_equal(net_cid_find(&t, a), NET_CID_NONE);
    assert_int_equal(net_cid_find(&t, b), 9);
    net_cid_table_free(&t);
    assert_int_equal(net_cid_find(&t, b), NET_CID_NONE); /* freed: empty */
    assert_int_equal(net_cid_table_init(&t, 16, 0, 0), COAPS_E_INVALID);
    assert_int_equal(net_cid_table_init(&t, 16, COAPS_DTLS_CID_MAX + 1, 0), COAPS_E_INVALID);
    assert_int_equal(net_cid_table_init(&t, 16, 4, 5), COAPS_E_INVALID);
}

static void full_table_and_churn(void **state)
{
    (void)state;
    struct net_cid_table t;
    enum { CAP = 256 };
    assert_int_equal(net_cid_table_init(&t, CAP, 8, 2), COAPS_OK);
    uint8_t c[8];
    for (uint32_t round = 0; round < 20; round++) {
        for (uint32_t s = 0; s < CAP; s++) {
            cid(round * CAP + s, c);
            net_cid_insert(&t, s, c);
        }
        for (uint32_t s = 0; s < CAP; s++) {
            cid(round * CAP + s, c);
            assert_int_equal(net_cid_find(&t, c), s);
        }
        for (uint32_t s = 0; s < CAP; s++)
            net_cid_remove(&t, s);
    }
    for (uint32_t b = 0; b <= t.bucket_mask; b++)
        assert_int_equal(t.buckets[b], NET_CID_NONE);
    net_cid_table_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(insert_find_remove),
        cmocka_unit_test(full_table_and_churn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
