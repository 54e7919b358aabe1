/*
 * port.c - port/port.h on QEMU's virt board: the 16550 UART carries framed
 * datagrams (link/frame.h) to the host bridge, the CLINT's mtime is the
 * clock, the Zkr `seed` CSR the entropy, minstret the cost counter.
 *
 * Interrupts only wake the CPU: the UART's receive interrupt (through the
 * PLIC) and the CLINT timer are enabled in mie, mstatus.MIE stays 0, so WFI
 * returns when either is pending (RISC-V privileged spec 3.3.3) and no
 * handler runs. The loop then polls the UART.
 */
#include <stdbool.h>
#include <string.h>

#include "common/try.h"
#include "port/port.h"
#include "stack_paint.h"
#include "virt.h"

/* 16550 registers (byte offsets) and bits. */
#define UART_RBR 0u /* read: receive buffer */
#define UART_THR 0u /* write: transmit holding */
#define UART_IER 1u
#define UART_FCR 2u
#define UART_LCR 3u
#define UART_MCR 4u
#define UART_LSR 5u
#define UART_IER_RDA 0x01u  /* interrupt on received data */
#define UART_FCR_ENABLE 0x07u /* enable and clear both FIFOs */
#define UART_LCR_8N1 0x03u
#define UART_MCR_OUT2 0x08u /* routes the interrupt on a PC; harmless here */
#define UART_LSR_DR 0x01u   /* a byte is waiting */
#define UART_LSR_THRE 0x20u /* room to transmit */

/* PLIC (SiFive layout): per-source priority, per-context enable bits,
 * threshold and claim/complete. Context 0 is hart 0 in M-mode. */
#define PLIC_PRIORITY(irq) (VIRT_PLIC_BASE + 4u * (irq))
#define PLIC_ENABLE_CTX0 (VIRT_PLIC_BASE + 0x2000u)
#define PLIC_THRESHOLD_CTX0 (VIRT_PLIC_BASE + 0x200000u)
#define PLIC_CLAIM_CTX0 (VIRT_PLIC_BASE + 0x200004u)

/* mie bits: machine external and timer interrupt enables. */
#define MIE_MEIE (1u << 11)
#define MIE_MTIE (1u << 7)

/* seed CSR (Zkr, CSR 0x015): OPST in bits 31:30, 16 bits of entropy when
 * OPST is ES16. */
#define SEED_OPST_SHIFT 30
#define SEED_OPST_ES16 2u
#define SEED_OPST_DEAD 3u
/* Reads of seed before giving up: WAIT is transient (QEMU never returns
 * it), so a source silent this long is dead. */
#define SEED_MAX_POLLS 100000u

/* Longest sleep without a deadline (see coaps_port_wait). */
#define VIRT_MAX_SLEEP_MS 60000u

/* sifive_test finisher: FAIL | status << 16, or PASS. */
#define FINISHER_PASS 0x5555u
#define FINISHER_FAIL 0x3333u

/* Bytes of a peer as the cores see it: family, address, port. */
#define VIRT_PEER_LEN (1u + LINK_ADDR_MAX + 2u)
_Static_assert(VIRT_PEER_LEN <= COAPS_PEER_ADDR_MAX, "a link address fits a coaps_peer");

extern uint32_t __stack_bottom[], __stack_top[];

static struct link_rx uart_rx; /* the frame being received */

static inline void mmio_w8(uint32_t addr, uint8_t v)
{
    *(volatile uint8_t *)(uintptr_t)addr = v;
}
static inline uint8_t mmio_r8(uint32_t addr)
{
    return *(volatile uint8_t *)(uintptr_t)addr;
}
static inline void mmio_w32(uint32_t addr, uint32_t v)
{
    *(volatile uint32_t *)(uintptr_t)addr = v;
}
static inline uint32_t mmio_r32(uint32_t addr)
{
    return *(volatile uint32_t *)(uintptr_t)addr;
}

/* CSR access: this binutils needs Zicsr named, and the multilib is
 * rv32imac, so it is enabled around each instruction only. */
#define CSR_READ(csr, out)                                                     \
    __asm__ volatile(".option push\n.option arch, +zicsr\ncsrr %0, " #csr      \
                     "\n.option pop" : "=r"(out))
#define CSR_SET(csr, bits)                                                     \
    __asm__ volatile(".option push\n.option arch, +zicsr\ncsrs " #csr ", %0"   \
                     "\n.option pop" ::"r"(bits))

