/* test_client.c - client requests against a server endpoint in memory
 * (src/coap/client.c; RFC 7252 4.7, 5.2; RFC 7959 2.4, 2.5; RFC 7641 3). */
#include "coap/coap_test_util.h"

#define BIG_LEN 2500
static uint8_t big[BIG_LEN];
static uint8_t got_put[8000];
static size_t got_put_len;
static coaps_coap_deferred deferred;
static bool defer_next;
static int temp = 1;
static coaps_coap_resource *temp_res;

static coaps_status big_get(void *user, const coaps_coap_request *req,
                            coaps_coap_response *resp)
{
    (void)user;
    (void)req;
    if (defer_next)
        return coaps_coap_response_defer(resp, &deferred);
    return coaps_coap_response_set_payload(resp, big, sizeof big);
}

static coaps_status big_put(void *user, const coaps_coap_request *req,
                            coaps_coap_response *resp)
{
    (void)user;
    (void)resp;
    const uint8_t *p = coaps_coap_request_payload(req, &got_put_len);
    memcpy(got_put, p, got_put_len);
    return COAPS_OK;
}

static coaps_status temp_get(void *user, const coaps_coap_request *req,
                             coaps_coap_response *resp)
{
    (void)user;
    (void)req;
    char b[8];
    int n = snprintf(b, sizeof b, "%d", temp);
    return coaps_coap_response_set_payload(resp, b, (size_t)n);
}

struct pair {
    void *cmem, *smem;
    coaps_coap_endpoint *cli, *srv;
    coaps_peer cp, sp;
};

static void pair_up(struct pair *p, const coaps_coap_config *ccfg)
{
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 13 + 1);
    p->cli = t_endpoint(ccfg, &p->cmem);
    p->srv = t_endpoint(NULL, &p->smem);
    p->cp = t_peer(1);
    p->sp = t_peer(2);
    coaps_coap_resource_def d;
    coaps_coap_resource_def_init(&d, "big");
    d.handler[COAPS_COAP_GET] = big_get;
    d.handler[COAPS_COAP_PUT] = big_put;
    assert_int_equal(coaps_coap_resource_add(p->srv, &d, NULL), COAPS_OK);
    coaps_coap_resource_def_init(&d, "temp");
    d.handler[COAPS_COAP_GET] = temp_get;
    d.observable = true;
    assert_int_equal(coaps_coap_resource_add(p->srv, &d, &temp_res), COAPS_OK);
    defer_next = false;
    got_put_len = 0;
    temp = 1;
}

static void pair_free(struct pair *p)
{
    free(p->cmem);
    free(p->smem);
}

/* Move datagrams both ways until quiet; returns how many moved. */
static int relay(struct pair *p, uint64_t now)
{
    int moved = 0;
    for (bool again = true; again;) {
        again = false;
        struct t_dgram d;
        while (coaps_coap_output(p->cli, &d.to, d.buf, sizeof d.buf, &d.len, now) == COAPS_OK) {
            assert_true(coaps_peer_equal(&d.to, &p->sp));
            coaps_coap_input(p->srv, &p->cp, d.buf, d.len, now);
            again = true;
            moved++;
        }
        while (coaps_coap_output(p->srv, &d.to, d.buf, sizeof d.buf, &d.len, now) == COAPS_OK) {
            assert_true(coaps_peer_equal(&d.to, &p->cp));
            coaps_coap_input(p->cli, &p->sp, d.buf, d.len, now);
            again = true;
            moved++;
        }
    }
    return moved;
}

struct seen {
    int calls;
    coaps_coap_client_event last;
    uint8_t body[8000];
    size_t body_len;
    int notifications;
};

static void on_event(void *user, const coaps_coap_client_event *ev)
{
    struct seen *s = user;
    s->calls++;
    s->last = *ev;
    s->last.msg = NULL;
    s->body_len = ev->payload_len;
    if (ev->payload_len)
        memcpy(s->body, ev->payload, ev->payload_len);
    if (ev->is_notification)
        s->notifications++;
}

static void request(struct pair *p, struct seen *s, uint8_t method, const char *path,
                    coaps_coap_client_request *out)
{
    coaps_coap_client_request_init(out);
    out->peer = p->sp;
    out->method = method;
    out->uri_path = path;
    out->cb = on_event;
    out->user = s;
    memset(s, 0, sizeof *s);
}

/* A GET larger than one block comes back reassembled in one callback. */
static void get_fetches_all_block2_blocks(void **state)
{
    (void)state;
    struct pair p;
    pair_up(&p, NULL);
    struct seen s;
    coaps_coap_client_request r;
    request(&p, &s, COAPS_COAP_GET, "/big", &r);
    assert_int_equal(coaps_coap_request_send(p.cli, &r, 0, NULL), COAPS_OK);
    assert_int_equal(relay(&p, 0), 6); /* 3 requests, 3 blocks */
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.last.status, COAPS_OK);
    assert_true(s.last.final);
    assert_int_equal(s.last.code, COAPS_COAP_CONTENT);
    assert_int_equal(s.body_len, BIG_LEN);
    assert_memory_equal(s.body, big, BIG_LEN);
    assert_true(coaps_coap_next_deadline(p.cli) == UINT64_MAX);
    pair_free(&p);
}

