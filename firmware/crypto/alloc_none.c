/*
 * alloc_none.c - the allocator of the PSK firmware's Mbed TLS
 * (MBEDTLS_PLATFORM_CALLOC_MACRO), which refuses: there is no heap after
 * start. Refusals are counted, so /stats shows whether the PSK path ever
 * asked (it does not: static key slots, AEAD and MAC contexts on the
 * caller's side).
 */
#include "mbedtls_port.h"

static uint32_t refused_allocations;

void *coaps_fw_calloc(size_t n, size_t size)
{
    (void)n, (void)size;
    refused_allocations++;
    return NULL;
}

void coaps_fw_free(void *p)
{
    (void)p; /* nothing was ever handed out */
}

uint32_t coaps_fw_heap_refused(void)
{
    return refused_allocations;
}

size_t coaps_fw_heap_used(void)
{
    return 0;
}

size_t coaps_fw_heap_size(void)
{
    return 0;
}
