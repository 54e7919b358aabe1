/*
 * psa/psa_common.c - start-up and status mapping for the PSA backend.
 */
#include "crypto/psa/psa_common.h"

#include <stdatomic.h>

#include "common/try.h"

/* Set once psa_crypto_init() has succeeded: Mbed TLS's own "already
 * initialised" check takes two mutexes, and this runs on every record. */
static atomic_bool psa_up;

coaps_status crypto_psa_ready(void)
{
    if (atomic_load_explicit(&psa_up, memory_order_acquire))
        return COAPS_OK;
    /* With MBEDTLS_THREADING_C, psa_crypto_init() is safe to race: the
     * first caller initialises, the others wait for it. */
    ENSURE(psa_crypto_init() == PSA_SUCCESS, COAPS_E_CRYPTO);
    atomic_store_explicit(&psa_up, true, memory_order_release);
    return COAPS_OK;
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
