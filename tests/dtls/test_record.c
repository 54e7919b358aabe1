/*
 * test_record.c - DTLS 1.2 record layer (src/dtls/record.c):
 *   framing of several records per datagram (RFC 6347 4.1), truncation and
 *   lengths past the datagram (RFC 6347 4.1.2.7: drop the rest);
 *   AEAD protection per suite: a known-answer test per suite whose expected
 *   bytes are computed right here with raw library calls (OpenSSL's EVP or
 *   PSA's psa_aead_encrypt, not our src/crypto) and a nonce and AAD
 *   assembled by hand from the RFCs (RFC 5246 6.2.3.3 AAD; RFC 5288 3 /
 *   RFC 6655 3 salt || explicit nonce; RFC 7905 2 IV XOR padded seq_num),
 *   so the test checks our nonce/AAD construction independently;
 *   round trips, in-place decryption, tampering anywhere (header, explicit
 *   nonce, ciphertext, tag) fails and wipes, length limits, sequence
 *   exhaustion, epoch mismatch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#if defined(COAPS_CRYPTO_PSA)
#include <psa/crypto.h>
#else
#include <openssl/crypto.h>
#include <openssl/evp.h>
#endif

#include "crypto/alloc_count.h"
#include "crypto/hexutil.h"
#include "dtls/record.h"

static const enum crypto_aead_alg all_algs[] = {CRYPTO_AES_128_CCM_8, CRYPTO_AES_128_CCM,
                                                CRYPTO_AES_128_GCM, CRYPTO_AES_256_GCM,
                                                CRYPTO_CHACHA20_POLY1305};

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed + 31 * i);
}

/* A write and a read state sharing key and IV, as two peers would. */
static void make_pair(enum crypto_aead_alg alg, uint16_t epoch, struct dtls_cipher_state *wr,
                      struct dtls_cipher_state *rd)
{
    uint8_t key[32], iv[12];
    fill(key, sizeof key, (uint8_t)(0x10 + alg));
    fill(iv, sizeof iv, 0xa5);
    size_t kl = crypto_aead_key_len(alg), il = dtls_cipher_fixed_iv_len(alg);
    assert_int_equal(dtls_cipher_state_init(wr, alg, epoch, key, kl, iv, il), COAPS_OK);
    assert_int_equal(dtls_cipher_state_init(rd, alg, epoch, key, kl, iv, il), COAPS_OK);
}

/* ---- framing ------------------------------------------------------------- */

static void splits_several_records_per_datagram(void **state)
{
    (void)state;
    static const uint8_t dgram[] = {
        /* handshake, DTLS 1.0 version, epoch 0, seq 0, length 3 */
        22, 0xfe, 0xff, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0x00, 0x03, 0xaa, 0xbb, 0xcc,
        /* change_cipher_spec, 1.2, epoch 0, seq 0x0102030405 06, length 1 */
        20, 0xfe, 0xfd, 0x00, 0x00, 1, 2, 3, 4, 5, 6, 0x00, 0x01, 0x01,
        /* application data, epoch 0x0203, seq 2^48 - 1, empty */
        23, 0xfe, 0xfd, 0x02, 0x03, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00};
    struct wire_rd rd = wire_rd_init(dgram, sizeof dgram);
    struct dtls_record rec;

    assert_int_equal(dtls_record_next(&rd, &rec), COAPS_OK);
    assert_int_equal(rec.type, DTLS_CT_HANDSHAKE);
    assert_int_equal(rec.version, DTLS_VERSION_1_0);
    assert_int_equal(rec.epoch, 0);
    assert_true(rec.seq == 0);
    assert_int_equal(rec.fragment_len, 3);
    assert_ptr_equal(rec.header, dgram);
    assert_ptr_equal(rec.fragment, dgram + 13);
    assert_int_equal(rec.offset, 0);

    assert_int_equal(dtls_record_next(&rd, &rec), COAPS_OK);
    assert_int_equal(rec.type, DTLS_CT_CHANGE_CIPHER_SPEC);
    assert_int_equal(rec.version, DTLS_VERSION_1_2);
    assert_true(rec.seq == 0x010203040506ull);
    assert_int_equal(rec.fragment_len, 1);
    assert_int_equal(rec.fragment[0], 1);
    assert_int_equal(rec.offset, 16);
    assert_ptr_equal(rec.header, dgram + 16);

    assert_int_equal(dtls_record_next(&rd, &rec), COAPS_OK);
    assert_int_equal(rec.type, DTLS_CT_APPLICATION_DATA);
    assert_int_equal(rec.epoch, 0x0203);
    assert_true(rec.seq == DTLS_SEQ_MAX);
    assert_int_equal(rec.fragment_len, 0);
    assert_int_equal(wire_rd_left(&rd), 0);
}

