/*
 * test_engine_pki.c - ECDHE_ECDSA handshakes (RFC 8422, RFC 7251, RFC 7250)
 * of our client against our server, in memory with a fake clock: every
 * suite on secp256r1 and x25519, mutual authentication, raw public keys,
 * fragmented flights at an MTU of 256, and refusals of bad peers with the
 * alert RFC 5246 7.2.2 names for each.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "coaps/dtls.h"
#include "common/try.h"
#include "common/wire.h"
#include "dtls/conn.h"
#include "engine_harness.h"

static const uint16_t ecdhe_suites[] = {
    COAPS_DTLS_ECDHE_ECDSA_AES_128_CCM_8,      COAPS_DTLS_ECDHE_ECDSA_AES_128_CCM,
    COAPS_DTLS_ECDHE_ECDSA_AES_128_GCM_SHA256, COAPS_DTLS_ECDHE_ECDSA_AES_256_GCM_SHA384,
    COAPS_DTLS_ECDHE_ECDSA_CHACHA20_POLY1305_SHA256,
};

/* ---- fixtures (tests/crypto/certs, see its README) ---------------------- */

struct files {
    const char *cert, *key, *ca, *rpk;
    bool require, use_rpk;
};

static const char *cert_path(char *buf, size_t cap, const char *name)
{
    if (!name)
        return NULL;
    const char *src = getenv("COAPS_SOURCE_DIR");
    snprintf(buf, cap, "%s/tests/crypto/certs/%s", src ? src : ".", name);
    return buf;
}

static coaps_dtls_pki *pki_load(struct files f)
{
    char a[512], b[512], c[512], d[512], err[256] = "";
    coaps_dtls_pki_files pf = {
        .cert_file = cert_path(a, sizeof a, f.cert),
        .key_file = cert_path(b, sizeof b, f.key),
        .ca_file = cert_path(c, sizeof c, f.ca),
        .rpk_trust_file = cert_path(d, sizeof d, f.rpk),
        .require_client_cert = f.require,
        .use_rpk = f.use_rpk,
    };
    coaps_dtls_pki *p = NULL;
    if (coaps_dtls_pki_new(&p, &pf, err, sizeof err) != COAPS_OK)
        fail_msg("pki: %s", err);
    return p;
}

struct pki_net {
    struct h_net *n;
    coaps_dtls_pki *cp, *sp;
};

/* A network whose two ends use certificates only (no PSK). */
static struct pki_net pki_net(struct files client, struct files server)
{
    struct pki_net pn = {h_new(7), NULL, NULL};
    struct h_net *n = pn.n;
    pn.cp = pki_load(client);
    pn.sp = pki_load(server);
    n->ccfg.psk_identity = NULL;
    n->ccfg.psk_identity_len = 0;
    n->ccfg.psk_key = NULL;
    n->ccfg.psk_key_len = 0;
    n->ccfg.pki = pn.cp;
    n->ccfg.server_name = "localhost";
    n->scfg.psk_lookup = NULL;
    n->scfg.pki = pn.sp;
    return pn;
}

static void pki_net_free(struct pki_net *pn)
{
    h_free(pn->n);
    coaps_dtls_pki_free(pn->cp);
    coaps_dtls_pki_free(pn->sp);
}

static const struct files server_x509 = {"server.pem", "server.key", NULL, NULL, false, false};
static const struct files client_ca = {NULL, NULL, "ca.pem", NULL, false, false};
static const struct files client_x509 = {"client.pem", "client.key", "ca.pem", NULL, false, false};
static const struct files server_mutual = {"server.pem", "server.key", "ca.pem", NULL, true, false};

