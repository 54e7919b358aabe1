/* test_block.c - Block options and the server side of block-wise transfers
 * (src/coap/block.c and server.c; RFC 7959). */
#include "coap/coap_test_util.h"

#define BIG_LEN 2500
static uint8_t big[BIG_LEN];
static uint8_t stored[20000];
static size_t stored_len;
static int put_calls;

static coaps_status big_get(void *user, const coaps_coap_request *req,
                            coaps_coap_response *resp)
{
    (void)user;
    (void)req;
    return coaps_coap_response_set_payload(resp, big, sizeof big);
}

static coaps_status store_put(void *user, const coaps_coap_request *req,
                              coaps_coap_response *resp)
{
    (void)user;
    (void)resp;
    const uint8_t *p = coaps_coap_request_payload(req, &stored_len);
    memcpy(stored, p, stored_len);
    put_calls++;
    return COAPS_OK;
}

static coaps_coap_endpoint *server(const coaps_coap_config *c, void **mem)
{
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7 + 3);
    coaps_coap_endpoint *ep = t_endpoint(c, mem);
    coaps_coap_resource_def d;
    coaps_coap_resource_def_init(&d, "big");
    d.handler[COAPS_COAP_GET] = big_get;
    d.handler[COAPS_COAP_PUT] = store_put;
    d.observable = true;
    assert_int_equal(coaps_coap_resource_add(ep, &d, NULL), COAPS_OK);
    put_calls = 0;
    stored_len = 0;
    return ep;
}

static void block_option_values(void **state)
{
    (void)state;
    coaps_coap_msg m;
    coaps_coap_block b = {0x12345, true, 6}, r;
    coaps_coap_msg_init(&m, COAPS_COAP_CON, COAPS_COAP_GET, 1);
    assert_int_equal(coaps_coap_msg_add_block(&m, COAPS_COAP_OPT_BLOCK2, &b), COAPS_OK);
    assert_int_equal(m.opts[0].len, 3);
    assert_int_equal(coaps_coap_msg_get_block(&m, COAPS_COAP_OPT_BLOCK2, &r), COAPS_OK);
    assert_int_equal(r.num, 0x12345);
    assert_true(r.more);
    assert_int_equal(r.szx, 6);
    /* RFC 7959 2.2: NUM 0, M 0, SZX 0 is the empty value */
    coaps_coap_block z = {0, false, 0};
    coaps_coap_msg_init(&m, COAPS_COAP_CON, COAPS_COAP_GET, 1);
    coaps_coap_msg_add_block(&m, COAPS_COAP_OPT_BLOCK1, &z);
    assert_int_equal(m.opts[0].len, 0);
    b.num = 0x100000;
    assert_int_equal(coaps_coap_msg_add_block(&m, COAPS_COAP_OPT_BLOCK1, &b), COAPS_E_INVALID);
    assert_int_equal(coaps_coap_block_size(0), 16);
    assert_int_equal(coaps_coap_block_size(6), 1024);
    assert_int_equal(coaps_coap_block_szx(1024), 6);
    assert_int_equal(coaps_coap_block_szx(100), 2);
    assert_int_equal(coaps_coap_block_szx(4096), 6);
    coaps_coap_msg_init(&m, COAPS_COAP_CON, COAPS_COAP_GET, 1);
    coaps_coap_msg_add_uint(&m, COAPS_COAP_OPT_BLOCK2, 0x0F); /* szx 7 */
    assert_int_equal(coaps_coap_msg_get_block(&m, COAPS_COAP_OPT_BLOCK2, &r), COAPS_E_MALFORMED);
}

