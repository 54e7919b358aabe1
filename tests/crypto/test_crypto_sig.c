/*
 * test_crypto_sig.c - verification of peers' handshake signatures by
 * crypto_peer_key_verify (sig.c of the configured backend, src/crypto/
 * openssl/ or src/crypto/psa/: the same results on both) under TLS
 * SignatureScheme codes (RFC 8446 4.2.3, RFC 5246 7.4.1.4.1):
 *   - published vectors: RFC 6979 A.2.5 (P-256 key; "sample" and "test"
 *     with SHA-256, "sample" with SHA-384 and SHA-512; the DER encoding of
 *     (r, s) is done here by hand), through a pinned raw public key;
 *   - RSA PKCS#1 v1.5 and PSS (SHA-256/384/512) and ECDSA P-384/SHA-384
 *     signatures made by `openssl dgst -sign` in scripts/make-test-certs,
 *     with the key from the verified certificate;
 *   - refusals: every scheme against the wrong padding or hash, flipped
 *     bits, empty and oversized signatures, schemes that do not fit the key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "crypto/crypto.h"
#include "crypto/hexutil.h"
#include "crypto/pki_fixtures.h"

/* DER SubjectPublicKeyInfo prefix of an uncompressed P-256 point
 * (RFC 5480 2: id-ecPublicKey, secp256r1; BIT STRING of 66 bytes). */
#define P256_SPKI_PREFIX "3059301306072a8648ce3d020106082a8648ce3d030107034200"
/* RFC 6979 A.2.5 public key U = xG */
#define RFC6979_U                                                                                  \
    "0460FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6"                           \
    "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299"

static const struct {
    uint16_t scheme;
    const char *msg;
    const char *der; /* SEQUENCE { INTEGER r, INTEGER s } */
} rfc6979[] = {
    {0x0403, "sample",
     "3046022100EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716"
     "022100F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8"},
    {0x0403, "test",
     "3045022100F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367"
     "0220019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083"},
    /* r has a leading zero nibble (0E..): no pad byte; s top bit clear */
    {0x0503, "sample",
     "304402200EAFEA039B20E9B42309FB1D89E213057CBF973DC0CFC8F129EDDDC800EF7719"
     "02204861F0491E6998B9455193E34E7B0D284DDD7149A74B95B9261F13ABDE940954"},
    {0x0603, "sample",
     "30450221008496A60B5E9B47C825488827E0495B0E3FA109EC4568FD3F8D1097678EB97F00"
     "02202362AB1ADBE2B8ADF9CB9EDAB740EA6049C028114F2460F96554F61FAE3302FE"},
};

static void rfc6979_key(struct crypto_trust *t, struct crypto_peer_key *key)
{
    uint8_t spki[128];
    size_t n = hex_decode(P256_SPKI_PREFIX RFC6979_U, spki, sizeof spki);
    assert_int_equal(n, 91);
    assert_int_equal(crypto_trust_init(t), COAPS_OK);
    assert_int_equal(crypto_trust_add_rpk_der(t, spki, n), COAPS_OK);
    enum crypto_x509_reason r;
    assert_int_equal(crypto_rpk_match(t, spki, n, key, &r), COAPS_OK);
    assert_int_equal(key->type, CRYPTO_PEER_KEY_EC_P256);
}