static void assert_established(struct h_net *n)
{
    char buf[256];
    if (coaps_dtls_state(&n->cl) != COAPS_DTLS_ESTABLISHED)
        fail_msg("client not established: %s", coaps_dtls_error_str(&n->cl, buf, sizeof buf));
    assert_true(n->sv_up);
    if (coaps_dtls_state(&n->sv) != COAPS_DTLS_ESTABLISHED)
        fail_msg("server not established: %s", coaps_dtls_error_str(&n->sv, buf, sizeof buf));
    uint8_t a[32], b[32];
    assert_int_equal(coaps_dtls_key_digest(&n->cl, a), COAPS_OK);
    assert_int_equal(coaps_dtls_key_digest(&n->sv, b), COAPS_OK);
    assert_memory_equal(a, b, 32);
    /* one application record each way */
    uint8_t rec[H_DGRAM_MAX];
    size_t len = 0;
    const uint8_t *p;
    size_t plen;
    assert_int_equal(coaps_dtls_write(&n->cl, (const uint8_t *)"ping", 4, rec, sizeof rec, &len),
                     COAPS_OK);
    assert_int_equal(coaps_dtls_input(&n->sv, rec, len, n->now), COAPS_OK);
    assert_int_equal(coaps_dtls_read(&n->sv, &p, &plen), COAPS_OK);
    assert_int_equal(plen, 4);
    assert_int_equal(coaps_dtls_write(&n->sv, (const uint8_t *)"pong", 4, rec, sizeof rec, &len),
                     COAPS_OK);
    assert_int_equal(coaps_dtls_input(&n->cl, rec, len, n->now), COAPS_OK);
    assert_int_equal(coaps_dtls_read(&n->cl, &p, &plen), COAPS_OK);
    assert_memory_equal(p, "pong", 4);
}

/* The handshake failed: `who` sent alert `desc`, the other end got it. */
static void assert_refused(struct h_net *n, coaps_dtls_conn *who, coaps_dtls_conn *other,
                           int desc)
{
    char buf[256];
    coaps_dtls_error e = coaps_dtls_error_reason(who);
    if (coaps_dtls_state(who) != COAPS_DTLS_FAILED || e.alert != desc || !e.alert_sent)
        fail_msg("want alert %s sent, got: %s", coaps_dtls_alert_name(desc),
                 coaps_dtls_error_str(who, buf, sizeof buf));
    coaps_dtls_error o = coaps_dtls_error_reason(other);
    assert_int_equal(coaps_dtls_state(other), COAPS_DTLS_FAILED);
    assert_int_equal(o.alert, desc);
    assert_false(o.alert_sent);
    (void)n;
}

/* ---- handshakes that succeed --------------------------------------------- */

/* RFC 8422 / RFC 7251: every ECDHE_ECDSA suite, on both groups. */
static void every_suite_both_groups(void **state)
{
    (void)state;
    static const uint16_t groups[] = {COAPS_DTLS_GROUP_SECP256R1, COAPS_DTLS_GROUP_X25519};
    for (size_t g = 0; g < 2; g++) {
        for (size_t i = 0; i < COAPS_ARRAY_LEN(ecdhe_suites); i++) {
            struct pki_net pn = pki_net(client_ca, server_x509);
            pn.n->ccfg.suites = &ecdhe_suites[i];
            pn.n->ccfg.suites_len = 1;
            pn.n->ccfg.groups = &groups[g];
            pn.n->ccfg.groups_len = 1;
            assert_int_equal(h_start(pn.n), COAPS_OK);
            h_run(pn.n, 10000);
            assert_established(pn.n);
            assert_int_equal(coaps_dtls_suite(&pn.n->cl), ecdhe_suites[i]);
            assert_int_equal(coaps_dtls_suite(&pn.n->sv), ecdhe_suites[i]);
            pki_net_free(&pn);
        }
    }
}

/* RFC 5246 7.4.4-7.4.8: the server asks, the client proves its key. */
static void mutual_authentication(void **state)
{
    (void)state;
    struct pki_net pn = pki_net(client_x509, server_mutual);
    assert_int_equal(h_start(pn.n), COAPS_OK);
    h_run(pn.n, 10000);
    assert_established(pn.n);
    pki_net_free(&pn);
}

/* A server that asks but does not require: a client without a certificate
 * sends an empty one (RFC 5246 7.4.6) and is let in. */
