/*
 * coaps-client - a CoAP client (RFC 7252) whose flags match libcoap's
 * coap-client, for people who know it:
 *
 *   coaps-client [-m method] [-e data | -f file] [-t cf] [-A accept]
 *                [-s seconds] [-b [num,]size] [-N] [-T token] [-B seconds]
 *                [-o file] [-v level] URI
 *
 * The payload of the response goes to stdout (for observe, one line per
 * notification); diagnostics go to stderr. Exit status: 0 for a 2.xx
 * response (or an observation that ran its course), 1 for an error
 * response, a timeout or a network error, 2 for bad usage.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "net/addr.h"
#include "net/clock.h"
#include "net/edge.h"
#include "net/random.h"

static void client_finish(struct client *c, int code)
{
    c->exit_code = code;
    c->done = true;
    net_loop_stop(&c->loop);
}

/* Payload to stdout: for observe one notification per line; otherwise as
 * is, with a newline added only for a terminal (files get exact bytes). */
static void client_print_payload(const struct client *c, const uint8_t *p, size_t len)
{
    if (len)
        fwrite(p, 1, len, c->out);
    bool add_nl = c->opts.observe_s > 0 ||
                  (isatty(fileno(c->out)) && len && p[len - 1] != '\n');
    if (add_nl)
        fputc('\n', c->out);
    fflush(c->out);
}

static void client_report_error_code(const coaps_coap_client_event *ev)
{
    char payload[CLIENT_DIAG_MAX + 1];
    size_t n = ev->payload_len < CLIENT_DIAG_MAX ? ev->payload_len : CLIENT_DIAG_MAX;
    for (size_t i = 0; i < n; i++) /* RFC 7252 5.5.2: diagnostic payload, UTF-8 text */
        payload[i] = ev->payload[i] >= 0x20 && ev->payload[i] < 0x7f ? (char)ev->payload[i] : '?';
    payload[n] = '\0';
    fprintf(stderr, PROG ": %u.%02u %s%s%s\n", COAPS_COAP_CODE_CLASS(ev->code),
            COAPS_COAP_CODE_DETAIL(ev->code), client_code_name(ev->code), n ? ": " : "",
            payload);
}

static const char *client_failure_text(coaps_status st)
{
    switch (st) {
    case COAPS_E_TIMEOUT: return "no response (timed out)";
    case COAPS_E_CLOSED: return "the server answered with a Reset";
    case COAPS_E_NOSPACE: return "response body too large";
    case COAPS_E_BAD_OPTION: return "response carried an unknown critical option";
    case COAPS_E_MALFORMED: return "the server broke the block-wise rules";
    default: return coaps_status_str(st);
    }
}

static void client_on_response(void *user, const coaps_coap_client_event *ev)
{
    struct client *c = user;
    if (ev->status != COAPS_OK) {
        fprintf(stderr, PROG ": %s: %s\n", c->opts.uri, client_failure_text(ev->status));
        client_finish(c, 1);
        return;
    }
    uint8_t cls = COAPS_COAP_CODE_CLASS(ev->code);
    if (cls != 2) {
        client_report_error_code(ev);
        client_finish(c, 1);
        return;
    }
    c->got_response = true;
    if (ev->is_notification)
        c->notifications++;
    client_print_payload(c, ev->payload, ev->payload_len);
    if (ev->final)
        client_finish(c, 0);
}

/* The client's own timer: end of the observation (-s) or of the wait
 * for a response (-B). */
static uint64_t client_deadline(void *ctx)
{
    const struct client *c = ctx;
    return c->done ? NET_NO_DEADLINE : c->end_ms;
}

static void client_due(void *ctx, uint64_t now_ms)
{
    struct client *c = ctx;
    if (c->uri.scheme == NET_URI_COAPS && !c->handshake_done) {
        fprintf(stderr, PROG ": DTLS handshake failed: no answer from the server within %u s\n",
                (unsigned)c->opts.wait_s);
        client_finish(c, 1);
        return;
    }
    if (c->opts.observe_s > 0 && c->got_response) {
        /* RFC 7641 3.6: deregister proactively, then leave. */
        NET_LOG(&c->log, NET_LOG_INFO, "observed for %u s: %u notifications",
                (unsigned)c->opts.observe_s, c->notifications);
        (void)coaps_coap_request_cancel(c->coap, c->req_id, true, now_ms);
        net_edge_flush(c->edge, now_ms);
        client_finish(c, 0);
        return;
    }
    fprintf(stderr, PROG ": %s: no response within %u s\n", c->opts.uri,
            (unsigned)(c->opts.observe_s ? c->opts.observe_s : c->opts.wait_s));
    client_finish(c, 1);
}

