/*
 * test_crypto_aead.c - the five record AEADs of src/crypto against published
 * vectors, all with the 12-byte nonce our API (and TLS 1.2) uses:
 *   AES-GCM: McGrew/Viega GCM specification test cases 2, 3, 4 (AES-128)
 *     and 13, 14, 15, 16 (AES-256), the same as NIST SP 800-38D's examples;
 *   ChaCha20-Poly1305: RFC 8439 section 2.8.2;
 *   AES-128-CCM-8: NIST SP 800-38C appendix C example 3 (12-byte nonce,
 *     8-byte tag);
 *   AES-128-CCM (16-byte tag): no published vector with a 12-byte nonce was
 *     at hand, so the test carries a small reference CCM (RFC 3610 section 2
 *     written out over raw AES blocks from the library's AES-ECB, independent
 *     of its CCM code),
 *     checks that reference against SP 800-38C example 3 and RFC 3610 packet
 *     vector 1, and then compares our CCM-16 against it.
 * Plus: a flipped bit anywhere (ciphertext, tag, AAD, nonce) makes open fail
 * with COAPS_E_AUTH and wipe the output; in-place operation; empty payloads;
 * one context alternating seal and open; reuse after a failed open.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#if defined(COAPS_CRYPTO_PSA)
#include <mbedtls/aes.h>
#else
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#endif

#include "crypto/crypto.h"
#include "crypto/alloc_count.h"
#include "crypto/hexutil.h"

#define BUF 256

struct aead_vec {
    const char *name;
    enum crypto_aead_alg alg;
    const char *key, *nonce, *aad, *pt, *ct, *tag;
};

#define GCM_K1 "feffe9928665731c6d6a8f9467308308"
#define GCM_IV "cafebabefacedbaddecaf888"
#define GCM_P64                                                                                    \
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"                             \
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"
#define GCM_P60                                                                                    \
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"                             \
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
#define GCM_A "feedfacedeadbeeffeedfacedeadbeefabaddad2"
#define Z16 "00000000000000000000000000000000"
#define Z12 "000000000000000000000000"

static const struct aead_vec vecs[] = {
    {"GCM TC2", CRYPTO_AES_128_GCM, Z16, Z12, "", Z16, "0388dace60b6a392f328c2b971b2fe78",
     "ab6e47d42cec13bdf53a67b21257bddf"},
    {"GCM TC3", CRYPTO_AES_128_GCM, GCM_K1, GCM_IV, "", GCM_P64,
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
     "4d5c2af327cd64a62cf35abd2ba6fab4"},
    {"GCM TC4", CRYPTO_AES_128_GCM, GCM_K1, GCM_IV, GCM_A, GCM_P60,
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
     "5bc94fbc3221a5db94fae95ae7121a47"},
    {"GCM TC13", CRYPTO_AES_256_GCM, Z16 Z16, Z12, "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    {"GCM TC14", CRYPTO_AES_256_GCM, Z16 Z16, Z12, "", Z16, "cea7403d4d606b6e074ec5d3baf39d18",
     "d0d1c8a799996bf0265b98b5d48ab919"},
    {"GCM TC15", CRYPTO_AES_256_GCM, GCM_K1 GCM_K1, GCM_IV, "", GCM_P64,
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {"GCM TC16", CRYPTO_AES_256_GCM, GCM_K1 GCM_K1, GCM_IV, GCM_A, GCM_P60,
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
    /* RFC 8439 2.8.2: "Ladies and Gentlemen of the class of '99: ..." */
    {"RFC 8439 2.8.2", CRYPTO_CHACHA20_POLY1305,
     "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
     "070000004041424344454647", "50515253c0c1c2c3c4c5c6c7",
     "4c616469657320616e642047656e746c656d656e206f662074686520636c6173"
     "73206f66202739393a204966204920636f756c64206f6666657220796f75206f"
     "6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73"
     "637265656e20776f756c642062652069742e",
     "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
     "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
     "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
     "3ff4def08e4b7a9de576d26586cec64b6116",
     "1ae10b594f09e26a7e902ecbd0600691"},
    /* NIST SP 800-38C C.3: Nlen 12, Alen 20, Plen 24, Tlen 8 */
    {"SP 800-38C C.3", CRYPTO_AES_128_CCM_8, "404142434445464748494a4b4c4d4e4f",
     "101112131415161718191a1b", "000102030405060708090a0b0c0d0e0f10111213",
     "202122232425262728292a2b2c2d2e2f3031323334353637",
     "e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5", "484392fbc1b09951"},
};