/* GET block `num` with `szx` (or no Block2 when szx > 6), check it. */
static void fetch_block(coaps_coap_endpoint *ep, uint16_t mid, uint32_t num, uint8_t szx,
                        struct t_dgram *d)
{
    coaps_coap_msg m;
    coaps_peer p = t_peer(1);
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_GET, mid, "big");
    if (szx <= 6) {
        coaps_coap_block b = {num, false, szx};
        coaps_coap_msg_add_block(&m, COAPS_COAP_OPT_BLOCK2, &b);
    }
    t_feed(ep, &p, &m, 0);
    t_pop(ep, d);
}

/* RFC 7959 2.4: responses larger than a block are sliced; every SZX. */
static void block2_slices_for_every_size(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = server(NULL, &mem);
    uint16_t mid = 1;
    for (uint8_t szx = 0; szx <= 6; szx++) {
        size_t size = coaps_coap_block_size(szx), got = 0;
        for (uint32_t num = 0;; num++) {
            struct t_dgram d;
            fetch_block(ep, mid++, num, szx, &d);
            coaps_coap_block b;
            assert_int_equal(d.m.code, COAPS_COAP_CONTENT);
            assert_int_equal(coaps_coap_msg_get_block(&d.m, COAPS_COAP_OPT_BLOCK2, &b), COAPS_OK);
            assert_int_equal(b.num, num);
            assert_int_equal(b.szx, szx);
            assert_memory_equal(d.m.payload, big + got, d.m.payload_len);
            got += d.m.payload_len;
            if (!b.more)
                break;
            assert_int_equal(d.m.payload_len, size);
        }
        assert_int_equal(got, sizeof big);
    }
    free(mem);
}

/* No Block2 in the request: the first block at the server's size. A
 * client asking for 1024 from a server configured for 256 gets 256, with
 * the block number scaled (RFC 7959 2.4). */
static void server_default_and_smaller_server_size(void **state)
{
    (void)state;
    coaps_coap_config c;
    coaps_coap_config_default(&c);
    c.block_size = 256;
    void *mem;
    coaps_coap_endpoint *ep = server(&c, &mem);
    struct t_dgram d;
    coaps_coap_block b;
    fetch_block(ep, 1, 0, 7, &d);
    assert_int_equal(coaps_coap_msg_get_block(&d.m, COAPS_COAP_OPT_BLOCK2, &b), COAPS_OK);
    assert_int_equal(b.szx, 4);
    assert_true(b.more);
    assert_int_equal(d.m.payload_len, 256);
    fetch_block(ep, 2, 1, 6, &d); /* 1024-byte block 1 = offset 1024 */
    assert_int_equal(coaps_coap_msg_get_block(&d.m, COAPS_COAP_OPT_BLOCK2, &b), COAPS_OK);
    assert_int_equal(b.szx, 4);
    assert_int_equal(b.num, 4);
    assert_memory_equal(d.m.payload, big + 1024, 256);
    /* past the end */
    fetch_block(ep, 3, 100, 4, &d);
    assert_int_equal(d.m.code, COAPS_COAP_BAD_OPTION);
    free(mem);
}

/* RFC 7959 4: Size2 in the request (value 0) asks for the total size. */
static void size2_on_request(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = server(NULL, &mem);
    coaps_coap_msg m;
    coaps_peer p = t_peer(1);
    struct t_dgram d;
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_GET, 9, "big");
    coaps_coap_msg_add_uint(&m, COAPS_COAP_OPT_SIZE2, 0);
    t_feed(ep, &p, &m, 0);
    t_pop(ep, &d);
    assert_int_equal(t_uint(&d.m, COAPS_COAP_OPT_SIZE2), BIG_LEN);
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_GET, 10, "big");
    t_feed(ep, &p, &m, 0);
    t_pop(ep, &d);
    assert_null(coaps_coap_msg_find_option(&d.m, COAPS_COAP_OPT_SIZE2, NULL));
    free(mem);
}

