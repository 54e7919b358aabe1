/*
 * psa/psa_common.h - what the files of the PSA backend share: bringing the
 * PSA Crypto implementation up once, and turning psa_status_t into our
 * status. Only src/crypto/psa/ includes it.
 */
#ifndef COAPS_CRYPTO_PSA_COMMON_H
#define COAPS_CRYPTO_PSA_COMMON_H

#include <psa/crypto.h>

#include "crypto/crypto_backend.h"

/* psa_crypto_init() once (it is idempotent, and cheap after the first call:
 * every entry point of the backend calls this first). COAPS_E_CRYPTO when
 * the implementation cannot start (no entropy source). */
coaps_status crypto_psa_ready(void);

/* A PSA failure as our status: PSA_ERROR_INSUFFICIENT_MEMORY -> NOMEM,
 * INVALID_ARGUMENT / NOT_SUPPORTED -> INVALID / UNSUPPORTED,
 * INVALID_SIGNATURE -> AUTH (AEAD open) or VERIFY per caller, anything else
 * -> CRYPTO. PSA_SUCCESS -> COAPS_OK. */
coaps_status crypto_psa_status(psa_status_t s);

#endif /* COAPS_CRYPTO_PSA_COMMON_H */