struct decoded {
    uint8_t key[32], nonce[12], aad[BUF], pt[BUF], ct[BUF], tag[16];
    size_t key_len, aad_len, pt_len, ct_len, tag_len;
};

static void decode_vec(const struct aead_vec *v, struct decoded *d)
{
    d->key_len = hex_decode(v->key, d->key, sizeof d->key);
    assert_int_equal(hex_decode(v->nonce, d->nonce, sizeof d->nonce), 12);
    d->aad_len = hex_decode(v->aad, d->aad, sizeof d->aad);
    d->pt_len = hex_decode(v->pt, d->pt, sizeof d->pt);
    d->ct_len = hex_decode(v->ct, d->ct, sizeof d->ct);
    d->tag_len = hex_decode(v->tag, d->tag, sizeof d->tag);
    assert_int_equal(d->key_len, crypto_aead_key_len(v->alg));
    assert_int_equal(d->tag_len, crypto_aead_tag_len(v->alg));
    assert_int_equal(d->pt_len, d->ct_len);
}

static void seal_and_open_match_published_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++) {
        const struct aead_vec *v = &vecs[i];
        struct decoded d;
        decode_vec(v, &d);
        print_message("  %s\n", v->name);
        struct crypto_aead a;
        assert_int_equal(crypto_aead_init(&a, v->alg, d.key, d.key_len), COAPS_OK);

        uint8_t out[BUF + 16], want[BUF + 16];
        memcpy(want, d.ct, d.ct_len);
        memcpy(want + d.ct_len, d.tag, d.tag_len);
        assert_int_equal(crypto_aead_seal(&a, d.nonce, d.aad, d.aad_len, d.pt, d.pt_len, out),
                         COAPS_OK);
        assert_true(bytes_equal_loud(out, d.pt_len + d.tag_len, want, d.ct_len + d.tag_len));

        uint8_t plain[BUF];
        assert_int_equal(crypto_aead_open(&a, d.nonce, d.aad, d.aad_len, want, d.ct_len, plain),
                         COAPS_OK);
        assert_true(bytes_equal_loud(plain, d.ct_len, d.pt, d.pt_len));

        /* in place both ways */
        memcpy(out, d.pt, d.pt_len);
        assert_int_equal(crypto_aead_seal(&a, d.nonce, d.aad, d.aad_len, out, d.pt_len, out),
                         COAPS_OK);
        assert_true(bytes_equal_loud(out, d.pt_len + d.tag_len, want, d.ct_len + d.tag_len));
        assert_int_equal(crypto_aead_open(&a, d.nonce, d.aad, d.aad_len, out, d.ct_len, out),
                         COAPS_OK);
        assert_true(bytes_equal_loud(out, d.ct_len, d.pt, d.pt_len));
        crypto_aead_clear(&a);
        assert_false(a.live);
    }
}

/* ---- reference CCM (RFC 3610 section 2) over raw AES-128 blocks --------- */

/* One raw AES-128 block encryption, E(K, in), from the crypto library:
 * OpenSSL's EVP AES-128-ECB, or Mbed TLS's AES block function (the PSA
 * build leaves the unauthenticated PSA cipher modes out, see
 * scripts/install-mbedtls). */
#if defined(COAPS_CRYPTO_PSA)
typedef mbedtls_aes_context *aes_ecb;

static aes_ecb aes_ecb_new(const uint8_t key[16])
{
    static mbedtls_aes_context ctx; /* one reference CCM at a time */
    mbedtls_aes_init(&ctx);
    assert_int_equal(mbedtls_aes_setkey_enc(&ctx, key, 128), 0);
    return &ctx;
}

static void aes_block(aes_ecb ecb, const uint8_t in[16], uint8_t out[16])
{
    assert_int_equal(mbedtls_aes_crypt_ecb(ecb, MBEDTLS_AES_ENCRYPT, in, out), 0);
}

static void aes_ecb_free(aes_ecb ecb)
{
    mbedtls_aes_free(ecb);
}
#else
typedef EVP_CIPHER_CTX *aes_ecb;