static uint32_t seed_read(void)
{
    uint32_t v;
    /* seed must be accessed with a read-write instruction (Zkr 4.1) */
    __asm__ volatile(".option push\n.option arch, +zicsr\ncsrrw %0, 0x015, x0\n.option pop"
                     : "=r"(v));
    return v;
}

static void uart_init(void)
{
    mmio_w8(VIRT_UART0_BASE + UART_LCR, UART_LCR_8N1);
    mmio_w8(VIRT_UART0_BASE + UART_FCR, UART_FCR_ENABLE);
    mmio_w8(VIRT_UART0_BASE + UART_MCR, UART_MCR_OUT2);
    mmio_w8(VIRT_UART0_BASE + UART_IER, UART_IER_RDA);
}

static void plic_init(void)
{
    mmio_w32(PLIC_PRIORITY(VIRT_UART0_IRQ), 1);
    mmio_w32(PLIC_ENABLE_CTX0, 1u << VIRT_UART0_IRQ);
    mmio_w32(PLIC_THRESHOLD_CTX0, 0);
}

static void timer_set(uint64_t ticks)
{
    /* RV32: raise the high word first so no intermediate value fires */
    mmio_w32(VIRT_CLINT_MTIMECMP + 4u, UINT32_MAX);
    mmio_w32(VIRT_CLINT_MTIMECMP, (uint32_t)ticks);
    mmio_w32(VIRT_CLINT_MTIMECMP + 4u, (uint32_t)(ticks >> 32));
}

void virt_init(void)
{
    link_rx_init(&uart_rx);
    uart_init();
    plic_init();
    timer_set(UINT64_MAX);
    CSR_SET(mie, MIE_MEIE | MIE_MTIE);
}

static uint64_t mtime_read(void)
{
    uint32_t hi, lo;
    do { /* RV32 reads the 64-bit counter in halves: retry on a carry */
        hi = mmio_r32(VIRT_CLINT_MTIME + 4u);
        lo = mmio_r32(VIRT_CLINT_MTIME);
    } while (hi != mmio_r32(VIRT_CLINT_MTIME + 4u));
    return (uint64_t)hi << 32 | lo;
}

uint64_t coaps_port_now_ms(void)
{
    return mtime_read() / VIRT_MTIME_PER_MS;
}

uint64_t coaps_port_cost(void)
{
    uint32_t hi, hi2, lo;
    do {
        CSR_READ(minstreth, hi);
        CSR_READ(minstret, lo);
        CSR_READ(minstreth, hi2);
    } while (hi != hi2);
    return (uint64_t)hi << 32 | lo;
}

/* QEMU fills seed from the host's random source (qemu_guest_getrandom),
 * so its 16-bit samples are used as they come; a real part's raw samples
 * would go through a conditioner (Zkr 4.2) first. */
coaps_status coaps_port_entropy(uint8_t *buf, size_t len)
{
    size_t polls = 0;
    while (len > 0) {
        uint32_t v = seed_read();
        uint32_t opst = v >> SEED_OPST_SHIFT;
        ENSURE(opst != SEED_OPST_DEAD && ++polls < SEED_MAX_POLLS, COAPS_E_CRYPTO);
        if (opst != SEED_OPST_ES16)
            continue;
        *buf++ = (uint8_t)v;
        len--;
        if (len > 0) {
            *buf++ = (uint8_t)(v >> 8);
            len--;
        }
    }
    return COAPS_OK;
}

static void uart_putc(void *ctx, uint8_t byte)
{
    (void)ctx;
    while (!(mmio_r8(VIRT_UART0_BASE + UART_LSR) & UART_LSR_THRE))
        ;
    mmio_w8(VIRT_UART0_BASE + UART_THR, byte);
}

static void peer_to_hdr(const coaps_peer *p, struct link_hdr *h)
{
    h->type = LINK_T_DATAGRAM;
    h->channel = p->transport == COAPS_TRANSPORT_DTLS ? LINK_CH_COAPS : LINK_CH_COAP;
    h->family = p->addr[0];
    memcpy(h->addr, p->addr + 1, LINK_ADDR_MAX);
    h->port = (uint16_t)(p->addr[1 + LINK_ADDR_MAX] << 8 | p->addr[2 + LINK_ADDR_MAX]);
}

