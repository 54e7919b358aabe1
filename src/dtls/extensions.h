/*
 * extensions.h - TLS hello extensions as DTLS 1.2 uses them: parsing the
 * extension block of a ClientHello or ServerHello into a view struct, and
 * writing the extensions we send.
 *
 * RFC 5246 7.4.1.4 (the block; no two extensions of one type), RFC 7627
 * (extended_master_secret), RFC 5746 (renegotiation_info), RFC 6066
 * (server_name), RFC 8422 (supported_groups, ec_point_formats), RFC 5246
 * 7.4.1.4.1 (signature_algorithms), RFC 7250 (certificate types), RFC 7366
 * (encrypt_then_mac, meaningless for the AEAD suites we use), RFC 5077
 * (session_ticket), RFC 9146 (connection_id).
 *
 * Ownership: every struct dtls_view filled by a parser points into the
 * caller's input buffer; it is valid only while that buffer is. Nothing here
 * allocates or keeps state between calls.
 */
#ifndef COAPS_DTLS_EXTENSIONS_H
#define COAPS_DTLS_EXTENSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coaps/status.h"
#include "common/wire.h"

/* A borrowed run of bytes inside someone else's buffer (never owned). */
struct dtls_view {
    const uint8_t *p; /* NULL only when len == 0 */
    size_t len;
};

/* ExtensionType values (IANA "TLS ExtensionType Values"). */
enum dtls_ext_type {
    DTLS_EXT_SERVER_NAME = 0,             /* RFC 6066 3 */
    DTLS_EXT_MAX_FRAGMENT_LENGTH = 1,     /* RFC 6066 4 (not handled: skipped) */
    DTLS_EXT_SUPPORTED_GROUPS = 10,       /* RFC 8422 5.1.1 (was elliptic_curves) */
    DTLS_EXT_EC_POINT_FORMATS = 11,       /* RFC 8422 5.1.2 */
    DTLS_EXT_SIGNATURE_ALGORITHMS = 13,   /* RFC 5246 7.4.1.4.1 */
    DTLS_EXT_CLIENT_CERTIFICATE_TYPE = 19, /* RFC 7250 3 */
    DTLS_EXT_SERVER_CERTIFICATE_TYPE = 20, /* RFC 7250 3 */
    DTLS_EXT_ENCRYPT_THEN_MAC = 22,       /* RFC 7366 (ignored for AEAD) */
    DTLS_EXT_EXTENDED_MASTER_SECRET = 23, /* RFC 7627 5.1 */
    DTLS_EXT_RECORD_SIZE_LIMIT = 28,      /* RFC 8449 (not handled: skipped) */
    DTLS_EXT_SESSION_TICKET = 35,         /* RFC 5077 3.2 */
    DTLS_EXT_CONNECTION_ID = 54,          /* RFC 9146 3 */
    DTLS_EXT_RENEGOTIATION_INFO = 0xff01, /* RFC 5746 3.2 */
};

/* Bits of struct dtls_exts.present, one per extension we recognise. */
enum dtls_ext_flag {
    DTLS_EXTF_SERVER_NAME = 1u << 0,
    DTLS_EXTF_SUPPORTED_GROUPS = 1u << 1,
    DTLS_EXTF_EC_POINT_FORMATS = 1u << 2,
    DTLS_EXTF_SIGNATURE_ALGORITHMS = 1u << 3,
    DTLS_EXTF_CLIENT_CERTIFICATE_TYPE = 1u << 4,
    DTLS_EXTF_SERVER_CERTIFICATE_TYPE = 1u << 5,
    DTLS_EXTF_ENCRYPT_THEN_MAC = 1u << 6,
    DTLS_EXTF_EXTENDED_MASTER_SECRET = 1u << 7,
    DTLS_EXTF_SESSION_TICKET = 1u << 8,
    DTLS_EXTF_RENEGOTIATION_INFO = 1u << 9,
    DTLS_EXTF_CONNECTION_ID = 1u << 10,
};

