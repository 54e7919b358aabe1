/*
 * openssl/cred.c - our own credential: the certificate chain we send
 * (RFC 5246 7.4.2) or our raw public key (RFC 7250 3), and the EC P-256
 * private key that signs ServerKeyExchange / CertificateVerify with
 * ecdsa_secp256r1_sha256 (RFC 8422 5.4). Loaded once at set-up.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "common/try.h"
#include "crypto/openssl/pki.h"

struct cred_impl {
    EVP_PKEY *key;
    size_t n_certs;
    uint8_t *cert[CRYPTO_CHAIN_MAX]; /* DER copies, leaf first */
    size_t cert_len[CRYPTO_CHAIN_MAX];
    uint8_t *spki; /* OPENSSL_malloc'ed by i2d_PUBKEY */
    size_t spki_len;
};

/* Backend state of struct crypto_credential: configuration, loaded once,
 * on the heap; the context points to it. */
struct cred_state {
    struct cred_impl *ci;
};
CRYPTO_STATE_FITS(struct cred_state, struct crypto_credential);

static struct cred_impl *cred_of(const struct crypto_credential *c)
{
    return c != NULL && c->live ? CRYPTO_CSTATE_OF(struct cred_state, c)->ci : NULL;
}

static void cred_free(struct cred_impl *ci)
{
    if (ci == NULL)
        return;
    EVP_PKEY_free(ci->key);
    for (size_t i = 0; i < ci->n_certs; i++)
        free(ci->cert[i]);
    OPENSSL_free(ci->spki);
    free(ci);
}

/* The certificates of chain_pem, copied as DER, leaf first. */
static coaps_status cred_read_chain(struct cred_impl *ci, const void *pem, size_t len,
                                    const char *what, char *msg)
{
    struct crypto_pki_pem p;
    coaps_status st = crypto_pki_pem_begin(&p, pem, len);
    int r = 0;
    while (st == COAPS_OK && (r = crypto_pki_pem_next(&p)) == 1) {
        if (strcmp(p.name, PEM_STRING_X509) != 0)
            continue;
        X509 *x = crypto_pki_x509_from_der(p.data, (size_t)p.len);
        X509_free(x);
        if (x == NULL) {
            crypto_pki_msg(msg, "%s: PEM block %zu: CERTIFICATE does not decode", what, p.index);
            st = COAPS_E_MALFORMED;
        } else if (ci->n_certs >= CRYPTO_CHAIN_MAX) {
            crypto_pki_msg(msg, "%s: more than %d certificates", what, CRYPTO_CHAIN_MAX);
            st = COAPS_E_FULL;
        } else if ((ci->cert[ci->n_certs] = malloc((size_t)p.len)) == NULL) {
            st = COAPS_E_NOMEM;
        } else {
            memcpy(ci->cert[ci->n_certs], p.data, (size_t)p.len);
            ci->cert_len[ci->n_certs++] = (size_t)p.len;
        }
    }
    if (st == COAPS_OK && r < 0) {
        crypto_pki_msg(msg, "%s: PEM block %zu does not decode", what, p.index + 1);
        st = COAPS_E_MALFORMED;
    }
    if (st == COAPS_OK && ci->n_certs == 0) {
        crypto_pki_msg(msg, "%s: no CERTIFICATE block", what);
        st = COAPS_E_MALFORMED;
    }
    crypto_pki_pem_end(&p);
    return st;
}

/* One private key block to a key, or a status with msg. */
static coaps_status cred_key_block(const struct crypto_pki_pem *p, EVP_PKEY **key,
                                   const char *what, char *msg)
{
    const unsigned char *q = p->data;
    bool encrypted_header = p->header != NULL && strstr(p->header, "ENCRYPTED") != NULL;
    if (strcmp(p->name, PEM_STRING_PKCS8) == 0 || encrypted_header) { /* RFC 1421 Proc-Type */
        crypto_pki_msg(msg, "%s: encrypted private keys are not supported", what);
        return COAPS_E_UNSUPPORTED;
    }
    if (strcmp(p->name, PEM_STRING_PKCS8INF) == 0) /* "PRIVATE KEY" (RFC 5958) */
        *key = d2i_AutoPrivateKey(NULL, &q, p->len);
    else if (strcmp(p->name, PEM_STRING_ECPRIVATEKEY) == 0) /* RFC 5915 */
        *key = d2i_PrivateKey(EVP_PKEY_EC, NULL, &q, p->len);
    else
        return COAPS_E_NOT_FOUND; /* not a key we read: keep looking */
    ERR_clear_error();
    if (*key == NULL) {
        crypto_pki_msg(msg, "%s: PEM block %zu: %s does not decode", what, p->index, p->name);
        return COAPS_E_MALFORMED;
    }
    return COAPS_OK;
}

