/*
 * openssl/x509.c - the trust store (CA anchors + pinned raw public
 * keys, RFC 7250) and verification of a peer's certificate chain with
 * libcrypto's X509_STORE (RFC 5280 path validation), plus the name check
 * of RFC 6125 and the key usage rules of RFC 5246 7.4.2 / RFC 8422 5.3.
 * Set-up and handshake paths only.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/try.h"
#include "crypto/openssl/pki.h"

struct trust_impl {
    X509_STORE *store;
    size_t n_ca;
    size_t n_rpk;
    EVP_PKEY *rpk[CRYPTO_TRUST_RPK_MAX];
};

/* Backend state of struct crypto_trust: the store is configuration, loaded
 * once and shared, so it lives on the heap and the context points to it. */
struct trust_state {
    struct trust_impl *ti;
};
CRYPTO_STATE_FITS(struct trust_state, struct crypto_trust);

static struct trust_impl *trust_of(const struct crypto_trust *t)
{
    return t != NULL && t->live ? CRYPTO_CSTATE_OF(struct trust_state, t)->ti : NULL;
}

coaps_status crypto_trust_init(struct crypto_trust *t)
{
    ENSURE(t != NULL, COAPS_E_INVALID);
    t->live = false;
    struct trust_impl *ti = calloc(1, sizeof *ti);
    ENSURE(ti != NULL, COAPS_E_NOMEM);
    CRYPTO_STATE_OF(struct trust_state, t)->ti = ti;
    t->live = true;
    ti->store = X509_STORE_new();
    if (ti->store == NULL) {
        crypto_trust_clear(t);
        return COAPS_E_NOMEM;
    }
    return COAPS_OK;
}

void crypto_trust_clear(struct crypto_trust *t)
{
    struct trust_impl *ti = trust_of(t);
    if (ti == NULL)
        return;
    X509_STORE_free(ti->store);
    for (size_t i = 0; i < ti->n_rpk; i++)
        EVP_PKEY_free(ti->rpk[i]);
    free(ti);
    CRYPTO_STATE_OF(struct trust_state, t)->ti = NULL;
    t->live = false;
}

void crypto_trust_count(const struct crypto_trust *t, size_t *n_ca, size_t *n_rpk)
{
    const struct trust_impl *ti = trust_of(t);
    if (n_ca != NULL)
        *n_ca = ti ? ti->n_ca : 0;
    if (n_rpk != NULL)
        *n_rpk = ti ? ti->n_rpk : 0;
}

coaps_status crypto_trust_add_der(struct crypto_trust *t, const uint8_t *der, size_t len)
{
    struct trust_impl *ti = trust_of(t);
    ENSURE(ti != NULL, COAPS_E_INVALID);
    X509 *x = crypto_pki_x509_from_der(der, len);
    ENSURE(x != NULL, COAPS_E_MALFORMED);
    /* the store takes its own reference; a duplicate is not an error */
    int ok = X509_STORE_add_cert(ti->store, x);
    unsigned long e = ERR_peek_last_error();
    ERR_clear_error();
    X509_free(x);
    if (ok != 1 && ERR_GET_REASON(e) != X509_R_CERT_ALREADY_IN_HASH_TABLE)
        return COAPS_E_NOMEM;
    ti->n_ca += ok == 1;
    return COAPS_OK;
}

coaps_status crypto_trust_add_rpk_der(struct crypto_trust *t, const uint8_t *spki, size_t len)
{
    struct trust_impl *ti = trust_of(t);
    ENSURE(ti != NULL, COAPS_E_INVALID);
    EVP_PKEY *pk = crypto_pki_pubkey_from_spki(spki, len);
    ENSURE(pk != NULL, COAPS_E_MALFORMED);
    coaps_status st = COAPS_OK;
    if (crypto_pki_key_type(pk) == CRYPTO_PEER_KEY_NONE)
        st = COAPS_E_UNSUPPORTED;
    else if (ti->n_rpk >= CRYPTO_TRUST_RPK_MAX)
        st = COAPS_E_FULL;
    if (st != COAPS_OK) {
        EVP_PKEY_free(pk);
        return st;
    }
    ti->rpk[ti->n_rpk++] = pk;
    return COAPS_OK;
}

coaps_status crypto_trust_add_pem(struct crypto_trust *t, const void *buf, size_t len,
                                  char msg[CRYPTO_MSG_MAX])
{
    ENSURE(t != NULL && t->live, COAPS_E_INVALID);
    struct crypto_pki_pem p;
    coaps_status st = crypto_pki_pem_begin(&p, buf, len);
    if (st != COAPS_OK) {
        crypto_pki_msg(msg, "PEM input too large or invalid");
        return st;
    }
    size_t added = 0;
    int r = 0;
    while (st == COAPS_OK && (r = crypto_pki_pem_next(&p)) == 1)
        st = crypto_trust_add_block(t, p.name, p.data, (size_t)p.len, p.index, &added, msg);
    if (st == COAPS_OK && r < 0) {
        crypto_pki_msg(msg, "PEM block %zu does not decode (bad base64 or END line)", p.index + 1);
        st = COAPS_E_MALFORMED;
    }
    if (st == COAPS_OK && added == 0) {
        crypto_pki_msg(msg, "no CERTIFICATE or PUBLIC KEY block");
        st = COAPS_E_MALFORMED;
    }
    crypto_pki_pem_end(&p);
    return st;
}

