/*
 * handshake_cert.c - the ECDHE_ECDSA part of the handshake (RFC 8422,
 * RFC 5246 7.4.2-7.4.8, RFC 7250 raw public keys), rows of the table in
 * handshake.c:
 *
 *   Client                                   Server
 *   ClientHello (groups, point formats,
 *     signature_algorithms, cert types)  -->
 *                                            ServerHello
 *                                            Certificate
 *                                            ServerKeyExchange (signed)
 *                                            [CertificateRequest]
 *                                       <--  ServerHelloDone
 *   [Certificate] ClientKeyExchange
 *   [CertificateVerify] CCS Finished    -->
 *                                       <--  CCS Finished
 *
 * Peer certificates are verified with the crypto PKI interface as soon as
 * they arrive; the reason a peer was refused is kept in conn.x509_reason
 * for coaps_dtls_error_str, and the alert is crypto_x509_reason_alert's.
 */
#include <string.h>

#include "common/try.h"
#include "common/wire.h"
#include "dtls/conn.h"

/* ClientCertificateType (RFC 5246 7.4.4, RFC 8422 5.5). */
#define CERT_TYPE_RSA_SIGN 1
#define CERT_TYPE_ECDSA_SIGN 64
/* The one scheme we sign with: our key is always EC P-256. */
#define OUR_SIG_SCHEME CRYPTO_SIG_ECDSA_SECP256R1_SHA256
/* ServerECDHParams: curve_type 1 + named_curve 2 + ECPoint 1 + 255. */
#define ECDH_PARAMS_MAX (3 + 1 + 255)
/* ServerKeyExchange we build: params for our largest point + u16 scheme +
 * u16 length + DER signature. */
#define SKE_BODY_MAX (4 + CRYPTO_KX_PUBLIC_MAX + 4 + CRYPTO_ECDSA_SIG_MAX)
/* CertificateRequest we build: 1 + 2 types + 2 + 2 per scheme + 2. */
#define CR_BODY_MAX (1 + 2 + 2 + 2 * CRYPTO_SIG_SCHEMES_MAX + 2)
/* CertificateVerify we build: u16 scheme, u16 length, DER signature. */
#define CV_BODY_MAX (4 + CRYPTO_ECDSA_SIG_MAX)

static const uint16_t default_groups[] = {DTLS_GROUP_SECP256R1, DTLS_GROUP_X25519};

static size_t groups_of(const coaps_dtls_config *cfg, const uint16_t **g)
{
    if (cfg->groups && cfg->groups_len) {
        *g = cfg->groups;
        return cfg->groups_len;
    }
    *g = default_groups;
    return COAPS_ARRAY_LEN(default_groups);
}

static bool group_ours(const coaps_dtls_config *cfg, uint16_t group)
{
    const uint16_t *g;
    size_t n = groups_of(cfg, &g);
    for (size_t i = 0; i < n; i++)
        if (g[i] == group)
            return true;
    return false;
}

static enum crypto_kx_group kx_group(uint16_t named)
{
    return named == DTLS_GROUP_X25519 ? CRYPTO_KX_X25519 : CRYPTO_KX_P256;
}

/* The schemes we accept in CertificateVerify: those we can verify whose
 * hash one of the running cv_hash transcripts gives (not SHA-512). */
static size_t cv_schemes(uint16_t out[CRYPTO_SIG_SCHEMES_MAX])
{
    size_t n = 0, k = 0;
    const uint16_t *all = crypto_sig_verify_schemes(&n);
    for (size_t i = 0; i < n; i++) {
        enum crypto_hash_alg a;
        if (crypto_sig_scheme_hash(all[i], &a))
            out[k++] = all[i];
    }
    return k;
}

static bool scheme_offered(uint16_t scheme)
{
    size_t n = 0;
    const uint16_t *all = crypto_sig_verify_schemes(&n);
    for (size_t i = 0; i < n; i++)
        if (all[i] == scheme)
            return true;
    return false;
}

/* hs->client_cert_type when the client offers no type we can check. */
#define CERT_TYPE_NONE 0xff

/* Server: whether we ask the client for a certificate: we can check one
 * (or must have one), and the client offered a type we take. */
