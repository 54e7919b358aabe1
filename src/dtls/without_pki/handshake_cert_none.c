/*
 * handshake_cert_none.c - the ECDHE_ECDSA rows of the handshake
 * (handshake_cert.c) in a build without certificates (COAPS_WITH_PKI 0,
 * include/coaps/config.h): the build compiles this file in place of
 * handshake_cert.c. Such a build never attaches a certificate area, so the
 * engine picks and offers only PSK suites and never reaches the builders
 * below; a peer's certificate message is out of place in a PSK handshake
 * and ends it as handshake_cert.c would (RFC 5246 7.4: unexpected_message).
 */
#include "coaps/config.h"
#include "dtls/conn.h"

_Static_assert(!COAPS_WITH_PKI, "handshake_cert.c, not this file, in a build with PKI");

static coaps_status out_of_place(struct conn *c)
{
    return conn_fail(c, COAPS_E_STATE, DTLS_ALERT_UNEXPECTED_MESSAGE);
}

coaps_status conn_cert_client_hello_exts(const struct conn *c, struct wire_wr *w)
{
    (void)c, (void)w;
    return COAPS_E_UNSUPPORTED;
}

int conn_cert_server_hello(struct conn *c, const struct dtls_server_hello *sh)
{
    (void)c, (void)sh;
    return DTLS_ALERT_HANDSHAKE_FAILURE;
}

bool conn_cert_server_can(struct conn *c, const struct dtls_client_hello *ch)
{
    (void)c, (void)ch;
    return false;
}

coaps_status conn_cert_server_hello_exts(const struct conn *c, const struct dtls_client_hello *ch,
                                         struct wire_wr *w)
{
    (void)c, (void)ch, (void)w;
    return COAPS_E_UNSUPPORTED;
}

coaps_status conn_cert_transcript_start(struct conn_hs *hs)
{
    (void)hs;
    return COAPS_E_UNSUPPORTED;
}

coaps_status conn_cert_on_server_certificate(struct conn *c, const struct dtls_hs_msg *m,
                                             uint64_t now_ms)
{
    (void)m, (void)now_ms;
    return out_of_place(c);
}

coaps_status conn_cert_on_server_key_exchange(struct conn *c, const struct dtls_hs_msg *m,
                                              uint64_t now_ms)
{
    (void)m, (void)now_ms;
    return out_of_place(c);
}

coaps_status conn_cert_on_certificate_request(struct conn *c, const struct dtls_hs_msg *m,
                                              uint64_t now_ms)
{
    (void)m, (void)now_ms;
    return out_of_place(c);
}

coaps_status conn_cert_on_client_certificate(struct conn *c, const struct dtls_hs_msg *m,
                                             uint64_t now_ms)
{
    (void)m, (void)now_ms;
    return out_of_place(c);
}

coaps_status conn_cert_on_client_key_exchange(struct conn *c, const struct dtls_hs_msg *m)
{
    (void)m;
    return out_of_place(c);
}

coaps_status conn_cert_on_certificate_verify(struct conn *c, const struct dtls_hs_msg *m,
                                             uint64_t now_ms)
{
    (void)m, (void)now_ms;
    return out_of_place(c);
}

void conn_cert_release(struct conn_hs *hs)
{
    (void)hs; /* nothing: no certificate area is ever attached */
}
