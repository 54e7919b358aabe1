/*
 * openssl/pem.c - PEM block walking and exact DER parsing for the PKI part
 * of the OpenSSL backend. Set-up path only: this is configuration loading
 * (see crypto.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "common/try.h"
#include "crypto/openssl/pki.h"

coaps_status crypto_pki_pem_begin(struct crypto_pki_pem *p, const void *buf, size_t len)
{
    ENSURE(p != NULL, COAPS_E_INVALID);
    memset(p, 0, sizeof *p);
    ENSURE(buf != NULL || len == 0, COAPS_E_INVALID);
    ENSURE(len <= CRYPTO_PEM_FILE_MAX, COAPS_E_INVALID);
    p->bio = BIO_new_mem_buf(len ? buf : "", (int)len);
    ENSURE(p->bio != NULL, COAPS_E_NOMEM);
    return COAPS_OK;
}

static void pem_block_free(struct crypto_pki_pem *p)
{
    OPENSSL_free(p->name);
    OPENSSL_free(p->header);
    if (p->data != NULL)
        OPENSSL_clear_free(p->data, (size_t)p->len);
    p->name = p->header = NULL;
    p->data = NULL;
    p->len = 0;
}

int crypto_pki_pem_next(struct crypto_pki_pem *p)
{
    pem_block_free(p);
    ERR_set_mark();
    int got = PEM_read_bio(p->bio, &p->name, &p->header, &p->data, &p->len);
    unsigned long e = ERR_peek_last_error();
    ERR_pop_to_mark();
    if (got == 1) {
        p->index++;
        return 1;
    }
    pem_block_free(p);
    /* "no start line" is how PEM_read_bio says the text has no more blocks */
    return ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE ? 0 : -1;
}

void crypto_pki_pem_end(struct crypto_pki_pem *p)
{
    if (p == NULL)
        return;
    pem_block_free(p);
    BIO_free(p->bio);
    p->bio = NULL;
}

X509 *crypto_pki_x509_from_der(const uint8_t *der, size_t len)
{
    if (der == NULL || len == 0 || len > LONG_MAX)
        return NULL;
    const unsigned char *q = der;
    X509 *x = d2i_X509(NULL, &q, (long)len);
    if (x != NULL && q != der + len) { /* trailing bytes: not one certificate */
        X509_free(x);
        x = NULL;
    }
    ERR_clear_error();
    return x;
}

EVP_PKEY *crypto_pki_pubkey_from_spki(const uint8_t *der, size_t len)
{
    if (der == NULL || len == 0 || len > LONG_MAX)
        return NULL;
    const unsigned char *q = der;
    EVP_PKEY *pk = d2i_PUBKEY(NULL, &q, (long)len);
    if (pk != NULL && q != der + len) {
        EVP_PKEY_free(pk);
        pk = NULL;
    }
    ERR_clear_error();
    return pk;
}
