/* test_link_format.c - /.well-known/core (src/coap/link_format.c,
 * RFC 6690 2 and 4.1). */
#include "coap/coap_test_util.h"

static coaps_status noop(void *user, const coaps_coap_request *req, coaps_coap_response *resp)
{
    (void)user;
    (void)req;
    (void)resp;
    return COAPS_OK;
}

static coaps_coap_endpoint *server(void **mem)
{
    coaps_coap_endpoint *ep = t_endpoint(NULL, mem);
    coaps_coap_resource_def d;
    coaps_coap_resource_def_init(&d, "sensors/temp");
    d.handler[COAPS_COAP_GET] = noop;
    d.rt = "temperature-c";
    d.if_ = "sensor";
    d.ct = COAPS_COAP_CF_TEXT_PLAIN;
    d.observable = true;
    assert_int_equal(coaps_coap_resource_add(ep, &d, NULL), COAPS_OK);
    coaps_coap_resource_def_init(&d, "sensors/light");
    d.handler[COAPS_COAP_GET] = noop;
    d.rt = "light-lux core.sen-light";
    d.if_ = "sensor";
    d.sz = 1234;
    assert_int_equal(coaps_coap_resource_add(ep, &d, NULL), COAPS_OK);
    coaps_coap_resource_def_init(&d, "secret");
    d.handler[COAPS_COAP_GET] = noop;
    d.hidden = true;
    assert_int_equal(coaps_coap_resource_add(ep, &d, NULL), COAPS_OK);
    return ep;
}

static void wk_get(coaps_coap_endpoint *ep, const char *query, struct t_dgram *d)
{
    coaps_coap_msg m;
    coaps_peer p = t_peer(1);
    static uint16_t mid;
    t_req(&m, COAPS_COAP_CON, COAPS_COAP_GET, ++mid, ".well-known/core");
    if (query)
        coaps_coap_msg_add_option(&m, COAPS_COAP_OPT_URI_QUERY, query, strlen(query));
    t_feed(ep, &p, &m, 0);
    t_pop(ep, d);
    assert_int_equal(d->m.code, COAPS_COAP_CONTENT);
    assert_int_equal(t_uint(&d->m, COAPS_COAP_OPT_CONTENT_FORMAT), COAPS_COAP_CF_LINK_FORMAT);
}

static void lists_all_visible_resources(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = server(&mem);
    struct t_dgram d;
    wk_get(ep, NULL, &d);
    t_payload_is(&d.m, "</sensors/temp>;rt=\"temperature-c\";if=\"sensor\";ct=0;obs,"
                       "</sensors/light>;rt=\"light-lux core.sen-light\";if=\"sensor\";sz=1234");
    free(mem);
}

static void filters_by_attribute(void **state)
{
    (void)state;
    void *mem;
    coaps_coap_endpoint *ep = server(&mem);
    struct t_dgram d;
    wk_get(ep, "rt=light-lux", &d);
    t_payload_is(&d.m, "</sensors/light>;rt=\"light-lux core.sen-light\";if=\"sensor\";sz=1234");
    wk_get(ep, "rt=core.sen-light", &d); /* second of two rt values */
    assert_int_equal(d.m.payload_len > 0, 1);
    wk_get(ep, "rt=temp*", &d); /* prefix */
    t_payload_is(&d.m, "</sensors/temp>;rt=\"temperature-c\";if=\"sensor\";ct=0;obs");
    wk_get(ep, "href=/sensors/temp", &d);
    t_payload_is(&d.m, "</sensors/temp>;rt=\"temperature-c\";if=\"sensor\";ct=0;obs");
    wk_get(ep, "href=/sensors/*", &d);
    assert_non_null(memchr(d.m.payload, ',', d.m.payload_len));
    wk_get(ep, "if=sensor", &d);
    assert_non_null(memchr(d.m.payload, ',', d.m.payload_len));
    wk_get(ep, "ct=0", &d);
    t_payload_is(&d.m, "</sensors/temp>;rt=\"temperature-c\";if=\"sensor\";ct=0;obs");
    wk_get(ep, "sz=1234", &d);
    t_payload_is(&d.m, "</sensors/light>;rt=\"light-lux core.sen-light\";if=\"sensor\";sz=1234");
    wk_get(ep, "rt=nothing", &d);
    t_payload_is(&d.m, "");
    wk_get(ep, "title=x", &d);
    t_payload_is(&d.m, "");
    wk_get(ep, "rt=light", &d); /* exact match only without '*' */
    t_payload_is(&d.m, "");
    free(mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lists_all_visible_resources),
        cmocka_unit_test(filters_by_attribute),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
