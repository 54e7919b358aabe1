/*
 * psa/cred.c - our own credential: the certificate chain we send
 * (RFC 5246 7.4.2) or our raw public key (RFC 7250 3), and the EC P-256
 * private key that signs ServerKeyExchange / CertificateVerify with
 * ecdsa_secp256r1_sha256 (RFC 8422 5.4). Loaded once at set-up: Mbed TLS's
 * pk module parses the key, which then lives in the PSA key store; the
 * parsed copy is wiped and freed at once.
 */
#include <stdlib.h>
#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/oid.h>
#include <mbedtls/psa_util.h>

#include "common/try.h"
#include "crypto/psa/pki.h"

#define P256_BITS 256
#define P256_RAW_SIG_LEN 64 /* r || s, each 32 bytes (PSA's signature format) */
/* A P-256 SubjectPublicKeyInfo: 26 bytes of headers and OIDs (RFC 5480) and
 * the 65-byte uncompressed point. */
#define P256_SPKI_LEN 91
#define ECDSA_SHA256 PSA_ALG_ECDSA(PSA_ALG_SHA_256)

struct cred_impl {
    psa_key_id_t key; /* our private key, sign only */
    size_t n_certs;
    uint8_t *cert[CRYPTO_CHAIN_MAX]; /* DER copies, leaf first */
    size_t cert_len[CRYPTO_CHAIN_MAX];
    uint8_t spki[P256_SPKI_LEN];
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
    (void)psa_destroy_key(ci->key); /* wipes the key; PSA_KEY_ID_NULL is a no-op */
    for (size_t i = 0; i < ci->n_certs; i++)
        free(ci->cert[i]);
    free(ci);
}

/* ---- the chain ------------------------------------------------------------------- */

/* One CERTIFICATE block: checked to decode, then copied. */
static coaps_status cred_add_cert(struct cred_impl *ci, const struct crypto_pki_pem *p,
                                  const char *what, char *msg)
{
    mbedtls_x509_crt x;
    mbedtls_x509_crt_init(&x);
    coaps_status st = crypto_pki_crt_parse(&x, p->data, p->len, false);
    mbedtls_x509_crt_free(&x);
    if (st == COAPS_E_MALFORMED) {
        crypto_pki_msg(msg, "%s: PEM block %zu: CERTIFICATE does not decode", what, p->index);
        return st;
    }
    TRY(st);
    if (ci->n_certs >= CRYPTO_CHAIN_MAX) {
        crypto_pki_msg(msg, "%s: more than %d certificates", what, CRYPTO_CHAIN_MAX);
        return COAPS_E_FULL;
    }
    ENSURE((ci->cert[ci->n_certs] = malloc(p->len)) != NULL, COAPS_E_NOMEM);
    memcpy(ci->cert[ci->n_certs], p->data, p->len);
    ci->cert_len[ci->n_certs++] = p->len;
    return COAPS_OK;
}

