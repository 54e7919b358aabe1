/*
 * psa/pem.c - PEM block walking and exact DER parsing for the PKI part of
 * the PSA backend, on Mbed TLS's pem, x509 and pk modules. Set-up and
 * handshake paths only: this is configuration loading and peer input
 * parsing (see crypto.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/asn1.h>

#include "common/try.h"
#include "crypto/psa/pki.h"

#define PEM_BEGIN "-----BEGIN "
#define PEM_DASHES "-----"
/* "-----BEGIN " or "-----END " + label + "-----" + NUL */
#define PEM_LINE_MAX (sizeof PEM_BEGIN + CRYPTO_PKI_PEM_LABEL_MAX + sizeof PEM_DASHES)

coaps_status crypto_pki_pem_begin(struct crypto_pki_pem *p, const void *buf, size_t len)
{
    ENSURE(p != NULL, COAPS_E_INVALID);
    memset(p, 0, sizeof *p);
    mbedtls_pem_init(&p->pem);
    ENSURE(buf != NULL || len == 0, COAPS_E_INVALID);
    ENSURE(len <= CRYPTO_PEM_FILE_MAX, COAPS_E_INVALID);
    p->text = malloc(len + 1);
    ENSURE(p->text != NULL, COAPS_E_NOMEM);
    if (len > 0)
        memcpy(p->text, buf, len);
    p->text[len] = '\0';
    p->text_len = len;
    return COAPS_OK;
}

static void pem_block_free(struct crypto_pki_pem *p)
{
    mbedtls_pem_free(&p->pem); /* wipes the decoded bytes */
    mbedtls_pem_init(&p->pem);
    p->name[0] = '\0';
    p->data = NULL;
    p->len = 0;
    p->encrypted = false;
}

/* The next "-----BEGIN " at the start of a line (RFC 7468 2), or NULL. */
static char *pem_find_begin(char *text, char *from)
{
    char *b = strstr(from, PEM_BEGIN);
    while (b != NULL && b != text && b[-1] != '\n')
        b = strstr(b + 1, PEM_BEGIN);
    return b;
}

/* The label of the BEGIN line at b into p->name; false when the line is
 * not "-----BEGIN LABEL-----". */
static bool pem_label(struct crypto_pki_pem *p, const char *b)
{
    const char *label = b + strlen(PEM_BEGIN);
    const char *end = strstr(label, PEM_DASHES);
    size_t n = end != NULL ? (size_t)(end - label) : 0;
    if (n == 0 || n > CRYPTO_PKI_PEM_LABEL_MAX || memchr(label, '\n', n) != NULL)
        return false;
    memcpy(p->name, label, n);
    p->name[n] = '\0';
    return true;
}

/* Mbed TLS's answers for a block whose RFC 1421 header says
 * "Proc-Type: 4,ENCRYPTED": we never decrypt, the caller refuses it. */
static bool pem_error_is_encrypted(int r)
{
    return r == MBEDTLS_ERR_PEM_PASSWORD_REQUIRED || r == MBEDTLS_ERR_PEM_UNKNOWN_ENC_ALG ||
           r == MBEDTLS_ERR_PEM_INVALID_ENC_IV || r == MBEDTLS_ERR_PEM_FEATURE_UNAVAILABLE;
}

int crypto_pki_pem_next(struct crypto_pki_pem *p)
{
    pem_block_free(p);
    char *b = pem_find_begin(p->text, p->text + p->pos);
    if (b == NULL)
        return 0;
    char header[PEM_LINE_MAX], footer[PEM_LINE_MAX];
    if (!pem_label(p, b))
        return -1;
    (void)snprintf(header, sizeof header, "-----BEGIN %s-----", p->name);
    (void)snprintf(footer, sizeof footer, "-----END %s-----", p->name);
    const char *f = strstr(b, footer);
    if (f == NULL)
        return -1;
    p->pos = (size_t)(f - p->text) + strlen(footer);
    size_t used;
    int r = mbedtls_pem_read_buffer(&p->pem, header, footer, (const unsigned char *)b, NULL, 0,
                                    &used);
    if (r == 0) {
        p->data = mbedtls_pem_get_buffer(&p->pem, &p->len);
    } else if (pem_error_is_encrypted(r)) {
        p->encrypted = true;
    } else {
        p->name[0] = '\0';
        return -1;
    }
    p->index++;
    return 1;
}

