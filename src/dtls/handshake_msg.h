/*
 * handshake_msg.h - DTLS 1.2 handshake message codecs (RFC 6347 4.2.2 and
 * 4.3.2, RFC 5246 7.4, RFC 4279 for PSK, RFC 8422 for ECDHE), plus the
 * tiny ChangeCipherSpec and Alert record bodies and the cipher-suite ids.
 *
 * Layering: a record of content type handshake holds one or more
 * handshake fragments, each a 12-byte header (dtls_hs_header_read) followed
 * by fragment bytes. Fragments are reassembled into whole message bodies
 * (reassembly.h); the body parsers below take one WHOLE body (without the
 * 12-byte header). Writers produce a body only; fragment.h adds headers.
 *
 * Ownership: parsers never copy. Every struct dtls_view and every `random`
 * pointer they fill points into the caller's body buffer and is valid only
 * as long as that buffer. Writers read the views in their input struct
 * (which may point anywhere) and write through a struct wire_wr.
 *
 * Errors of body parsers (the engine maps them to alerts, see
 * dtls_alert_for_status()):
 *   COAPS_E_MALFORMED   the body breaks the wire format: a vector longer
 *                       than what is left, a length outside the vector's
 *                       bounds, trailing bytes after the last field
 *                       -> decode_error;
 *   COAPS_E_UNSUPPORTED well-formed but a value the RFC forbids
 *                       (ClientHello without the null compression method,
 *                       ServerHello compression != null, ECDHE curve type
 *                       not named_curve) -> illegal_parameter.
 * Writers return COAPS_E_NOSPACE (w may hold a partial message: the caller
 * discards it) or COAPS_E_INVALID when a field exceeds its wire bounds.
 */
#ifndef COAPS_DTLS_HANDSHAKE_MSG_H
#define COAPS_DTLS_HANDSHAKE_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coaps/status.h"
#include "common/wire.h"
#include "dtls/extensions.h"

/* ---- constants -------------------------------------------------------- */

/* ProtocolVersion on the wire: DTLS 1.2 = {254, 253}, DTLS 1.0 = {254, 255}
 * (RFC 6347 4.1). RFC 6347 4.2.1: a HelloVerifyRequest SHOULD carry 1.0. */
#define DTLS_VERSION_1_2 0xfefd
#define DTLS_VERSION_1_0 0xfeff

#define DTLS_HS_HEADER_LEN 12 /* RFC 6347 4.2.2: type, u24, u16, u24, u24 */
#define DTLS_RANDOM_LEN 32    /* RFC 5246 7.4.1.2 */
#define DTLS_SESSION_ID_MAX 32 /* RFC 5246 7.4.1.2: SessionID<0..32> */
#define DTLS_COOKIE_WIRE_MAX 255 /* RFC 6347 4.2.1: opaque cookie<0..2^8-1> */
#define DTLS_VERIFY_DATA_LEN 12 /* RFC 5246 7.4.9, all our suites */

/* Largest handshake message we accept or build (header length field).
 * PSK messages are < 300 bytes; 16 KiB leaves room for a short X.509 chain
 * in a Certificate message later (2^14, the TLS plaintext record limit of
 * RFC 5246 6.2.1). Longer announced lengths are refused. */
#define DTLS_HS_MSG_MAX 16384

enum dtls_hs_type {
    DTLS_HS_HELLO_REQUEST = 0,
    DTLS_HS_CLIENT_HELLO = 1,
    DTLS_HS_SERVER_HELLO = 2,
    DTLS_HS_HELLO_VERIFY_REQUEST = 3, /* RFC 6347 4.3.2 */
    DTLS_HS_NEW_SESSION_TICKET = 4,   /* RFC 5077 3.3 */
    DTLS_HS_CERTIFICATE = 11,
    DTLS_HS_SERVER_KEY_EXCHANGE = 12,
    DTLS_HS_CERTIFICATE_REQUEST = 13,
    DTLS_HS_SERVER_HELLO_DONE = 14,
    DTLS_HS_CERTIFICATE_VERIFY = 15,
    DTLS_HS_CLIENT_KEY_EXCHANGE = 16,
    DTLS_HS_FINISHED = 20,
};

/* Cipher-suite ids (IANA TLS Cipher Suites; checked against RFC 6655,
 * RFC 5487, RFC 7905, RFC 7251, RFC 8422 and `openssl ciphers -V`). The
 * algorithm table lives with the engine. */