static void truncated_header_or_length_past_datagram_drops_the_rest(void **state)
{
    (void)state;
    uint8_t dgram[13 + 4 + 12];
    memset(dgram, 0, sizeof dgram);
    /* a good record with 4 bytes, then 12 bytes: a header cut short */
    dgram[0] = 22, dgram[1] = 0xfe, dgram[2] = 0xfd, dgram[12] = 4;
    struct wire_rd rd = wire_rd_init(dgram, sizeof dgram);
    struct dtls_record rec;
    assert_int_equal(dtls_record_next(&rd, &rec), COAPS_OK);
    assert_int_equal(rec.fragment_len, 4);
    assert_int_equal(dtls_record_next(&rd, &rec), COAPS_E_TRUNCATED);
    assert_int_equal(wire_rd_left(&rd), 0); /* consumed: the loop ends */

    /* length one past the end */
    dgram[12] = 5;
    rd = wire_rd_init(dgram, 13 + 4);
    assert_int_equal(dtls_record_next(&rd, &rec), COAPS_E_TRUNCATED);
    assert_int_equal(wire_rd_left(&rd), 0);

    /* a huge length and an empty datagram */
    dgram[11] = 0xff, dgram[12] = 0xff;
    rd = wire_rd_init(dgram, sizeof dgram);
    assert_int_equal(dtls_record_next(&rd, &rec), COAPS_E_TRUNCATED);
    rd = wire_rd_init(dgram, 0);
    assert_int_equal(dtls_record_next(&rd, &rec), COAPS_E_TRUNCATED);

    /* a good record after a bad one cannot be reached: a loop stops */
    dgram[11] = 0, dgram[12] = 0x40;
    rd = wire_rd_init(dgram, sizeof dgram);
    int seen = 0;
    while (wire_rd_left(&rd) > 0 && dtls_record_next(&rd, &rec) == COAPS_OK)
        seen++;
    assert_int_equal(seen, 0);
}

/* ---- known answers --------------------------------------------------------- */

#if defined(COAPS_CRYPTO_PSA)
/* One-shot AEAD seal straight on PSA (no coaps code involved). */
static void ref_seal(enum crypto_aead_alg alg, const uint8_t *key, const uint8_t nonce[12],
                     const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t len,
                     uint8_t *out)
{
    /* the algorithms, key and tag lengths of RFC 6655, RFC 5288, RFC 7905 */
    psa_algorithm_t a = PSA_ALG_GCM;
    psa_key_type_t type = PSA_KEY_TYPE_AES;
    size_t key_len = 16, tag_len = 16, n = 0;
    switch (alg) {
    case CRYPTO_AES_128_CCM_8:
        a = PSA_ALG_AEAD_WITH_SHORTENED_TAG(PSA_ALG_CCM, 8);
        tag_len = 8;
        break;
    case CRYPTO_AES_128_CCM: a = PSA_ALG_CCM; break;
    case CRYPTO_AES_128_GCM: break;
    case CRYPTO_AES_256_GCM: key_len = 32; break;
    case CRYPTO_CHACHA20_POLY1305:
        a = PSA_ALG_CHACHA20_POLY1305;
        type = PSA_KEY_TYPE_CHACHA20;
        key_len = 32;
        break;
    }
    assert_int_equal(psa_crypto_init(), PSA_SUCCESS);
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&attr, type);
    psa_set_key_bits(&attr, PSA_BYTES_TO_BITS(key_len));
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_ENCRYPT);
    psa_set_key_algorithm(&attr, a);
    psa_key_id_t id = PSA_KEY_ID_NULL;
    assert_int_equal(psa_import_key(&attr, key, key_len, &id), PSA_SUCCESS);
    assert_int_equal(psa_aead_encrypt(id, a, nonce, 12, aad, aad_len, pt, len, out,
                                      len + tag_len, &n),
                     PSA_SUCCESS);
    assert_int_equal(n, len + tag_len);
    assert_int_equal(psa_destroy_key(id), PSA_SUCCESS);
}
#else
static const EVP_CIPHER *evp_for(enum crypto_aead_alg alg)
{
    switch (alg) {
    case CRYPTO_AES_128_CCM_8:
    case CRYPTO_AES_128_CCM: return EVP_aes_128_ccm();
    case CRYPTO_AES_128_GCM: return EVP_aes_128_gcm();
    case CRYPTO_AES_256_GCM: return EVP_aes_256_gcm();
    case CRYPTO_CHACHA20_POLY1305: return EVP_chacha20_poly1305();
    }
    return NULL;
}

