/*
 * cid.h - Connection ID for DTLS 1.2 (RFC 9146), as a connection uses it:
 * the connection_id hello extension in both roles, which CID each
 * direction's records carry, and the state that outlives the handshake.
 * The record format itself (tls12_cid records, the inner content type,
 * the additional data of RFC 9146 5) is the record layer's (record.h).
 *
 * Each side names the CID it wants to RECEIVE: a client in its
 * ClientHello, a server in its ServerHello; a side sends with the other's.
 * Negotiated only when both sent the extension (RFC 9146 3). A zero-length
 * CID means: send me plain records; so a side that asked for none
 * receives plain records, and sends tls12_cid records only when the peer
 * asked for a CID of at least one byte.
 *
 * Built with COAPS_WITH_CID (coaps/config.h). Without it,
 * without_cid/cid_none.c stands in: the extension is never sent or
 * accepted, a config asking for a CID is refused, and every tls12_cid
 * record is dropped.
 */
#ifndef COAPS_DTLS_CID_H
#define COAPS_DTLS_CID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coaps/config.h"
#include "coaps/dtls.h"
#include "common/wire.h"
#include "dtls/extensions.h"
#include "dtls/record.h"

struct conn;

#if COAPS_WITH_CID
/* What a connection keeps (inside struct conn, only with COAPS_WITH_CID). */
struct conn_cid {
    bool on;          /* negotiated: both hellos carried the extension */
    uint8_t own_len;  /* the CID the peer puts in records to us */
    uint8_t peer_len; /* the CID we put in records to the peer */
    uint8_t own[DTLS_CID_MAX];
    uint8_t peer[DTLS_CID_MAX];
};
#endif

/* The config's CID settings: COAPS_OK or COAPS_E_CONFIG. */
coaps_status conn_cid_config_check(const coaps_dtls_config *cfg);
/* At init: our CID, cfg->cid_prefix then random bytes (the config's
 * random source), when the config asks for a CID. */
coaps_status conn_cid_init(struct conn *c);
/* Replace our CID before the hello that carries it (an edge avoiding a
 * collision in its lookup table). */
coaps_status conn_cid_set_own(struct conn *c, const uint8_t *cid, size_t len);

/* Client: the extension for the ClientHello (nothing without cfg->cid). */
coaps_status conn_cid_client_hello_ext(const struct conn *c, struct wire_wr *w);
/* Client: the ServerHello's extensions. Returns an alert to send (>0), or 0:
 * a CID we did not offer (unsupported_extension) or one longer than we
 * can send with (illegal_parameter). */
int conn_cid_server_hello(struct conn *c, const struct dtls_exts *sh);
/* Server: accept the ClientHello's extension when configured, and write
 * ours for the ServerHello. A client CID longer than DTLS_CID_MAX is
 * declined (no extension: no CID). */
coaps_status conn_cid_server_hello_ext(struct conn *c, const struct dtls_exts *ch,
                                       struct wire_wr *w);

/* Length of the CID in tls12_cid records we receive: 0 when we expect
 * none (then a tls12_cid record is dropped). */
size_t conn_cid_rx_len(const struct conn *c);
/* Whether an epoch-1 record of this type (header type) and CID belongs to
 * the connection: with our CID negotiated non-empty only tls12_cid
 * records with exactly our CID, else only records without one. */
bool conn_cid_rx_ok(const struct conn *c, const struct dtls_record *rec);
/* Our CID (the config's length; 0 without one) and whether one was
 * negotiated: coaps_dtls_own_cid, coaps_dtls_cid_negotiated. */
size_t conn_cid_own(const struct conn *c, const uint8_t **cid);
bool conn_cid_negotiated(const struct conn *c);
/* The CID our epoch-1 records carry (length 0: plain records). */
size_t conn_cid_tx(const struct conn *c, const uint8_t **cid);

#endif /* COAPS_DTLS_CID_H */