#define DTLS_TLS_PSK_WITH_AES_128_CCM_8 0xc0a8           /* RFC 6655 */
#define DTLS_TLS_PSK_WITH_AES_128_CCM 0xc0a4             /* RFC 6655 */
#define DTLS_TLS_PSK_WITH_AES_128_GCM_SHA256 0x00a8      /* RFC 5487 */
#define DTLS_TLS_PSK_WITH_AES_256_GCM_SHA384 0x00a9      /* RFC 5487 */
#define DTLS_TLS_PSK_WITH_CHACHA20_POLY1305_SHA256 0xccab /* RFC 7905 */
#define DTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 0xc0ae   /* RFC 7251 */
#define DTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CCM 0xc0ac     /* RFC 7251 */
#define DTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 0xc02b /* RFC 5289 */
#define DTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 0xc02c /* RFC 5289 */
#define DTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 0xcca9 /* RFC 7905 */
/* Signalling value, not a suite (RFC 5746 3.3). */
#define DTLS_TLS_EMPTY_RENEGOTIATION_INFO_SCSV 0x00ff

#define DTLS_COMPRESSION_NULL 0

/* ---- handshake header (RFC 6347 4.2.2) --------------------------------- */

struct dtls_hs_header {
    uint8_t msg_type;         /* enum dtls_hs_type (not checked here) */
    uint32_t length;          /* u24: length of the whole message body */
    uint16_t message_seq;
    uint32_t fragment_offset; /* u24 */
    uint32_t fragment_length; /* u24: bytes following this header */
};

/*
 * Read one handshake header and borrow its fragment bytes from r; on success
 * r has moved past header and fragment (so a caller loops while
 * wire_rd_left(r) > 0 over a record holding several fragments) and
 * *fragment points at fragment_length bytes inside r's buffer.
 *
 * Returns COAPS_OK; COAPS_E_TRUNCATED (fewer than 12 bytes, or fewer
 * fragment bytes than announced); COAPS_E_MALFORMED (fragment_offset +
 * fragment_length > length); COAPS_E_UNSUPPORTED (length >
 * DTLS_HS_MSG_MAX). On failure r does not move.
 */
coaps_status dtls_hs_header_read(struct wire_rd *r, struct dtls_hs_header *h,
                                 const uint8_t **fragment);

/* Write the 12-byte header as given (no checks beyond u24 range:
 * COAPS_E_INVALID if a u24 field is >= 2^24). */
coaps_status dtls_hs_header_write(struct wire_wr *w, const struct dtls_hs_header *h);

/* Write the header of a message "as if unfragmented" (fragment_offset 0,
 * fragment_length = length): what RFC 6347 4.2.6 hashes into the handshake
 * transcript, and the header of a message sent whole. length must be <=
 * DTLS_HS_MSG_MAX, else COAPS_E_INVALID. */
coaps_status dtls_hs_header_write_whole(struct wire_wr *w, uint8_t msg_type, uint16_t message_seq,
                                        size_t length);

/* true when the fragment is the whole message (offset 0, full length). */
static inline bool dtls_hs_header_is_whole(const struct dtls_hs_header *h)
{
    return h->fragment_offset == 0 && h->fragment_length == h->length;
}

/* ---- ClientHello (RFC 6347 4.2.1 / 4.3.2, RFC 5246 7.4.1.2) ------------ */

struct dtls_client_hello {
    uint16_t client_version;
    const uint8_t *random;               /* DTLS_RANDOM_LEN bytes */
    struct dtls_view session_id;         /* 0..32 bytes */
    struct dtls_view cookie;             /* 0..255 bytes */
    struct dtls_view cipher_suites;      /* u16 list body: 2..65534 bytes, even */
    struct dtls_view compression_methods; /* u8 list body: 1..255 bytes */
    bool has_extensions;                 /* the optional extensions field is there */
    struct dtls_view extensions;         /* block without its outer u16 length */
    struct dtls_exts exts;               /* parsed block (dtls_client_hello_parse only) */
};

/*
 * Parse a whole ClientHello body, extensions included (their errors as in
 * dtls_exts_parse()). The compression list must contain null (RFC 5246
 * 7.4.1.2), else COAPS_E_UNSUPPORTED. client_version is not judged here.
 */
coaps_status dtls_client_hello_parse(const uint8_t *body, size_t len,
                                     struct dtls_client_hello *out);

/*
 * Parse only the fixed fields of a ClientHello, client_version through
 * compression_methods, from a body PREFIX (e.g. the first fragment of a
 * fragmented ClientHello, fragment_offset 0). Anything after the
 * compression methods is ignored: has_extensions = false and exts zeroed.
 * Enough for dtls_cookie_make()/dtls_cookie_verify(): see cookie.h for the
 * stateless handling of fragmented ClientHellos.
 * Returns COAPS_E_TRUNCATED when prefix ends before compression_methods
 * ends, else as dtls_client_hello_parse().
 */
