/* pdu.c - libcoap's PDU functions over the four things a coap_pdu_t is
 * here: a message the program builds (coap_new_pdu; options and payload
 * copied into the PDU's own COMPAT_PDU_MAX bytes), the request a handler
 * reads and the response it fills (views of the CoAP core's request and
 * coaps_coap_response), and a response the client's handler reads. */
#include <stdlib.h>
#include <string.h>

#include "compat/compat.h"

/* Every field but the message and buffer, which only built PDUs use. */
static void view_init(coap_pdu_t *pdu, enum compat_pdu_kind kind, const coaps_coap_msg *msg,
                      const uint8_t *payload, size_t payload_len)
{
    pdu->kind = kind;
    pdu->type = msg ? msg->type : COAP_MESSAGE_ACK;
    pdu->code = msg ? msg->code : 0;
    pdu->mid = msg ? msg->mid : 0;
    pdu->used = 0;
    pdu->payload = payload;
    pdu->payload_len = payload_len;
    pdu->view = msg;
    pdu->resp = NULL;
    pdu->has_data = false;
}

void compat_pdu_request_view(coap_pdu_t *pdu, const coaps_coap_msg *msg, const uint8_t *payload,
                             size_t payload_len)
{
    view_init(pdu, COMPAT_PDU_REQUEST, msg, payload, payload_len);
}

void compat_pdu_received_view(coap_pdu_t *pdu, const coaps_coap_msg *msg, const uint8_t *payload,
                              size_t payload_len)
{
    view_init(pdu, COMPAT_PDU_RECEIVED, msg, payload, payload_len);
}

void compat_pdu_response_view(coap_pdu_t *pdu, coaps_coap_response *resp)
{
    view_init(pdu, COMPAT_PDU_RESPONSE, NULL, NULL, 0);
    pdu->code = resp->code;
    pdu->resp = resp;
}

/* The message a PDU holds (built or received); NULL for a response view. */
static const coaps_coap_msg *pdu_msg(const coap_pdu_t *pdu)
{
    if (pdu->kind == COMPAT_PDU_OWN)
        return &pdu->msg;
    return pdu->view;
}

coap_pdu_t *coap_new_pdu(coap_pdu_type_t type, coap_pdu_code_t code, coap_session_t *session)
{
    if (session == NULL || (unsigned)type > COAP_MESSAGE_RST || (unsigned)code > 0xff) {
        COMPAT_BAD("coap_new_pdu", "NULL session or bad type or code");
        return NULL;
    }
    coap_pdu_t *pdu = malloc(sizeof *pdu);
    if (pdu == NULL) {
        COMPAT_BAD("coap_new_pdu", "out of memory");
        return NULL;
    }
    view_init(pdu, COMPAT_PDU_OWN, NULL, NULL, 0);
    pdu->type = (uint8_t)type;
    pdu->code = (uint8_t)code;
    pdu->mid = coap_new_message_id(session);
    coaps_coap_msg_init(&pdu->msg, pdu->type, pdu->code, pdu->mid);
    pdu->used = 0;
    return pdu;
}

void coap_delete_pdu(coap_pdu_t *pdu)
{
    if (pdu != NULL && pdu->kind == COMPAT_PDU_OWN)
        free(pdu);
}

void coap_pdu_set_code(coap_pdu_t *pdu, coap_pdu_code_t code)
{
    if (pdu == NULL || (unsigned)code > 0xff) {
        COMPAT_BAD("coap_pdu_set_code", "NULL PDU or bad code");
        return;
    }
    pdu->code = (uint8_t)code;
    if (pdu->kind == COMPAT_PDU_RESPONSE)
        coaps_coap_response_set_code(pdu->resp, (uint8_t)code);
    else if (pdu->kind == COMPAT_PDU_OWN)
        pdu->msg.code = (uint8_t)code;
}

coap_pdu_code_t coap_pdu_get_code(const coap_pdu_t *pdu)
{
    if (pdu == NULL) {
        COMPAT_BAD("coap_pdu_get_code", "NULL PDU");
        return COAP_EMPTY_CODE;
    }
    return (coap_pdu_code_t)pdu->code;
}

void coap_pdu_set_type(coap_pdu_t *pdu, coap_pdu_type_t type)
{
    if (pdu == NULL || (unsigned)type > COAP_MESSAGE_RST) {
        COMPAT_BAD("coap_pdu_set_type", "NULL PDU or bad type");
        return;
    }
    pdu->type = (uint8_t)type;
    if (pdu->kind == COMPAT_PDU_OWN)
        pdu->msg.type = (uint8_t)type;
}

