/* secure.h - coaps:// of coaps-light: PSK (secure.c), and in the
 * ECDHE-ECDSA build a certificate too (certificate.c). */
#ifndef COAPS_FW_SECURE_H
#define COAPS_FW_SECURE_H

#include "runtime/runtime_dtls.h"

/* Serve coaps:// on rt with the reference device's PSK credentials, and,
 * in the ECDHE-ECDSA build (COAPS_WITH_PKI), its certificate. */
coaps_status secure_start(struct coaps_runtime_dtls *d, struct coaps_runtime *rt);

/* The ECDHE-ECDSA build (certificate.c): load the light's certificate
 * chain, key and the CA of its clients from flash into cfg (cfg->pki,
 * for the life of the firmware), and put the ECDHE_ECDSA suites before
 * the PSK ones. On failure the reason is logged. */
coaps_status certificate_config(coaps_dtls_config *cfg);

#endif /* COAPS_FW_SECURE_H */