coaps_status dtls_client_hello_parse_prefix(const uint8_t *prefix, size_t len,
                                            struct dtls_client_hello *out);

/* Write a ClientHello body from *ch (exts is ignored; the raw extensions
 * view is written if has_extensions). COAPS_E_INVALID if a field is outside
 * the bounds listed in the struct or random is NULL. */
coaps_status dtls_client_hello_write(struct wire_wr *w, const struct dtls_client_hello *ch);

/* true when the hello's cipher_suites list holds suite. */
bool dtls_client_hello_offers_suite(const struct dtls_client_hello *ch, uint16_t suite);
/* true when it holds TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746 3.6: the
 * same meaning as an empty renegotiation_info extension). */
bool dtls_client_hello_offers_scsv(const struct dtls_client_hello *ch);

/* ---- HelloVerifyRequest (RFC 6347 4.2.1) ------------------------------ */

struct dtls_hello_verify_request {
    uint16_t server_version; /* RFC 6347 4.2.1: send DTLS_VERSION_1_0 */
    struct dtls_view cookie; /* 0..255 bytes */
};

coaps_status dtls_hello_verify_request_parse(const uint8_t *body, size_t len,
                                             struct dtls_hello_verify_request *out);
coaps_status dtls_hello_verify_request_write(struct wire_wr *w,
                                             const struct dtls_hello_verify_request *hvr);

/* ---- ServerHello (RFC 5246 7.4.1.3) ----------------------------------- */

struct dtls_server_hello {
    uint16_t server_version;
    const uint8_t *random;       /* DTLS_RANDOM_LEN bytes */
    struct dtls_view session_id; /* 0..32 bytes */
    uint16_t cipher_suite;
    uint8_t compression_method;  /* must be null */
    bool has_extensions;
    struct dtls_view extensions; /* block without its outer u16 length */
    struct dtls_exts exts;       /* parsed (DTLS_EXT_CTX_SERVER_HELLO) */
};

/* Parse a whole ServerHello body; compression_method != null ->
 * COAPS_E_UNSUPPORTED. Whether the suite and the extensions were offered
 * is for the engine to check (exts.unknown_count != 0 means the server
 * sent something we never offer -> unsupported_extension, RFC 5246
 * 7.4.1.4). */
coaps_status dtls_server_hello_parse(const uint8_t *body, size_t len,
                                     struct dtls_server_hello *out);
coaps_status dtls_server_hello_write(struct wire_wr *w, const struct dtls_server_hello *sh);

/* ---- ServerKeyExchange ------------------------------------------------- */

/* PSK (RFC 4279 2): opaque psk_identity_hint<0..2^16-1>. */
struct dtls_ske_psk {
    struct dtls_view psk_identity_hint;
};

coaps_status dtls_ske_psk_parse(const uint8_t *body, size_t len, struct dtls_ske_psk *out);
coaps_status dtls_ske_psk_write(struct wire_wr *w, const struct dtls_ske_psk *ske);

/* ECDHE_ECDSA (RFC 8422 5.4): ServerECDHParams (curve_type named_curve = 3,
 * u16 named_curve, ECPoint public<1..2^8-1>) then a digitally-signed struct
 * (RFC 5246 4.7: u16 SignatureAndHashAlgorithm, opaque signature<0..2^16-1>).
 * `params` is the exact ServerECDHParams bytes, the input (after
 * client_random + server_random) of the signature. */
#define DTLS_EC_CURVE_TYPE_NAMED_CURVE 3

struct dtls_ske_ecdhe {
    uint16_t named_curve;
    struct dtls_view public_key; /* 1..255 bytes */
    struct dtls_view params;     /* filled by the parser */
    uint16_t sig_alg;            /* e.g. DTLS_SIGALG_ECDSA_SECP256R1_SHA256 */
    struct dtls_view signature;  /* 0..65535 bytes */
};

coaps_status dtls_ske_ecdhe_parse(const uint8_t *body, size_t len, struct dtls_ske_ecdhe *out);
/* Writing is two steps because the signature covers the params: first
 * dtls_ske_ecdhe_write_params(), sign (randoms || the bytes it wrote), then
 * dtls_ske_ecdhe_write_signature() right after. */
coaps_status dtls_ske_ecdhe_write_params(struct wire_wr *w, uint16_t named_curve,
                                         const uint8_t *public_key, size_t public_key_len);
