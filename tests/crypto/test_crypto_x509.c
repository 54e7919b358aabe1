/*
 * test_crypto_x509.c - the trust store, certificate chain verification, raw
 * public key matching and our own credential (x509.c, cred.c and pem.c of
 * the configured backend, src/crypto/openssl/ or src/crypto/psa/: the same
 * verdicts on both) against the test PKI of tests/crypto/certs/ (made by
 * scripts/make-test-certs; env COAPS_CERTS_DIR points elsewhere to run on a
 * fresh set). Each refusal is checked for its reason and the TLS alert of
 * RFC 5246 7.2.2 it maps to.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "crypto/crypto.h"
#include "crypto/pki_fixtures.h"

/* Times around expired.pem's validity (2000-01-01 .. 2001-01-01) and after
 * the 20 years of the others. "Tomorrow" is inside the validity of both the
 * committed fixtures and a set made fresh today. */
#define T_TOMORROW ((uint64_t)time(NULL) + 86400u)
#define T_1999 915148800u
#define T_2000_06 960000000u
#define T_2100 4102444800u

static struct crypto_trust trust; /* trust.pem: the three test roots */

static int setup(void **state)
{
    (void)state;
    char msg[CRYPTO_MSG_MAX] = "";
    if (crypto_trust_init(&trust) != COAPS_OK ||
        crypto_trust_load_file(&trust, fix_path("trust.pem"), msg) != COAPS_OK) {
        fprintf(stderr, "trust store: %s\n", msg);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    crypto_trust_clear(&trust);
    return 0;
}

/* Verify the chain made of the given fixture files; returns the reason and
 * checks the status agrees with it. */
static enum crypto_x509_reason verify_files(const char *name, enum crypto_x509_purpose purpose,
                                            uint64_t now, enum crypto_peer_key_type *type,
                                            const char *file, ...)
{
    struct fix_chain ch = {0};
    va_list ap;
    va_start(ap, file);
    for (const char *f = file; f != NULL; f = va_arg(ap, const char *))
        assert_true(fix_pem_blocks(f, "CERTIFICATE", &ch) > 0);
    va_end(ap);
    struct crypto_peer_key key = {0};
    enum crypto_x509_reason r = CRYPTO_X509_INTERNAL;
    coaps_status st = crypto_x509_verify_chain(&trust, ch.ptr, ch.len, ch.n, name, purpose, now,
                                               &key, &r);
    if (r == CRYPTO_X509_OK) {
        assert_int_equal(st, COAPS_OK);
        assert_true(key.live);
    } else {
        assert_int_equal(st, COAPS_E_VERIFY);
        assert_false(key.live);
    }
    if (type != NULL)
        *type = key.type;
    crypto_peer_key_clear(&key);
    return r;
}

#define SRV CRYPTO_X509_PURPOSE_SERVER
#define CLI CRYPTO_X509_PURPOSE_CLIENT

static void good_chain_matches_dns_and_ip_names(void **state)
{
    (void)state;
    enum crypto_peer_key_type type = CRYPTO_PEER_KEY_NONE;
    /* RFC 6125 6.4: DNS-ID; 6.2.1 / RFC 5280 4.2.1.6: IP addresses */
    const char *good[] = {"localhost", "LOCALHOST", "127.0.0.1", "::1", "0:0:0:0:0:0:0:1", NULL};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(verify_files(good[i], SRV, 0, &type, "server.pem", NULL), CRYPTO_X509_OK);
        assert_int_equal(type, CRYPTO_PEER_KEY_EC_P256);
    }
    /* explicit time inside the validity gives the same answer */
    assert_int_equal(verify_files("localhost", SRV, T_TOMORROW, NULL, "server.pem", NULL),
                     CRYPTO_X509_OK);
    /* the root may come along in the chain */
    assert_int_equal(verify_files("localhost", SRV, 0, NULL, "server.pem", "ca.pem", NULL),
                     CRYPTO_X509_OK);
    const char *bad[] = {"127.0.0.2", "::2", "localhost.", "www.localhost", "localhos",
                         "client.coaps.test", "coaps test CA"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        enum crypto_x509_reason r = verify_files(bad[i], SRV, 0, NULL, "server.pem", NULL);
        if (r != CRYPTO_X509_NAME_MISMATCH)
            fprintf(stderr, "name %s: %s\n", bad[i], crypto_x509_reason_str(r));
        assert_int_equal(r, CRYPTO_X509_NAME_MISMATCH);
    }
    assert_int_equal(crypto_x509_reason_alert(CRYPTO_X509_NAME_MISMATCH), 42);
}

