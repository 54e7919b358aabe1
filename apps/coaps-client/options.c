/* options.c - coaps-client's flags and the request they describe. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " PROG " [-m method] [-e data | -f file] [-t type] [-A type] [-s seconds]\n"
            "                    [-b [num,]size] [-N] [-T token] [-B seconds] [-K seconds] [-o file]\n"
            "                    [-v level] [-k key -u identity] [-c certfile] [-j keyfile]\n"
            "                    [-C cafile] [--rpk-trust file] [--cid LEN] [--session FILE]\n"
            "                    [--no-tickets]\n"
            "                    [--repeat N [--interval MS]] URI\n"
            "  URI            coap://host[:port]/path?query (host: name, IPv4 or [IPv6]), or\n"
            "                 coaps://... (CoAP over DTLS 1.2, default port 5684; needs -k and -u)\n"
            "  -k key         coaps:// pre-shared key: text, or 0x + hex\n"
            "  -u identity    coaps:// PSK identity (up to 128 bytes)\n"
            "  -c certfile    coaps:// our PEM certificate chain (for client authentication)\n"
            "  -j keyfile     coaps:// our PEM EC P-256 private key (default: in certfile)\n"
            "  -C cafile      coaps:// PEM CAs the server's certificate must chain to\n"
            "  --rpk-trust f  coaps:// PEM public keys of servers accepted as raw public keys\n"
            "  --cid LEN      coaps:// offer a Connection ID (RFC 9146): the session survives\n"
            "                 our address changing (NAT rebinding); LEN 0-16 is the length of\n"
            "                 the CID the server puts in its records to us (0: none needed)\n"
            "  --session FILE coaps:// resume the session saved in FILE (one round trip, no\n"
            "                 key exchange, if the server still knows it) and save each new\n"
            "                 one there (mode 0600: it holds the session's master secret);\n"
            "                 with a session ticket (RFC 5077) if the server gives one, which\n"
            "                 resumes even where the server keeps no sessions\n"
            "  --no-tickets   coaps:// neither ask for nor offer session tickets\n"
            "  -m method      get|put|post|delete|fetch|patch|ipatch (default get)\n"
            "  -e data        payload given on the command line\n"
            "  -f file        payload read from file ('-' for stdin)\n"
            "  -t type        Content-Format of the payload: a number or a name (json, text, cbor, ...)\n"
            "  -A type        Accept: the Content-Format wanted in the response\n"
            "  -s seconds     observe the resource for this long (RFC 7641)\n"
            "  -b [num,]size  block size 16..1024 (power of two) for block-wise transfer;\n"
            "                 get/fetch: start the response at block num (default 0)\n"
            "  -N             send a non-confirmable (NON) request\n"
            "  -T token       token: up to 8 bytes of text, or 0x + up to 16 hex digits\n"
            "  -B seconds     give up after waiting this long (default 90)\n"
            "  -K seconds     send a CoAP ping after this long without traffic (keep-alive\n"
            "                 for NAT bindings; default 0 = none)\n"
            "  -o file        write the response payload to file instead of stdout\n"
            "  -v level       log level 0-7 or emerg..debug (default 4 = warning)\n"
            "  --repeat N     send the request N times over one session (one handshake),\n"
            "                 one response per line; -B applies to each (default 1)\n"
            "  --interval MS  pause MS milliseconds after each response (default 0)\n"
            "  -h             this help\n"
            "  SSLKEYLOGFILE=F (environment) append DTLS secrets to F for Wireshark\n");
}

/* Long-only options (no libcoap short letter free). */
enum { OPT_RPK_TRUST = 256, OPT_REPEAT, OPT_INTERVAL, OPT_CID, OPT_SESSION, OPT_NO_TICKETS };

static int bad_flag(char flag, const char *value, const char *what)
{
    fprintf(stderr, PROG ": -%c '%s': %s (see " PROG " -h)\n", flag, value, what);
    return 2;
}

static int bad_long(const char *name, const char *value, const char *what)
{
    fprintf(stderr, PROG ": --%s '%s': %s (see " PROG " -h)\n", name, value, what);
    return 2;
}

/* --repeat, --interval, --cid: a number in [min, max] */
static int parse_long_uint(const char *name, const char *s, uint64_t min, uint64_t max,
                           uint32_t *out)
{
    uint64_t v;
    if (!cli_parse_uint(s, min, max, &v)) {
        char what[64];
        snprintf(what, sizeof what, "not a number %llu-%llu", (unsigned long long)min,
                 (unsigned long long)max);
        return bad_long(name, s, what);
    }
    *out = (uint32_t)v;
    return 0;
}