static void optional_client_cert(void **state)
{
    (void)state;
    struct files s = server_mutual;
    s.require = false;
    struct pki_net pn = pki_net(client_ca, s);
    assert_int_equal(h_start(pn.n), COAPS_OK);
    h_run(pn.n, 10000);
    assert_established(pn.n);
    pki_net_free(&pn);
}

/* RFC 7250: raw public keys both ways, pinned on each side. */
static void raw_public_keys(void **state)
{
    (void)state;
    struct files c = {NULL, "client.key", NULL, "server-pub.pem", false, true};
    struct files s = {NULL, "server.key", NULL, "client-pub.pem", true, true};
    struct pki_net pn = pki_net(c, s);
    assert_int_equal(h_start(pn.n), COAPS_OK);
    h_run(pn.n, 10000);
    assert_established(pn.n);
    pki_net_free(&pn);
}

/* RFC 7250 4.2: a client offering only a raw public key to a server that
 * pins none is not asked for one (no CertificateRequest) when the server
 * does not require it, and is refused (no usable suite:
 * handshake_failure) when it does. */
static void client_rpk_not_checkable(void **state)
{
    (void)state;
    struct files c = {NULL, "client.key", "ca.pem", NULL, false, true};
    struct files s = server_mutual;
    s.require = false;
    struct pki_net pn = pki_net(c, s);
    assert_int_equal(h_start(pn.n), COAPS_OK);
    h_run(pn.n, 10000);
    assert_established(pn.n);
    pki_net_free(&pn);

    pn = pki_net(c, server_mutual);
    assert_int_equal(h_start(pn.n), COAPS_OK);
    h_run(pn.n, 10000);
    assert_refused(pn.n, &pn.n->sv, &pn.n->cl, DTLS_ALERT_HANDSHAKE_FAILURE);
    pki_net_free(&pn);
}

/* An unpinned raw key is refused: certificate_unknown (crypto.h table). */
static void raw_public_key_unknown(void **state)
{
    (void)state;
    struct files c = {NULL, "client.key", NULL, "client-pub.pem", false, true};
    struct files s = {NULL, "server.key", NULL, "client-pub.pem", true, true};
    struct pki_net pn = pki_net(c, s);
    assert_int_equal(h_start(pn.n), COAPS_OK);
    h_run(pn.n, 10000);
    assert_refused(pn.n, &pn.n->cl, &pn.n->sv, DTLS_ALERT_CERTIFICATE_UNKNOWN);
    pki_net_free(&pn);
}

/* RFC 6347 4.2.3: certificate flights cut into fragments at an MTU of 256,
 * both ways (the channel drops anything larger). */
static void mtu_256_fragments(void **state)
{
    (void)state;
    struct pki_net pn = pki_net(client_x509, server_mutual);
    pn.n->ccfg.mtu = 256;
    pn.n->scfg.mtu = 256;
    pn.n->ch[H_C2S].mtu_drop = 256;
    pn.n->ch[H_S2C].mtu_drop = 256;
    assert_int_equal(h_start(pn.n), COAPS_OK);
    h_run(pn.n, 10000);
    assert_established(pn.n);
    assert_int_equal(pn.n->ch[H_C2S].dropped, 0);
    assert_int_equal(pn.n->ch[H_S2C].dropped, 0);
    assert_true(pn.n->ch[H_S2C].sent >= 4); /* the chain needed several */
    pki_net_free(&pn);
}

/* Loss and reordering with fragments: retransmission still completes. */
static void mtu_256_lossy(void **state)
{
    (void)state;
    struct pki_net pn = pki_net(client_x509, server_mutual);
    pn.n->ccfg.mtu = 256;
    pn.n->scfg.mtu = 256;
    for (int d = 0; d < 2; d++) {
        pn.n->ch[d].loss = 150;
        pn.n->ch[d].reorder = 200;
    }
    assert_int_equal(h_start(pn.n), COAPS_OK);
    h_run(pn.n, 110000);
    assert_established(pn.n);
    pki_net_free(&pn);
}