coap_pdu_type_t coap_pdu_get_type(const coap_pdu_t *pdu)
{
    if (pdu == NULL) {
        COMPAT_BAD("coap_pdu_get_type", "NULL PDU");
        return COAP_MESSAGE_CON;
    }
    return (coap_pdu_type_t)pdu->type;
}

coap_mid_t coap_pdu_get_mid(const coap_pdu_t *pdu)
{
    if (pdu == NULL) {
        COMPAT_BAD("coap_pdu_get_mid", "NULL PDU");
        return COAP_INVALID_MID;
    }
    return pdu->mid;
}

coap_bin_const_t coap_pdu_get_token(const coap_pdu_t *pdu)
{
    coap_bin_const_t t = {0, NULL};
    const coaps_coap_msg *m = pdu ? pdu_msg(pdu) : NULL;
    if (m != NULL) {
        t.length = m->token_len;
        t.s = m->token;
    }
    return t;
}

int coap_add_token(coap_pdu_t *pdu, size_t len, const uint8_t *data)
{
    if (pdu == NULL || pdu->kind != COMPAT_PDU_OWN || len > COAPS_COAP_TOKEN_MAX ||
        (len > 0 && data == NULL)) {
        COMPAT_BAD("coap_add_token", "NULL or read-only PDU, or token longer than 8 bytes");
        return 0;
    }
    return coaps_coap_msg_set_token(&pdu->msg, data, len) == COAPS_OK;
}

/* Bytes the option takes on the wire after an option numbered prev
 * (RFC 7252 3.1): the header byte, extended delta and length, value. */
static size_t option_wire_len(uint16_t prev, uint16_t number, size_t len)
{
    size_t n = 1 + len;
    unsigned delta = (unsigned)(number - prev);
    n += delta >= 269 ? 2 : delta >= 13 ? 1 : 0;
    n += len >= 269 ? 2 : len >= 13 ? 1 : 0;
    return n;
}

static size_t own_add_option(coap_pdu_t *pdu, coap_option_num_t number, size_t len,
                             const uint8_t *data)
{
    if (pdu->has_data || len > sizeof pdu->buf - pdu->used) {
        COMPAT_BAD("coap_add_option", "no room in the PDU (options go before the data)");
        return 0;
    }
    uint16_t prev = 0;
    for (size_t i = 0; i < pdu->msg.opt_count; i++)
        if (pdu->msg.opts[i].number <= number)
            prev = pdu->msg.opts[i].number;
    uint8_t *v = pdu->buf + pdu->used;
    if (len)
        memcpy(v, data, len);
    if (coaps_coap_msg_add_option(&pdu->msg, number, v, len) != COAPS_OK) {
        COMPAT_BAD("coap_add_option", "too many options");
        return 0;
    }
    pdu->used += len;
    return option_wire_len(prev, number, len);
}

/* A handler's response: the options coaps_coap_response carries. */
static size_t response_add_option(coap_pdu_t *pdu, coap_option_num_t number, size_t len,
                                  const uint8_t *data)
{
    coaps_coap_response *r = pdu->resp;
    switch (number) {
    case COAP_OPTION_CONTENT_FORMAT:
        coaps_coap_response_set_content_format(r, (int32_t)coap_decode_var_bytes(data, len));
        break;
    case COAP_OPTION_MAXAGE:
        coaps_coap_response_set_max_age(r, coap_decode_var_bytes(data, len));
        break;
    case COAP_OPTION_SIZE1:
        coaps_coap_response_set_size1(r, coap_decode_var_bytes(data, len));
        break;
    case COAP_OPTION_ETAG:
        if (coaps_coap_response_set_etag(r, data, len) != COAPS_OK)
            return 0;
        break;
    default:
        coap_log(LOG_WARNING, "coap_add_option: option %u in a response is not supported\n",
                 (unsigned)number);
        return 0;
    }
    return option_wire_len(0, number, len);
}

size_t coap_add_option(coap_pdu_t *pdu, coap_option_num_t number, size_t len,
                       const uint8_t *data)
{
    if (pdu == NULL || (len > 0 && data == NULL) || len > COAPS_COAP_OPTION_LEN_MAX) {
        COMPAT_BAD("coap_add_option", "NULL PDU or data");
        return 0;
    }
    if (pdu->kind == COMPAT_PDU_OWN)
        return own_add_option(pdu, number, len, data);
    if (pdu->kind == COMPAT_PDU_RESPONSE)
        return response_add_option(pdu, number, len, data);
    COMPAT_BAD("coap_add_option", "a received PDU is read-only");
    return 0;
}

