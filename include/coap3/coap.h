/*
 * coap3/coap.h - the libcoap 4.3 API on coaps (docs/libcoap-compat.md).
 *
 * A program written against libcoap 4.3 (libcoap's examples, ESP-IDF's
 * CoAP examples) includes <coap3/coap.h> and builds on coaps unchanged:
 *   cc prog.c $(pkg-config --cflags --libs libcoap-3-coaps)
 * The names, signatures and numeric values below are libcoap's, written
 * down afresh from its documentation; the types a libcoap program only
 * holds pointers to are opaque here as there. Only the subset that
 * servers and clients of that shape use is implemented: the list and the
 * differences are in docs/libcoap-compat.md. Underneath, a context is a
 * coaps_server (coaps/server.h) for its endpoints and a coaps_client
 * (coaps/client.h) per client session.
 */
#ifndef COAPS_COAP3_COAP_H
#define COAPS_COAP3_COAP_H

#include <coaps/export.h>

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <syslog.h> /* LOG_EMERG .. LOG_DEBUG: libcoap's log levels */

#ifdef __cplusplus
extern "C" {
#endif

/* ---- opaque objects -------------------------------------------------------- */
typedef struct coap_context_t coap_context_t;
typedef struct coap_endpoint_t coap_endpoint_t;
typedef struct coap_session_t coap_session_t;
typedef struct coap_resource_t coap_resource_t;
typedef struct coap_pdu_t coap_pdu_t;
typedef struct coap_dtls_pki_t coap_dtls_pki_t;
typedef uint8_t coap_opt_t;

/* ---- strings --------------------------------------------------------------- */
typedef struct coap_string_t {
    size_t length;
    uint8_t *s;
} coap_string_t;

typedef struct coap_str_const_t {
    size_t length;
    const uint8_t *s;
} coap_str_const_t;

typedef struct coap_binary_t {
    size_t length;
    uint8_t *s;
} coap_binary_t;

typedef struct coap_bin_const_t {
    size_t length;
    const uint8_t *s;
} coap_bin_const_t;

/* ---- addresses ------------------------------------------------------------- */
typedef struct coap_address_t {
    socklen_t size;
    union {
        struct sockaddr sa;
        struct sockaddr_in sin;
        struct sockaddr_in6 sin6;
    } addr;
} coap_address_t;

/* ---- protocol constants ---------------------------------------------------- */
#define COAP_DEFAULT_PORT 5683
#define COAPS_DEFAULT_PORT 5684
#define COAP_DEFAULT_MTU 1152

typedef enum coap_proto_t {
    COAP_PROTO_NONE = 0,
    COAP_PROTO_UDP = 1,
    COAP_PROTO_DTLS = 2,
    COAP_PROTO_TCP = 3,
    COAP_PROTO_TLS = 4,
} coap_proto_t;

typedef enum coap_pdu_type_t {
    COAP_MESSAGE_CON = 0,
    COAP_MESSAGE_NON = 1,
    COAP_MESSAGE_ACK = 2,
    COAP_MESSAGE_RST = 3,
} coap_pdu_type_t;

typedef enum coap_request_t {
    COAP_REQUEST_GET = 1,
    COAP_REQUEST_POST = 2,
    COAP_REQUEST_PUT = 3,
    COAP_REQUEST_DELETE = 4,
    COAP_REQUEST_FETCH = 5,
    COAP_REQUEST_PATCH = 6,
    COAP_REQUEST_IPATCH = 7,
} coap_request_t;

/* "2.05" written as 205: class in the top 3 bits, detail in the low 5. */
#define COAP_RESPONSE_CODE(N) (((N) / 100 << 5) | (N) % 100)
#define COAP_RESPONSE_CLASS(C) (((C) >> 5) & 0xFF)

typedef enum coap_pdu_code_t {
    COAP_EMPTY_CODE = 0,
    COAP_REQUEST_CODE_GET = COAP_REQUEST_GET,
    COAP_REQUEST_CODE_POST = COAP_REQUEST_POST,
    COAP_REQUEST_CODE_PUT = COAP_REQUEST_PUT,
    COAP_REQUEST_CODE_DELETE = COAP_REQUEST_DELETE,
    COAP_REQUEST_CODE_FETCH = COAP_REQUEST_FETCH,
    COAP_REQUEST_CODE_PATCH = COAP_REQUEST_PATCH,
    COAP_REQUEST_CODE_IPATCH = COAP_REQUEST_IPATCH,
    COAP_RESPONSE_CODE_CREATED = COAP_RESPONSE_CODE(201),
    COAP_RESPONSE_CODE_DELETED = COAP_RESPONSE_CODE(202),
    COAP_RESPONSE_CODE_VALID = COAP_RESPONSE_CODE(203),
    COAP_RESPONSE_CODE_CHANGED = COAP_RESPONSE_CODE(204),
    COAP_RESPONSE_CODE_CONTENT = COAP_RESPONSE_CODE(205),
    COAP_RESPONSE_CODE_CONTINUE = COAP_RESPONSE_CODE(231),
    COAP_RESPONSE_CODE_BAD_REQUEST = COAP_RESPONSE_CODE(400),
    COAP_RESPONSE_CODE_UNAUTHORIZED = COAP_RESPONSE_CODE(401),
    COAP_RESPONSE_CODE_BAD_OPTION = COAP_RESPONSE_CODE(402),
    COAP_RESPONSE_CODE_FORBIDDEN = COAP_RESPONSE_CODE(403),
    COAP_RESPONSE_CODE_NOT_FOUND = COAP_RESPONSE_CODE(404),
    COAP_RESPONSE_CODE_NOT_ALLOWED = COAP_RESPONSE_CODE(405),
    COAP_RESPONSE_CODE_NOT_ACCEPTABLE = COAP_RESPONSE_CODE(406),
    COAP_RESPONSE_CODE_INCOMPLETE = COAP_RESPONSE_CODE(408),
    COAP_RESPONSE_CODE_CONFLICT = COAP_RESPONSE_CODE(409),
    COAP_RESPONSE_CODE_PRECONDITION_FAILED = COAP_RESPONSE_CODE(412),
    COAP_RESPONSE_CODE_REQUEST_TOO_LARGE = COAP_RESPONSE_CODE(413),
    COAP_RESPONSE_CODE_UNSUPPORTED_CONTENT_FORMAT = COAP_RESPONSE_CODE(415),
    COAP_RESPONSE_CODE_UNPROCESSABLE = COAP_RESPONSE_CODE(422),
    COAP_RESPONSE_CODE_TOO_MANY_REQUESTS = COAP_RESPONSE_CODE(429),
    COAP_RESPONSE_CODE_INTERNAL_ERROR = COAP_RESPONSE_CODE(500),
    COAP_RESPONSE_CODE_NOT_IMPLEMENTED = COAP_RESPONSE_CODE(501),
    COAP_RESPONSE_CODE_BAD_GATEWAY = COAP_RESPONSE_CODE(502),
    COAP_RESPONSE_CODE_SERVICE_UNAVAILABLE = COAP_RESPONSE_CODE(503),
    COAP_RESPONSE_CODE_GATEWAY_TIMEOUT = COAP_RESPONSE_CODE(504),
    COAP_RESPONSE_CODE_PROXYING_NOT_SUPPORTED = COAP_RESPONSE_CODE(505),
    COAP_RESPONSE_CODE_HOP_LIMIT_REACHED = COAP_RESPONSE_CODE(508),
} coap_pdu_code_t;

typedef uint16_t coap_option_num_t;
#define COAP_OPTION_IF_MATCH 1
#define COAP_OPTION_URI_HOST 3
#define COAP_OPTION_ETAG 4
#define COAP_OPTION_IF_NONE_MATCH 5
#define COAP_OPTION_OBSERVE 6
#define COAP_OPTION_URI_PORT 7
#define COAP_OPTION_LOCATION_PATH 8
#define COAP_OPTION_OSCORE 9
#define COAP_OPTION_URI_PATH 11
#define COAP_OPTION_CONTENT_FORMAT 12
#define COAP_OPTION_CONTENT_TYPE COAP_OPTION_CONTENT_FORMAT
#define COAP_OPTION_MAXAGE 14
#define COAP_OPTION_URI_QUERY 15
#define COAP_OPTION_HOP_LIMIT 16
#define COAP_OPTION_ACCEPT 17
#define COAP_OPTION_LOCATION_QUERY 20
#define COAP_OPTION_BLOCK2 23
#define COAP_OPTION_BLOCK1 27
#define COAP_OPTION_SIZE2 28
#define COAP_OPTION_PROXY_URI 35
#define COAP_OPTION_PROXY_SCHEME 39
#define COAP_OPTION_SIZE1 60

#define COAP_OBSERVE_ESTABLISH 0
#define COAP_OBSERVE_CANCEL 1

#define COAP_MEDIATYPE_TEXT_PLAIN 0
#define COAP_MEDIATYPE_APPLICATION_LINK_FORMAT 40
#define COAP_MEDIATYPE_APPLICATION_XML 41
#define COAP_MEDIATYPE_APPLICATION_OCTET_STREAM 42
#define COAP_MEDIATYPE_APPLICATION_EXI 47
#define COAP_MEDIATYPE_APPLICATION_JSON 50
#define COAP_MEDIATYPE_APPLICATION_CBOR 60

typedef int coap_mid_t;
#define COAP_INVALID_MID (-1)

/* ---- logging ----------------------------------------------------------------
 * Levels are syslog's (LOG_EMERG 0 .. LOG_DEBUG 7); the default is
 * LOG_WARNING. Lines go to stderr. */
typedef int coap_log_t;
COAPS_API void coap_set_log_level(coap_log_t level);
COAPS_API coap_log_t coap_get_log_level(void);
COAPS_API void coap_log_impl(coap_log_t level, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
#define coap_log(level, ...)                                                                   \
    do {                                                                                       \
        if ((int)(level) <= (int)coap_get_log_level())                                         \
            coap_log_impl((level), __VA_ARGS__);                                               \
    } while (0)

/* ---- start-up, contexts, endpoints ---------------------------------------- */
COAPS_API void coap_startup(void);
COAPS_API void coap_cleanup(void);
COAPS_API const char *coap_package_version(void);

COAPS_API coap_context_t *coap_new_context(const coap_address_t *listen_addr);
COAPS_API void coap_free_context(coap_context_t *context);
COAPS_API void coap_set_app_data(coap_context_t *context, void *data);
COAPS_API void *coap_get_app_data(const coap_context_t *context);

COAPS_API coap_endpoint_t *coap_new_endpoint(coap_context_t *context,
                                             const coap_address_t *listen_addr,
                                             coap_proto_t proto);

/* coap_io_process: COAP_IO_WAIT waits until there is work; COAP_IO_NO_WAIT
 * returns at once. Returns the milliseconds spent, or -1. */
#define COAP_IO_WAIT 0
#define COAP_IO_NO_WAIT ((uint32_t)-1)
COAPS_API int coap_io_process(coap_context_t *ctx, uint32_t timeout_ms);
COAPS_API int coap_run_once(coap_context_t *ctx, uint32_t timeout_ms);

/* ---- (D)TLS ------------------------------------------------------------------ */
COAPS_API int coap_dtls_is_supported(void);
COAPS_API int coap_tls_is_supported(void);

typedef struct coap_dtls_cpsk_info_t {
    coap_bin_const_t identity;
    coap_bin_const_t key;
} coap_dtls_cpsk_info_t;

typedef struct coap_dtls_spsk_info_t {
    coap_bin_const_t hint;
    coap_bin_const_t key;
} coap_dtls_spsk_info_t;

typedef const coap_dtls_cpsk_info_t *(*coap_dtls_ih_callback_t)(coap_str_const_t *hint,
                                                                coap_session_t *coap_session,
                                                                void *arg);
typedef const coap_bin_const_t *(*coap_dtls_id_callback_t)(coap_bin_const_t *identity,
                                                           coap_session_t *coap_session,
                                                           void *arg);
typedef const coap_dtls_spsk_info_t *(*coap_dtls_psk_sni_callback_t)(const char *sni,
                                                                     coap_session_t *coap_session,
                                                                     void *arg);

#define COAP_DTLS_CPSK_SETUP_VERSION 1
typedef struct coap_dtls_cpsk_t {
    uint8_t version;
    uint8_t reserved[7];
    coap_dtls_ih_callback_t validate_ih_call_back;
    void *ih_call_back_arg;
    char *client_sni;
    coap_dtls_cpsk_info_t psk_info;
} coap_dtls_cpsk_t;

#define COAP_DTLS_SPSK_SETUP_VERSION 1
typedef struct coap_dtls_spsk_t {
    uint8_t version;
    uint8_t reserved[7];
    coap_dtls_id_callback_t validate_id_call_back;
    void *id_call_back_arg;
    coap_dtls_psk_sni_callback_t validate_sni_call_back;
    void *sni_call_back_arg;
    coap_dtls_spsk_info_t psk_info;
} coap_dtls_spsk_t;

typedef enum coap_asn1_privatekey_type_t {
    COAP_ASN1_PKEY_NONE,
    COAP_ASN1_PKEY_RSA,
    COAP_ASN1_PKEY_RSA2,
    COAP_ASN1_PKEY_DSA,
    COAP_ASN1_PKEY_DSA1,
    COAP_ASN1_PKEY_DSA2,
    COAP_ASN1_PKEY_DSA3,
    COAP_ASN1_PKEY_DSA4,
    COAP_ASN1_PKEY_DH,
    COAP_ASN1_PKEY_DHX,
    COAP_ASN1_PKEY_EC,
    COAP_ASN1_PKEY_HMAC,
    COAP_ASN1_PKEY_CMAC,
    COAP_ASN1_PKEY_TLS1_PRF,
    COAP_ASN1_PKEY_HKDF
} coap_asn1_privatekey_type_t;

typedef enum coap_pki_key_t {
    COAP_PKI_KEY_PEM = 0,
    COAP_PKI_KEY_ASN1,
    COAP_PKI_KEY_PEM_BUF,
    COAP_PKI_KEY_PKCS11,
} coap_pki_key_t;

typedef struct coap_pki_key_pem_t {
    const char *ca_file;
    const char *public_cert;
    const char *private_key;
} coap_pki_key_pem_t;

typedef struct coap_pki_key_pem_buf_t {
    const uint8_t *ca_cert;
    const uint8_t *public_cert;
    const uint8_t *private_key;
    size_t ca_cert_len;
    size_t public_cert_len;
    size_t private_key_len;
} coap_pki_key_pem_buf_t;

typedef struct coap_pki_key_asn1_t {
    const uint8_t *ca_cert;
    const uint8_t *public_cert;
    const uint8_t *private_key;
    size_t ca_cert_len;
    size_t public_cert_len;
    size_t private_key_len;
    coap_asn1_privatekey_type_t private_key_type;
} coap_pki_key_asn1_t;

typedef struct coap_pki_key_pkcs11_t {
    const char *ca;
    const char *public_cert;
    const char *private_key;
    const char *user_pin;
} coap_pki_key_pkcs11_t;

typedef struct coap_dtls_key_t {
    coap_pki_key_t key_type;
    union {
        coap_pki_key_pem_t pem;
        coap_pki_key_pem_buf_t pem_buf;
        coap_pki_key_asn1_t asn1;
        coap_pki_key_pkcs11_t pkcs11;
    } key;
} coap_dtls_key_t;

typedef int (*coap_dtls_cn_callback_t)(const char *cn, const uint8_t *asn1_public_cert,
                                       size_t asn1_length, coap_session_t *coap_session,
                                       unsigned int depth, int validated, void *arg);
typedef coap_dtls_key_t *(*coap_dtls_pki_sni_callback_t)(const char *sni, void *arg);
typedef int (*coap_dtls_security_setup_t)(void *tls_session, coap_dtls_pki_t *setup_data);

#define COAP_DTLS_PKI_SETUP_VERSION 1
struct coap_dtls_pki_t {
    uint8_t version;
    uint8_t verify_peer_cert;
    uint8_t check_common_ca;
    uint8_t allow_self_signed;
    uint8_t allow_expired_certs;
    uint8_t cert_chain_validation;
    uint8_t cert_chain_verify_depth;
    uint8_t check_cert_revocation;
    uint8_t allow_no_crl;
    uint8_t allow_expired_crl;
    uint8_t allow_bad_md_hash;
    uint8_t allow_short_rsa_length;
    uint8_t is_rpk_not_cert;
    uint8_t reserved[3];
    coap_dtls_cn_callback_t validate_cn_call_back;
    void *cn_call_back_arg;
    coap_dtls_pki_sni_callback_t validate_sni_call_back;
    void *sni_call_back_arg;
    coap_dtls_security_setup_t additional_tls_setup_call_back;
    char *client_sni;
    coap_dtls_key_t pki_key;
};

/* Server credentials; 1 on success, 0 on failure. */
COAPS_API int coap_context_set_psk(coap_context_t *context, const char *hint, const uint8_t *key,
                                   size_t key_len);
COAPS_API int coap_context_set_psk2(coap_context_t *context, coap_dtls_spsk_t *setup_data);
COAPS_API int coap_context_set_pki(coap_context_t *context, const coap_dtls_pki_t *setup_data);

/* ---- resources ----------------------------------------------------------------- */
#define COAP_RESOURCE_FLAGS_RELEASE_URI 0x1
#define COAP_RESOURCE_FLAGS_NOTIFY_NON 0x0
#define COAP_RESOURCE_FLAGS_NOTIFY_CON 0x2
#define COAP_RESOURCE_FLAGS_NOTIFY_NON_ALWAYS 0x4

typedef void (*coap_method_handler_t)(coap_resource_t *resource, coap_session_t *session,
                                      const coap_pdu_t *request, const coap_string_t *query,
                                      coap_pdu_t *response);

COAPS_API coap_str_const_t *coap_make_str_const(const char *string);
COAPS_API coap_resource_t *coap_resource_init(coap_str_const_t *uri_path, int flags);
COAPS_API void coap_register_handler(coap_resource_t *resource, coap_request_t method,
                                     coap_method_handler_t handler);
COAPS_API void coap_resource_set_get_observable(coap_resource_t *resource, int mode);
COAPS_API int coap_resource_notify_observers(coap_resource_t *resource,
                                             const coap_string_t *query);
COAPS_API void coap_add_resource(coap_context_t *context, coap_resource_t *resource);
COAPS_API coap_str_const_t *coap_resource_get_uri_path(coap_resource_t *resource);
COAPS_API void coap_resource_set_userdata(coap_resource_t *resource, void *data);
COAPS_API void *coap_resource_get_userdata(coap_resource_t *resource);

/* ---- PDUs ------------------------------------------------------------------------ */
COAPS_API coap_pdu_t *coap_new_pdu(coap_pdu_type_t type, coap_pdu_code_t code,
                                   coap_session_t *session);
COAPS_API void coap_delete_pdu(coap_pdu_t *pdu);
COAPS_API void coap_pdu_set_code(coap_pdu_t *pdu, coap_pdu_code_t code);
COAPS_API coap_pdu_code_t coap_pdu_get_code(const coap_pdu_t *pdu);
COAPS_API void coap_pdu_set_type(coap_pdu_t *pdu, coap_pdu_type_t type);
COAPS_API coap_pdu_type_t coap_pdu_get_type(const coap_pdu_t *pdu);
COAPS_API coap_mid_t coap_pdu_get_mid(const coap_pdu_t *pdu);
COAPS_API coap_bin_const_t coap_pdu_get_token(const coap_pdu_t *pdu);
COAPS_API int coap_add_token(coap_pdu_t *pdu, size_t len, const uint8_t *data);
/* The length of the option as encoded, or 0 on failure. */
COAPS_API size_t coap_add_option(coap_pdu_t *pdu, coap_option_num_t number, size_t len,
                                 const uint8_t *data);
COAPS_API int coap_add_data(coap_pdu_t *pdu, size_t len, const uint8_t *data);
COAPS_API int coap_get_data(const coap_pdu_t *pdu, size_t *len, const uint8_t **data);
COAPS_API void coap_add_data_blocked_response(const coap_pdu_t *request, coap_pdu_t *response,
                                              uint16_t media_type, int maxage, size_t length,
                                              const uint8_t *data);
/* libcoap 4.3's block-wise mode: coaps always reassembles bodies and
 * slices long responses (as COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY),
 * so the mode is accepted and changes nothing. */
#define COAP_BLOCK_USE_LIBCOAP 0x01
#define COAP_BLOCK_SINGLE_BODY 0x02
COAPS_API void coap_context_set_block_mode(coap_context_t *context, uint8_t block_mode);
typedef void (*coap_release_large_data_t)(coap_session_t *session, void *app_ptr);
/* The response's Content-Format, Max-Age (maxage >= 0), ETag (etag != 0)
 * and body, copied: release_func (may be NULL) is called before it returns.
 * 1 on success, 0 on failure. */
COAPS_API int coap_add_data_large_response(coap_resource_t *resource, coap_session_t *session,
                                           const coap_pdu_t *request, coap_pdu_t *response,
                                           const coap_string_t *query, uint16_t media_type,
                                           int maxage, uint64_t etag, size_t length,
                                           const uint8_t *data,
                                           coap_release_large_data_t release_func,
                                           void *app_ptr);
/* The request's Uri-Query options joined with '&' (free with
 * coap_delete_string), or NULL when it has none. */
COAPS_API coap_string_t *coap_get_query(const coap_pdu_t *request);
COAPS_API void coap_delete_string(coap_string_t *string);
/* value in the fewest bytes (0: none) written to buf; the count. */
COAPS_API unsigned int coap_encode_var_safe(uint8_t *buf, size_t length, unsigned int value);
COAPS_API unsigned int coap_decode_var_bytes(const uint8_t *buf, size_t length);
COAPS_API const char *coap_response_phrase(unsigned char code);

/* ---- sessions (client) ---------------------------------------------------------- */
typedef enum coap_response_t {
    COAP_RESPONSE_FAIL,
    COAP_RESPONSE_OK,
} coap_response_t;

typedef coap_response_t (*coap_response_handler_t)(coap_session_t *session,
                                                   const coap_pdu_t *sent,
                                                   const coap_pdu_t *received,
                                                   const coap_mid_t mid);

COAPS_API coap_session_t *coap_new_client_session(coap_context_t *ctx,
                                                  const coap_address_t *local_if,
                                                  const coap_address_t *server,
                                                  coap_proto_t proto);
COAPS_API coap_session_t *coap_new_client_session_psk2(coap_context_t *ctx,
                                                       const coap_address_t *local_if,
                                                       const coap_address_t *server,
                                                       coap_proto_t proto,
                                                       coap_dtls_cpsk_t *setup_data);
COAPS_API coap_session_t *coap_new_client_session_pki(coap_context_t *ctx,
                                                      const coap_address_t *local_if,
                                                      const coap_address_t *server,
                                                      coap_proto_t proto,
                                                      coap_dtls_pki_t *setup_data);
COAPS_API void coap_session_release(coap_session_t *session);
COAPS_API coap_context_t *coap_session_get_context(const coap_session_t *session);
COAPS_API coap_proto_t coap_session_get_proto(const coap_session_t *session);
COAPS_API uint16_t coap_new_message_id(coap_session_t *session);
COAPS_API coap_mid_t coap_send(coap_session_t *session, coap_pdu_t *pdu);
COAPS_API void coap_register_response_handler(coap_context_t *context,
                                              coap_response_handler_t handler);

/* ---- URIs and addresses ------------------------------------------------------ */
enum coap_uri_scheme_t {
    COAP_URI_SCHEME_COAP = 0,
    COAP_URI_SCHEME_COAPS = 1,
    COAP_URI_SCHEME_COAP_TCP = 2,
    COAP_URI_SCHEME_COAPS_TCP = 3,
    COAP_URI_SCHEME_HTTP = 4,
    COAP_URI_SCHEME_HTTPS = 5,
};

typedef struct coap_uri_t {
    coap_str_const_t host;
    uint16_t port;
    coap_str_const_t path;  /* without the leading '/' */
    coap_str_const_t query; /* without the '?' */
    enum coap_uri_scheme_t scheme;
} coap_uri_t;

/* Splits str_var (len bytes) into *uri, pointing into str_var; 0 on
 * success, < 0 on a malformed URI. */
COAPS_API int coap_split_uri(const uint8_t *str_var, size_t len, coap_uri_t *uri);
COAPS_API void coap_address_init(coap_address_t *addr);

#ifdef __cplusplus
}
#endif
#endif /* COAPS_COAP3_COAP_H */
