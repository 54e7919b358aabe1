/*
 * psa/x509.c - the trust store (CA anchors + pinned raw public keys,
 * RFC 7250) and verification of a peer's certificate chain with Mbed TLS's
 * x509 module (RFC 5280 path validation), plus the name check of RFC 6125
 * and the key usage rules of RFC 5246 7.4.2 / RFC 8422 5.3. Set-up and
 * handshake paths only.
 *
 * The verdicts equal the OpenSSL backend's (crypto.h is the contract). Mbed
 * TLS builds the path and checks its signatures, CA flags and path
 * lengths; where it differs from the contract we steer it or judge
 * ourselves:
 *   - anchors end a path only when self-signed: the store's other
 *     certificates stay out of Mbed TLS's trusted list and are offered as
 *     untrusted intermediates;
 *   - Mbed TLS looks for a certificate's issuer only after it in the list,
 *     so the peer's certificates are put in path order first;
 *   - validity is judged at `now_unix` on every certificate of the path
 *     (Mbed TLS knows only the system clock: its EXPIRED/FUTURE flags are
 *     ignored);
 *   - extendedKeyUsage for the purpose on every certificate of the path,
 *     critical extensions Mbed TLS does not process, keyUsage on the leaf
 *     and the name are ours (Mbed TLS leaves EKU to its TLS layer, and its
 *     CN fallback differs from RFC 6125 6.4.4);
 *   - its flags become reasons in the order OpenSSL finds defects: no path
 *     first, then extensions, then signatures and dates from the root down.
 * Stricter than the OpenSSL backend on purpose: certificates signed with
 * SHA-1 or MD5, or by RSA keys below CRYPTO_RSA_BITS_MIN, break a path
 * (Mbed TLS's default profile; OpenSSL's bare verifier takes them).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/asn1.h>
#include <mbedtls/oid.h>

#include "common/try.h"
#include "crypto/psa/pki.h"

struct trust_impl {
    mbedtls_x509_crt roots;  /* self-signed anchors: the list Mbed TLS trusts */
    mbedtls_x509_crt others; /* the store's other certificates: untrusted intermediates */
    size_t n_ca;
    size_t n_rpk;
    uint8_t *rpk[CRYPTO_TRUST_RPK_MAX]; /* pinned keys as canonical DER SPKI */
    size_t rpk_len[CRYPTO_TRUST_RPK_MAX];
};

/* Backend state of struct crypto_trust: the store is configuration, loaded
 * once and shared, so it lives on the heap and the context points to it. */
struct trust_state {
    struct trust_impl *ti;
};
CRYPTO_STATE_FITS(struct trust_state, struct crypto_trust);

static struct trust_impl *trust_of(const struct crypto_trust *t)
{
    return t != NULL && t->live ? CRYPTO_CSTATE_OF(struct trust_state, t)->ti : NULL;
}

/* The first certificate of a list head, or NULL while the list is empty
 * (an initialised mbedtls_x509_crt holds no certificate until parsed into). */
static const mbedtls_x509_crt *crt_first(const mbedtls_x509_crt *head)
{
    return head->raw.p != NULL ? head : NULL;
}

/* ---- issuers ------------------------------------------------------------------------- */

