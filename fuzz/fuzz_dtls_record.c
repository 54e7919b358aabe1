/*
 * fuzz_dtls_record.c - libFuzzer harness for the DTLS record layer
 * (src/dtls/record.c), tls12_cid records (RFC 9146) included, and the
 * replay window.
 *
 * Input: byte 0 picks the suite (byte 0 mod 5) and the receiver's
 * Connection ID length ((byte 0 / 5) mod 17: 0..DTLS_CID_MAX, so bytes 0-4,
 * the seeds from before CIDs, still mean "no CID"); the rest is one
 * datagram. The datagram is split into records as a receiver with that CID
 * length frames them (dtls_record_next_cid); each is run through the replay
 * check, opened in place (dtls_record_open) with a fixed key (epoch 1) or
 * as NULL cipher (epoch 0), and marked on success. Nothing may crash, read
 * out of bounds or loop. Checked besides:
 *   - framing: the header is 13 bytes plus the CID, which only a tls12_cid
 *     record carries; coaps_dtls_datagram_cid finds the first record's CID;
 *   - a record that opened has a plaintext inside the datagram, <= 2^14;
 *   - round trip: re-protecting that plaintext with the matching write
 *     state (dtls_record_protect_cid with the record's CID, and for a
 *     tls12_cid record its inner content type) and opening it again gives
 *     the same CID, type and bytes back; and when the original carried no
 *     padding and the explicit nonce a sender makes (epoch || seq), the
 *     re-sealed record is the original, byte for byte.
 * The seeds in fuzz/corpus/dtls_record/ include records sealed under this
 * fixed key, with and without a CID, so the success path is reachable.
 * FUZZ_RECORD_GEN=dir writes the CID seeds (cid*.bin) and exits:
 *   FUZZ_RECORD_GEN=fuzz/corpus/dtls_record build/.../fuzz_dtls_record -runs=0
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coaps/dtls.h"
#include "dtls/record.h"
#include "dtls/replay_window.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define N_SUITES 5
#define N_CID_LENS (DTLS_CID_MAX + 1)
/* One UDP datagram at most (IPv4/IPv6 payload limit). */
#define FUZZ_DGRAM_MAX 65535

static const enum crypto_aead_alg suites[N_SUITES] = {
    CRYPTO_AES_128_CCM_8, CRYPTO_AES_128_CCM, CRYPTO_AES_128_GCM, CRYPTO_AES_256_GCM,
    CRYPTO_CHACHA20_POLY1305};

/* Harness state, keyed once per process (the library itself has none). */
static struct dtls_cipher_state rd_states[N_SUITES], wr_states[N_SUITES];
static int keyed;
static uint8_t dgram[FUZZ_DGRAM_MAX];
/* a re-sealed record: the largest plaintext, its inner type, the CID */
static uint8_t scratch[DTLS_MAX_PLAINTEXT_LEN + 1 + DTLS_RECORD_MAX_OVERHEAD + DTLS_CID_MAX];
static unsigned long opened; /* records opened with a key (the generator reports it) */

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

/* Framing as the receiver of cid_len sees it. */
static void check_framing(const struct dtls_record *rec, size_t cid_len, const uint8_t *base,
                          size_t len)
{
    bool with_cid = rec->type == DTLS_CT_TLS12_CID && cid_len > 0;
    CHECK(rec->cid_len == (with_cid ? cid_len : 0));
    CHECK(rec->header_len == DTLS_RECORD_HEADER_LEN + rec->cid_len);
    CHECK(rec->header == base + rec->offset);
    CHECK(!with_cid || rec->cid == rec->header + 11);
    CHECK(rec->fragment == rec->header + rec->header_len);
    CHECK(rec->offset + rec->header_len + rec->fragment_len <= len);
}

/* The sender's explicit nonce is epoch || seq (RFC 6347 4.1.2.1); none
 * for ChaCha20-Poly1305 (RFC 7905). */
static bool sender_nonce(const struct dtls_cipher_state *cs, const struct dtls_record *rec,
                         const uint8_t *frag)
{
    uint64_t seq_num = (uint64_t)rec->epoch << 48 | rec->seq;
    for (size_t i = 0; i < cs->explicit_nonce_len; i++)
        if (frag[i] != (uint8_t)(seq_num >> (56 - 8 * i)))
            return false;
    return true;
}