static void wrong_name_is_bad_certificate(void **state)
{
    (void)state;
    assert_int_equal(verify_files("localhost", SRV, 0, NULL, "wrongname.pem", NULL),
                     CRYPTO_X509_NAME_MISMATCH);
    assert_int_equal(verify_files("wrong.example", SRV, 0, NULL, "wrongname.pem", NULL),
                     CRYPTO_X509_OK);
    /* an IP literal never matches a dNSName or the CN (RFC 6125 6.2.1) */
    assert_int_equal(verify_files("127.0.0.1", SRV, 0, NULL, "wrongname.pem", NULL),
                     CRYPTO_X509_NAME_MISMATCH);
    /* wrongname.pem's CN is "wrong.example" too; server.pem's is
     * "localhost". The CN counts only without SAN (RFC 6125 6.4.4):
     * nosan.pem (CN=localhost, no SAN) matches by CN, but not by IP */
    assert_int_equal(verify_files("localhost", SRV, 0, NULL, "nosan.pem", NULL), CRYPTO_X509_OK);
    assert_int_equal(verify_files("127.0.0.1", SRV, 0, NULL, "nosan.pem", NULL),
                     CRYPTO_X509_NAME_MISMATCH);
    assert_int_equal(verify_files("other", SRV, 0, NULL, "nosan.pem", NULL),
                     CRYPTO_X509_NAME_MISMATCH);
    char line[CRYPTO_MSG_MAX];
    assert_string_equal(crypto_x509_reason_format(CRYPTO_X509_NAME_MISMATCH, "localhost", line,
                                                  sizeof line),
                        "name mismatch: expected localhost");
    assert_string_equal(crypto_x509_reason_format(CRYPTO_X509_UNKNOWN_CA, "localhost", line,
                                                  sizeof line),
                        "unknown CA");
    char tiny[5];
    assert_string_equal(crypto_x509_reason_format(CRYPTO_X509_NAME_MISMATCH, "x", tiny,
                                                  sizeof tiny),
                        "name");
}

static void expired_and_not_yet_valid_are_certificate_expired(void **state)
{
    (void)state;
    assert_int_equal(verify_files("localhost", SRV, 0, NULL, "expired.pem", NULL),
                     CRYPTO_X509_EXPIRED);
    assert_int_equal(verify_files("localhost", SRV, T_TOMORROW, NULL, "expired.pem", NULL),
                     CRYPTO_X509_EXPIRED);
    /* in 2000 it was inside its own dates, but its CA was not yet valid */
    assert_int_equal(verify_files(NULL, SRV, T_2000_06, NULL, "expired.pem", NULL),
                     CRYPTO_X509_EXPIRED);
    /* the good one is not yet valid in 1999, no longer in 2100 */
    assert_int_equal(verify_files("localhost", SRV, T_1999, NULL, "server.pem", NULL),
                     CRYPTO_X509_EXPIRED);
    assert_int_equal(verify_files("localhost", SRV, T_2100, NULL, "server.pem", NULL),
                     CRYPTO_X509_EXPIRED);
    assert_int_equal(crypto_x509_reason_alert(CRYPTO_X509_EXPIRED), 45);
}

static void untrusted_roots_are_unknown_ca(void **state)
{
    (void)state;
    assert_int_equal(verify_files("localhost", SRV, 0, NULL, "selfsigned.pem", NULL),
                     CRYPTO_X509_UNKNOWN_CA);
    assert_int_equal(verify_files("localhost", SRV, 0, NULL, "other-server.pem", NULL),
                     CRYPTO_X509_UNKNOWN_CA);
    assert_int_equal(verify_files("localhost", SRV, 0, NULL, "other-server.pem", "other-ca.pem",
                                  NULL),
                     CRYPTO_X509_UNKNOWN_CA);
    /* a chain whose intermediate is missing cannot reach the P-384 root */
    assert_int_equal(verify_files("localhost", SRV, 0, NULL, "p384-server.pem", NULL),
                     CRYPTO_X509_UNKNOWN_CA);
    assert_int_equal(crypto_x509_reason_alert(CRYPTO_X509_UNKNOWN_CA), 48);

    /* an empty store trusts nothing; a store with the self-signed cert
     * trusts exactly it */
    struct crypto_trust t2 = {0};
    assert_int_equal(crypto_trust_init(&t2), COAPS_OK);
    struct fix_chain ch = {0};
    fix_chain_of(&ch, "selfsigned.pem", NULL);
    enum crypto_x509_reason r;
    assert_int_equal(crypto_x509_verify_chain(&t2, ch.ptr, ch.len, 1, "localhost", SRV, 0, NULL,
                                              &r),
                     COAPS_E_VERIFY);
    assert_int_equal(r, CRYPTO_X509_UNKNOWN_CA);
    assert_int_equal(crypto_trust_add_der(&t2, ch.der[0], ch.len[0]), COAPS_OK);
    assert_int_equal(crypto_x509_verify_chain(&t2, ch.ptr, ch.len, 1, "localhost", SRV, 0, NULL,
                                              &r),
                     COAPS_OK);
    assert_int_equal(r, CRYPTO_X509_OK);
    crypto_trust_clear(&t2);
    crypto_trust_clear(&t2);
}