static bool buf_equal(const mbedtls_x509_buf *a, const mbedtls_x509_buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

/* Whether `issuer` may have issued `child`, by the tests OpenSSL uses to
 * build paths (X509_check_issued): the child's issuer name is the issuer's
 * subject, its authorityKeyIdentifier (when both sides have one) names the
 * issuer's subjectKeyIdentifier (RFC 5280 4.2.1.1), and the issuer's
 * keyUsage, when present, allows keyCertSign (4.2.1.3). Names compare as
 * encoded: certificates of one CA repeat the same bytes. */
static bool could_issue(const mbedtls_x509_crt *issuer, const mbedtls_x509_crt *child)
{
    const mbedtls_x509_buf *akid = &child->authority_key_id.keyIdentifier;
    return buf_equal(&child->issuer_raw, &issuer->subject_raw) &&
           (akid->len == 0 || issuer->subject_key_id.len == 0 ||
            buf_equal(akid, &issuer->subject_key_id)) &&
           mbedtls_x509_crt_check_key_usage(issuer, MBEDTLS_X509_KU_KEY_CERT_SIGN) == 0;
}

/* Self-issued with consistent key identifiers: what OpenSSL calls
 * self-signed (the self-signature of an anchor is not checked, RFC 5280
 * 6.1: the anchor is trusted as configured). */
static bool self_signed(const mbedtls_x509_crt *c)
{
    const mbedtls_x509_buf *akid = &c->authority_key_id.keyIdentifier;
    return buf_equal(&c->issuer_raw, &c->subject_raw) &&
           (akid->len == 0 || c->subject_key_id.len == 0 || buf_equal(akid, &c->subject_key_id));
}

/* A trust anchor that could have issued c, or NULL. */
static const mbedtls_x509_crt *root_for(const struct trust_impl *ti, const mbedtls_x509_crt *c)
{
    for (const mbedtls_x509_crt *r = crt_first(&ti->roots); r != NULL; r = r->next)
        if (could_issue(r, c))
            return r;
    return NULL;
}

/* A certificate of the store's others that could have issued c, or NULL. */
static const mbedtls_x509_crt *other_for(const struct trust_impl *ti, const mbedtls_x509_crt *c)
{
    for (const mbedtls_x509_crt *o = crt_first(&ti->others); o != NULL; o = o->next)
        if (o != c && could_issue(o, c))
            return o;
    return NULL;
}

/* ---- trust store ---------------------------------------------------------------------- */

coaps_status crypto_trust_init(struct crypto_trust *t)
{
    ENSURE(t != NULL, COAPS_E_INVALID);
    t->live = false;
    struct trust_impl *ti = calloc(1, sizeof *ti);
    ENSURE(ti != NULL, COAPS_E_NOMEM);
    mbedtls_x509_crt_init(&ti->roots);
    mbedtls_x509_crt_init(&ti->others);
    CRYPTO_STATE_OF(struct trust_state, t)->ti = ti;
    t->live = true;
    return COAPS_OK;
}

void crypto_trust_clear(struct crypto_trust *t)
{
    struct trust_impl *ti = trust_of(t);
    if (ti == NULL)
        return;
    mbedtls_x509_crt_free(&ti->roots);
    mbedtls_x509_crt_free(&ti->others);
    for (size_t i = 0; i < ti->n_rpk; i++)
        free(ti->rpk[i]);
    free(ti);
    CRYPTO_STATE_OF(struct trust_state, t)->ti = NULL;
    t->live = false;
}

void crypto_trust_count(const struct crypto_trust *t, size_t *n_ca, size_t *n_rpk)
{
    const struct trust_impl *ti = trust_of(t);
    if (n_ca != NULL)
        *n_ca = ti ? ti->n_ca : 0;
    if (n_rpk != NULL)
        *n_rpk = ti ? ti->n_rpk : 0;
}

static bool list_has(const mbedtls_x509_crt *head, const mbedtls_x509_crt *c)
{
    for (const mbedtls_x509_crt *x = crt_first(head); x != NULL; x = x->next)
        if (buf_equal(&x->raw, &c->raw))
            return true;
    return false;
}

coaps_status crypto_trust_add_der(struct crypto_trust *t, const uint8_t *der, size_t len)
{
    struct trust_impl *ti = trust_of(t);
    ENSURE(ti != NULL, COAPS_E_INVALID);
    /* parsed once to see which list it joins, then into that list */
    mbedtls_x509_crt c;
    mbedtls_x509_crt_init(&c);
    coaps_status st = crypto_pki_crt_parse(&c, der, len, false);
    bool dup = st == COAPS_OK && (list_has(&ti->roots, &c) || list_has(&ti->others, &c));
    mbedtls_x509_crt *list = st == COAPS_OK && self_signed(&c) ? &ti->roots : &ti->others;
    mbedtls_x509_crt_free(&c);
    if (st != COAPS_OK || dup) /* a duplicate is not an error, nor counted */
        return st;
    TRY(crypto_pki_crt_parse(list, der, len, true));
    ti->n_ca++;
    return COAPS_OK;
}

coaps_status crypto_trust_add_rpk_der(struct crypto_trust *t, const uint8_t *spki, size_t len)
{
    struct trust_impl *ti = trust_of(t);
    ENSURE(ti != NULL, COAPS_E_INVALID);
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    coaps_status st = crypto_pki_spki_parse(&pk, spki, len);
    if (st == COAPS_OK && crypto_pki_key_type(&pk) == CRYPTO_PEER_KEY_NONE)
        st = COAPS_E_UNSUPPORTED;
    else if (st == COAPS_OK && ti->n_rpk >= CRYPTO_TRUST_RPK_MAX)
        st = COAPS_E_FULL;
    if (st == COAPS_OK)
        st = crypto_pki_spki_canonical(&pk, &ti->rpk[ti->n_rpk], &ti->rpk_len[ti->n_rpk]);
    mbedtls_pk_free(&pk);
    TRY(st);
    ti->n_rpk++;
    return COAPS_OK;
}

coaps_status crypto_trust_add_pem(struct crypto_trust *t, const void *buf, size_t len,
                                  char msg[CRYPTO_MSG_MAX])
{
    ENSURE(t != NULL && t->live, COAPS_E_INVALID);
    struct crypto_pki_pem p;
    coaps_status st = crypto_pki_pem_begin(&p, buf, len);
    if (st != COAPS_OK) {
        crypto_pki_msg(msg, "PEM input too large or invalid");
        crypto_pki_pem_end(&p);
        return st;
    }
    size_t added = 0;
    int r = 0;
    while (st == COAPS_OK && (r = crypto_pki_pem_next(&p)) == 1)
        st = crypto_trust_add_block(t, p.name, p.data, p.len, p.index, &added, msg);
    if (st == COAPS_OK && r < 0) {
        crypto_pki_msg(msg, "PEM block %zu does not decode (bad base64 or END line)", p.index + 1);
        st = COAPS_E_MALFORMED;
    }
    if (st == COAPS_OK && added == 0) {
        crypto_pki_msg(msg, "no CERTIFICATE or PUBLIC KEY block");
        st = COAPS_E_MALFORMED;
    }
    crypto_pki_pem_end(&p);
    return st;
}

/* ---- the peer's chain in path order ------------------------------------------------------ */

/* The certificates of one verification: the peer's (referenced, not
 * copied), then the store's intermediates its path needs, each in its own
 * node so that we can link them in path order. */
struct chain {
    mbedtls_x509_crt *node; /* n_peer + CRYPTO_CHAIN_MAX slots */
    size_t n_peer;
    size_t n_node;
};

static void chain_free(struct chain *ch)
{
    for (size_t i = 0; ch->node != NULL && i < ch->n_node; i++) {
        ch->node[i].next = NULL; /* each node frees only itself */
        mbedtls_x509_crt_free(&ch->node[i]);
    }
    free(ch->node);
    ch->node = NULL;
}

static enum crypto_x509_reason chain_parse(struct chain *ch, const uint8_t *const *certs,
                                           const size_t *lens, size_t n)
{
    ch->node = calloc(n + CRYPTO_CHAIN_MAX, sizeof *ch->node);
    if (ch->node == NULL)
        return CRYPTO_X509_INTERNAL;
    for (size_t i = 0; i < n; i++) {
        mbedtls_x509_crt_init(&ch->node[i]);
        ch->n_node = ch->n_peer = i + 1;
        coaps_status st = crypto_pki_crt_parse(&ch->node[i], certs[i], lens[i], false);
        if (st != COAPS_OK)
            return st == COAPS_E_MALFORMED ? CRYPTO_X509_MALFORMED : CRYPTO_X509_INTERNAL;
    }
    return CRYPTO_X509_OK;
}

/* An unused peer certificate that could have issued c, or NULL. */
static mbedtls_x509_crt *chain_peer_issuer(struct chain *ch, const bool *used,
                                           const mbedtls_x509_crt *c)
{
    for (size_t i = 1; i < ch->n_peer; i++)
        if (!used[i] && &ch->node[i] != c && could_issue(&ch->node[i], c))
            return &ch->node[i];
    return NULL;
}

/* A node holding the store certificate that could have issued c, or NULL. */
static mbedtls_x509_crt *chain_store_issuer(struct chain *ch, const struct trust_impl *ti,
                                            const mbedtls_x509_crt *c)
{
    const mbedtls_x509_crt *o = other_for(ti, c);
    if (o == NULL || ch->n_node >= ch->n_peer + CRYPTO_CHAIN_MAX)
        return NULL;
    mbedtls_x509_crt *x = &ch->node[ch->n_node++];
    mbedtls_x509_crt_init(x);
    /* referenced, not copied: the store outlives this verification */
    return crypto_pki_crt_parse(x, o->raw.p, o->raw.len, false) == COAPS_OK ? x : NULL;
}

/* Link leaf -> its issuers (the peer's first, then the store's) until an
 * anchor could take over, then the peer's unused certificates: Mbed TLS
 * searches an issuer only among the certificates after its child. */
static void chain_link(struct chain *ch, const struct trust_impl *ti)
{
    bool used[CRYPTO_CHAIN_MAX] = {true};
    mbedtls_x509_crt *tail = &ch->node[0];
    for (size_t step = 0; step < CRYPTO_CHAIN_MAX; step++) {
        if (self_signed(tail) || root_for(ti, tail) != NULL)
            break;
        mbedtls_x509_crt *next = chain_peer_issuer(ch, used, tail);
        if (next != NULL)
            used[next - ch->node] = true;
        else if ((next = chain_store_issuer(ch, ti, tail)) == NULL)
            break;
        tail->next = next;
        tail = next;
    }
    for (size_t i = 1; i < ch->n_peer; i++) {
        if (!used[i]) {
            tail->next = &ch->node[i];
            tail = tail->next;
        }
    }
    tail->next = NULL;
}

/* ---- judging the path Mbed TLS built ---------------------------------------------------- */

/* The path, leaf first, with Mbed TLS's flags for each certificate; one
 * slot more than Mbed TLS fills, for an anchor it refused (path_built). */
#define PATH_MAX_LEN (MBEDTLS_X509_MAX_VERIFY_CHAIN_SIZE + 1)

struct path {
    const mbedtls_x509_crt *crt[PATH_MAX_LEN];
    uint32_t flags[PATH_MAX_LEN];
    size_t len;
};

/* Mbed TLS's verify callback: called once per certificate of the path it
 * built, root first. */
static int path_record(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    struct path *p = ctx;
    if (depth < 0 || depth >= MBEDTLS_X509_MAX_VERIFY_CHAIN_SIZE)
        return MBEDTLS_ERR_X509_FATAL_ERROR;
    p->crt[depth] = crt;
    p->flags[depth] = *flags;
    if ((size_t)depth + 1 > p->len)
        p->len = (size_t)depth + 1;
    return 0;
}

/* Whether c's issuers, followed through the untrusted certificates (the
 * peer's, then the store's), reach an anchor: OpenSSL then has a path and
 * refuses it as invalid (a non-CA issuer, a path too long) rather than as
 * one to an unknown CA. */
static bool issuers_reach_root(const struct chain *ch, const struct trust_impl *ti,
                               const mbedtls_x509_crt *c)
{
    for (size_t step = 0; step < CRYPTO_CHAIN_MAX && !self_signed(c); step++) {
        if (root_for(ti, c) != NULL)
            return true;
        const mbedtls_x509_crt *next = NULL;
        for (size_t i = 0; next == NULL && i < ch->n_peer; i++)
            if (&ch->node[i] != c && could_issue(&ch->node[i], c))
                next = &ch->node[i];
        if (next == NULL && (next = other_for(ti, c)) == NULL)
            return false;
        c = next;
    }
    return false;
}

/* Is there a path to an anchor? NOT_TRUSTED on the last certificate means
 * Mbed TLS found no issuer for it; lower down, that the issuer it took
 * did not sign it. */
static enum crypto_x509_reason path_built(struct path *p, const struct chain *ch,
                                          const struct trust_impl *ti)
{
    size_t top = p->len - 1;
    for (size_t d = 0; d < top; d++) /* an issuer OpenSSL would not have taken */
        if ((p->flags[d] & MBEDTLS_X509_BADCERT_NOT_TRUSTED) &&
            !could_issue(p->crt[d + 1], p->crt[d]))
            return CRYPTO_X509_UNKNOWN_CA;
    if (!(p->flags[top] & MBEDTLS_X509_BADCERT_NOT_TRUSTED))
        return CRYPTO_X509_OK; /* ends at an anchor, or is the anchor itself */
    const mbedtls_x509_crt *t = p->crt[top];
    if (self_signed(t))
        return CRYPTO_X509_UNKNOWN_CA; /* a root we do not trust */
    /* Mbed TLS passes over an anchor whose signature on t fails; OpenSSL
     * takes it and fails on the signature: add it, t keeps NOT_TRUSTED */
    const mbedtls_x509_crt *root = root_for(ti, t);
    if (root != NULL) {
        p->crt[p->len] = root;
        p->flags[p->len++] = 0;
        return CRYPTO_X509_OK;
    }
    return issuers_reach_root(ch, ti, t) ? CRYPTO_X509_INVALID_CHAIN : CRYPTO_X509_UNKNOWN_CA;
}

static bool eku_has(const mbedtls_x509_buf *oid, enum crypto_x509_purpose purpose)
{
    if (purpose == CRYPTO_X509_PURPOSE_SERVER)
        return MBEDTLS_OID_CMP(MBEDTLS_OID_SERVER_AUTH, oid) == 0;
    return MBEDTLS_OID_CMP(MBEDTLS_OID_CLIENT_AUTH, oid) == 0;
}

/* RFC 5280 4.2.1.12: when extendedKeyUsage is present it must name the
 * peer's role; anyExtendedKeyUsage does not (as with OpenSSL's SSL
 * purposes, which check the CAs too). */
static bool eku_allows(const mbedtls_x509_crt *c, enum crypto_x509_purpose purpose)
{
    if (!mbedtls_x509_crt_has_ext_type(c, MBEDTLS_X509_EXT_EXTENDED_KEY_USAGE))
        return true;
    for (const mbedtls_x509_sequence *s = &c->ext_key_usage; s != NULL; s = s->next)
        if (eku_has(&s->buf, purpose))
            return true;
    return false;
}

/* keyUsage absent, or allowing at least one of `bits`. */
static bool ku_any(const mbedtls_x509_crt *c, unsigned bits)
{
    for (unsigned b = 1; b <= bits; b <<= 1)
        if ((bits & b) && mbedtls_x509_crt_check_key_usage(c, b) == 0)
            return true;
    return false;
}

/* RFC 5280 4.2: a critical extension the verifier does not process makes
 * the certificate unusable. Mbed TLS processes the extensions its OID
 * table names (constraints, usages, names, key identifiers, policies); the
 * parser lets the others through (pem.c) and we refuse them here, where
 * OpenSSL reports "unhandled critical extension". OpenSSL processes a few
 * more (name constraints above all): a path it would check and accept is
 * refused here, since we cannot enforce them. */
static bool unhandled_critical(const mbedtls_x509_crt *c)
{
    if (c->v3_ext.p == NULL)
        return false;
    unsigned char *q = c->v3_ext.p;
    const unsigned char *end = q + c->v3_ext.len;
    size_t len;
    if (mbedtls_asn1_get_tag(&q, end, &len, CRYPTO_PKI_ASN1_SEQUENCE) != 0)
        return true;
    while (q < end) { /* Extension ::= SEQUENCE { extnID, critical DEFAULT FALSE, extnValue } */
        mbedtls_x509_buf oid = {.tag = MBEDTLS_ASN1_OID};
        int critical = 0, type;
        if (mbedtls_asn1_get_tag(&q, end, &len, CRYPTO_PKI_ASN1_SEQUENCE) != 0)
            return true;
        const unsigned char *ext_end = q + len;
        if (mbedtls_asn1_get_tag(&q, ext_end, &oid.len, MBEDTLS_ASN1_OID) != 0)
            return true;
        oid.p = q;
        q += oid.len;
        (void)mbedtls_asn1_get_bool(&q, ext_end, &critical); /* absent: FALSE */
        if (critical && mbedtls_oid_get_x509_ext_type(&oid, &type) != 0)
            return true;
        q = (unsigned char *)(uintptr_t)ext_end;
    }
    return false;
}

/* OpenSSL's extension checks, certificate by certificate from the leaf
 * up: critical extensions we cannot process, then the peer's role
 * (extendedKeyUsage on every certificate of the path); then, of the leaf's
 * keyUsage, a bit TLS can use in that role (OpenSSL's SSL purposes ask
 * this before the signature check; digitalSignature itself is checked
 * last, in leaf_checks, as by the OpenSSL backend). */
static enum crypto_x509_reason path_extensions(const struct path *p,
                                               enum crypto_x509_purpose purpose)
{
    for (size_t d = 0; d < p->len; d++) {
        if (unhandled_critical(p->crt[d]))
            return CRYPTO_X509_INVALID_CHAIN;
        if (!eku_allows(p->crt[d], purpose))
            return CRYPTO_X509_UNSUPPORTED;
    }
    unsigned tls_bits = purpose == CRYPTO_X509_PURPOSE_SERVER
                            ? MBEDTLS_X509_KU_DIGITAL_SIGNATURE | MBEDTLS_X509_KU_KEY_ENCIPHERMENT |
                                  MBEDTLS_X509_KU_KEY_AGREEMENT
                            : MBEDTLS_X509_KU_DIGITAL_SIGNATURE | MBEDTLS_X509_KU_KEY_AGREEMENT;
    return ku_any(p->crt[0], tls_bits) ? CRYPTO_X509_OK : CRYPTO_X509_UNSUPPORTED;
}

/* Weak links (Mbed TLS's default profile): a certificate below the top
 * signed with a hash other than SHA-256/384/512, or by an RSA key below
 * CRYPTO_RSA_BITS_MIN. The anchor's own signature is not a link. */
static enum crypto_x509_reason path_strength(const struct path *p)
{
    for (size_t d = 0; d + 1 < p->len; d++) {
        const mbedtls_pk_context *signer = &p->crt[d + 1]->pk;
        if ((p->flags[d] & MBEDTLS_X509_BADCERT_BAD_MD) ||
            (mbedtls_pk_get_type(signer) == MBEDTLS_PK_RSA &&
             mbedtls_pk_get_bitlen(signer) < CRYPTO_RSA_BITS_MIN))
            return CRYPTO_X509_INVALID_CHAIN;
    }
    return CRYPTO_X509_OK;
}

/* Leap years among years 1..y of the Gregorian calendar: every fourth,
 * but a century only when divisible by 400. */
static int64_t leap_years_through(int64_t y)
{
    return y / 4 - y / 100 + y / 400;
}

/* Seconds since 1970 of a certificate time (UTC; Mbed TLS has checked the
 * date's fields when parsing, RFC 5280 4.1.2.5). */
static int64_t x509_time_unix(const mbedtls_x509_time *t)
{
    static const int days_before_month[12] = {0,   31,  59,  90,  120, 151,
                                              181, 212, 243, 273, 304, 334};
    int64_t y = t->year;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    int month = t->mon >= 1 && t->mon <= 12 ? t->mon : 1;
    int64_t days = 365 * (y - 1970) + leap_years_through(y - 1) - leap_years_through(1969) +
                   days_before_month[month - 1] + (leap && month > 2) + t->day - 1;
    return days * 86400 + (int64_t)t->hour * 3600 + (int64_t)t->min * 60 + t->sec;
}

/* RFC 5280 4.1.2.5: valid from notBefore up to notAfter (at notAfter
 * itself OpenSSL already calls it expired; so do we). */
static bool valid_at(const mbedtls_x509_crt *c, int64_t now)
{
    return x509_time_unix(&c->valid_from) <= now && now < x509_time_unix(&c->valid_to);
}

/* From the root down: the signature on each certificate, then its dates. */
static enum crypto_x509_reason path_signatures_and_dates(const struct path *p, int64_t now)
{
    for (size_t d = p->len; d-- > 0;) {
        if (d + 1 < p->len && (p->flags[d] & MBEDTLS_X509_BADCERT_NOT_TRUSTED))
            return CRYPTO_X509_BAD_CERT_SIGNATURE;
        if (!valid_at(p->crt[d], now))
            return CRYPTO_X509_EXPIRED;
    }
    return CRYPTO_X509_OK;
}

/* What may sign a certificate of a path: SHA-256/384/512, as in Mbed TLS's
 * default profile (no SHA-1, no MD5); any key type and curve; RSA sizes are
 * judged in path_strength, where the signer is known. */
static const mbedtls_x509_crt_profile chain_profile = {
    .allowed_mds = MBEDTLS_X509_ID_FLAG(MBEDTLS_MD_SHA256) |
                   MBEDTLS_X509_ID_FLAG(MBEDTLS_MD_SHA384) |
                   MBEDTLS_X509_ID_FLAG(MBEDTLS_MD_SHA512),
    .allowed_pks = 0x0FFFFFFF,    /* every flag: as Mbed TLS's profiles spell "any" */
    .allowed_curves = 0x0FFFFFFF,
    .rsa_min_bitlen = 0,
};

static enum crypto_x509_reason chain_verify(struct chain *ch, struct trust_impl *ti,
                                            enum crypto_x509_purpose purpose, int64_t now)
{
    struct path p = {.len = 0};
    uint32_t flags = 0;
    /* the anchors are only read: one store may serve many verifications */
    mbedtls_x509_crt *roots = crt_first(&ti->roots) != NULL ? &ti->roots : NULL;
    int r = mbedtls_x509_crt_verify_with_profile(&ch->node[0], roots, NULL, &chain_profile, NULL,
                                                 &flags, path_record, &p);
    if (r == MBEDTLS_ERR_X509_FATAL_ERROR) /* a path longer than Mbed TLS follows */
        return CRYPTO_X509_INVALID_CHAIN;
    if ((r != 0 && r != MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) || p.len == 0)
        return CRYPTO_X509_INTERNAL;
    enum crypto_x509_reason why = path_built(&p, ch, ti);
    if (why == CRYPTO_X509_OK)
        why = path_extensions(&p, purpose);
    if (why == CRYPTO_X509_OK)
        why = path_strength(&p);
    if (why == CRYPTO_X509_OK)
        why = path_signatures_and_dates(&p, now);
    return why;
}

/* ---- the leaf: name (RFC 6125), key usage, key type --------------------------------------- */

/* An IPv4 or IPv6 literal into ip (4 or 16 bytes); 0 when name is none. */
static size_t ip_literal(const char *name, uint8_t ip[16])
{
    if (inet_pton(AF_INET, name, ip) == 1)
        return 4;
    return inet_pton(AF_INET6, name, ip) == 1 ? 16 : 0;
}

static unsigned char ascii_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* RFC 6125 6.4.1: ASCII case-insensitive equality; a NUL inside the
 * certificate's name never matches. */
static bool host_equal(const unsigned char *pat, size_t pat_len, const char *host, size_t host_len)
{
    if (pat_len != host_len)
        return false;
    for (size_t i = 0; i < pat_len; i++)
        if (pat[i] == '\0' || ascii_lower(pat[i]) != ascii_lower((unsigned char)host[i]))
            return false;
    return true;
}

static bool ldh(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

/* A DNS name of at least `min_labels` labels of letters, digits and
 * hyphens, none empty or starting or ending with a hyphen. */
static bool dns_name_valid(const unsigned char *s, size_t len, size_t min_labels)
{
    size_t labels = 0, label_len = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '.') {
            if (label_len == 0 || s[i - 1] == '-')
                return false;
            labels++;
            label_len = 0;
        } else if (!ldh(s[i]) || (label_len++ == 0 && s[i] == '-')) {
            return false;
        }
    }
    return labels >= min_labels;
}