/* The block size asked for is used from the first request (early
 * negotiation, RFC 7959 2.4). */
static void get_with_small_block_size(void **state)
{
    (void)state;
    struct pair p;
    pair_up(&p, NULL);
    struct seen s;
    coaps_coap_client_request r;
    request(&p, &s, COAPS_COAP_GET, "big", &r);
    r.block_size = 256;
    assert_int_equal(coaps_coap_request_send(p.cli, &r, 0, NULL), COAPS_OK);
    assert_int_equal(relay(&p, 0), 2 * 10);
    assert_int_equal(s.body_len, BIG_LEN);
    assert_memory_equal(s.body, big, BIG_LEN);
    pair_free(&p);
}

static uint8_t etag_now = 1;

static coaps_status tagged_big_get(void *user, const coaps_coap_request *req,
                                   coaps_coap_response *resp)
{
    (void)user;
    (void)req;
    uint8_t tag = etag_now;
    big[0] = tag;
    if (etag_now < 3)
        etag_now++; /* changes on the first reads, then settles */
    coaps_coap_response_set_etag(resp, &tag, 1);
    return coaps_coap_response_set_payload(resp, big, sizeof big);
}

/* RFC 7959 2.4: an ETag change between blocks restarts the download, so
 * the body delivered is one consistent representation. */
static void block2_restarts_when_etag_changes(void **state)
{
    (void)state;
    struct pair p;
    pair_up(&p, NULL);
    coaps_coap_resource_def d;
    coaps_coap_resource_def_init(&d, "tagged");
    d.handler[COAPS_COAP_GET] = tagged_big_get;
    assert_int_equal(coaps_coap_resource_add(p.srv, &d, NULL), COAPS_OK);
    etag_now = 1;
    struct seen s;
    coaps_coap_client_request r;
    request(&p, &s, COAPS_COAP_GET, "tagged", &r);
    assert_int_equal(coaps_coap_request_send(p.cli, &r, 0, NULL), COAPS_OK);
    relay(&p, 0);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.last.status, COAPS_OK);
    assert_int_equal(s.body_len, BIG_LEN);
    assert_int_equal(s.body[0], 3); /* block 0 of the settled version */
    assert_memory_equal(s.body + 1, big + 1, BIG_LEN - 1);
    /* the same from a later block: the restart goes back to that block */
    etag_now = 1;
    request(&p, &s, COAPS_COAP_GET, "tagged", &r);
    r.block_size = 512;
    r.block2_start = 2;
    assert_int_equal(coaps_coap_request_send(p.cli, &r, 0, NULL), COAPS_OK);
    relay(&p, 0);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.last.status, COAPS_OK);
    assert_int_equal(s.body_len, BIG_LEN - 1024);
    assert_memory_equal(s.body, big + 1024, BIG_LEN - 1024);
    pair_free(&p);
}

static int post_calls;

static coaps_status big_post(void *user, const coaps_coap_request *req,
                             coaps_coap_response *resp)
{
    (void)user;
    (void)req;
    post_calls++;
    return coaps_coap_response_set_payload(resp, big, sizeof big);
}

/* RFC 7959 3.3: a POST whose answer needs several blocks runs its handler
 * once; the Block2 follow-ups are served from the kept response. */
static void post_with_large_response_runs_handler_once(void **state)
{
    (void)state;
    struct pair p;
    pair_up(&p, NULL);
    coaps_coap_resource_def d;
    coaps_coap_resource_def_init(&d, "rpc");
    d.handler[COAPS_COAP_POST] = big_post;
    assert_int_equal(coaps_coap_resource_add(p.srv, &d, NULL), COAPS_OK);
    post_calls = 0;
    struct seen s;
    coaps_coap_client_request r;
    request(&p, &s, COAPS_COAP_POST, "rpc", &r);
    r.payload = big;
    r.payload_len = 1500; /* two Block1 blocks up, three Block2 blocks down */
    assert_int_equal(coaps_coap_request_send(p.cli, &r, 0, NULL), COAPS_OK);
    relay(&p, 0);
    assert_int_equal(post_calls, 1);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.last.code, COAPS_COAP_CHANGED);
    assert_int_equal(s.body_len, BIG_LEN);
    assert_memory_equal(s.body, big, BIG_LEN);
    pair_free(&p);
}

/* A body larger than max_body_size fails cleanly. */
static void block2_body_too_large(void **state)
{
    (void)state;
    coaps_coap_config c;
    coaps_coap_config_default(&c);
    c.max_body_size = 2048;
    struct pair p;
    pair_up(&p, &c);
    struct seen s;
    coaps_coap_client_request r;
    request(&p, &s, COAPS_COAP_GET, "big", &r);
    assert_int_equal(coaps_coap_request_send(p.cli, &r, 0, NULL), COAPS_OK);
    relay(&p, 0);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.last.status, COAPS_E_NOSPACE);
    pair_free(&p);
}

