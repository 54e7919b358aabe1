/* suites.c - the cipher-suite table (see suites.h). */
#include "dtls/suites.h"

#include "coaps/config.h"
#include "dtls/pki.h"

#include <string.h>
#include <strings.h>

static const struct dtls_suite suite_table[] = {
    /* RFC 6655 3: AES-CCM, 4-byte salt from the key block + 8-byte explicit
     * nonce; CCM_8 has an 8-byte tag. PRF is SHA-256 (RFC 6655 4). */
    {COAPS_DTLS_PSK_AES_128_CCM_8, "TLS_PSK_WITH_AES_128_CCM_8", "PSK-AES128-CCM8", DTLS_KX_PSK,
     CRYPTO_AES_128_CCM_8, CRYPTO_SHA256, 16, 4, 8, 8},
    {COAPS_DTLS_PSK_AES_128_CCM, "TLS_PSK_WITH_AES_128_CCM", "PSK-AES128-CCM", DTLS_KX_PSK,
     CRYPTO_AES_128_CCM, CRYPTO_SHA256, 16, 4, 8, 16},
    /* RFC 5487 / RFC 5288 3: GCM, same nonce layout as CCM. */
    {COAPS_DTLS_PSK_AES_128_GCM_SHA256, "TLS_PSK_WITH_AES_128_GCM_SHA256", "PSK-AES128-GCM-SHA256",
     DTLS_KX_PSK, CRYPTO_AES_128_GCM, CRYPTO_SHA256, 16, 4, 8, 16},
    {COAPS_DTLS_PSK_AES_256_GCM_SHA384, "TLS_PSK_WITH_AES_256_GCM_SHA384", "PSK-AES256-GCM-SHA384",
     DTLS_KX_PSK, CRYPTO_AES_256_GCM, CRYPTO_SHA384, 32, 4, 8, 16},
    /* RFC 7905 2: 12-byte IV XORed with the padded sequence number, no
     * explicit nonce in the record. */
    {COAPS_DTLS_PSK_CHACHA20_POLY1305_SHA256, "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256",
     "PSK-CHACHA20-POLY1305", DTLS_KX_PSK, CRYPTO_CHACHA20_POLY1305, CRYPTO_SHA256, 32, 12, 0, 16},
#if COAPS_WITH_PKI /* left out: a PSK-only build never picks these */
    /* RFC 7251 / RFC 5289 / RFC 7905: the same record protection, with an
     * ephemeral ECDH key exchange signed by an ECDSA key (RFC 8422). */
    {COAPS_DTLS_ECDHE_ECDSA_AES_128_CCM_8, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",
     "ECDHE-ECDSA-AES128-CCM8", DTLS_KX_ECDHE_ECDSA, CRYPTO_AES_128_CCM_8, CRYPTO_SHA256, 16, 4,
     8, 8},
    {COAPS_DTLS_ECDHE_ECDSA_AES_128_CCM, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM",
     "ECDHE-ECDSA-AES128-CCM", DTLS_KX_ECDHE_ECDSA, CRYPTO_AES_128_CCM, CRYPTO_SHA256, 16, 4, 8,
     16},
    {COAPS_DTLS_ECDHE_ECDSA_AES_128_GCM_SHA256, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
     "ECDHE-ECDSA-AES128-GCM-SHA256", DTLS_KX_ECDHE_ECDSA, CRYPTO_AES_128_GCM, CRYPTO_SHA256, 16,
     4, 8, 16},
    {COAPS_DTLS_ECDHE_ECDSA_AES_256_GCM_SHA384, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
     "ECDHE-ECDSA-AES256-GCM-SHA384", DTLS_KX_ECDHE_ECDSA, CRYPTO_AES_256_GCM, CRYPTO_SHA384, 32,
     4, 8, 16},
    {COAPS_DTLS_ECDHE_ECDSA_CHACHA20_POLY1305_SHA256,
     "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305",
     DTLS_KX_ECDHE_ECDSA, CRYPTO_CHACHA20_POLY1305, CRYPTO_SHA256, 32, 12, 0, 16},
#endif
};

/* Default preference: CCM_8 first in each kind, the suites RFC 7252
 * 9.1.3.1 (PSK) and 9.1.3.2/9.1.3.3 (certificates, raw public keys)
 * mandate for CoAP, then the 16-byte-tag suites. Only the kinds the
 * configuration has credentials for are used (dtls_suite_usable). */