static aes_ecb aes_ecb_new(const uint8_t key[16])
{
    EVP_CIPHER_CTX *ecb = EVP_CIPHER_CTX_new();
    assert_non_null(ecb);
    assert_int_equal(EVP_EncryptInit_ex(ecb, EVP_aes_128_ecb(), NULL, key, NULL), 1);
    EVP_CIPHER_CTX_set_padding(ecb, 0);
    return ecb;
}

static void aes_block(aes_ecb ecb, const uint8_t in[16], uint8_t out[16])
{
    int n = 0;
    assert_int_equal(EVP_EncryptUpdate(ecb, out, &n, in, 16), 1);
    assert_int_equal(n, 16);
}

static void aes_ecb_free(aes_ecb ecb)
{
    EVP_CIPHER_CTX_free(ecb);
}
#endif

static void cbc_mac_absorb(aes_ecb ecb, uint8_t x[16], const uint8_t *p, size_t len,
                           size_t *fill)
{
    for (size_t i = 0; i < len; i++) {
        x[*fill] ^= p[i];
        if (++*fill == 16) {
            aes_block(ecb, x, x);
            *fill = 0;
        }
    }
}

static void ref_ccm(const uint8_t key[16], const uint8_t *nonce, size_t nlen, const uint8_t *aad,
                    size_t alen, const uint8_t *pt, size_t plen, size_t m, uint8_t *ct,
                    uint8_t *tag)
{
    aes_ecb ecb = aes_ecb_new(key);
    size_t l = 15 - nlen;
    uint8_t b[16] = {0}, x[16];
    /* B_0 = Flags || Nonce || l(m); Flags = 64*Adata + 8*M' + L' */
    b[0] = (uint8_t)((alen ? 0x40 : 0) | ((m - 2) / 2) << 3 | (l - 1));
    memcpy(b + 1, nonce, nlen);
    for (size_t i = 0; i < l; i++)
        b[15 - i] = (uint8_t)(plen >> (8 * i));
    aes_block(ecb, b, x);
    size_t fill = 0;
    if (alen) {
        uint8_t enc[2] = {(uint8_t)(alen >> 8), (uint8_t)alen}; /* alen < 2^16 - 2^8 */
        cbc_mac_absorb(ecb, x, enc, 2, &fill);
        cbc_mac_absorb(ecb, x, aad, alen, &fill);
        if (fill) {
            aes_block(ecb, x, x);
            fill = 0;
        }
    }
    cbc_mac_absorb(ecb, x, pt, plen, &fill);
    if (fill)
        aes_block(ecb, x, x);
    /* A_i = Flags(L') || Nonce || i; S_0 encrypts the tag */
    uint8_t a[16] = {0}, s[16];
    a[0] = (uint8_t)(l - 1);
    memcpy(a + 1, nonce, nlen);
    aes_block(ecb, a, s);
    for (size_t i = 0; i < m; i++)
        tag[i] = x[i] ^ s[i];
    for (size_t off = 0, ctr = 1; off < plen; off += 16, ctr++) {
        for (size_t i = 0; i < l; i++)
            a[15 - i] = (uint8_t)(ctr >> (8 * i));
        aes_block(ecb, a, s);
        for (size_t i = 0; i < 16 && off + i < plen; i++)
            ct[off + i] = pt[off + i] ^ s[i];
    }
    aes_ecb_free(ecb);
}