/* RFC 7959 3.4: an Observe notification carries the first block. */
static void observe_notification_carries_first_block(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = server(NULL, &mem);
    coaps_coap_msg m;
    coaps_peer p = t_peer(1);
    struct t_dgram d;
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_GET, 9, "big");
    coaps_coap_msg_add_uint(&m, COAPS_COAP_OPT_OBSERVE, 0);
    t_feed(ep, &p, &m, 0);
    t_pop(ep, &d);
    assert_non_null(coaps_coap_msg_find_option(&d.m, COAPS_COAP_OPT_OBSERVE, NULL));
    coaps_coap_resource *r;
    coaps_coap_resource_def def;
    coaps_coap_resource_def_init(&def, "big");
    def.handler[COAPS_COAP_GET] = big_get;
    def.observable = true;
    assert_int_equal(coaps_coap_resource_add(ep, &def, &r), COAPS_OK); /* same: handle */
    coaps_coap_resource_notify(r);
    coaps_coap_tick(ep, 1);
    t_pop(ep, &d);
    coaps_coap_block b;
    assert_int_equal(coaps_coap_msg_get_block(&d.m, COAPS_COAP_OPT_BLOCK2, &b), COAPS_OK);
    assert_int_equal(b.num, 0);
    assert_true(b.more);
    assert_int_equal(d.m.payload_len, 1024);
    assert_non_null(coaps_coap_msg_find_option(&d.m, COAPS_COAP_OPT_OBSERVE, NULL));
    free(mem);
}

static void put_block(coaps_coap_endpoint *ep, uint16_t mid, uint32_t num, bool more,
                      uint8_t szx, const uint8_t *data, size_t len, struct t_dgram *d)
{
    coaps_coap_msg m;
    coaps_peer p = t_peer(1);
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_PUT, mid, "big");
    coaps_coap_block b = {num, more, szx};
    coaps_coap_msg_add_block(&m, COAPS_COAP_OPT_BLOCK1, &b);
    m.payload = data;
    m.payload_len = len;
    t_feed(ep, &p, &m, 0);
    t_pop(ep, d);
}

/* RFC 7959 2.5: 2.31 Continue per block, the handler sees the whole body
 * once, the final response echoes Block1. */
static void block1_reassembly(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = server(NULL, &mem);
    struct t_dgram d;
    coaps_coap_block b;
    put_block(ep, 1, 0, true, 2, big, 64, &d);
    assert_int_equal(d.m.code, COAPS_COAP_CONTINUE);
    assert_int_equal(coaps_coap_msg_get_block(&d.m, COAPS_COAP_OPT_BLOCK1, &b), COAPS_OK);
    assert_int_equal(b.num, 0);
    assert_true(b.more);
    put_block(ep, 2, 1, true, 2, big + 64, 64, &d);
    assert_int_equal(d.m.code, COAPS_COAP_CONTINUE);
    assert_int_equal(put_calls, 0);
    /* the client switches to 32-byte blocks: block 4 = offset 128 */
    put_block(ep, 3, 4, false, 1, big + 128, 10, &d);
    assert_int_equal(d.m.code, COAPS_COAP_CHANGED);
    assert_int_equal(coaps_coap_msg_get_block(&d.m, COAPS_COAP_OPT_BLOCK1, &b), COAPS_OK);
    assert_int_equal(b.num, 4);
    assert_false(b.more);
    assert_int_equal(put_calls, 1);
    assert_int_equal(stored_len, 138);
    assert_memory_equal(stored, big, 138);
    free(mem);
}

/* RFC 7959 2.9.2: a block that does not continue the body -> 4.08. */
static void block1_out_of_order_is_4_08(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = server(NULL, &mem);
    struct t_dgram d;
    put_block(ep, 1, 1, true, 2, big, 64, &d); /* no block 0 */
    assert_int_equal(d.m.code, COAPS_COAP_REQUEST_ENTITY_INCOMPLETE);
    put_block(ep, 2, 0, true, 2, big, 64, &d);
    assert_int_equal(d.m.code, COAPS_COAP_CONTINUE);
    put_block(ep, 3, 2, false, 2, big, 64, &d); /* skips block 1 */
    assert_int_equal(d.m.code, COAPS_COAP_REQUEST_ENTITY_INCOMPLETE);
    put_block(ep, 4, 0, true, 2, big, 30, &d); /* short non-last block */
    assert_int_equal(d.m.code, COAPS_COAP_BAD_REQUEST);
    assert_int_equal(put_calls, 0);
    free(mem);
}