/* One-shot AEAD seal straight on EVP (no coaps code involved). */
static void ref_seal(enum crypto_aead_alg alg, const uint8_t *key, const uint8_t nonce[12],
                     const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t len,
                     uint8_t *out)
{
    bool ccm = alg == CRYPTO_AES_128_CCM_8 || alg == CRYPTO_AES_128_CCM;
    int tag_len = alg == CRYPTO_AES_128_CCM_8 ? 8 : 16, n;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    assert_non_null(c);
    assert_int_equal(EVP_EncryptInit_ex(c, evp_for(alg), NULL, NULL, NULL), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL), 1);
    if (ccm)
        assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, tag_len, NULL), 1);
    assert_int_equal(EVP_EncryptInit_ex(c, NULL, NULL, key, nonce), 1);
    if (ccm)
        assert_int_equal(EVP_EncryptUpdate(c, NULL, &n, NULL, (int)len), 1);
    assert_int_equal(EVP_EncryptUpdate(c, NULL, &n, aad, (int)aad_len), 1);
    assert_int_equal(EVP_EncryptUpdate(c, out, &n, pt, (int)len), 1);
    assert_int_equal(EVP_EncryptFinal_ex(c, out + len, &n), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, tag_len, out + len), 1);
    EVP_CIPHER_CTX_free(c);
}
#endif

static void protect_matches_hand_built_nonce_and_aad(void **state)
{
    (void)state;
    uint8_t key[32], iv[12], pt[45];
    fill(key, sizeof key, 0x01);
    fill(iv, sizeof iv, 0x80);
    fill(pt, sizeof pt, 0x33);
    const uint16_t epoch = 0x0001;
    const uint64_t seq = 0x0000a1b2c3d4ull; /* distinct bytes catch order bugs */
    /* RFC 5246 6.2.3.3: seq_num(8) = epoch(2) || seq(6), type, version, length */
    const uint8_t aad[13] = {0x00, 0x01, 0x00, 0x00, 0xa1, 0xb2, 0xc3, 0xd4,
                             23,   0xfe, 0xfd, 0x00, 45};
    const uint8_t seq_num[8] = {0x00, 0x01, 0x00, 0x00, 0xa1, 0xb2, 0xc3, 0xd4};

    for (size_t k = 0; k < sizeof all_algs / sizeof all_algs[0]; k++) {
        enum crypto_aead_alg alg = all_algs[k];
        bool chacha = alg == CRYPTO_CHACHA20_POLY1305;
        size_t tag = crypto_aead_tag_len(alg), expl = chacha ? 0 : 8;
        uint8_t nonce[12];
        if (chacha) { /* RFC 7905 2: IV XOR (00000000 || seq_num) */
            memcpy(nonce, iv, 12);
            for (size_t i = 0; i < 8; i++)
                nonce[4 + i] ^= seq_num[i];
        } else { /* RFC 5288 3 / RFC 6655 3: salt(4) || nonce_explicit = seq_num */
            memcpy(nonce, iv, 4);
            memcpy(nonce + 4, seq_num, 8);
        }
        uint8_t want[13 + 8 + sizeof pt + 16];
        const uint8_t hdr[13] = {23, 0xfe, 0xfd, 0x00, 0x01, 0x00, 0x00, 0xa1, 0xb2, 0xc3,
                                 0xd4, 0, (uint8_t)(expl + sizeof pt + tag)};
        memcpy(want, hdr, 13);
        memcpy(want + 13, seq_num, expl);
        ref_seal(alg, key, nonce, aad, sizeof aad, pt, sizeof pt, want + 13 + expl);
        size_t want_len = 13 + expl + sizeof pt + tag;

        struct dtls_cipher_state cs;
        assert_int_equal(dtls_cipher_state_init(&cs, alg, epoch, key, crypto_aead_key_len(alg),
                                                iv, dtls_cipher_fixed_iv_len(alg)),
                         COAPS_OK);
        cs.next_seq = seq;
        uint8_t buf[128];
        struct wire_wr w = wire_wr_init(buf, sizeof buf);
        assert_int_equal(dtls_record_protect(&cs, DTLS_CT_APPLICATION_DATA, DTLS_VERSION_1_2, pt,
                                             sizeof pt, &w),
                         COAPS_OK);
        print_message("  alg %d\n", (int)alg);
        assert_true(bytes_equal_loud(buf, w.off, want, want_len));
        assert_true(cs.next_seq == seq + 1);
        assert_int_equal(dtls_record_overhead(&cs), want_len - sizeof pt);
        dtls_cipher_state_clear(&cs);
    }
}

