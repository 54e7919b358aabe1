/*
 * psa/random.c - PSA Crypto backend of crypto.h: randomness, constant-time
 * comparison and wiping.
 *
 * Memory: nothing of ours. PSA's random generator (Mbed TLS: CTR_DRBG seeded
 * from the system's entropy source) is process-wide state inside Mbed TLS,
 * set up by psa_crypto_init (crypto_psa_ready); with MBEDTLS_THREADING_C
 * every thread may draw from it.
 */
#include <mbedtls/build_info.h>
#include <mbedtls/constant_time.h>
#include <mbedtls/platform_util.h>

#include "common/try.h"
#include "crypto/psa/psa_common.h"

/* After fork() parent and child hold the same generator state; without a
 * reseed they would draw the same bytes: the same randoms, ephemeral keys
 * and ECDSA nonces (two signatures with one nonce give the key away).
 * Since 3.6.6 Mbed TLS notices a new process id on every draw and reseeds
 * the child itself (CVE-2026-25835), for every PSA operation that uses
 * randomness, so nothing is needed here; older releases did not. */
#if MBEDTLS_VERSION_NUMBER < 0x03060600
#error "Mbed TLS before 3.6.6 does not reseed PSA's random generator after fork()"
#endif

coaps_status crypto_random(void *out, size_t len)
{
    ENSURE(out != NULL || len == 0, COAPS_E_INVALID);
    if (len == 0)
        return COAPS_OK;
    TRY(crypto_psa_ready());
    /* Any length: PSA splits large requests into DRBG-sized ones. */
    return crypto_psa_status(psa_generate_random(out, len));
}

bool crypto_ct_equal(const void *a, const void *b, size_t len)
{
    if (len == 0)
        return true;
    return mbedtls_ct_memcmp(a, b, len) == 0;
}

void crypto_wipe(void *p, size_t len)
{
    if (p != NULL && len > 0)
        mbedtls_platform_zeroize(p, len);
}