bool conn_cert_want_client(const struct conn *c)
{
    const struct coaps_dtls_pki *p = c->cfg->pki;
    return (p->require_client_cert || p->n_ca > 0 || p->n_rpk > 0) &&
           c->hs->client_cert_type != CERT_TYPE_NONE;
}

coaps_status conn_cert_transcript_start(struct conn_hs *hs)
{
    TRY(crypto_hash_init(&hs->pki->cv_hash[0], CRYPTO_SHA256));
    coaps_status st = crypto_hash_init(&hs->pki->cv_hash[1], CRYPTO_SHA384);
    if (st != COAPS_OK) {
        crypto_hash_clear(&hs->pki->cv_hash[0]);
        return st;
    }
    hs->cv_on = true;
    return COAPS_OK;
}

void conn_cert_release(struct conn_hs *hs)
{
    if (!hs->pki) /* PSK only: nothing of this was used */
        return;
    if (hs->cv_on) {
        crypto_hash_clear(&hs->pki->cv_hash[0]);
        crypto_hash_clear(&hs->pki->cv_hash[1]);
        hs->cv_on = false;
    }
    if (hs->kx_on)
        crypto_kx_clear(&hs->pki->kx);
    hs->kx_on = false;
    crypto_peer_key_clear(&hs->pki->peer_key);
    crypto_wipe(hs->pki->pms, sizeof(hs->pki->pms));
}

/* Refuse the peer for reason why (RFC 5246 7.2.2 alert from the table in
 * crypto.h). */
static coaps_status refuse(struct conn *c, coaps_status st, enum crypto_x509_reason why)
{
    c->x509_reason = (uint8_t)why;
    if (st != COAPS_E_NOMEM)
        st = COAPS_E_VERIFY;
    return conn_fail(c, st, crypto_x509_reason_alert(why));
}

static coaps_status fail_parse(struct conn *c, coaps_status st)
{
    return conn_fail(c, st, dtls_alert_for_status(st));
}

/* ---- the client's hello ------------------------------------------------------- */

coaps_status conn_cert_client_hello_exts(const struct conn *c, struct wire_wr *w)
{
    const struct coaps_dtls_pki *p = c->cfg->pki;
    const uint16_t *g;
    size_t ng = groups_of(c->cfg, &g);
    TRY(dtls_ext_write_supported_groups(w, g, ng)); /* RFC 8422 5.1.1 */
    static const uint8_t uncompressed[1] = {DTLS_POINT_FORMAT_UNCOMPRESSED};
    TRY(dtls_ext_write_ec_point_formats(w, uncompressed, 1)); /* RFC 8422 5.1.2 */
    size_t ns = 0;
    const uint16_t *schemes = crypto_sig_verify_schemes(&ns);
    TRY(dtls_ext_write_signature_algorithms(w, schemes, ns)); /* RFC 5246 7.4.1.4.1 */
    /* RFC 7250 4.1: the types we can check the server with, preferred first. */
    if (p->n_rpk > 0) {
        static const uint8_t types[2] = {DTLS_CERT_TYPE_RAW_PUBLIC_KEY, DTLS_CERT_TYPE_X509};
        TRY(dtls_ext_write_cert_type_list(w, DTLS_EXT_SERVER_CERTIFICATE_TYPE, types,
                                          p->n_ca > 0 ? 2 : 1));
    }
    /* ... and the types we can present ourselves. */
    if (p->has_cred && p->use_rpk) {
        static const uint8_t types[2] = {DTLS_CERT_TYPE_RAW_PUBLIC_KEY, DTLS_CERT_TYPE_X509};
        TRY(dtls_ext_write_cert_type_list(w, DTLS_EXT_CLIENT_CERTIFICATE_TYPE, types,
                                          p->chain_len > 0 ? 2 : 1));
    }
    return COAPS_OK;
}

/* RFC 7250 4.2: the type the server selected must be one we offered; no
 * extension means X.509. Returns the alert to send, or 0. */
