/*
 * test_crypto_pk.c - ECDHE and ECDSA of src/crypto against published vectors:
 *   X25519: RFC 7748 section 5.2 (two scalar/u-coordinate vectors) and
 *     section 6.1 (the Alice/Bob exchange, both directions, public keys);
 *   P-256 ECDH: RFC 5903 section 8.1 (i, g^i, r, g^r, shared x-coordinate);
 *   ECDSA P-256/SHA-256: RFC 6979 appendix A.2.5 key and its "sample" and
 *     "test" signatures (DER-encoded here by hand) must verify; sign-then-
 *     verify round trips; any changed bit, digest or non-strict DER fails.
 * Plus peer-value validation: wrong lengths, compressed or off-curve P-256
 * points and the all-zero X25519 result are refused (RFC 8422 5.11).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "crypto/crypto.h"
#include "crypto/hexutil.h"

static size_t hx(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = hex_decode(hex, out, cap);
    assert_true(n != (size_t)-1);
    return n;
}

/* ---- X25519 ------------------------------------------------------------------ */

#define ALICE_PRIV "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
#define ALICE_PUB "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
#define BOB_PRIV "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"
#define BOB_PUB "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
#define AB_SHARED "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"

static void x25519_rfc7748_alice_and_bob(void **state)
{
    (void)state;
    const char *privs[2] = {ALICE_PRIV, BOB_PRIV}, *pubs[2] = {ALICE_PUB, BOB_PUB};
    uint8_t priv[32], want_pub[32], peer[32], shared[32], pub[CRYPTO_KX_PUBLIC_MAX],
        secret[CRYPTO_KX_SECRET_MAX];
    size_t pub_len = 0, secret_len = 0;
    hx(AB_SHARED, shared, sizeof shared);
    for (int i = 0; i < 2; i++) {
        struct crypto_kx kx;
        hx(privs[i], priv, sizeof priv);
        hx(pubs[i], want_pub, sizeof want_pub);
        hx(pubs[1 - i], peer, sizeof peer);
        assert_int_equal(crypto_kx_import_private(&kx, CRYPTO_KX_X25519, priv, 32, pub, &pub_len),
                         COAPS_OK);
        assert_true(bytes_equal_loud(pub, pub_len, want_pub, 32));
        assert_int_equal(crypto_kx_derive(&kx, peer, 32, secret, &secret_len), COAPS_OK);
        assert_true(bytes_equal_loud(secret, secret_len, shared, 32));
        crypto_kx_clear(&kx);
        assert_false(kx.live);
    }
}

static void x25519_rfc7748_scalar_vectors(void **state)
{
    (void)state;
    static const char *const v[2][3] = {
        {"a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
         "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
         "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"},
        {"4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
         "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
         "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"},
    };
    for (int i = 0; i < 2; i++) {
        uint8_t k[32], u[32], want[32], pub[CRYPTO_KX_PUBLIC_MAX], out[CRYPTO_KX_SECRET_MAX];
        size_t pub_len, out_len;
        hx(v[i][0], k, 32);
        hx(v[i][1], u, 32);
        hx(v[i][2], want, 32);
        struct crypto_kx kx;
        assert_int_equal(crypto_kx_import_private(&kx, CRYPTO_KX_X25519, k, 32, pub, &pub_len),
                         COAPS_OK);
        assert_int_equal(crypto_kx_derive(&kx, u, 32, out, &out_len), COAPS_OK);
        assert_true(bytes_equal_loud(out, out_len, want, 32));
        crypto_kx_clear(&kx);
    }
}

static void x25519_refuses_bad_peer_values(void **state)
{
    (void)state;
    struct crypto_kx kx;
    uint8_t pub[CRYPTO_KX_PUBLIC_MAX], out[CRYPTO_KX_SECRET_MAX], zero[32] = {0}, peer[33];
    size_t pub_len, out_len;
    assert_int_equal(crypto_kx_generate(&kx, CRYPTO_KX_X25519, pub, &pub_len), COAPS_OK);
    assert_int_equal(pub_len, 32);
    /* u = 0 is of small order: the result is all zero (RFC 7748 6.1) */
    memset(out, 0x77, sizeof out);
    assert_int_equal(crypto_kx_derive(&kx, zero, 32, out, &out_len), COAPS_E_MALFORMED);
    memset(peer, 0x09, sizeof peer);
    assert_int_equal(crypto_kx_derive(&kx, peer, 31, out, &out_len), COAPS_E_MALFORMED);
    assert_int_equal(crypto_kx_derive(&kx, peer, 33, out, &out_len), COAPS_E_MALFORMED);
    assert_int_equal(crypto_kx_derive(&kx, NULL, 0, out, &out_len), COAPS_E_MALFORMED);
    crypto_kx_clear(&kx);
}

