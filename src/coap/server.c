/*
 * server.c - resources, request dispatch and responses (RFC 7252 5, 8132),
 * with the server halves of Block1/Block2 (RFC 7959) and separate
 * responses (RFC 7252 5.2.2).
 */
#include <string.h>

#include "coaps/config.h"
#include "coap/endpoint.h"
#include "coap/option.h"
#include "common/try.h"

/* Everything needed to answer one request. */
struct reply_ctx {
    coaps_coap_endpoint *ep;
    const coaps_peer *from;
    const coaps_coap_msg *req;
    struct coap_dedup *dd;
    uint64_t now_ms;
};

/* ---- resources ----------------------------------------------------------- */

void coaps_coap_resource_def_init(coaps_coap_resource_def *def, const char *path)
{
    memset(def, 0, sizeof *def);
    def->path = path;
    def->ct = COAPS_COAP_CF_NONE;
    for (size_t i = 0; i < COAPS_ARRAY_LEN(def->accept_cf); i++)
        def->accept_cf[i] = COAPS_COAP_CF_NONE;
}

static const char *skip_slash(const char *p)
{
    return (p && *p == '/') ? p + 1 : p;
}

static struct coaps_coap_resource *resource_find_path(coaps_coap_endpoint *ep, const char *path)
{
    for (size_t i = 0; i <= ep->cfg.max_resources; i++)
        if (ep->res[i].used && strcmp(skip_slash(ep->res[i].def.path), skip_slash(path)) == 0)
            return &ep->res[i];
    return NULL;
}

coaps_status coaps_coap_resource_add(coaps_coap_endpoint *ep, const coaps_coap_resource_def *def,
                                     coaps_coap_resource **out)
{
    ENSURE(ep != NULL && def != NULL && def->path != NULL, COAPS_E_INVALID);
    struct coaps_coap_resource *r = resource_find_path(ep, def->path);
    for (size_t i = 0; r == NULL && i <= ep->cfg.max_resources; i++)
        if (!ep->res[i].used)
            r = &ep->res[i];
    ENSURE(r != NULL, COAPS_E_FULL);
    r->def = *def;
    r->ep = ep;
    r->used = true;
    if (out)
        *out = r;
    return COAPS_OK;
}

void coaps_coap_resource_notify(coaps_coap_resource *res)
{
    if (res && res->used)
        coap_observe_mark(res->ep, res);
}

size_t coaps_coap_resource_observer_count(const coaps_coap_resource *res)
{
    return res ? res->observers : 0;
}

coaps_status coaps_coap_resource_set_etag(coaps_coap_resource *res, const uint8_t *etag,
                                          size_t len)
{
    ENSURE(res != NULL && len <= sizeof res->etag && (etag != NULL || len == 0),
           COAPS_E_INVALID);
    if (len)
        memcpy(res->etag, etag, len);
    res->etag_len = (uint8_t)len;
    return COAPS_OK;
}

/* Does the request's Uri-Path equal the resource path, segment by
 * segment (RFC 7252 6.4: each segment is one Uri-Path option)? */
static bool path_matches(const char *path, const coaps_coap_msg *m)
{
    const char *p = skip_slash(path);
    size_t it;
    const coaps_coap_option *o = coaps_coap_msg_find_option(m, COAPS_COAP_OPT_URI_PATH, &it);
    if (o == NULL)
        return *p == '\0';
    for (; o != NULL; o = coaps_coap_msg_next_option(m, COAPS_COAP_OPT_URI_PATH, &it)) {
        const char *end = strchr(p, '/');
        size_t seg = end ? (size_t)(end - p) : strlen(p);
        if (seg != o->len || memcmp(p, coaps_coap_option_value(o), seg) != 0)
            return false;
        if (end == NULL) {
            size_t nit = it;
            return coaps_coap_msg_next_option(m, COAPS_COAP_OPT_URI_PATH, &nit) == NULL;
        }
        p = end + 1;
    }
    return false; /* the path has more segments than the request */
}

struct coaps_coap_resource *coap_resource_by_path(coaps_coap_endpoint *ep,
                                                  const coaps_coap_msg *m)
{
    for (size_t i = 0; i <= ep->cfg.max_resources; i++)
        if (ep->res[i].used && path_matches(ep->res[i].def.path, m))
            return &ep->res[i];
    return NULL;
}

/* ---- request accessors --------------------------------------------------- */

const coaps_coap_msg *coaps_coap_request_msg(const coaps_coap_request *req)
{
    return req->msg;
}