/* A large PUT goes out as Block1 blocks and arrives whole. */
static void put_sends_block1_blocks(void **state)
{
    (void)state;
    struct pair p;
    pair_up(&p, NULL);
    struct seen s;
    coaps_coap_client_request r;
    request(&p, &s, COAPS_COAP_PUT, "big", &r);
    r.payload = big;
    r.payload_len = BIG_LEN;
    assert_int_equal(coaps_coap_request_send(p.cli, &r, 0, NULL), COAPS_OK);
    assert_int_equal(relay(&p, 0), 6);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.last.code, COAPS_COAP_CHANGED);
    assert_int_equal(got_put_len, BIG_LEN);
    assert_memory_equal(got_put, big, BIG_LEN);
    pair_free(&p);
}

/* RFC 7959 2.5: the server answers 2.31 with a smaller SZX; the client
 * continues at the right offset with the smaller size. */
static void block1_adapts_to_smaller_server_size(void **state)
{
    (void)state;
    struct pair p;
    pair_up(&p, NULL);
    struct seen s;
    coaps_coap_client_request r;
    request(&p, &s, COAPS_COAP_PUT, "big", &r);
    r.payload = big;
    r.payload_len = BIG_LEN;
    assert_int_equal(coaps_coap_request_send(p.cli, &r, 0, NULL), COAPS_OK);
    struct t_dgram d;
    t_pop(p.cli, &d);
    coaps_coap_block b;
    assert_int_equal(coaps_coap_msg_get_block(&d.m, COAPS_COAP_OPT_BLOCK1, &b), COAPS_OK);
    assert_int_equal(b.szx, 6);
    assert_int_equal(t_uint(&d.m, COAPS_COAP_OPT_SIZE1), BIG_LEN);
    coaps_coap_msg a;
    coaps_coap_msg_init(&a, COAPS_COAP_ACK, COAPS_COAP_CONTINUE, d.m.mid);
    coaps_coap_msg_set_token(&a, d.m.token, d.m.token_len);
    coaps_coap_block sb = {0, true, 4};
    coaps_coap_msg_add_block(&a, COAPS_COAP_OPT_BLOCK1, &sb);
    t_feed(p.cli, &p.sp, &a, 10);
    t_pop(p.cli, &d);
    assert_int_equal(coaps_coap_msg_get_block(&d.m, COAPS_COAP_OPT_BLOCK1, &b), COAPS_OK);
    assert_int_equal(b.szx, 4);
    assert_int_equal(b.num, 4); /* offset 1024 in 256-byte blocks */
    assert_int_equal(d.m.payload_len, 256);
    assert_memory_equal(d.m.payload, big + 1024, 256);
    pair_free(&p);
}

/* RFC 7252 5.2.2: empty ACK, then a CON response that the client ACKs. */
static void separate_response_is_delivered(void **state)
{
    (void)state;
    struct pair p;
    pair_up(&p, NULL);
    defer_next = true;
    struct seen s;
    coaps_coap_client_request r;
    request(&p, &s, COAPS_COAP_GET, "big", &r);
    assert_int_equal(coaps_coap_request_send(p.cli, &r, 0, NULL), COAPS_OK);
    relay(&p, 0);
    assert_int_equal(s.calls, 0);
    /* no retransmission once ACKed; waiting for the response */
    assert_true(coaps_coap_next_deadline(p.cli) >= 247000);
    uint8_t buf[16];
    coaps_coap_response resp;
    coaps_coap_response_init(&resp, COAPS_COAP_CONTENT, buf, sizeof buf);
    coaps_coap_response_set_payload(&resp, "ok", 2);
    assert_int_equal(coaps_coap_deferred_respond(p.srv, &deferred, &resp, 100), COAPS_OK);
    assert_int_equal(relay(&p, 100), 2); /* CON response + its ACK */
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.body_len, 2);
    assert_true(coaps_coap_next_deadline(p.srv) == UINT64_MAX);
    pair_free(&p);
}

/* RFC 7252 4.7: NSTART=1: the second request waits for the first. */
static void nstart_queues_requests(void **state)
{
    (void)state;
    struct pair p;
    pair_up(&p, NULL);
    struct seen s1, s2;
    coaps_coap_client_request r1, r2;
    request(&p, &s1, COAPS_COAP_GET, "temp", &r1);
    request(&p, &s2, COAPS_COAP_GET, "temp", &r2);
    assert_int_equal(coaps_coap_request_send(p.cli, &r1, 0, NULL), COAPS_OK);
    assert_int_equal(coaps_coap_request_send(p.cli, &r2, 0, NULL), COAPS_OK);
    struct t_dgram d;
    t_pop(p.cli, &d);
    t_none(p.cli);
    coaps_coap_input(p.srv, &p.cp, d.buf, d.len, 0);
    t_pop(p.srv, &d);
    coaps_coap_input(p.cli, &p.sp, d.buf, d.len, 0);
    assert_int_equal(s1.calls, 1);
    t_pop(p.cli, &d); /* now the second goes */
    coaps_coap_input(p.srv, &p.cp, d.buf, d.len, 0);
    relay(&p, 0);
    assert_int_equal(s2.calls, 1);
    /* another peer is not held up */
    pair_free(&p);
}