static void reference_ccm_matches_published_vectors(void **state)
{
    (void)state;
    uint8_t key[16], nonce[13], aad[32], pt[32], want[40], ct[32], tag[16];
    /* SP 800-38C C.3 */
    hex_decode("404142434445464748494a4b4c4d4e4f", key, 16);
    hex_decode("101112131415161718191a1b", nonce, 12);
    size_t alen = hex_decode("000102030405060708090a0b0c0d0e0f10111213", aad, sizeof aad);
    size_t plen = hex_decode("202122232425262728292a2b2c2d2e2f3031323334353637", pt, sizeof pt);
    size_t wlen = hex_decode("e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5484392fbc1b09951",
                             want, sizeof want);
    ref_ccm(key, nonce, 12, aad, alen, pt, plen, 8, ct, tag);
    assert_true(bytes_equal_loud(ct, plen, want, plen));
    assert_true(bytes_equal_loud(tag, 8, want + plen, wlen - plen));
    /* RFC 3610 packet vector #1: 13-byte nonce, M = 8 */
    hex_decode("c0c1c2c3c4c5c6c7c8c9cacbcccdcecf", key, 16);
    hex_decode("00000003020100a0a1a2a3a4a5", nonce, 13);
    alen = hex_decode("0001020304050607", aad, sizeof aad);
    plen = hex_decode("08090a0b0c0d0e0f101112131415161718191a1b1c1d1e", pt, sizeof pt);
    wlen = hex_decode("588c979a61c663d2f066d0c2c0f989806d5f6b61dac384 17e8d12cfdf926e0", want,
                      sizeof want);
    ref_ccm(key, nonce, 13, aad, alen, pt, plen, 8, ct, tag);
    assert_true(bytes_equal_loud(ct, plen, want, plen));
    assert_true(bytes_equal_loud(tag, 8, want + plen, wlen - plen));
}

static void ccm16_matches_reference_ccm(void **state)
{
    (void)state;
    uint8_t key[16], nonce[12], aad[13], pt[100], out[116], ct[100], tag[16];
    for (size_t i = 0; i < 16; i++)
        key[i] = (uint8_t)(0xc0 + i);
    for (size_t i = 0; i < 12; i++)
        nonce[i] = (uint8_t)(0xa0 + 3 * i);
    for (size_t i = 0; i < 13; i++)
        aad[i] = (uint8_t)i; /* the length of the TLS AAD */
    for (size_t i = 0; i < sizeof pt; i++)
        pt[i] = (uint8_t)(i * 7 + 1);
    struct crypto_aead a;
    assert_int_equal(crypto_aead_init(&a, CRYPTO_AES_128_CCM, key, 16), COAPS_OK);
    static const size_t lens[] = {0, 1, 15, 16, 17, 100};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        size_t len = lens[i];
        ref_ccm(key, nonce, 12, aad, 13, pt, len, 16, ct, tag);
        assert_int_equal(crypto_aead_seal(&a, nonce, aad, 13, pt, len, out), COAPS_OK);
        assert_true(bytes_equal_loud(out, len, ct, len));
        assert_true(bytes_equal_loud(out + len, 16, tag, 16));
        /* and CCM-8 against the same reference */
        struct crypto_aead a8;
        assert_int_equal(crypto_aead_init(&a8, CRYPTO_AES_128_CCM_8, key, 16), COAPS_OK);
        ref_ccm(key, nonce, 12, aad, 13, pt, len, 8, ct, tag);
        assert_int_equal(crypto_aead_seal(&a8, nonce, aad, 13, pt, len, out), COAPS_OK);
        assert_true(bytes_equal_loud(out, len, ct, len));
        assert_true(bytes_equal_loud(out + len, 8, tag, 8));
        crypto_aead_clear(&a8);
    }
    crypto_aead_clear(&a);
}

/* ---- failure behaviour -------------------------------------------------- */

static const enum crypto_aead_alg all_algs[] = {CRYPTO_AES_128_CCM_8, CRYPTO_AES_128_CCM,
                                                CRYPTO_AES_128_GCM, CRYPTO_AES_256_GCM,
                                                CRYPTO_CHACHA20_POLY1305};

static void expect_open_fails_and_wipes(struct crypto_aead *a, const uint8_t *nonce,
                                        const uint8_t *aad, size_t aad_len, const uint8_t *sealed,
                                        size_t len)
{
    uint8_t out[64];
    memset(out, 0xee, sizeof out);
    assert_int_equal(crypto_aead_open(a, nonce, aad, aad_len, sealed, len, out), COAPS_E_AUTH);
    for (size_t i = 0; i < len; i++)
        assert_int_equal(out[i], 0); /* RFC 5116 2.2: no unauthenticated plaintext */
}

/* RFC 5116 2.2: any change to ciphertext, tag, AAD or nonce makes
 * decryption fail. Every single-bit flip is tried. */