/* RFC 7959 2.9.3: too large -> 4.13 with Size1 = what we accept. */
static void block1_too_large_is_4_13_with_size1(void **state)
{
    (void)state;
    coaps_coap_config c;
    coaps_coap_config_default(&c);
    c.max_body_size = 1024;
    void *mem;
    coaps_coap_endpoint *ep = server(&c, &mem);
    struct t_dgram d;
    uint32_t num = 0;
    for (; num < 16; num++) {
        put_block(ep, (uint16_t)(num + 1), num, true, 6, big, 1024, &d);
        if (d.m.code != COAPS_COAP_CONTINUE)
            break;
    }
    assert_int_equal(num, 1);
    assert_int_equal(d.m.code, COAPS_COAP_REQUEST_ENTITY_TOO_LARGE);
    assert_int_equal(t_uint(&d.m, COAPS_COAP_OPT_SIZE1), 1024);
    /* Size1 announcing too much is refused at block 0 */
    coaps_coap_msg m;
    coaps_peer p = t_peer(1);
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_PUT, 100, "big");
    coaps_coap_block b = {0, true, 4};
    coaps_coap_msg_add_block(&m, COAPS_COAP_OPT_BLOCK1, &b);
    coaps_coap_msg_add_uint(&m, COAPS_COAP_OPT_SIZE1, 5000);
    m.payload = big;
    m.payload_len = 256;
    t_feed(ep, &p, &m, 0);
    t_pop(ep, &d);
    assert_int_equal(d.m.code, COAPS_COAP_REQUEST_ENTITY_TOO_LARGE);
    free(mem);
}

/* Bounded number of concurrent uploads: 5.03 when all slots are busy;
 * slots of abandoned uploads expire after EXCHANGE_LIFETIME. */
static void block1_slots_are_bounded(void **state)
{
    (void)state;
    coaps_coap_config c;
    coaps_coap_config_default(&c);
    c.body_slots = 1;
    void *mem;
    coaps_coap_endpoint *ep = server(&c, &mem);
    coaps_peer p1 = t_peer(1), p2 = t_peer(2);
    coaps_coap_msg m;
    struct t_dgram d;
    coaps_coap_block b = {0, true, 2};
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_PUT, 1, "big");
    coaps_coap_msg_add_block(&m, COAPS_COAP_OPT_BLOCK1, &b);
    m.payload = big;
    m.payload_len = 64;
    t_feed(ep, &p1, &m, 0);
    t_pop(ep, &d);
    assert_int_equal(d.m.code, COAPS_COAP_CONTINUE);
    t_feed(ep, &p2, &m, 0);
    t_pop(ep, &d);
    assert_int_equal(d.m.code, COAPS_COAP_SERVICE_UNAVAILABLE);
    m.mid = 2;
    t_feed(ep, &p2, &m, 247000);
    t_pop(ep, &d);
    assert_int_equal(d.m.code, COAPS_COAP_CONTINUE);
    free(mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(block_option_values),
        cmocka_unit_test(block2_slices_for_every_size),
        cmocka_unit_test(server_default_and_smaller_server_size),
        cmocka_unit_test(size2_on_request),
        cmocka_unit_test(observe_notification_carries_first_block),
        cmocka_unit_test(block1_reassembly),
        cmocka_unit_test(block1_out_of_order_is_4_08),
        cmocka_unit_test(block1_too_large_is_4_13_with_size1),
        cmocka_unit_test(block1_slots_are_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