/* The certificates of chain_pem, copied as DER, leaf first. */
static coaps_status cred_read_chain(struct cred_impl *ci, const void *pem, size_t len,
                                    const char *what, char *msg)
{
    struct crypto_pki_pem p;
    coaps_status st = crypto_pki_pem_begin(&p, pem, len);
    int r = 0;
    while (st == COAPS_OK && (r = crypto_pki_pem_next(&p)) == 1)
        if (strcmp(p.name, "CERTIFICATE") == 0)
            st = cred_add_cert(ci, &p, what, msg);
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

/* ---- the private key ----------------------------------------------------------------- */

/* A PrivateKeyInfo (RFC 5958 2) whose algorithm is not id-ecPublicKey, or
 * names a curve other than prime256v1: a well-formed key we do not take
 * (RSA, P-384, Ed25519, ...), however much of it Mbed TLS can parse. */
static bool pkcs8_other_algorithm(const uint8_t *der, size_t len)
{
    unsigned char *q = (unsigned char *)(uintptr_t)der; /* Mbed TLS only reads */
    const unsigned char *end = der + len;
    size_t body;
    int version;
    mbedtls_asn1_buf alg, params;
    if (mbedtls_asn1_get_tag(&q, end, &body, CRYPTO_PKI_ASN1_SEQUENCE) != 0 ||
        mbedtls_asn1_get_int(&q, end, &version) != 0 ||
        mbedtls_asn1_get_alg(&q, end, &alg, &params) != 0)
        return false;
    bool named = params.tag == MBEDTLS_ASN1_OID;
    return MBEDTLS_OID_CMP(MBEDTLS_OID_EC_ALG_UNRESTRICTED, &alg) != 0 ||
           (named && MBEDTLS_OID_CMP(MBEDTLS_OID_EC_GRP_SECP256R1, &params) != 0);
}

/* Our key must be EC P-256 (the only curve of our ECDSA scheme). */
static bool key_is_p256(const mbedtls_pk_context *pk)
{
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    bool ok = mbedtls_pk_get_type(pk) == MBEDTLS_PK_ECKEY &&
              mbedtls_pk_get_psa_attributes(pk, PSA_KEY_USAGE_SIGN_HASH, &attr) == 0 &&
              psa_get_key_type(&attr) == PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1) &&
              psa_get_key_bits(&attr) == P256_BITS;
    psa_reset_key_attributes(&attr);
    return ok;
}

/* One private key block into pk, or a status with msg; COAPS_E_NOT_FOUND
 * for blocks that are not keys we read. */
static coaps_status cred_key_block(const struct crypto_pki_pem *p, mbedtls_pk_context *pk,
                                   const char *what, char *msg)
{
    if (strcmp(p->name, "ENCRYPTED PRIVATE KEY") == 0 || p->encrypted) { /* RFC 1421 Proc-Type */
        crypto_pki_msg(msg, "%s: encrypted private keys are not supported", what);
        return COAPS_E_UNSUPPORTED;
    }
    bool pkcs8 = strcmp(p->name, "PRIVATE KEY") == 0; /* RFC 5958 */
    if (!pkcs8 && strcmp(p->name, "EC PRIVATE KEY") != 0) /* RFC 5915 */
        return COAPS_E_NOT_FOUND;
    int r = mbedtls_pk_parse_key(pk, p->data, p->len, NULL, 0, mbedtls_psa_get_random,
                                 MBEDTLS_PSA_RANDOM_STATE);
    if (r == 0 && key_is_p256(pk))
        return COAPS_OK;
    if (r == 0 || (pkcs8 && pkcs8_other_algorithm(p->data, p->len))) {
        crypto_pki_msg(msg, "%s: key must be EC P-256", what);
        return COAPS_E_UNSUPPORTED;
    }
    crypto_pki_msg(msg, "%s: PEM block %zu: %s does not decode", what, p->index, p->name);
    return r == MBEDTLS_ERR_PK_ALLOC_FAILED ? COAPS_E_NOMEM : COAPS_E_MALFORMED;
}

/* Names of private key blocks of other algorithms: found, but refused. */
static bool other_key_block(const char *name)
{
    return strcmp(name, "RSA PRIVATE KEY") == 0 || strcmp(name, "DSA PRIVATE KEY") == 0 ||
           strcmp(name, "OPENSSH PRIVATE KEY") == 0;
}

/* The first private key block of key_pem into pk (P-256, else refused). */
static coaps_status cred_read_key(mbedtls_pk_context *pk, const void *pem, size_t len,
                                  const char *what, char *msg)
{
    struct crypto_pki_pem p;
    coaps_status st = crypto_pki_pem_begin(&p, pem, len);
    int r = 0;
    bool found = false, other = false;
    while (st == COAPS_OK && !found && (r = crypto_pki_pem_next(&p)) == 1) {
        st = cred_key_block(&p, pk, what, msg);
        found = st == COAPS_OK;
        if (st == COAPS_E_NOT_FOUND) {
            other = other || other_key_block(p.name);
            st = COAPS_OK;
        }
    }
    if (st == COAPS_OK && !found && r < 0) {
        crypto_pki_msg(msg, "%s: PEM block %zu does not decode", what, p.index + 1);
        st = COAPS_E_MALFORMED;
    }
    crypto_pki_pem_end(&p);
    TRY(st);
    if (!found && other) {
        crypto_pki_msg(msg, "%s: key must be EC P-256", what);
        return COAPS_E_UNSUPPORTED;
    }
    if (!found) {
        crypto_pki_msg(msg, "%s: no private key (PRIVATE KEY or EC PRIVATE KEY block)", what);
        return COAPS_E_MALFORMED;
    }
    return COAPS_OK;
}

