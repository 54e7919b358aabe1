/*
 * fuzz_pki.h - the test certificates of tests/crypto/certs for the
 * harnesses that run ECDHE-ECDSA handshakes (fuzz_dtls_pki_server,
 * fuzz_dtls_flow): found through COAPS_SOURCE_DIR (ctest sets it) or next
 * to this source file, loaded once; a fixture that does not load aborts
 * the run, since every input after it would test nothing.
 */
#ifndef COAPS_FUZZ_PKI_H
#define COAPS_FUZZ_PKI_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coaps/dtls.h"

static inline void fuzz_certs_dir(char *out, size_t cap)
{
    const char *src = getenv("COAPS_SOURCE_DIR");
    if (src) {
        snprintf(out, cap, "%s/tests/crypto/certs", src);
        return;
    }
    const char *f = __FILE__;
    const char *slash = strrchr(f, '/');
    snprintf(out, cap, "%.*s/../tests/crypto/certs", slash ? (int)(slash - f) : 1,
             slash ? f : ".");
}

/* The files named (NULL: not given) in the certificates directory. */
struct fuzz_pki_spec {
    const char *cert, *key, *ca, *rpk;
    bool require_client_cert, use_rpk;
};

static inline coaps_dtls_pki *fuzz_pki_load(const struct fuzz_pki_spec *s)
{
    char dir[512], a[600], b[600], c[600], d[600], err[256];
    fuzz_certs_dir(dir, sizeof dir);
    coaps_dtls_pki_files f = {.require_client_cert = s->require_client_cert,
                              .use_rpk = s->use_rpk};
    if (s->cert)
        snprintf(a, sizeof a, "%s/%s", dir, s->cert), f.cert_file = a;
    if (s->key)
        snprintf(b, sizeof b, "%s/%s", dir, s->key), f.key_file = b;
    if (s->ca)
        snprintf(c, sizeof c, "%s/%s", dir, s->ca), f.ca_file = c;
    if (s->rpk)
        snprintf(d, sizeof d, "%s/%s", dir, s->rpk), f.rpk_trust_file = d;
    coaps_dtls_pki *p = NULL;
    if (coaps_dtls_pki_new(&p, &f, err, sizeof err) != COAPS_OK) {
        fprintf(stderr, "fuzz: test certificates: %s\n", err);
        abort();
    }
    return p;
}

#endif /* COAPS_FUZZ_PKI_H */
