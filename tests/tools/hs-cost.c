/*
 * hs-cost - CPU cost of one full DTLS 1.2 handshake, client and server
 * together, in memory (no sockets, no loss): N handshakes of each kind,
 * CPU time from getrusage (user + system), printed in microseconds per
 * handshake. The kinds: PSK (TLS_PSK_WITH_AES_128_CCM_8) and
 * ECDHE_ECDSA_WITH_AES_128_CCM_8 with X.509 certificates on secp256r1 and
 * x25519, server-only and mutual authentication, and raw public keys.
 * Each handshake includes the stateless cookie exchange (RFC 6347 4.2.1).
 *
 *   hs-cost [N] [CERTDIR]   (N default 200; CERTDIR default
 *                            $COAPS_SOURCE_DIR/tests/crypto/certs)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "coaps/dtls.h"

#define COST_DGRAM_MAX 1500
#define COST_QUEUE 32 /* datagrams one flight may take */

struct pipe {
    uint8_t d[COST_QUEUE][COST_DGRAM_MAX];
    size_t len[COST_QUEUE];
    size_t n;
};

static const uint8_t psk[16] = "cost-psk-0123456";

static coaps_status lookup(void *user, const uint8_t *id, size_t id_len, uint8_t *key, size_t cap,
                           size_t *key_len)
{
    (void)user;
    (void)id;
    (void)id_len;
    if (cap < sizeof(psk))
        return COAPS_E_NOSPACE;
    memcpy(key, psk, sizeof(psk));
    *key_len = sizeof(psk);
    return COAPS_OK;
}

static void drain(coaps_dtls_conn *c, struct pipe *p, uint64_t now)
{
    size_t len;
    while (p->n < COST_QUEUE &&
           coaps_dtls_output(c, p->d[p->n], COST_DGRAM_MAX, &len, now) == COAPS_OK)
        p->len[p->n++] = len;
}

/* One handshake through the front door; true when both ends established. */
static bool handshake(const coaps_dtls_config *cc, const coaps_dtls_config *sc,
                      coaps_dtls_server *front, coaps_dtls_hs *chs, coaps_dtls_hs *shs)
{
    static coaps_dtls_conn cl, sv;
    static struct pipe c2s, s2c;
    coaps_peer peer = {{127, 0, 0, 1}, 4, COAPS_TRANSPORT_DTLS};
    uint64_t now = 1000;
    bool sv_up = false;
    if (coaps_dtls_conn_init(&cl, cc, chs, &peer, now) != COAPS_OK)
        return false;
    for (int round = 0; round < 16; round++) {
        c2s.n = 0;
        drain(&cl, &c2s, now);
        for (size_t i = 0; i < c2s.n; i++) {
            if (sv_up) {
                (void)coaps_dtls_input(&sv, c2s.d[i], c2s.len[i], now);
                continue;
            }
            enum coaps_dtls_accept v;
            size_t out_len = 0;
            s2c.n = 0;
            if (coaps_dtls_server_accept(front, &peer, c2s.d[i], c2s.len[i], now, s2c.d[0],
                                         COST_DGRAM_MAX, &out_len, &v) != COAPS_OK)
                continue;
            if (v == COAPS_DTLS_ACCEPT_SEND) {
                (void)coaps_dtls_input(&cl, s2c.d[0], out_len, now);
            } else if (v == COAPS_DTLS_ACCEPT_NEW &&
                       coaps_dtls_conn_init(&sv, sc, shs, &peer, now) == COAPS_OK) {
                sv_up = true;
                (void)coaps_dtls_input(&sv, c2s.d[i], c2s.len[i], now);
            }
        }
        s2c.n = 0;
        if (sv_up)
            drain(&sv, &s2c, now);
        for (size_t i = 0; i < s2c.n; i++)
            (void)coaps_dtls_input(&cl, s2c.d[i], s2c.len[i], now);
        if (coaps_dtls_state(&cl) == COAPS_DTLS_ESTABLISHED && sv_up &&
            coaps_dtls_state(&sv) == COAPS_DTLS_ESTABLISHED)
            break;
    }
    bool ok = coaps_dtls_state(&cl) == COAPS_DTLS_ESTABLISHED && sv_up &&
              coaps_dtls_state(&sv) == COAPS_DTLS_ESTABLISHED;
    coaps_dtls_conn_clear(&cl);
    if (sv_up)
        coaps_dtls_conn_clear(&sv);
    return ok;
}

static double cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static coaps_dtls_pki *load(const char *dir, const char *cert, const char *key, const char *ca,
                            const char *rpk, bool use_rpk)
{
    char a[512], b[512], c[512], d[512], err[256];
    coaps_dtls_pki_files f = {0};
    if (cert) {
        snprintf(a, sizeof a, "%s/%s", dir, cert);
        f.cert_file = a;
    }
    if (key) {
        snprintf(b, sizeof b, "%s/%s", dir, key);
        f.key_file = b;
    }
    if (ca) {
        snprintf(c, sizeof c, "%s/%s", dir, ca);
        f.ca_file = c;
    }
    if (rpk) {
        snprintf(d, sizeof d, "%s/%s", dir, rpk);
        f.rpk_trust_file = d;
    }
    f.use_rpk = use_rpk;
    coaps_dtls_pki *p = NULL;
    if (coaps_dtls_pki_new(&p, &f, err, sizeof err) != COAPS_OK) {
        fprintf(stderr, "hs-cost: %s\n", err);
        exit(2);
    }
    return p;
}