int coap_add_data(coap_pdu_t *pdu, size_t len, const uint8_t *data)
{
    if (pdu == NULL || (len > 0 && data == NULL)) {
        COMPAT_BAD("coap_add_data", "NULL PDU or data");
        return 0;
    }
    if (len == 0)
        return 1;
    if (pdu->has_data) {
        COMPAT_BAD("coap_add_data", "PDU already contains data");
        return 0;
    }
    if (pdu->kind == COMPAT_PDU_RESPONSE) {
        if (coaps_coap_response_set_payload(pdu->resp, data, len) != COAPS_OK) {
            COMPAT_BAD("coap_add_data", "data larger than the response can hold");
            return 0;
        }
    } else if (pdu->kind == COMPAT_PDU_OWN) {
        if (len > sizeof pdu->buf - pdu->used) {
            COMPAT_BAD("coap_add_data", "data larger than the PDU can hold");
            return 0;
        }
        memcpy(pdu->buf + pdu->used, data, len);
        pdu->payload = pdu->buf + pdu->used;
        pdu->payload_len = len;
        pdu->used += len;
    } else {
        COMPAT_BAD("coap_add_data", "a received PDU is read-only");
        return 0;
    }
    pdu->has_data = true;
    return 1;
}

int coap_get_data(const coap_pdu_t *pdu, size_t *len, const uint8_t **data)
{
    if (pdu == NULL || len == NULL || data == NULL) {
        COMPAT_BAD("coap_get_data", "NULL argument");
        if (len)
            *len = 0;
        if (data)
            *data = NULL;
        return 0;
    }
    if (pdu->kind == COMPAT_PDU_RESPONSE) {
        *len = pdu->resp->payload_len;
        *data = pdu->resp->payload_len ? pdu->resp->payload : NULL;
    } else {
        *len = pdu->payload_len;
        *data = pdu->payload_len ? pdu->payload : NULL;
    }
    return *len > 0;
}

void coap_add_data_blocked_response(const coap_pdu_t *request, coap_pdu_t *response,
                                    uint16_t media_type, int maxage, size_t length,
                                    const uint8_t *data)
{
    if (request == NULL || response == NULL || response->kind != COMPAT_PDU_RESPONSE) {
        COMPAT_BAD("coap_add_data_blocked_response", "NULL request or not a handler's response");
        return;
    }
    coaps_coap_response *r = response->resp;
    coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTENT);
    coaps_coap_response_set_content_format(r, media_type);
    if (maxage >= 0)
        coaps_coap_response_set_max_age(r, (uint32_t)maxage);
    /* Block2 slicing of a long body is the CoAP core's (RFC 7959) */
    if (!coap_add_data(response, length, data))
        coap_pdu_set_code(response, COAP_RESPONSE_CODE_INTERNAL_ERROR);
}

int coap_add_data_large_response(coap_resource_t *resource, coap_session_t *session,
                                 const coap_pdu_t *request, coap_pdu_t *response,
                                 const coap_string_t *query, uint16_t media_type, int maxage,
                                 uint64_t etag, size_t length, const uint8_t *data,
                                 coap_release_large_data_t release_func, void *app_ptr)
{
    (void)resource;
    (void)query;
    int ok = 0;
    if (request == NULL || response == NULL || response->kind != COMPAT_PDU_RESPONSE) {
        COMPAT_BAD("coap_add_data_large_response", "NULL request or not a handler's response");
    } else {
        coaps_coap_response *r = response->resp;
        coaps_coap_response_set_content_format(r, media_type);
        if (maxage >= 0)
            coaps_coap_response_set_max_age(r, (uint32_t)maxage);
        uint8_t tag[8];
        size_t n = 0;
        for (uint64_t v = etag; v; v >>= 8)
            n++;
        for (size_t i = n; i > 0; i--, etag >>= 8)
            tag[i - 1] = (uint8_t)etag;
        if (n > 0)
            coaps_coap_response_set_etag(r, tag, n);
        /* the core slices a long body into Block2 blocks (RFC 7959) */
        ok = coap_add_data(response, length, data);
    }
    if (release_func != NULL) /* the body was copied (or refused): done with it */
        release_func(session, app_ptr);
    return ok;
}

/* The Uri-Query options joined with '&' into buf; NULL when there are
 * none (or they do not fit cap, which a message of COMPAT_PDU_MAX cannot). */