static void hdr_to_peer(const struct link_hdr *h, coaps_peer *p)
{
    memset(p, 0, sizeof *p); /* coaps_peer_equal compares bytes */
    p->transport = h->channel == LINK_CH_COAPS ? COAPS_TRANSPORT_DTLS : COAPS_TRANSPORT_UDP;
    p->addr_len = VIRT_PEER_LEN;
    p->addr[0] = h->family;
    memcpy(p->addr + 1, h->addr, LINK_ADDR_MAX);
    p->addr[1 + LINK_ADDR_MAX] = (uint8_t)(h->port >> 8);
    p->addr[2 + LINK_ADDR_MAX] = (uint8_t)h->port;
}

coaps_status coaps_port_send(const coaps_peer *to, const uint8_t *data, size_t len)
{
    ENSURE(to->addr_len == VIRT_PEER_LEN, COAPS_E_INVALID);
    struct link_hdr h;
    peer_to_hdr(to, &h);
    return link_encode(&h, data, len, uart_putc, NULL);
}

coaps_status coaps_port_recv(coaps_peer *from, uint8_t **data, size_t *len)
{
    while (mmio_r8(VIRT_UART0_BASE + UART_LSR) & UART_LSR_DR) {
        struct link_frame f;
        if (!link_rx_byte(&uart_rx, mmio_r8(VIRT_UART0_BASE + UART_RBR), &f))
            continue;
        if (f.hdr.type != LINK_T_DATAGRAM) {
            uart_rx.stats.malformed++; /* only datagrams go this way */
            continue;
        }
        hdr_to_peer(&f.hdr, from);
        *data = f.payload;
        *len = f.len;
        return COAPS_OK;
    }
    return COAPS_E_AGAIN;
}

void coaps_port_wait(uint64_t deadline_ms)
{
    /* Never arm the compare register far out: QEMU 7.2 converts it to
     * nanoseconds and overflows, and in -icount mode the CPU then spins
     * instead of sleeping. A wake-up a minute out costs nothing. */
    uint64_t cap = coaps_port_now_ms() + VIRT_MAX_SLEEP_MS;
    timer_set((deadline_ms < cap ? deadline_ms : cap) * VIRT_MTIME_PER_MS);
    if (!(mmio_r8(VIRT_UART0_BASE + UART_LSR) & UART_LSR_DR))
        __asm__ volatile("wfi");
    /* acknowledge the UART's interrupt at the PLIC so it can fire again;
     * the byte itself is read by coaps_port_recv */
    uint32_t irq = mmio_r32(PLIC_CLAIM_CTX0);
    if (irq != 0)
        mmio_w32(PLIC_CLAIM_CTX0, irq);
}

static void log_frame(uint8_t type, const uint8_t *payload, size_t len)
{
    struct link_hdr h;
    memset(&h, 0, sizeof h);
    h.type = type;
    (void)link_encode(&h, payload, len, uart_putc, NULL);
}

void virt_log(const char *line)
{
    size_t n = strlen(line);
    log_frame(LINK_T_LOG, (const uint8_t *)line, n < LINK_PAYLOAD_MAX ? n : LINK_PAYLOAD_MAX);
}

void virt_ready(const uint8_t *channels, size_t n)
{
    log_frame(LINK_T_READY, channels, n);
}

const struct link_stats *virt_uart_stats(void)
{
    return &uart_rx.stats;
}

size_t virt_stack_used(void)
{
    const uint32_t *w = __stack_bottom;
    while (w < __stack_top && *w == (uint32_t)STACK_PAINT)
        w++;
    return (size_t)((const uint8_t *)__stack_top - (const uint8_t *)w);
}

size_t virt_stack_size(void)
{
    return (size_t)((const uint8_t *)__stack_top - (const uint8_t *)__stack_bottom);
}

_Noreturn void virt_exit(uint32_t status)
{
    mmio_w32(VIRT_TEST_BASE, status == 0 ? FINISHER_PASS : FINISHER_FAIL | status << 16);
    for (;;)
        __asm__ volatile("wfi");
}

/* Called by start.S's trap vector: no trap is expected, so any is a bug;
 * say which and stop QEMU with a failure status instead of hanging. */
_Noreturn void virt_trap(uint32_t mcause, uint32_t mepc);
_Noreturn void virt_trap(uint32_t mcause, uint32_t mepc)
{
    (void)mepc;
    virt_log("trap: stopping");
    virt_exit(0x100u | (mcause & 0xFFu));
}
