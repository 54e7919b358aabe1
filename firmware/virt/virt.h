/*
 * virt.h - the port of coaps to QEMU's RISC-V `virt` board (rv32imac,
 * -bios none): the hardware it uses and what the firmware may ask of it
 * beyond port/port.h. Addresses are those of QEMU's hw/riscv/virt.c.
 */
#ifndef COAPS_FW_VIRT_H
#define COAPS_FW_VIRT_H

#include <stddef.h>
#include <stdint.h>

#include "link/frame.h"

#define VIRT_UART0_BASE 0x10000000u  /* NS16550A, byte registers */
#define VIRT_UART0_IRQ 10u           /* its PLIC source */
#define VIRT_PLIC_BASE 0x0c000000u
#define VIRT_CLINT_MTIMECMP 0x02004000u /* hart 0 */
#define VIRT_CLINT_MTIME 0x0200bff8u
#define VIRT_TEST_BASE 0x00100000u   /* sifive_test: the "finisher" */
/* CLINT timebase of virt: 10 MHz (RISCV_ACLINT_DEFAULT_TIMEBASE_FREQ). */
#define VIRT_MTIME_PER_MS 10000u

/* Bring up the UART, the PLIC route of its interrupt and the timer. */
void virt_init(void);

/* One line of text to the bridge (a LINK_T_LOG frame), which prints it. */
void virt_log(const char *line);

/* Tell the bridge which channels (enum link_channel) are served: it then
 * prints its "listening on" lines (a LINK_T_READY frame). */
void virt_ready(const uint8_t *channels, size_t n);

/* Stop QEMU through the test finisher: 0 = pass, else exit status. */
_Noreturn void virt_exit(uint32_t status);

/* What the UART decoder dropped, by reason. */
const struct link_stats *virt_uart_stats(void);

/* Bytes of the stack ever used (painted at start, see start.S) and its
 * size. */
size_t virt_stack_used(void);
size_t virt_stack_size(void);

#endif /* COAPS_FW_VIRT_H */