const coaps_peer *coaps_coap_request_peer(const coaps_coap_request *req)
{
    return req->peer;
}

uint8_t coaps_coap_request_method(const coaps_coap_request *req)
{
    return req->msg->code;
}

const uint8_t *coaps_coap_request_payload(const coaps_coap_request *req, size_t *len)
{
    *len = req->payload_len;
    return req->payload;
}

static int32_t uint_or_none(const coaps_coap_msg *m, uint16_t number)
{
    uint32_t v;
    if (coaps_coap_msg_get_uint(m, number, &v) != COAPS_OK)
        return COAPS_COAP_CF_NONE;
    return (int32_t)v;
}

int32_t coaps_coap_request_content_format(const coaps_coap_request *req)
{
    return uint_or_none(req->msg, COAPS_COAP_OPT_CONTENT_FORMAT);
}

int32_t coaps_coap_request_accept(const coaps_coap_request *req)
{
    return uint_or_none(req->msg, COAPS_COAP_OPT_ACCEPT);
}

bool coaps_coap_request_is_notification(const coaps_coap_request *req)
{
    return req->notification;
}

/* ---- response setters ---------------------------------------------------- */

void coaps_coap_response_init(coaps_coap_response *resp, uint8_t code, uint8_t *buf, size_t cap)
{
    memset(resp, 0, sizeof *resp);
    resp->code = code;
    resp->content_format = COAPS_COAP_CF_NONE;
    resp->payload = buf;
    resp->payload_cap = buf ? cap : 0;
}

void coaps_coap_response_set_code(coaps_coap_response *resp, uint8_t code)
{
    resp->code = code;
}

void coaps_coap_response_set_content_format(coaps_coap_response *resp, int32_t cf)
{
    resp->content_format = cf;
}

void coaps_coap_response_set_max_age(coaps_coap_response *resp, uint32_t seconds)
{
    resp->has_max_age = true;
    resp->max_age = seconds;
}

void coaps_coap_response_set_size1(coaps_coap_response *resp, uint32_t bytes)
{
    resp->has_size1 = true;
    resp->size1 = bytes;
}

coaps_status coaps_coap_response_set_etag(coaps_coap_response *resp, const uint8_t *etag,
                                          size_t len)
{
    ENSURE(len <= sizeof resp->etag && (etag != NULL || len == 0), COAPS_E_INVALID);
    if (len)
        memcpy(resp->etag, etag, len);
    resp->etag_len = (uint8_t)len;
    return COAPS_OK;
}

coaps_status coaps_coap_response_set_payload(coaps_coap_response *resp, const void *data,
                                             size_t len)
{
    resp->payload_len = 0;
    return coaps_coap_response_append(resp, data, len);
}

coaps_status coaps_coap_response_append(coaps_coap_response *resp, const void *data, size_t len)
{
    ENSURE(len <= resp->payload_cap - resp->payload_len, COAPS_E_NOSPACE);
    if (len)
        memcpy(resp->payload + resp->payload_len, data, len);
    resp->payload_len += len;
    return COAPS_OK;
}

static coaps_status copy_str(char *dst, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    ENSURE(n < COAPS_COAP_LOCATION_MAX, COAPS_E_NOSPACE);
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
    return COAPS_OK;
}

coaps_status coaps_coap_response_set_location(coaps_coap_response *resp, const char *path,
                                              const char *query)
{
    TRY(copy_str(resp->location_path, skip_slash(path)));
    return copy_str(resp->location_query, query);
}

/* RFC 7252 5.8 / 8132: the usual success code of each method. */
void coap_response_prepare(coaps_coap_endpoint *ep, coaps_coap_response *resp, uint8_t method)
{
    uint8_t code = COAPS_COAP_CHANGED;
    if (method == COAPS_COAP_GET || method == COAPS_COAP_FETCH)
        code = COAPS_COAP_CONTENT;
    else if (method == COAPS_COAP_DELETE)
        code = COAPS_COAP_DELETED;
    coaps_coap_response_init(resp, code, ep->resp_body, ep->cfg.max_body_size);
}

/* ---- building responses -------------------------------------------------- */

/* Add one option per `sep`-separated piece of s (Location-Path/Query). */
static coaps_status add_split(coaps_coap_msg *m, uint16_t number, const char *s, char sep)
{
    while (s && *s) {
        const char *end = strchr(s, sep);
        size_t n = end ? (size_t)(end - s) : strlen(s);
        TRY(coaps_coap_msg_add_option(m, number, s, n));
        s = end ? end + 1 : NULL;
    }
    return COAPS_OK;
}