static void overheads_per_suite(void **state)
{
    (void)state;
    static const size_t want[] = {13 + 8 + 8, 13 + 8 + 16, 13 + 8 + 16, 13 + 8 + 16, 13 + 16};
    for (size_t k = 0; k < sizeof all_algs / sizeof all_algs[0]; k++) {
        struct dtls_cipher_state wr, rd;
        make_pair(all_algs[k], 1, &wr, &rd);
        assert_int_equal(dtls_record_overhead(&wr), want[k]);
        assert_true(dtls_record_overhead(&wr) <= DTLS_RECORD_MAX_OVERHEAD);
        assert_int_equal(dtls_record_payload_offset(&wr),
                         all_algs[k] == CRYPTO_CHACHA20_POLY1305 ? 13 : 21);
        dtls_cipher_state_clear(&wr);
        dtls_cipher_state_clear(&rd);
    }
    assert_int_equal(dtls_record_overhead(NULL), 13);
    assert_int_equal(dtls_record_payload_offset(NULL), 13);

    /* room for plaintext in a datagram budget */
    struct dtls_cipher_state wr, rd;
    make_pair(CRYPTO_AES_128_CCM_8, 1, &wr, &rd);
    assert_int_equal(dtls_record_plaintext_room(&wr, 1280), 1280 - 29);
    assert_int_equal(dtls_record_plaintext_room(&wr, 30), 1);
    assert_int_equal(dtls_record_plaintext_room(&wr, 29), 0); /* an empty record: no data */
    assert_int_equal(dtls_record_plaintext_room(&wr, 3), 0);
    assert_int_equal(dtls_record_plaintext_room(&wr, 100000), DTLS_MAX_PLAINTEXT_LEN);
    assert_int_equal(dtls_record_plaintext_room(NULL, 1280), 1280 - 13);
    /* the room computed really fits */
    uint8_t buf[200];
    struct wire_wr w = wire_wr_init(buf, 150);
    size_t n = dtls_record_plaintext_room(&wr, wire_wr_left(&w));
    static const uint8_t filler[200];
    assert_int_equal(dtls_record_protect(&wr, 23, DTLS_VERSION_1_2, filler, n, &w), COAPS_OK);
    assert_int_equal(w.off, 150);
    dtls_cipher_state_clear(&wr);
    dtls_cipher_state_clear(&rd);
}

/* ---- round trips ------------------------------------------------------------ */

static uint8_t big_dgram[3 * (DTLS_MAX_PLAINTEXT_LEN + DTLS_RECORD_MAX_OVERHEAD)];
static uint8_t big_plain[DTLS_MAX_PLAINTEXT_LEN + 1];

/* Several records of different lengths and types in one datagram, behind an
 * epoch-0 record, then split and decrypted in place. */
static void round_trip_every_suite_in_place(void **state)
{
    (void)state;
    static const size_t lens[] = {0, 1, 15, 16, 17, 200, DTLS_MAX_PLAINTEXT_LEN};
    fill(big_plain, sizeof big_plain, 0x5c);
    for (size_t k = 0; k < sizeof all_algs / sizeof all_algs[0]; k++) {
        struct dtls_cipher_state wr, rd;
        make_pair(all_algs[k], 1, &wr, &rd);
        for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
            struct wire_wr w = wire_wr_init(big_dgram, sizeof big_dgram);
            assert_int_equal(dtls_record_write_plain(DTLS_CT_HANDSHAKE, DTLS_VERSION_1_2, 7,
                                                     (const uint8_t *)"hello", 5, &w),
                             COAPS_OK);
            uint64_t seq0 = wr.next_seq;
            assert_int_equal(dtls_record_protect(&wr, DTLS_CT_HANDSHAKE, DTLS_VERSION_1_2,
                                                 big_plain, lens[i], &w),
                             COAPS_OK);
            assert_int_equal(dtls_record_protect(&wr, DTLS_CT_APPLICATION_DATA, DTLS_VERSION_1_2,
                                                 big_plain + 1, lens[i] ? lens[i] - 1 : 0, &w),
                             COAPS_OK);
            size_t dgram_len = w.off;

            struct wire_rd r = wire_rd_init(big_dgram, dgram_len);
            struct dtls_record rec;
            uint8_t *pt;
            size_t pt_len;
            assert_int_equal(dtls_record_next(&r, &rec), COAPS_OK);
            assert_int_equal(rec.epoch, 0);
            assert_true(rec.seq == 7);
            assert_int_equal(dtls_record_unprotect(NULL, &rec, big_dgram, dgram_len, &pt,
                                                   &pt_len),
                             COAPS_OK);
            assert_int_equal(pt_len, 5);
            assert_memory_equal(pt, "hello", 5);

            for (size_t j = 0; j < 2; j++) {
                size_t want_len = j ? (lens[i] ? lens[i] - 1 : 0) : lens[i];
                assert_int_equal(dtls_record_next(&r, &rec), COAPS_OK);
                assert_int_equal(rec.type, j ? DTLS_CT_APPLICATION_DATA : DTLS_CT_HANDSHAKE);
                assert_int_equal(rec.epoch, 1);
                assert_true(rec.seq == seq0 + j);
                assert_int_equal(rec.fragment_len, want_len + dtls_record_overhead(&rd) - 13);
                assert_int_equal(dtls_record_unprotect(&rd, &rec, big_dgram, dgram_len, &pt,
                                                       &pt_len),
                                 COAPS_OK);
                assert_int_equal(pt_len, want_len);
                /* in place: the plaintext is inside the datagram, right after
                 * the explicit nonce */
                assert_ptr_equal(pt, rec.fragment + rd.explicit_nonce_len);
                assert_memory_equal(pt, big_plain + j, want_len);
            }
            assert_int_equal(wire_rd_left(&r), 0);
        }
        dtls_cipher_state_clear(&wr);
        dtls_cipher_state_clear(&rd);
    }
}

