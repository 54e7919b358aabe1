/*
 * coaps-light - the reference smart light as bare-metal firmware for QEMU's
 * RISC-V virt board. The same light as coaps-server (apps/coaps-server/
 * light.c, compiled in unchanged) on the same CoAP core, driven by the
 * single-loop runtime (src/runtime/) over the virt port (firmware/virt/):
 * datagrams arrive framed on the UART from the host bridge. With the
 * firmware's Mbed TLS (COAPS_FW_DTLS) it serves coaps:// with PSK too
 * (secure.c), on the same DTLS engine as coaps-server.
 */
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "light/light.h"
#include "link/frame.h"
#include "runtime/runtime.h"
#include "stats.h"
#if COAPS_FW_DTLS
#include "secure.h"
#endif
#include "virt.h"

_Static_assert(FW_MESSAGE_MAX <= COAPS_RUNTIME_MESSAGE_MAX, "runtime buffer holds a message");
/* The UART decoder keeps every datagram the device can use. */
_Static_assert(LINK_RX_PAYLOAD_MAX >= COAPS_RUNTIME_MESSAGE_MAX, "a CoAP datagram fits a frame");
#if COAPS_FW_DTLS
_Static_assert(LINK_RX_PAYLOAD_MAX >= COAPS_RUNTIME_DTLS_DGRAM_MAX, "a DTLS datagram fits a frame");
#endif

/* Decimal digits of a size_t on rv32 (4294967295). */
#define FW_SIZE_DIGITS_MAX 10

/* The CoAP endpoint's tables (coaps_coap_endpoint_init lays them out). */
static uint8_t coap_mem[FW_COAP_MEM] __attribute__((aligned(8)));
static struct coaps_runtime runtime;
static struct light light;
#if COAPS_FW_DTLS
static struct coaps_runtime_dtls secure;
#define FW_SECURE (&secure)
#else
#define FW_SECURE NULL
#endif

static void device_config(coaps_coap_config *cfg)
{
    coaps_coap_config_default(cfg);
    cfg->max_message_size = FW_MESSAGE_MAX;
    cfg->block_size = FW_BLOCK_SIZE;
    cfg->max_body_size = FW_BODY_MAX;
    cfg->dedup_peers = FW_DEDUP_PEERS;
    cfg->dedup_per_peer = FW_DEDUP_PER_PEER;
    cfg->outq_entries = FW_OUTQ_ENTRIES;
    cfg->max_exchanges = FW_EXCHANGES;
    cfg->max_observers = FW_OBSERVERS;
    cfg->max_resources = FW_RESOURCES;
    cfg->body_slots = FW_BODY_SLOTS;
}

_Noreturn static void fatal(const char *why)
{
    virt_log(why);
    virt_exit(1);
}

/* Say how many bytes the endpoint needs, so FW_COAP_MEM can be set. */
_Noreturn static void fatal_size(const coaps_coap_config *cfg)
{
    static const char head[] = "coaps-light: FW_COAP_MEM too small, the CoAP endpoint needs ";
    char line[sizeof head + FW_SIZE_DIGITS_MAX];
    char digits[FW_SIZE_DIGITS_MAX + 1];
    size_t need = coaps_coap_endpoint_size(cfg), i = sizeof digits;
    digits[--i] = '\0';
    do {
        digits[--i] = (char)('0' + need % 10);
        need /= 10;
    } while (need != 0 && i > 0);
    memcpy(line, head, sizeof head - 1);
    memcpy(line + sizeof head - 1, digits + i, sizeof digits - i);
    fatal(line);
}

int main(void)
{
    virt_init();
    coaps_coap_config cfg;
    device_config(&cfg);
    if (coaps_runtime_init(&runtime, coap_mem, sizeof coap_mem, &cfg) != COAPS_OK)
        fatal_size(&cfg);
    if (light_register(&light, runtime.coap) != COAPS_OK ||
        stats_register(&runtime, FW_SECURE) != COAPS_OK)
        fatal("coaps-light: cannot register resources");
#if COAPS_FW_DTLS
    if (secure_start(&secure, &runtime) != COAPS_OK)
        fatal("coaps-light: cannot start coaps://");
    static const uint8_t channels[] = {LINK_CH_COAP, LINK_CH_COAPS};
#else
    static const uint8_t channels[] = {LINK_CH_COAP};
#endif
    virt_log("coaps-light: up");
    virt_ready(channels, sizeof channels);
    coaps_runtime_run(&runtime);
}