/* RFC 7641 3: notifications reach the same callback until cancelled; a
 * notification after a cancel is answered with RST, removing the
 * observer. */
static void observe_until_cancelled(void **state)
{
    (void)state;
    struct pair p;
    pair_up(&p, NULL);
    struct seen s;
    coaps_coap_client_request r;
    request(&p, &s, COAPS_COAP_GET, "temp", &r);
    r.observe = true;
    coaps_coap_request_id id;
    assert_int_equal(coaps_coap_request_send(p.cli, &r, 0, &id), COAPS_OK);
    relay(&p, 0);
    assert_int_equal(s.calls, 1);
    assert_true(s.last.is_notification);
    assert_false(s.last.final);
    assert_int_equal(coaps_coap_resource_observer_count(temp_res), 1);
    for (int i = 2; i <= 4; i++) {
        temp = i;
        coaps_coap_resource_notify(temp_res);
        coaps_coap_tick(p.srv, (uint64_t)i);
        relay(&p, (uint64_t)i);
        assert_int_equal(s.calls, i);
        assert_int_equal(s.body[0], '0' + i);
    }
    assert_int_equal(s.notifications, 4);
    /* no response timeout: only the re-registration, 60 s (the default
     * Max-Age) and 2-5 s after the last notification */
    uint64_t due = coaps_coap_next_deadline(p.cli);
    assert_true(due >= 4 + 62000 && due <= 4 + 65000);
    assert_int_equal(coaps_coap_request_cancel(p.cli, id, false, 10), COAPS_OK);
    assert_int_equal(coaps_coap_request_cancel(p.cli, id, false, 10), COAPS_E_NOT_FOUND);
    coaps_coap_resource_notify(temp_res);
    coaps_coap_tick(p.srv, 11);
    relay(&p, 11);
    assert_int_equal(s.calls, 4);
    assert_int_equal(coaps_coap_resource_observer_count(temp_res), 0);
    pair_free(&p);
}

/* An observable resource at path on the pair's server, GET by get. */
static coaps_coap_resource *add_observable(struct pair *p, const char *path,
                                           coaps_coap_handler get)
{
    coaps_coap_resource_def d;
    coaps_coap_resource *res;
    coaps_coap_resource_def_init(&d, path);
    d.handler[COAPS_COAP_GET] = get;
    d.observable = true;
    assert_int_equal(coaps_coap_resource_add(p->srv, &d, &res), COAPS_OK);
    return res;
}

/* GET path with Observe=0 from the pair's client at time 0, relayed. */
static void observe_at_0(struct pair *p, struct seen *s, const char *path)
{
    coaps_coap_client_request r;
    request(p, s, COAPS_COAP_GET, path, &r);
    r.observe = true;
    assert_int_equal(coaps_coap_request_send(p->cli, &r, 0, NULL), COAPS_OK);
    relay(p, 0);
}

/* Counts the registrations temp sees (GET with Observe=0). */
static int temp_registrations;
static uint32_t temp_max_age = 60;

static coaps_status temp_get_counted(void *user, const coaps_coap_request *req,
                                     coaps_coap_response *resp)
{
    uint32_t obs;
    if (!coaps_coap_request_is_notification(req) &&
        coaps_coap_msg_get_uint(coaps_coap_request_msg(req), COAPS_COAP_OPT_OBSERVE, &obs) ==
            COAPS_OK &&
        obs == 0)
        temp_registrations++;
    coaps_coap_response_set_max_age(resp, temp_max_age);
    return temp_get(user, req, resp);
}

/* RFC 7641 3.3.1: a server that forgot its observer (a restart) sends
 * nothing more; once the last notification's Max-Age has run out the
 * client registers again with the same token, the callback goes on with
 * the new notifications (the server's sequence numbers start afresh), and
 * a server that stays silent ends the observation with a timeout. */