/* RFC 7252 5.10.6.2: a GET naming the current ETag gets 2.03 Valid. */
static bool etag_validates(const coaps_coap_msg *req, const coaps_coap_response *resp)
{
    size_t it;
    if (resp->code != COAPS_COAP_CONTENT || resp->etag_len == 0)
        return false;
    for (const coaps_coap_option *o = coaps_coap_msg_find_option(req, COAPS_COAP_OPT_ETAG, &it);
         o; o = coaps_coap_msg_next_option(req, COAPS_COAP_OPT_ETAG, &it))
        if (o->len == resp->etag_len &&
            memcmp(coaps_coap_option_value(o), resp->etag, o->len) == 0)
            return true;
    return false;
}

/* RFC 7959 2.4: slice the representation into the block asked for (or the
 * first block of our default size when it is too big for one message). */
static coaps_status add_block2(coaps_coap_endpoint *ep, const coaps_coap_msg *req,
                               const coaps_coap_response *resp, coaps_coap_msg *m)
{
    coaps_coap_block b = {0, false, coaps_coap_block_szx(ep->cfg.block_size)};
    coaps_coap_block rb;
    bool asked = coaps_coap_msg_get_block(req, COAPS_COAP_OPT_BLOCK2, &rb) == COAPS_OK;
    if (asked) {
        /* the client's size unless ours is smaller; then renumber so the
         * block starts at the same offset (RFC 7959 2.4). */
        if (rb.szx <= b.szx)
            b.szx = rb.szx;
        b.num = (uint32_t)(((uint64_t)rb.num << rb.szx) >> b.szx);
    }
    size_t size = coaps_coap_block_size(b.szx);
    /* an error answer that fits needs no Block2, even if one was asked */
    bool slice = resp->payload_len > size || (asked && COAPS_COAP_CODE_CLASS(m->code) == 2);
    if (!slice) {
        m->payload = resp->payload_len ? resp->payload : NULL;
        m->payload_len = resp->payload_len;
        return COAPS_OK;
    }
    uint64_t off = (uint64_t)b.num * size;
    if (off > 0 && off >= resp->payload_len) {
        /* a block past the end: there is no such block */
        m->code = COAPS_COAP_BAD_OPTION;
        return COAPS_OK;
    }
    size_t n = resp->payload_len - (size_t)off < size ? resp->payload_len - (size_t)off : size;
    b.more = off + n < resp->payload_len;
    TRY(coaps_coap_msg_add_block(m, COAPS_COAP_OPT_BLOCK2, &b));
    m->payload = n ? resp->payload + off : NULL;
    m->payload_len = n;
    return COAPS_OK;
}

coaps_status coap_build_response(coaps_coap_endpoint *ep, const coaps_coap_msg *req,
                                 coaps_coap_response *resp, bool has_obs, uint32_t obs_seq,
                                 coaps_coap_msg *m)
{
    coaps_coap_msg_init(m, COAPS_COAP_ACK, resp->code, req->mid);
    TRY(coaps_coap_msg_set_token(m, req->token, req->token_len));
    bool valid = etag_validates(req, resp);
    if (valid)
        m->code = COAPS_COAP_VALID;
    if (resp->etag_len)
        TRY(coaps_coap_msg_add_option(m, COAPS_COAP_OPT_ETAG, resp->etag, resp->etag_len));
    if (has_obs)
        TRY(coaps_coap_msg_add_uint(m, COAPS_COAP_OPT_OBSERVE, obs_seq & COAP_OBS_SEQ_MASK));
    TRY(add_split(m, COAPS_COAP_OPT_LOCATION_PATH, resp->location_path, '/'));
    TRY(add_split(m, COAPS_COAP_OPT_LOCATION_QUERY, resp->location_query, '&'));
    if (resp->content_format >= 0 && !valid)
        TRY(coaps_coap_msg_add_uint(m, COAPS_COAP_OPT_CONTENT_FORMAT,
                                    (uint32_t)resp->content_format));
    if (resp->has_max_age)
        TRY(coaps_coap_msg_add_uint(m, COAPS_COAP_OPT_MAX_AGE, resp->max_age));
    if (resp->has_size1) /* RFC 7959 4 */
        TRY(coaps_coap_msg_add_uint(m, COAPS_COAP_OPT_SIZE1, resp->size1));
    if (valid)
        return COAPS_OK; /* 2.03 carries no payload */
    /* RFC 7959 4: Size2 (any value, usually 0) in a request asks for it. */
    if (coaps_coap_msg_find_option(req, COAPS_COAP_OPT_SIZE2, NULL))
        TRY(coaps_coap_msg_add_uint(m, COAPS_COAP_OPT_SIZE2, (uint32_t)resp->payload_len));
    return add_block2(ep, req, resp, m);
}