/* ---- P-256 ECDH ------------------------------------------------------------- */

/* RFC 5903 8.1 */
#define I_PRIV "C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433"
#define GI                                                                                         \
    "04DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180"                           \
    "5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3"
#define R_PRIV "C6EF9C5D78AE012A011164ACB397CE2088685D8F06BF9BE0B283AB46476BEE53"
#define GR                                                                                         \
    "04D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63"                           \
    "56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB"
#define GIRX "D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE"

static void p256_ecdh_rfc5903(void **state)
{
    (void)state;
    const char *privs[2] = {I_PRIV, R_PRIV}, *pubs[2] = {GI, GR};
    uint8_t priv[32], want_pub[65], peer[65], shared[32], pub[CRYPTO_KX_PUBLIC_MAX],
        secret[CRYPTO_KX_SECRET_MAX];
    size_t pub_len, secret_len;
    hx(GIRX, shared, 32);
    for (int i = 0; i < 2; i++) {
        struct crypto_kx kx;
        hx(privs[i], priv, 32);
        assert_int_equal(hx(pubs[i], want_pub, 65), 65);
        hx(pubs[1 - i], peer, 65);
        assert_int_equal(crypto_kx_import_private(&kx, CRYPTO_KX_P256, priv, 32, pub, &pub_len),
                         COAPS_OK);
        assert_true(bytes_equal_loud(pub, pub_len, want_pub, 65));
        assert_int_equal(crypto_kx_derive(&kx, peer, 65, secret, &secret_len), COAPS_OK);
        assert_true(bytes_equal_loud(secret, secret_len, shared, 32));
        crypto_kx_clear(&kx);
    }
}

static void p256_refuses_bad_points_and_scalars(void **state)
{
    (void)state;
    struct crypto_kx kx;
    uint8_t priv[32], peer[65], pub[CRYPTO_KX_PUBLIC_MAX], out[CRYPTO_KX_SECRET_MAX];
    size_t pub_len, out_len;
    hx(I_PRIV, priv, 32);
    assert_int_equal(crypto_kx_import_private(&kx, CRYPTO_KX_P256, priv, 32, pub, &pub_len),
                     COAPS_OK);
    hx(GR, peer, 65);
    peer[64] ^= 1; /* y changed: off the curve (invalid-curve attacks) */
    assert_int_equal(crypto_kx_derive(&kx, peer, 65, out, &out_len), COAPS_E_MALFORMED);
    peer[64] ^= 1;
    peer[0] = 0x02; /* compressed form: not negotiated (RFC 8422 5.1.2) */
    assert_int_equal(crypto_kx_derive(&kx, peer, 33, out, &out_len), COAPS_E_MALFORMED);
    assert_int_equal(crypto_kx_derive(&kx, peer, 65, out, &out_len), COAPS_E_MALFORMED);
    peer[0] = 0x00; /* point at infinity */
    assert_int_equal(crypto_kx_derive(&kx, peer, 1, out, &out_len), COAPS_E_MALFORMED);
    peer[0] = 0x04;
    assert_int_equal(crypto_kx_derive(&kx, peer, 64, out, &out_len), COAPS_E_MALFORMED);
    assert_int_equal(crypto_kx_derive(&kx, peer, 65, out, &out_len), COAPS_OK);
    crypto_kx_clear(&kx);

    /* scalars 0 and n are not private keys */
    memset(priv, 0, sizeof priv);
    assert_int_equal(crypto_kx_import_private(&kx, CRYPTO_KX_P256, priv, 32, pub, &pub_len),
                     COAPS_E_INVALID);
    hx("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", priv, 32);
    assert_int_equal(crypto_kx_import_private(&kx, CRYPTO_KX_P256, priv, 32, pub, &pub_len),
                     COAPS_E_INVALID);
    priv[31] -= 1; /* n - 1 is fine */
    assert_int_equal(crypto_kx_import_private(&kx, CRYPTO_KX_P256, priv, 32, pub, &pub_len),
                     COAPS_OK);
    crypto_kx_clear(&kx);
    assert_int_equal(crypto_kx_import_private(&kx, CRYPTO_KX_P256, priv, 31, pub, &pub_len),
                     COAPS_E_INVALID);
    assert_int_equal(crypto_kx_public_len((enum crypto_kx_group)5), 0);
}

