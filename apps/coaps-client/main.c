/*
 * coaps-client - a CoAP client (RFC 7252) whose flags match libcoap's
 * coap-client, for people who know it:
 *
 *   coaps-client [-m method] [-e data | -f file] [-t cf] [-A accept]
 *                [-s seconds] [-b [num,]size] [-N] [-T token] [-B seconds]
 *                [-K seconds] [-o file] [-v level] [--cid LEN]
 *                [--repeat N [--interval MS]] URI
 *
 * The payload of the response goes to stdout (for observe, one line per
 * notification; with --repeat, one line per response); diagnostics go to
 * stderr. Exit status: 0 for a 2.xx response (or an observation that ran
 * its course; with --repeat, for N of them), 1 for an error response, a
 * timeout or a network error, 2 for bad usage.
 *
 * --repeat N sends the request N times over the one socket and DTLS
 * session (one handshake), each as a new request (new Message ID and,
 * unless -T fixes it, a new token) sent MS milliseconds after the answer
 * to the one before. An error response or a timeout (-B, per request) is
 * reported and the next request still goes; the end of the DTLS session
 * or a signal ends the run.
 *
 * -K S (libcoap's keep-alive) sends a CoAP ping (RFC 7252 4.3) whenever
 * nothing went either way for S seconds: it keeps NAT bindings on the
 * path alive during a quiet observation or --interval, and after a NAT
 * rebinding lets a server that uses a DTLS Connection ID (RFC 9146)
 * learn the new address before it has something to send.
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

/* Payload to stdout: for observe one notification per line, for --repeat
 * each response ends a line (an empty one for an empty payload); otherwise as
 * is, with a newline added only for a terminal (files get exact bytes). */