/* ---- sending replies ----------------------------------------------------- */

#if COAPS_WITH_SHARED_DEDUP
/* RFC 7252 5.1 (and RFC 8132 2 for FETCH): safe methods change nothing,
 * running one twice is harmless. */
static bool method_safe(uint8_t code)
{
    return code == COAPS_COAP_GET || code == COAPS_COAP_FETCH;
}
#endif

/* RFC 7252 5.2.1 / 5.2.3: a CON request gets a piggybacked ACK, a NON one
 * a NON response with a fresh MID. The reply is cached for dedup. */
static void send_reply(const struct reply_ctx *c, coaps_coap_msg *m)
{
    coaps_coap_endpoint *ep = c->ep;
    if (c->req->type == COAPS_COAP_CON) {
        m->type = COAPS_COAP_ACK;
        m->mid = c->req->mid;
    } else {
        m->type = COAPS_COAP_NON;
        m->mid = coap_new_mid(ep);
    }
    size_t len;
    if (coaps_coap_msg_encode(m, ep->scratch, ep->cfg.max_message_size, &len) != COAPS_OK) {
        /* options did not fit: answer 5.00 without them */
        coaps_coap_msg_init(m, m->type, COAPS_COAP_INTERNAL_SERVER_ERROR, m->mid);
        if (coaps_coap_msg_set_token(m, c->req->token, c->req->token_len) != COAPS_OK ||
            coaps_coap_msg_encode(m, ep->scratch, ep->cfg.max_message_size, &len) != COAPS_OK) {
            ep->stats.tx_dropped++;
            return;
        }
    }
    if (c->req->type == COAPS_COAP_CON) {
        coap_dedup_set_reply(ep, c->dd, ep->scratch, len, c->now_ms);
#if COAPS_WITH_SHARED_DEDUP
        if (ep->cfg.shared_reply_save && !method_safe(c->req->code))
            ep->cfg.shared_reply_save(ep->cfg.shared_reply_user, c->from, c->req->mid,
                                      ep->scratch, len);
#endif
    }
    coap_outq_push(ep, c->from, ep->scratch, len);
}

/* A reply with the request's token. The token came parsed (at most 8
 * bytes) and one option fits any fresh message, so the steps below cannot
 * fail; were one ever to, no answer (counted) beats one the client would
 * misread. */
static void reply_init(const struct reply_ctx *c, coaps_coap_msg *m, uint8_t code)
{
    coaps_coap_msg_init(m, COAPS_COAP_ACK, code, c->req->mid);
}

static void reply_or_drop(const struct reply_ctx *c, coaps_coap_msg *m, coaps_status built)
{
    if (built == COAPS_OK)
        built = coaps_coap_msg_set_token(m, c->req->token, c->req->token_len);
    if (built != COAPS_OK) {
        c->ep->stats.tx_dropped++;
        return;
    }
    send_reply(c, m);
}

/* An error or bare response: code, and optionally one uint option. */
static void reply_code(const struct reply_ctx *c, uint8_t code, uint16_t opt, uint32_t val)
{
    coaps_coap_msg m;
    reply_init(c, &m, code);
    reply_or_drop(c, &m, opt ? coaps_coap_msg_add_uint(&m, opt, val) : COAPS_OK);
}

static void reply_block1(const struct reply_ctx *c, uint8_t code, const coaps_coap_block *b)
{
    coaps_coap_msg m;
    reply_init(c, &m, code);
    reply_or_drop(c, &m, coaps_coap_msg_add_block(&m, COAPS_COAP_OPT_BLOCK1, b));
}

/* RFC 7252 5.4.1: 4.02 SHOULD carry a diagnostic payload naming the
 * option (5.5.2: diagnostic payloads are UTF-8 text). */