static void rsa_root_and_p384_intermediate_chains_verify(void **state)
{
    (void)state;
    enum crypto_peer_key_type type;
    assert_int_equal(verify_files("localhost", SRV, 0, &type, "rsa-server.pem", NULL),
                     CRYPTO_X509_OK);
    assert_int_equal(type, CRYPTO_PEER_KEY_EC_P256);
    assert_int_equal(verify_files("localhost", SRV, 0, &type, "rsa-leaf.pem", NULL),
                     CRYPTO_X509_OK);
    assert_int_equal(type, CRYPTO_PEER_KEY_RSA);
    assert_int_equal(verify_files("localhost", SRV, 0, &type, "p384-chain.pem", NULL),
                     CRYPTO_X509_OK);
    assert_int_equal(type, CRYPTO_PEER_KEY_EC_P384);
    /* intermediates in any order, root included */
    assert_int_equal(verify_files("::1", SRV, T_TOMORROW, &type, "p384-server.pem", "p384-ca.pem",
                                  "p384-int.pem", NULL),
                     CRYPTO_X509_OK);
}

static void purpose_and_key_usage_are_enforced(void **state)
{
    (void)state;
    /* RFC 5280 4.2.1.12: clientAuth-only leaf is not a server, and back */
    assert_int_equal(verify_files(NULL, CLI, 0, NULL, "client.pem", NULL), CRYPTO_X509_OK);
    assert_int_equal(verify_files("client.coaps.test", CLI, 0, NULL, "client.pem", NULL),
                     CRYPTO_X509_OK);
    assert_int_equal(verify_files(NULL, SRV, 0, NULL, "client.pem", NULL),
                     CRYPTO_X509_UNSUPPORTED);
    assert_int_equal(verify_files(NULL, CLI, 0, NULL, "server.pem", NULL),
                     CRYPTO_X509_UNSUPPORTED);
    /* RFC 8422 5.3: the key must be allowed to sign */
    assert_int_equal(verify_files("localhost", SRV, 0, NULL, "nodigsig.pem", NULL),
                     CRYPTO_X509_UNSUPPORTED);
    assert_int_equal(crypto_x509_reason_alert(CRYPTO_X509_UNSUPPORTED), 43);
}

