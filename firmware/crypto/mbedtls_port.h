/* mbedtls_port.h - the firmware's glue to Mbed TLS (see mbedtls_port.c). */
#ifndef COAPS_FW_MBEDTLS_PORT_H
#define COAPS_FW_MBEDTLS_PORT_H

#include <stdint.h>

/* Allocations Mbed TLS asked for and was refused (0: it never needed a
 * heap). */
uint32_t coaps_fw_heap_refused(void);

#endif /* COAPS_FW_MBEDTLS_PORT_H */