/* Our SPKI (what a raw public key Certificate carries) and the key into
 * the PSA key store, for ECDSA with SHA-256 only. */
static coaps_status cred_take_key(struct cred_impl *ci, const mbedtls_pk_context *pk)
{
    int n = mbedtls_pk_write_pubkey_der(pk, ci->spki, sizeof ci->spki);
    ENSURE(n == P256_SPKI_LEN, COAPS_E_CRYPTO);
    ci->spki_len = (size_t)n; /* written at the end of the buffer: it fills it */
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    ENSURE(mbedtls_pk_get_psa_attributes(pk, PSA_KEY_USAGE_SIGN_HASH, &attr) == 0, COAPS_E_CRYPTO);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_SIGN_HASH | PSA_KEY_USAGE_SIGN_MESSAGE);
    psa_set_key_algorithm(&attr, ECDSA_SHA256); /* randomized, not RFC 6979 (crypto.h) */
    mbedtls_svc_key_id_t k = MBEDTLS_SVC_KEY_ID_INIT;
    int r = mbedtls_pk_import_into_psa(pk, &attr, &k);
    psa_reset_key_attributes(&attr);
    ENSURE(r != MBEDTLS_ERR_PK_ALLOC_FAILED && r != PSA_ERROR_INSUFFICIENT_MEMORY, COAPS_E_NOMEM);
    ENSURE(r == 0, COAPS_E_CRYPTO);
    ci->key = k;
    return COAPS_OK;
}

/* The leaf certificate must carry our key (else every handshake fails):
 * compared by value, as two canonical encodings. */
static coaps_status cred_check_match(struct cred_impl *ci, const char *chain_what,
                                     const char *key_what, char *msg)
{
    mbedtls_x509_crt leaf;
    mbedtls_x509_crt_init(&leaf);
    uint8_t *der = NULL;
    size_t len = 0;
    coaps_status st = crypto_pki_crt_parse(&leaf, ci->cert[0], ci->cert_len[0], false);
    if (st == COAPS_OK)
        st = crypto_pki_spki_canonical(&leaf.pk, &der, &len);
    mbedtls_x509_crt_free(&leaf);
    if (st == COAPS_E_UNSUPPORTED)
        st = COAPS_OK; /* a key Mbed TLS cannot even encode is not ours */
    TRY(st);
    bool eq = der != NULL && len == ci->spki_len && memcmp(der, ci->spki, len) == 0;
    free(der);
    if (!eq) {
        crypto_pki_msg(msg, "private key %s does not match the certificate %s", key_what,
                       chain_what);
        return COAPS_E_CONFIG;
    }
    return COAPS_OK;
}

static coaps_status cred_load(struct cred_impl *ci, const void *chain_pem, size_t chain_len,
                              const char *chain_what, const void *key_pem, size_t key_len,
                              const char *key_what, char *msg)
{
    if (chain_pem != NULL)
        TRY(cred_read_chain(ci, chain_pem, chain_len, chain_what, msg));
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    coaps_status st = cred_read_key(&pk, key_pem, key_len, key_what, msg);
    if (st == COAPS_OK)
        st = cred_take_key(ci, &pk);
    mbedtls_pk_free(&pk); /* wipes the parsed private key */
    if (st == COAPS_OK && ci->n_certs > 0)
        st = cred_check_match(ci, chain_what, key_what, msg);
    return st;
}