static void malformed_and_tampered_chains_are_refused(void **state)
{
    (void)state;
    struct fix_chain ch = {0};
    fix_chain_of(&ch, "server.pem", NULL);
    enum crypto_x509_reason r;
    struct crypto_peer_key key = {0};
    /* empty chain: RFC 5246 7.4.6 */
    assert_int_equal(crypto_x509_verify_chain(&trust, NULL, NULL, 0, NULL, SRV, 0, &key, &r),
                     COAPS_E_VERIFY);
    assert_int_equal(r, CRYPTO_X509_NO_CERTIFICATE);
    assert_int_equal(crypto_x509_reason_alert(r), 40);
    /* truncated, with a trailing byte, garbage, empty entry */
    size_t len = ch.len[0];
    ch.len[0] = len - 1;
    assert_int_equal(crypto_x509_verify_chain(&trust, ch.ptr, ch.len, 1, NULL, SRV, 0, &key, &r),
                     COAPS_E_VERIFY);
    assert_int_equal(r, CRYPTO_X509_MALFORMED);
    ch.der[0][len] = 0;
    ch.len[0] = len + 1;
    assert_int_equal(crypto_x509_verify_chain(&trust, ch.ptr, ch.len, 1, NULL, SRV, 0, &key, &r),
                     COAPS_E_VERIFY);
    assert_int_equal(r, CRYPTO_X509_MALFORMED);
    ch.len[0] = 0;
    assert_int_equal(crypto_x509_verify_chain(&trust, ch.ptr, ch.len, 1, NULL, SRV, 0, &key, &r),
                     COAPS_E_VERIFY);
    assert_int_equal(r, CRYPTO_X509_MALFORMED);
    ch.len[0] = len;
    /* a flipped bit in the CA's signature (the DER ends with it) */
    ch.der[0][len - 1] ^= 0x01;
    assert_int_equal(crypto_x509_verify_chain(&trust, ch.ptr, ch.len, 1, NULL, SRV, 0, &key, &r),
                     COAPS_E_VERIFY);
    assert_int_equal(r, CRYPTO_X509_BAD_CERT_SIGNATURE);
    assert_int_equal(crypto_x509_reason_alert(r), 42);
    ch.der[0][len - 1] ^= 0x01;
    assert_false(key.live);
    /* the same with an intermediate: in its signature on the leaf, then in
     * the root's on it */
    struct fix_chain p384 = {0};
    fix_chain_of(&p384, "p384-chain.pem", NULL);
    for (size_t i = 0; i < p384.n; i++) {
        p384.der[i][p384.len[i] - 1] ^= 0x01;
        assert_int_equal(crypto_x509_verify_chain(&trust, p384.ptr, p384.len, p384.n, NULL, SRV, 0,
                                                  &key, &r),
                         COAPS_E_VERIFY);
        assert_int_equal(r, CRYPTO_X509_BAD_CERT_SIGNATURE);
        p384.der[i][p384.len[i] - 1] ^= 0x01;
    }
    assert_false(key.live);
    /* more than CRYPTO_CHAIN_MAX entries: refused before any parsing */
    struct fix_chain big = {0};
    for (int i = 0; i < CRYPTO_CHAIN_MAX + 1; i++)
        fix_chain_of(&big, "server.pem", NULL);
    assert_int_equal(crypto_x509_verify_chain(&trust, big.ptr, big.len, CRYPTO_CHAIN_MAX + 1,
                                              NULL, SRV, 0, NULL, &r),
                     COAPS_E_VERIFY);
    assert_int_equal(r, CRYPTO_X509_MALFORMED);
    /* the same certificate repeated up to the bound still verifies */
    assert_int_equal(crypto_x509_verify_chain(&trust, big.ptr, big.len, CRYPTO_CHAIN_MAX, NULL,
                                              SRV, 0, NULL, NULL),
                     COAPS_OK);
    /* bad arguments */
    assert_int_equal(crypto_x509_verify_chain(NULL, ch.ptr, ch.len, 1, NULL, SRV, 0, NULL, &r),
                     COAPS_E_INVALID);
    assert_int_equal(crypto_x509_verify_chain(&trust, ch.ptr, ch.len, 1, NULL,
                                              (enum crypto_x509_purpose)7, 0, NULL, &r),
                     COAPS_E_INVALID);
}

static void reason_table_is_complete(void **state)
{
    (void)state;
    static const uint8_t want[] = {
        [CRYPTO_X509_OK] = 0,           [CRYPTO_X509_NO_CERTIFICATE] = 40,
        [CRYPTO_X509_MALFORMED] = 42,   [CRYPTO_X509_BAD_CERT_SIGNATURE] = 42,
        [CRYPTO_X509_NAME_MISMATCH] = 42, [CRYPTO_X509_UNSUPPORTED] = 43,
        [CRYPTO_X509_EXPIRED] = 45,     [CRYPTO_X509_UNKNOWN_CA] = 48,
        [CRYPTO_X509_RPK_UNKNOWN] = 46, [CRYPTO_X509_INVALID_CHAIN] = 42,
        [CRYPTO_X509_BAD_SIGNATURE] = 51, [CRYPTO_X509_INTERNAL] = 80,
    };
    for (size_t r = 0; r < sizeof want; r++) {
        assert_int_equal(crypto_x509_reason_alert((enum crypto_x509_reason)r), want[r]);
        assert_non_null(crypto_x509_reason_str((enum crypto_x509_reason)r));
    }
    assert_string_equal(crypto_x509_reason_str(CRYPTO_X509_EXPIRED),
                        "certificate expired or not yet valid");
    assert_int_equal(crypto_x509_reason_alert((enum crypto_x509_reason)99), 80);
    assert_string_equal(crypto_x509_reason_str((enum crypto_x509_reason)99), "unknown reason");
}

/* ---- raw public keys (RFC 7250) ----------------------------------------------------- */

/* The SubjectPublicKeyInfo of the P-256 key in `spki` (uncompressed point,
 * 91 bytes) with its point compressed: 0x02 or 0x03 (the parity of Y) || X. */
static size_t compressed_p256_spki(const uint8_t *spki, size_t len, uint8_t *out, size_t cap)
{
    static const uint8_t prefix[] = {0x30, 0x39, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                     0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                     0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x22, 0x00};
    assert_int_equal(len, 91);
    assert_true(cap >= sizeof prefix + 33);
    const uint8_t *point = spki + len - 65; /* 0x04 || X || Y */
    assert_int_equal(point[0], 0x04);
    memcpy(out, prefix, sizeof prefix);
    out[sizeof prefix] = (uint8_t)(0x02 | (point[64] & 1));
    memcpy(out + sizeof prefix + 1, point + 1, 32);
    return sizeof prefix + 33;
}