static void ecdsa_p256_rfc6979_vectors_verify(void **state)
{
    (void)state;
    struct crypto_trust t = {0};
    struct crypto_peer_key key = {0};
    rfc6979_key(&t, &key);
    for (size_t i = 0; i < sizeof rfc6979 / sizeof rfc6979[0]; i++) {
        uint8_t sig[80];
        size_t sig_len = hex_decode(rfc6979[i].der, sig, sizeof sig);
        const uint8_t *m = (const uint8_t *)rfc6979[i].msg;
        size_t m_len = strlen(rfc6979[i].msg);
        if (crypto_peer_key_verify(&key, rfc6979[i].scheme, m, m_len, sig, sig_len) != COAPS_OK) {
            fprintf(stderr, "vector %zu (scheme %04x, %s) does not verify\n", i,
                    rfc6979[i].scheme, rfc6979[i].msg);
            fail();
        }
        /* the same signature under another hash does not verify */
        uint16_t other = rfc6979[i].scheme == 0x0403 ? 0x0503 : 0x0403;
        assert_int_equal(crypto_peer_key_verify(&key, other, m, m_len, sig, sig_len),
                         COAPS_E_VERIFY);
        /* nor over another message, nor with any single bit flipped */
        assert_int_equal(crypto_peer_key_verify(&key, rfc6979[i].scheme, m, m_len - 1, sig,
                                                sig_len),
                         COAPS_E_VERIFY);
        for (size_t bit = 0; bit < sig_len * 8; bit++) {
            sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            assert_int_equal(crypto_peer_key_verify(&key, rfc6979[i].scheme, m, m_len, sig,
                                                    sig_len),
                             COAPS_E_VERIFY);
            sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        /* trailing garbage after the DER is not strict DER */
        sig[sig_len] = 0;
        assert_int_equal(crypto_peer_key_verify(&key, rfc6979[i].scheme, m, m_len, sig,
                                                sig_len + 1),
                         COAPS_E_VERIFY);
    }
    crypto_peer_key_clear(&key);
    crypto_trust_clear(&t);
}

/* The leaf key of a fixture chain, verified against trust.pem. */
static void cert_key(const char *file, struct crypto_peer_key *key,
                     enum crypto_peer_key_type want)
{
    struct crypto_trust t = {0};
    char msg[CRYPTO_MSG_MAX] = "";
    assert_int_equal(crypto_trust_init(&t), COAPS_OK);
    assert_int_equal(crypto_trust_load_file(&t, fix_path("trust.pem"), msg), COAPS_OK);
    struct fix_chain ch = {0};
    fix_chain_of(&ch, file, NULL);
    enum crypto_x509_reason r;
    assert_int_equal(crypto_x509_verify_chain(&t, ch.ptr, ch.len, ch.n, "localhost",
                                              CRYPTO_X509_PURPOSE_SERVER, 0, key, &r),
                     COAPS_OK);
    assert_int_equal(key->type, want);
    crypto_trust_clear(&t); /* the key holds its own reference */
}

static const struct {
    const char *file;
    uint16_t scheme;
} rsa_sigs[] = {
    {"sig-rsa-pkcs1-sha256.bin", 0x0401}, {"sig-rsa-pkcs1-sha384.bin", 0x0501},
    {"sig-rsa-pkcs1-sha512.bin", 0x0601}, {"sig-rsa-pss-sha256.bin", 0x0804},
    {"sig-rsa-pss-sha384.bin", 0x0805},   {"sig-rsa-pss-sha512.bin", 0x0806},
};
static const uint16_t all_schemes[] = {0x0401, 0x0501, 0x0601, 0x0403, 0x0503,
                                       0x0603, 0x0804, 0x0805, 0x0806};

static void rsa_pkcs1_and_pss_verify_only_under_their_scheme(void **state)
{
    (void)state;
    struct crypto_peer_key key = {0};
    cert_key("rsa-leaf.pem", &key, CRYPTO_PEER_KEY_RSA);
    uint8_t m[256], sig[CRYPTO_SIG_VERIFY_MAX + 2];
    size_t m_len = fix_read("msg.bin", m, sizeof m);
    for (size_t i = 0; i < sizeof rsa_sigs / sizeof rsa_sigs[0]; i++) {
        size_t sig_len = fix_read(rsa_sigs[i].file, sig, sizeof sig);
        assert_int_equal(sig_len, 256); /* RSA-2048 */
        for (size_t j = 0; j < sizeof all_schemes / sizeof all_schemes[0]; j++) {
            uint16_t s = all_schemes[j];
            coaps_status st = crypto_peer_key_verify(&key, s, m, m_len, sig, sig_len);
            coaps_status want = s == rsa_sigs[i].scheme ? COAPS_OK
                                : (s & 0xff) == 0x03 ? COAPS_E_UNSUPPORTED /* ECDSA codes */
                                                     : COAPS_E_VERIFY;
            if (st != want)
                fprintf(stderr, "%s under %04x: %s\n", rsa_sigs[i].file, s, coaps_status_str(st));
            assert_int_equal(st, want);
            assert_int_equal(crypto_peer_key_supports(&key, s), (s & 0xff) != 0x03);
        }
        sig[0] ^= 0x80;
        assert_int_equal(crypto_peer_key_verify(&key, rsa_sigs[i].scheme, m, m_len, sig, sig_len),
                         COAPS_E_VERIFY);
        sig[0] ^= 0x80;
        sig[sig_len - 1] ^= 0x01;
        assert_int_equal(crypto_peer_key_verify(&key, rsa_sigs[i].scheme, m, m_len, sig, sig_len),
                         COAPS_E_VERIFY);
        sig[sig_len - 1] ^= 0x01;
        /* wrong length: one byte short or long */
        assert_int_equal(crypto_peer_key_verify(&key, rsa_sigs[i].scheme, m, m_len, sig,
                                                sig_len - 1),
                         COAPS_E_VERIFY);
        assert_int_equal(crypto_peer_key_verify(&key, rsa_sigs[i].scheme, m, m_len - 1, sig,
                                                sig_len),
                         COAPS_E_VERIFY);
    }
    /* a valid PSS signature whose salt is not the hash length is not
     * rsa_pss_rsae_sha256 (RFC 8446 4.2.3) */
    size_t sig_len = fix_read("sig-rsa-pss-sha256-saltmax.bin", sig, sizeof sig);
    assert_int_equal(crypto_peer_key_verify(&key, 0x0804, m, m_len, sig, sig_len), COAPS_E_VERIFY);
    crypto_peer_key_clear(&key);
}

static void ecdsa_p384_sha384_from_intermediate_chain(void **state)
{
    (void)state;
    struct crypto_peer_key key = {0};
    cert_key("p384-chain.pem", &key, CRYPTO_PEER_KEY_EC_P384);
    uint8_t m[256], sig[256];
    size_t m_len = fix_read("msg.bin", m, sizeof m);
    size_t sig_len = fix_read("sig-ecdsa-p384-sha384.bin", sig, sizeof sig);
    assert_int_equal(crypto_peer_key_verify(&key, 0x0503, m, m_len, sig, sig_len), COAPS_OK);
    assert_int_equal(crypto_peer_key_verify(&key, 0x0403, m, m_len, sig, sig_len), COAPS_E_VERIFY);
    assert_int_equal(crypto_peer_key_verify(&key, 0x0805, m, m_len, sig, sig_len),
                     COAPS_E_UNSUPPORTED);
    assert_int_equal(crypto_peer_key_verify(&key, 0x0501, m, m_len, sig, sig_len),
                     COAPS_E_UNSUPPORTED);
    sig[sig_len - 1] ^= 0x01;
    assert_int_equal(crypto_peer_key_verify(&key, 0x0503, m, m_len, sig, sig_len), COAPS_E_VERIFY);
    crypto_peer_key_clear(&key);
}

static void offered_schemes_are_exactly_the_verifiable_ones(void **state)
{
    (void)state;
    size_t n = 0;
    const uint16_t *list = crypto_sig_verify_schemes(&n);
    assert_int_equal(n, sizeof all_schemes / sizeof all_schemes[0]);
    assert_true(n <= CRYPTO_SIG_SCHEMES_MAX);
    assert_int_equal(list[0], 0x0403); /* our own ECDHE-ECDSA scheme first */
    struct crypto_peer_key ec = {0}, rsa = {0};
    cert_key("server.pem", &ec, CRYPTO_PEER_KEY_EC_P256);
    cert_key("rsa-leaf.pem", &rsa, CRYPTO_PEER_KEY_RSA);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < i; j++)
            assert_int_not_equal(list[i], list[j]);
        /* each fits exactly one of the two key families */
        assert_true(crypto_peer_key_supports(&ec, list[i]) !=
                    crypto_peer_key_supports(&rsa, list[i]));
    }
    crypto_peer_key_clear(&ec);
    crypto_peer_key_clear(&rsa);
}

