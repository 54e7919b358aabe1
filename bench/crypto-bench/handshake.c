/*
 * handshake.c - handshake primitive figures of crypto-bench: what a server
 * computes per handshake besides records. PSK: HMAC-SHA256 (cookies,
 * Finished) and the TLS 1.2 PRF (master secret, key block, two Finished:
 * 4 calls). ECDHE-ECDSA adds one ECDHE key pair and shared secret and one
 * ECDSA signature (ServerKeyExchange), and a verification per client
 * certificate when clients authenticate.
 */
#include <stdio.h>
#include <string.h>

#include "cbench.h"
#include "crypto/crypto.h"

/* HMAC input: about a cookie's (client address + ClientHello fields). */
#define HMAC_MSG_LEN 64
/* One key-block PRF call of AES-128-CCM_8: 2 x 16 key + 2 x 4 salt
 * (RFC 6655 3), from the 48-byte master secret and 64 bytes of randoms. */
#define PRF_OUT_LEN 40
#define PRF_SECRET_LEN 48
#define PRF_SEED_LEN 64

struct hs_run {
    uint8_t key[32];
    uint8_t msg[PRF_SEED_LEN];
    uint8_t secret[PRF_SECRET_LEN];
    uint8_t digest[CRYPTO_HASH_MAX]; /* SHA-256 in the first 32 */
    uint8_t sig[CRYPTO_ECDSA_SIG_MAX];
    size_t sig_len;
    struct crypto_sign_key sign_key;
    uint8_t sign_pub[CRYPTO_P256_PUBLIC_LEN];
    enum crypto_kx_group group;
    uint8_t peer[CRYPTO_KX_PUBLIC_MAX]; /* the client's ECDHE public value */
    size_t peer_len;
};

static bool op_failed(const char *what, coaps_status st)
{
    fprintf(stderr, CBENCH_PROG ": %s: %s\n", what, coaps_status_str(st));
    return false;
}

static bool hmac_n(void *arg, uint64_t n)
{
    struct hs_run *r = arg;
    uint8_t out[CRYPTO_HASH_MAX];
    for (uint64_t i = 0; i < n; i++) {
        coaps_status st =
            crypto_hmac(CRYPTO_SHA256, r->key, sizeof r->key, r->msg, HMAC_MSG_LEN, out);
        if (st != COAPS_OK)
            return op_failed("hmac", st);
    }
    return true;
}

static bool prf_n(void *arg, uint64_t n)
{
    struct hs_run *r = arg;
    uint8_t out[PRF_OUT_LEN];
    for (uint64_t i = 0; i < n; i++) {
        coaps_status st = crypto_tls12_prf(CRYPTO_SHA256, r->secret, sizeof r->secret,
                                           "key expansion", r->msg, PRF_SEED_LEN, out, sizeof out);
        if (st != COAPS_OK)
            return op_failed("prf", st);
    }
    return true;
}

/* The server's ECDHE share of a handshake: a fresh key pair (its public
 * value goes into ServerKeyExchange) and the secret with the client's. */
static bool ecdhe_n(void *arg, uint64_t n)
{
    struct hs_run *r = arg;
    uint8_t pub[CRYPTO_KX_PUBLIC_MAX], secret[CRYPTO_KX_SECRET_MAX];
    size_t pub_len, secret_len;
    for (uint64_t i = 0; i < n; i++) {
        struct crypto_kx kx;
        memset(&kx, 0, sizeof kx);
        coaps_status st = crypto_kx_generate(&kx, r->group, pub, &pub_len);
        if (st == COAPS_OK)
            st = crypto_kx_derive(&kx, r->peer, r->peer_len, secret, &secret_len);
        crypto_kx_clear(&kx);
        if (st != COAPS_OK)
            return op_failed("ecdhe", st);
    }
    crypto_wipe(secret, sizeof secret);
    return true;
}

static bool sign_n(void *arg, uint64_t n)
{
    struct hs_run *r = arg;
    for (uint64_t i = 0; i < n; i++) {
        coaps_status st = crypto_ecdsa_p256_sign(&r->sign_key, r->digest, r->sig, &r->sig_len);
        if (st != COAPS_OK)
            return op_failed("ecdsa sign", st);
    }
    return true;
}