static void rpk_match_and_mismatch(void **state)
{
    (void)state;
    struct crypto_trust t = {0};
    char msg[CRYPTO_MSG_MAX] = "";
    assert_int_equal(crypto_trust_init(&t), COAPS_OK);
    assert_int_equal(crypto_trust_load_file(&t, fix_path("server-pub.pem"), msg), COAPS_OK);
    size_t n_ca = 9, n_rpk = 9;
    crypto_trust_count(&t, &n_ca, &n_rpk);
    assert_int_equal(n_ca, 0);
    assert_int_equal(n_rpk, 1);

    struct fix_chain keys = {0};
    assert_int_equal(fix_pem_blocks("server-pub.pem", "PUBLIC KEY", &keys), 1);
    assert_int_equal(fix_pem_blocks("client-pub.pem", "PUBLIC KEY", &keys), 1);
    struct crypto_peer_key key = {0};
    enum crypto_x509_reason r;
    assert_int_equal(crypto_rpk_match(&t, keys.der[0], keys.len[0], &key, &r), COAPS_OK);
    assert_int_equal(r, CRYPTO_X509_OK);
    assert_int_equal(key.type, CRYPTO_PEER_KEY_EC_P256);
    /* and the key verifies what server.key signed */
    uint8_t m[256], sig[256];
    size_t m_len = fix_read("msg.bin", m, sizeof m);
    size_t s_len = fix_read("sig-ecdsa-p256-sha256.bin", sig, sizeof sig);
    assert_int_equal(crypto_peer_key_verify(&key, 0x0403, m, m_len, sig, s_len), COAPS_OK);
    crypto_peer_key_clear(&key);

    assert_int_equal(crypto_rpk_match(&t, keys.der[1], keys.len[1], &key, &r), COAPS_E_VERIFY);
    assert_int_equal(r, CRYPTO_X509_RPK_UNKNOWN);
    assert_int_equal(crypto_x509_reason_alert(r), 46);
    assert_false(key.live);
    /* not DER, truncated, trailing garbage */
    assert_int_equal(crypto_rpk_match(&t, keys.der[0], keys.len[0] - 1, &key, &r), COAPS_E_VERIFY);
    assert_int_equal(r, CRYPTO_X509_MALFORMED);
    keys.der[0][keys.len[0]] = 0;
    assert_int_equal(crypto_rpk_match(&t, keys.der[0], keys.len[0] + 1, NULL, &r), COAPS_E_VERIFY);
    assert_int_equal(r, CRYPTO_X509_MALFORMED);
    assert_int_equal(crypto_rpk_match(&t, NULL, 0, NULL, &r), COAPS_E_VERIFY);
    assert_int_equal(r, CRYPTO_X509_MALFORMED);
    /* a flipped bit in the point: off the curve or another key, never a match */
    keys.der[0][keys.len[0] - 1] ^= 0x01;
    assert_int_equal(crypto_rpk_match(&t, keys.der[0], keys.len[0], NULL, &r), COAPS_E_VERIFY);
    assert_true(r == CRYPTO_X509_MALFORMED || r == CRYPTO_X509_RPK_UNKNOWN);
    keys.der[0][keys.len[0] - 1] ^= 0x01;
    /* keys compare by value: the compressed point (SEC 1 2.3.3, RFC 5480
     * 2.2) of the pinned key matches it too */
    uint8_t comp[64];
    size_t comp_len = compressed_p256_spki(keys.der[0], keys.len[0], comp, sizeof comp);
    assert_int_equal(crypto_rpk_match(&t, comp, comp_len, &key, &r), COAPS_OK);
    assert_int_equal(key.type, CRYPTO_PEER_KEY_EC_P256);
    crypto_peer_key_clear(&key);
    /* the CA store (no pinned keys) matches no raw key */
    assert_int_equal(crypto_rpk_match(&trust, keys.der[0], keys.len[0], NULL, &r),
                     COAPS_E_VERIFY);
    assert_int_equal(r, CRYPTO_X509_RPK_UNKNOWN);
    crypto_trust_clear(&t);
}

/* ---- trust store loading -------------------------------------------------------------- */

