/* pki.c - loading certificate material for the engine (coaps/dtls.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/try.h"
#include "dtls/pki.h"

static void set_err(char *err, size_t cap, const char *msg)
{
    if (err && cap)
        snprintf(err, cap, "%s", msg);
}

static coaps_status load_cred(struct coaps_dtls_pki *p, const coaps_dtls_pki_files *f,
                              char msg[CRYPTO_MSG_MAX])
{
    const char *key = f->key_file ? f->key_file : f->cert_file;
    TRY(crypto_credential_load(&p->cred, f->cert_file, key, msg));
    p->has_cred = true;
    p->chain_len = crypto_credential_chain_len(&p->cred);
    size_t total = 0;
    for (size_t i = 0; i < p->chain_len; i++) {
        const uint8_t *der;
        size_t len;
        TRY(crypto_credential_cert(&p->cred, i, &der, &len));
        total += len;
    }
    if (total > DTLS_PKI_CHAIN_BYTES_MAX) {
        snprintf(msg, CRYPTO_MSG_MAX, "%s: certificate chain is %zu bytes, at most %d fit",
                 f->cert_file, total, DTLS_PKI_CHAIN_BYTES_MAX);
        return COAPS_E_FULL;
    }
    return COAPS_OK;
}

static coaps_status load_all(struct coaps_dtls_pki *p, const coaps_dtls_pki_files *f,
                             char msg[CRYPTO_MSG_MAX])
{
    TRY(crypto_trust_init(&p->trust));
    if (f->cert_file || f->key_file)
        TRY(load_cred(p, f, msg));
    if (f->ca_file)
        TRY(crypto_trust_load_file(&p->trust, f->ca_file, msg));
    if (f->ca_dir)
        TRY(crypto_trust_load_dir(&p->trust, f->ca_dir, msg));
    if (f->rpk_trust_file) {
        size_t before = 0, after = 0;
        crypto_trust_count(&p->trust, NULL, &before);
        TRY(crypto_trust_load_file(&p->trust, f->rpk_trust_file, msg));
        crypto_trust_count(&p->trust, NULL, &after);
        if (after == before) {
            snprintf(msg, CRYPTO_MSG_MAX, "%s: no PUBLIC KEY block", f->rpk_trust_file);
            return COAPS_E_MALFORMED;
        }
    }
    crypto_trust_count(&p->trust, &p->n_ca, &p->n_rpk);
    if (!p->has_cred && p->n_ca == 0 && p->n_rpk == 0) {
        snprintf(msg, CRYPTO_MSG_MAX, "no certificate, key, CA or raw public key given");
        return COAPS_E_INVALID;
    }
    if (f->use_rpk && !p->has_cred) {
        snprintf(msg, CRYPTO_MSG_MAX, "raw public key mode needs our key (key file)");
        return COAPS_E_INVALID;
    }
    p->require_client_cert = f->require_client_cert;
    p->use_rpk = f->use_rpk || (p->has_cred && p->chain_len == 0);
    p->no_name_check = f->no_name_check;
    return COAPS_OK;
}

coaps_status coaps_dtls_pki_new(coaps_dtls_pki **out, const coaps_dtls_pki_files *files,
                                char *err, size_t err_cap)
{
    if (!out || !files) {
        set_err(err, err_cap, "no files given");
        return COAPS_E_INVALID;
    }
    *out = NULL;
    struct coaps_dtls_pki *p = calloc(1, sizeof(*p));
    if (!p) {
        set_err(err, err_cap, "out of memory");
        return COAPS_E_NOMEM;
    }
    char msg[CRYPTO_MSG_MAX] = "";
    coaps_status st = load_all(p, files, msg);
    if (st != COAPS_OK) {
        set_err(err, err_cap, msg[0] ? msg : coaps_status_str(st));
        coaps_dtls_pki_free(p);
        return st;
    }
    *out = p;
    return COAPS_OK;
}

void coaps_dtls_pki_free(coaps_dtls_pki *pki)
{
    if (!pki)
        return;
    crypto_credential_clear(&pki->cred);
    crypto_trust_clear(&pki->trust);
    free(pki);
}