static void reply_bad_option(const struct reply_ctx *c, uint16_t number)
{
    char diag[] = "unrecognised critical option 65535";
    size_t n = sizeof diag - 6; /* after the space */
    char digits[5];
    size_t k = 0;
    do {
        digits[k++] = (char)('0' + number % 10);
        number /= 10;
    } while (number && k < sizeof digits);
    while (k)
        diag[n++] = digits[--k];
    coaps_coap_msg m;
    reply_init(c, &m, COAPS_COAP_BAD_OPTION);
    m.payload = (const uint8_t *)diag;
    m.payload_len = n;
    reply_or_drop(c, &m, COAPS_OK);
}

/* RFC 7252 5.4.1: a NON with an unrecognised critical option MUST be
 * rejected; 4.3: rejecting a NON means a matching Reset, or silence. We
 * send the Reset, as libcoap (4.3.1) does, so that the client learns at
 * once instead of timing out; it is no larger than the request. */
static void reject_non(const struct reply_ctx *c)
{
    coap_send_empty(c->ep, c->from, COAPS_COAP_RST, c->req->mid);
}

void coap_server_too_many_options(coaps_coap_endpoint *ep, const coaps_peer *from,
                                  const coaps_coap_msg *m, uint64_t now_ms)
{
    struct reply_ctx c = {ep, from, m, NULL, now_ms};
    ep->stats.bad_options++;
    if (m->type == COAPS_COAP_CON) /* RFC 7252 5.4.1, as for a bad option */
        reply_code(&c, COAPS_COAP_BAD_OPTION, 0, 0);
    else
        reject_non(&c);
}

/* ---- request checks before the handler ----------------------------------- */

static bool cf_accepted(const struct coaps_coap_resource *r, const coaps_coap_msg *m)
{
    const int32_t *list = r->def.accept_cf;
    if (list[0] == COAPS_COAP_CF_NONE || m->payload_len == 0)
        return true; /* no list: any format */
    int32_t cf = uint_or_none(m, COAPS_COAP_OPT_CONTENT_FORMAT);
    for (size_t i = 0; i < COAPS_ARRAY_LEN(r->def.accept_cf) && list[i] != COAPS_COAP_CF_NONE; i++)
        if (cf == list[i])
            return true;
    return false;
}

/* RFC 7252 5.10.8: If-Match (any listed ETag current, or empty = exists)
 * and If-None-Match (fails since the resource exists). */
static bool preconditions_hold(const struct coaps_coap_resource *r, const coaps_coap_msg *m)
{
    if (coaps_coap_msg_find_option(m, COAPS_COAP_OPT_IF_NONE_MATCH, NULL))
        return false;
    size_t it;
    const coaps_coap_option *o = coaps_coap_msg_find_option(m, COAPS_COAP_OPT_IF_MATCH, &it);
    if (o == NULL)
        return true;
    for (; o; o = coaps_coap_msg_next_option(m, COAPS_COAP_OPT_IF_MATCH, &it))
        if (o->len == 0 ||
            (o->len == r->etag_len && memcmp(coaps_coap_option_value(o), r->etag, o->len) == 0))
            return true;
    return false;
}

/* RFC 7252 5.10.4: Accept names a format we do not produce -> 4.06. */
static bool accept_ok(const struct coaps_coap_resource *r, const coaps_coap_msg *m)
{
    int32_t a = uint_or_none(m, COAPS_COAP_OPT_ACCEPT);
    bool reads = m->code == COAPS_COAP_GET || m->code == COAPS_COAP_FETCH;
    return !reads || a == COAPS_COAP_CF_NONE || r->def.ct == COAPS_COAP_CF_NONE || a == r->def.ct;
}

/* The code to answer with before any handler runs, or 0 to go on;
 * *bad gets the number of an unrecognised critical option. */
