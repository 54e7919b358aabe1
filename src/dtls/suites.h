/*
 * suites.h - the cipher-suite table: what each suite id means to the record
 * layer (AEAD, key and IV lengths) and to the handshake (key exchange kind,
 * PRF hash). Adding a suite is adding a row.
 */
#ifndef COAPS_DTLS_SUITES_H
#define COAPS_DTLS_SUITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coaps/dtls.h"
#include "crypto/crypto.h"

/* How the premaster secret is agreed and the peers authenticated. */
enum dtls_kx {
    DTLS_KX_PSK = 0,         /* RFC 4279 */
    DTLS_KX_ECDHE_ECDSA = 1, /* RFC 8422, certificates or RFC 7250 raw keys */
};

struct dtls_suite {
    uint16_t id;
    const char *name;          /* IANA */
    const char *short_name;    /* OpenSSL style */
    enum dtls_kx kx;
    enum crypto_aead_alg aead;
    enum crypto_hash_alg prf;  /* RFC 5246 5; SHA-384 only for *_SHA384 */
    uint8_t key_len;           /* enc_key_length */
    uint8_t fixed_iv_len;      /* RFC 5288 3 / RFC 6655 3: 4; RFC 7905: 12 */
    uint8_t explicit_nonce_len; /* 8 (nonce_explicit in the record) or 0 */
    uint8_t tag_len;
};

/* Records that may fail authentication under one read key before the
 * session must end (RFC 9147 4.5.3: "Implementations MUST count the number
 * of received packets that fail authentication with each key"). Values
 * and where they come from: the table in suites.c and docs/dtls-limits.md. */
uint64_t dtls_aead_auth_fail_limit(enum crypto_aead_alg aead);

/* The row for a suite id, or NULL when we do not implement it. */
const struct dtls_suite *dtls_suite_find(uint16_t id);

/* The configured preference list (defaults when the config has none). */
size_t dtls_suites_configured(const coaps_dtls_config *cfg, const uint16_t **list);

/* Whether cfg has PSK credentials for its role. */
bool dtls_psk_configured(const coaps_dtls_config *cfg);
/* Whether suite s can be used with cfg: the crypto backend has its AEAD
 * and cfg has the credentials it needs (PSK, or a usable pki). */
bool dtls_suite_usable(const coaps_dtls_config *cfg, const struct dtls_suite *s);

/* Record expansion of a suite: explicit nonce + tag. */
static inline size_t dtls_suite_overhead(const struct dtls_suite *s)
{
    return (size_t)s->explicit_nonce_len + s->tag_len;
}

#endif /* COAPS_DTLS_SUITES_H */
