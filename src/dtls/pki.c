/* pki.c - loading certificate material for the engine (coaps/dtls.h), from
 * files (a host) or from PEM in memory (a device's flash). */
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

/* Our credential is in p->cred (loaded from `what`): its chain must fit
 * one flight. */
static coaps_status cred_loaded(struct coaps_dtls_pki *p, const char *what,
                                char msg[CRYPTO_MSG_MAX])
{
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
                 what, total, DTLS_PKI_CHAIN_BYTES_MAX);
        return COAPS_E_FULL;
    }
    return COAPS_OK;
}

/* What is loaded must be usable, and the flags go with it. */
static coaps_status loaded(struct coaps_dtls_pki *p, bool require_client_cert, bool use_rpk,
                           bool no_name_check, char msg[CRYPTO_MSG_MAX])
{
    crypto_trust_count(&p->trust, &p->n_ca, &p->n_rpk);
    if (!p->has_cred && p->n_ca == 0 && p->n_rpk == 0) {
        snprintf(msg, CRYPTO_MSG_MAX, "no certificate, key, CA or raw public key given");
        return COAPS_E_INVALID;
    }
    if (use_rpk && !p->has_cred) {
        snprintf(msg, CRYPTO_MSG_MAX, "raw public key mode needs our key (key file)");
        return COAPS_E_INVALID;
    }
    p->require_client_cert = require_client_cert;
    p->use_rpk = use_rpk || (p->has_cred && p->chain_len == 0);
    p->no_name_check = no_name_check;
    return COAPS_OK;
}

static coaps_status load_files(struct coaps_dtls_pki *p, const void *src,
                               char msg[CRYPTO_MSG_MAX])
{
    const coaps_dtls_pki_files *f = src;
    TRY(crypto_trust_init(&p->trust));
    if (f->cert_file || f->key_file) {
        const char *key = f->key_file ? f->key_file : f->cert_file;
        TRY(crypto_credential_load(&p->cred, f->cert_file, key, msg));
        TRY(cred_loaded(p, f->cert_file, msg));
    }
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
    return loaded(p, f->require_client_cert, f->use_rpk, f->no_name_check, msg);
}

static coaps_status load_pem(struct coaps_dtls_pki *p, const void *src,
                             char msg[CRYPTO_MSG_MAX])
{
    const coaps_dtls_pki_pem *m = src;
    TRY(crypto_trust_init(&p->trust));
    if (m->cert || m->key) {
        const void *key = m->key ? m->key : m->cert;
        size_t key_len = m->key ? m->key_len : m->cert_len;
        TRY(crypto_credential_load_pem(&p->cred, m->cert, m->cert_len, key, key_len, msg));
        TRY(cred_loaded(p, "certificate chain", msg));
    }
    if (m->trust)
        TRY(crypto_trust_add_pem(&p->trust, m->trust, m->trust_len, msg));
    return loaded(p, m->require_client_cert, m->use_rpk, m->no_name_check, msg);
}

/* A new pki loaded by load from src, or a one-line error. */
static coaps_status pki_new(coaps_dtls_pki **out, const void *src,
                            coaps_status (*load)(struct coaps_dtls_pki *, const void *, char *),
                            char *err, size_t err_cap)
{
    if (!out || !src) {
        set_err(err, err_cap, "nothing given");
        return COAPS_E_INVALID;
    }
    *out = NULL;
    struct coaps_dtls_pki *p = calloc(1, sizeof(*p));
    if (!p) {
        set_err(err, err_cap, "out of memory");
        return COAPS_E_NOMEM;
    }
    char msg[CRYPTO_MSG_MAX] = "";
    coaps_status st = load(p, src, msg);
    if (st != COAPS_OK) {
        set_err(err, err_cap, msg[0] ? msg : coaps_status_str(st));
        coaps_dtls_pki_free(p);
        return st;
    }
    *out = p;
    return COAPS_OK;
}

coaps_status coaps_dtls_pki_new(coaps_dtls_pki **out, const coaps_dtls_pki_files *files,
                                char *err, size_t err_cap)
{
    return pki_new(out, files, load_files, err, err_cap);
}

coaps_status coaps_dtls_pki_new_pem(coaps_dtls_pki **out, const coaps_dtls_pki_pem *pem,
                                    char *err, size_t err_cap)
{
    return pki_new(out, pem, load_pem, err, err_cap);
}

void coaps_dtls_pki_free(coaps_dtls_pki *pki)
{
    if (!pki)
        return;
    crypto_credential_clear(&pki->cred);
    crypto_trust_clear(&pki->trust);
    free(pki);
}