static void write_file(const char *dir, const char *name, const void *p, size_t n)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static void trust_loading_files_dirs_and_errors(void **state)
{
    (void)state;
    struct crypto_trust t = {0};
    char msg[CRYPTO_MSG_MAX] = "";
    size_t n_ca, n_rpk;
    assert_int_equal(crypto_trust_init(&t), COAPS_OK);
    /* missing file: one line naming it */
    assert_int_equal(crypto_trust_load_file(&t, "/nonexistent/ca.pem", msg), COAPS_E_IO);
    assert_non_null(strstr(msg, "/nonexistent/ca.pem: No such file"));
    /* a directory is not a file */
    assert_int_equal(crypto_trust_load_file(&t, fix_dir(), msg), COAPS_E_INVALID);
    assert_non_null(strstr(msg, "not a regular file"));
    /* a key file holds no certificate or public key */
    assert_int_equal(crypto_trust_load_file(&t, fix_path("ca.key"), msg), COAPS_E_MALFORMED);
    assert_non_null(strstr(msg, "no CERTIFICATE or PUBLIC KEY block"));
    /* bytes: not PEM at all, broken base64 */
    assert_int_equal(crypto_trust_add_pem(&t, "hello", 5, msg), COAPS_E_MALFORMED);
    static const char broken[] = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
    assert_int_equal(crypto_trust_add_pem(&t, broken, sizeof broken - 1, msg), COAPS_E_MALFORMED);
    static const char notcert[] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    assert_int_equal(crypto_trust_add_pem(&t, notcert, sizeof notcert - 1, msg),
                     COAPS_E_MALFORMED);
    assert_non_null(strstr(msg, "block 1: CERTIFICATE does not decode"));
    assert_int_equal(crypto_trust_add_der(&t, (const uint8_t *)"\x30\x00", 2), COAPS_E_MALFORMED);
    crypto_trust_count(&t, &n_ca, &n_rpk);
    assert_int_equal(n_ca + n_rpk, 0);

    /* a directory: *.pem, *.crt, *.pub are read, the rest skipped */
    char dir[] = "/tmp/coaps-trust-XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_int_equal(crypto_trust_load_dir(&t, dir, msg), COAPS_E_NOT_FOUND);
    uint8_t buf[FIX_FILE_MAX];
    size_t n = fix_read("ca.pem", buf, sizeof buf);
    write_file(dir, "ca.crt", buf, n);
    n = fix_read("p384-chain.pem", buf, sizeof buf); /* two certificates */
    write_file(dir, "p384.pem", buf, n);
    n = fix_read("client-pub.pem", buf, sizeof buf);
    write_file(dir, "client.pub", buf, n);
    write_file(dir, "README", "not pem", 7);
    write_file(dir, ".hidden.pem", "not pem", 7);
    assert_int_equal(crypto_trust_load_dir(&t, dir, msg), COAPS_OK);
    crypto_trust_count(&t, &n_ca, &n_rpk);
    assert_int_equal(n_ca, 3);
    assert_int_equal(n_rpk, 1);
    /* the P-384 leaf and intermediate are in the store now, but anchors
     * must be roots (no partial chains): the path still needs p384-ca */
    struct fix_chain ch = {0};
    enum crypto_x509_reason r;
    fix_chain_of(&ch, "p384-server.pem", NULL);
    assert_int_equal(crypto_x509_verify_chain(&t, ch.ptr, ch.len, 1, "localhost", SRV, 0, NULL,
                                              &r),
                     COAPS_E_VERIFY);
    assert_int_equal(r, CRYPTO_X509_UNKNOWN_CA);
    n = fix_read("p384-ca.pem", buf, sizeof buf);
    write_file(dir, "p384-ca.pem", buf, n);
    assert_int_equal(crypto_trust_load_file(&t, fix_path("p384-ca.pem"), msg), COAPS_OK);
    assert_int_equal(crypto_x509_verify_chain(&t, ch.ptr, ch.len, 1, "localhost", SRV, 0, NULL,
                                              &r),
                     COAPS_OK);
    write_file(dir, "bad.pem", broken, sizeof broken - 1);
    assert_int_equal(crypto_trust_load_dir(&t, dir, msg), COAPS_E_MALFORMED);
    assert_non_null(strstr(msg, "bad.pem"));
    const char *names[] = {"ca.crt", "p384.pem",    "p384-ca.pem", "client.pub",
                           "README", ".hidden.pem", "bad.pem"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char p[1200];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        assert_int_equal(unlink(p), 0);
    }
    assert_int_equal(rmdir(dir), 0);
    assert_int_equal(crypto_trust_load_dir(&t, dir, msg), COAPS_E_IO);
    crypto_trust_clear(&t);
    assert_int_equal(crypto_trust_load_file(&t, fix_path("ca.pem"), msg), COAPS_E_INVALID);
}

/* ---- our credential ----------------------------------------------------------------------- */

static coaps_status load(const char *chain, const char *key, char *msg)
{
    struct crypto_credential c = {0};
    coaps_status st = crypto_credential_load(&c, chain ? fix_path(chain) : NULL, fix_path(key),
                                             msg);
    assert_true(st == COAPS_OK ? c.live : !c.live);
    crypto_credential_clear(&c);
    return st;
}