static void flipped_bit_fails_auth_and_wipes(void **state)
{
    (void)state;
    uint8_t key[32], nonce[12], aad[13], pt[40], sealed[56];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(i * 13 + 5);
    memset(nonce, 0x42, sizeof nonce);
    memset(aad, 0x17, sizeof aad);
    memset(pt, 0x61, sizeof pt);
    for (size_t k = 0; k < sizeof all_algs / sizeof all_algs[0]; k++) {
        enum crypto_aead_alg alg = all_algs[k];
        size_t tag_len = crypto_aead_tag_len(alg);
        struct crypto_aead a;
        assert_int_equal(crypto_aead_init(&a, alg, key, crypto_aead_key_len(alg)), COAPS_OK);
        assert_int_equal(crypto_aead_seal(&a, nonce, aad, sizeof aad, pt, sizeof pt, sealed),
                         COAPS_OK);
        for (size_t bit = 0; bit < (sizeof pt + tag_len) * 8; bit++) {
            sealed[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            expect_open_fails_and_wipes(&a, nonce, aad, sizeof aad, sealed, sizeof pt);
            sealed[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        for (size_t bit = 0; bit < sizeof aad * 8; bit++) {
            aad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            expect_open_fails_and_wipes(&a, nonce, aad, sizeof aad, sealed, sizeof pt);
            aad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        for (size_t bit = 0; bit < sizeof nonce * 8; bit++) {
            nonce[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            expect_open_fails_and_wipes(&a, nonce, aad, sizeof aad, sealed, sizeof pt);
            nonce[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        /* a shorter AAD, or a ciphertext cut short, fails too */
        expect_open_fails_and_wipes(&a, nonce, aad, sizeof aad - 1, sealed, sizeof pt);
        expect_open_fails_and_wipes(&a, nonce, aad, sizeof aad, sealed, sizeof pt - 1);
        /* after all those failures the context still works */
        uint8_t out[40];
        assert_int_equal(crypto_aead_open(&a, nonce, aad, sizeof aad, sealed, sizeof pt, out),
                         COAPS_OK);
        assert_memory_equal(out, pt, sizeof pt);
        crypto_aead_clear(&a);
    }
}

/* A context serves both directions and many records: alternate seal/open
 * with changing nonces and lengths, including empty payloads (an empty
 * application-data record is legal, RFC 5246 6.2.1). */
static void one_context_alternates_seal_and_open(void **state)
{
    (void)state;
    uint8_t key[32];
    memset(key, 0x3c, sizeof key);
    for (size_t k = 0; k < sizeof all_algs / sizeof all_algs[0]; k++) {
        enum crypto_aead_alg alg = all_algs[k];
        size_t tag_len = crypto_aead_tag_len(alg);
        struct crypto_aead a, b;
        assert_int_equal(crypto_aead_init(&a, alg, key, crypto_aead_key_len(alg)), COAPS_OK);
        assert_int_equal(crypto_aead_init(&b, alg, key, crypto_aead_key_len(alg)), COAPS_OK);
        for (size_t len = 0; len < 70; len += 23) {
            for (uint8_t seq = 0; seq < 3; seq++) {
                uint8_t nonce[12] = {0}, pt[80], buf[96], back[80];
                nonce[11] = seq;
                nonce[0] = (uint8_t)len;
                memset(pt, (int)(len + seq), sizeof pt);
                assert_int_equal(crypto_aead_seal(&a, nonce, nonce, 5, pt, len, buf), COAPS_OK);
                assert_int_equal(crypto_aead_open(&b, nonce, nonce, 5, buf, len, back), COAPS_OK);
                assert_memory_equal(back, pt, len);
                /* and back the other way on the same two contexts */
                assert_int_equal(crypto_aead_seal(&b, nonce, NULL, 0, pt, len, buf), COAPS_OK);
                assert_int_equal(crypto_aead_open(&a, nonce, NULL, 0, buf, len, back), COAPS_OK);
                assert_memory_equal(back, pt, len);
                buf[len + tag_len - 1] ^= 1;
                assert_int_equal(crypto_aead_open(&a, nonce, NULL, 0, buf, len, back),
                                 COAPS_E_AUTH);
            }
        }
        crypto_aead_clear(&a);
        crypto_aead_clear(&b);
    }
}

static void init_rejects_bad_keys(void **state)
{
    (void)state;
    uint8_t key[33] = {0};
    struct crypto_aead a;
    assert_int_equal(crypto_aead_init(&a, CRYPTO_AES_128_GCM, key, 32), COAPS_E_INVALID);
    assert_false(a.live);
    assert_int_equal(crypto_aead_init(&a, CRYPTO_CHACHA20_POLY1305, key, 16), COAPS_E_INVALID);
    assert_int_equal(crypto_aead_init(&a, (enum crypto_aead_alg)42, key, 16), COAPS_E_INVALID);
    assert_int_equal(crypto_aead_init(&a, CRYPTO_AES_128_CCM, NULL, 16), COAPS_E_INVALID);
    assert_int_equal(crypto_aead_key_len((enum crypto_aead_alg)42), 0);
    assert_int_equal(crypto_aead_tag_len(CRYPTO_AES_128_CCM_8), 8);
    crypto_aead_clear(&a); /* harmless on a failed init */
}

/* ---- allocation counting ----------------------------------------------- */

/* crypto.h: "Seal/open are called per record and must not allocate". */
static void seal_and_open_do_not_allocate(void **state)
{
    (void)state;
    uint8_t key[32], nonce[12] = {0}, aad[13], buf[300 + 16];
    memset(key, 7, sizeof key);
    memset(aad, 1, sizeof aad);
    for (size_t k = 0; k < sizeof all_algs / sizeof all_algs[0]; k++) {
        struct crypto_aead wr, rd;
        enum crypto_aead_alg alg = all_algs[k];
        size_t at_start = n_allocs;
        assert_int_equal(crypto_aead_init(&wr, alg, key, crypto_aead_key_len(alg)), COAPS_OK);
        assert_int_equal(crypto_aead_init(&rd, alg, key, crypto_aead_key_len(alg)), COAPS_OK);
        assert_true(n_allocs > at_start); /* the hooks do count (set-up allocates) */
        /* one warm-up round (a backend may set up lazily once) */
        assert_int_equal(crypto_aead_seal(&wr, nonce, aad, 13, buf, 300, buf), COAPS_OK);
        assert_int_equal(crypto_aead_open(&rd, nonce, aad, 13, buf, 300, buf), COAPS_OK);
        size_t before = n_allocs;
        for (uint8_t i = 0; i < 50; i++) {
            nonce[11] = i;
            size_t len = (size_t)i * 6;
            assert_int_equal(crypto_aead_seal(&wr, nonce, aad, 13, buf, len, buf), COAPS_OK);
            assert_int_equal(crypto_aead_open(&rd, nonce, aad, 13, buf, len, buf), COAPS_OK);
        }
        if (n_allocs != before)
            fail_msg("alg %d: %zu allocations on the record path", (int)alg, n_allocs - before);
        crypto_aead_clear(&wr);
        crypto_aead_clear(&rd);
    }
}

#if !defined(COAPS_CRYPTO_PSA)
/* OpenSSL only: a forged record must not leave an entry in the thread's
 * OpenSSL error queue (PSA has no error queue: its status is the result). */
static void failed_open_leaves_no_openssl_error(void **state)
{
    (void)state;
    uint8_t key[32] = {0}, nonce[12] = {0}, buf[40] = {0};
    for (size_t k = 0; k < sizeof all_algs / sizeof all_algs[0]; k++) {
        struct crypto_aead a;
        assert_int_equal(crypto_aead_init(&a, all_algs[k], key, crypto_aead_key_len(all_algs[k])),
                         COAPS_OK);
        ERR_clear_error();
        assert_int_equal(crypto_aead_open(&a, nonce, NULL, 0, buf, 20, buf), COAPS_E_AUTH);
        assert_int_equal(ERR_peek_error(), 0);
        crypto_aead_clear(&a);
    }
}
#endif

int main(void)
{
    /* before anything else touches the crypto library */
    if (!alloc_count_install())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seal_and_open_match_published_vectors),
        cmocka_unit_test(reference_ccm_matches_published_vectors),
        cmocka_unit_test(ccm16_matches_reference_ccm),
        cmocka_unit_test(flipped_bit_fails_auth_and_wipes),
        cmocka_unit_test(one_context_alternates_seal_and_open),
        cmocka_unit_test(init_rejects_bad_keys),
        cmocka_unit_test(seal_and_open_do_not_allocate),
#if !defined(COAPS_CRYPTO_PSA)
        cmocka_unit_test(failed_open_leaves_no_openssl_error),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
