/* test_observe_state.c - a peer's Observe registrations to bytes and back
 * (src/coap/observe_state.c), as durable sessions carry them across a
 * server restart: the restored observers get the next notification, with
 * their tokens and a newer Observe number; a pending change survives;
 * registrations of a resource the new endpoint lacks are left out; bytes
 * that are not a sound export change nothing. */
#include "coap/coap_test_util.h"
#include "coap/endpoint.h"
#include "coap/observe_state.h"

static int temp = 20;
static coaps_coap_resource *temp_res;

static coaps_status temp_get(void *user, const coaps_coap_request *req,
                             coaps_coap_response *resp)
{
    (void)user, (void)req;
    char b[16];
    int n = snprintf(b, sizeof b, "%d", temp);
    return coaps_coap_response_set_payload(resp, b, (size_t)n);
}

static coaps_coap_endpoint *server(void **mem, const char *path)
{
    coaps_coap_endpoint *ep = t_endpoint(NULL, mem);
    coaps_coap_resource_def d;
    coaps_coap_resource_def_init(&d, "other");
    d.handler[COAPS_COAP_GET] = temp_get;
    assert_int_equal(coaps_coap_resource_add(ep, &d, NULL), COAPS_OK);
    coaps_coap_resource_def_init(&d, path);
    d.handler[COAPS_COAP_GET] = temp_get;
    d.observable = true;
    assert_int_equal(coaps_coap_resource_add(ep, &d, &temp_res), COAPS_OK);
    return ep;
}

static uint32_t register_one(coaps_coap_endpoint *ep, const coaps_peer *p, uint8_t tok)
{
    coaps_coap_msg m;
    struct t_dgram d;
    coaps_coap_msg_init(&m, COAPS_COAP_CON, COAPS_COAP_GET, (uint16_t)(100 + tok));
    coaps_coap_msg_set_token(&m, &tok, 1);
    coaps_coap_msg_add_uint(&m, COAPS_COAP_OPT_OBSERVE, 0);
    coaps_coap_msg_add_option(&m, COAPS_COAP_OPT_URI_PATH, "temp", 4);
    t_feed(ep, p, &m, 0);
    t_pop(ep, &d);
    assert_int_equal(d.m.code, COAPS_COAP_CONTENT);
    return t_uint(&d.m, COAPS_COAP_OPT_OBSERVE);
}

static size_t export_peer(coaps_coap_endpoint *ep, const coaps_peer *p, uint8_t *buf, size_t cap)
{
    struct wire_wr w = wire_wr_init(buf, cap);
    assert_int_equal(coap_observe_state_export(ep, p, 5000, &w), COAPS_OK);
    return w.off;
}

static void observers_survive_a_restart(void **state)
{
    (void)state;
    void *mem, *mem2;
    coaps_coap_endpoint *ep = server(&mem, "temp");
    coaps_peer p1 = t_peer(1), p2 = t_peer(2);
    uint32_t s1 = register_one(ep, &p1, 0x11);
    uint32_t s2 = register_one(ep, &p1, 0x22);
    register_one(ep, &p2, 0x33);
    uint8_t buf[2048];
    size_t len = export_peer(ep, &p1, buf, sizeof buf);
    assert_int_equal(buf[0], 2); /* p1's two, not p2's */
    free(mem);

    /* the restarted server, a new endpoint */
    coaps_coap_endpoint *ep2 = server(&mem2, "temp");
    assert_int_equal(coap_observe_state_import(ep2, &p1, 100, buf, len), COAPS_OK);
    assert_int_equal(coaps_coap_resource_observer_count(temp_res), 2);
    temp = 25;
    coaps_coap_resource_notify(temp_res);
    coaps_coap_tick(ep2, 200);
    bool seen11 = false, seen22 = false;
    for (int i = 0; i < 2; i++) {
        struct t_dgram d;
        t_pop(ep2, &d);
        assert_true(coaps_peer_equal(&d.to, &p1));
        t_payload_is(&d.m, "25");
        uint32_t seq = t_uint(&d.m, COAPS_COAP_OPT_OBSERVE);
        if (d.m.token[0] == 0x11) {
            seen11 = true;
            assert_true(seq > s1);
        } else {
            assert_int_equal(d.m.token[0], 0x22);
            seen22 = true;
            assert_true(seq > s2);
        }
    }
    assert_true(seen11 && seen22);
    t_none(ep2);
    /* importing the same again replaces, never doubles */
    assert_int_equal(coap_observe_state_import(ep2, &p1, 100, buf, len), COAPS_OK);
    assert_int_equal(coaps_coap_resource_observer_count(temp_res), 2);
    free(mem2);
}