static void bad_arguments_and_unknown_schemes(void **state)
{
    (void)state;
    struct crypto_peer_key key = {0};
    uint8_t m[256], sig[CRYPTO_SIG_VERIFY_MAX + 1] = {0};
    size_t m_len = fix_read("msg.bin", m, sizeof m);
    /* an empty key */
    assert_int_equal(crypto_peer_key_verify(&key, 0x0403, m, m_len, sig, 70), COAPS_E_INVALID);
    assert_false(crypto_peer_key_supports(&key, 0x0403));
    assert_int_equal(crypto_peer_key_verify(NULL, 0x0403, m, m_len, sig, 70), COAPS_E_INVALID);
    cert_key("server.pem", &key, CRYPTO_PEER_KEY_EC_P256);
    size_t sig_len = fix_read("sig-ecdsa-p256-sha256.bin", sig, sizeof sig);
    assert_int_equal(crypto_peer_key_verify(&key, 0x0403, m, m_len, sig, sig_len), COAPS_OK);
    /* ed25519 (0x0807), rsa_pss_pss (0x0809), sha1 (0x0203), SHA-224, 0 */
    static const uint16_t unknown[] = {0x0807, 0x0809, 0x0203, 0x0201, 0x0303, 0x0000, 0xffff};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        assert_int_equal(crypto_peer_key_verify(&key, unknown[i], m, m_len, sig, sig_len),
                         COAPS_E_UNSUPPORTED);
        assert_false(crypto_peer_key_supports(&key, unknown[i]));
    }
    /* RSA codes do not fit an EC key */
    assert_int_equal(crypto_peer_key_verify(&key, 0x0401, m, m_len, sig, sig_len),
                     COAPS_E_UNSUPPORTED);
    /* empty and oversized signatures, NULL pointers with lengths */
    assert_int_equal(crypto_peer_key_verify(&key, 0x0403, m, m_len, sig, 0), COAPS_E_VERIFY);
    assert_int_equal(crypto_peer_key_verify(&key, 0x0403, m, m_len, sig, sizeof sig),
                     COAPS_E_VERIFY);
    assert_int_equal(crypto_peer_key_verify(&key, 0x0403, NULL, 5, sig, sig_len), COAPS_E_INVALID);
    assert_int_equal(crypto_peer_key_verify(&key, 0x0403, m, m_len, NULL, 5), COAPS_E_INVALID);
    crypto_peer_key_clear(&key);
    assert_false(key.live);
    assert_int_equal(key.type, CRYPTO_PEER_KEY_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ecdsa_p256_rfc6979_vectors_verify),
        cmocka_unit_test(rsa_pkcs1_and_pss_verify_only_under_their_scheme),
        cmocka_unit_test(ecdsa_p384_sha384_from_intermediate_chain),
        cmocka_unit_test(offered_schemes_are_exactly_the_verifiable_ones),
        cmocka_unit_test(bad_arguments_and_unknown_schemes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
