/*
 * fuzz_dtls_server.c - the whole server side of the DTLS engine (stateless
 * front door + one connection) fed arbitrary datagram sequences with a fake
 * clock. Nothing may crash, leak, hang or read out of bounds.
 *
 * Input: byte 0 = flags (bit 0: hand datagrams straight to a connection,
 * as if the front door had accepted the cookie, so the fuzzer reaches the
 * handshake table without forging an HMAC; bit 1: first run a complete
 * handshake with our own client in memory, so the fuzzed datagrams hit an
 * established session: records, alerts, replays, renegotiation); then
 * records of
 *   u16 length (big-endian), u8 clock step (x 100 ms), datagram bytes.
 * Timers run between datagrams; every output is drained.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coaps/dtls.h"
#include "fuzz_rng.h"

#define FUZZ_DGRAM_MAX 2048 /* larger inputs are cut: datagrams are small */

static coaps_status fuzz_lookup(void *user, const uint8_t *id, size_t id_len, uint8_t *key,
                                size_t cap, size_t *key_len)
{
    (void)user;
    if (id_len != 7 || memcmp(id, "client1", 7) != 0 || cap < 16)
        return COAPS_E_PSK_IDENTITY;
    memcpy(key, "secretPSK-123456", 16);
    *key_len = 16;
    return COAPS_OK;
}

static void drain(coaps_dtls_conn *c, uint64_t now)
{
    uint8_t out[FUZZ_DGRAM_MAX];
    size_t len;
    for (int i = 0; i < 64 && coaps_dtls_output(c, out, sizeof(out), &len, now) == COAPS_OK; i++) {
    }
    const uint8_t *d;
    size_t dl;
    while (coaps_dtls_read(c, &d, &dl) == COAPS_OK) {
    }
}

/* Pump datagrams between a real client and the server until both are
 * established (bounded: a handshake is 4 flights). */
static bool establish(coaps_dtls_server *front, const coaps_dtls_config *scfg,
                      coaps_dtls_conn *sv, coaps_dtls_hs *shs, const coaps_peer *peer,
                      struct fuzz_rng *rng, uint64_t now)
{
    static const uint8_t psk[16] = "secretPSK-123456";
    coaps_dtls_config ccfg = {0};
    ccfg.role = COAPS_DTLS_CLIENT;
    ccfg.psk_identity = (const uint8_t *)"client1";
    ccfg.psk_identity_len = 7;
    ccfg.psk_key = psk;
    ccfg.psk_key_len = sizeof(psk);
    ccfg.random = fuzz_random;
    ccfg.random_user = rng;
    coaps_dtls_conn cl;
    coaps_dtls_hs *chs = malloc(sizeof(*chs));
    bool up = false;
    if (!chs || coaps_dtls_conn_init(&cl, &ccfg, chs, peer, now) != COAPS_OK)
        abort();
    uint8_t buf[FUZZ_DGRAM_MAX], out[512];
    size_t len, out_len;
    for (int round = 0; round < 16; round++) {
        while (coaps_dtls_output(&cl, buf, sizeof(buf), &len, now) == COAPS_OK) {
            if (up) {
                (void)coaps_dtls_input(sv, buf, len, now);
                continue;
            }
            enum coaps_dtls_accept v;
            if (coaps_dtls_server_accept(front, peer, buf, len, now, out, sizeof(out), &out_len,
                                         &v) != COAPS_OK)
                continue;
            if (v == COAPS_DTLS_ACCEPT_SEND)
                (void)coaps_dtls_input(&cl, out, out_len, now);
            if (v == COAPS_DTLS_ACCEPT_NEW) {
                if (coaps_dtls_conn_init(sv, scfg, shs, peer, now) != COAPS_OK)
                    abort();
                up = true;
                (void)coaps_dtls_input(sv, buf, len, now);
            }
        }
        while (up && coaps_dtls_output(sv, buf, sizeof(buf), &len, now) == COAPS_OK)
            (void)coaps_dtls_input(&cl, buf, len, now);
    }
    /* an established handshake between our own ends must work */
    if (!up || coaps_dtls_state(sv) != COAPS_DTLS_ESTABLISHED ||
        coaps_dtls_state(&cl) != COAPS_DTLS_ESTABLISHED)
        abort();
    coaps_dtls_conn_clear(&cl);
    free(chs);
    return up;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const uint16_t suites[] = {COAPS_DTLS_PSK_AES_128_CCM_8, COAPS_DTLS_PSK_AES_128_GCM_SHA256,
                                      COAPS_DTLS_PSK_CHACHA20_POLY1305_SHA256};
    struct fuzz_rng rng = {0x1234567890abcdefull};
    coaps_dtls_config cfg = {0};
    cfg.role = COAPS_DTLS_SERVER;
    cfg.psk_lookup = fuzz_lookup;
    cfg.psk_hint = (const uint8_t *)"hint";
    cfg.psk_hint_len = 4;
    cfg.random = fuzz_random;
    cfg.random_user = &rng;
    cfg.suites = suites;
    cfg.suites_len = 3;
    cfg.mtu = 256;
    cfg.auth_fail_limit = 4;

