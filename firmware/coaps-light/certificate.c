/*
 * certificate.c - the ECDHE-ECDSA build of coaps-light (FW_PKI): the light
 * proves itself with a certificate and asks its clients for theirs
 * (RFC 7252 9.1.3.3, TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 on secp256r1).
 * Chain, key and the CA it trusts are PEM in flash (credentials.c, made
 * by firmware/CMakeLists.txt from the project's test certificates:
 * tests/crypto/certs, whose keys are public); they are parsed once at
 * start, onto the build's heap. PSK keeps working beside them (secure.c).
 */
#include <string.h>

#include "secure.h"
#include "virt.h"

/* credentials.c */
extern const uint8_t fw_cert_pem[], fw_key_pem[], fw_trust_pem[];
extern const size_t fw_cert_pem_len, fw_key_pem_len, fw_trust_pem_len;

/* Ours first, by preference: the certificate suites (CCM_8 is CoAP's
 * mandatory one), then the PSK ones; the firmware's Mbed TLS has AES-CCM
 * only. A client picks none it does not offer. */
static const uint16_t suites[] = {
    COAPS_DTLS_ECDHE_ECDSA_AES_128_CCM_8, COAPS_DTLS_ECDHE_ECDSA_AES_128_CCM,
    COAPS_DTLS_PSK_AES_128_CCM_8, COAPS_DTLS_PSK_AES_128_CCM,
};
/* The one curve of this Mbed TLS (RFC 8422 5.1.1). */
static const uint16_t groups[] = {COAPS_DTLS_GROUP_SECP256R1};

/* Bytes of the one-line reason a load failure is logged with. */
#define CERT_ERR_MAX 160

coaps_status certificate_config(coaps_dtls_config *cfg)
{
    static const char head[] = "coaps-light: certificate: ";
    char line[sizeof head - 1 + CERT_ERR_MAX];
    memcpy(line, head, sizeof head - 1);
    /* a client must show a certificate from our CA (RFC 5246 7.4.4) */
    const coaps_dtls_pki_pem pem = {
        .cert = fw_cert_pem, .cert_len = fw_cert_pem_len,
        .key = fw_key_pem, .key_len = fw_key_pem_len,
        .trust = fw_trust_pem, .trust_len = fw_trust_pem_len,
        .require_client_cert = true,
    };
    coaps_dtls_pki *pki = NULL; /* kept for the life of the firmware */
    coaps_status st = coaps_dtls_pki_new_pem(&pki, &pem, line + sizeof head - 1, CERT_ERR_MAX);
    if (st != COAPS_OK) {
        virt_log(line);
        return st;
    }
    cfg->pki = pki;
    cfg->suites = suites;
    cfg->suites_len = sizeof suites / sizeof suites[0];
    cfg->groups = groups;
    cfg->groups_len = sizeof groups / sizeof groups[0];
    return COAPS_OK;
}