static void observe_reregisters_after_max_age(void **state)
{
    (void)state;
    struct pair p;
    pair_up(&p, NULL);
    coaps_coap_resource *res = add_observable(&p, "temp2", temp_get_counted);
    temp_registrations = 0;
    temp_max_age = 10;
    struct seen s = {0};
    observe_at_0(&p, &s, "temp2");
    assert_int_equal(s.notifications, 1);
    assert_int_equal(temp_registrations, 1);
    /* the server forgets us (as after a restart without its state) */
    coaps_coap_forget_peer(p.srv, &p.cp);
    assert_int_equal(coaps_coap_resource_observer_count(res), 0);
    /* before Max-Age + 2 s: nothing */
    coaps_coap_tick(p.cli, 11999);
    assert_int_equal(relay(&p, 11999), 0);
    /* by Max-Age + 5 s: the registration again, answered as a notification */
    uint64_t due = coaps_coap_next_deadline(p.cli);
    assert_true(due >= 12000 && due <= 15000);
    temp = 7;
    coaps_coap_tick(p.cli, due);
    assert_true(relay(&p, due) >= 2);
    assert_int_equal(temp_registrations, 2);
    assert_int_equal(coaps_coap_resource_observer_count(res), 1);
    assert_int_equal(s.notifications, 2);
    assert_int_equal(s.body[0], '7');
    assert_false(s.last.final);
    assert_int_equal(coaps_coap_get_stats(p.cli)->obs_reregistered, 1);
    /* notifications flow again on the same callback */
    temp = 8;
    coaps_coap_resource_notify(res);
    coaps_coap_tick(p.srv, due + 1);
    relay(&p, due + 1);
    assert_int_equal(s.notifications, 3);
    assert_int_equal(s.body[0], '8');
    /* a server that still has us takes the registration again as the same
     * one (RFC 7641 4.1: endpoint and token), not a second observer */
    uint64_t t = coaps_coap_next_deadline(p.cli);
    coaps_coap_tick(p.cli, t);
    assert_true(relay(&p, t) >= 2);
    assert_int_equal(coaps_coap_resource_observer_count(res), 1);
    assert_int_equal(temp_registrations, 3);
    assert_int_equal(s.notifications, 4);
    assert_false(s.last.final);
    /* a server gone silent: the registration times out, the final event */
    t = coaps_coap_next_deadline(p.cli);
    coaps_coap_tick(p.cli, t); /* re-registration sent, never answered */
    struct t_dgram dg;
    while (coaps_coap_output(p.cli, &dg.to, dg.buf, sizeof dg.buf, &dg.len, t) == COAPS_OK)
        ;
    for (int i = 0; i < 12 && !s.last.final; i++) {
        t = coaps_coap_next_deadline(p.cli);
        assert_true(t != UINT64_MAX);
        coaps_coap_tick(p.cli, t);
        while (coaps_coap_output(p.cli, &dg.to, dg.buf, sizeof dg.buf, &dg.len, t) == COAPS_OK)
            ;
    }
    assert_true(s.last.final);
    assert_int_equal(s.last.status, COAPS_E_TIMEOUT);
    assert_int_equal(coaps_coap_get_stats(p.cli)->obs_reregistered, 3);
    temp_max_age = 60;
    pair_free(&p);
}

/* RFC 7959 3.4: a notification larger than a block is completed with
 * plain GETs and delivered whole, every time. */
static void observe_big_resource_reassembles_notifications(void **state)
{
    (void)state;
    struct pair p;
    pair_up(&p, NULL);
    coaps_coap_resource *res = add_observable(&p, "big", big_get);
    struct seen s;
    observe_at_0(&p, &s, "big");
    assert_int_equal(s.calls, 1);
    assert_true(s.last.is_notification);
    assert_false(s.last.final);
    assert_int_equal(s.body_len, BIG_LEN);
    assert_memory_equal(s.body, big, BIG_LEN);
    big[0] ^= 0xFF;
    coaps_coap_resource_notify(res);
    coaps_coap_tick(p.srv, 5);
    relay(&p, 5);
    assert_int_equal(s.calls, 2);
    assert_true(s.last.is_notification);
    assert_int_equal(s.body_len, BIG_LEN);
    assert_memory_equal(s.body, big, BIG_LEN);
    assert_int_equal(coaps_coap_resource_observer_count(res), 1);
    /* the fetch is over (no response timeout, EXCHANGE_LIFETIME): only the
     * re-registration after the default Max-Age is due */
    uint64_t due = coaps_coap_next_deadline(p.cli);
    assert_true(due >= 5 + 62000 && due <= 5 + 65000);
    pair_free(&p);
}

/* A NON request gets its NON response; with no response at all the
 * request ends with COAPS_E_TIMEOUT after response_timeout_ms. */
static void non_request_and_response_timeout(void **state)
{
    (void)state;
    coaps_coap_config c;
    coaps_coap_config_default(&c);
    c.response_timeout_ms = 5000;
    struct pair p;
    pair_up(&p, &c);
    struct seen s;
    coaps_coap_client_request r;
    request(&p, &s, COAPS_COAP_GET, "temp", &r);
    r.confirmable = false;
    assert_int_equal(coaps_coap_request_send(p.cli, &r, 0, NULL), COAPS_OK);
    assert_int_equal(relay(&p, 0), 2);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.last.code, COAPS_COAP_CONTENT);
    request(&p, &s, COAPS_COAP_GET, "temp", &r);
    r.confirmable = false;
    assert_int_equal(coaps_coap_request_send(p.cli, &r, 100, NULL), COAPS_OK);
    assert_int_equal(t_drain(p.cli), 1); /* lost */
    assert_true(coaps_coap_next_deadline(p.cli) == 5100);
    coaps_coap_tick(p.cli, 5099);
    assert_int_equal(s.calls, 0);
    coaps_coap_tick(p.cli, 5100);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.last.status, COAPS_E_TIMEOUT);
    pair_free(&p);
}