static uint8_t precheck(coaps_coap_endpoint *ep, coaps_coap_msg *m,
                        struct coaps_coap_resource **res, uint16_t *bad)
{
    switch (coap_options_check(m, bad)) {
    case COAP_OPTCHECK_BAD_CRITICAL:
        ep->stats.bad_options++;
        return COAPS_COAP_BAD_OPTION; /* RFC 7252 5.4.1 */
    case COAP_OPTCHECK_PROXY:
        return COAPS_COAP_PROXYING_NOT_SUPPORTED; /* 5.7.2 */
    default:
        break;
    }
    coaps_coap_block b;
    coaps_status b1 = coaps_coap_msg_get_block(m, COAPS_COAP_OPT_BLOCK1, &b);
    coaps_status b2 = coaps_coap_msg_get_block(m, COAPS_COAP_OPT_BLOCK2, &b);
    if (b1 == COAPS_E_MALFORMED || b2 == COAPS_E_MALFORMED)
        return COAPS_COAP_BAD_REQUEST; /* RFC 7959 2.2: SZX 7 */
    *res = coap_resource_by_path(ep, m);
    if (*res == NULL)
        return COAPS_COAP_NOT_FOUND;
    /* RFC 7252 5.8: unknown or unsupported methods -> 4.05. */
    if (m->code > COAPS_COAP_METHOD_MAX || (*res)->def.handler[m->code] == NULL)
        return COAPS_COAP_METHOD_NOT_ALLOWED;
    if (!accept_ok(*res, m))
        return COAPS_COAP_NOT_ACCEPTABLE;
    if (!cf_accepted(*res, m))
        return COAPS_COAP_UNSUPPORTED_CONTENT_FORMAT;
    if (!preconditions_hold(*res, m))
        return COAPS_COAP_PRECONDITION_FAILED;
    return 0;
}

/* RFC 7959 2.5: feed a Block1 block; false when already answered. */
static bool block1_stage(const struct reply_ctx *c, struct coap_body **body)
{
    coaps_coap_block b;
    *body = NULL;
    if (coaps_coap_msg_get_block(c->req, COAPS_COAP_OPT_BLOCK1, &b) != COAPS_OK)
        return true;
    switch (coap_block1_receive(c->ep, c->from, c->req, &b, c->now_ms, body)) {
    case COAP_B1_DONE:
        return true;
    case COAP_B1_CONTINUE:
        reply_block1(c, COAPS_COAP_CONTINUE, &b);
        return false;
    case COAP_B1_INCOMPLETE:
        reply_code(c, COAPS_COAP_REQUEST_ENTITY_INCOMPLETE, 0, 0);
        return false;
    case COAP_B1_TOO_LARGE:
        /* RFC 7959 2.9.3: 4.13 with Size1 = the largest body we take */
        reply_code(c, COAPS_COAP_REQUEST_ENTITY_TOO_LARGE, COAPS_COAP_OPT_SIZE1,
                   c->ep->cfg.max_body_size);
        return false;
    case COAP_B1_BAD:
        reply_code(c, COAPS_COAP_BAD_REQUEST, 0, 0);
        return false;
    default:
        reply_code(c, COAPS_COAP_SERVICE_UNAVAILABLE, 0, 0);
        return false;
    }
}

/* ---- deferred (separate) responses --------------------------------------- */

struct defer_info {
    const struct reply_ctx *ctx;
    bool allowed;
};

coaps_status coaps_coap_response_defer(coaps_coap_response *resp, coaps_coap_deferred *out)
{
    ENSURE(resp != NULL && out != NULL, COAPS_E_INVALID);
    const struct defer_info *di = resp->internal_;
    ENSURE(di != NULL && di->allowed, COAPS_E_STATE);
    const coaps_coap_msg *req = di->ctx->req;
    memset(out, 0, sizeof *out);
    out->peer = *di->ctx->from;
    out->token_len = req->token_len;
    memcpy(out->token, req->token, req->token_len);
    out->req_type = req->type;
    out->method = req->code;
    out->req_mid = req->mid;
    coaps_coap_block b;
    out->block2_szx = coaps_coap_block_szx(di->ctx->ep->cfg.block_size);
    if (coaps_coap_msg_get_block(req, COAPS_COAP_OPT_BLOCK2, &b) == COAPS_OK &&
        b.szx < out->block2_szx)
        out->block2_szx = b.szx; /* the smaller of theirs and ours */
    out->valid = true;
    resp->deferred_ = true;
    return COAPS_OK;
}

