/*
 * openssl/pki.h - internal glue shared by the PKI files of the OpenSSL
 * backend (pem.c, x509.c, sig.c, cred.c). Not part
 * of the crypto interface: only those files include it, and it may name
 * libcrypto types.
 */
#ifndef COAPS_CRYPTO_OPENSSL_PKI_H
#define COAPS_CRYPTO_OPENSSL_PKI_H

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "crypto/crypto_backend.h"

/* Walk the PEM blocks of a buffer (RFC 7468 textual encoding). */
struct crypto_pki_pem {
    BIO *bio;
    char *name;          /* label: "CERTIFICATE", "PRIVATE KEY", ... */
    char *header;        /* RFC 1421 headers ("Proc-Type: 4,ENCRYPTED"), "" if none */
    unsigned char *data; /* decoded DER */
    long len;
    size_t index;        /* 1-based number of the current block, for messages */
};

/* COAPS_E_INVALID when len exceeds CRYPTO_PEM_FILE_MAX, COAPS_E_NOMEM. */
coaps_status crypto_pki_pem_begin(struct crypto_pki_pem *p, const void *buf, size_t len);
/* 1: the next block is in p->name/header/data/len (valid until the next
 * call); 0: no more blocks; -1: a block that does not decode (bad base64,
 * missing END line). */
int crypto_pki_pem_next(struct crypto_pki_pem *p);
/* Free (and wipe: blocks may be private keys) everything. Safe twice. */
void crypto_pki_pem_end(struct crypto_pki_pem *p);

/* Exactly one DER object filling len bytes, or NULL. */
X509 *crypto_pki_x509_from_der(const uint8_t *der, size_t len);
EVP_PKEY *crypto_pki_pubkey_from_spki(const uint8_t *der, size_t len);

/* Which of our supported peer key types pk is (CRYPTO_PEER_KEY_NONE when
 * unsupported: other algorithms or curves, RSA below 2048 or above 8192
 * bits). */
enum crypto_peer_key_type crypto_pki_key_type(const EVP_PKEY *pk);
/* Make *out refer to pk (takes a new reference; pk stays the caller's).
 * COAPS_E_UNSUPPORTED when crypto_pki_key_type says NONE. */
coaps_status crypto_pki_peer_key_set(struct crypto_peer_key *out, EVP_PKEY *pk);
/* The key a live peer key refers to (borrowed), or NULL. */
EVP_PKEY *crypto_pki_peer_key_pkey(const struct crypto_peer_key *key);

#endif /* COAPS_CRYPTO_OPENSSL_PKI_H */