static int cert_type_selected(const struct dtls_exts *e, uint32_t flag, struct dtls_view sel,
                              bool offered, bool rpk_ok, bool x509_ok, uint8_t *out)
{
    *out = DTLS_CERT_TYPE_X509;
    if (!dtls_exts_has(e, flag))
        return 0;
    if (!offered)
        return DTLS_ALERT_UNSUPPORTED_EXTENSION; /* RFC 5246 7.4.1.4 */
    uint8_t t = sel.len == 1 ? sel.p[0] : 0xff;
    if ((t == DTLS_CERT_TYPE_RAW_PUBLIC_KEY && rpk_ok) || (t == DTLS_CERT_TYPE_X509 && x509_ok)) {
        *out = t;
        return 0;
    }
    return DTLS_ALERT_ILLEGAL_PARAMETER;
}

int conn_cert_server_hello(struct conn *c, const struct dtls_server_hello *sh)
{
    struct conn_hs *hs = c->hs;
    const struct coaps_dtls_pki *p = c->cfg->pki;
    const struct dtls_exts *e = &sh->exts;
    /* RFC 8422 5.2: if the server sends point formats, uncompressed is in. */
    if (dtls_exts_has(e, DTLS_EXTF_EC_POINT_FORMATS) &&
        !dtls_u8_list_contains(e->ec_point_formats, DTLS_POINT_FORMAT_UNCOMPRESSED))
        return DTLS_ALERT_ILLEGAL_PARAMETER;
    int a = cert_type_selected(e, DTLS_EXTF_SERVER_CERTIFICATE_TYPE, e->server_cert_types,
                               p->n_rpk > 0, p->n_rpk > 0, p->n_ca > 0, &hs->server_cert_type);
    if (a)
        return a;
    if (!dtls_exts_has(e, DTLS_EXTF_SERVER_CERTIFICATE_TYPE) && p->n_ca == 0)
        return DTLS_ALERT_UNSUPPORTED_CERTIFICATE; /* X.509 but we trust no CA */
    return cert_type_selected(e, DTLS_EXTF_CLIENT_CERTIFICATE_TYPE, e->client_cert_types,
                              p->has_cred && p->use_rpk, p->has_cred, p->chain_len > 0,
                              &hs->client_cert_type);
}

/* ---- the server's choice ---------------------------------------------------------- */

static bool pick_group(struct conn *c, const struct dtls_exts *e)
{
    const uint16_t *g;
    size_t n = groups_of(c->cfg, &g);
    for (size_t i = 0; i < n; i++) {
        /* RFC 8422 5.1.1: without the extension, assume secp256r1 only. */
        bool theirs = dtls_exts_has(e, DTLS_EXTF_SUPPORTED_GROUPS)
                          ? dtls_u16_list_contains(e->supported_groups, g[i])
                          : g[i] == DTLS_GROUP_SECP256R1;
        if (theirs) {
            c->hs->group = g[i];
            return true;
        }
    }
    return false;
}

/* RFC 7250 4.2: our certificate type from the client's list. */
static bool pick_server_cert_type(struct conn_hs *hs, const struct coaps_dtls_pki *p,
                                  const struct dtls_exts *e)
{
    hs->server_cert_type = DTLS_CERT_TYPE_X509;
    if (!dtls_exts_has(e, DTLS_EXTF_SERVER_CERTIFICATE_TYPE))
        return p->chain_len > 0;
    bool rpk = dtls_u8_list_contains(e->server_cert_types, DTLS_CERT_TYPE_RAW_PUBLIC_KEY);
    bool x509 = dtls_u8_list_contains(e->server_cert_types, DTLS_CERT_TYPE_X509) &&
                p->chain_len > 0;
    if (rpk && (p->use_rpk || !x509)) {
        hs->server_cert_type = DTLS_CERT_TYPE_RAW_PUBLIC_KEY;
        return true;
    }
    return x509;
}

/* The type we accept from the client: RPK when it offers it and we pin keys. */
static bool pick_client_cert_type(struct conn_hs *hs, const struct coaps_dtls_pki *p,
                                  const struct dtls_exts *e)
{
    hs->client_cert_type = DTLS_CERT_TYPE_X509;
    if (!dtls_exts_has(e, DTLS_EXTF_CLIENT_CERTIFICATE_TYPE))
        return true;
    if (dtls_u8_list_contains(e->client_cert_types, DTLS_CERT_TYPE_RAW_PUBLIC_KEY) &&
        p->n_rpk > 0) {
        hs->client_cert_type = DTLS_CERT_TYPE_RAW_PUBLIC_KEY;
        return true;
    }
    if (dtls_u8_list_contains(e->client_cert_types, DTLS_CERT_TYPE_X509))
        return true;
    /* Nothing we can check: no CertificateRequest, fine unless a client
     * certificate is required. */
    hs->client_cert_type = CERT_TYPE_NONE;
    return !p->require_client_cert;
}