coaps_status crypto_credential_load_named(struct crypto_credential *c, const void *chain_pem,
                                          size_t chain_len, const char *chain_what,
                                          const void *key_pem, size_t key_len,
                                          const char *key_what, char msg[CRYPTO_MSG_MAX])
{
    ENSURE(c != NULL, COAPS_E_INVALID);
    c->live = false;
    ENSURE(key_pem != NULL, COAPS_E_INVALID);
    coaps_status st = crypto_psa_ready();
    if (st != COAPS_OK) {
        crypto_pki_msg(msg, "PSA Crypto does not start");
        return st;
    }
    struct cred_impl *ci = calloc(1, sizeof *ci);
    ENSURE(ci != NULL, COAPS_E_NOMEM);
    st = cred_load(ci, chain_pem, chain_len, chain_what, key_pem, key_len, key_what, msg);
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
    ENSURE(der != NULL && len != NULL, COAPS_E_INVALID);
    const struct cred_impl *ci = cred_of(c);
    ENSURE(ci != NULL, COAPS_E_INVALID);
    *der = ci->spki;
    *len = ci->spki_len;
    return COAPS_OK;
}

/* Our key in the PSA key store; PSA_KEY_ID_NULL (which PSA refuses) for
 * an empty credential. */
static psa_key_id_t cred_key(const struct crypto_credential *c)
{
    const struct cred_impl *ci = cred_of(c);
    return ci != NULL ? ci->key : PSA_KEY_ID_NULL;
}

/* r || s from PSA to a DER Ecdsa-Sig-Value (RFC 8422 5.4). */
static coaps_status sig_to_der(const uint8_t *raw, size_t raw_len,
                               uint8_t sig[CRYPTO_ECDSA_SIG_MAX], size_t *sig_len)
{
    size_t n = 0;
    ENSURE(mbedtls_ecdsa_raw_to_der(P256_BITS, raw, raw_len, sig, CRYPTO_ECDSA_SIG_MAX, &n) == 0,
           COAPS_E_CRYPTO);
    *sig_len = n;
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
    TRY(crypto_psa_ready());
    uint8_t raw[P256_RAW_SIG_LEN];
    size_t raw_len = 0;
    const uint8_t *m = msg_len ? msg : (const uint8_t *)""; /* never a NULL pointer */
    TRY(crypto_psa_status(psa_sign_message(cred_key(c), ECDSA_SHA256, m, msg_len, raw,
                                           sizeof raw, &raw_len)));
    return sig_to_der(raw, raw_len, sig, sig_len);
}

coaps_status crypto_credential_sign_digest(const struct crypto_credential *c, uint16_t scheme,
                                           const uint8_t digest[32],
                                           uint8_t sig[CRYPTO_ECDSA_SIG_MAX], size_t *sig_len)
{
    ENSURE(c != NULL && c->live && digest != NULL && sig != NULL && sig_len != NULL,
           COAPS_E_INVALID);
    ENSURE(scheme == CRYPTO_SIG_ECDSA_SECP256R1_SHA256, COAPS_E_UNSUPPORTED);
    TRY(crypto_psa_ready());
    uint8_t raw[P256_RAW_SIG_LEN];
    size_t raw_len = 0;
    TRY(crypto_psa_status(psa_sign_hash(cred_key(c), ECDSA_SHA256, digest, 32, raw,
                                        sizeof raw, &raw_len)));
    return sig_to_der(raw, raw_len, sig, sig_len);
}

coaps_status crypto_credential_peer_key(const struct crypto_credential *c,
                                        struct crypto_peer_key *out)
{
    const struct cred_impl *ci = cred_of(c);
    ENSURE(ci != NULL && out != NULL, COAPS_E_INVALID);
    return crypto_pki_peer_key_from_spki(out, ci->spki, ci->spki_len);
}

void crypto_credential_clear(struct crypto_credential *c)
{
    if (c == NULL)
        return;
    cred_free(cred_of(c)); /* destroying the PSA key wipes it */
    c->live = false;
}
