/*
 * test_crypto_hash.c - hashes, running transcript hash, HMAC and the TLS 1.2
 * PRF of src/crypto against published vectors:
 *   SHA-256 / SHA-384: FIPS 180-2 appendix examples ("abc", the two-block
 *     messages) and the empty message;
 *   HMAC: RFC 4231 test cases 1, 2 and 6;
 *   TLS 1.2 PRF: the P_SHA256 / P_SHA384 vectors posted to the IETF TLS WG
 *     list (msg03416), plus a cross-check against the crypto library's own
 *     TLS 1.2 PRF (OpenSSL's "TLS1-PRF" KDF, PSA's PSA_ALG_TLS12_PRF) for the
 *     labels TLS really uses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <unistd.h>
#include <sys/wait.h>

#include "crypto/alloc_count.h"
#include "crypto/crypto.h"
#include "crypto/hexutil.h"
#include "crypto/tls_prf_ref.h"

#define MSG_448 "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
#define MSG_896                                                                                    \
    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmno" \
    "pqrsmnopqrstnopqrstu"

struct hash_vec {
    enum crypto_hash_alg alg;
    const char *msg;
    const char *digest;
};

static const struct hash_vec hash_vecs[] = {
    /* FIPS 180-2 appendix B.1, B.2 */
    {CRYPTO_SHA256, "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {CRYPTO_SHA256, MSG_448, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {CRYPTO_SHA256, "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    /* FIPS 180-2 appendix D.1, D.2 */
    {CRYPTO_SHA384, "abc",
     "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
     "8086072ba1e7cc2358baeca134c825a7"},
    {CRYPTO_SHA384, MSG_896,
     "09330c33f71147e83d192fc782cd1b4753111b173b3b05d22fa08086e3b0f712"
     "fcc7c71a557e2db966c3e9fa91746039"},
    {CRYPTO_SHA384, "",
     "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da"
     "274edebfe76f65fbd51ad2f14898b95b"},
};

static void one_shot_hash_matches_fips180_examples(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof hash_vecs / sizeof hash_vecs[0]; i++) {
        const struct hash_vec *v = &hash_vecs[i];
        uint8_t want[CRYPTO_HASH_MAX], got[CRYPTO_HASH_MAX];
        size_t n = hex_decode(v->digest, want, sizeof want);
        assert_int_equal(n, crypto_hash_len(v->alg));
        assert_int_equal(crypto_hash(v->alg, v->msg, strlen(v->msg), got), COAPS_OK);
        assert_true(bytes_equal_loud(got, n, want, n));
    }
}

/* The transcript hash is fed message by message and peeked at several
 * points (RFC 5246 7.4.9: Finished covers all messages so far, then the
 * peer's Finished covers one more). Peeking must not disturb the state. */
static void running_hash_peek_keeps_running(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof hash_vecs / sizeof hash_vecs[0]; i++) {
        const struct hash_vec *v = &hash_vecs[i];
        uint8_t want[CRYPTO_HASH_MAX], got[CRYPTO_HASH_MAX], part[CRYPTO_HASH_MAX];
        size_t n = hex_decode(v->digest, want, sizeof want);
        size_t len = strlen(v->msg);
        struct crypto_hash h;
        assert_int_equal(crypto_hash_init(&h, v->alg), COAPS_OK);
        /* feed in two uneven pieces, peeking in between */
        size_t cut = len / 3;
        assert_int_equal(crypto_hash_update(&h, v->msg, cut), COAPS_OK);
        assert_int_equal(crypto_hash_peek(&h, part), COAPS_OK);
        uint8_t prefix[CRYPTO_HASH_MAX];
        assert_int_equal(crypto_hash(v->alg, v->msg, cut, prefix), COAPS_OK);
        assert_true(bytes_equal_loud(part, n, prefix, n));
        assert_int_equal(crypto_hash_update(&h, v->msg + cut, len - cut), COAPS_OK);
        assert_int_equal(crypto_hash_peek(&h, got), COAPS_OK);
        assert_true(bytes_equal_loud(got, n, want, n));
        /* a second peek gives the same digest */
        assert_int_equal(crypto_hash_peek(&h, got), COAPS_OK);
        assert_true(bytes_equal_loud(got, n, want, n));
        crypto_hash_clear(&h);
        assert_false(h.live);
        crypto_hash_clear(&h); /* clearing twice is harmless */
    }
}

