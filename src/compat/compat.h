/* compat.h - the objects behind the libcoap 4.3 API (include/coap3/coap.h),
 * shared by the files of src/compat. */
#ifndef COAPS_COMPAT_H
#define COAPS_COMPAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coap3/coap.h"
#include "coaps/client.h"
#include "coaps/coap.h"
#include "coaps/server.h"

/* libcoap's default PDU size over UDP (COAP_DEFAULT_MTU): what one PDU a
 * program builds may hold in options and payload together. */
#define COMPAT_PDU_MAX COAP_DEFAULT_MTU

/* Requests in flight per client session: libcoap bounds it by NSTART and
 * memory; a program of the supported shape has one or two. */
#define COMPAT_INFLIGHT_MAX 8

/* Client sessions per context. */
#define COMPAT_SESSIONS_MAX 8

/* coaps_server_listen's limit. */
#define COMPAT_ENDPOINTS_MAX 4

/* A one-line complaint about a bad argument, at LOG_WARNING. */
#define COMPAT_BAD(fn, what) coap_log(LOG_WARNING, "%s: %s\n", fn, what)

enum compat_pdu_kind {
    COMPAT_PDU_OWN,      /* built by the program (coap_new_pdu) */
    COMPAT_PDU_REQUEST,  /* a received request, inside a handler */
    COMPAT_PDU_RESPONSE, /* the response a handler fills */
    COMPAT_PDU_RECEIVED, /* a response given to the response handler */
};

struct coap_pdu_t {
    enum compat_pdu_kind kind;
    uint8_t type;
    uint8_t code;
    uint16_t mid;
    /* OWN: the message (options point into buf) and its payload */
    coaps_coap_msg msg;
    uint8_t buf[COMPAT_PDU_MAX];
    size_t used;
    const uint8_t *payload;
    size_t payload_len;
    /* REQUEST / RECEIVED: borrowed */
    const coaps_coap_msg *view;
    /* RESPONSE */
    coaps_coap_response *resp;
    bool has_data;
};

struct coap_endpoint_t {
    coap_context_t *ctx;
    coap_proto_t proto;
};

struct coap_resource_t {
    coap_context_t *ctx; /* once added */
    coap_str_const_t uri;
    char path[COAPS_COAP_LOCATION_MAX * 2];
    int flags;
    bool observable;
    void *userdata;
    coap_method_handler_t handler[COAPS_COAP_METHOD_MAX + 1];
    coaps_coap_resource *res; /* once in the server's endpoint */
    coap_resource_t *next;    /* the context's list, for freeing */
};

struct compat_inflight {
    coap_pdu_t *pdu; /* what was sent: its option values are borrowed */
    coaps_coap_request_id id;
    coap_session_t *session;
    bool used;
    bool queued; /* waits for the DTLS handshake (coap_send before it ended) */
};

struct coap_session_t {
    coap_context_t *ctx;
    coap_proto_t proto;
    coaps_client *client; /* client sessions */
    coaps_peer peer;
    uint16_t next_mid;
    bool established;
    bool failed;      /* the DTLS handshake failed: coap_send refuses */
    bool server_view; /* the one a server handler gets: not the program's */
    struct compat_inflight inflight[COMPAT_INFLIGHT_MAX];
};

struct coap_context_t {
    coaps_server *server; /* at the first endpoint */
    char psk_hint[COAPS_DTLS_PSK_HINT_MAX + 1];
    uint8_t psk_key[COAPS_DTLS_PSK_KEY_MAX];
    size_t psk_key_len;
    bool has_psk;
    coaps_dtls_pki_files pki;
    bool has_pki;
    coap_endpoint_t endpoints[COMPAT_ENDPOINTS_MAX];
    size_t n_endpoints;
    coap_resource_t *resources;
    coap_session_t *sessions[COMPAT_SESSIONS_MAX];
    coap_response_handler_t response_handler;
    void *app_data;
};

/* log.c: the coaps runtime's log level for libcoap's. */
int compat_log_level(void);

/* pdu.c */
void compat_pdu_request_view(coap_pdu_t *pdu, const coaps_coap_msg *msg, const uint8_t *payload,
                             size_t payload_len);
void compat_pdu_response_view(coap_pdu_t *pdu, coaps_coap_response *resp);
const coap_string_t *compat_query(const coaps_coap_msg *m, uint8_t *buf, size_t cap,
                                  coap_string_t *out);
void compat_pdu_received_view(coap_pdu_t *pdu, const coaps_coap_msg *msg, const uint8_t *payload,
                              size_t payload_len);

/* resource.c: hand the context's resources to its server's endpoint. */
int compat_resources_attach(coap_context_t *ctx);
void compat_resources_free(coap_context_t *ctx);

/* session.c */
void compat_sessions_free(coap_context_t *ctx);
/* After the session's client has processed: when its DTLS handshake has
 * ended, send the requests coap_send queued, or drop them if it failed. */
void compat_session_progress(coap_session_t *s);

/* context.c: the server, created at the first endpoint. */
int compat_context_server(coap_context_t *ctx);

#endif /* COAPS_COMPAT_H */