/* RFC 6125 6.4.3 with wildcards only as a whole left-most label (OpenSSL's
 * X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS): "*.example.com" matches one more
 * label of letters, digits and hyphens (or a literal "*") in front of
 * "example.com"; "*" needs two labels after it, so "*.com" is no wildcard
 * and only matches itself. */
static bool host_matches(const unsigned char *pat, size_t pat_len, const char *host)
{
    size_t host_len = strlen(host);
    if (pat_len < 2 || pat[0] != '*' || pat[1] != '.' || !dns_name_valid(pat + 2, pat_len - 2, 2))
        return host_equal(pat, pat_len, host, host_len);
    const char *dot = memchr(host, '.', host_len);
    if (dot == NULL || dot == host)
        return false;
    size_t first = (size_t)(dot - host);
    bool star = first == 1 && host[0] == '*';
    for (size_t i = 0; i < first && !star; i++)
        if (!ldh((unsigned char)host[i]))
            return false;
    return host_equal(pat + 1, pat_len - 1, dot, host_len - first);
}

/* The subjectAltName entries of one kind (context-specific tag [kind],
 * RFC 5280 4.2.1.6), raw. */
static bool san_is(const mbedtls_x509_sequence *s, int kind)
{
    return s->buf.p != NULL && s->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | kind);
}

