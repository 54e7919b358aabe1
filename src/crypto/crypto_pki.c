/*
 * crypto_pki.c - backend-neutral loading of PKI configuration from memory:
 * one-line messages, the credential's PEM loader and the dispatch of a PEM
 * block to the trust store, used by both backends and by the file loaders
 * of crypto_pki_file.c. Set-up path only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/try.h"
#include "crypto/crypto_backend.h"

void crypto_pki_msg(char *msg, const char *fmt, ...)
{
    if (msg == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(msg, CRYPTO_MSG_MAX, fmt, ap);
    va_end(ap);
}

coaps_status crypto_credential_load_pem(struct crypto_credential *c, const void *chain_pem,
                                        size_t chain_len, const void *key_pem, size_t key_len,
                                        char msg[CRYPTO_MSG_MAX])
{
    return crypto_credential_load_named(c, chain_pem, chain_len, "certificate chain", key_pem,
                                        key_len, "private key", msg);
}

coaps_status crypto_trust_add_block(struct crypto_trust *t, const char *name, const uint8_t *der,
                                    size_t len, size_t index, size_t *added, char *msg)
{
    coaps_status st;
    if (strcmp(name, "CERTIFICATE") == 0) {
        st = crypto_trust_add_der(t, der, len);
        if (st == COAPS_E_MALFORMED)
            crypto_pki_msg(msg, "PEM block %zu: CERTIFICATE does not decode", index);
    } else if (strcmp(name, "PUBLIC KEY") == 0) {
        st = crypto_trust_add_rpk_der(t, der, len);
        if (st == COAPS_E_MALFORMED)
            crypto_pki_msg(msg, "PEM block %zu: PUBLIC KEY does not decode", index);
        else if (st == COAPS_E_UNSUPPORTED)
            crypto_pki_msg(msg, "PEM block %zu: public key must be EC P-256/P-384 or RSA "
                                "2048..8192 bits", index);
        else if (st == COAPS_E_FULL)
            crypto_pki_msg(msg, "more than %d pinned public keys", CRYPTO_TRUST_RPK_MAX);
    } else {
        return COAPS_OK;
    }
    *added += st == COAPS_OK;
    return st;
}