bool conn_cert_server_can(struct conn *c, const struct dtls_client_hello *ch)
{
    const struct dtls_exts *e = &ch->exts;
    const struct coaps_dtls_pki *p = c->cfg->pki;
    if (!pick_group(c, e))
        return false;
    if (dtls_exts_has(e, DTLS_EXTF_EC_POINT_FORMATS) &&
        !dtls_u8_list_contains(e->ec_point_formats, DTLS_POINT_FORMAT_UNCOMPRESSED))
        return false;
    /* RFC 5246 7.4.1.4.1: we sign with ecdsa_secp256r1_sha256 only. Without
     * the extension a client takes {sha1, ecdsa}; OpenSSL and GnuTLS accept
     * sha256 anyway, and we never sign with SHA-1. */
    if (dtls_exts_has(e, DTLS_EXTF_SIGNATURE_ALGORITHMS) &&
        !dtls_u16_list_contains(e->signature_algorithms, OUR_SIG_SCHEME))
        return false;
    return pick_server_cert_type(c->hs, p, e) && pick_client_cert_type(c->hs, p, e);
}

coaps_status conn_cert_server_hello_exts(const struct conn *c, const struct dtls_client_hello *ch,
                                         struct wire_wr *w)
{
    const struct dtls_exts *e = &ch->exts;
    if (dtls_exts_has(e, DTLS_EXTF_EC_POINT_FORMATS)) { /* RFC 8422 5.2 */
        static const uint8_t uncompressed[1] = {DTLS_POINT_FORMAT_UNCOMPRESSED};
        TRY(dtls_ext_write_ec_point_formats(w, uncompressed, 1));
    }
    if (dtls_exts_has(e, DTLS_EXTF_SERVER_CERTIFICATE_TYPE))
        TRY(dtls_ext_write_cert_type(w, DTLS_EXT_SERVER_CERTIFICATE_TYPE,
                                     c->hs->server_cert_type));
    /* RFC 7250 4.2: only with a CertificateRequest. */
    if (dtls_exts_has(e, DTLS_EXTF_CLIENT_CERTIFICATE_TYPE) && conn_cert_want_client(c))
        TRY(dtls_ext_write_cert_type(w, DTLS_EXT_CLIENT_CERTIFICATE_TYPE,
                                     c->hs->client_cert_type));
    return COAPS_OK;
}

/* ---- our messages ------------------------------------------------------------------- */

/* Certificate (RFC 5246 7.4.2 / 7.4.6, RFC 7250 3), built in place at the
 * end of the flight buffer. with_key false: an empty certificate_list. */
static coaps_status send_certificate(struct conn *c, uint8_t type, bool with_key)
{
    struct conn_hs *hs = c->hs;
    const struct coaps_dtls_pki *p = c->cfg->pki;
    struct wire_wr w = conn_flight_tail(hs);
    if (with_key && type == DTLS_CERT_TYPE_RAW_PUBLIC_KEY) {
        const uint8_t *spki;
        size_t len;
        TRY(crypto_credential_spki(&p->cred, &spki, &len));
        TRY(dtls_certificate_write_rpk(&w, spki, len));
    } else {
        struct dtls_view certs[CRYPTO_CHAIN_MAX];
        size_t n = with_key ? p->chain_len : 0;
        ENSURE(n <= CRYPTO_CHAIN_MAX, COAPS_E_FULL);
        for (size_t i = 0; i < n; i++)
            TRY(crypto_credential_cert(&p->cred, i, &certs[i].p, &certs[i].len));
        TRY(dtls_certificate_write_x509(&w, certs, n));
    }
    return conn_hs_send_msg(c, DTLS_HS_CERTIFICATE, 0, w.buf, w.off);
}

/* client_random || server_random || params: what the ServerKeyExchange
 * signature covers (RFC 8422 5.4). */