/* RFC 6125 6.2.1 / 6.4.4: an IP literal against iPAddress SANs only; a
 * DNS name against dNSName SANs, and the subject CN only when the
 * certificate has no dNSName. */
static bool name_matches(const mbedtls_x509_crt *leaf, const char *name)
{
    uint8_t ip[16];
    size_t ip_len = ip_literal(name, ip);
    bool has_dns = false;
    for (const mbedtls_x509_sequence *s = &leaf->subject_alt_names; s != NULL; s = s->next) {
        if (ip_len != 0 && san_is(s, MBEDTLS_X509_SAN_IP_ADDRESS) && s->buf.len == ip_len &&
            memcmp(s->buf.p, ip, ip_len) == 0)
            return true;
        if (ip_len == 0 && san_is(s, MBEDTLS_X509_SAN_DNS_NAME)) {
            has_dns = true;
            if (host_matches(s->buf.p, s->buf.len, name))
                return true;
        }
    }
    if (ip_len != 0 || has_dns)
        return false;
    /* every CN of the subject; string types that hold ASCII as is (a BMP
     * or Universal string would need transcoding and names no host here) */
    for (const mbedtls_x509_name *n = &leaf->subject; n != NULL; n = n->next) {
        int tag = n->val.tag;
        if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0 &&
            (tag == MBEDTLS_ASN1_UTF8_STRING || tag == MBEDTLS_ASN1_PRINTABLE_STRING ||
             tag == MBEDTLS_ASN1_IA5_STRING || tag == MBEDTLS_ASN1_T61_STRING) &&
            host_matches(n->val.p, n->val.len, name))
            return true;
    }
    return false;
}