/* ---- chain verification ------------------------------------------------------------ */

/* libcrypto's verdict to our reason (X509_V_ERR_* of X509_verify_cert). */
static enum crypto_x509_reason reason_of_x509_error(int err)
{
    switch (err) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED:
        return CRYPTO_X509_UNKNOWN_CA;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return CRYPTO_X509_EXPIRED;
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
    case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
        return CRYPTO_X509_BAD_CERT_SIGNATURE;
    case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
    case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD:
        return CRYPTO_X509_MALFORMED;
    case X509_V_ERR_INVALID_PURPOSE:
    case X509_V_ERR_EE_KEY_TOO_SMALL:
        return CRYPTO_X509_UNSUPPORTED;
    case X509_V_ERR_OUT_OF_MEM:
        return CRYPTO_X509_INTERNAL;
    default:
        return CRYPTO_X509_INVALID_CHAIN;
    }
}

/* RFC 6125: an IP literal against iPAddress SANs only (6.2.1); a DNS name
 * against dNSName SANs, the CN only when there is no dNSName (6.4.4; that
 * is X509_check_host's default), wildcards only as a whole left label. */
static bool name_matches(X509 *leaf, const char *name)
{
    int r = X509_check_ip_asc(leaf, name, 0);
    if (r == -2 || r == -1) /* -2: not an IP literal */
        r = X509_check_host(leaf, name, 0, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL);
    ERR_clear_error();
    return r == 1;
}

/* Our own checks after libcrypto accepted the path. */
static enum crypto_x509_reason leaf_checks(X509 *leaf, const char *expected_name)
{
    /* RFC 5246 7.4.2 / RFC 8422 5.3: the key signs the handshake, so when
     * keyUsage is present it must allow digitalSignature. */
    if ((X509_get_extension_flags(leaf) & EXFLAG_KUSAGE) &&
        !(X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE))
        return CRYPTO_X509_UNSUPPORTED;
    if (expected_name != NULL && !name_matches(leaf, expected_name))
        return CRYPTO_X509_NAME_MISMATCH;
    if (crypto_pki_key_type(X509_get0_pubkey(leaf)) == CRYPTO_PEER_KEY_NONE)
        return CRYPTO_X509_UNSUPPORTED;
    return CRYPTO_X509_OK;
}

/* Parse the chain into leaf + stack of untrusted certificates. */
static enum crypto_x509_reason chain_parse(const uint8_t *const *certs, const size_t *lens,
                                           size_t n, X509 **leaf, STACK_OF(X509) **rest)
{
    *leaf = NULL;
    *rest = sk_X509_new_null();
    if (*rest == NULL)
        return CRYPTO_X509_INTERNAL;
    for (size_t i = 0; i < n; i++) {
        X509 *x = crypto_pki_x509_from_der(certs[i], lens[i]);
        if (x == NULL)
            return CRYPTO_X509_MALFORMED;
        if (i == 0) {
            *leaf = x;
        } else if (sk_X509_push(*rest, x) <= 0) {
            X509_free(x);
            return CRYPTO_X509_INTERNAL;
        }
    }
    return CRYPTO_X509_OK;
}

/* Run X509_verify_cert for leaf with the untrusted rest. */
static enum crypto_x509_reason chain_verify(X509_STORE *store, X509 *leaf, STACK_OF(X509) *rest,
                                            enum crypto_x509_purpose purpose, uint64_t now)
{
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    enum crypto_x509_reason r = CRYPTO_X509_INTERNAL;
    if (ctx == NULL || X509_STORE_CTX_init(ctx, store, leaf, rest) != 1)
        goto out;
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
    /* depth counts intermediates: leaf + CRYPTO_CHAIN_MAX - 1 + anchor */
    X509_VERIFY_PARAM_set_depth(vp, CRYPTO_CHAIN_MAX);
    if (now != 0)
        X509_VERIFY_PARAM_set_time(vp, (time_t)now);
    /* Security level 2 (112 bits): no signature by SHA-1 or MD5, no RSA
     * key under 2048 bits anywhere in the path (NIST SP 800-57 part 1, as
     * for the leaf key in sig.c); the PSA backend refuses the same. */
    X509_VERIFY_PARAM_set_auth_level(vp, 2);
    /* the peer's role: EKU serverAuth/clientAuth when present (RFC 5280
     * 4.2.1.12), checked by libcrypto on the leaf and the CAs */
    if (X509_STORE_CTX_set_purpose(ctx, purpose == CRYPTO_X509_PURPOSE_SERVER
                                            ? X509_PURPOSE_SSL_SERVER
                                            : X509_PURPOSE_SSL_CLIENT) != 1)
        goto out;
    if (X509_verify_cert(ctx) == 1)
        r = CRYPTO_X509_OK;
    else
        r = reason_of_x509_error(X509_STORE_CTX_get_error(ctx));
out:
    ERR_clear_error();
    X509_STORE_CTX_free(ctx);
    return r;
}