static void generated_key_pairs_agree(void **state)
{
    (void)state;
    static const enum crypto_kx_group groups[2] = {CRYPTO_KX_P256, CRYPTO_KX_X25519};
    for (int g = 0; g < 2; g++) {
        struct crypto_kx a, b;
        uint8_t pa[CRYPTO_KX_PUBLIC_MAX], pb[CRYPTO_KX_PUBLIC_MAX];
        uint8_t sa[CRYPTO_KX_SECRET_MAX], sb[CRYPTO_KX_SECRET_MAX];
        size_t la, lb, na, nb;
        assert_int_equal(crypto_kx_generate(&a, groups[g], pa, &la), COAPS_OK);
        assert_int_equal(crypto_kx_generate(&b, groups[g], pb, &lb), COAPS_OK);
        assert_int_equal(la, crypto_kx_public_len(groups[g]));
        assert_int_equal(lb, la);
        assert_memory_not_equal(pa, pb, la);
        assert_int_equal(crypto_kx_derive(&a, pb, lb, sa, &na), COAPS_OK);
        assert_int_equal(crypto_kx_derive(&b, pa, la, sb, &nb), COAPS_OK);
        assert_int_equal(na, 32);
        assert_true(bytes_equal_loud(sa, na, sb, nb));
        crypto_kx_clear(&a);
        crypto_kx_clear(&b);
    }
}

/* ---- ECDSA ---------------------------------------------------------------------- */

/* RFC 6979 A.2.5 */
#define X_PRIV "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721"
#define U_PUB                                                                                      \
    "0460FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6"                           \
    "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299"
/* DER of (r, s): both r and s of "sample" have the top bit set, so each
 * INTEGER takes a leading zero; "test" has a small s. */
#define SIG_SAMPLE                                                                                 \
    "3046022100EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716"                   \
    "022100F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8"
#define SIG_TEST                                                                                   \
    "3045022100F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367"                   \
    "0220019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083"