/* Our own checks of the leaf once the path is good. */
static enum crypto_x509_reason leaf_checks(const mbedtls_x509_crt *leaf, const char *expected_name)
{
    /* RFC 5246 7.4.2 / RFC 8422 5.3: the key signs the handshake, so when
     * keyUsage is present it must allow digitalSignature. */
    if (mbedtls_x509_crt_check_key_usage(leaf, MBEDTLS_X509_KU_DIGITAL_SIGNATURE) != 0)
        return CRYPTO_X509_UNSUPPORTED;
    if (expected_name != NULL && !name_matches(leaf, expected_name))
        return CRYPTO_X509_NAME_MISMATCH;
    if (crypto_pki_key_type(&leaf->pk) == CRYPTO_PEER_KEY_NONE)
        return CRYPTO_X509_UNSUPPORTED;
    return CRYPTO_X509_OK;
}

static coaps_status reason_status(enum crypto_x509_reason r)
{
    return r == CRYPTO_X509_OK ? COAPS_OK : r == CRYPTO_X509_INTERNAL ? COAPS_E_NOMEM
                                                                       : COAPS_E_VERIFY;
}

/* Seconds since 1970 to judge validity at: the caller's clock, else ours. */
static int64_t verify_time(uint64_t now_unix)
{
    return now_unix != 0 ? (int64_t)now_unix : (int64_t)time(NULL);
}