/* RFC 7641 3.6: proactive cancel sends GET with Observe=1. */
static void observe_deregister_proactively(void **state)
{
    (void)state;
    struct pair p;
    pair_up(&p, NULL);
    struct seen s;
    coaps_coap_client_request r;
    request(&p, &s, COAPS_COAP_GET, "temp", &r);
    r.observe = true;
    coaps_coap_request_id id;
    assert_int_equal(coaps_coap_request_send(p.cli, &r, 0, &id), COAPS_OK);
    relay(&p, 0);
    assert_int_equal(coaps_coap_request_cancel(p.cli, id, true, 5), COAPS_OK);
    struct t_dgram d;
    t_pop(p.cli, &d);
    assert_int_equal(t_uint(&d.m, COAPS_COAP_OPT_OBSERVE), 1);
    coaps_coap_input(p.srv, &p.cp, d.buf, d.len, 5);
    relay(&p, 5);
    assert_int_equal(coaps_coap_resource_observer_count(temp_res), 0);
    assert_int_equal(s.calls, 1); /* no callback after cancel */
    assert_true(coaps_coap_next_deadline(p.cli) == UINT64_MAX);
    pair_free(&p);
}

/* RFC 7641 3.4: an older notification arriving late is dropped. */
static void reordered_notification_is_dropped(void **state)
{
    (void)state;
    struct pair p;
    pair_up(&p, NULL);
    struct seen s;
    coaps_coap_client_request r;
    request(&p, &s, COAPS_COAP_GET, "temp", &r);
    r.observe = true;
    assert_int_equal(coaps_coap_request_send(p.cli, &r, 0, NULL), COAPS_OK);
    struct t_dgram d;
    t_pop(p.cli, &d);
    coaps_coap_msg n;
    coaps_coap_msg_init(&n, COAPS_COAP_ACK, COAPS_COAP_CONTENT, d.m.mid);
    coaps_coap_msg_set_token(&n, d.m.token, d.m.token_len);
    coaps_coap_msg_add_uint(&n, COAPS_COAP_OPT_OBSERVE, 100);
    t_feed(p.cli, &p.sp, &n, 0);
    n.type = COAPS_COAP_NON;
    n.mid = 500;
    n.opt_count = 0;
    coaps_coap_msg_add_uint(&n, COAPS_COAP_OPT_OBSERVE, 99);
    t_feed(p.cli, &p.sp, &n, 1000);
    assert_int_equal(s.calls, 1);
    n.mid = 501;
    n.opt_count = 0;
    coaps_coap_msg_add_uint(&n, COAPS_COAP_OPT_OBSERVE, 101);
    t_feed(p.cli, &p.sp, &n, 2000);
    assert_int_equal(s.calls, 2);
    /* > 128 s later, even a smaller number is newer */
    n.mid = 502;
    n.opt_count = 0;
    coaps_coap_msg_add_uint(&n, COAPS_COAP_OPT_OBSERVE, 5);
    t_feed(p.cli, &p.sp, &n, 200000);
    assert_int_equal(s.calls, 3);
    pair_free(&p);
}

/* RST to our request -> COAPS_E_CLOSED; unknown-token CON -> RST. */
static void rst_and_unknown_token(void **state)
{
    (void)state;
    struct pair p;
    pair_up(&p, NULL);
    struct seen s;
    coaps_coap_client_request r;
    request(&p, &s, COAPS_COAP_GET, "temp", &r);
    assert_int_equal(coaps_coap_request_send(p.cli, &r, 0, NULL), COAPS_OK);
    struct t_dgram d;
    t_pop(p.cli, &d);
    const uint8_t rst[] = {0x70, 0x00, (uint8_t)(d.m.mid >> 8), (uint8_t)d.m.mid};
    t_feed_bytes(p.cli, &p.sp, rst, sizeof rst, 1);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.last.status, COAPS_E_CLOSED);
    coaps_coap_msg m;
    coaps_coap_msg_init(&m, COAPS_COAP_CON, COAPS_COAP_CONTENT, 0x4444);
    coaps_coap_msg_set_token(&m, (const uint8_t *)"zz", 2);
    t_feed(p.cli, &p.sp, &m, 2);
    t_pop(p.cli, &d);
    assert_int_equal(d.m.type, COAPS_COAP_RST);
    assert_int_equal(d.m.mid, 0x4444);
    pair_free(&p);
}

/* RFC 7252 5.4.1: a response with an unrecognised critical option is
 * rejected. */
static void response_with_bad_critical_option(void **state)
{
    (void)state;
    struct pair p;
    pair_up(&p, NULL);
    struct seen s;
    coaps_coap_client_request r;
    request(&p, &s, COAPS_COAP_GET, "temp", &r);
    r.confirmable = false;
    assert_int_equal(coaps_coap_request_send(p.cli, &r, 0, NULL), COAPS_OK);
    struct t_dgram d;
    t_pop(p.cli, &d);
    assert_int_equal(d.m.type, COAPS_COAP_NON);
    coaps_coap_msg m;
    coaps_coap_msg_init(&m, COAPS_COAP_CON, COAPS_COAP_CONTENT, 0x4445);
    coaps_coap_msg_set_token(&m, d.m.token, d.m.token_len);
    coaps_coap_msg_add_option(&m, 2049, "", 0);
    t_feed(p.cli, &p.sp, &m, 2);
    t_pop(p.cli, &d);
    assert_int_equal(d.m.type, COAPS_COAP_RST);
    assert_int_equal(s.last.status, COAPS_E_BAD_OPTION);
    pair_free(&p);
}

