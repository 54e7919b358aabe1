/*
 * psa/pki.h - internal glue shared by the PKI files of the PSA backend
 * (pem.c, x509.c, sig.c, cred.c). Not part of the crypto interface: only
 * those files include it, and it may name Mbed TLS types. Certificates are
 * Mbed TLS x509 objects (PSA has none); keys that sign or verify live in the
 * PSA key store.
 */
#ifndef COAPS_CRYPTO_PSA_PKI_H
#define COAPS_CRYPTO_PSA_PKI_H

#include <mbedtls/asn1.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "crypto/psa/psa_common.h"

/* The tag byte of a DER SEQUENCE (X.690 8.9), as Mbed TLS's asn1 reader
 * expects it. */
#define CRYPTO_PKI_ASN1_SEQUENCE (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)

/* Longest PEM label we read ("ENCRYPTED PRIVATE KEY" is 21; RFC 7468 names
 * no longer one). */
#define CRYPTO_PKI_PEM_LABEL_MAX 64

/* Walk the PEM blocks of a buffer (RFC 7468 textual encoding). */
struct crypto_pki_pem {
    char *text;        /* NUL-terminated copy: Mbed TLS's PEM reader takes C strings */
    size_t text_len;
    size_t pos;        /* where the search for the next block starts */
    mbedtls_pem_context pem; /* owns the current block's DER */
    char name[CRYPTO_PKI_PEM_LABEL_MAX + 1]; /* "CERTIFICATE", "PRIVATE KEY", ... */
    const uint8_t *data; /* decoded DER; NULL for an encrypted block */
    size_t len;
    bool encrypted;    /* RFC 1421 "Proc-Type: 4,ENCRYPTED": not decoded */
    size_t index;      /* 1-based number of the current block, for messages */
};

/* COAPS_E_INVALID when len exceeds CRYPTO_PEM_FILE_MAX, COAPS_E_NOMEM. */
coaps_status crypto_pki_pem_begin(struct crypto_pki_pem *p, const void *buf, size_t len);
/* 1: the next block is in p->name/data/len/encrypted (valid until the next
 * call); 0: no more blocks; -1: a block that does not decode (bad base64,
 * missing END line). */
int crypto_pki_pem_next(struct crypto_pki_pem *p);
/* Free (and wipe: blocks may be private keys) everything. Safe twice. */
void crypto_pki_pem_end(struct crypto_pki_pem *p);

/* Append the certificate that is exactly der[0..len) to chain (copied, or
 * referenced when copy is false: der must then outlive chain).
 * COAPS_E_MALFORMED, COAPS_E_NOMEM. */
coaps_status crypto_pki_crt_parse(mbedtls_x509_crt *chain, const uint8_t *der, size_t len,
                                  bool copy);
/* Parse the SubjectPublicKeyInfo that is exactly der[0..len) into an
 * initialised, empty pk. COAPS_E_MALFORMED, COAPS_E_NOMEM. */
coaps_status crypto_pki_spki_parse(mbedtls_pk_context *pk, const uint8_t *der, size_t len);
/* The DER SubjectPublicKeyInfo of pk, freshly encoded by Mbed TLS into a
 * malloc'ed buffer: one encoding per key value (uncompressed point, named
 * curve, minimal integers), so two encodings of one key give equal bytes.
 * COAPS_E_NOMEM, COAPS_E_UNSUPPORTED (a key too large to encode). */
coaps_status crypto_pki_spki_canonical(const mbedtls_pk_context *pk, uint8_t **der, size_t *len);

/* Which of our supported peer key types pk is (CRYPTO_PEER_KEY_NONE when
 * unsupported: other algorithms or curves, RSA below 2048 or above 8192
 * bits). */
enum crypto_peer_key_type crypto_pki_key_type(const mbedtls_pk_context *pk);
/* Make *out a peer key holding pk's public key (imported into PSA; pk stays
 * the caller's). spki is pk's DER SubjectPublicKeyInfo, parsed again for
 * an RSA key too large for PSA. COAPS_E_UNSUPPORTED when
 * crypto_pki_key_type says NONE, COAPS_E_NOMEM, COAPS_E_CRYPTO. */
coaps_status crypto_pki_peer_key_set(struct crypto_peer_key *out, const mbedtls_pk_context *pk,
                                     const uint8_t *spki, size_t spki_len);
/* The same from a DER SubjectPublicKeyInfo alone. */
coaps_status crypto_pki_peer_key_from_spki(struct crypto_peer_key *out, const uint8_t *spki,
                                           size_t spki_len);

#endif /* COAPS_CRYPTO_PSA_PKI_H */