/* PSK and certificates configured together: the client offers both kinds,
 * the server picks its first (PSK), and a certificate-only client still
 * gets ECDHE_ECDSA from the same server. */
static void psk_and_pki_together(void **state)
{
    (void)state;
    struct pki_net pn = pki_net(client_ca, server_x509);
    pn.n->scfg.psk_lookup = h_lookup;
    pn.n->ccfg.psk_identity = (const uint8_t *)"client1";
    pn.n->ccfg.psk_identity_len = 7;
    pn.n->ccfg.psk_key = h_client_psk;
    pn.n->ccfg.psk_key_len = sizeof(h_client_psk);
    assert_int_equal(h_start(pn.n), COAPS_OK);
    h_run(pn.n, 10000);
    assert_established(pn.n);
    assert_int_equal(coaps_dtls_suite(&pn.n->sv), COAPS_DTLS_PSK_AES_128_CCM_8);
    pki_net_free(&pn);

    pn = pki_net(client_ca, server_x509);
    pn.n->scfg.psk_lookup = h_lookup;
    assert_int_equal(h_start(pn.n), COAPS_OK);
    h_run(pn.n, 10000);
    assert_established(pn.n);
    assert_int_equal(coaps_dtls_suite(&pn.n->sv), COAPS_DTLS_ECDHE_ECDSA_AES_128_CCM_8);
    pki_net_free(&pn);
}

/* Without a certificate area (coaps_dtls_conn_init_split with pki NULL) a
 * server uses only PSK suites: it answers a certificate-only client with
 * handshake_failure, and picks PSK from a client that offers both even
 * where it prefers ECDHE_ECDSA. The front door says which ClientHellos
 * want the area (coaps_dtls_server_wants_pki). */
static void no_certificate_area_means_psk(void **state)
{
    (void)state;
    static const uint16_t ecdhe_first[] = {COAPS_DTLS_ECDHE_ECDSA_AES_128_CCM_8,
                                           COAPS_DTLS_PSK_AES_128_CCM_8};
    /* the front door's verdict on this client's first ClientHello */
    struct pki_net pn = pki_net(client_ca, server_x509);
    assert_int_equal(h_start(pn.n), COAPS_OK);
    uint8_t ch[H_DGRAM_MAX];
    size_t ch_len;
    assert_int_equal(coaps_dtls_output(&pn.n->cl, ch, sizeof ch, &ch_len, pn.n->now), COAPS_OK);
    assert_true(coaps_dtls_server_wants_pki(&pn.n->front, ch, ch_len));
    assert_false(coaps_dtls_server_wants_pki(&pn.n->front, ch, 20)); /* truncated */
    pki_net_free(&pn);

    /* certificate-only client, server without the area: refused */
    pn = pki_net(client_ca, server_x509);
    pn.n->split = pn.n->client_full = true;
    pn.n->scfg.psk_lookup = h_lookup;
    assert_int_equal(h_start(pn.n), COAPS_OK);
    h_run(pn.n, 10000);
    assert_int_equal(coaps_dtls_state(&pn.n->sv), COAPS_DTLS_FAILED);
    assert_int_equal(coaps_dtls_error_reason(&pn.n->sv).alert, 40); /* handshake_failure */
    pki_net_free(&pn);

    /* both offered, ECDHE preferred by the server, no area: PSK */
    pn = pki_net(client_ca, server_x509);
    pn.n->split = pn.n->client_full = true;
    pn.n->scfg.psk_lookup = h_lookup;
    pn.n->scfg.suites = ecdhe_first;
    pn.n->scfg.suites_len = 2;
    pn.n->ccfg.psk_identity = (const uint8_t *)"client1";
    pn.n->ccfg.psk_identity_len = 7;
    pn.n->ccfg.psk_key = h_client_psk;
    pn.n->ccfg.psk_key_len = sizeof(h_client_psk);
    assert_int_equal(h_start(pn.n), COAPS_OK);
    h_run(pn.n, 10000);
    assert_established(pn.n);
    assert_int_equal(coaps_dtls_suite(&pn.n->sv), COAPS_DTLS_PSK_AES_128_CCM_8);
    pki_net_free(&pn);

    /* a client with only a base context offers only PSK suites; without
     * a PSK it has nothing to offer */
    pn = pki_net(client_ca, server_x509);
    pn.n->split = true;
    assert_int_equal(h_start(pn.n), COAPS_E_CONFIG);
    pki_net_free(&pn);
}