static void ecdsa_rfc6979_signatures_verify(void **state)
{
    (void)state;
    uint8_t pub[65], sig[80], digest[CRYPTO_HASH_MAX], priv[32], got_pub[65];
    hx(U_PUB, pub, sizeof pub);
    hx(X_PRIV, priv, sizeof priv);
    struct crypto_sign_key k;
    assert_int_equal(crypto_ecdsa_p256_import(&k, priv), COAPS_OK);
    assert_int_equal(crypto_ecdsa_p256_public(&k, got_pub), COAPS_OK);
    assert_true(bytes_equal_loud(got_pub, 65, pub, 65)); /* U = x * G */
    crypto_sign_key_clear(&k);

    const char *msgs[2] = {"sample", "test"}, *sigs[2] = {SIG_SAMPLE, SIG_TEST};
    for (int i = 0; i < 2; i++) {
        size_t sig_len = hx(sigs[i], sig, sizeof sig);
        assert_int_equal(crypto_hash(CRYPTO_SHA256, msgs[i], strlen(msgs[i]), digest), COAPS_OK);
        assert_int_equal(crypto_ecdsa_p256_verify(pub, 65, digest, sig, sig_len), COAPS_OK);
        /* the other message's digest does not verify */
        uint8_t other[CRYPTO_HASH_MAX];
        assert_int_equal(crypto_hash(CRYPTO_SHA256, msgs[1 - i], strlen(msgs[1 - i]), other),
                         COAPS_OK);
        assert_int_equal(crypto_ecdsa_p256_verify(pub, 65, other, sig, sig_len), COAPS_E_VERIFY);
        /* every single flipped bit of the signature is refused */
        for (size_t bit = 0; bit < sig_len * 8; bit++) {
            sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            assert_int_equal(crypto_ecdsa_p256_verify(pub, 65, digest, sig, sig_len),
                             COAPS_E_VERIFY);
            sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        /* trailing garbage or truncation */
        sig[sig_len] = 0;
        assert_int_equal(crypto_ecdsa_p256_verify(pub, 65, digest, sig, sig_len + 1),
                         COAPS_E_VERIFY);
        assert_int_equal(crypto_ecdsa_p256_verify(pub, 65, digest, sig, sig_len - 1),
                         COAPS_E_VERIFY);
        assert_int_equal(crypto_ecdsa_p256_verify(pub, 65, digest, sig, 0), COAPS_E_VERIFY);
    }
    /* non-minimal DER: the "test" s with a needless leading zero */
    size_t n = hx("3046022100F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367"
                  "022100019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083",
                  sig, sizeof sig);
    assert_int_equal(crypto_hash(CRYPTO_SHA256, "test", 4, digest), COAPS_OK);
    assert_int_equal(crypto_ecdsa_p256_verify(pub, 65, digest, sig, n), COAPS_E_VERIFY);
    /* a bad public point */
    n = hx(SIG_TEST, sig, sizeof sig);
    pub[40] ^= 1;
    assert_int_equal(crypto_ecdsa_p256_verify(pub, 65, digest, sig, n), COAPS_E_MALFORMED);
    pub[40] ^= 1;
    assert_int_equal(crypto_ecdsa_p256_verify(pub, 64, digest, sig, n), COAPS_E_MALFORMED);
    assert_int_equal(crypto_ecdsa_p256_verify(pub, 65, digest, sig, n), COAPS_OK);
}

static void ecdsa_sign_then_verify(void **state)
{
    (void)state;
    uint8_t priv[32], digest[CRYPTO_HASH_MAX], pub[65], sig[CRYPTO_ECDSA_SIG_MAX];
    size_t sig_len = 0;
    hx(X_PRIV, priv, sizeof priv);
    struct crypto_sign_key keys[2];
    assert_int_equal(crypto_ecdsa_p256_import(&keys[0], priv), COAPS_OK);
    assert_int_equal(crypto_ecdsa_p256_generate(&keys[1]), COAPS_OK);
    assert_int_equal(crypto_hash(CRYPTO_SHA256, "client_random||server_random||params", 36,
                                 digest),
                     COAPS_OK);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(crypto_ecdsa_p256_public(&keys[i], pub), COAPS_OK);
        assert_int_equal(pub[0], 0x04);
        for (int round = 0; round < 8; round++) { /* various r/s lengths */
            digest[0] = (uint8_t)round;
            assert_int_equal(crypto_ecdsa_p256_sign(&keys[i], digest, sig, &sig_len), COAPS_OK);
            assert_true(sig_len >= 8 && sig_len <= CRYPTO_ECDSA_SIG_MAX);
            assert_int_equal(sig[0], 0x30);
            assert_int_equal(crypto_ecdsa_p256_verify(pub, 65, digest, sig, sig_len), COAPS_OK);
            digest[31] ^= 0x80;
            assert_int_equal(crypto_ecdsa_p256_verify(pub, 65, digest, sig, sig_len),
                             COAPS_E_VERIFY);
            digest[31] ^= 0x80;
        }
    }
    /* a signature of one key does not verify under the other */
    assert_int_equal(crypto_ecdsa_p256_sign(&keys[0], digest, sig, &sig_len), COAPS_OK);
    assert_int_equal(crypto_ecdsa_p256_public(&keys[1], pub), COAPS_OK);
    assert_int_equal(crypto_ecdsa_p256_verify(pub, 65, digest, sig, sig_len), COAPS_E_VERIFY);
    crypto_sign_key_clear(&keys[0]);
    crypto_sign_key_clear(&keys[1]);
    crypto_sign_key_clear(&keys[1]); /* twice is harmless */
    memset(priv, 0, sizeof priv);
    assert_int_equal(crypto_ecdsa_p256_import(&keys[0], priv), COAPS_E_INVALID);
    assert_false(keys[0].live);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(x25519_rfc7748_alice_and_bob),
        cmocka_unit_test(x25519_rfc7748_scalar_vectors),
        cmocka_unit_test(x25519_refuses_bad_peer_values),
        cmocka_unit_test(p256_ecdh_rfc5903),
        cmocka_unit_test(p256_refuses_bad_points_and_scalars),
        cmocka_unit_test(generated_key_pairs_agree),
        cmocka_unit_test(ecdsa_rfc6979_signatures_verify),
        cmocka_unit_test(ecdsa_sign_then_verify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