static void hash_rejects_bad_arguments(void **state)
{
    (void)state;
    struct crypto_hash h;
    uint8_t out[CRYPTO_HASH_MAX];
    assert_int_equal(crypto_hash_init(&h, (enum crypto_hash_alg)7), COAPS_E_INVALID);
    assert_int_equal(crypto_hash((enum crypto_hash_alg)7, "x", 1, out), COAPS_E_INVALID);
    assert_int_equal(crypto_hash(CRYPTO_SHA256, NULL, 1, out), COAPS_E_INVALID);
    assert_int_equal(crypto_hash_len((enum crypto_hash_alg)7), 0);
}

struct hmac_vec {
    const char *key_hex;
    const char *data;
    const char *sha256;
    const char *sha384;
};

/* RFC 4231 section 4: test cases 1, 2 and 6 (key longer than the block). */
#define KEY_AA_131                                                                                 \
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct hmac_vec hmac_vecs[] = {
    {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There",
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
     "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
     "faea9ea9076ede7f4af152e8b2fa9cb6"},
    {"4a656665" /* "Jefe" */, "what do ya want for nothing?",
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
     "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
     "8e2240ca5e69e2c78b3239ecfab21649"},
    {KEY_AA_131, "Test Using Larger Than Block-Size Key - Hash Key First",
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
     "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6"
     "0c2ef6ab4030fe8296248df163f44952"},
};

static void hmac_matches_rfc4231(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof hmac_vecs / sizeof hmac_vecs[0]; i++) {
        const struct hmac_vec *v = &hmac_vecs[i];
        uint8_t key[200], want[CRYPTO_HASH_MAX], got[CRYPTO_HASH_MAX];
        size_t key_len = hex_decode(v->key_hex, key, sizeof key);
        assert_true(key_len != (size_t)-1);
        size_t dlen = strlen(v->data);

        size_t n = hex_decode(v->sha256, want, sizeof want);
        assert_int_equal(crypto_hmac(CRYPTO_SHA256, key, key_len, v->data, dlen, got), COAPS_OK);
        assert_true(bytes_equal_loud(got, n, want, n));

        n = hex_decode(v->sha384, want, sizeof want);
        assert_int_equal(crypto_hmac(CRYPTO_SHA384, key, key_len, v->data, dlen, got), COAPS_OK);
        assert_true(bytes_equal_loud(got, n, want, n));

        /* the same data split into three pieces (one empty) gives the same MAC */
        struct crypto_iov parts[3] = {{v->data, 3}, {NULL, 0}, {v->data + 3, dlen - 3}};
        assert_int_equal(crypto_hmac_iov(CRYPTO_SHA384, key, key_len, parts, 3, got), COAPS_OK);
        assert_true(bytes_equal_loud(got, n, want, n));
    }
}

static void hmac_rejects_bad_arguments(void **state)
{
    (void)state;
    uint8_t out[CRYPTO_HASH_MAX];
    struct crypto_iov bad = {NULL, 4};
    assert_int_equal(crypto_hmac_iov(CRYPTO_SHA256, "k", 1, &bad, 1, out), COAPS_E_INVALID);
    assert_int_equal(crypto_hmac(CRYPTO_SHA256, NULL, 3, "x", 1, out), COAPS_E_INVALID);
    assert_int_equal(crypto_hmac((enum crypto_hash_alg)9, "k", 1, "x", 1, out), COAPS_E_INVALID);
    /* an empty key is legal HMAC (RFC 2104 pads with zeros) */
    assert_int_equal(crypto_hmac(CRYPTO_SHA256, NULL, 0, "x", 1, out), COAPS_OK);
    /* and means the B zero bytes it is padded to: HMAC-SHA256("", "") is
     * b613679a...c5ad (the well-known value), the same as under one zero byte */
    uint8_t want[CRYPTO_HASH_MAX], zero_key[64] = {0};
    hex_decode("b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad", want,
               sizeof want);
    assert_int_equal(crypto_hmac(CRYPTO_SHA256, NULL, 0, NULL, 0, out), COAPS_OK);
    assert_true(bytes_equal_loud(out, 32, want, 32));
    assert_int_equal(crypto_hmac(CRYPTO_SHA256, zero_key, 1, NULL, 0, out), COAPS_OK);
    assert_true(bytes_equal_loud(out, 32, want, 32));
    assert_int_equal(crypto_hmac(CRYPTO_SHA256, zero_key, sizeof zero_key, NULL, 0, out),
                     COAPS_OK);
    assert_true(bytes_equal_loud(out, 32, want, 32));
}