coaps_status coaps_coap_deferred_respond(coaps_coap_endpoint *ep, const coaps_coap_deferred *d,
                                         const coaps_coap_response *resp, uint64_t now_ms)
{
    ENSURE(ep != NULL && d != NULL && d->valid && resp != NULL, COAPS_E_INVALID);
    coaps_coap_msg req, m;
    coaps_coap_msg_init(&req, d->req_type, d->method, d->req_mid);
    TRY(coaps_coap_msg_set_token(&req, d->token, d->token_len));
    coaps_coap_block b = {0, false, d->block2_szx};
    TRY(coaps_coap_msg_add_block(&req, COAPS_COAP_OPT_BLOCK2, &b));
    coaps_coap_response r = *resp;
    TRY(coap_build_response(ep, &req, &r, false, 0, &m));
    if (m.payload_len <= coaps_coap_block_size(d->block2_szx) &&
        resp->payload_len == m.payload_len)
        coaps_coap_msg_remove_option(&m, COAPS_COAP_OPT_BLOCK2); /* fits: no Block2 */
    m.mid = coap_new_mid(ep);
    if (d->req_type != COAPS_COAP_CON) {
        m.type = COAPS_COAP_NON;
        return coap_send_msg(ep, &d->peer, &m);
    }
    /* RFC 7252 5.2.2: the separate response is a CON of its own. */
    m.type = COAPS_COAP_CON;
    struct coap_exchange *x = coap_xchg_alloc(ep, COAP_X_SEPARATE);
    ENSURE(x != NULL, COAPS_E_FULL);
    size_t len;
    coaps_status st = coaps_coap_msg_encode(&m, x->buf, ep->cfg.max_message_size, &len);
    if (st != COAPS_OK) {
        coap_xchg_free(ep, x);
        return st;
    }
    x->peer = d->peer;
    x->mid = m.mid;
    x->con = true;
    x->len = (uint16_t)len;
    x->token_len = d->token_len;
    memcpy(x->token, d->token, d->token_len);
    coap_xchg_transmit(ep, x, now_ms);
    return COAPS_OK;
}

/* ---- the request path ---------------------------------------------------- */

/* GET and FETCH are safe to run again for each block (RFC 8132 2). */
static bool reads(const coaps_coap_msg *m)
{
    return m->code == COAPS_COAP_GET || m->code == COAPS_COAP_FETCH;
}

static bool observe_wanted(const struct coaps_coap_resource *r, const coaps_coap_msg *m)
{
    return m->code == COAPS_COAP_GET && r->def.observable &&
           coaps_coap_msg_find_option(m, COAPS_COAP_OPT_OBSERVE, NULL) != NULL;
}

/* RFC 7252 5.2.2: a deferred CON request gets an empty ACK now, cached
 * for duplicates of the request. */
static void ack_deferred(const struct reply_ctx *c)
{
    coaps_coap_endpoint *ep = c->ep;
    if (c->req->type != COAPS_COAP_CON)
        return;
    coaps_coap_msg a;
    size_t len;
    coaps_coap_msg_init(&a, COAPS_COAP_ACK, COAPS_COAP_EMPTY, c->req->mid);
    if (coaps_coap_msg_encode(&a, ep->scratch, ep->cfg.max_message_size, &len) != COAPS_OK)
        return;
    coap_dedup_set_reply(ep, c->dd, ep->scratch, len, c->now_ms);
    coap_outq_push(ep, c->from, ep->scratch, len);
}

static void run_handler(const struct reply_ctx *c, struct coaps_coap_resource *r,
                        const uint8_t *raw, size_t raw_len, const struct coap_body *body)
{
    coaps_coap_endpoint *ep = c->ep;
    struct coaps_coap_request rq = {c->req, c->from, c->req->payload, c->req->payload_len, false};
    if (body) {
        rq.payload = body->buf;
        rq.payload_len = body->len;
    }
    coaps_coap_response resp;
    coap_response_prepare(ep, &resp, c->req->code);
    struct defer_info di = {c, true};
    resp.internal_ = &di;
    coaps_status st = r->def.handler[c->req->code](r->def.user, &rq, &resp);
    if (resp.deferred_ && st == COAPS_OK) {
        ack_deferred(c);
        return;
    }
    if (st != COAPS_OK) {
        reply_code(c, COAPS_COAP_INTERNAL_SERVER_ERROR, 0, 0);
        return;
    }
    uint32_t seq = 0;
    bool obs = observe_wanted(r, c->req) &&
               coap_observe_request(ep, c->from, c->req, raw, raw_len, r, resp.code, &seq,
                                    c->now_ms);
    coaps_coap_msg m;
    if (coap_build_response(ep, c->req, &resp, obs, seq, &m) != COAPS_OK) {
        reply_code(c, COAPS_COAP_INTERNAL_SERVER_ERROR, 0, 0);
        return;
    }
    coaps_coap_block b;
    if (body && coaps_coap_msg_get_block(c->req, COAPS_COAP_OPT_BLOCK1, &b) == COAPS_OK &&
        coaps_coap_msg_add_block(&m, COAPS_COAP_OPT_BLOCK1, &b) != COAPS_OK) { /* RFC 7959 2.3 */
        reply_code(c, COAPS_COAP_INTERNAL_SERVER_ERROR, 0, 0); /* no echo: not this reply */
        return;
    }
    if (!reads(c->req) && coaps_coap_msg_get_block(&m, COAPS_COAP_OPT_BLOCK2, &b) == COAPS_OK &&
        b.more)
        coap_block2_keep(ep, c->from, c->req, &resp, c->now_ms);
    send_reply(c, &m);
}

