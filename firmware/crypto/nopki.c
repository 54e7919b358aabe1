/*
 * nopki.c - the certificate half of crypto.h for a PSK-only firmware.
 *
 * The firmware's Mbed TLS (firmware/mbedtls/) has no X.509, no ECC and no
 * files, so the PSA backend's certificate files (psa/pk.c, sig.c, x509.c,
 * cred.c, pem.c) are not built. The DTLS engine still names these
 * functions (its ECDHE_ECDSA rows), but only reaches them when a pki is
 * configured, which this firmware never does: every one refuses. (The
 * ECDHE-ECDSA build, FW_PKI, builds the real files against an Mbed TLS
 * with PK, ECDSA and X.509 instead of this one.)
 */
#include <string.h>

#include "crypto/crypto.h"

#define NOPKI COAPS_E_UNSUPPORTED
/* RFC 5246 7.2: what a peer's certificate gets when we cannot check it. */
#define NOPKI_ALERT_UNSUPPORTED_CERTIFICATE 43

coaps_status crypto_kx_generate(struct crypto_kx *kx, enum crypto_kx_group group,
                                uint8_t pub[CRYPTO_KX_PUBLIC_MAX], size_t *pub_len)
{
    (void)kx, (void)group, (void)pub, (void)pub_len;
    return NOPKI;
}

coaps_status crypto_kx_derive(const struct crypto_kx *kx, const uint8_t *peer, size_t peer_len,
                              uint8_t secret[CRYPTO_KX_SECRET_MAX], size_t *secret_len)
{
    (void)kx, (void)peer, (void)peer_len, (void)secret, (void)secret_len;
    return NOPKI;
}

void crypto_kx_clear(struct crypto_kx *kx)
{
    memset(kx, 0, sizeof *kx);
}

uint8_t crypto_x509_reason_alert(enum crypto_x509_reason r)
{
    (void)r;
    return NOPKI_ALERT_UNSUPPORTED_CERTIFICATE;
}

const char *crypto_x509_reason_format(enum crypto_x509_reason r, const char *expected_name,
                                      char *buf, size_t cap)
{
    (void)r, (void)expected_name;
    static const char why[] = "certificates not supported";
    if (cap > 0) {
        size_t n = cap - 1 < sizeof why - 1 ? cap - 1 : sizeof why - 1;
        memcpy(buf, why, n);
        buf[n] = '\0';
    }
    return buf;
}

coaps_status crypto_trust_init(struct crypto_trust *t)
{
    memset(t, 0, sizeof *t);
    return NOPKI;
}

coaps_status crypto_trust_load_file(struct crypto_trust *t, const char *path,
                                    char msg[CRYPTO_MSG_MAX])
{
    (void)t, (void)path, (void)msg;
    return NOPKI;
}

coaps_status crypto_trust_load_dir(struct crypto_trust *t, const char *dir,
                                   char msg[CRYPTO_MSG_MAX])
{
    (void)t, (void)dir, (void)msg;
    return NOPKI;
}

void crypto_trust_count(const struct crypto_trust *t, size_t *n_ca, size_t *n_rpk)
{
    (void)t;
    *n_ca = 0;
    *n_rpk = 0;
}

void crypto_trust_clear(struct crypto_trust *t)
{
    memset(t, 0, sizeof *t);
}

coaps_status crypto_peer_key_verify(const struct crypto_peer_key *key, uint16_t scheme,
                                    const uint8_t *msg, size_t msg_len, const uint8_t *sig,
                                    size_t sig_len)
{
    (void)key, (void)scheme, (void)msg, (void)msg_len, (void)sig, (void)sig_len;
    return NOPKI;
}

coaps_status crypto_peer_key_verify_digest(const struct crypto_peer_key *key, uint16_t scheme,
                                           const uint8_t *digest, size_t digest_len,
                                           const uint8_t *sig, size_t sig_len)
{
    (void)key, (void)scheme, (void)digest, (void)digest_len, (void)sig, (void)sig_len;
    return NOPKI;
}

const uint16_t *crypto_sig_verify_schemes(size_t *n)
{
    *n = 0;
    return NULL;
}

bool crypto_sig_scheme_hash(uint16_t scheme, enum crypto_hash_alg *alg)
{
    (void)scheme, (void)alg;
    return false;
}

void crypto_peer_key_clear(struct crypto_peer_key *key)
{
    memset(key, 0, sizeof *key);
}

coaps_status crypto_x509_verify_chain(const struct crypto_trust *trust,
                                      const uint8_t *const *certs, const size_t *lens, size_t n,
                                      const char *expected_name, enum crypto_x509_purpose purpose,
                                      uint64_t now_unix, struct crypto_peer_key *out_leaf_key,
                                      enum crypto_x509_reason *out_reason)
{
    (void)trust, (void)certs, (void)lens, (void)n, (void)expected_name, (void)purpose;
    (void)now_unix, (void)out_leaf_key;
    *out_reason = CRYPTO_X509_NO_CERTIFICATE;
    return NOPKI;
}

coaps_status crypto_rpk_match(const struct crypto_trust *trust, const uint8_t *spki, size_t len,
                              struct crypto_peer_key *out_key,
                              enum crypto_x509_reason *out_reason)
{
    (void)trust, (void)spki, (void)len, (void)out_key;
    *out_reason = CRYPTO_X509_NO_CERTIFICATE;
    return NOPKI;
}

coaps_status crypto_credential_load(struct crypto_credential *c, const char *chain_path,
                                    const char *key_path, char msg[CRYPTO_MSG_MAX])
{
    (void)c, (void)chain_path, (void)key_path, (void)msg;
    return NOPKI;
}

size_t crypto_credential_chain_len(const struct crypto_credential *c)
{
    (void)c;
    return 0;
}

coaps_status crypto_credential_cert(const struct crypto_credential *c, size_t i,
                                    const uint8_t **der, size_t *len)
{
    (void)c, (void)i, (void)der, (void)len;
    return NOPKI;
}

coaps_status crypto_credential_spki(const struct crypto_credential *c, const uint8_t **der,
                                    size_t *len)
{
    (void)c, (void)der, (void)len;
    return NOPKI;
}

coaps_status crypto_credential_sign(const struct crypto_credential *c, uint16_t scheme,
                                    const uint8_t *msg, size_t msg_len,
                                    uint8_t sig[CRYPTO_ECDSA_SIG_MAX], size_t *sig_len)
{
    (void)c, (void)scheme, (void)msg, (void)msg_len, (void)sig, (void)sig_len;
    return NOPKI;
}

coaps_status crypto_credential_sign_digest(const struct crypto_credential *c, uint16_t scheme,
                                           const uint8_t digest[32],
                                           uint8_t sig[CRYPTO_ECDSA_SIG_MAX], size_t *sig_len)
{
    (void)c, (void)scheme, (void)digest, (void)sig, (void)sig_len;
    return NOPKI;
}

void crypto_credential_clear(struct crypto_credential *c)
{
    memset(c, 0, sizeof *c);
}