static void ping_gets_pong(void **state)
{
    (void)state;
    struct pair p;
    pair_up(&p, NULL);
    struct seen s;
    memset(&s, 0, sizeof s);
    assert_int_equal(coaps_coap_ping(p.cli, &p.sp, on_event, &s, 0, NULL), COAPS_OK);
    assert_int_equal(relay(&p, 0), 2);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.last.status, COAPS_OK);
    assert_int_equal(s.last.code, 0);
    pair_free(&p);
}

static void forget_peer_closes_requests(void **state)
{
    (void)state;
    struct pair p;
    pair_up(&p, NULL);
    struct seen s;
    coaps_coap_client_request r;
    request(&p, &s, COAPS_COAP_GET, "temp", &r);
    assert_int_equal(coaps_coap_request_send(p.cli, &r, 0, NULL), COAPS_OK);
    coaps_coap_forget_peer(p.cli, &p.sp);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.last.status, COAPS_E_CLOSED);
    t_none(p.cli);
    pair_free(&p);
}

/* URI parts, options and the given token are on the wire. */
static void request_options_on_the_wire(void **state)
{
    (void)state;
    struct pair p;
    pair_up(&p, NULL);
    struct seen s;
    coaps_coap_client_request r;
    request(&p, &s, COAPS_COAP_POST, "/a/b", &r);
    r.uri_host = "example.net";
    r.uri_port = 5684;
    r.uri_query = "x=1&y";
    r.content_format = COAPS_COAP_CF_JSON;
    r.accept = COAPS_COAP_CF_CBOR;
    r.token = (const uint8_t *)"\x01\x02\x03";
    r.token_len = 3;
    r.payload = (const uint8_t *)"{}";
    r.payload_len = 2;
    assert_int_equal(coaps_coap_request_send(p.cli, &r, 0, NULL), COAPS_OK);
    struct t_dgram d;
    t_pop(p.cli, &d);
    assert_int_equal(d.m.code, COAPS_COAP_POST);
    assert_int_equal(d.m.token_len, 3);
    char path[32];
    coaps_coap_msg_uri_path(&d.m, path, sizeof path);
    assert_string_equal(path, "a/b");
    const uint8_t *v;
    size_t vl;
    assert_int_equal(coaps_coap_msg_query(&d.m, "y", &v, &vl), COAPS_OK);
    assert_int_equal(t_uint(&d.m, COAPS_COAP_OPT_URI_PORT), 5684);
    assert_int_equal(t_uint(&d.m, COAPS_COAP_OPT_CONTENT_FORMAT), COAPS_COAP_CF_JSON);
    assert_int_equal(t_uint(&d.m, COAPS_COAP_OPT_ACCEPT), COAPS_COAP_CF_CBOR);
    t_payload_is(&d.m, "{}");
    r.method = 0;
    assert_int_equal(coaps_coap_request_send(p.cli, &r, 0, NULL), COAPS_E_INVALID);
    pair_free(&p);
}

/* Already-split segments become one option each, whatever bytes they
 * hold: '/', '&', NUL, empty (RFC 7252 6.4 steps 8-9). Mixing a string
 * and an array for the same option is refused. */
static void segments_on_the_wire(void **state)
{
    (void)state;
    struct pair p;
    pair_up(&p, NULL);
    struct seen s;
    coaps_coap_client_request r;
    request(&p, &s, COAPS_COAP_GET, NULL, &r);
    static const coaps_coap_segment path[] = {{"a/b", 3}, {NULL, 0}, {"c\0d", 3}};
    static const coaps_coap_segment query[] = {{"x&y=1", 5}, {"", 0}};
    r.path_segs = path;
    r.path_count = (sizeof path / sizeof path[0]);
    r.query_items = query;
    r.query_count = (sizeof query / sizeof query[0]);
    assert_int_equal(coaps_coap_request_send(p.cli, &r, 0, NULL), COAPS_OK);
    struct t_dgram d;
    t_pop(p.cli, &d);
    const coaps_coap_segment *want[] = {&path[0], &path[1], &path[2], &query[0], &query[1]};
    uint16_t nums[] = {COAPS_COAP_OPT_URI_PATH, COAPS_COAP_OPT_URI_PATH, COAPS_COAP_OPT_URI_PATH,
                       COAPS_COAP_OPT_URI_QUERY, COAPS_COAP_OPT_URI_QUERY};
    size_t k = 0;
    for (size_t i = 0; i < d.m.opt_count; i++) {
        const coaps_coap_option *o = &d.m.opts[i];
        if (o->number != COAPS_COAP_OPT_URI_PATH && o->number != COAPS_COAP_OPT_URI_QUERY)
            continue;
        assert_true(k < (sizeof want / sizeof want[0]));
        assert_int_equal(o->number, nums[k]);
        assert_int_equal(o->len, want[k]->len);
        if (o->len)
            assert_memory_equal(coaps_coap_option_value(o), want[k]->data, o->len);
        k++;
    }
    assert_int_equal(k, (sizeof want / sizeof want[0]));
    r.uri_path = "a"; /* and path_segs */
    assert_int_equal(coaps_coap_request_send(p.cli, &r, 0, NULL), COAPS_E_INVALID);
    r.uri_path = NULL;
    r.uri_query = "q";
    assert_int_equal(coaps_coap_request_send(p.cli, &r, 0, NULL), COAPS_E_INVALID);
    r.uri_query = NULL;
    r.path_segs = NULL;
    assert_int_equal(coaps_coap_request_send(p.cli, &r, 0, NULL), COAPS_E_INVALID);
    pair_free(&p);
}

