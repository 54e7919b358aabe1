/*
 * fuzz_dtls_record.c - libFuzzer harness for the DTLS record layer
 * (src/dtls/record.c) and the replay window.
 *
 * Input: byte 0 picks the suite (mod 5), the rest is one datagram. The
 * datagram is split into records; each is run through the replay check,
 * unprotected in place with a fixed key (epoch 1) or as NULL cipher
 * (epoch 0), and marked on success. Nothing may crash, read out of bounds
 * or loop. Two properties are checked besides:
 *   - a record that opened has a plaintext inside the datagram, <= 2^14;
 *   - re-protecting that plaintext with the matching write state and
 *     opening it again gives the same bytes back (round trip).
 * The seeds in fuzz/corpus/dtls_record/ include records sealed under this
 * fixed key, so the success path is reachable.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dtls/record.h"
#include "dtls/replay_window.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_SUITES 5
/* One UDP datagram at most (IPv4/IPv6 payload limit). */
#define FUZZ_DGRAM_MAX 65535

static const enum crypto_aead_alg suites[N_SUITES] = {
    CRYPTO_AES_128_CCM_8, CRYPTO_AES_128_CCM, CRYPTO_AES_128_GCM, CRYPTO_AES_256_GCM,
    CRYPTO_CHACHA20_POLY1305};

/* Harness state, keyed once per process (the library itself has none). */
static struct dtls_cipher_state rd_states[N_SUITES], wr_states[N_SUITES];
static int keyed;
static uint8_t dgram[FUZZ_DGRAM_MAX];
static uint8_t scratch[DTLS_MAX_PLAINTEXT_LEN + DTLS_RECORD_MAX_OVERHEAD];

static void key_states(void)
{
    uint8_t key[32], iv[12];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(0x40 + i);
    for (size_t i = 0; i < sizeof iv; i++)
        iv[i] = (uint8_t)(0xc0 + i);
    for (size_t k = 0; k < N_SUITES; k++) {
        enum crypto_aead_alg alg = suites[k];
        if (dtls_cipher_state_init(&rd_states[k], alg, 1, key, crypto_aead_key_len(alg), iv,
                                   dtls_cipher_fixed_iv_len(alg)) != COAPS_OK ||
            dtls_cipher_state_init(&wr_states[k], alg, 1, key, crypto_aead_key_len(alg), iv,
                                   dtls_cipher_fixed_iv_len(alg)) != COAPS_OK)
            abort();
    }
    keyed = 1;
}

static void round_trip(size_t k, const struct dtls_record *rec, const uint8_t *pt, size_t len)
{
    struct dtls_cipher_state *wr = &wr_states[k];
    wr->next_seq = rec->seq; /* same (epoch, seq): the same nonce, on purpose */
    struct wire_wr w = wire_wr_init(scratch, sizeof scratch);
    if (dtls_record_protect(wr, rec->type, rec->version, pt, len, &w) != COAPS_OK)
        abort();
    struct wire_rd r = wire_rd_init(scratch, w.off);
    struct dtls_record again;
    uint8_t *pt2;
    size_t len2;
    if (dtls_record_next(&r, &again) != COAPS_OK ||
        dtls_record_unprotect(&rd_states[k], &again, scratch, w.off, &pt2, &len2) != COAPS_OK ||
        len2 != len || memcmp(pt2, pt, len) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!keyed)
        key_states();
    if (size < 1 || size - 1 > sizeof dgram)
        return 0;
    size_t k = data[0] % N_SUITES;
    size_t len = size - 1;
    memcpy(dgram, data + 1, len); /* mutable copy: decryption is in place */

    struct dtls_replay_window win[2];
    dtls_replay_init(&win[0]);
    dtls_replay_init(&win[1]);
    struct wire_rd rd = wire_rd_init(dgram, len);
    struct dtls_record rec;
    while (wire_rd_left(&rd) > 0) {
        if (dtls_record_next(&rd, &rec) != COAPS_OK)
            break;
        if (rec.epoch > 1)
            continue;
        struct dtls_replay_window *w = &win[rec.epoch];
        if (dtls_replay_check(w, rec.seq) != COAPS_OK)
            continue;
        struct dtls_cipher_state *cs = rec.epoch ? &rd_states[k] : NULL;
        uint8_t *pt;
        size_t pt_len;
        if (dtls_record_unprotect(cs, &rec, dgram, len, &pt, &pt_len) != COAPS_OK)
            continue;
        if (pt < dgram || pt + pt_len > dgram + len || pt_len > DTLS_MAX_PLAINTEXT_LEN)
            abort();
        dtls_replay_mark(w, rec.seq);
        if (dtls_replay_check(w, rec.seq) != COAPS_E_REPLAY)
            abort();
        if (cs != NULL)
            round_trip(k, &rec, pt, pt_len);
    }
    return 0;
}