struct prf_vec {
    enum crypto_hash_alg alg;
    const char *secret, *seed, *out;
};

/* https://www.ietf.org/mail-archive/web/tls/current/msg03416.html,
 * label "test label". */
static const struct prf_vec prf_vecs[] = {
    {CRYPTO_SHA256, "9bbe436ba940f017b17652849a71db35", "a0ba9f936cda311827a6f796ffd5198c",
     "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a"
     "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab"
     "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701"
     "87347b66"},
    {CRYPTO_SHA384, "b80b733d6ceefcdc71566ea48e5567df", "cd665cf6a8447dd6ff8b27555edb7465",
     "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd"
     "e9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd"
     "8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425"
     "9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee6"
     "91c8f3a26854308d5eaa3be85e0990703d73e56f"},
};

static void prf_matches_tls_wg_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof prf_vecs / sizeof prf_vecs[0]; i++) {
        const struct prf_vec *v = &prf_vecs[i];
        uint8_t secret[16], seed[16], want[160], got[160];
        assert_int_equal(hex_decode(v->secret, secret, sizeof secret), 16);
        assert_int_equal(hex_decode(v->seed, seed, sizeof seed), 16);
        size_t n = hex_decode(v->out, want, sizeof want);
        assert_true(n == 100 || n == 148);
        assert_int_equal(crypto_tls12_prf(v->alg, secret, 16, "test label", seed, 16, got, n),
                         COAPS_OK);
        assert_true(bytes_equal_loud(got, n, want, n));
        /* any shorter output is a prefix (P_hash is a stream) */
        memset(got, 0, sizeof got);
        assert_int_equal(crypto_tls12_prf(v->alg, secret, 16, "test label", seed, 16, got, 33),
                         COAPS_OK);
        assert_true(bytes_equal_loud(got, 33, want, 33));
        assert_int_equal(got[33], 0); /* nothing written past out_len */
    }
}

/* The library's own TLS 1.2 PRF (tls_prf_ref.h) as an independent reference
 * for the labels and lengths TLS 1.2 uses (RFC 5246 8.1, 6.3, 7.4.9). */
static void prf_agrees_with_library_prf(void **state)
{
    (void)state;
    static const char *const labels[] = {"master secret", "extended master secret",
                                         "key expansion", "client finished"};
    static const size_t lens[] = {48, 48, 136, 12};
    uint8_t secret[48], seed[64], ours[136], ref[136];
    for (size_t i = 0; i < sizeof secret; i++)
        secret[i] = (uint8_t)(0x11 * i + 3);
    for (size_t i = 0; i < sizeof seed; i++)
        seed[i] = (uint8_t)(0x7 * i + 0x40);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(crypto_tls12_prf(CRYPTO_SHA256, secret, 48, labels[i], seed, 64, ours,
                                          lens[i]),
                         COAPS_OK);
        tls_prf_ref("SHA256", secret, 48, labels[i], seed, 64, ref, lens[i]);
        assert_true(bytes_equal_loud(ours, lens[i], ref, lens[i]));
        assert_int_equal(crypto_tls12_prf(CRYPTO_SHA384, secret, 48, labels[i], seed, 48, ours,
                                          lens[i]),
                         COAPS_OK);
        tls_prf_ref("SHA384", secret, 48, labels[i], seed, 48, ref, lens[i]);
        assert_true(bytes_equal_loud(ours, lens[i], ref, lens[i]));
    }
}