/* -f: the whole file (or stdin), at most CLIENT_BODY_MAX bytes. */
static int read_payload_file(struct client *c, const char *path)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL)
        return bad_flag('f', path, strerror(errno));
    free(c->payload);
    c->payload = malloc(CLIENT_BODY_MAX + 1);
    if (c->payload == NULL) {
        if (f != stdin)
            fclose(f);
        fprintf(stderr, PROG ": out of memory\n");
        return 2;
    }
    size_t n = fread(c->payload, 1, CLIENT_BODY_MAX + 1, f);
    bool failed = ferror(f) != 0;
    if (f != stdin)
        fclose(f);
    if (failed)
        return bad_flag('f', path, "read error");
    if (n > CLIENT_BODY_MAX)
        return bad_flag('f', path, "file larger than 65536 bytes");
    c->payload_len = n;
    return 0;
}

static int set_payload_text(struct client *c, const char *text)
{
    size_t n = strlen(text);
    if (n > CLIENT_BODY_MAX)
        return bad_flag('e', "...", "payload larger than 65536 bytes");
    free(c->payload);
    c->payload = malloc(n ? n : 1);
    if (c->payload == NULL) {
        fprintf(stderr, PROG ": out of memory\n");
        return 2;
    }
    memcpy(c->payload, text, n);
    c->payload_len = n;
    return 0;
}

static int parse_seconds(char flag, const char *s, uint32_t *out)
{
    uint64_t v;
    if (!cli_parse_uint(s, 1, CLIENT_MAX_SECONDS, &v))
        return bad_flag(flag, s, "not a number of seconds 1-86400");
    *out = (uint32_t)v;
    return 0;
}

static int parse_one(struct client *c, int opt, const char *arg)
{
    struct client_opts *o = &c->opts;
    uint16_t cf;
    switch (opt) {
    case 'm':
        return cli_parse_method(arg, &o->method)
                   ? 0 : bad_flag('m', arg, "not one of get|put|post|delete|fetch|patch|ipatch");
    case 'e':
        return set_payload_text(c, arg);
    case 'f':
        return read_payload_file(c, arg);
    case 't':
    case 'A':
        if (!cli_parse_content_format(arg, &cf))
            return bad_flag((char)opt, arg, "not a Content-Format number or known name");
        *(opt == 't' ? &o->content_format : &o->accept) = cf;
        return 0;
    case 's':
        return parse_seconds('s', arg, &o->observe_s);
    case 'B':
        return parse_seconds('B', arg, &o->wait_s);
    case 'K': {
        uint64_t v;
        if (!cli_parse_uint(arg, 0, CLIENT_MAX_SECONDS, &v))
            return bad_flag('K', arg, "not a number of seconds 0-86400");
        o->keepalive_s = (uint32_t)v;
        return 0;
    }
    case 'b':
        if (!cli_parse_block(arg, &o->block_num, &o->block_size))
            return bad_flag('b', arg, "not [num,]size with size 16..1024, a power of two");
        return 0;
    case 'N':
        o->non = true;
        return 0;
    case 'o':
        o->out_path = arg;
        return 0;
    case 'T':
        return cli_parse_token(arg, o->token, &o->token_len)
                   ? 0 : bad_flag('T', arg, "not a token of 1-8 bytes (text, or 0x and hex)");
    case 'v':
        return cli_parse_log_level(arg, &c->log_level)
                   ? 0 : bad_flag('v', arg, "not a log level 0-7 or emerg..debug");
    case 'k': {
        const char *why = NULL;
        if (coaps_dtls_psk_from_text(arg, strlen(arg), o->psk_key, &o->psk_key_len, &why) != COAPS_OK)
            return bad_flag('k', arg, why);
        o->have_key = true;
        return 0;
    }
    case 'c':
    case 'j':
    case 'C':
    case OPT_RPK_TRUST:
        o->pki_given = cli_pki_file(opt == OPT_RPK_TRUST ? 'R' : opt, arg, &o->pki_files);
        return 0;
    case OPT_CID: {
        uint32_t len;
        if (parse_long_uint("cid", arg, 0, COAPS_DTLS_CID_MAX, &len))
            return 2;
        o->cid = true;
        o->cid_len = (uint8_t)len;
        return 0;
    }
    case OPT_SESSION:
        if (!*arg)
            return bad_long("session", arg, "an empty file name");
        o->session_file = arg;
        return 0;
    case OPT_NO_TICKETS:
        o->no_tickets = true;
        return 0;
    case OPT_REPEAT:
        return parse_long_uint("repeat", arg, 1, CLIENT_MAX_REPEAT, &o->repeat);
    case OPT_INTERVAL:
        return parse_long_uint("interval", arg, 0, CLIENT_MAX_INTERVAL_MS, &o->interval_ms);
    case 'u':
        if (strlen(arg) == 0 || strlen(arg) > COAPS_DTLS_PSK_IDENTITY_MAX)
            return bad_flag('u', arg, "identity must be 1..128 bytes (RFC 4279 5.3)");
        memcpy(o->psk_identity, arg, strlen(arg));
        o->psk_identity_len = strlen(arg);
        o->have_identity = true;
        return 0;
    default:
        return 2;
    }
}