/* The CA may be RSA: a P-256 leaf under an RSA root is accepted when that
 * root is trusted (the signature schemes we offer include RSA). */
static void rsa_root_chain_accepted(void **state)
{
    (void)state;
    struct files s = {"rsa-server.pem", "rsa-server.key", NULL, NULL, false, false};
    struct files c = {NULL, NULL, "trust.pem", NULL, false, false};
    struct pki_net pn = pki_net(c, s);
    assert_int_equal(h_start(pn.n), COAPS_OK);
    h_run(pn.n, 10000);
    assert_established(pn.n);
    pki_net_free(&pn);
}

/* ---- refusals -------------------------------------------------------------- */

static void refused_server_cert(const char *cert, const char *key, const char *name, int desc,
                                const char *reason)
{
    struct files s = {cert, key, NULL, NULL, false, false};
    struct pki_net pn = pki_net(client_ca, s);
    if (name)
        pn.n->ccfg.server_name = name;
    assert_int_equal(h_start(pn.n), COAPS_OK);
    h_run(pn.n, 10000);
    assert_refused(pn.n, &pn.n->cl, &pn.n->sv, desc);
    char buf[256];
    coaps_dtls_error_str(&pn.n->cl, buf, sizeof buf);
    if (!strstr(buf, reason))
        fail_msg("reason '%s' not in '%s'", reason, buf);
    pki_net_free(&pn);
}

static void expired_refused(void **state)
{
    (void)state;
    refused_server_cert("expired.pem", "expired.key", NULL, DTLS_ALERT_CERTIFICATE_EXPIRED,
                        "expired");
}

static void wrong_name_refused(void **state)
{
    (void)state;
    refused_server_cert("wrongname.pem", "wrongname.key", NULL, DTLS_ALERT_BAD_CERTIFICATE,
                        "localhost");
    /* the good certificate for a name it does not carry */
    refused_server_cert("server.pem", "server.key", "coap.example", DTLS_ALERT_BAD_CERTIFICATE,
                        "coap.example");
    /* IP literal: matched against iPAddress SANs (no SNI is sent) */
    refused_server_cert("server.pem", "server.key", "10.0.0.1", DTLS_ALERT_BAD_CERTIFICATE,
                        "10.0.0.1");
}

static void ip_name_accepted(void **state)
{
    (void)state;
    struct pki_net pn = pki_net(client_ca, server_x509);
    pn.n->ccfg.server_name = "127.0.0.1";
    assert_int_equal(h_start(pn.n), COAPS_OK);
    h_run(pn.n, 10000);
    assert_established(pn.n);
    pki_net_free(&pn);
}

static void self_signed_refused(void **state)
{
    (void)state;
    refused_server_cert("selfsigned.pem", "selfsigned.key", NULL, DTLS_ALERT_UNKNOWN_CA,
                        "unknown CA");
}

static void other_ca_refused(void **state)
{
    (void)state;
    refused_server_cert("other-server.pem", "other-server.key", NULL, DTLS_ALERT_UNKNOWN_CA,
                        "unknown CA");
}

/* RFC 5246 7.4.6: a server that requires a certificate refuses a client
 * without one with handshake_failure. */
static void client_cert_required(void **state)
{
    (void)state;
    struct pki_net pn = pki_net(client_ca, server_mutual);
    assert_int_equal(h_start(pn.n), COAPS_OK);
    h_run(pn.n, 10000);
    assert_refused(pn.n, &pn.n->sv, &pn.n->cl, DTLS_ALERT_HANDSHAKE_FAILURE);
    pki_net_free(&pn);
}