/* Secrets around HMAC's block size (RFC 2104 2: a key up to B bytes is
 * zero-padded, a longer one hashed first; B = 64 for SHA-256, 128 for
 * SHA-384), against the library's PRF: every branch of preparing a key,
 * with SHA-384's larger context. */
static void prf_secret_lengths_agree_with_library_prf(void **state)
{
    (void)state;
    static const size_t secret_lens[] = {1, 32, 63, 64, 65, 127, 128, 129, 200};
    uint8_t secret[200], seed[64], ours[100], ref[100];
    for (size_t i = 0; i < sizeof secret; i++)
        secret[i] = (uint8_t)(0x35 * i + 9);
    for (size_t i = 0; i < sizeof seed; i++)
        seed[i] = (uint8_t)(0x3 * i + 0x21);
    for (size_t i = 0; i < sizeof secret_lens / sizeof secret_lens[0]; i++) {
        size_t n = secret_lens[i];
        assert_int_equal(crypto_tls12_prf(CRYPTO_SHA256, secret, n, "key expansion", seed, 64,
                                          ours, sizeof ours),
                         COAPS_OK);
        tls_prf_ref("SHA256", secret, n, "key expansion", seed, 64, ref, sizeof ref);
        assert_true(bytes_equal_loud(ours, sizeof ours, ref, sizeof ref));
        assert_int_equal(crypto_tls12_prf(CRYPTO_SHA384, secret, n, "key expansion", seed, 64,
                                          ours, sizeof ours),
                         COAPS_OK);
        tls_prf_ref("SHA384", secret, n, "key expansion", seed, 64, ref, sizeof ref);
        assert_true(bytes_equal_loud(ours, sizeof ours, ref, sizeof ref));
    }
}

/* crypto.h: a running hash holds its whole state in the caller's memory,
 * and a prepared HMAC key allocates (if at all) when it is prepared. A PSK
 * handshake makes 14 HMACs and 3 transcript peeks: none of them may
 * allocate (each did, through OpenSSL 3's EVP_MD_CTX_copy_ex). */
static void hmac_and_running_hash_do_not_allocate(void **state)
{
    (void)state;
    static const enum crypto_hash_alg algs[] = {CRYPTO_SHA256, CRYPTO_SHA384};
    uint8_t key[48], msg[300], out[CRYPTO_HASH_MAX];
    memset(key, 0x5a, sizeof key);
    memset(msg, 0xa5, sizeof msg);
    for (size_t k = 0; k < sizeof algs / sizeof algs[0]; k++) {
        struct crypto_hmac_key hk;
        struct crypto_hash h;
        assert_int_equal(crypto_hmac_key_init(&hk, algs[k], key, sizeof key), COAPS_OK);
        struct crypto_iov parts[3] = {{msg, 32}, {"key expansion", 13}, {msg + 32, 64}};
        /* one warm-up round (a backend may set up lazily once) */
        assert_int_equal(crypto_hmac_keyed(&hk, parts, 3, out), COAPS_OK);
        size_t before = n_allocs;
        for (size_t i = 0; i < 20; i++) {
            assert_int_equal(crypto_hmac_keyed(&hk, parts, 3, out), COAPS_OK);
            assert_int_equal(crypto_hash_init(&h, algs[k]), COAPS_OK);
            assert_int_equal(crypto_hash_update(&h, msg, i * 15), COAPS_OK);
            assert_int_equal(crypto_hash_peek(&h, out), COAPS_OK);
            assert_int_equal(crypto_hash_update(&h, msg, sizeof msg), COAPS_OK);
            assert_int_equal(crypto_hash_peek(&h, out), COAPS_OK);
            crypto_hash_clear(&h);
            assert_int_equal(crypto_hash(algs[k], msg, i * 15, out), COAPS_OK);
        }
        if (n_allocs != before)
            fail_msg("alg %d: %zu allocations in HMACs and running hashes", (int)algs[k],
                     n_allocs - before);
        crypto_hmac_key_clear(&hk);
    }
}