static const uint16_t default_order[] = {
    COAPS_DTLS_PSK_AES_128_CCM_8,
    COAPS_DTLS_PSK_AES_128_CCM,
    COAPS_DTLS_PSK_AES_128_GCM_SHA256,
    COAPS_DTLS_PSK_AES_256_GCM_SHA384,
    COAPS_DTLS_PSK_CHACHA20_POLY1305_SHA256,
#if COAPS_WITH_PKI /* as in suite_table */
    COAPS_DTLS_ECDHE_ECDSA_AES_128_CCM_8,
    COAPS_DTLS_ECDHE_ECDSA_AES_128_CCM,
    COAPS_DTLS_ECDHE_ECDSA_AES_128_GCM_SHA256,
    COAPS_DTLS_ECDHE_ECDSA_AES_256_GCM_SHA384,
    COAPS_DTLS_ECDHE_ECDSA_CHACHA20_POLY1305_SHA256,
#endif
};
_Static_assert(sizeof(default_order) / sizeof(default_order[0]) <= COAPS_DTLS_SUITES_MAX,
               "the default list fits COAPS_DTLS_SUITES_MAX");

/* Integrity limits: records failing authentication under one key, per AEAD
 * (RFC 9147 4.5.3 and Appendix B; the same target advantage of 2^-57 that
 * TLS 1.3 keeps). DTLS 1.2 has no key update, so reaching a limit ends the
 * session. See docs/dtls-limits.md for the reasoning behind each value. */
static const struct {
    enum crypto_aead_alg aead;
    uint64_t limit;
} aead_limits[] = {
    /* RFC 9147 B.3: with a 64-bit tag the first term of the bound, v/2^64,
     * dominates; keeping 2^-57 gives v <= 2^7. RFC 9147 4.5.3 adds that no
     * CCM_8 limit both bounds forgery and avoids a cheap denial of service:
     * we keep the margin (docs/dtls-limits.md says why and how to raise it
     * with coaps_dtls_config.auth_fail_limit). */
    {CRYPTO_AES_128_CCM_8, UINT64_C(1) << 7},
    /* RFC 9147 B.2: v + q <= 2^24.5 with q = 2^23 gives v <= 2^23.5
     * (11863283, rounded down). */
    {CRYPTO_AES_128_CCM, UINT64_C(11863283)},
    /* RFC 9147 4.5.3: 2^36 for AES-GCM and ChaCha20-Poly1305. */
    {CRYPTO_AES_128_GCM, UINT64_C(1) << 36},
    {CRYPTO_AES_256_GCM, UINT64_C(1) << 36},
    {CRYPTO_CHACHA20_POLY1305, UINT64_C(1) << 36},
};

uint64_t dtls_aead_auth_fail_limit(enum crypto_aead_alg aead)
{
    for (size_t i = 0; i < sizeof(aead_limits) / sizeof(aead_limits[0]); i++)
        if (aead_limits[i].aead == aead)
            return aead_limits[i].limit;
    return UINT64_C(1) << 7; /* an AEAD without a row gets the smallest limit */
}

bool dtls_psk_configured(const coaps_dtls_config *cfg)
{
    if (cfg->role == COAPS_DTLS_SERVER)
        return cfg->psk_lookup != NULL;
    return cfg->psk_client != NULL || (cfg->psk_key != NULL && cfg->psk_key_len > 0);
}

bool dtls_suite_usable(const coaps_dtls_config *cfg, const struct dtls_suite *s)
{
    if (!s || !crypto_aead_available(s->aead))
        return false;
    if (s->kx == DTLS_KX_PSK)
        return dtls_psk_configured(cfg);
    return dtls_pki_usable(cfg->pki, cfg->role == COAPS_DTLS_SERVER);
}

const struct dtls_suite *dtls_suite_find(uint16_t id)
{
    for (size_t i = 0; i < sizeof(suite_table) / sizeof(suite_table[0]); i++)
        if (suite_table[i].id == id)
            return &suite_table[i];
    return NULL;
}

size_t dtls_suites_configured(const coaps_dtls_config *cfg, const uint16_t **list)
{
    if (cfg->suites && cfg->suites_len) {
        *list = cfg->suites;
        return cfg->suites_len;
    }
    *list = default_order;
    return sizeof(default_order) / sizeof(default_order[0]);
}

uint16_t coaps_dtls_suite_by_name(const char *name)
{
    if (!name)
        return 0;
    for (size_t i = 0; i < sizeof(suite_table) / sizeof(suite_table[0]); i++)
        if (strcasecmp(name, suite_table[i].name) == 0 ||
            strcasecmp(name, suite_table[i].short_name) == 0)
            return suite_table[i].id;
    return 0;
}

const char *coaps_dtls_suite_name(uint16_t suite)
{
    const struct dtls_suite *s = dtls_suite_find(suite);
    return s ? s->name : NULL;
}

bool coaps_dtls_suite_available(uint16_t suite)
{
    const struct dtls_suite *s = dtls_suite_find(suite);
    return s != NULL && crypto_aead_available(s->aead);
}

const uint16_t *coaps_dtls_suites_all(size_t *n)
{
    if (n != NULL)
        *n = sizeof(default_order) / sizeof(default_order[0]);
    return default_order;
}

const char *coaps_dtls_crypto_backend(void)
{
    return crypto_backend_name();
}