static size_t ske_signed_data(const struct conn_hs *hs, const uint8_t *params, size_t len,
                              uint8_t out[2 * DTLS_RANDOM_LEN + ECDH_PARAMS_MAX])
{
    memcpy(out, hs->client_random, DTLS_RANDOM_LEN);
    memcpy(out + DTLS_RANDOM_LEN, hs->server_random, DTLS_RANDOM_LEN);
    memcpy(out + 2 * DTLS_RANDOM_LEN, params, len);
    return 2 * DTLS_RANDOM_LEN + len;
}

static coaps_status kx_new(struct conn_hs *hs)
{
    size_t n = 0;
    hs->kx_on = true;
    TRY(crypto_kx_generate(&hs->pki->kx, kx_group(hs->group), hs->pki->kx_pub, &n));
    hs->kx_pub_len = (uint8_t)n;
    return COAPS_OK;
}

coaps_status conn_cert_write_server_key_exchange(struct conn *c, const struct dtls_client_hello *ch)
{
    (void)ch;
    struct conn_hs *hs = c->hs;
    TRY(kx_new(hs));
    uint8_t body[SKE_BODY_MAX], data[2 * DTLS_RANDOM_LEN + ECDH_PARAMS_MAX];
    uint8_t sig[CRYPTO_ECDSA_SIG_MAX];
    size_t sig_len = 0;
    struct wire_wr w = wire_wr_init(body, sizeof(body));
    TRY(dtls_ske_ecdhe_write_params(&w, hs->group, hs->pki->kx_pub, hs->kx_pub_len));
    size_t n = ske_signed_data(hs, body, w.off, data);
    TRY(crypto_credential_sign(&c->cfg->pki->cred, OUR_SIG_SCHEME, data, n, sig, &sig_len));
    TRY(dtls_ske_ecdhe_write_signature(&w, OUR_SIG_SCHEME, sig, sig_len));
    return conn_hs_send_msg(c, DTLS_HS_SERVER_KEY_EXCHANGE, 0, body, w.off);
}

coaps_status conn_cert_write_certificate_request(struct conn *c, const struct dtls_client_hello *ch)
{
    (void)ch;
    static const uint8_t types[2] = {CERT_TYPE_ECDSA_SIGN, CERT_TYPE_RSA_SIGN};
    uint16_t schemes[CRYPTO_SIG_SCHEMES_MAX];
    uint8_t list[2 * CRYPTO_SIG_SCHEMES_MAX], body[CR_BODY_MAX];
    size_t n = cv_schemes(schemes);
    struct wire_wr lw = wire_wr_init(list, sizeof(list));
    for (size_t i = 0; i < n; i++)
        TRY(wire_wr_u16(&lw, schemes[i]));
    /* certificate_authorities empty: the client picks (RFC 5246 7.4.4). */
    struct dtls_certificate_request cr = {{types, sizeof(types)}, {list, lw.off}, {NULL, 0}};
    struct wire_wr w = wire_wr_init(body, sizeof(body));
    TRY(dtls_certificate_request_write(&w, &cr));
    c->hs->cert_requested = true;
    return conn_hs_send_msg(c, DTLS_HS_CERTIFICATE_REQUEST, 0, body, w.off);
}

coaps_status conn_cert_write_server_certificate(struct conn *c, const struct dtls_client_hello *ch)
{
    (void)ch;
    return send_certificate(c, c->hs->server_cert_type, true);
}

/* RFC 5246 7.4.6: asked for a certificate, an empty one when we cannot sign. */
coaps_status conn_cert_write_client_certificate(struct conn *c, const struct dtls_client_hello *ch)
{
    (void)ch;
    return send_certificate(c, c->hs->client_cert_type, c->hs->can_sign_cv);
}

coaps_status conn_cert_write_client_key_exchange(struct conn *c, const struct dtls_client_hello *ch)
{
    (void)ch;
    struct conn_hs *hs = c->hs;
    uint8_t body[1 + CRYPTO_KX_PUBLIC_MAX];
    struct wire_wr w = wire_wr_init(body, sizeof(body));
    struct dtls_cke_ecdhe cke = {{hs->pki->kx_pub, hs->kx_pub_len}};
    TRY(dtls_cke_ecdhe_write(&w, &cke));
    TRY(conn_hs_send_msg(c, DTLS_HS_CLIENT_KEY_EXCHANGE, 0, body, w.off));
    coaps_status st = conn_hs_derive_keys(c, hs->pki->pms, hs->pms_len);
    crypto_wipe(hs->pki->pms, sizeof(hs->pki->pms));
    return st;
}