static void prf_rejects_bad_arguments(void **state)
{
    (void)state;
    uint8_t out[16];
    assert_int_equal(crypto_tls12_prf(CRYPTO_SHA256, (const uint8_t *)"s", 1, NULL,
                                      (const uint8_t *)"x", 1, out, 16),
                     COAPS_E_INVALID);
    assert_int_equal(crypto_tls12_prf((enum crypto_hash_alg)5, (const uint8_t *)"s", 1, "l",
                                      (const uint8_t *)"x", 1, out, 16),
                     COAPS_E_INVALID);
}

static void random_fills_and_differs(void **state)
{
    (void)state;
    uint8_t a[32] = {0}, b[32] = {0}, zero[32] = {0};
    assert_int_equal(crypto_random(a, sizeof a), COAPS_OK);
    assert_int_equal(crypto_random(b, sizeof b), COAPS_OK);
    /* 2^-256 chance of a false failure */
    assert_memory_not_equal(a, zero, sizeof a);
    assert_memory_not_equal(a, b, sizeof a);
    assert_int_equal(crypto_random(NULL, 0), COAPS_OK);
    assert_int_equal(crypto_random(NULL, 1), COAPS_E_INVALID);
}

/* crypto_random hands out bytes from a per-thread pool: a child made by
 * fork() must not hand out the bytes its parent hands out next. */
static void random_differs_after_fork(void **state)
{
    (void)state;
    uint8_t first[16], parent[32], child[32];
    assert_int_equal(crypto_random(first, sizeof first), COAPS_OK); /* fills the pool */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        uint8_t mine[32];
        int ok = crypto_random(mine, sizeof mine) == COAPS_OK &&
                 write(fds[1], mine, sizeof mine) == (ssize_t)sizeof mine;
        _exit(ok ? 0 : 1);
    }
    close(fds[1]);
    assert_int_equal(crypto_random(parent, sizeof parent), COAPS_OK);
    assert_int_equal(read(fds[0], child, sizeof child), (ssize_t)sizeof child);
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_memory_not_equal(parent, child, sizeof parent);
    /* many small draws cross the pool's refills and never repeat a block */
    uint8_t prev[24], cur[24];
    assert_int_equal(crypto_random(prev, sizeof prev), COAPS_OK);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(crypto_random(cur, sizeof cur), COAPS_OK);
        assert_memory_not_equal(prev, cur, sizeof cur);
        memcpy(prev, cur, sizeof cur);
    }
}

static void ct_equal_and_wipe(void **state)
{
    (void)state;
    uint8_t a[20], b[20];
    memset(a, 0x5a, sizeof a);
    memset(b, 0x5a, sizeof b);
    assert_true(crypto_ct_equal(a, b, sizeof a));
    b[19] ^= 1;
    assert_false(crypto_ct_equal(a, b, sizeof a));
    assert_true(crypto_ct_equal(a, b, 19));
    b[0] ^= 0x80;
    assert_false(crypto_ct_equal(a, b, sizeof a));
    assert_true(crypto_ct_equal(a, b, 0));
    crypto_wipe(a, sizeof a);
    uint8_t zero[20] = {0};
    assert_memory_equal(a, zero, sizeof a);
    crypto_wipe(NULL, 5); /* harmless */
}

int main(void)
{
    /* before anything else touches the crypto library */
    if (!alloc_count_install())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_shot_hash_matches_fips180_examples),
        cmocka_unit_test(running_hash_peek_keeps_running),
        cmocka_unit_test(hash_rejects_bad_arguments),
        cmocka_unit_test(hmac_matches_rfc4231),
        cmocka_unit_test(hmac_rejects_bad_arguments),
        cmocka_unit_test(prf_matches_tls_wg_vectors),
        cmocka_unit_test(prf_agrees_with_library_prf),
        cmocka_unit_test(prf_secret_lengths_agree_with_library_prf),
        cmocka_unit_test(hmac_and_running_hash_do_not_allocate),
        cmocka_unit_test(prf_rejects_bad_arguments),
        cmocka_unit_test(random_fills_and_differs),
        cmocka_unit_test(random_differs_after_fork),
        cmocka_unit_test(ct_equal_and_wipe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