/* The engine may build the plaintext where the ciphertext will go. */
static void protect_in_place_and_overlap_rules(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof all_algs / sizeof all_algs[0]; k++) {
        struct dtls_cipher_state wr, rd;
        make_pair(all_algs[k], 3, &wr, &rd);
        uint8_t buf[200], ref[200], plain[60];
        fill(plain, sizeof plain, 9);
        size_t off = dtls_record_payload_offset(&wr);
        memcpy(buf + 4 + off, plain, sizeof plain);
        struct wire_wr w = wire_wr_init(buf, sizeof buf);
        w.off = 4;
        assert_int_equal(dtls_record_protect(&wr, 23, DTLS_VERSION_1_2, buf + 4 + off,
                                             sizeof plain, &w),
                         COAPS_OK);
        /* the same record built from a separate buffer, same sequence number */
        wr.next_seq--;
        struct wire_wr w2 = wire_wr_init(ref, sizeof ref);
        w2.off = 4;
        assert_int_equal(dtls_record_protect(&wr, 23, DTLS_VERSION_1_2, plain, sizeof plain, &w2),
                         COAPS_OK);
        assert_true(bytes_equal_loud(buf + 4, w.off - 4, ref + 4, w2.off - 4));
        /* any other overlap with the output is refused */
        memcpy(buf + 6, plain, sizeof plain);
        w.off = 4;
        uint64_t seq = wr.next_seq;
        assert_int_equal(dtls_record_protect(&wr, 23, DTLS_VERSION_1_2, buf + 6, sizeof plain, &w),
                         COAPS_E_INVALID);
        assert_int_equal(w.off, 4);
        assert_true(wr.next_seq == seq);
        dtls_cipher_state_clear(&wr);
        dtls_cipher_state_clear(&rd);
    }
}

/* ---- failures ------------------------------------------------------------- */

/* Flip every bit of a protected record, one at a time: the record must never
 * come out as authentic plaintext (RFC 6347 4.1.2.7: drop it). Header bits
 * are covered by the AAD (type, version, seq, length) or select another
 * epoch / break framing. */
static void tampering_anywhere_fails(void **state)
{
    (void)state;
    uint8_t plain[24];
    fill(plain, sizeof plain, 0x41);
    for (size_t k = 0; k < sizeof all_algs / sizeof all_algs[0]; k++) {
        struct dtls_cipher_state wr, rd;
        make_pair(all_algs[k], 1, &wr, &rd);
        uint8_t good[100], dg[100];
        struct wire_wr w = wire_wr_init(good, sizeof good);
        assert_int_equal(dtls_record_protect(&wr, 23, DTLS_VERSION_1_2, plain, sizeof plain, &w),
                         COAPS_OK);
        size_t len = w.off;
        for (size_t bit = 0; bit < len * 8; bit++) {
            memcpy(dg, good, len);
            dg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            struct wire_rd r = wire_rd_init(dg, len);
            struct dtls_record rec;
            if (dtls_record_next(&r, &rec) != COAPS_OK)
                continue; /* length grew past the datagram: dropped */
            uint8_t *pt = NULL;
            size_t pt_len = 0;
            coaps_status st = dtls_record_unprotect(&rd, &rec, dg, len, &pt, &pt_len);
            if (st == COAPS_OK)
                fail_msg("alg %d: bit %zu flipped and the record still opened", (int)all_algs[k],
                         bit);
            size_t byte = bit / 8;
            bool in_aad_or_body = byte < 3 || (byte >= 5 && byte < 11) || byte >= 13;
            if (in_aad_or_body && rec.fragment_len == len - 13) {
                assert_int_equal(st, COAPS_E_AUTH);
                /* wiped: the payload area holds no plaintext */
                size_t off = 13 + rd.explicit_nonce_len;
                for (size_t i = off; i < off + sizeof plain; i++)
                    assert_int_equal(dg[i], 0);
            }
        }
        /* and the untouched record still opens */
        memcpy(dg, good, len);
        struct wire_rd r = wire_rd_init(dg, len);
        struct dtls_record rec;
        uint8_t *pt;
        size_t pt_len;
        assert_int_equal(dtls_record_next(&r, &rec), COAPS_OK);
        assert_int_equal(dtls_record_unprotect(&rd, &rec, dg, len, &pt, &pt_len), COAPS_OK);
        assert_memory_equal(pt, plain, sizeof plain);
        dtls_cipher_state_clear(&wr);
        dtls_cipher_state_clear(&rd);
    }
}