static int client_setup(struct client *c)
{
    coaps_coap_config cfg;
    coaps_coap_config_default(&cfg);
    cfg.random = net_random_u32;
    cfg.max_body_size = CLIENT_BODY_MAX;
    cfg.body_slots = CLIENT_BODY_SLOTS;
    cfg.max_observers = 1; /* a client serves nothing to observe */
    cfg.max_resources = 1;
    size_t size = coaps_coap_endpoint_size(&cfg);
    c->coap_mem = size ? malloc(size) : NULL;
    if (c->coap_mem == NULL ||
        coaps_coap_endpoint_init(c->coap_mem, size, &cfg, &c->coap) != COAPS_OK) {
        fprintf(stderr, PROG ": cannot set up the CoAP endpoint (%zu bytes)\n", size);
        return 1;
    }
    c->edge = calloc(1, sizeof *c->edge);
    if (c->edge == NULL) {
        fprintf(stderr, PROG ": out of memory\n");
        return 1;
    }
    net_edge_init(c->edge, c->coap, &c->log);
    if (net_loop_init(&c->loop, &c->log, true) != COAPS_OK) {
        fprintf(stderr, PROG ": cannot set up the event loop: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}

/* The DTLS session changed state: the handshake ended (either way), or the
 * established session was closed or failed. */
static void client_on_dtls(void *user, enum coaps_dtls_state st)
{
    struct client *c = user;
    char why[160];
    if (st == COAPS_DTLS_ESTABLISHED) {
        c->handshake_done = true;
        NET_LOG(&c->log, NET_LOG_INFO, "DTLS session established, %s",
                coaps_dtls_suite_name(coaps_dtls_suite(&c->dtls.conn)));
        net_loop_stop(&c->loop); /* phase 1 over: send the request */
        return;
    }
    if (c->done)
        return;
    if (!c->handshake_done)
        fprintf(stderr, PROG ": DTLS handshake failed: %s\n",
                net_dtls_client_failure(&c->dtls, why, sizeof why));
    else
        fprintf(stderr, PROG ": DTLS session ended: %s\n",
                net_dtls_client_failure(&c->dtls, why, sizeof why));
    c->handshake_done = true;
    client_finish(c, 1);
}

/* coaps://: PSK from -k/-u, keylog, the connection (started later). */
static int client_setup_dtls(struct client *c, struct net_endpoint *ep, const coaps_peer *server)
{
    const char *keylog_path = NULL;
    if (net_keylog_open(&c->keylog, &keylog_path) != COAPS_OK) {
        fprintf(stderr, PROG ": SSLKEYLOGFILE '%s': %s\n", keylog_path, strerror(errno));
        return 1;
    }
    if (c->opts.pki_given) {
        char err[256] = "";
        coaps_status pst = coaps_dtls_pki_new(&c->pki, &c->opts.pki_files, err, sizeof err);
        if (pst != COAPS_OK) {
            fprintf(stderr, PROG ": certificates: %s\n", err[0] ? err : coaps_status_str(pst));
            return 2;
        }
    }
    coaps_dtls_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.role = COAPS_DTLS_CLIENT;
    if (c->opts.have_key) {
        cfg.psk_identity = c->opts.psk_identity;
        cfg.psk_identity_len = c->opts.psk_identity_len;
        cfg.psk_key = c->opts.psk_key;
        cfg.psk_key_len = c->opts.psk_key_len;
    }
    cfg.pki = c->pki;
    /* RFC 6066 3: SNI for a host name (the engine sends none for a
     * literal); with certificates also the name (or address) to check */
    cfg.server_name = c->uri.host;
    cfg.handshake_timeout_ms = c->opts.wait_s * 1000u;
    if (c->keylog.f) {
        cfg.keylog = net_keylog_line;
        cfg.keylog_user = &c->keylog;
    }
    if (net_dtls_client_init(&c->dtls, c->edge, ep, server, &cfg, client_on_dtls, c) !=
        COAPS_OK) {
        fprintf(stderr, PROG ": bad DTLS configuration\n");
        return 1;
    }
    return net_dtls_client_attach(&c->dtls, &c->loop) == COAPS_OK ? 0 : 1;
}

/* Resolve the URI's host and open a socket of its family on any port. */
static int client_connect(struct client *c, coaps_peer *server)
{
    struct sockaddr_storage dst, any;
    socklen_t dst_len, any_len;
    const char *err = NULL;
    if (net_addr_resolve(c->uri.host, c->uri.port, false, &dst, &dst_len, &err) != COAPS_OK) {
        fprintf(stderr, PROG ": cannot resolve '%s': %s\n", c->uri.host, err ? err : "unknown");
        return 1;
    }
    net_addr_parse_numeric(dst.ss_family == AF_INET6 ? "::" : "0.0.0.0", 0, &any, &any_len);
    int err_no = 0;
    enum coaps_transport tr =
        c->uri.scheme == NET_URI_COAPS ? COAPS_TRANSPORT_DTLS : COAPS_TRANSPORT_UDP;
    struct net_endpoint *ep = NULL;
    if (net_edge_open(c->edge, (struct sockaddr *)&any, any_len, tr, &ep, &err_no) != COAPS_OK) {
        fprintf(stderr, PROG ": cannot open a UDP socket: %s\n", strerror(err_no));
        return 1;
    }
    net_peer_from_sockaddr((struct sockaddr *)&dst, dst_len, tr, server);
    if (tr == COAPS_TRANSPORT_DTLS) {
        int rc = client_setup_dtls(c, ep, server);
        if (rc)
            return rc;
    }
    if (NET_LOG_ENABLED(&c->log, NET_LOG_INFO)) {
        char text[NET_ADDR_STR_MAX];
        net_log_print(&c->log, NET_LOG_INFO, "sending to %s",
                      net_addr_format((struct sockaddr *)&dst, text, sizeof text));
    }
    return 0;
}

/* coaps:// phase 1: the DTLS handshake, bounded by -B. 0 once established. */
static int client_handshake(struct client *c)
{
    uint64_t now = net_now_ms();
    c->end_ms = now + (uint64_t)c->opts.wait_s * 1000u;
    coaps_status st = net_dtls_client_start(&c->dtls, now);
    if (st != COAPS_OK) {
        fprintf(stderr, PROG ": cannot start DTLS: %s\n", coaps_status_str(st));
        return 1;
    }
    if (net_loop_run(&c->loop) != COAPS_OK) {
        fprintf(stderr, PROG ": event loop failed: %s\n", strerror(errno));
        return 1;
    }
    if (c->done)
        return c->exit_code ? c->exit_code : 1;
    return net_dtls_client_state(&c->dtls) == COAPS_DTLS_ESTABLISHED ? 0 : 1;
}

static int client_run(struct client *c)
{
    coaps_peer server;
    c->out = stdout;
    if (c->opts.out_path) {
        c->out = fopen(c->opts.out_path, "wb");
        if (c->out == NULL) {
            fprintf(stderr, PROG ": -o '%s': %s\n", c->opts.out_path, strerror(errno));
            return 2;
        }
    }
    int rc = client_setup(c);
    if (rc == 0)
        rc = client_connect(c, &server);
    if (rc == 0 && net_edge_attach(c->edge, &c->loop) != COAPS_OK) {
        fprintf(stderr, PROG ": cannot watch the socket\n");
        rc = 1;
    }
    if (rc == 0)
        rc = net_loop_add_timer(&c->loop, client_deadline, client_due, c) == COAPS_OK ? 0 : 1;
    if (rc == 0 && c->uri.scheme == NET_URI_COAPS)
        rc = client_handshake(c);
    if (rc)
        return rc;
    coaps_coap_client_request req;
    rc = client_build_request(c, &server, &req);
    if (rc)
        return rc;
    req.cb = client_on_response;
    req.user = c;
    uint64_t now = net_now_ms();
    uint32_t secs = c->opts.observe_s ? c->opts.observe_s : c->opts.wait_s;
    c->end_ms = now + (uint64_t)secs * 1000u;
    c->exit_code = 1;
    coaps_status st = coaps_coap_request_send(c->coap, &req, now, &c->req_id);
    if (st != COAPS_OK) {
        fprintf(stderr, PROG ": cannot send the request: %s\n", coaps_status_str(st));
        return 1;
    }
    net_edge_flush(c->edge, now);
    if (net_loop_run(&c->loop) != COAPS_OK) {
        fprintf(stderr, PROG ": event loop failed: %s\n", strerror(errno));
        return 1;
    }
    if (!c->done && c->loop.stop_signal) /* interrupted: an observation ends well */
        return c->got_response ? 0 : 1;
    return c->exit_code;
}

int main(int argc, char **argv)
{
    struct client *c = calloc(1, sizeof *c); /* large: URI and option tables */
    if (c == NULL) {
        fprintf(stderr, PROG ": out of memory\n");
        return 1;
    }
    c->log.prog = PROG;
    c->loop.epfd = -1;
    c->loop.sigfd = -1;
    bool help = false;
    int rc = client_parse_opts(c, argc, argv, &help);
    if (rc == 0 && !help)
        rc = client_run(c);
    if (c->out && c->out != stdout && fclose(c->out) != 0 && rc == 0) {
        fprintf(stderr, PROG ": -o '%s': %s\n", c->opts.out_path, strerror(errno));
        rc = 1;
    }
    if (c->edge) {
        net_dtls_client_close(&c->dtls, net_now_ms());
        net_edge_close(c->edge);
    }
    net_keylog_close(&c->keylog);
    coaps_dtls_pki_free(c->pki);
    net_loop_close(&c->loop);
    free(c->edge);
    free(c->coap_mem);
    free(c->payload);
    free(c);
    return rc;
}