/* orig: the record as it arrived (the datagram is decrypted in place). */
static void round_trip(size_t k, size_t cid_len, const struct dtls_record *rec, const uint8_t *orig,
                       uint8_t type, const uint8_t *pt, size_t len)
{
    struct dtls_cipher_state *wr = &wr_states[k];
    wr->next_seq = rec->seq; /* same (epoch, seq): the same nonce, on purpose */
    struct wire_wr w = wire_wr_init(scratch, sizeof scratch);
    uint8_t seal_type = rec->cid_len ? type : rec->type;
    /* a tls12_cid record cannot say type 0 (it reads as padding) */
    if (rec->cid_len)
        CHECK(dtls_record_protect_cid(wr, 0, rec->version, rec->cid, rec->cid_len, pt, len, &w) ==
              COAPS_E_INVALID);
    CHECK(dtls_record_protect_cid(wr, seal_type, rec->version, rec->cid, rec->cid_len, pt, len,
                                  &w) == COAPS_OK);
    /* Without padding and with the sender's nonce the original is what a
     * sender makes: the same key, nonce, additional data and plaintext.
     * (Before the open below, which decrypts scratch in place.) */
    const struct dtls_cipher_state *cs = &rd_states[k];
    size_t inner = rec->fragment_len - cs->explicit_nonce_len - cs->tag_len;
    bool padded = inner != len + (rec->cid_len ? 1u : 0u);
    if (!padded && sender_nonce(cs, rec, orig + rec->header_len))
        CHECK(w.off == rec->header_len + rec->fragment_len && memcmp(scratch, orig, w.off) == 0);
    struct wire_rd r = wire_rd_init(scratch, w.off);
    struct dtls_record again;
    uint8_t *pt2, type2;
    size_t len2;
    CHECK(dtls_record_next_cid(&r, &again, cid_len) == COAPS_OK && wire_rd_left(&r) == 0);
    check_framing(&again, cid_len, scratch, w.off);
    CHECK(again.type == rec->type && again.cid_len == rec->cid_len && again.seq == rec->seq);
    CHECK(rec->cid_len == 0 || memcmp(again.cid, rec->cid, rec->cid_len) == 0);
    CHECK(dtls_record_open(&rd_states[k], &again, scratch, w.off, &pt2, &len2, &type2) ==
          COAPS_OK);
    CHECK(type2 == type && len2 == len && memcmp(pt2, pt, len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!keyed)
        key_states();
    if (size < 1 || size - 1 > sizeof dgram)
        return 0;
    size_t k = data[0] % N_SUITES;
    size_t cid_len = (size_t)(data[0] / N_SUITES) % N_CID_LENS;
    const uint8_t *orig = data + 1;
    size_t len = size - 1;
    memcpy(dgram, orig, len); /* mutable copy: decryption is in place */

    const uint8_t *first_cid;
    if (coaps_dtls_datagram_cid(orig, len, cid_len, &first_cid))
        CHECK(cid_len > 0 && len > 0 && orig[0] == DTLS_CT_TLS12_CID && first_cid == orig + 11);

    struct dtls_replay_window win[2];
    dtls_replay_init(&win[0]);
    dtls_replay_init(&win[1]);
    struct wire_rd rd = wire_rd_init(dgram, len);
    struct dtls_record rec;
    while (wire_rd_left(&rd) > 0) {
        if (dtls_record_next_cid(&rd, &rec, cid_len) != COAPS_OK)
            break;
        check_framing(&rec, cid_len, dgram, len);
        if (rec.epoch > 1)
            continue;
        struct dtls_replay_window *w = &win[rec.epoch];
        if (dtls_replay_check(w, rec.seq) != COAPS_OK)
            continue;
        struct dtls_cipher_state *cs = rec.epoch ? &rd_states[k] : NULL;
        uint8_t *pt, type;
        size_t pt_len;
        if (dtls_record_open(cs, &rec, dgram, len, &pt, &pt_len, &type) != COAPS_OK)
            continue;
        CHECK(pt >= dgram && pt + pt_len <= dgram + len && pt_len <= DTLS_MAX_PLAINTEXT_LEN);
        /* only a tls12_cid record has an inner type, never tls12_cid or 0 */
        CHECK(rec.cid_len ? type != 0 : type == rec.type);
        dtls_replay_mark(w, rec.seq);
        CHECK(dtls_replay_check(w, rec.seq) == COAPS_E_REPLAY);
        if (cs != NULL) {
            opened++;
            round_trip(k, cid_len, &rec, orig + rec.offset, type, pt, pt_len);
        }
    }
    return 0;
}

/* ---- FUZZ_RECORD_GEN: seeds of tls12_cid records under the fixed key ---- */

struct gen {
    size_t k, cid_len;
    uint8_t cid[DTLS_CID_MAX];
    uint8_t buf[2048];
    struct wire_wr w;
};

/* One record sealed by the write state: tls12_cid when g->cid_len > 0. */
static void gen_sealed(struct gen *g, uint64_t seq, uint8_t type, const uint8_t *pt, size_t len,
                       size_t cid_len)
{
    wr_states[g->k].next_seq = seq;
    CHECK(dtls_record_protect_cid(&wr_states[g->k], type, DTLS_VERSION_1_2, g->cid, cid_len, pt,
                                  len, &g->w) == COAPS_OK);
}

/* A tls12_cid record with padding, sealed here rather than by the record
 * layer (which never pads, and refuses type 0): inner plaintext = pt ||
 * type || pad zeros, the additional data of RFC 9146 5 written out again,
 * so the library's open checks it against a second reading of the RFC. */
static void gen_padded(struct gen *g, uint64_t seq, uint8_t type, const uint8_t *pt, size_t len,
                       size_t pad)
{
    const struct dtls_cipher_state *cs = &wr_states[g->k];
    size_t inner = len + 1 + pad, n = g->cid_len;
    uint64_t seq_num = (uint64_t)1 << 48 | seq; /* epoch 1 */
    uint8_t aad[8 + 3 + 2 + 8 + DTLS_CID_MAX + 2], nonce[CRYPTO_AEAD_NONCE_LEN], in[256];
    CHECK(inner <= sizeof in);
    struct wire_wr a = wire_wr_init(aad, sizeof aad);
    CHECK(wire_wr_uint(&a, 8, UINT64_MAX) == COAPS_OK && wire_wr_u8(&a, 25) == COAPS_OK &&
          wire_wr_u8(&a, (uint8_t)n) == COAPS_OK && wire_wr_u8(&a, 25) == COAPS_OK &&
          wire_wr_u16(&a, DTLS_VERSION_1_2) == COAPS_OK &&
          wire_wr_uint(&a, 8, seq_num) == COAPS_OK && wire_wr_bytes(&a, g->cid, n) == COAPS_OK &&
          wire_wr_u16(&a, (uint16_t)inner) == COAPS_OK);
    memcpy(nonce, cs->fixed_iv, CRYPTO_AEAD_NONCE_LEN);
    for (size_t i = 0; i < 8; i++) { /* GCM/CCM: salt || seq_num; ChaCha20: IV ^ seq_num */
        uint8_t b = (uint8_t)(seq_num >> (56 - 8 * i));
        if (cs->explicit_nonce_len)
            nonce[4 + i] = b;
        else
            nonce[4 + i] ^= b;
    }
    memcpy(in, pt, len);
    in[len] = type;
    memset(in + len + 1, 0, pad);
    struct wire_wr *w = &g->w;
    CHECK(wire_wr_u8(w, 25) == COAPS_OK && wire_wr_u16(w, DTLS_VERSION_1_2) == COAPS_OK &&
          wire_wr_u16(w, 1) == COAPS_OK && wire_wr_u48(w, seq) == COAPS_OK &&
          wire_wr_bytes(w, g->cid, n) == COAPS_OK &&
          wire_wr_u16(w, (uint16_t)(cs->explicit_nonce_len + inner + cs->tag_len)) == COAPS_OK);
    if (cs->explicit_nonce_len)
        CHECK(wire_wr_bytes(w, nonce + 4, 8) == COAPS_OK);
    CHECK(wire_wr_left(w) >= inner + cs->tag_len);
    CHECK(crypto_aead_seal(&wr_states[g->k].aead, nonce, aad, a.off, in, inner, wire_wr_ptr(w)) ==
          COAPS_OK);
    w->off += inner + cs->tag_len;
}

static void gen_write(const char *dir, const char *name, struct gen *g, unsigned long want)
{
    char path[512];
    uint8_t in[sizeof g->buf + 1];
    in[0] = (uint8_t)(g->k + N_SUITES * g->cid_len);
    memcpy(in + 1, g->buf, g->w.off);
    unsigned long before = opened;
    LLVMFuzzerTestOneInput(in, g->w.off + 1); /* aborts on a broken property */
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL && fwrite(in, 1, g->w.off + 1, f) == g->w.off + 1 && fclose(f) == 0);
    fprintf(stderr, "%s: %zu bytes, %lu of %lu sealed records opened\n", name, g->w.off + 1,
            opened - before, want);
    CHECK(opened - before == want);
}