/* RFC 5246 7.4.8: sign every handshake message so far. */
coaps_status conn_cert_write_certificate_verify(struct conn *c, const struct dtls_client_hello *ch)
{
    (void)ch;
    struct conn_hs *hs = c->hs;
    uint8_t d[CRYPTO_HASH_MAX], sig[CRYPTO_ECDSA_SIG_MAX], cv_body[CV_BODY_MAX];
    size_t sig_len = 0;
    ENSURE(hs->cv_on, COAPS_E_STATE); /* cv_hash is in the area's bulk (conn.h) */
    TRY(crypto_hash_peek(&hs->pki->cv_hash[0], d));
    TRY(crypto_credential_sign_digest(&c->cfg->pki->cred, OUR_SIG_SCHEME, d, sig, &sig_len));
    struct dtls_digitally_signed cv = {OUR_SIG_SCHEME, {sig, sig_len}};
    struct wire_wr w = wire_wr_init(cv_body, sizeof(cv_body));
    TRY(dtls_certificate_verify_write(&w, &cv));
    return conn_hs_send_msg(c, DTLS_HS_CERTIFICATE_VERIFY, 0, cv_body, w.off);
}

/* ---- the peer's messages ------------------------------------------------------------ */

/* RFC 5246 7.4.6: an empty certificate_list (also accepted in place of an
 * RPK Certificate from a client without a key). */
static bool certificate_empty(const struct dtls_hs_msg *m)
{
    return m->len == 3 && m->body[0] == 0 && m->body[1] == 0 && m->body[2] == 0;
}

/* Verify the peer's Certificate into hs->pki->peer_key; *empty for an empty
 * list. On failure the connection has failed already. */
static coaps_status peer_certificate(struct conn *c, const struct dtls_hs_msg *m, uint8_t type,
                                     enum crypto_x509_purpose purpose, const char *name,
                                     bool *empty)
{
    const struct crypto_trust *trust = &c->cfg->pki->trust;
    enum crypto_x509_reason why = CRYPTO_X509_INTERNAL;
    coaps_status st;
    *empty = certificate_empty(m);
    if (*empty)
        return COAPS_OK;
    if (type == DTLS_CERT_TYPE_RAW_PUBLIC_KEY) {
        struct dtls_view spki;
        st = dtls_certificate_parse_rpk(m->body, m->len, &spki);
        if (st != COAPS_OK)
            return fail_parse(c, st);
        st = crypto_rpk_match(trust, spki.p, spki.len, &c->hs->pki->peer_key, &why);
    } else {
        struct dtls_view list, v;
        st = dtls_certificate_parse_x509(m->body, m->len, &list);
        if (st != COAPS_OK)
            return fail_parse(c, st);
        const uint8_t *certs[CRYPTO_CHAIN_MAX];
        size_t lens[CRYPTO_CHAIN_MAX], n = 0;
        struct dtls_cert_iter it;
        dtls_cert_iter_init(&it, list);
        while (dtls_cert_iter_next(&it, &v) == COAPS_OK) {
            if (n == CRYPTO_CHAIN_MAX) /* more work than we agree to do */
                return refuse(c, COAPS_E_VERIFY, CRYPTO_X509_MALFORMED);
            certs[n] = v.p;
            lens[n++] = v.len;
        }
        /* now_unix 0: the system clock (the engine's clock is monotonic) */
        st = crypto_x509_verify_chain(trust, certs, lens, n, name, purpose, 0, &c->hs->pki->peer_key,
                                      &why);
    }
    if (st != COAPS_OK)
        return refuse(c, st, why);
    return COAPS_OK;
}

