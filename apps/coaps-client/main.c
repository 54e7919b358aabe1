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

static void client_finish(struct client *c, int code)
{
    c->exit_code = code;
    c->done = true;
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

/* The end of the observation (-s) or of the wait for a response (-B). */
static void client_due(struct client *c)
{
    if (c->opts.observe_s > 0 && c->got_response) {
        /* RFC 7641 3.6: deregister proactively, then leave. */
        if (c->log_level >= 6)
            fprintf(stderr, PROG ": info: observed for %u s: %u notifications\n",
                    (unsigned)c->opts.observe_s, c->notifications);
        (void)coaps_client_cancel(c->cl, c->req_id, true);
        client_finish(c, 0);
        return;
    }
    fprintf(stderr, PROG ": %s: no response within %u s\n", c->opts.uri,
            (unsigned)(c->opts.observe_s ? c->opts.observe_s : c->opts.wait_s));
    client_finish(c, 1);
}

static int client_setup(struct client *c)
{
    coaps_client_config cfg;
    coaps_client_config_default(&cfg);
    cfg.log_level = c->log_level;
    cfg.log_name = PROG;
    cfg.max_body_size = CLIENT_BODY_MAX;
    if (c->opts.have_key) {
        cfg.psk_identity = c->opts.psk_identity;
        cfg.psk_identity_len = c->opts.psk_identity_len;
        cfg.psk_key = c->opts.psk_key;
        cfg.psk_key_len = c->opts.psk_key_len;
    }
    if (c->opts.pki_given)
        cfg.pki = &c->opts.pki_files;
    cfg.handshake_timeout_ms = c->opts.wait_s * 1000u;
    cfg.keylog_from_env = true;
    char err[512] = "";
    coaps_status st = coaps_client_new(&c->cl, &cfg, err, sizeof err);
    if (st != COAPS_OK) {
        fprintf(stderr, PROG ": %s\n", err);
        /* a bad certificate or key file is bad usage, as a bad flag */
        return strncmp(err, "certificates:", 13) == 0 ? 2 : 1;
    }
    c->coap = coaps_client_coap(c->cl);
    return 0;
}

/* Resolve the URI's host, open the socket, start the handshake (coaps://). */
static int client_connect(struct client *c, coaps_peer *server)
{
    char err[512] = "";
    bool dtls = c->uri.scheme == COAPS_URI_COAPS;
    if (coaps_client_connect(c->cl, c->uri.host, c->uri.port, dtls, server, err, sizeof err) !=
        COAPS_OK) {
        fprintf(stderr, PROG ": %s\n", err);
        return 1;
    }
    return 0;
}

/* coaps:// phase 1: the DTLS handshake, bounded by -B. 0 once established. */
static int client_handshake(struct client *c)
{
    char err[256] = "";
    coaps_status st = coaps_client_handshake(c->cl, c->opts.wait_s * 1000u, err, sizeof err);
    if (st == COAPS_OK)
        return 0;
    if (coaps_client_stop_signal(c->cl) == 0)
        fprintf(stderr, PROG ": DTLS handshake failed: %s\n", err);
    return 1;
}

/* Phase 2: until the response (or the observation's end), a timeout, a
 * signal, or the DTLS session's end. */
static int client_wait(struct client *c)
{
    char err[256] = "";
    while (!c->done) {
        uint64_t now = coaps_client_now_ms(c->cl);
        if (now >= c->end_ms) {
            client_due(c);
            break;
        }
        if (coaps_client_process(c->cl, (int)(c->end_ms - now)) != COAPS_OK) {
            fprintf(stderr, PROG ": event loop failed: %s\n", strerror(errno));
            return 1;
        }
        if (coaps_client_stop_signal(c->cl)) /* interrupted: an observation ends well */
            return c->done ? c->exit_code : c->got_response ? 0 : 1;
        if (!c->done && coaps_client_dtls_state(c->cl, err, sizeof err) != COAPS_DTLS_ESTABLISHED) {
            fprintf(stderr, PROG ": DTLS session ended: %s\n", err);
            client_finish(c, 1);
        }
    }
    return c->exit_code;
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
    if (rc == 0 && c->uri.scheme == COAPS_URI_COAPS)
        rc = client_handshake(c);
    if (rc)
        return rc;
    coaps_coap_client_request req;
    rc = client_build_request(c, &server, &req);
    if (rc)
        return rc;
    req.cb = client_on_response;
    req.user = c;
    uint32_t secs = c->opts.observe_s ? c->opts.observe_s : c->opts.wait_s;
    c->end_ms = coaps_client_now_ms(c->cl) + (uint64_t)secs * 1000u;
    c->exit_code = 1;
    coaps_status st = coaps_client_request(c->cl, &req, &c->req_id);
    if (st != COAPS_OK) {
        fprintf(stderr, PROG ": cannot send the request: %s\n", coaps_status_str(st));
        return 1;
    }
    return client_wait(c);
}

int main(int argc, char **argv)
{
    struct client *c = calloc(1, sizeof *c); /* large: URI and option tables */
    if (c == NULL) {
        fprintf(stderr, PROG ": out of memory\n");
        return 1;
    }
    bool help = false;
    int rc = client_parse_opts(c, argc, argv, &help);
    if (rc == 0 && !help)
        rc = client_run(c);
    if (c->out && c->out != stdout && fclose(c->out) != 0 && rc == 0) {
        fprintf(stderr, PROG ": -o '%s': %s\n", c->opts.out_path, strerror(errno));
        rc = 1;
    }
    coaps_client_free(c->cl);
    free(c->payload);
    free(c);
    return rc;
}