static void credential_load_errors_are_one_clear_line(void **state)
{
    (void)state;
    char msg[CRYPTO_MSG_MAX] = "";
    assert_int_equal(load("server.pem", "server.key", msg), COAPS_OK);
    assert_int_equal(load("client.pem", "client.key", msg), COAPS_OK); /* "EC PRIVATE KEY" */
    assert_int_equal(load(NULL, "client.key", msg), COAPS_OK);         /* RPK only */

    assert_int_equal(load("server.pem", "missing.key", msg), COAPS_E_IO);
    assert_non_null(strstr(msg, "missing.key: No such file or directory"));
    assert_int_equal(load("missing.pem", "server.key", msg), COAPS_E_IO);
    assert_non_null(strstr(msg, "missing.pem: No such file"));
    /* a certificate where the key should be, a key where the chain should be */
    assert_int_equal(load("server.pem", "server.pem", msg), COAPS_E_MALFORMED);
    assert_non_null(strstr(msg, "server.pem: no private key"));
    assert_int_equal(load("server.key", "server.key", msg), COAPS_E_MALFORMED);
    assert_non_null(strstr(msg, "server.key: no CERTIFICATE block"));
    /* key of another certificate */
    assert_int_equal(load("server.pem", "client.key", msg), COAPS_E_CONFIG);
    assert_non_null(strstr(msg, "does not match the certificate"));
    /* not P-256: P-384 (PKCS#8), RSA (PKCS#8) */
    assert_int_equal(load("p384-server.pem", "p384-server.key", msg), COAPS_E_UNSUPPORTED);
    assert_non_null(strstr(msg, "p384-server.key: key must be EC P-256"));
    assert_int_equal(load(NULL, "rsa-leaf.key", msg), COAPS_E_UNSUPPORTED);
    assert_non_null(strstr(msg, "key must be EC P-256"));

    /* bytes: RSA PRIVATE KEY / encrypted / broken blocks */
    struct crypto_credential c = {0};
    static const char rsa[] =
        "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n";
    assert_int_equal(crypto_credential_load_pem(&c, NULL, 0, rsa, sizeof rsa - 1, msg),
                     COAPS_E_UNSUPPORTED);
    assert_string_equal(msg, "private key: key must be EC P-256");
    static const char enc[] =
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
    assert_int_equal(crypto_credential_load_pem(&c, NULL, 0, enc, sizeof enc - 1, msg),
                     COAPS_E_UNSUPPORTED);
    assert_string_equal(msg, "private key: encrypted private keys are not supported");
    static const char junk[] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    assert_int_equal(crypto_credential_load_pem(&c, NULL, 0, junk, sizeof junk - 1, msg),
                     COAPS_E_MALFORMED);
    assert_non_null(strstr(msg, "does not decode"));
    assert_int_equal(crypto_credential_load_pem(&c, NULL, 0, "", 0, msg), COAPS_E_MALFORMED);
    assert_false(c.live);
    /* more than CRYPTO_CHAIN_MAX certificates */
    static uint8_t chain[CRYPTO_CHAIN_MAX + 1][FIX_FILE_MAX / 8];
    uint8_t big[(CRYPTO_CHAIN_MAX + 1) * (FIX_FILE_MAX / 8)], key[FIX_FILE_MAX];
    size_t n = fix_read("server.pem", chain[0], sizeof chain[0]), total = 0;
    for (int i = 0; i <= CRYPTO_CHAIN_MAX; i++) {
        memcpy(big + total, chain[0], n);
        total += n;
    }
    size_t key_len = fix_read("server.key", key, sizeof key);
    assert_int_equal(crypto_credential_load_pem(&c, big, total, key, key_len, msg), COAPS_E_FULL);
    assert_int_equal(crypto_credential_load_pem(&c, big, total - n, key, key_len, msg), COAPS_OK);
    assert_int_equal(crypto_credential_chain_len(&c), CRYPTO_CHAIN_MAX);
    crypto_credential_clear(&c);
    crypto_credential_clear(&c);
    assert_int_equal(crypto_credential_chain_len(&c), 0);
}