static coaps_status reason_status(enum crypto_x509_reason r)
{
    return r == CRYPTO_X509_OK ? COAPS_OK : r == CRYPTO_X509_INTERNAL ? COAPS_E_NOMEM
                                                                       : COAPS_E_VERIFY;
}

coaps_status crypto_x509_verify_chain(const struct crypto_trust *trust,
                                      const uint8_t *const *certs, const size_t *lens, size_t n,
                                      const char *expected_name, enum crypto_x509_purpose purpose,
                                      uint64_t now_unix, struct crypto_peer_key *out_leaf_key,
                                      enum crypto_x509_reason *out_reason)
{
    enum crypto_x509_reason dummy;
    enum crypto_x509_reason *reason = out_reason ? out_reason : &dummy;
    *reason = CRYPTO_X509_INTERNAL;
    if (out_leaf_key != NULL) {
        out_leaf_key->live = false;
        out_leaf_key->type = CRYPTO_PEER_KEY_NONE;
    }
    ENSURE(trust != NULL && trust->live && (n == 0 || (certs != NULL && lens != NULL)),
           COAPS_E_INVALID);
    ENSURE(purpose == CRYPTO_X509_PURPOSE_SERVER || purpose == CRYPTO_X509_PURPOSE_CLIENT,
           COAPS_E_INVALID);
    ENSURE(now_unix <= (uint64_t)INT64_MAX, COAPS_E_INVALID);
    if (n == 0 || n > CRYPTO_CHAIN_MAX) {
        *reason = n == 0 ? CRYPTO_X509_NO_CERTIFICATE : CRYPTO_X509_MALFORMED;
        return COAPS_E_VERIFY;
    }
    const struct trust_impl *ti = trust_of(trust);
    X509 *leaf;
    STACK_OF(X509) *rest;
    enum crypto_x509_reason r = chain_parse(certs, lens, n, &leaf, &rest);
    if (r == CRYPTO_X509_OK)
        r = chain_verify(ti->store, leaf, rest, purpose, now_unix);
    if (r == CRYPTO_X509_OK)
        r = leaf_checks(leaf, expected_name);
    if (r == CRYPTO_X509_OK && out_leaf_key != NULL &&
        crypto_pki_peer_key_set(out_leaf_key, X509_get0_pubkey(leaf)) != COAPS_OK)
        r = CRYPTO_X509_INTERNAL;
    X509_free(leaf);
    sk_X509_pop_free(rest, X509_free);
    *reason = r;
    return reason_status(r);
}

coaps_status crypto_rpk_match(const struct crypto_trust *trust, const uint8_t *spki, size_t len,
                              struct crypto_peer_key *out_key,
                              enum crypto_x509_reason *out_reason)
{
    enum crypto_x509_reason dummy;
    enum crypto_x509_reason *reason = out_reason ? out_reason : &dummy;
    *reason = CRYPTO_X509_INTERNAL;
    if (out_key != NULL) {
        out_key->live = false;
        out_key->type = CRYPTO_PEER_KEY_NONE;
    }
    ENSURE(trust != NULL && trust->live, COAPS_E_INVALID);
    const struct trust_impl *ti = trust_of(trust);
    EVP_PKEY *pk = crypto_pki_pubkey_from_spki(spki, len);
    enum crypto_x509_reason r = CRYPTO_X509_RPK_UNKNOWN;
    if (pk == NULL)
        r = CRYPTO_X509_MALFORMED;
    else if (crypto_pki_key_type(pk) == CRYPTO_PEER_KEY_NONE)
        r = CRYPTO_X509_UNSUPPORTED;
    for (size_t i = 0; r == CRYPTO_X509_RPK_UNKNOWN && i < ti->n_rpk; i++)
        if (EVP_PKEY_eq(pk, ti->rpk[i]) == 1) /* compares the public key values */
            r = CRYPTO_X509_OK;
    if (r == CRYPTO_X509_OK && out_key != NULL && crypto_pki_peer_key_set(out_key, pk) != COAPS_OK)
        r = CRYPTO_X509_INTERNAL;
    ERR_clear_error();
    EVP_PKEY_free(pk);
    *reason = r;
    return reason_status(r);
}