static bool verify_n(void *arg, uint64_t n)
{
    struct hs_run *r = arg;
    for (uint64_t i = 0; i < n; i++) {
        coaps_status st = crypto_ecdsa_p256_verify(r->sign_pub, sizeof r->sign_pub, r->digest,
                                                   r->sig, r->sig_len);
        if (st != COAPS_OK)
            return op_failed("ecdsa verify", st);
    }
    return true;
}

/* A client's public value for group: made once, outside the timing. */
static coaps_status peer_share(struct hs_run *r, enum crypto_kx_group group)
{
    struct crypto_kx kx;
    memset(&kx, 0, sizeof kx);
    r->group = group;
    coaps_status st = crypto_kx_generate(&kx, group, r->peer, &r->peer_len);
    crypto_kx_clear(&kx);
    return st;
}

static coaps_status run_setup(struct hs_run *r)
{
    memset(r, 0, sizeof *r);
    coaps_status st = crypto_random(r->key, sizeof r->key);
    if (st == COAPS_OK)
        st = crypto_random(r->msg, sizeof r->msg);
    if (st == COAPS_OK)
        st = crypto_random(r->secret, sizeof r->secret);
    if (st == COAPS_OK)
        st = crypto_hash(CRYPTO_SHA256, r->msg, sizeof r->msg, r->digest);
    if (st == COAPS_OK)
        st = crypto_ecdsa_p256_generate(&r->sign_key);
    if (st == COAPS_OK)
        st = crypto_ecdsa_p256_public(&r->sign_key, r->sign_pub);
    if (st == COAPS_OK) /* verify_n verifies a real signature */
        st = crypto_ecdsa_p256_sign(&r->sign_key, r->digest, r->sig, &r->sig_len);
    return st;
}

/* Measure and print one figure; 0 when it ran. */
static int figure(const struct cb_opts *o, cb_op_fn fn, struct hs_run *r, const char *alg,
                  const char *op, size_t bytes)
{
    struct cb_result res;
    if (!cb_measure(fn, r, (uint64_t)o->time_ms * 1000000u, &res)) {
        fprintf(stderr, CBENCH_PROG ": %s %s: failed\n", alg, op);
        return 1;
    }
    cb_print(o, alg, op, bytes, &res);
    return 0;
}

int cb_handshake_all(const struct cb_opts *o)
{
    struct hs_run r;
    coaps_status st = run_setup(&r);
    if (st != COAPS_OK) {
        crypto_sign_key_clear(&r.sign_key);
        (void)op_failed("handshake set-up", st);
        return 1;
    }
    int rc = figure(o, hmac_n, &r, "HMAC-SHA256", "mac", HMAC_MSG_LEN);
    rc |= figure(o, prf_n, &r, "TLS12-PRF-SHA256", "prf", PRF_OUT_LEN);
    static const struct {
        enum crypto_kx_group group;
        const char *name;
    } groups[] = {{CRYPTO_KX_P256, "ECDHE-P256"}, {CRYPTO_KX_X25519, "ECDHE-X25519"}};
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) {
        st = peer_share(&r, groups[i].group);
        if (st == COAPS_E_UNSUPPORTED) { /* a backend without the group */
            cb_print(o, groups[i].name, "keygen+derive", 0, NULL);
            continue;
        }
        if (st != COAPS_OK) {
            fprintf(stderr, CBENCH_PROG ": %s: %s\n", groups[i].name, coaps_status_str(st));
            rc = 1;
            continue;
        }
        rc |= figure(o, ecdhe_n, &r, groups[i].name, "keygen+derive", 0);
    }
    rc |= figure(o, sign_n, &r, "ECDSA-P256-SHA256", "sign", 0);
    rc |= figure(o, verify_n, &r, "ECDSA-P256-SHA256", "verify", 0);
    crypto_sign_key_clear(&r.sign_key);
    return rc;
}