coaps_status conn_cert_on_server_certificate(struct conn *c, const struct dtls_hs_msg *m,
                                             uint64_t now_ms)
{
    (void)now_ms;
    const struct coaps_dtls_pki *p = c->cfg->pki;
    if (c->suite->kx != DTLS_KX_ECDHE_ECDSA)
        return conn_fail(c, COAPS_E_STATE, DTLS_ALERT_UNEXPECTED_MESSAGE);
    const char *name = p->no_name_check ? NULL : c->cfg->server_name;
    bool empty = false;
    TRY(peer_certificate(c, m, c->hs->server_cert_type, CRYPTO_X509_PURPOSE_SERVER, name, &empty));
    if (empty) /* RFC 5246 7.4.2: the server always sends one */
        return refuse(c, COAPS_E_VERIFY, CRYPTO_X509_NO_CERTIFICATE);
    return conn_hs_transcript_add(c->hs, m->msg_type, m->message_seq, m->body, m->len);
}

coaps_status conn_cert_on_server_key_exchange(struct conn *c, const struct dtls_hs_msg *m,
                                              uint64_t now_ms)
{
    (void)now_ms;
    struct conn_hs *hs = c->hs;
    struct dtls_ske_ecdhe ske;
    coaps_status st = dtls_ske_ecdhe_parse(m->body, m->len, &ske);
    if (st != COAPS_OK)
        return fail_parse(c, st);
    /* RFC 8422 5.4: a group and a scheme we offered. */
    if (!group_ours(c->cfg, ske.named_curve) || !scheme_offered(ske.sig_alg) ||
        ske.params.len > ECDH_PARAMS_MAX)
        return conn_fail(c, COAPS_E_UNSUPPORTED, DTLS_ALERT_ILLEGAL_PARAMETER);
    uint8_t data[2 * DTLS_RANDOM_LEN + ECDH_PARAMS_MAX];
    size_t n = ske_signed_data(hs, ske.params.p, ske.params.len, data);
    st = crypto_peer_key_verify(&hs->pki->peer_key, ske.sig_alg, data, n, ske.signature.p,
                                ske.signature.len);
    if (st == COAPS_E_UNSUPPORTED)
        return conn_fail(c, st, DTLS_ALERT_ILLEGAL_PARAMETER);
    if (st != COAPS_OK)
        return refuse(c, st, CRYPTO_X509_BAD_SIGNATURE);
    hs->group = ske.named_curve;
    st = kx_new(hs);
    if (st != COAPS_OK)
        return conn_fail(c, st, DTLS_ALERT_INTERNAL_ERROR);
    size_t pms_len = 0;
    st = crypto_kx_derive(&hs->pki->kx, ske.public_key.p, ske.public_key.len, hs->pki->pms, &pms_len);
    if (st != COAPS_OK) /* RFC 8422 5.11: not a point on the curve */
        return conn_fail(c, st, st == COAPS_E_MALFORMED ? DTLS_ALERT_ILLEGAL_PARAMETER
                                                        : DTLS_ALERT_INTERNAL_ERROR);
    hs->pms_len = (uint8_t)pms_len;
    return conn_hs_transcript_add(hs, m->msg_type, m->message_seq, m->body, m->len);
}

coaps_status conn_cert_on_certificate_request(struct conn *c, const struct dtls_hs_msg *m,
                                              uint64_t now_ms)
{
    (void)now_ms;
    struct conn_hs *hs = c->hs;
    const struct coaps_dtls_pki *p = c->cfg->pki;
    struct dtls_certificate_request cr;
    coaps_status st = dtls_certificate_request_parse(m->body, m->len, &cr);
    if (st != COAPS_OK)
        return fail_parse(c, st);
    hs->cert_requested = true;
    /* We answer with our key only when the server takes what it signs. */
    hs->can_sign_cv = p->has_cred &&
                      dtls_u8_list_contains(cr.certificate_types, CERT_TYPE_ECDSA_SIGN) &&
                      dtls_u16_list_contains(cr.signature_algorithms, OUR_SIG_SCHEME) &&
                      (hs->client_cert_type == DTLS_CERT_TYPE_RAW_PUBLIC_KEY || p->chain_len > 0);
    return conn_hs_transcript_add(hs, m->msg_type, m->message_seq, m->body, m->len);
}