/* NamedGroup values (RFC 8422 5.1.1, RFC 7748). */
#define DTLS_GROUP_SECP256R1 23
#define DTLS_GROUP_SECP384R1 24
#define DTLS_GROUP_X25519 29
/* ECPointFormat (RFC 8422 5.1.2). */
#define DTLS_POINT_FORMAT_UNCOMPRESSED 0
/* SignatureAndHashAlgorithm as one u16 (hash << 8 | signature), RFC 5246
 * 7.4.1.4.1; 0x0403 = sha256 + ecdsa. */
#define DTLS_SIGALG_ECDSA_SECP256R1_SHA256 0x0403
/* CertificateType (RFC 7250 3, IANA TLS Certificate Types). */
#define DTLS_CERT_TYPE_X509 0
#define DTLS_CERT_TYPE_RAW_PUBLIC_KEY 2
/* NameType of server_name (RFC 6066 3). */
#define DTLS_SNI_HOST_NAME 0

/* At most this many extensions in one hello. Real clients send about 10-20
 * (OpenSSL 3.0 DTLS: 6, GnuTLS: ~10, browsers: ~18); the bound keeps the
 * duplicate check (RFC 5246 7.4.1.4) a small quadratic scan. More is
 * refused as COAPS_E_UNSUPPORTED. */
#define DTLS_EXT_MAX_COUNT 64

/* Where an extension block comes from: some extensions have a different
 * shape in the ServerHello (RFC 7250 3: one certificate type instead of a
 * list; RFC 6066 3: server_name is empty). */
enum dtls_ext_ctx {
    DTLS_EXT_CTX_CLIENT_HELLO = 0,
    DTLS_EXT_CTX_SERVER_HELLO = 1,
};

/* The extensions of one hello, parsed. A field is meaningful only when its
 * flag is set in present; views point into the parsed buffer. */
struct dtls_exts {
    uint32_t present;       /* DTLS_EXTF_* of the extensions seen */
    uint16_t count;         /* extensions in the block, known or not */
    uint16_t unknown_count; /* extensions we skipped (type not recognised) */
    uint16_t first_unknown; /* type of the first skipped one (if unknown_count) */
    /* server_name: in a ClientHello the host_name bytes (RFC 6066 3:
     * 1..2^16-1 bytes, not NUL-terminated; len 0 if the list held no
     * host_name); in a ServerHello always empty. */
    struct dtls_view server_name;
    struct dtls_view supported_groups;     /* u16 list body, even length >= 2 */
    struct dtls_view ec_point_formats;     /* u8 list body, length >= 1 */
    struct dtls_view signature_algorithms; /* u16 list body, even length >= 2 */
    /* certificate types: ClientHello: the u8 list body (>= 1 entry);
     * ServerHello: exactly one byte, the selected type. */
    struct dtls_view client_cert_types;
    struct dtls_view server_cert_types;
    /* connection_id (RFC 9146 3): the cid<0..2^8-1> body without its
     * length byte; may be empty (a zero-length CID). */
    struct dtls_view connection_id;
    /* session_ticket (RFC 5077 3.2): in a ClientHello the ticket (empty:
     * the client asks for one); a ServerHello's is always empty. */
    struct dtls_view session_ticket;
};

/*
 * Parse an extension block: the bytes of `Extension extensions<0..2^16-1>`
 * WITHOUT the outer u16 length (the hello parsers strip it). Unknown types
 * are skipped and counted.
 *
 * Returns COAPS_OK and fills *out; or
 *   COAPS_E_MALFORMED  bad framing, an extension body not of its declared
 *                      shape, two extensions of one type (RFC 5246 7.4.1.4),
 *                      extended_master_secret not empty (RFC 7627 5.1),
 *                      ServerHello server_name or session_ticket not
 *                      empty (RFC 6066 3, RFC 5077 3.2)
 *                      -> decode_error alert;
 *   COAPS_E_UNSUPPORTED renegotiation_info with a non-empty
 *                      renegotiated_connection: we only ever do initial
 *                      handshakes (RFC 5746 3.4/3.6 -> handshake_failure),
 *                      or more than DTLS_EXT_MAX_COUNT extensions.
 * On failure *out is unspecified.
 */
