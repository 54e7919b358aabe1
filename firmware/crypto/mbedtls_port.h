/* mbedtls_port.h - the firmware's glue to Mbed TLS (see mbedtls_port.c) and
 * its allocator (alloc_none.c or alloc_heap.c, one per build). */
#ifndef COAPS_FW_MBEDTLS_PORT_H
#define COAPS_FW_MBEDTLS_PORT_H

#include <stddef.h>
#include <stdint.h>

/* Mbed TLS's calloc and free (MBEDTLS_PLATFORM_CALLOC_MACRO, _FREE_MACRO,
 * declared again by firmware/mbedtls/coaps_mbedtls_config.h). */
void *coaps_fw_calloc(size_t n, size_t size);
void coaps_fw_free(void *p);

/* Allocations Mbed TLS asked for and was refused (0: the PSK build never
 * needed a heap; the ECDHE-ECDSA build's never ran out). */
uint32_t coaps_fw_heap_refused(void);
/* Bytes of the heap ever in use (how far it grew) and its size; 0 and 0
 * without a heap. */
size_t coaps_fw_heap_used(void);
size_t coaps_fw_heap_size(void);

#endif /* COAPS_FW_MBEDTLS_PORT_H */