static int parse_uri(struct client *c, const char *text)
{
    const char *why = NULL;
    coaps_status st = coaps_uri_parse(text, &c->uri, &why);
    if (st != COAPS_OK) {
        fprintf(stderr, PROG ": bad URI '%s': %s\n", text, why ? why : coaps_status_str(st));
        return 2;
    }
    const struct client_opts *o = &c->opts;
    if (c->uri.scheme != COAPS_URI_COAPS && o->cid) {
        fprintf(stderr, PROG ": --cid needs a coaps:// URI (a Connection ID is DTLS's)\n");
        return 2;
    }
    if (c->uri.scheme != COAPS_URI_COAPS && o->session_file) {
        fprintf(stderr, PROG ": --session needs a coaps:// URI (it holds a DTLS session)\n");
        return 2;
    }
    if (c->uri.scheme == COAPS_URI_COAPS && !o->have_key && !o->pki_given) {
        fprintf(stderr, PROG ": coaps:// needs credentials: -k KEY -u IDENTITY, or -C/--rpk-trust\n");
        return 2;
    }
    /* libcoap's coap-client refuses a PSK without an identity too
     * ("Identity (PSK) not defined"): there is no standard default. */
    if (c->uri.scheme == COAPS_URI_COAPS && o->have_key && !o->have_identity) {
        fprintf(stderr, PROG ": coaps:// with -k needs -u IDENTITY\n");
        return 2;
    }
    return 0;
}

int client_parse_opts(struct client *c, int argc, char **argv, bool *help)
{
    struct client_opts *o = &c->opts;
    o->method = COAPS_COAP_GET;
    o->content_format = COAPS_COAP_CF_NONE;
    o->accept = COAPS_COAP_CF_NONE;
    o->wait_s = CLIENT_DEFAULT_WAIT_S;
    o->repeat = 1;
    c->log_level = 4; /* warning, the runtime's default */
    opterr = 0;
    static const struct option longs[] = {
        {"rpk-trust", required_argument, NULL, OPT_RPK_TRUST},
        {"repeat", required_argument, NULL, OPT_REPEAT},
        {"interval", required_argument, NULL, OPT_INTERVAL},
        {"cid", required_argument, NULL, OPT_CID},
        {"session", required_argument, NULL, OPT_SESSION},
        {"no-tickets", no_argument, NULL, OPT_NO_TICKETS},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, ":m:e:f:t:A:s:b:NT:B:K:o:v:k:u:c:j:C:h", longs, NULL)) !=
           -1) {
        if (opt == 'h') {
            usage(stdout);
            *help = true;
            return 0;
        }
        if (opt == ':') {
            if (optopt >= OPT_RPK_TRUST) /* a long option: say it as given */
                fprintf(stderr, PROG ": option %s needs a value (see " PROG " -h)\n",
                        argv[optind - 1]);
            else
                fprintf(stderr, PROG ": option -%c needs a value (see " PROG " -h)\n", optopt);
            return 2;
        }
        if (opt == '?') {
            if (optopt)
                fprintf(stderr, PROG ": unknown option -%c (see " PROG " -h)\n", optopt);
            else
                fprintf(stderr, PROG ": unknown option '%s' (see " PROG " -h)\n",
                        argv[optind - 1]);
            return 2;
        }
        int rc = parse_one(c, opt, optarg);
        if (rc)
            return rc;
    }
    if (optind != argc - 1) {
        fprintf(stderr, PROG ": %s (see " PROG " -h)\n",
                optind >= argc ? "missing URI" : "more than one URI");
        return 2;
    }
    /* RFC 7959 2.4: a start block is a Block2 number, asked for by a
     * GET or FETCH; notifications always start at block 0 (3.4) */
    if (o->block_num && o->method != COAPS_COAP_GET && o->method != COAPS_COAP_FETCH) {
        fprintf(stderr, PROG ": -b num,size: a start block needs -m get or fetch\n");
        return 2;
    }
    if (o->block_num && o->observe_s) {
        fprintf(stderr, PROG ": -b num,size: a start block cannot be combined with -s\n");
        return 2;
    }
    /* An observation already brings every new state over the one session;
     * repeating it would register the same observer again. */
    if (o->repeat > 1 && o->observe_s) {
        fprintf(stderr, PROG ": --repeat cannot be combined with -s (an observation is one "
                        "request)\n");
        return 2;
    }
    o->uri = argv[optind];
    return parse_uri(c, o->uri);
}