static void credential_sign_then_verify_with_peer_key_from_cert(void **state)
{
    (void)state;
    char msg[CRYPTO_MSG_MAX] = "";
    struct crypto_credential c = {0};
    /* chain and key in one buffer (as from a combined PEM file) */
    static uint8_t both[2 * FIX_FILE_MAX];
    size_t n = fix_read("server.key", both, FIX_FILE_MAX);
    n += fix_read("server.pem", both + n, FIX_FILE_MAX);
    assert_int_equal(crypto_credential_load_pem(&c, both, n, both, n, msg), COAPS_OK);
    assert_int_equal(crypto_credential_chain_len(&c), 1);
    const uint8_t *der;
    size_t der_len;
    assert_int_equal(crypto_credential_cert(&c, 0, &der, &der_len), COAPS_OK);
    struct fix_chain want = {0};
    fix_chain_of(&want, "server.pem", NULL);
    assert_int_equal(der_len, want.len[0]);
    assert_memory_equal(der, want.der[0], der_len);
    assert_int_equal(crypto_credential_cert(&c, 1, &der, &der_len), COAPS_E_NOT_FOUND);
    /* our SPKI is the server-pub.pem key */
    struct fix_chain spki = {0};
    fix_pem_blocks("server-pub.pem", "PUBLIC KEY", &spki);
    assert_int_equal(crypto_credential_spki(&c, &der, &der_len), COAPS_OK);
    assert_int_equal(der_len, spki.len[0]);
    assert_memory_equal(der, spki.der[0], der_len);

    /* sign, then verify with the key the verifier hands out for our cert */
    struct crypto_peer_key peer = {0};
    enum crypto_x509_reason r;
    const uint8_t *leaf[1];
    size_t leaf_len[1];
    assert_int_equal(crypto_credential_cert(&c, 0, &leaf[0], &leaf_len[0]), COAPS_OK);
    assert_int_equal(crypto_x509_verify_chain(&trust, leaf, leaf_len, 1, "localhost", SRV, 0,
                                              &peer, &r),
                     COAPS_OK);
    static const uint8_t m[] = "client_random || server_random || ServerECDHParams";
    uint8_t sig[CRYPTO_ECDSA_SIG_MAX];
    size_t sig_len = 0;
    assert_int_equal(crypto_credential_sign(&c, 0x0403, m, sizeof m, sig, &sig_len), COAPS_OK);
    assert_true(sig_len > 8 && sig_len <= CRYPTO_ECDSA_SIG_MAX);
    assert_int_equal(crypto_peer_key_verify(&peer, 0x0403, m, sizeof m, sig, sig_len), COAPS_OK);
    assert_int_equal(crypto_peer_key_verify(&peer, 0x0403, m, sizeof m - 1, sig, sig_len),
                     COAPS_E_VERIFY);
    sig[sig_len / 2] ^= 0x10;
    assert_int_equal(crypto_peer_key_verify(&peer, 0x0403, m, sizeof m, sig, sig_len),
                     COAPS_E_VERIFY);
    /* an empty message is signable too (NULL, 0) */
    assert_int_equal(crypto_credential_sign(&c, 0x0403, NULL, 0, sig, &sig_len), COAPS_OK);
    assert_int_equal(crypto_peer_key_verify(&peer, 0x0403, NULL, 0, sig, sig_len), COAPS_OK);
    /* only ecdsa_secp256r1_sha256 is ours to make */
    assert_int_equal(crypto_credential_sign(&c, 0x0503, m, sizeof m, sig, &sig_len),
                     COAPS_E_UNSUPPORTED);
    assert_int_equal(crypto_credential_sign(&c, 0x0804, m, sizeof m, sig, &sig_len),
                     COAPS_E_UNSUPPORTED);
    /* our own peer key agrees */
    struct crypto_peer_key self = {0};
    assert_int_equal(crypto_credential_peer_key(&c, &self), COAPS_OK);
    assert_int_equal(crypto_credential_sign(&c, 0x0403, m, sizeof m, sig, &sig_len), COAPS_OK);
    assert_int_equal(crypto_peer_key_verify(&self, 0x0403, m, sizeof m, sig, sig_len), COAPS_OK);
    crypto_peer_key_clear(&self);
    crypto_peer_key_clear(&peer);
    crypto_peer_key_clear(&peer);
    crypto_credential_clear(&c);
    assert_int_equal(crypto_credential_sign(&c, 0x0403, m, sizeof m, sig, &sig_len),
                     COAPS_E_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_chain_matches_dns_and_ip_names),
        cmocka_unit_test(wrong_name_is_bad_certificate),
        cmocka_unit_test(expired_and_not_yet_valid_are_certificate_expired),
        cmocka_unit_test(untrusted_roots_are_unknown_ca),
        cmocka_unit_test(rsa_root_and_p384_intermediate_chains_verify),
        cmocka_unit_test(purpose_and_key_usage_are_enforced),
        cmocka_unit_test(malformed_and_tampered_chains_are_refused),
        cmocka_unit_test(reason_table_is_complete),
        cmocka_unit_test(rpk_match_and_mismatch),
        cmocka_unit_test(trust_loading_files_dirs_and_errors),
        cmocka_unit_test(credential_load_errors_are_one_clear_line),
        cmocka_unit_test(credential_sign_then_verify_with_peer_key_from_cert),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