static void wrong_epoch_and_wrong_buffer_are_refused(void **state)
{
    (void)state;
    struct dtls_cipher_state wr, rd;
    make_pair(CRYPTO_AES_128_GCM, 1, &wr, &rd);
    uint8_t dg[100], other[100];
    struct wire_wr w = wire_wr_init(dg, sizeof dg);
    assert_int_equal(dtls_record_protect(&wr, 23, DTLS_VERSION_1_2, (const uint8_t *)"x", 1, &w),
                     COAPS_OK);
    struct wire_rd r = wire_rd_init(dg, w.off);
    struct dtls_record rec;
    uint8_t *pt;
    size_t pt_len;
    assert_int_equal(dtls_record_next(&r, &rec), COAPS_OK);
    /* an epoch-1 record has no NULL-cipher reading */
    assert_int_equal(dtls_record_unprotect(NULL, &rec, dg, w.off, &pt, &pt_len), COAPS_E_STATE);
    /* a read state of another epoch */
    rd.epoch = 2;
    assert_int_equal(dtls_record_unprotect(&rd, &rec, dg, w.off, &pt, &pt_len), COAPS_E_STATE);
    rd.epoch = 1;
    /* the record must lie in the buffer given */
    memcpy(other, dg, w.off);
    assert_int_equal(dtls_record_unprotect(&rd, &rec, other, w.off, &pt, &pt_len),
                     COAPS_E_INVALID);
    assert_int_equal(dtls_record_unprotect(&rd, &rec, dg, w.off - 1, &pt, &pt_len),
                     COAPS_E_INVALID);
    assert_int_equal(dtls_record_unprotect(&rd, &rec, dg, w.off, &pt, &pt_len), COAPS_OK);
    /* an epoch-0 record offered to an epoch-1 state */
    w = wire_wr_init(dg, sizeof dg);
    assert_int_equal(dtls_record_write_plain(22, DTLS_VERSION_1_2, 0, (const uint8_t *)"x", 1, &w),
                     COAPS_OK);
    r = wire_rd_init(dg, w.off);
    assert_int_equal(dtls_record_next(&r, &rec), COAPS_OK);
    assert_int_equal(dtls_record_unprotect(&rd, &rec, dg, w.off, &pt, &pt_len), COAPS_E_STATE);
    dtls_cipher_state_clear(&wr);
    dtls_cipher_state_clear(&rd);
}