static enum crypto_x509_reason verify_parsed(struct chain *ch, struct trust_impl *ti,
                                             const char *expected_name,
                                             enum crypto_x509_purpose purpose, uint64_t now_unix,
                                             struct crypto_peer_key *out_leaf_key)
{
    chain_link(ch, ti);
    enum crypto_x509_reason r = chain_verify(ch, ti, purpose, verify_time(now_unix));
    const mbedtls_x509_crt *leaf = &ch->node[0];
    if (r == CRYPTO_X509_OK)
        r = leaf_checks(leaf, expected_name);
    if (r == CRYPTO_X509_OK && out_leaf_key != NULL &&
        crypto_pki_peer_key_set(out_leaf_key, &leaf->pk, leaf->pk_raw.p, leaf->pk_raw.len) !=
            COAPS_OK)
        r = CRYPTO_X509_INTERNAL;
    return r;
}

coaps_status crypto_x509_verify_chain(const struct crypto_trust *trust,
                                      const uint8_t *const *certs, const size_t *lens, size_t n,
                                      const char *expected_name, enum crypto_x509_purpose purpose,
                                      uint64_t now_unix, struct crypto_peer_key *out_leaf_key,
                                      enum crypto_x509_reason *out_reason)
{
    enum crypto_x509_reason dummy;
    enum crypto_x509_reason *reason = out_reason ? out_reason : &dummy;
    *reason = CRYPTO_X509_INTERNAL;
    if (out_leaf_key != NULL) {
        out_leaf_key->live = false;
        out_leaf_key->type = CRYPTO_PEER_KEY_NONE;
    }
    ENSURE(trust != NULL && trust->live && (n == 0 || (certs != NULL && lens != NULL)),
           COAPS_E_INVALID);
    ENSURE(purpose == CRYPTO_X509_PURPOSE_SERVER || purpose == CRYPTO_X509_PURPOSE_CLIENT,
           COAPS_E_INVALID);
    ENSURE(now_unix <= (uint64_t)INT64_MAX, COAPS_E_INVALID);
    if (n == 0 || n > CRYPTO_CHAIN_MAX) {
        *reason = n == 0 ? CRYPTO_X509_NO_CERTIFICATE : CRYPTO_X509_MALFORMED;
        return COAPS_E_VERIFY;
    }
    ENSURE(crypto_psa_ready() == COAPS_OK, COAPS_E_NOMEM);
    struct chain ch = {0};
    enum crypto_x509_reason r = chain_parse(&ch, certs, lens, n);
    if (r == CRYPTO_X509_OK)
        r = verify_parsed(&ch, trust_of(trust), expected_name, purpose, now_unix, out_leaf_key);
    chain_free(&ch);
    *reason = r;
    return reason_status(r);
}