/* Names of private key blocks of other algorithms: found, but refused. */
static bool other_key_block(const char *name)
{
    return strcmp(name, "RSA PRIVATE KEY") == 0 || strcmp(name, "DSA PRIVATE KEY") == 0 ||
           strcmp(name, "OPENSSH PRIVATE KEY") == 0;
}

static coaps_status cred_read_key(struct cred_impl *ci, const void *pem, size_t len,
                                  const char *what, char *msg)
{
    struct crypto_pki_pem p;
    coaps_status st = crypto_pki_pem_begin(&p, pem, len);
    int r = 0;
    bool other = false;
    while (st == COAPS_OK && ci->key == NULL && (r = crypto_pki_pem_next(&p)) == 1) {
        st = cred_key_block(&p, &ci->key, what, msg);
        if (st == COAPS_E_NOT_FOUND) {
            other = other || other_key_block(p.name);
            st = COAPS_OK;
        }
    }
    if (st == COAPS_OK && r < 0) {
        crypto_pki_msg(msg, "%s: PEM block %zu does not decode", what, p.index + 1);
        st = COAPS_E_MALFORMED;
    }
    crypto_pki_pem_end(&p);
    TRY(st);
    if (ci->key == NULL && other) {
        crypto_pki_msg(msg, "%s: key must be EC P-256", what);
        return COAPS_E_UNSUPPORTED;
    }
    if (ci->key == NULL) {
        crypto_pki_msg(msg, "%s: no private key (PRIVATE KEY or EC PRIVATE KEY block)", what);
        return COAPS_E_MALFORMED;
    }
    if (crypto_pki_key_type(ci->key) != CRYPTO_PEER_KEY_EC_P256) {
        crypto_pki_msg(msg, "%s: key must be EC P-256", what);
        return COAPS_E_UNSUPPORTED;
    }
    return COAPS_OK;
}

/* The leaf certificate must carry our key (else every handshake fails). */
static coaps_status cred_check_match(struct cred_impl *ci, const char *chain_what,
                                     const char *key_what, char *msg)
{
    X509 *leaf = crypto_pki_x509_from_der(ci->cert[0], ci->cert_len[0]);
    ENSURE(leaf != NULL, COAPS_E_NOMEM); /* it decoded once already */
    int eq = EVP_PKEY_eq(X509_get0_pubkey(leaf), ci->key);
    ERR_clear_error();
    X509_free(leaf);
    if (eq != 1) {
        crypto_pki_msg(msg, "private key %s does not match the certificate %s", key_what,
                       chain_what);
        return COAPS_E_CONFIG;
    }
    return COAPS_OK;
}

coaps_status crypto_credential_load_named(struct crypto_credential *c, const void *chain_pem,
                                          size_t chain_len, const char *chain_what,
                                          const void *key_pem, size_t key_len,
                                          const char *key_what, char msg[CRYPTO_MSG_MAX])
{
    ENSURE(c != NULL, COAPS_E_INVALID);
    c->live = false;
    ENSURE(key_pem != NULL, COAPS_E_INVALID);
    struct cred_impl *ci = calloc(1, sizeof *ci);
    ENSURE(ci != NULL, COAPS_E_NOMEM);
    coaps_status st = COAPS_OK;
    if (chain_pem != NULL)
        st = cred_read_chain(ci, chain_pem, chain_len, chain_what, msg);
    if (st == COAPS_OK)
        st = cred_read_key(ci, key_pem, key_len, key_what, msg);
    if (st == COAPS_OK && ci->n_certs > 0)
        st = cred_check_match(ci, chain_what, key_what, msg);
    if (st == COAPS_OK) {
        int n = i2d_PUBKEY(ci->key, &ci->spki);
        if (n <= 0) {
            ci->spki = NULL;
            st = COAPS_E_NOMEM;
        } else {
            ci->spki_len = (size_t)n;
        }
    }
    if (st == COAPS_E_NOMEM)
        crypto_pki_msg(msg, "out of memory loading %s", key_what);
    if (st != COAPS_OK) {
        cred_free(ci);
        return st;
    }
    CRYPTO_STATE_OF(struct cred_state, c)->ci = ci;
    c->live = true;
    return COAPS_OK;
}