    bool direct = data[0] & 1;
    uint64_t now = 1000;
    coaps_peer peer = {{127, 0, 0, 1}, 4, COAPS_TRANSPORT_DTLS};
    coaps_dtls_server front;
    if (coaps_dtls_server_init(&front, &cfg, now) != COAPS_OK)
        abort();
    coaps_dtls_conn conn;
    coaps_dtls_hs *hs = malloc(sizeof(*hs));
    /* bit 2: a PSK-only server context, the 2 KiB base alone in its own
     * allocation (ASan sees any use past it), no certificate area */
    coaps_dtls_hs_base *base = (data[0] & 4) ? malloc(sizeof(*base)) : NULL;
    bool up = false;
    if (data[0] & 2) {
        up = establish(&front, &cfg, &conn, hs, &peer, &rng, now);
    } else if (direct) {
        if ((base ? coaps_dtls_conn_init_split(&conn, &cfg, base, NULL, &peer, now)
                  : coaps_dtls_conn_init(&conn, &cfg, hs, &peer, now)) != COAPS_OK)
            abort();
        up = true;
    }

    size_t off = 1;
    uint8_t dgram[FUZZ_DGRAM_MAX];
    while (off + 3 <= size) {
        size_t len = (size_t)data[off] << 8 | data[off + 1];
        now += (uint64_t)data[off + 2] * 100;
        off += 3;
        if (len > size - off)
            len = size - off;
        size_t use = len < sizeof(dgram) ? len : sizeof(dgram);
        memcpy(dgram, data + off, use); /* the engine decrypts in place */
        off += len;
        if (up) {
            (void)coaps_dtls_tick(&conn, now);
            (void)coaps_dtls_input(&conn, dgram, use, now);
            drain(&conn, now);
            continue;
        }
        uint8_t out[512];
        size_t out_len;
        enum coaps_dtls_accept v;
        if (coaps_dtls_server_accept(&front, &peer, dgram, use, now, out, sizeof(out), &out_len,
                                     &v) != COAPS_OK)
            continue;
        if (v == COAPS_DTLS_ACCEPT_NEW) {
            if ((base ? coaps_dtls_conn_init_split(&conn, &cfg, base, NULL, &peer, now)
                      : coaps_dtls_conn_init(&conn, &cfg, hs, &peer, now)) != COAPS_OK)
                abort();
            up = true;
            (void)coaps_dtls_input(&conn, dgram, use, now);
            drain(&conn, now);
        }
    }
    if (up) {
        (void)coaps_dtls_tick(&conn, now + 200000);
        drain(&conn, now + 200000);
        coaps_dtls_conn_clear(&conn);
    }
    coaps_dtls_server_clear(&front);
    free(hs);
    free(base);
    return 0;
}
