/*
 * fuzz_dtls_pki_server.c - the certificate path of the DTLS engine: a real
 * ECDHE_ECDSA handshake between our client and our server, in memory, in
 * which the fuzzer edits datagrams in flight. A random datagram would never
 * reach Certificate, ServerKeyExchange, CertificateRequest or
 * CertificateVerify parsing and checking; a real handshake with a few bytes
 * flipped or cut reaches all of them, on both sides. Nothing may crash,
 * leak, hang or read out of bounds, and an untouched handshake must work.
 *
 * Input: byte 0 = flags
 *   bit 0: edit server->client datagrams (else client->server)
 *   bit 1: mutual authentication (client certificate required)
 *   bit 2: raw public keys (RFC 7250) instead of X.509
 *   bit 3: MTU 256 (fragmented certificate flights)
 *   bit 4: x25519 (else secp256r1)
 * then edits of 4 bytes: u8 datagram index (in the edited direction),
 * u16 offset (mod the datagram length), u8 value: XORed in, or 0 = cut the
 * datagram at that offset.
 *
 * The certificates come from tests/crypto/certs (found next to this source
 * file, or under $COAPS_SOURCE_DIR), loaded once.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coaps/dtls.h"
#include "fuzz_pki.h"
#include "fuzz_rng.h"

#define FUZZ_DGRAM_MAX 1500
#define FUZZ_EDITS_MAX 16 /* more edits add nothing but time */
#define FUZZ_ROUNDS 24    /* flights; a handshake needs 6 with the cookie */

/* index: 0 server X.509, 1 server X.509 + client required, 2 client CA,
 * 3 client cert, 4 server RPK, 5 client RPK */
static coaps_dtls_pki *pkis[6];

static void load_all(void)
{
    static const struct fuzz_pki_spec specs[6] = {
        {.cert = "server.pem", .key = "server.key"},
        {.cert = "server.pem", .key = "server.key", .ca = "ca.pem", .require_client_cert = true},
        {.ca = "ca.pem"},
        {.cert = "client.pem", .key = "client.key", .ca = "ca.pem"},
        {.key = "server.key", .rpk = "client-pub.pem", .require_client_cert = true, .use_rpk = true},
        {.key = "client.key", .rpk = "server-pub.pem", .use_rpk = true},
    };
    for (size_t i = 0; i < 6; i++)
        pkis[i] = fuzz_pki_load(&specs[i]);
}

struct edit {
    uint8_t idx;
    uint16_t off;
    uint8_t val;
};

struct run {
    coaps_dtls_server front;
    coaps_dtls_conn cl, sv;
    coaps_dtls_hs *chs, *shs;
    const coaps_dtls_config *scfg;
    bool sv_up;
    int edit_dir; /* 0: client->server, 1: server->client */
    struct edit edits[FUZZ_EDITS_MAX];
    size_t n_edits;
    unsigned seen; /* datagrams in the edited direction so far */
    uint64_t now;
};

static void apply_edits(struct run *r, int dir, uint8_t *d, size_t *len)
{
    if (dir != r->edit_dir || *len == 0)
        return;
    unsigned idx = r->seen++;
    for (size_t i = 0; i < r->n_edits; i++) {
        if (r->edits[i].idx != idx || *len == 0)
            continue;
        size_t at = r->edits[i].off % *len;
        if (r->edits[i].val)
            d[at] ^= r->edits[i].val;
        else
            *len = at;
    }
}

static void to_server(struct run *r, uint8_t *d, size_t len)
{
    coaps_peer peer = {{127, 0, 0, 1}, 4, COAPS_TRANSPORT_DTLS};
    if (r->sv_up) {
        (void)coaps_dtls_input(&r->sv, d, len, r->now);
        return;
    }
    uint8_t out[512];
    size_t out_len = 0;
    enum coaps_dtls_accept v;
    if (coaps_dtls_server_accept(&r->front, &peer, d, len, r->now, out, sizeof out, &out_len,
                                 &v) != COAPS_OK)
        return;
    if (v == COAPS_DTLS_ACCEPT_SEND) {
        apply_edits(r, 1, out, &out_len);
        (void)coaps_dtls_input(&r->cl, out, out_len, r->now);
    } else if (v == COAPS_DTLS_ACCEPT_NEW) {
        if (coaps_dtls_conn_init(&r->sv, r->scfg, r->shs, &peer, r->now) != COAPS_OK)
            abort();
        r->sv_up = true;
        (void)coaps_dtls_input(&r->sv, d, len, r->now);
    }
}