struct kind {
    const char *name;
    coaps_dtls_config cc, sc;
};

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200;
    char defdir[512];
    const char *src = getenv("COAPS_SOURCE_DIR");
    snprintf(defdir, sizeof defdir, "%s/tests/crypto/certs", src ? src : ".");
    const char *dir = argc > 2 ? argv[2] : defdir;
    if (n < 1) {
        fprintf(stderr, "hs-cost: N must be >= 1\n");
        return 2;
    }
    coaps_dtls_pki *srv = load(dir, "server.pem", "server.key", NULL, NULL, false);
    coaps_dtls_pki *srv_m = load(dir, "server.pem", "server.key", "ca.pem", NULL, false);
    coaps_dtls_pki *cli = load(dir, NULL, NULL, "ca.pem", NULL, false);
    coaps_dtls_pki *cli_m = load(dir, "client.pem", "client.key", "ca.pem", NULL, false);
    coaps_dtls_pki *srv_r = load(dir, NULL, "server.key", NULL, "client-pub.pem", true);
    coaps_dtls_pki *cli_r = load(dir, NULL, "client.key", NULL, "server-pub.pem", true);
    static const uint16_t psk_suite[] = {COAPS_DTLS_PSK_AES_128_CCM_8};
    static const uint16_t ec_suite[] = {COAPS_DTLS_ECDHE_ECDSA_AES_128_CCM_8};
    static const uint16_t p256[] = {COAPS_DTLS_GROUP_SECP256R1};
    static const uint16_t x25519[] = {COAPS_DTLS_GROUP_X25519};
    coaps_dtls_config base_c = {.role = COAPS_DTLS_CLIENT, .suites_len = 1,
                                .server_name = "localhost", .groups_len = 1};
    coaps_dtls_config base_s = {.role = COAPS_DTLS_SERVER, .suites_len = 1, .groups_len = 1};
    struct kind kinds[6];
    for (int i = 0; i < 6; i++) {
        kinds[i].cc = base_c;
        kinds[i].sc = base_s;
        kinds[i].cc.suites = kinds[i].sc.suites = ec_suite;
        kinds[i].cc.groups = kinds[i].sc.groups = p256;
    }
    kinds[0].name = "PSK, AES_128_CCM_8";
    kinds[0].cc.suites = kinds[0].sc.suites = psk_suite;
    kinds[0].cc.psk_identity = (const uint8_t *)"cost";
    kinds[0].cc.psk_identity_len = 4;
    kinds[0].cc.psk_key = psk;
    kinds[0].cc.psk_key_len = sizeof(psk);
    kinds[0].sc.psk_lookup = lookup;
    kinds[1].name = "ECDHE_ECDSA CCM_8, secp256r1, X.509 server auth";
    kinds[1].cc.pki = cli;
    kinds[1].sc.pki = srv;
    kinds[2].name = "ECDHE_ECDSA CCM_8, secp256r1, X.509 mutual";
    kinds[2].cc.pki = cli_m;
    kinds[2].sc.pki = srv_m;
    kinds[3].name = "ECDHE_ECDSA CCM_8, x25519, X.509 server auth";
    kinds[3].cc.pki = cli;
    kinds[3].sc.pki = srv;
    kinds[3].cc.groups = kinds[3].sc.groups = x25519;
    kinds[4].name = "ECDHE_ECDSA CCM_8, x25519, X.509 mutual";
    kinds[4].cc.pki = cli_m;
    kinds[4].sc.pki = srv_m;
    kinds[4].cc.groups = kinds[4].sc.groups = x25519;
    kinds[5].name = "ECDHE_ECDSA CCM_8, secp256r1, raw public keys mutual";
    kinds[5].cc.pki = cli_r;
    kinds[5].sc.pki = srv_r;

    coaps_dtls_hs *chs = calloc(1, sizeof(*chs)), *shs = calloc(1, sizeof(*shs));
    int rc = 0;
    printf("%-56s %10s\n", "handshake (client + server CPU, in memory)", "us/hs");
    for (int k = 0; k < 6; k++) {
        coaps_dtls_server front;
        if (coaps_dtls_server_init(&front, &kinds[k].sc, 0) != COAPS_OK) {
            fprintf(stderr, "hs-cost: server init failed for %s\n", kinds[k].name);
            return 1;
        }
        if (!handshake(&kinds[k].cc, &kinds[k].sc, &front, chs, shs)) { /* warm-up */
            fprintf(stderr, "hs-cost: handshake failed: %s\n", kinds[k].name);
            rc = 1;
            coaps_dtls_server_clear(&front);
            continue;
        }
        double t0 = cpu_us();
        for (int i = 0; i < n; i++)
            if (!handshake(&kinds[k].cc, &kinds[k].sc, &front, chs, shs)) {
                fprintf(stderr, "hs-cost: handshake %d failed: %s\n", i, kinds[k].name);
                return 1;
            }
        double per = (cpu_us() - t0) / n;
        printf("%-56s %10.0f\n", kinds[k].name, per);
        coaps_dtls_server_clear(&front);
    }
    free(chs);
    free(shs);
    coaps_dtls_pki_free(srv);
    coaps_dtls_pki_free(srv_m);
    coaps_dtls_pki_free(cli);
    coaps_dtls_pki_free(cli_m);
    coaps_dtls_pki_free(srv_r);
    coaps_dtls_pki_free(cli_r);
    return rc;
}
