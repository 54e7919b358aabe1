/*
 * psa/psa_common.c - start-up and status mapping for the PSA backend.
 */
#include "crypto/psa/psa_common.h"

#include "common/try.h"

coaps_status crypto_psa_ready(void)
{
    /* psa_crypto_init() returns at once once initialised; with
     * MBEDTLS_THREADING_C it is safe to call from several threads. */
    return psa_crypto_init() == PSA_SUCCESS ? COAPS_OK : COAPS_E_CRYPTO;
}

coaps_status crypto_psa_status(psa_status_t s)
{
    switch (s) {
    case PSA_SUCCESS: return COAPS_OK;
    case PSA_ERROR_INSUFFICIENT_MEMORY: return COAPS_E_NOMEM;
    case PSA_ERROR_INVALID_ARGUMENT: return COAPS_E_INVALID;
    case PSA_ERROR_NOT_SUPPORTED: return COAPS_E_UNSUPPORTED;
    case PSA_ERROR_INVALID_SIGNATURE: return COAPS_E_VERIFY;
    default: return COAPS_E_CRYPTO;
    }
}

const char *crypto_backend_name(void)
{
    return "psa";
}