coaps_status dtls_ske_ecdhe_write_signature(struct wire_wr *w, uint16_t sig_alg,
                                            const uint8_t *sig, size_t sig_len);

/* ---- Certificate (RFC 5246 7.4.2, RFC 7250 3) --------------------------- */

/* X.509: ASN.1Cert certificate_list<0..2^24-1>, each opaque
 * ASN.1Cert<1..2^24-1>. Parsing checks the framing of every entry and
 * returns the list body; walk it with dtls_cert_iter. */
coaps_status dtls_certificate_parse_x509(const uint8_t *body, size_t len, struct dtls_view *list);

struct dtls_cert_iter {
    struct wire_rd r; /* over a list body checked by dtls_certificate_parse_x509 */
};

static inline void dtls_cert_iter_init(struct dtls_cert_iter *it, struct dtls_view list)
{
    it->r = wire_rd_init(list.p, list.len);
}

/* Next certificate (DER bytes, borrowed) of the list: COAPS_OK, or
 * COAPS_E_NOT_FOUND at the end (COAPS_E_MALFORMED on an unchecked list). */
coaps_status dtls_cert_iter_next(struct dtls_cert_iter *it, struct dtls_view *cert);

/* Write a certificate_list of n DER certificates (each 1..2^24-1 bytes),
 * sender's certificate first (RFC 5246 7.4.2). n may be 0 (a client with
 * no certificate, RFC 5246 7.4.6). */
coaps_status dtls_certificate_write_x509(struct wire_wr *w, const struct dtls_view *certs,
                                         size_t n);

/* RawPublicKey (RFC 7250 3): opaque ASN.1_subjectPublicKeyInfo<1..2^24-1>;
 * *spki borrows the DER SubjectPublicKeyInfo. */
coaps_status dtls_certificate_parse_rpk(const uint8_t *body, size_t len, struct dtls_view *spki);
coaps_status dtls_certificate_write_rpk(struct wire_wr *w, const uint8_t *spki, size_t len);

/* ---- CertificateRequest (RFC 5246 7.4.4) ------------------------------- */

struct dtls_certificate_request {
    struct dtls_view certificate_types;    /* u8 list body, 1..255 bytes */
    struct dtls_view signature_algorithms; /* u16 list body, 2..65534, even */
    /* DistinguishedName certificate_authorities<0..2^16-1>, the list body:
     * entries opaque DistinguishedName<1..2^16-1> (framing checked). */
    struct dtls_view certificate_authorities;
};

coaps_status dtls_certificate_request_parse(const uint8_t *body, size_t len,
                                            struct dtls_certificate_request *out);
/* certificate_authorities is written as given (a list body, may be empty). */
coaps_status dtls_certificate_request_write(struct wire_wr *w,
                                            const struct dtls_certificate_request *cr);

/* ---- CertificateVerify (RFC 5246 7.4.8) and digitally-signed (4.7) ----- */

struct dtls_digitally_signed {
    uint16_t sig_alg;           /* SignatureAndHashAlgorithm as one u16 */
    struct dtls_view signature; /* 0..65535 bytes */
};

/* The body is exactly one digitally-signed struct. */
coaps_status dtls_certificate_verify_parse(const uint8_t *body, size_t len,
                                           struct dtls_digitally_signed *out);
coaps_status dtls_certificate_verify_write(struct wire_wr *w,
                                           const struct dtls_digitally_signed *cv);

/* ---- ServerHelloDone (RFC 5246 7.4.5): empty body ---------------------- */

/* COAPS_OK when len == 0, else COAPS_E_MALFORMED. */
coaps_status dtls_server_hello_done_parse(const uint8_t *body, size_t len);

/* ---- NewSessionTicket (RFC 5077 3.3) ----------------------------------- */

/* uint32 ticket_lifetime_hint; opaque ticket<0..2^16-1>. */
struct dtls_new_session_ticket {
    uint32_t lifetime_hint; /* seconds; 0: unspecified */
    struct dtls_view ticket;
};

coaps_status dtls_new_session_ticket_parse(const uint8_t *body, size_t len,
                                           struct dtls_new_session_ticket *out);
coaps_status dtls_new_session_ticket_write(struct wire_wr *w,
                                           const struct dtls_new_session_ticket *t);

/* ---- ClientKeyExchange ------------------------------------------------- */

/* PSK (RFC 4279 2): opaque psk_identity<0..2^16-1>. */
struct dtls_cke_psk {
    struct dtls_view psk_identity;
};