size_t crypto_credential_chain_len(const struct crypto_credential *c)
{
    const struct cred_impl *ci = cred_of(c);
    return ci ? ci->n_certs : 0;
}

coaps_status crypto_credential_cert(const struct crypto_credential *c, size_t i,
                                    const uint8_t **der, size_t *len)
{
    ENSURE(c != NULL && der != NULL && len != NULL, COAPS_E_INVALID);
    const struct cred_impl *ci = cred_of(c);
    ENSURE(ci != NULL, COAPS_E_INVALID);
    ENSURE(i < ci->n_certs, COAPS_E_NOT_FOUND);
    *der = ci->cert[i];
    *len = ci->cert_len[i];
    return COAPS_OK;
}

coaps_status crypto_credential_spki(const struct crypto_credential *c, const uint8_t **der,
                                    size_t *len)
{
    ENSURE(c != NULL && c->live && der != NULL && len != NULL, COAPS_E_INVALID);
    const struct cred_impl *ci = cred_of(c);
    *der = ci->spki;
    *len = ci->spki_len;
    return COAPS_OK;
}

coaps_status crypto_credential_sign(const struct crypto_credential *c, uint16_t scheme,
                                    const uint8_t *msg, size_t msg_len,
                                    uint8_t sig[CRYPTO_ECDSA_SIG_MAX], size_t *sig_len)
{
    ENSURE(c != NULL && c->live && (msg != NULL || msg_len == 0) && sig != NULL &&
               sig_len != NULL,
           COAPS_E_INVALID);
    ENSURE(scheme == CRYPTO_SIG_ECDSA_SECP256R1_SHA256, COAPS_E_UNSUPPORTED);
    const struct cred_impl *ci = cred_of(c);
    coaps_status st = COAPS_E_CRYPTO;
    size_t n = CRYPTO_ECDSA_SIG_MAX;
    const uint8_t *m = msg_len ? msg : (const uint8_t *)""; /* never a NULL pointer */
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    if (mc != NULL && EVP_DigestSignInit_ex(mc, NULL, "SHA256", NULL, NULL, ci->key, NULL) == 1 &&
        EVP_DigestSign(mc, sig, &n, m, msg_len) == 1 && n <= CRYPTO_ECDSA_SIG_MAX) {
        *sig_len = n;
        st = COAPS_OK;
    }
    ERR_clear_error();
    EVP_MD_CTX_free(mc);
    return st;
}

coaps_status crypto_credential_sign_digest(const struct crypto_credential *c, uint16_t scheme,
                                           const uint8_t digest[32],
                                           uint8_t sig[CRYPTO_ECDSA_SIG_MAX], size_t *sig_len)
{
    ENSURE(c != NULL && c->live && digest != NULL && sig != NULL && sig_len != NULL,
           COAPS_E_INVALID);
    ENSURE(scheme == CRYPTO_SIG_ECDSA_SECP256R1_SHA256, COAPS_E_UNSUPPORTED);
    const struct cred_impl *ci = cred_of(c);
    coaps_status st = COAPS_E_CRYPTO;
    size_t n = CRYPTO_ECDSA_SIG_MAX;
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(ci->key, NULL);
    if (pc != NULL && EVP_PKEY_sign_init(pc) == 1 &&
        EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256()) == 1 &&
        EVP_PKEY_sign(pc, sig, &n, digest, 32) == 1 && n <= CRYPTO_ECDSA_SIG_MAX) {
        *sig_len = n;
        st = COAPS_OK;
    }
    ERR_clear_error();
    EVP_PKEY_CTX_free(pc);
    return st;
}

coaps_status crypto_credential_peer_key(const struct crypto_credential *c,
                                        struct crypto_peer_key *out)
{
    ENSURE(c != NULL && c->live && out != NULL, COAPS_E_INVALID);
    const struct cred_impl *ci = cred_of(c);
    return crypto_pki_peer_key_set(out, ci->key);
}

void crypto_credential_clear(struct crypto_credential *c)
{
    if (c == NULL)
        return;
    cred_free(cred_of(c)); /* EVP_PKEY_free clears the private key */
    c->live = false;
}