/* A client certificate from a CA the server does not trust. */
static void client_cert_unknown_ca(void **state)
{
    (void)state;
    struct files c = {"other-server.pem", "other-server.key", "ca.pem", NULL, false, false};
    struct pki_net pn = pki_net(c, server_mutual);
    assert_int_equal(h_start(pn.n), COAPS_OK);
    h_run(pn.n, 10000);
    assert_refused(pn.n, &pn.n->sv, &pn.n->cl, DTLS_ALERT_UNKNOWN_CA);
    pki_net_free(&pn);
}

/* ---- tampering filters --------------------------------------------------- */

/* Find the first epoch-0 handshake fragment of type t in a datagram: the
 * offset of its body and its fragment length. */
static bool find_msg(const uint8_t *d, size_t len, uint8_t t, size_t *body, size_t *flen)
{
    size_t o = 0;
    while (o + 13 <= len) {
        size_t rlen = (size_t)d[o + 11] << 8 | d[o + 12];
        uint16_t epoch = (uint16_t)(d[o + 3] << 8 | d[o + 4]);
        if (d[o] == 22 && epoch == 0) {
            size_t h = o + 13;
            while (h + 12 <= o + 13 + rlen) {
                size_t fl = (size_t)d[h + 9] << 16 | (size_t)d[h + 10] << 8 | d[h + 11];
                size_t foff = (size_t)d[h + 6] << 16 | (size_t)d[h + 7] << 8 | d[h + 8];
                if (d[h] == t && foff == 0) {
                    *body = h + 12;
                    *flen = fl;
                    return true;
                }
                h += 12 + fl;
            }
        }
        o += 13 + rlen;
    }
    return false;
}

/* The certificate_list claims one byte more than the message holds. */
static int truncate_certificate(struct h_net *n, int dir, uint8_t *d, size_t *len)
{
    (void)n;
    size_t b, fl;
    if (dir == H_S2C && find_msg(d, *len, DTLS_HS_CERTIFICATE, &b, &fl) && fl >= 3)
        d[b + 2]++;
    return 1;
}

static void truncated_certificate(void **state)
{
    (void)state;
    struct pki_net pn = pki_net(client_ca, server_x509);
    pn.n->filter = truncate_certificate;
    assert_int_equal(h_start(pn.n), COAPS_OK);
    h_run(pn.n, 10000);
    assert_refused(pn.n, &pn.n->cl, &pn.n->sv, DTLS_ALERT_DECODE_ERROR);
    pki_net_free(&pn);
}

/* A Certificate announcing more than DTLS_HS_MSG_MAX bytes (a chain longer
 * than we ever buffer) can never complete: refused at once with
 * illegal_parameter instead of waiting for the handshake time limit. */
static int oversize_certificate(struct h_net *n, int dir, uint8_t *d, size_t *len)
{
    (void)n;
    size_t b, fl;
    if (dir == H_S2C && find_msg(d, *len, DTLS_HS_CERTIFICATE, &b, &fl))
        d[b - 11] = 0x01; /* length u24 = 0x01xxxx > 16384 */
    return 1;
}

static void oversized_certificate(void **state)
{
    (void)state;
    struct pki_net pn = pki_net(client_ca, server_x509);
    pn.n->filter = oversize_certificate;
    assert_int_equal(h_start(pn.n), COAPS_OK);
    h_run(pn.n, 10000);
    assert_refused(pn.n, &pn.n->cl, &pn.n->sv, DTLS_ALERT_ILLEGAL_PARAMETER);
    assert_int_equal(coaps_dtls_error_reason(&pn.n->cl).status, COAPS_E_UNSUPPORTED);
    pki_net_free(&pn);
}

/* Change the last byte of a digitally-signed struct's signature (the low
 * byte of s in the DER Ecdsa-Sig-Value: still DER, no longer valid). */
static int bad_cv(struct h_net *n, int dir, uint8_t *d, size_t *len)
{
    (void)n;
    size_t b, fl;
    if (dir == H_C2S && find_msg(d, *len, DTLS_HS_CERTIFICATE_VERIFY, &b, &fl) && fl > 8)
        d[b + fl - 1] ^= 0x01;
    return 1;
}