/* RFC 7959 2.4: a GET may ask for a later block first; the client then
 * fetches the following blocks and delivers the body from that block's
 * offset to the end. */
static void get_from_a_later_block(void **state)
{
    (void)state;
    struct pair p;
    pair_up(&p, NULL);
    struct seen s;
    coaps_coap_client_request r;
    request(&p, &s, COAPS_COAP_GET, "big", &r);
    r.block_size = 256;
    r.block2_start = 3;
    assert_int_equal(coaps_coap_request_send(p.cli, &r, 0, NULL), COAPS_OK);
    struct t_dgram d;
    t_pop(p.cli, &d);
    coaps_coap_block b;
    assert_int_equal(coaps_coap_msg_get_block(&d.m, COAPS_COAP_OPT_BLOCK2, &b), COAPS_OK);
    assert_int_equal(b.num, 3);
    assert_int_equal(coaps_coap_block_size(b.szx), 256);
    coaps_coap_input(p.srv, &p.cp, d.buf, d.len, 0);
    assert_int_equal(relay(&p, 0), 1 + 2 * 6); /* blocks 3..9 of 256 */
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.last.status, COAPS_OK);
    assert_int_equal(s.body_len, BIG_LEN - 3 * 256);
    assert_memory_equal(s.body, big + 3 * 256, BIG_LEN - 3 * 256);
    /* the default size (1024): block 2 is the last one, delivered as is */
    request(&p, &s, COAPS_COAP_GET, "big", &r);
    r.block2_start = 2;
    assert_int_equal(coaps_coap_request_send(p.cli, &r, 0, NULL), COAPS_OK);
    assert_int_equal(relay(&p, 0), 2);
    assert_int_equal(s.last.status, COAPS_OK);
    assert_int_equal(s.body_len, BIG_LEN - 2048);
    assert_memory_equal(s.body, big + 2048, BIG_LEN - 2048);
    /* only for GET/FETCH, not with Observe, 20-bit NUM */
    request(&p, &s, COAPS_COAP_GET, "big", &r);
    r.block2_start = 1;
    r.observe = true;
    assert_int_equal(coaps_coap_request_send(p.cli, &r, 0, NULL), COAPS_E_INVALID);
    r.observe = false;
    r.method = COAPS_COAP_PUT;
    assert_int_equal(coaps_coap_request_send(p.cli, &r, 0, NULL), COAPS_E_INVALID);
    r.method = COAPS_COAP_GET;
    r.block2_start = 1u << 20;
    assert_int_equal(coaps_coap_request_send(p.cli, &r, 0, NULL), COAPS_E_INVALID);
    pair_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(get_fetches_all_block2_blocks),
        cmocka_unit_test(get_with_small_block_size),
        cmocka_unit_test(block2_body_too_large),
        cmocka_unit_test(block2_restarts_when_etag_changes),
        cmocka_unit_test(post_with_large_response_runs_handler_once),
        cmocka_unit_test(put_sends_block1_blocks),
        cmocka_unit_test(block1_adapts_to_smaller_server_size),
        cmocka_unit_test(separate_response_is_delivered),
        cmocka_unit_test(nstart_queues_requests),
        cmocka_unit_test(observe_until_cancelled),
        cmocka_unit_test(observe_deregister_proactively),
        cmocka_unit_test(observe_reregisters_after_max_age),
        cmocka_unit_test(observe_big_resource_reassembles_notifications),
        cmocka_unit_test(non_request_and_response_timeout),
        cmocka_unit_test(reordered_notification_is_dropped),
        cmocka_unit_test(rst_and_unknown_token),
        cmocka_unit_test(response_with_bad_critical_option),
        cmocka_unit_test(ping_gets_pong),
        cmocka_unit_test(forget_peer_closes_requests),
        cmocka_unit_test(request_options_on_the_wire),
        cmocka_unit_test(segments_on_the_wire),
        cmocka_unit_test(get_from_a_later_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
