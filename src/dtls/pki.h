/*
 * pki.h - the inside of coaps_dtls_pki: certificate material loaded once at
 * set-up (pki.c) and read by the handshake (handshake_cert.c).
 */
#ifndef COAPS_DTLS_PKI_H
#define COAPS_DTLS_PKI_H

#include <stdbool.h>
#include <stddef.h>

#include "coaps/dtls.h"
#include "crypto/crypto.h"

/* Bytes of our certificate chain (DER, all certificates) that fit in one
 * flight (conn.h CONN_FLIGHT_BYTES is sized from it): a leaf and two
 * intermediates of ~1 KiB each. A longer chain is refused at load time
 * with a clear message rather than failing every handshake. */
#define DTLS_PKI_CHAIN_BYTES_MAX 4096

struct coaps_dtls_pki {
    struct crypto_credential cred; /* our chain + key (live false: none) */
    bool has_cred;
    size_t chain_len;              /* certificates in cred (0: key only) */
    struct crypto_trust trust;     /* CAs and pinned raw public keys */
    size_t n_ca, n_rpk;
    bool require_client_cert;
    bool use_rpk;
    bool no_name_check;
};

/* Whether this side can take part in an ECDHE_ECDSA handshake: a server
 * needs its own key; a client needs something to check the server with. */
static inline bool dtls_pki_usable(const struct coaps_dtls_pki *p, bool server)
{
    if (!p)
        return false;
    return server ? p->has_cred : (p->n_ca > 0 || p->n_rpk > 0);
}

#endif /* COAPS_DTLS_PKI_H */