coaps_status dtls_exts_parse(const uint8_t *p, size_t len, enum dtls_ext_ctx ctx,
                             struct dtls_exts *out);

static inline bool dtls_exts_has(const struct dtls_exts *e, uint32_t flag)
{
    return (e->present & flag) != 0;
}

/* RFC 5246 7.4.1.4: a ServerHello may only carry extensions the client
 * offered. true when every extension in `server` (parsed from a ServerHello)
 * is one of the DTLS_EXTF_* flags in `offered` and none is unknown; false
 * means: abort with unsupported_extension. */
bool dtls_exts_only_offered(const struct dtls_exts *server, uint32_t offered);

/* true when the u16 big-endian list body `list` holds v (cipher suites,
 * groups, signature algorithms). An odd trailing byte is ignored. */
bool dtls_u16_list_contains(struct dtls_view list, uint16_t v);
/* true when the u8 list body `list` holds v (point formats, cert types). */
bool dtls_u8_list_contains(struct dtls_view list, uint8_t v);

/*
 * Writers. Each appends ONE complete extension (type, u16 length, data) to
 * w. The caller collects them in a scratch buffer and hands that to a hello
 * writer as its `extensions` view. All return COAPS_OK, COAPS_E_NOSPACE (w
 * is then unchanged) or COAPS_E_INVALID (argument outside the wire bounds
 * given with each function).
 */

/* An extension with empty data: extended_master_secret (RFC 7627 5.1),
 * encrypt_then_mac, a ServerHello's server_name acknowledgement. */
coaps_status dtls_ext_write_empty(struct wire_wr *w, uint16_t type);
/* renegotiation_info of an initial handshake: renegotiated_connection empty
 * (RFC 5746 3.4 client, 3.6 server): ff 01 00 01 00. */
coaps_status dtls_ext_write_renegotiation_info(struct wire_wr *w);
/* ClientHello server_name with one host_name (RFC 6066 3); host_len 1..
 * 65535 - 5. The name is written as given (no trailing dot, RFC 6066 3). */
coaps_status dtls_ext_write_server_name(struct wire_wr *w, const uint8_t *host, size_t host_len);
/* supported_groups, n = 1..32766 groups (extension data <= 65535). */
coaps_status dtls_ext_write_supported_groups(struct wire_wr *w, const uint16_t *groups, size_t n);
/* ec_point_formats, n = 1..255 formats. */
coaps_status dtls_ext_write_ec_point_formats(struct wire_wr *w, const uint8_t *formats, size_t n);
/* signature_algorithms, n = 1..32766 u16 entries. */
coaps_status dtls_ext_write_signature_algorithms(struct wire_wr *w, const uint16_t *algs,
                                                 size_t n);
/* ClientHello client/server_certificate_type (type 19 or 20) with a list of
 * n = 1..255 certificate types (RFC 7250 3). */
coaps_status dtls_ext_write_cert_type_list(struct wire_wr *w, uint16_t ext_type,
                                           const uint8_t *types, size_t n);
/* ServerHello client/server_certificate_type (19 or 20): the one selected
 * type (RFC 7250 3). */
coaps_status dtls_ext_write_cert_type(struct wire_wr *w, uint16_t ext_type, uint8_t type);
/* session_ticket with a ticket (RFC 5077 3.2; len 0..65535, 0: empty). */
coaps_status dtls_ext_write_session_ticket(struct wire_wr *w, const uint8_t *ticket, size_t len);
/* connection_id with the CID we want to receive (RFC 9146 3), 0..255
 * bytes (0: we send with the peer's CID but need none). */
coaps_status dtls_ext_write_connection_id(struct wire_wr *w, const uint8_t *cid, size_t len);

#endif /* COAPS_DTLS_EXTENSIONS_H */