const coap_string_t *compat_query(const coaps_coap_msg *m, uint8_t *buf, size_t cap,
                                  coap_string_t *out)
{
    size_t it, n = 0;
    for (const coaps_coap_option *o = coaps_coap_msg_find_option(m, COAP_OPTION_URI_QUERY, &it); o;
         o = coaps_coap_msg_next_option(m, COAP_OPTION_URI_QUERY, &it)) {
        if (o->len + 2 > cap - n)
            return NULL;
        if (n)
            buf[n++] = '&';
        memcpy(buf + n, coaps_coap_option_value(o), o->len);
        n += o->len;
    }
    if (n == 0 && coaps_coap_msg_find_option(m, COAP_OPTION_URI_QUERY, NULL) == NULL)
        return NULL;
    buf[n] = '\0';
    out->s = buf;
    out->length = n;
    return out;
}

coap_string_t *coap_get_query(const coap_pdu_t *request)
{
    const coaps_coap_msg *m = request ? pdu_msg(request) : NULL;
    if (m == NULL) {
        COMPAT_BAD("coap_get_query", "NULL PDU or not a request");
        return NULL;
    }
    uint8_t buf[COMPAT_PDU_MAX];
    coap_string_t tmp;
    if (compat_query(m, buf, sizeof buf, &tmp) == NULL)
        return NULL;
    coap_string_t *q = malloc(sizeof *q + tmp.length + 1);
    if (q == NULL)
        return NULL;
    q->s = (uint8_t *)(q + 1);
    q->length = tmp.length;
    memcpy(q->s, tmp.s, tmp.length + 1);
    return q;
}

void coap_delete_string(coap_string_t *s)
{
    free(s); /* one block: coap_get_query */
}

unsigned int coap_encode_var_safe(uint8_t *buf, size_t length, unsigned int value)
{
    unsigned n = 0;
    for (unsigned v = value; v; v >>= 8)
        n++;
    if (n > length || (n > 0 && buf == NULL)) {
        COMPAT_BAD("coap_encode_var_safe", "buffer too small");
        return 0;
    }
    for (unsigned i = n; i > 0; i--, value >>= 8)
        buf[i - 1] = (uint8_t)value;
    return n;
}

unsigned int coap_decode_var_bytes(const uint8_t *buf, size_t length)
{
    unsigned v = 0;
    for (size_t i = 0; buf != NULL && i < length && i < sizeof v; i++)
        v = (v << 8) | buf[i];
    return v;
}

struct phrase {
    uint8_t code;
    const char *text;
};

static const struct phrase phrases[] = {
    {COAP_RESPONSE_CODE(201), "Created"},
    {COAP_RESPONSE_CODE(202), "Deleted"},
    {COAP_RESPONSE_CODE(203), "Valid"},
    {COAP_RESPONSE_CODE(204), "Changed"},
    {COAP_RESPONSE_CODE(205), "Content"},
    {COAP_RESPONSE_CODE(231), "Continue"},
    {COAP_RESPONSE_CODE(400), "Bad Request"},
    {COAP_RESPONSE_CODE(401), "Unauthorized"},
    {COAP_RESPONSE_CODE(402), "Bad Option"},
    {COAP_RESPONSE_CODE(403), "Forbidden"},
    {COAP_RESPONSE_CODE(404), "Not Found"},
    {COAP_RESPONSE_CODE(405), "Method Not Allowed"},
    {COAP_RESPONSE_CODE(406), "Not Acceptable"},
    {COAP_RESPONSE_CODE(408), "Request Entity Incomplete"},
    {COAP_RESPONSE_CODE(409), "Conflict"},
    {COAP_RESPONSE_CODE(412), "Precondition Failed"},
    {COAP_RESPONSE_CODE(413), "Request Entity Too Large"},
    {COAP_RESPONSE_CODE(415), "Unsupported Content-Format"},
    {COAP_RESPONSE_CODE(422), "Unprocessable"},
    {COAP_RESPONSE_CODE(429), "Too Many Requests"},
    {COAP_RESPONSE_CODE(500), "Internal Server Error"},
    {COAP_RESPONSE_CODE(501), "Not Implemented"},
    {COAP_RESPONSE_CODE(502), "Bad Gateway"},
    {COAP_RESPONSE_CODE(503), "Service Unavailable"},
    {COAP_RESPONSE_CODE(504), "Gateway Timeout"},
    {COAP_RESPONSE_CODE(505), "Proxying Not Supported"},
    {COAP_RESPONSE_CODE(508), "Hop Limit Reached"},
};

const char *coap_response_phrase(unsigned char code)
{
    for (size_t i = 0; i < sizeof phrases / sizeof phrases[0]; i++)
        if (phrases[i].code == code)
            return phrases[i].text;
    return NULL;
}