/* A CertificateVerify that does not sign the transcript the server has:
 * decrypt_error (RFC 5246 7.4.8, crypto.h CRYPTO_X509_BAD_SIGNATURE). */
static void certificate_verify_wrong(void **state)
{
    (void)state;
    struct pki_net pn = pki_net(client_x509, server_mutual);
    pn.n->filter = bad_cv;
    assert_int_equal(h_start(pn.n), COAPS_OK);
    h_run(pn.n, 10000);
    assert_refused(pn.n, &pn.n->sv, &pn.n->cl, DTLS_ALERT_DECRYPT_ERROR);
    pki_net_free(&pn);
}

/* The server's ECDH public value changed in flight: the signature over
 * client_random + server_random + params no longer verifies (RFC 8422 5.4). */
static int bad_ske(struct h_net *n, int dir, uint8_t *d, size_t *len)
{
    (void)n;
    size_t b, fl;
    if (dir == H_S2C && find_msg(d, *len, DTLS_HS_SERVER_KEY_EXCHANGE, &b, &fl) && fl > 40)
        d[b + 10] ^= 0x01; /* inside the point */
    return 1;
}

static void server_key_exchange_bad_signature(void **state)
{
    (void)state;
    struct pki_net pn = pki_net(client_ca, server_x509);
    pn.n->filter = bad_ske;
    static const uint16_t x25519[] = {COAPS_DTLS_GROUP_X25519};
    pn.n->ccfg.groups = x25519; /* any 32 bytes are an X25519 point */
    pn.n->ccfg.groups_len = 1;
    assert_int_equal(h_start(pn.n), COAPS_OK);
    h_run(pn.n, 10000);
    assert_refused(pn.n, &pn.n->cl, &pn.n->sv, DTLS_ALERT_DECRYPT_ERROR);
    char buf[256];
    assert_non_null(strstr(coaps_dtls_error_str(&pn.n->cl, buf, sizeof buf), "signature"));
    pki_net_free(&pn);
}

/* ---- loading ------------------------------------------------------------------ */

static void pki_load_errors(void **state)
{
    (void)state;
    char err[256] = "", path[512];
    coaps_dtls_pki *p = NULL;
    coaps_dtls_pki_files f = {.cert_file = "/nonexistent/x.pem"};
    assert_int_not_equal(coaps_dtls_pki_new(&p, &f, err, sizeof err), COAPS_OK);
    assert_null(p);
    assert_non_null(strstr(err, "/nonexistent/x.pem"));
    /* a P-384 key is not ours to sign with */
    char kpath[512];
    f.cert_file = cert_path(path, sizeof path, "p384-server.pem");
    f.key_file = cert_path(kpath, sizeof kpath, "p384-server.key");
    assert_int_not_equal(coaps_dtls_pki_new(&p, &f, err, sizeof err), COAPS_OK);
    assert_non_null(strstr(err, "P-256"));
    /* nothing given */
    coaps_dtls_pki_files none = {0};
    assert_int_equal(coaps_dtls_pki_new(&p, &none, err, sizeof err), COAPS_E_INVALID);
    coaps_dtls_pki_free(NULL);
}

/* A fixture's bytes, as a device would have them in flash. */
static uint8_t *file_bytes(const char *name, size_t *len)
{
    char path[512];
    FILE *f = fopen(cert_path(path, sizeof path, name), "rb");
    assert_non_null(f);
    static uint8_t buf[3][8192];
    static size_t next;
    uint8_t *b = buf[next++ % 3];
    *len = fread(b, 1, sizeof buf[0], f);
    fclose(f);
    assert_true(*len > 0 && *len < sizeof buf[0]);
    return b;
}

/* coaps_dtls_pki_new_pem: the server's chain, key and CA from memory (a
 * device's flash) serve a mutually authenticated handshake like the same
 * files do; a chain without a certificate and an empty description are
 * refused with a line that names what is wrong. */
