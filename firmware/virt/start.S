/*
 * start.S - reset entry of the firmware on QEMU's virt board (-bios none:
 * the reset vector jumps to 0x80000000, the start of .text).
 * Sets gp and sp, paints the stack so its high-water mark can be measured
 * (virt_stack_used), copies .data from flash to RAM, zeroes .bss, installs
 * a trap vector that stops QEMU (no trap is expected: interrupts only wake
 * WFI, mstatus.MIE stays 0), then calls main.
 */
#include "stack_paint.h"
    .option arch, +zicsr
    .section .init, "ax"
    .globl _start
_start:
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    la sp, __stack_top

    la t0, __stack_bottom
    la t1, __stack_top
    li t2, STACK_PAINT
1:  bgeu t0, t1, 2f
    sw t2, 0(t0)
    addi t0, t0, 4
    j 1b
2:
    la t0, __data_load
    la t1, __data_start
    la t2, __data_end
3:  bgeu t1, t2, 4f
    lw t3, 0(t0)
    sw t3, 0(t1)
    addi t0, t0, 4
    addi t1, t1, 4
    j 3b
4:
    la t0, __bss_start
    la t1, __bss_end
5:  bgeu t0, t1, 6f
    sw zero, 0(t0)
    addi t0, t0, 4
    j 5b
6:
    la t0, trap_entry
    csrw mtvec, t0
    call main
    li a0, 1
    call virt_exit

    .balign 4
trap_entry:
    csrr a0, mcause
    csrr a1, mepc
    call virt_trap
