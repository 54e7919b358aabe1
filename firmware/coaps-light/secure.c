/*
 * secure.c - coaps:// for coaps-light: DTLS 1.2 with a pre-shared key, the
 * reference device's DEMO credentials (as scripts/run-server): identity
 * hint "CoAP", key "esp32c3_key" for any identity. They are public; a real
 * device keeps its key in protected storage.
 */
#include "secure.h"

#include <string.h>

#include "common/try.h"
#include "config.h"
#include "port/port.h"

static const uint8_t demo_key[] = FW_PSK_KEY;
static const uint8_t demo_hint[] = FW_PSK_HINT;

/* RFC 7252 9.1.3.1 mandates TLS_PSK_WITH_AES_128_CCM_8; CCM (16-byte tag)
 * is the other suite the firmware's Mbed TLS carries. */
static const uint16_t suites[] = {COAPS_DTLS_PSK_AES_128_CCM_8, COAPS_DTLS_PSK_AES_128_CCM};

static coaps_status psk_lookup(void *user, const uint8_t *identity, size_t identity_len,
                               uint8_t *key, size_t key_cap, size_t *key_len)
{
    (void)user, (void)identity, (void)identity_len;
    size_t n = sizeof demo_key - 1; /* without the string's NUL */
    ENSURE(n <= key_cap, COAPS_E_NOSPACE);
    memcpy(key, demo_key, n);
    *key_len = n;
    return COAPS_OK;
}

coaps_status secure_start(struct coaps_runtime_dtls *d, struct coaps_runtime *rt)
{
    coaps_dtls_config cfg; /* copied by d; what it points to is static */
    memset(&cfg, 0, sizeof cfg);
    cfg.role = COAPS_DTLS_SERVER;
    cfg.suites = suites;
    cfg.suites_len = sizeof suites / sizeof suites[0];
    cfg.psk_lookup = psk_lookup;
    cfg.psk_hint = demo_hint;
    cfg.psk_hint_len = sizeof demo_hint - 1;
#if COAPS_WITH_PKI
    /* the ECDHE-ECDSA build: the certificate in flash as well */
    TRY(certificate_config(&cfg));
#endif
    return coaps_runtime_dtls_init(d, rt, &cfg, coaps_port_now_ms());
}