static void pki_from_pem_in_memory(void **state)
{
    (void)state;
    coaps_dtls_pki_pem m = {.require_client_cert = true};
    m.cert = file_bytes("server.pem", &m.cert_len);
    m.key = file_bytes("server.key", &m.key_len);
    m.trust = file_bytes("ca.pem", &m.trust_len);
    char err[256] = "";
    coaps_dtls_pki *sp = NULL;
    assert_int_equal(coaps_dtls_pki_new_pem(&sp, &m, err, sizeof err), COAPS_OK);
    struct pki_net pn = pki_net(client_x509, server_x509);
    coaps_dtls_pki_free(pn.sp);
    pn.sp = sp;
    pn.n->scfg.pki = sp;
    assert_int_equal(h_start(pn.n), COAPS_OK);
    h_run(pn.n, 10000);
    assert_established(pn.n);
    pki_net_free(&pn);

    coaps_dtls_pki *p = NULL;
    coaps_dtls_pki_pem only_key = {.cert = m.key, .cert_len = m.key_len, .key = m.key,
                                   .key_len = m.key_len};
    assert_int_equal(coaps_dtls_pki_new_pem(&p, &only_key, err, sizeof err), COAPS_E_MALFORMED);
    assert_null(p);
    assert_non_null(strstr(err, "certificate chain"));
    coaps_dtls_pki_pem none = {0};
    assert_int_equal(coaps_dtls_pki_new_pem(&p, &none, err, sizeof err), COAPS_E_INVALID);
    assert_int_equal(coaps_dtls_pki_new_pem(&p, NULL, err, sizeof err), COAPS_E_INVALID);
}

/* The documented sizes hold with the certificate state added. */
static void internal_sizes(void **state)
{
    (void)state;
    printf("# struct conn %zu of %d bytes, struct conn_hs %zu of %d bytes, "
           "struct conn_hs_pki %zu of %d bytes\n",
           sizeof(struct conn), COAPS_DTLS_CONN_SIZE, sizeof(struct conn_hs),
           COAPS_DTLS_HS_BASE_SIZE, sizeof(struct conn_hs_pki), COAPS_DTLS_HS_PKI_SIZE);
    assert_true(sizeof(struct conn) <= COAPS_DTLS_CONN_SIZE);
    assert_true(sizeof(struct conn_hs) <= COAPS_DTLS_HS_BASE_SIZE);
    assert_true(sizeof(struct conn_hs_pki) <= COAPS_DTLS_HS_PKI_SIZE);
    assert_true(_Alignof(coaps_dtls_hs_base) >= _Alignof(struct conn_hs));
    assert_true(_Alignof(coaps_dtls_hs_pki) >= _Alignof(struct conn_hs_pki));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_suite_both_groups),
        cmocka_unit_test(mutual_authentication),
        cmocka_unit_test(optional_client_cert),
        cmocka_unit_test(raw_public_keys),
        cmocka_unit_test(raw_public_key_unknown),
        cmocka_unit_test(client_rpk_not_checkable),
        cmocka_unit_test(mtu_256_fragments),
        cmocka_unit_test(mtu_256_lossy),
        cmocka_unit_test(psk_and_pki_together),
        cmocka_unit_test(no_certificate_area_means_psk),
        cmocka_unit_test(rsa_root_chain_accepted),
        cmocka_unit_test(expired_refused),
        cmocka_unit_test(wrong_name_refused),
        cmocka_unit_test(ip_name_accepted),
        cmocka_unit_test(self_signed_refused),
        cmocka_unit_test(other_ca_refused),
        cmocka_unit_test(client_cert_required),
        cmocka_unit_test(client_cert_unknown_ca),
        cmocka_unit_test(truncated_certificate),
        cmocka_unit_test(oversized_certificate),
        cmocka_unit_test(certificate_verify_wrong),
        cmocka_unit_test(server_key_exchange_bad_signature),
        cmocka_unit_test(pki_load_errors),
        cmocka_unit_test(pki_from_pem_in_memory),
        cmocka_unit_test(internal_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