static void fragment_length_limits(void **state)
{
    (void)state;
    struct dtls_cipher_state wr, rd;
    make_pair(CRYPTO_AES_128_CCM_8, 1, &wr, &rd);
    struct wire_wr w;
    struct wire_rd r;
    struct dtls_record rec;
    uint8_t *pt;
    size_t pt_len;

    /* shorter than explicit nonce + tag (8 + 8): malformed, not a crypto call */
    uint8_t small[13 + 16] = {23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 0, 0, 15};
    r = wire_rd_init(small, 13 + 15);
    assert_int_equal(dtls_record_next(&r, &rec), COAPS_OK);
    assert_int_equal(dtls_record_unprotect(&rd, &rec, small, 13 + 15, &pt, &pt_len),
                     COAPS_E_MALFORMED);
    /* exactly nonce + tag: an empty record, authentic if sealed so */
    w = wire_wr_init(small, sizeof small);
    assert_int_equal(dtls_record_protect(&wr, 23, DTLS_VERSION_1_2, NULL, 0, &w), COAPS_OK);
    assert_int_equal(w.off, 13 + 16);
    r = wire_rd_init(small, w.off);
    assert_int_equal(dtls_record_next(&r, &rec), COAPS_OK);
    assert_int_equal(dtls_record_unprotect(&rd, &rec, small, w.off, &pt, &pt_len), COAPS_OK);
    assert_int_equal(pt_len, 0);

    /* plaintext of 2^14 + 1 is record_overflow (RFC 5246 6.2.3), refused
     * before decrypting; the writer refuses to make one */
    size_t over = DTLS_MAX_PLAINTEXT_LEN + 1 + 16;
    memset(big_dgram, 0, 13 + over);
    big_dgram[0] = 23, big_dgram[1] = 0xfe, big_dgram[2] = 0xfd, big_dgram[4] = 1;
    big_dgram[11] = (uint8_t)(over >> 8), big_dgram[12] = (uint8_t)over;
    r = wire_rd_init(big_dgram, 13 + over);
    assert_int_equal(dtls_record_next(&r, &rec), COAPS_OK);
    assert_int_equal(dtls_record_unprotect(&rd, &rec, big_dgram, 13 + over, &pt, &pt_len),
                     COAPS_E_MALFORMED);
    w = wire_wr_init(big_dgram, sizeof big_dgram);
    assert_int_equal(dtls_record_protect(&wr, 23, DTLS_VERSION_1_2, big_plain,
                                         DTLS_MAX_PLAINTEXT_LEN + 1, &w),
                     COAPS_E_INVALID);
    assert_int_equal(dtls_record_write_plain(23, DTLS_VERSION_1_2, 0, big_plain,
                                             DTLS_MAX_PLAINTEXT_LEN + 1, &w),
                     COAPS_E_INVALID);
    /* an epoch-0 plaintext record of 2^14 + 1 */
    big_dgram[4] = 0;
    big_dgram[11] = (uint8_t)((DTLS_MAX_PLAINTEXT_LEN + 1) >> 8), big_dgram[12] = 1;
    r = wire_rd_init(big_dgram, 13 + DTLS_MAX_PLAINTEXT_LEN + 1);
    assert_int_equal(dtls_record_next(&r, &rec), COAPS_OK);
    assert_int_equal(dtls_record_unprotect(NULL, &rec, big_dgram, 13 + DTLS_MAX_PLAINTEXT_LEN + 1,
                                           &pt, &pt_len),
                     COAPS_E_MALFORMED);
    dtls_cipher_state_clear(&wr);
    dtls_cipher_state_clear(&rd);
}

static void no_space_leaves_writer_and_sequence_alone(void **state)
{
    (void)state;
    struct dtls_cipher_state wr, rd;
    make_pair(CRYPTO_AES_128_GCM, 1, &wr, &rd);
    uint8_t buf[13 + 8 + 10 + 16];
    struct wire_wr w = wire_wr_init(buf, sizeof buf - 1);
    assert_int_equal(dtls_record_protect(&wr, 23, DTLS_VERSION_1_2, big_plain, 10, &w),
                     COAPS_E_NOSPACE);
    assert_int_equal(w.off, 0);
    assert_true(wr.next_seq == 0);
    w = wire_wr_init(buf, sizeof buf);
    assert_int_equal(dtls_record_protect(&wr, 23, DTLS_VERSION_1_2, big_plain, 10, &w), COAPS_OK);
    assert_int_equal(w.off, sizeof buf);
    w = wire_wr_init(buf, 13 + 4);
    assert_int_equal(dtls_record_write_plain(22, DTLS_VERSION_1_2, 1, big_plain, 5, &w),
                     COAPS_E_NOSPACE);
    assert_int_equal(w.off, 0);
    dtls_cipher_state_clear(&wr);
    dtls_cipher_state_clear(&rd);
}

/* RFC 6347 4.1: the 48-bit sequence number must not wrap; the last number
 * is usable, after it the state refuses (the nonce would repeat). */
static void sequence_exhaustion_refuses_to_wrap(void **state)
{
    (void)state;
    struct dtls_cipher_state wr, rd;
    make_pair(CRYPTO_CHACHA20_POLY1305, 1, &wr, &rd);
    uint8_t buf[64];
    wr.next_seq = DTLS_SEQ_MAX;
    struct wire_wr w = wire_wr_init(buf, sizeof buf);
    assert_int_equal(dtls_record_protect(&wr, 23, DTLS_VERSION_1_2, (const uint8_t *)"z", 1, &w),
                     COAPS_OK);
    size_t len = w.off;
    assert_int_equal(dtls_record_protect(&wr, 23, DTLS_VERSION_1_2, (const uint8_t *)"z", 1, &w),
                     COAPS_E_STATE);
    assert_int_equal(w.off, len);
    struct wire_rd r = wire_rd_init(buf, len);
    struct dtls_record rec;
    uint8_t *pt;
    size_t pt_len;
    assert_int_equal(dtls_record_next(&r, &rec), COAPS_OK);
    assert_true(rec.seq == DTLS_SEQ_MAX);
    assert_int_equal(dtls_record_unprotect(&rd, &rec, buf, len, &pt, &pt_len), COAPS_OK);
    assert_int_equal(dtls_record_write_plain(22, DTLS_VERSION_1_2, DTLS_SEQ_MAX + 1, NULL, 0, &w),
                     COAPS_E_INVALID);
    dtls_cipher_state_clear(&wr);
    dtls_cipher_state_clear(&rd);
}