/* RFC 7959 3.3: a Block2 follow-up of a non-GET request whose response we
 * kept is served from it; true when answered. */
static bool serve_kept_block(const struct reply_ctx *c)
{
    coaps_coap_block b;
    if (reads(c->req) || coaps_coap_msg_get_block(c->req, COAPS_COAP_OPT_BLOCK2, &b) != COAPS_OK ||
        b.num == 0 || coaps_coap_msg_find_option(c->req, COAPS_COAP_OPT_BLOCK1, NULL))
        return false;
    struct coap_body *s = coap_block2_kept(c->ep, c->from, c->req, c->now_ms);
    if (s == NULL)
        return false;
    coaps_coap_response resp;
    coaps_coap_response_init(&resp, s->code, s->buf, s->len);
    resp.payload_len = s->len;
    resp.content_format = s->cf;
    resp.etag_len = s->etag_len;
    memcpy(resp.etag, s->etag, sizeof resp.etag);
    coaps_coap_msg m;
    if (coap_build_response(c->ep, c->req, &resp, false, 0, &m) != COAPS_OK)
        return false;
    if (coaps_coap_msg_get_block(&m, COAPS_COAP_OPT_BLOCK2, &b) != COAPS_OK || !b.more)
        coap_body_free(s); /* last block sent */
    send_reply(c, &m);
    return true;
}

#if COAPS_WITH_SHARED_DEDUP
/* A request another server of the cluster answered (coaps_coap_config
 * shared_reply_find): its reply again, cached here too, and counted as
 * the duplicate it is. */
static bool shared_duplicate(coaps_coap_endpoint *ep, const coaps_peer *from,
                             const coaps_coap_msg *m, struct coap_dedup *dd, uint64_t now_ms)
{
    size_t len = 0;
    if (!ep->cfg.shared_reply_find(ep->cfg.shared_reply_user, from, m->mid, ep->scratch,
                                   ep->cfg.max_message_size, &len) ||
        len == 0 || len > ep->cfg.max_message_size)
        return false;
    ep->stats.rx_duplicates++;
    coap_dedup_set_reply(ep, dd, ep->scratch, len, now_ms);
    coap_outq_push(ep, from, ep->scratch, len);
    return true;
}
#endif

void coap_server_request(coaps_coap_endpoint *ep, const coaps_peer *from, coaps_coap_msg *m,
                         const uint8_t *raw, size_t raw_len, uint64_t now_ms)
{
    /* RFC 7252 4.5: a duplicate CON gets the same reply again; a duplicate
     * NON is dropped. */
    struct coap_dedup *dd = NULL;
#if COAPS_WITH_SHARED_DEDUP
    bool fresh = ep->cfg.shared_reply_find && m->type == COAPS_COAP_CON &&
                 !method_safe(m->code) && !coap_dedup_has_peer(ep, from);
    if (coap_dedup_seen(ep, from, m, now_ms, &dd))
        return;
    if (fresh && shared_duplicate(ep, from, m, dd, now_ms))
        return;
#else
    if (coap_dedup_seen(ep, from, m, now_ms, &dd))
        return;
#endif
    ep->stats.rx_requests++;
    struct reply_ctx c = {ep, from, m, dd, now_ms};
    struct coaps_coap_resource *r = NULL;
    uint16_t bad = 0;
    uint8_t code = precheck(ep, m, &r, &bad);
    if (code == COAPS_COAP_BAD_OPTION) {
        /* RFC 7252 5.4.1: 4.02 to a CON request; a NON one is rejected */
        if (m->type == COAPS_COAP_CON)
            reply_bad_option(&c, bad);
        else
            reject_non(&c);
        return;
    }
    if (code) {
        coap_observe_deregister(ep, from, m); /* RFC 7641 4.1: error ends it */
        reply_code(&c, code, 0, 0);
        return;
    }
    if (serve_kept_block(&c))
        return;
    struct coap_body *body;
    if (!block1_stage(&c, &body))
        return;
    run_handler(&c, r, raw, raw_len, body);
    if (body)
        coap_body_free(body);
}