/* A change marked before the save is sent after the restore, unasked. */
static void pending_change_survives(void **state)
{
    (void)state;
    void *mem, *mem2;
    coaps_coap_endpoint *ep = server(&mem, "temp");
    coaps_peer p1 = t_peer(1);
    register_one(ep, &p1, 0x44);
    coaps_coap_resource_notify(temp_res);
    uint8_t buf[1024];
    size_t len = export_peer(ep, &p1, buf, sizeof buf);
    free(mem);
    coaps_coap_endpoint *ep2 = server(&mem2, "temp");
    assert_int_equal(coap_observe_state_import(ep2, &p1, 100, buf, len), COAPS_OK);
    assert_true(coaps_coap_next_deadline(ep2) == 0);
    coaps_coap_tick(ep2, 200);
    struct t_dgram d;
    t_pop(ep2, &d);
    assert_int_equal(d.m.token[0], 0x44);
    free(mem2);
}

static void unknown_resource_and_bad_bytes(void **state)
{
    (void)state;
    void *mem, *mem2;
    coaps_coap_endpoint *ep = server(&mem, "temp");
    coaps_peer p1 = t_peer(1);
    register_one(ep, &p1, 0x55);
    uint8_t buf[1024];
    size_t len = export_peer(ep, &p1, buf, sizeof buf);
    free(mem);
    /* a server without /temp: nothing registered, no error */
    coaps_coap_endpoint *ep2 = server(&mem2, "humidity");
    assert_int_equal(coap_observe_state_import(ep2, &p1, 100, buf, len), COAPS_OK);
    assert_int_equal(coaps_coap_resource_observer_count(temp_res), 0);
    free(mem2);
    ep2 = server(&mem2, "temp");
    /* truncated at every length, a byte more: refused, nothing registered */
    for (size_t cut = 0; cut < len; cut++)
        assert_int_not_equal(coap_observe_state_import(ep2, &p1, 100, buf, cut), COAPS_OK);
    buf[len] = 0;
    assert_int_equal(coap_observe_state_import(ep2, &p1, 100, buf, len + 1), COAPS_E_MALFORMED);
    uint8_t bad[1024];
    memcpy(bad, buf, len);
    bad[0] = COAP_OBS_STATE_PER_PEER + 1; /* too many */
    assert_int_not_equal(coap_observe_state_import(ep2, &p1, 100, bad, len), COAPS_OK);
    memcpy(bad, buf, len);
    bad[1 + 1 + 4] = 9; /* token length 9 (after count, path "temp") */
    assert_int_not_equal(coap_observe_state_import(ep2, &p1, 100, bad, len), COAPS_OK);
    memcpy(bad, buf, len);
    bad[1 + 1 + 4 + 1] = 0x56; /* the token no longer the request's */
    assert_int_not_equal(coap_observe_state_import(ep2, &p1, 100, bad, len), COAPS_OK);
    assert_int_equal(coaps_coap_resource_observer_count(temp_res), 0);
    free(mem2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(observers_survive_a_restart),
        cmocka_unit_test(pending_change_survives),
        cmocka_unit_test(unknown_resource_and_bad_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