/* ---- raw public keys ------------------------------------------------------------------------- */

/* Whether pk's value is one of the pinned keys. */
static enum crypto_x509_reason rpk_lookup(const struct trust_impl *ti, const mbedtls_pk_context *pk)
{
    uint8_t *der;
    size_t len;
    if (crypto_pki_spki_canonical(pk, &der, &len) != COAPS_OK)
        return CRYPTO_X509_INTERNAL;
    enum crypto_x509_reason r = CRYPTO_X509_RPK_UNKNOWN;
    for (size_t i = 0; r == CRYPTO_X509_RPK_UNKNOWN && i < ti->n_rpk; i++)
        if (ti->rpk_len[i] == len && memcmp(ti->rpk[i], der, len) == 0)
            r = CRYPTO_X509_OK;
    free(der);
    return r;
}

coaps_status crypto_rpk_match(const struct crypto_trust *trust, const uint8_t *spki, size_t len,
                              struct crypto_peer_key *out_key,
                              enum crypto_x509_reason *out_reason)
{
    enum crypto_x509_reason dummy;
    enum crypto_x509_reason *reason = out_reason ? out_reason : &dummy;
    *reason = CRYPTO_X509_INTERNAL;
    if (out_key != NULL) {
        out_key->live = false;
        out_key->type = CRYPTO_PEER_KEY_NONE;
    }
    ENSURE(trust != NULL && trust->live, COAPS_E_INVALID);
    ENSURE(crypto_psa_ready() == COAPS_OK, COAPS_E_NOMEM);
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    coaps_status st = crypto_pki_spki_parse(&pk, spki, len);
    enum crypto_x509_reason r;
    if (st != COAPS_OK)
        r = st == COAPS_E_MALFORMED ? CRYPTO_X509_MALFORMED : CRYPTO_X509_INTERNAL;
    else if (crypto_pki_key_type(&pk) == CRYPTO_PEER_KEY_NONE)
        r = CRYPTO_X509_UNSUPPORTED;
    else
        r = rpk_lookup(trust_of(trust), &pk);
    if (r == CRYPTO_X509_OK && out_key != NULL &&
        crypto_pki_peer_key_set(out_key, &pk, spki, len) != COAPS_OK)
        r = CRYPTO_X509_INTERNAL;
    mbedtls_pk_free(&pk);
    *reason = r;
    return reason_status(r);
}