/* RFC 7252 6.4 steps 8-9: one option per decoded segment, whatever bytes
 * it holds ('/', '&', NUL, or none). */
static void uri_segments(const coaps_uri *u, const coaps_uri_seg *segs, size_t n,
                         coaps_coap_segment *out)
{
    for (size_t i = 0; i < n; i++) {
        out[i].data = coaps_uri_seg_ptr(u, segs[i]);
        out[i].len = segs[i].len;
    }
}

int client_build_request(struct client *c, const coaps_peer *server,
                         coaps_coap_client_request *req)
{
    const struct client_opts *o = &c->opts;
    coaps_uri *u = &c->uri;
    coaps_coap_client_request_init(req);
    req->peer = *server;
    req->method = o->method;
    req->confirmable = !o->non;
    /* RFC 7252 6.4 step 5: Uri-Host only for a host name, not a literal. */
    req->uri_host = u->host_is_literal ? NULL : u->host;
    uri_segments(u, u->path, u->n_path, c->path);
    uri_segments(u, u->query, u->n_query, c->query);
    req->path_segs = c->path;
    req->path_count = u->n_path;
    req->query_items = c->query;
    req->query_count = u->n_query;
    req->content_format = o->content_format;
    req->accept = o->accept;
    req->payload = c->payload;
    req->payload_len = c->payload_len;
    if (o->token_len) {
        req->token = o->token;
        req->token_len = (uint8_t)o->token_len;
    }
    req->observe = o->observe_s > 0;
    req->block_size = o->block_size;
    req->block2_start = o->block_num;
    return 0;
}

const char *client_code_name(uint8_t code)
{
    /* RFC 7252 12.1.2, RFC 7959 2.9, RFC 8132 */
    static const struct {
        uint8_t code;
        const char *name;
    } names[] = {
        {COAPS_COAP_CREATED, "Created"},
        {COAPS_COAP_DELETED, "Deleted"},
        {COAPS_COAP_VALID, "Valid"},
        {COAPS_COAP_CHANGED, "Changed"},
        {COAPS_COAP_CONTENT, "Content"},
        {COAPS_COAP_CONTINUE, "Continue"},
        {COAPS_COAP_BAD_REQUEST, "Bad Request"},
        {COAPS_COAP_UNAUTHORIZED, "Unauthorized"},
        {COAPS_COAP_BAD_OPTION, "Bad Option"},
        {COAPS_COAP_FORBIDDEN, "Forbidden"},
        {COAPS_COAP_NOT_FOUND, "Not Found"},
        {COAPS_COAP_METHOD_NOT_ALLOWED, "Method Not Allowed"},
        {COAPS_COAP_NOT_ACCEPTABLE, "Not Acceptable"},
        {COAPS_COAP_REQUEST_ENTITY_INCOMPLETE, "Request Entity Incomplete"},
        {COAPS_COAP_CONFLICT, "Conflict"},
        {COAPS_COAP_PRECONDITION_FAILED, "Precondition Failed"},
        {COAPS_COAP_REQUEST_ENTITY_TOO_LARGE, "Request Entity Too Large"},
        {COAPS_COAP_UNSUPPORTED_CONTENT_FORMAT, "Unsupported Content-Format"},
        {COAPS_COAP_UNPROCESSABLE_ENTITY, "Unprocessable Entity"},
        {COAPS_COAP_INTERNAL_SERVER_ERROR, "Internal Server Error"},
        {COAPS_COAP_NOT_IMPLEMENTED, "Not Implemented"},
        {COAPS_COAP_BAD_GATEWAY, "Bad Gateway"},
        {COAPS_COAP_SERVICE_UNAVAILABLE, "Service Unavailable"},
        {COAPS_COAP_GATEWAY_TIMEOUT, "Gateway Timeout"},
        {COAPS_COAP_PROXYING_NOT_SUPPORTED, "Proxying Not Supported"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].code == code)
            return names[i].name;
    return "";
}