static void client_print_payload(const struct client *c, const uint8_t *p, size_t len)
{
    if (len)
        fwrite(p, 1, len, c->out);
    bool ends_nl = len && p[len - 1] == '\n';
    bool add_nl = c->opts.observe_s > 0 || (c->opts.repeat > 1 && !ends_nl) ||
                  (isatty(fileno(c->out)) && len && !ends_nl);
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
    c->last_activity_ms = coaps_client_now_ms(c->cl);
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
    /* the core would go on retransmitting it and, under NSTART = 1, hold
     * back the next --repeat request behind it */
    (void)coaps_client_cancel(c->cl, c->req_id, false);
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
    cfg.cid = c->opts.cid;
    cfg.cid_len = c->opts.cid_len;
    cfg.session_file = c->opts.session_file;
    cfg.no_tickets = c->opts.no_tickets;
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

/* -K: the pong (a Reset, RFC 7252 4.3) or the ping's timeout. */
static void client_on_pong(void *user, const coaps_coap_client_event *ev)
{
    struct client *c = user;
    c->ping_pending = false;
    c->last_activity_ms = coaps_client_now_ms(c->cl);
    if (c->log_level >= 6)
        fprintf(stderr, PROG ": info: keep-alive ping: %s\n",
                ev->status == COAPS_OK ? "answered" : client_failure_text(ev->status));
}

/* One turn of the event loop, waiting at most until `until`. With -K, a
 * ping once nothing has gone either way for that long: it keeps a NAT
 * binding on the path alive and, when the binding changed anyway, shows
 * the server our new address (which a DTLS Connection ID lets it take). */
static coaps_status client_turn(struct client *c, uint64_t until)
{
    uint64_t now = coaps_client_now_ms(c->cl);
    if (c->opts.keepalive_s && !c->ping_pending) {
        uint64_t due = c->last_activity_ms + (uint64_t)c->opts.keepalive_s * 1000u;
        if (now >= due) {
            c->last_activity_ms = now;
            c->ping_pending =
                coaps_client_ping(c->cl, &c->server, client_on_pong, c, NULL) == COAPS_OK;
        } else if (due < until) {
            until = due;
        }
    }
    return coaps_client_process(c->cl, until > now ? (int)(until - now) : 0);
}

/* The session cannot serve another request: a signal, or DTLS ended
 * (said in one line). */
static bool client_session_over(struct client *c)
{
    char err[256] = "";
    if (coaps_client_stop_signal(c->cl))
        return true;
    if (coaps_client_dtls_state(c->cl, err, sizeof err) == COAPS_DTLS_ESTABLISHED)
        return false;
    fprintf(stderr, PROG ": DTLS session ended: %s\n", err);
    return true;
}

/* Phase 2: until the response (or the observation's end), a timeout, a
 * signal, or the DTLS session's end. */
static int client_wait(struct client *c)
{
    while (!c->done) {
        uint64_t now = coaps_client_now_ms(c->cl);
        if (now >= c->end_ms) {
            client_due(c);
            break;
        }
        if (client_turn(c, c->end_ms) != COAPS_OK) {
            fprintf(stderr, PROG ": event loop failed: %s\n", strerror(errno));
            c->stopped = true;
            return 1;
        }
        if (coaps_client_stop_signal(c->cl)) { /* interrupted: an observation ends well */
            c->stopped = true;
            return c->done ? c->exit_code : c->got_response ? 0 : 1;
        }
        if (!c->done && client_session_over(c)) {
            c->stopped = true;
            client_finish(c, 1);
        }
    }
    return c->exit_code;
}

/* --interval: the pause between an answer and the next request, with the
 * loop running (DTLS timers, late duplicates). 0, or 1 when the session
 * ended or a signal came meanwhile. */
static int client_pause(struct client *c, uint32_t ms)
{
    uint64_t end = coaps_client_now_ms(c->cl) + ms;
    for (;;) {
        uint64_t now = coaps_client_now_ms(c->cl);
        if (now >= end)
            return 0;
        if (client_turn(c, end) != COAPS_OK) {
            fprintf(stderr, PROG ": event loop failed: %s\n", strerror(errno));
            return 1;
        }
        if (client_session_over(c))
            return 1;
    }
}

/* One request and the wait for its answer: 0 for a 2.xx, else 1 (2 for a
 * request that cannot be built). */
static int client_exchange(struct client *c)
{
    coaps_coap_client_request req;
    int rc = client_build_request(c, &c->server, &req);
    if (rc)
        return rc;
    req.cb = client_on_response;
    req.user = c;
    uint32_t secs = c->opts.observe_s ? c->opts.observe_s : c->opts.wait_s;
    c->end_ms = coaps_client_now_ms(c->cl) + (uint64_t)secs * 1000u;
    c->done = false;
    c->got_response = false;
    c->exit_code = 1;
    c->last_activity_ms = coaps_client_now_ms(c->cl);
    coaps_status st = coaps_client_request(c->cl, &req, &c->req_id);
    if (st != COAPS_OK) {
        fprintf(stderr, PROG ": cannot send the request: %s\n", coaps_status_str(st));
        c->stopped = true;
        return 1;
    }
    return client_wait(c);
}

/* --repeat over coaps://: a request without any answer (not even an
 * error) means the server may have lost us: our address changed under a
 * NAT without a Connection ID, or it restarted. Start the session again,
 * resuming it (one round trip), and send the request once more. 0 when
 * the session is up again. */
static int client_recover(struct client *c)
{
    char err[256] = "";
    fprintf(stderr, PROG ": no answer on the DTLS session: starting it again\n");
    if (coaps_client_rehandshake(c->cl, c->opts.wait_s * 1000u, err, sizeof err) == COAPS_OK)
        return 0;
    fprintf(stderr, PROG ": DTLS handshake failed: %s\n", err);
    c->stopped = true;
    return 1;
}

/* The request, --repeat times over the one session. */
static int client_repeat(struct client *c)
{
    uint32_t answered = 0, sent = 0;
    int rc = 0;
    for (uint32_t i = 0; i < c->opts.repeat && !c->stopped; i++) {
        if (i > 0 && client_pause(c, c->opts.interval_ms) != 0)
            break;
        sent++;
        int one = client_exchange(c);
        if (one == 1 && !c->got_response && !c->stopped && c->opts.repeat > 1 &&
            c->uri.scheme == COAPS_URI_COAPS && client_recover(c) == 0) {
            sent++;
            one = client_exchange(c);
        }
        if (one == 0)
            answered++;
        else if (rc == 0 || one == 2)
            rc = one;
    }
    if (c->opts.repeat > 1 && c->log_level >= 6)
        fprintf(stderr, PROG ": info: %u of %u requests answered with 2.xx (%u sent)\n",
                (unsigned)answered, (unsigned)c->opts.repeat, (unsigned)sent);
    return answered == c->opts.repeat ? 0 : rc ? rc : 1;
}

static int client_run(struct client *c)
{
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
        rc = client_connect(c, &c->server);
    if (rc == 0 && c->uri.scheme == COAPS_URI_COAPS)
        rc = client_handshake(c);
    if (rc)
        return rc;
    return client_repeat(c);
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