static void pump(struct run *r)
{
    uint8_t buf[FUZZ_DGRAM_MAX];
    size_t len;
    for (int round = 0; round < FUZZ_ROUNDS; round++) {
        for (int i = 0; i < 64 && coaps_dtls_output(&r->cl, buf, sizeof buf, &len, r->now) ==
                                      COAPS_OK;
             i++) {
            apply_edits(r, 0, buf, &len);
            to_server(r, buf, len);
        }
        for (int i = 0; r->sv_up && i < 64 &&
                        coaps_dtls_output(&r->sv, buf, sizeof buf, &len, r->now) == COAPS_OK;
             i++) {
            apply_edits(r, 1, buf, &len);
            (void)coaps_dtls_input(&r->cl, buf, len, r->now);
        }
        /* a lost or refused flight: let the timers run */
        r->now += 1000;
        (void)coaps_dtls_tick(&r->cl, r->now);
        if (r->sv_up)
            (void)coaps_dtls_tick(&r->sv, r->now);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (!pkis[0])
        load_all();
    uint8_t flags = data[0];
    bool mutual = flags & 2, rpk = flags & 4;
    static const uint16_t p256[] = {COAPS_DTLS_GROUP_SECP256R1};
    static const uint16_t x25519[] = {COAPS_DTLS_GROUP_X25519};
    struct fuzz_rng rng = {0x1234567890abcdefull};
    coaps_dtls_config scfg = {.role = COAPS_DTLS_SERVER, .random = fuzz_random,
                              .random_user = &rng};
    coaps_dtls_config ccfg = {.role = COAPS_DTLS_CLIENT, .random = fuzz_random,
                              .random_user = &rng, .server_name = "localhost"};
    scfg.pki = rpk ? pkis[4] : mutual ? pkis[1] : pkis[0];
    ccfg.pki = rpk ? pkis[5] : mutual ? pkis[3] : pkis[2];
    ccfg.groups = scfg.groups = (flags & 16) ? x25519 : p256;
    ccfg.groups_len = scfg.groups_len = 1;
    if (flags & 8)
        ccfg.mtu = scfg.mtu = 256;

    static struct run r;
    memset(&r, 0, sizeof r);
    r.scfg = &scfg;
    r.edit_dir = flags & 1;
    r.now = 1000;
    for (size_t off = 1; off + 4 <= size && r.n_edits < FUZZ_EDITS_MAX; off += 4) {
        struct edit *e = &r.edits[r.n_edits++];
        e->idx = data[off];
        e->off = (uint16_t)(data[off + 1] << 8 | data[off + 2]);
        e->val = data[off + 3];
    }
    r.chs = malloc(sizeof(*r.chs));
    r.shs = malloc(sizeof(*r.shs));
    coaps_peer peer = {{127, 0, 0, 1}, 4, COAPS_TRANSPORT_DTLS};
    if (!r.chs || !r.shs || coaps_dtls_server_init(&r.front, &scfg, r.now) != COAPS_OK ||
        coaps_dtls_conn_init(&r.cl, &ccfg, r.chs, &peer, r.now) != COAPS_OK)
        abort();
    pump(&r);
    /* no edits: our two ends must agree */
    if (r.n_edits == 0 && (!r.sv_up || coaps_dtls_state(&r.cl) != COAPS_DTLS_ESTABLISHED ||
                           coaps_dtls_state(&r.sv) != COAPS_DTLS_ESTABLISHED))
        abort();
    char why[256];
    (void)coaps_dtls_error_str(&r.cl, why, sizeof why);
    coaps_dtls_conn_clear(&r.cl);
    if (r.sv_up) {
        (void)coaps_dtls_error_str(&r.sv, why, sizeof why);
        coaps_dtls_conn_clear(&r.sv);
    }
    coaps_dtls_server_clear(&r.front);
    free(r.chs);
    free(r.shs);
    return 0;
}