static void gen_start(struct gen *g, size_t k, size_t cid_len)
{
    g->k = k;
    g->cid_len = cid_len;
    for (size_t i = 0; i < sizeof g->cid; i++)
        g->cid[i] = (uint8_t)(0xa0 + 3 * i);
    g->w = wire_wr_init(g->buf, sizeof g->buf);
}

static void generate(const char *dir)
{
    static const size_t cid_lens[N_SUITES] = {8, 1, 4, 16, 5};
    static const uint8_t coap_get[] = {0x42, 0x01, 0x12, 0x34, 0xab, 0xcd, 0xb5, 'l', 'i', 'g', 'h',
                                       't'};
    static const uint8_t finished[] = {20, 0, 0, 12, 0, 5, 0, 0, 0, 0, 0, 12,
                                       1,  2, 3, 4,  5, 6, 7, 8, 9, 10, 11, 12};
    static const uint8_t alert[] = {1, 0};
    struct gen g;
    char name[64];
    for (size_t k = 0; k < N_SUITES; k++) {
        /* application data, a Finished with 3 bytes of padding, a plain
         * alert at epoch 1, the same CID; and an epoch-0 plain record */
        gen_start(&g, k, cid_lens[k]);
        gen_sealed(&g, 1, DTLS_CT_APPLICATION_DATA, coap_get, sizeof coap_get, g.cid_len);
        gen_padded(&g, 2, DTLS_CT_HANDSHAKE, finished, sizeof finished, 3);
        gen_sealed(&g, 3, DTLS_CT_ALERT, alert, sizeof alert, 0);
        CHECK(dtls_record_write_plain(DTLS_CT_ALERT, DTLS_VERSION_1_2, 7, alert, sizeof alert,
                                      &g.w) == COAPS_OK);
        snprintf(name, sizeof name, "cid%zu_suite%zu_three_records.bin", g.cid_len, k);
        gen_write(dir, name, &g, 3);
    }
    /* an all-zero inner plaintext has no content type: malformed */
    gen_start(&g, 0, 8);
    static const uint8_t zeros[4] = {0};
    gen_padded(&g, 9, 0, zeros, sizeof zeros, 0);
    gen_sealed(&g, 10, DTLS_CT_APPLICATION_DATA, coap_get, sizeof coap_get, g.cid_len);
    gen_write(dir, "cid8_zero_inner_then_app.bin", &g, 1);
    /* an empty application record with the longest CID, and the same
     * record read by a receiver whose CID is one byte shorter (framed
     * wrong: the authentication fails) */
    gen_start(&g, 2, DTLS_CID_MAX);
    gen_sealed(&g, 4, DTLS_CT_APPLICATION_DATA, NULL, 0, g.cid_len);
    gen_write(dir, "cid16_empty_app.bin", &g, 1);
    g.cid_len = DTLS_CID_MAX - 1;
    gen_write(dir, "cid15_reads_cid16.bin", &g, 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *dir = getenv("FUZZ_RECORD_GEN");
    if (dir == NULL)
        return 0;
    key_states();
    generate(dir);
    exit(0);
}