coaps_status dtls_cke_psk_parse(const uint8_t *body, size_t len, struct dtls_cke_psk *out);
coaps_status dtls_cke_psk_write(struct wire_wr *w, const struct dtls_cke_psk *cke);

/* ECDHE (RFC 8422 5.7): ECPoint ecdh_Yc<1..2^8-1>. */
struct dtls_cke_ecdhe {
    struct dtls_view public_key;
};

coaps_status dtls_cke_ecdhe_parse(const uint8_t *body, size_t len, struct dtls_cke_ecdhe *out);
coaps_status dtls_cke_ecdhe_write(struct wire_wr *w, const struct dtls_cke_ecdhe *cke);

/* ---- Finished (RFC 5246 7.4.9) ----------------------------------------- */

/* The body is exactly verify_data (12 bytes): *verify_data borrows it. */
coaps_status dtls_finished_parse(const uint8_t *body, size_t len, const uint8_t **verify_data);
coaps_status dtls_finished_write(struct wire_wr *w,
                                 const uint8_t verify_data[DTLS_VERIFY_DATA_LEN]);

/* ---- ChangeCipherSpec record body (RFC 5246 7.1) ----------------------- */

/* COAPS_OK when the record body is exactly the one byte 1. */
coaps_status dtls_ccs_parse(const uint8_t *body, size_t len);
coaps_status dtls_ccs_write(struct wire_wr *w);

/* ---- Alert record body (RFC 5246 7.2) ---------------------------------- */

enum dtls_alert_level {
    DTLS_ALERT_WARNING = 1,
    DTLS_ALERT_FATAL = 2,
};

enum dtls_alert_desc {
    DTLS_ALERT_CLOSE_NOTIFY = 0,
    DTLS_ALERT_UNEXPECTED_MESSAGE = 10,
    DTLS_ALERT_BAD_RECORD_MAC = 20,
    DTLS_ALERT_RECORD_OVERFLOW = 22,
    DTLS_ALERT_DECOMPRESSION_FAILURE = 30,
    DTLS_ALERT_HANDSHAKE_FAILURE = 40,
    DTLS_ALERT_BAD_CERTIFICATE = 42,
    DTLS_ALERT_UNSUPPORTED_CERTIFICATE = 43,
    DTLS_ALERT_CERTIFICATE_REVOKED = 44,
    DTLS_ALERT_CERTIFICATE_EXPIRED = 45,
    DTLS_ALERT_CERTIFICATE_UNKNOWN = 46,
    DTLS_ALERT_ILLEGAL_PARAMETER = 47,
    DTLS_ALERT_UNKNOWN_CA = 48,
    DTLS_ALERT_ACCESS_DENIED = 49,
    DTLS_ALERT_DECODE_ERROR = 50,
    DTLS_ALERT_DECRYPT_ERROR = 51,
    DTLS_ALERT_PROTOCOL_VERSION = 70,
    DTLS_ALERT_INSUFFICIENT_SECURITY = 71,
    DTLS_ALERT_INTERNAL_ERROR = 80,
    DTLS_ALERT_INAPPROPRIATE_FALLBACK = 86, /* RFC 7507 */
    DTLS_ALERT_USER_CANCELED = 90,
    DTLS_ALERT_NO_RENEGOTIATION = 100,
    DTLS_ALERT_UNSUPPORTED_EXTENSION = 110,
    DTLS_ALERT_UNRECOGNIZED_NAME = 112,    /* RFC 6066 3 */
    DTLS_ALERT_UNKNOWN_PSK_IDENTITY = 115, /* RFC 4279 2 */
};

struct dtls_alert {
    uint8_t level;       /* enum dtls_alert_level */
    uint8_t description; /* enum dtls_alert_desc */
};

/* The body must be exactly 2 bytes (COAPS_E_MALFORMED otherwise); level and
 * description are returned as received, unknown values included. */
coaps_status dtls_alert_parse(const uint8_t *body, size_t len, struct dtls_alert *out);
coaps_status dtls_alert_write(struct wire_wr *w, const struct dtls_alert *a);

/* The fatal alert a peer should get when one of the parsers here failed with
 * st: MALFORMED/TRUNCATED -> decode_error, UNSUPPORTED -> illegal_parameter,
 * anything else -> internal_error. (handshake_failure for a non-empty
 * renegotiation_info is the engine's call: it sees COAPS_E_UNSUPPORTED.) */
uint8_t dtls_alert_for_status(coaps_status st);

#endif /* COAPS_DTLS_HANDSHAKE_MSG_H */
