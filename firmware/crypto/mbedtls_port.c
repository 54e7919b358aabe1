/*
 * mbedtls_port.c - what the firmware's Mbed TLS needs from the device:
 * random bytes (MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG: PSA draws from the port's
 * entropy source, the Zkr seed CSR on QEMU virt, instead of its own
 * DRBG). Its allocator is the build's: alloc_none.c (PSK: no heap, every
 * allocation refused) or alloc_heap.c (ECDHE-ECDSA: a fixed heap).
 */
#include <psa/crypto.h>

#include "port/port.h"
#include "mbedtls_port.h"

psa_status_t mbedtls_psa_external_get_random(mbedtls_psa_external_random_context_t *context,
                                             uint8_t *output, size_t output_size,
                                             size_t *output_length)
{
    (void)context;
    if (coaps_port_entropy(output, output_size) != COAPS_OK)
        return PSA_ERROR_INSUFFICIENT_ENTROPY;
    *output_length = output_size;
    return PSA_SUCCESS;
}