coaps_status conn_cert_on_client_certificate(struct conn *c, const struct dtls_hs_msg *m,
                                             uint64_t now_ms)
{
    (void)now_ms;
    struct conn_hs *hs = c->hs;
    if (!hs->cert_requested)
        return conn_fail(c, COAPS_E_STATE, DTLS_ALERT_UNEXPECTED_MESSAGE);
    bool empty = false;
    TRY(peer_certificate(c, m, hs->client_cert_type, CRYPTO_X509_PURPOSE_CLIENT, NULL, &empty));
    /* RFC 5246 7.4.6: a server that requires one answers handshake_failure. */
    if (empty && c->cfg->pki->require_client_cert)
        return refuse(c, COAPS_E_VERIFY, CRYPTO_X509_NO_CERTIFICATE);
    hs->peer_cert_cv_due = !empty;
    return conn_hs_transcript_add(hs, m->msg_type, m->message_seq, m->body, m->len);
}

coaps_status conn_cert_on_client_key_exchange(struct conn *c, const struct dtls_hs_msg *m)
{
    struct conn_hs *hs = c->hs;
    struct dtls_cke_ecdhe cke;
    coaps_status st = dtls_cke_ecdhe_parse(m->body, m->len, &cke);
    if (st != COAPS_OK)
        return fail_parse(c, st);
    uint8_t pms[CRYPTO_KX_SECRET_MAX];
    size_t pms_len = 0;
    st = crypto_kx_derive(&hs->pki->kx, cke.public_key.p, cke.public_key.len, pms, &pms_len);
    if (st != COAPS_OK) {
        crypto_wipe(pms, sizeof(pms));
        return conn_fail(c, st, st == COAPS_E_MALFORMED ? DTLS_ALERT_ILLEGAL_PARAMETER
                                                        : DTLS_ALERT_INTERNAL_ERROR);
    }
    st = conn_hs_transcript_add(hs, m->msg_type, m->message_seq, m->body, m->len);
    if (st == COAPS_OK)
        st = conn_hs_derive_keys(c, pms, pms_len);
    crypto_wipe(pms, sizeof(pms));
    if (st != COAPS_OK)
        return conn_fail(c, st, DTLS_ALERT_INTERNAL_ERROR);
    return COAPS_OK;
}

static bool cv_scheme_ok(uint16_t scheme)
{
    uint16_t ours[CRYPTO_SIG_SCHEMES_MAX];
    size_t n = cv_schemes(ours);
    for (size_t i = 0; i < n; i++)
        if (ours[i] == scheme)
            return true;
    return false;
}

coaps_status conn_cert_on_certificate_verify(struct conn *c, const struct dtls_hs_msg *m,
                                             uint64_t now_ms)
{
    (void)now_ms;
    struct conn_hs *hs = c->hs;
    if (!hs->peer_cert_cv_due) /* an empty Certificate has nothing to prove */
        return conn_fail(c, COAPS_E_STATE, DTLS_ALERT_UNEXPECTED_MESSAGE);
    struct dtls_digitally_signed cv;
    coaps_status st = dtls_certificate_verify_parse(m->body, m->len, &cv);
    if (st != COAPS_OK)
        return fail_parse(c, st);
    enum crypto_hash_alg alg = CRYPTO_SHA256;
    /* RFC 5246 7.4.8: a scheme from our CertificateRequest. */
    if (!cv_scheme_ok(cv.sig_alg) || !crypto_sig_scheme_hash(cv.sig_alg, &alg))
        return conn_fail(c, COAPS_E_UNSUPPORTED, DTLS_ALERT_ILLEGAL_PARAMETER);
    uint8_t d[CRYPTO_HASH_MAX];
    ENSURE(hs->cv_on, COAPS_E_STATE); /* cv_hash is in the area's bulk (conn.h) */
    TRY(crypto_hash_peek(&hs->pki->cv_hash[alg == CRYPTO_SHA384 ? 1 : 0], d));
    st = crypto_peer_key_verify_digest(&hs->pki->peer_key, cv.sig_alg, d, crypto_hash_len(alg),
                                       cv.signature.p, cv.signature.len);
    if (st == COAPS_E_UNSUPPORTED)
        return conn_fail(c, st, DTLS_ALERT_ILLEGAL_PARAMETER);
    if (st != COAPS_OK)
        return refuse(c, st, CRYPTO_X509_BAD_SIGNATURE);
    hs->peer_cert_cv_due = false;
    return conn_hs_transcript_add(hs, m->msg_type, m->message_seq, m->body, m->len);
}
