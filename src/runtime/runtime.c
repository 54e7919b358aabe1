/* runtime.c - the single loop of a bare-metal device (see runtime.h). */
#include "runtime/runtime.h"

#include <string.h>

#include "common/try.h"
#include "port/port.h"

/* Datagrams taken per turn before the timers run: the line delivers one
 * at a time, so this only bounds a turn when input piles up. */
#define RUNTIME_RX_PER_TURN 8

static uint32_t runtime_random(void *ctx)
{
    (void)ctx;
    uint8_t b[4] = {0};
    /* a dead entropy source leaves zeros; the CoAP core only needs
     * unpredictability for tokens and MIDs, and DTLS checks its own calls */
    (void)coaps_port_entropy(b, sizeof b);
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

coaps_status coaps_runtime_init(struct coaps_runtime *rt, void *coap_mem, size_t coap_mem_len,
                                coaps_coap_config *cfg)
{
    memset(rt, 0, sizeof *rt);
    ENSURE(cfg->max_message_size <= COAPS_RUNTIME_MESSAGE_MAX, COAPS_E_CONFIG);
    cfg->random = runtime_random;
    cfg->random_ctx = NULL;
    size_t need = coaps_coap_endpoint_size(cfg);
    ENSURE(need != 0, COAPS_E_CONFIG);
    ENSURE(need <= coap_mem_len, COAPS_E_NOSPACE);
    rt->stats.cost_min = UINT64_MAX;
    return coaps_coap_endpoint_init(coap_mem, coap_mem_len, cfg, &rt->coap);
}

coaps_status coaps_runtime_send(struct coaps_runtime *rt, const coaps_peer *to,
                                const uint8_t *data, size_t len)
{
    uint64_t t0 = coaps_port_cost();
    coaps_status st = coaps_port_send(to, data, len);
    rt->stats.io_cost += coaps_port_cost() - t0;
    if (st == COAPS_OK)
        rt->stats.datagrams_out++;
    else
        rt->stats.send_errors++;
    return st;
}

/* Every CoAP datagram waiting: plain ones to the port, coaps:// ones
 * through the secure transport, which seals them in place. */
static void runtime_flush(struct coaps_runtime *rt, uint64_t now_ms)
{
    coaps_peer to;
    size_t len;
    uint8_t *msg = rt->dgram + COAPS_RUNTIME_HEADROOM;
    while (coaps_coap_output(rt->coap, &to, msg, COAPS_RUNTIME_MESSAGE_MAX, &len, now_ms) ==
           COAPS_OK) {
        if (to.transport == COAPS_TRANSPORT_DTLS) {
            if (!rt->secure.tx || rt->secure.tx(rt->secure.ctx, &to, msg, len, now_ms) != COAPS_OK)
                rt->stats.send_errors++; /* e.g. the session ended meanwhile */
        } else {
            (void)coaps_runtime_send(rt, &to, msg, len);
        }
    }
}

static void runtime_account(struct coaps_runtime_stats *s, uint64_t cost)
{
    s->requests++;
    s->cost_last = cost;
    if (cost < s->cost_min)
        s->cost_min = cost;
    if (cost > s->cost_max)
        s->cost_max = cost;
}

/* One datagram through the transport and the core, and its replies out.
 * The cost figure is the work (records, parse, dispatch, handler, encode)
 * without the line: sending waits on the UART, which is timing, not work. */
static void runtime_receive(struct coaps_runtime *rt, const coaps_peer *from, uint8_t *data,
                            size_t len, uint64_t now_ms)
{
    rt->stats.datagrams_in++;
    uint64_t io0 = rt->stats.io_cost;
    uint64_t t0 = coaps_port_cost();
    if (from->transport == COAPS_TRANSPORT_DTLS) {
        if (rt->secure.rx)
            rt->secure.rx(rt->secure.ctx, from, data, len, now_ms);
    } else {
        (void)coaps_coap_input(rt->coap, from, data, len, now_ms);
    }
    runtime_flush(rt, now_ms);
    uint64_t spent = coaps_port_cost() - t0 - (rt->stats.io_cost - io0);
    runtime_account(&rt->stats, spent);
}

static uint64_t runtime_deadline(const struct coaps_runtime *rt)
{
    uint64_t next = coaps_coap_next_deadline(rt->coap);
    if (rt->secure.deadline) {
        uint64_t d = rt->secure.deadline(rt->secure.ctx);
        if (d < next)
            next = d;
    }
    return next;
}

uint64_t coaps_runtime_step(struct coaps_runtime *rt)
{
    coaps_peer from;
    uint8_t *data;
    size_t len;
    for (int i = 0; i < RUNTIME_RX_PER_TURN; i++) {
        if (coaps_port_recv(&from, &data, &len) != COAPS_OK)
            break;
        runtime_receive(rt, &from, data, len, coaps_port_now_ms());
    }
    uint64_t now = coaps_port_now_ms();
    if (rt->secure.due && rt->secure.deadline(rt->secure.ctx) <= now)
        rt->secure.due(rt->secure.ctx, now);
    if (coaps_coap_next_deadline(rt->coap) <= now)
        coaps_coap_tick(rt->coap, now);
    runtime_flush(rt, now);
    return runtime_deadline(rt);
}

_Noreturn void coaps_runtime_run(struct coaps_runtime *rt)
{
    for (;;) {
        uint64_t deadline = coaps_runtime_step(rt);
        coaps_port_wait(deadline);
    }
}