static void init_checks_key_block_pieces(void **state)
{
    (void)state;
    struct dtls_cipher_state cs;
    uint8_t key[32] = {0}, iv[12] = {0};
    assert_int_equal(dtls_cipher_state_init(&cs, CRYPTO_AES_128_GCM, 1, key, 16, iv, 12),
                     COAPS_E_INVALID); /* GCM takes a 4-byte salt */
    assert_int_equal(dtls_cipher_state_init(&cs, CRYPTO_CHACHA20_POLY1305, 1, key, 32, iv, 4),
                     COAPS_E_INVALID);
    assert_int_equal(dtls_cipher_state_init(&cs, CRYPTO_AES_256_GCM, 1, key, 16, iv, 4),
                     COAPS_E_INVALID);
    assert_false(cs.aead.live);
    dtls_cipher_state_clear(&cs); /* safe after a failed init */
    assert_int_equal(dtls_cipher_fixed_iv_len(CRYPTO_AES_128_CCM_8), 4);
    assert_int_equal(dtls_cipher_fixed_iv_len(CRYPTO_CHACHA20_POLY1305), 12);
    assert_int_equal(dtls_cipher_fixed_iv_len((enum crypto_aead_alg)77), 0);
    /* protect on a cleared state is refused, not a crash */
    uint8_t buf[64];
    struct wire_wr w = wire_wr_init(buf, sizeof buf);
    assert_int_equal(dtls_record_protect(&cs, 23, DTLS_VERSION_1_2, NULL, 0, &w),
                     COAPS_E_INVALID);
}

/* ---- no allocation per record ------------------------------------------- */

/* The datagram path (split, protect, unprotect) allocates nothing once the
 * cipher states are keyed. */
static void record_path_does_not_allocate(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof all_algs / sizeof all_algs[0]; k++) {
        struct dtls_cipher_state wr, rd;
        size_t at_start = n_allocs;
        make_pair(all_algs[k], 1, &wr, &rd);
        assert_true(n_allocs > at_start); /* the hooks do count */
        uint8_t dg[600], pt_in[100];
        fill(pt_in, sizeof pt_in, 3);
        size_t before = 0;
        for (int round = 0; round < 20; round++) {
            if (round == 1)
                before = n_allocs; /* round 0 is a warm-up */
            struct wire_wr w = wire_wr_init(dg, sizeof dg);
            for (int i = 0; i < 4; i++)
                assert_int_equal(dtls_record_protect(&wr, 23, DTLS_VERSION_1_2, pt_in,
                                                     (size_t)(round + i * 20), &w),
                                 COAPS_OK);
            struct wire_rd r = wire_rd_init(dg, w.off);
            struct dtls_record rec;
            while (wire_rd_left(&r) > 0) {
                uint8_t *pt;
                size_t pt_len;
                assert_int_equal(dtls_record_next(&r, &rec), COAPS_OK);
                assert_int_equal(dtls_record_unprotect(&rd, &rec, dg, w.off, &pt, &pt_len),
                                 COAPS_OK);
            }
        }
        if (n_allocs != before)
            fail_msg("alg %d: %zu allocations on the record path", (int)all_algs[k],
                     n_allocs - before);
        dtls_cipher_state_clear(&wr);
        dtls_cipher_state_clear(&rd);
    }
}

int main(void)
{
    /* before anything else touches the crypto library */
    if (!alloc_count_install())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(splits_several_records_per_datagram),
        cmocka_unit_test(truncated_header_or_length_past_datagram_drops_the_rest),
        cmocka_unit_test(protect_matches_hand_built_nonce_and_aad),
        cmocka_unit_test(overheads_per_suite),
        cmocka_unit_test(round_trip_every_suite_in_place),
        cmocka_unit_test(protect_in_place_and_overlap_rules),
        cmocka_unit_test(tampering_anywhere_fails),
        cmocka_unit_test(wrong_epoch_and_wrong_buffer_are_refused),
        cmocka_unit_test(fragment_length_limits),
        cmocka_unit_test(no_space_leaves_writer_and_sequence_alone),
        cmocka_unit_test(sequence_exhaustion_refuses_to_wrap),
        cmocka_unit_test(init_checks_key_block_pieces),
        cmocka_unit_test(record_path_does_not_allocate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
