/*
 * alloc_heap.c - the allocator of the ECDHE-ECDSA firmware: picolibc's
 * malloc on the fixed heap virt.ld reserves (HEAP_SIZE, FW_HEAP_SIZE in
 * firmware/CMakeLists.txt). Mbed TLS allocates the numbers of every ECDH
 * and ECDSA operation and the certificates it parses while it checks a
 * client's chain; our PSA backend keeps what it loads once at start (the
 * light's chain and the trust store) there too, with malloc. The heap
 * only grows (picolibc's sbrk never gives memory back), so how far it grew
 * is its peak. A request it cannot meet fails that operation; Mbed TLS's
 * are counted here.
 */
#define _DEFAULT_SOURCE /* sbrk, a BSD interface */
#include <stdlib.h>
#include <unistd.h>

#include "mbedtls_port.h"

extern char __heap_start[], __heap_end[];

static uint32_t failed_allocations;

void *coaps_fw_calloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (p == NULL && n != 0 && size != 0)
        failed_allocations++;
    return p;
}

void coaps_fw_free(void *p)
{
    free(p);
}

uint32_t coaps_fw_heap_refused(void)
{
    return failed_allocations;
}

size_t coaps_fw_heap_used(void)
{
    return (size_t)((char *)sbrk(0) - __heap_start);
}

size_t coaps_fw_heap_size(void)
{
    return (size_t)(__heap_end - __heap_start);
}