void crypto_pki_pem_end(struct crypto_pki_pem *p)
{
    if (p == NULL)
        return;
    pem_block_free(p);
    if (p->text != NULL) {
        crypto_wipe(p->text, p->text_len);
        free(p->text);
    }
    p->text = NULL;
    p->text_len = 0;
}

/* ---- exact DER --------------------------------------------------------------- */

/* true when der[0..len) is one DER SEQUENCE and nothing after it: Mbed TLS's
 * parsers stop at the end of the first object and ignore trailing bytes,
 * which we refuse (a certificate or key must be exactly one object). */
static bool der_one_sequence(const uint8_t *der, size_t len)
{
    if (der == NULL || len == 0)
        return false;
    unsigned char *q = (unsigned char *)(uintptr_t)der; /* Mbed TLS only reads */
    size_t body;
    if (mbedtls_asn1_get_tag(&q, der + len, &body, CRYPTO_PKI_ASN1_SEQUENCE) != 0)
        return false;
    return body == (size_t)(der + len - q);
}

/* Extensions Mbed TLS does not process reach this callback, which takes
 * them all, as OpenSSL's parser does: a certificatePolicies extension with
 * policies other than anyPolicy is fine (no policy checking, as with
 * OpenSSL's verifier by default), and a certificate with another unknown
 * critical extension is refused when it is used, by the verifier
 * (x509.c, unhandled_critical), not when it is loaded. */
static int crt_unknown_extension(void *ctx, mbedtls_x509_crt const *crt,
                                 mbedtls_x509_buf const *oid, int critical,
                                 const unsigned char *p, const unsigned char *end)
{
    (void)ctx;
    (void)crt;
    (void)oid;
    (void)critical;
    (void)p;
    (void)end;
    return 0;
}

coaps_status crypto_pki_crt_parse(mbedtls_x509_crt *chain, const uint8_t *der, size_t len,
                                  bool copy)
{
    ENSURE(chain != NULL, COAPS_E_INVALID);
    ENSURE(der_one_sequence(der, len), COAPS_E_MALFORMED);
    TRY(crypto_psa_ready()); /* with MBEDTLS_USE_PSA_CRYPTO, parsing a key needs PSA */
    int r = mbedtls_x509_crt_parse_der_with_ext_cb(chain, der, len, copy, crt_unknown_extension,
                                                   NULL);
    if (r == MBEDTLS_ERR_X509_ALLOC_FAILED)
        return COAPS_E_NOMEM;
    return r == 0 ? COAPS_OK : COAPS_E_MALFORMED;
}

coaps_status crypto_pki_spki_parse(mbedtls_pk_context *pk, const uint8_t *der, size_t len)
{
    ENSURE(pk != NULL, COAPS_E_INVALID);
    ENSURE(der_one_sequence(der, len), COAPS_E_MALFORMED);
    TRY(crypto_psa_ready()); /* with MBEDTLS_USE_PSA_CRYPTO, parsing a key needs PSA */
    unsigned char *q = (unsigned char *)(uintptr_t)der; /* Mbed TLS only reads */
    int r = mbedtls_pk_parse_subpubkey(&q, der + len, pk);
    if (r == MBEDTLS_ERR_PK_ALLOC_FAILED)
        return COAPS_E_NOMEM;
    return r == 0 && q == der + len ? COAPS_OK : COAPS_E_MALFORMED;
}

/* Room for the SubjectPublicKeyInfo of any key we accept: an RSA-8192
 * modulus and an exponent as long (RFC 8017 A.1.1 allows e up to n), each
 * with its INTEGER header and a sign byte, plus the few headers around
 * them. */
#define SPKI_MAX (2 * (CRYPTO_RSA_BITS_MAX / 8 + 8) + 64)

coaps_status crypto_pki_spki_canonical(const mbedtls_pk_context *pk, uint8_t **der, size_t *len)
{
    ENSURE(pk != NULL && der != NULL && len != NULL, COAPS_E_INVALID);
    *der = NULL;
    *len = 0;
    uint8_t *buf = malloc(SPKI_MAX);
    ENSURE(buf != NULL, COAPS_E_NOMEM);
    /* Mbed TLS writes backwards, ending at the end of the buffer */
    int n = mbedtls_pk_write_pubkey_der(pk, buf, SPKI_MAX);
    if (n <= 0) {
        free(buf);
        return COAPS_E_UNSUPPORTED;
    }
    memmove(buf, buf + SPKI_MAX - (size_t)n, (size_t)n);
    *der = buf;
    *len = (size_t)n;
    return COAPS_OK;
}
