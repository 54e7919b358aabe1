/* options.c - coaps-bench's flags (see usage()). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cli/cli.h"

/* RFC 7252 6.1 / 6.2: default ports of coap:// and coaps://. */
#define BENCH_PORT_COAP 5683
#define BENCH_PORT_COAPS 5684
/* Default credentials of the demo light (identity hint "CoAP"). */
#define BENCH_DEFAULT_IDENTITY "CoAP"
#define BENCH_DEFAULT_KEY "esp32c3_key"
/* Bound of --ack-timeout: a minute per try is already absurd. */
#define BENCH_ACK_TIMEOUT_MAX_MS 60000

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " BENCH_PROG " MODE [--scheme coap|coaps] [--host H] [--port P]\n"
            "           [--sessions S] [--window W] [--duration SEC] [--path PATH]\n"
            "           [--psk-identity ID] [--psk-key KEY] [--suite NAME]\n"
            "           [--ca FILE | --rpk-trust FILE]\n"
            "           [--ack-timeout MS] [--server-pid PID] [--no-gso] [--fleet] [--cid LEN]\n"
            "           [--resume] [--tickets] [--ignore-icmp]\n"
            "           [--source-addrs N] [--source-first K]\n"
            "           [--json | --text]\n"
            "MODE:\n"
            "  requests    S sessions with W outstanding CON GETs each, for SEC seconds\n"
            "  handshakes  S slots looping: new DTLS session, one GET, close_notify (coaps)\n"
            "  idle        S sessions set up (handshake + one GET), held for SEC seconds\n"
            "  --scheme         coap (default) or coaps (DTLS 1.2: PSK, or ECDHE_ECDSA: --suite)\n"
            "  --host           server address or name (default 127.0.0.1)\n"
            "  --port           server port (default 5683 coap, 5684 coaps)\n"
            "  --sessions       sessions = sockets = source ports, 1-%d (default 1)\n"
            "  --window         outstanding requests per session, 1-%d (default 1)\n"
            "  --duration       seconds, 1-%d (default 5)\n"
            "  --path           resource path (default light)\n"
            "  --psk-identity   PSK identity (default " BENCH_DEFAULT_IDENTITY ")\n"
            "  --psk-key        PSK as text (default " BENCH_DEFAULT_KEY ")\n"
            "  --suite          cipher suite, IANA or OpenSSL name\n"
            "                   (default TLS_PSK_WITH_AES_128_CCM_8); a TLS_ECDHE_ECDSA_*\n"
            "                   suite needs --ca or --rpk-trust\n"
            "  -C, --ca         PEM CAs the server's certificate must chain to (ECDHE_ECDSA;\n"
            "                   the name checked is --host)\n"
            "  --rpk-trust      PEM public keys of servers accepted as raw public keys\n"
            "                   (ECDHE_ECDSA, RFC 7250)\n"
            "  --ack-timeout    first CON retransmission timeout in ms (default %d);\n"
            "                   %d retransmissions, doubling, then a timeout is counted\n"
            "  --server-pid     sample this process's CPU time and VmRSS (/proc) around\n"
            "                   the measured window\n"
            "  --no-gso         one system-call trip per datagram: no UDP_SEGMENT sends\n"
            "                   of a session's burst, no UDP_GRO receives\n"
            "  --fleet          the load of a device fleet: each session one outstanding\n"
            "                   CON (NSTART = 1: --window 1), one datagram per system\n"
            "                   call (--no-gso); sessions = devices\n"
            "  --cid LEN        coaps:// sessions offer a Connection ID (RFC 9146): the\n"
            "                   server puts LEN bytes (0-%d; 0 = none) of it in records\n"
            "                   to us, we put the server's in records to it\n"
            "  --resume         coaps:// sessions after the first resume the last session\n"
            "                   made (abbreviated handshake, RFC 5246 7.3)\n"
            "  --tickets        coaps:// ask for session tickets (RFC 5077): with --resume\n"
            "                   the ticket resumes (a server without session cache too)\n"
            "  --ignore-icmp    a refused datagram (ICMP port unreachable) does not end a\n"
            "                   session: its request is retransmitted (a server restarting\n"
            "                   with durable sessions, bench/state-restart)\n"
            "  --source-addrs N spread the sessions over N source addresses, 127.0.0.K ..\n"
            "                   127.0.0.(K+N-1) (IPv4 loopback server; 28k ports each)\n"
            "  --source-first K the first of them (2-254, default 2)\n"
            "  --json           one JSON line on stdout (default)\n"
            "  --text           a human-readable summary instead\n"
            "  -h, --help       this help\n",
            BENCH_SESSIONS_MAX, BENCH_WINDOW_MAX, BENCH_DURATION_MAX_S, BENCH_ACK_TIMEOUT_MS,
            BENCH_MAX_RETRANSMIT, COAPS_DTLS_CID_MAX);
}

static int bad_flag(const char *flag, const char *value, const char *what)
{
    fprintf(stderr, BENCH_PROG ": %s '%s': %s (see " BENCH_PROG " -h)\n", flag, value, what);
    return 2;
}

/* Text that goes into the JSON line unescaped: printable ASCII without
 * quote or backslash. */
static bool plain_text(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n] != '\0'; n++)
        if (s[n] < 0x21 || s[n] > 0x7e || s[n] == '"' || s[n] == '\\')
            return false;
    return n <= max;
}

static bool parse_mode(const char *s, enum bench_mode *m)
{
    static const char *const names[] = {"requests", "handshakes", "idle"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i]) == 0) {
            *m = (enum bench_mode)i;
            return true;
        }
    return false;
}

enum {
    OPT_HOST = 256, OPT_PORT, OPT_SCHEME, OPT_SESSIONS, OPT_WINDOW, OPT_DURATION,
    OPT_PSK_IDENTITY, OPT_PSK_KEY, OPT_SUITE, OPT_PATH, OPT_JSON, OPT_TEXT, OPT_SERVER_PID,
    OPT_ACK_TIMEOUT, OPT_NO_GSO, OPT_RPK_TRUST, OPT_FLEET, OPT_CID, OPT_RESUME, OPT_TICKETS,
    OPT_IGNORE_ICMP, OPT_SOURCE_ADDRS, OPT_SOURCE_FIRST,
};

static const struct option longs[] = {
    {"host", required_argument, NULL, OPT_HOST},
    {"port", required_argument, NULL, OPT_PORT},
    {"scheme", required_argument, NULL, OPT_SCHEME},
    {"sessions", required_argument, NULL, OPT_SESSIONS},
    {"window", required_argument, NULL, OPT_WINDOW},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"psk-identity", required_argument, NULL, OPT_PSK_IDENTITY},
    {"psk-key", required_argument, NULL, OPT_PSK_KEY},
    {"suite", required_argument, NULL, OPT_SUITE},
    {"path", required_argument, NULL, OPT_PATH},
    {"json", no_argument, NULL, OPT_JSON},
    {"text", no_argument, NULL, OPT_TEXT},
    {"server-pid", required_argument, NULL, OPT_SERVER_PID},
    {"ack-timeout", required_argument, NULL, OPT_ACK_TIMEOUT},
    {"no-gso", no_argument, NULL, OPT_NO_GSO},
    {"fleet", no_argument, NULL, OPT_FLEET},
    {"cid", required_argument, NULL, OPT_CID},
    {"resume", no_argument, NULL, OPT_RESUME},
    {"tickets", no_argument, NULL, OPT_TICKETS},
    {"ignore-icmp", no_argument, NULL, OPT_IGNORE_ICMP},
    {"source-addrs", required_argument, NULL, OPT_SOURCE_ADDRS},
    {"source-first", required_argument, NULL, OPT_SOURCE_FIRST},
    {"ca", required_argument, NULL, 'C'},
    {"rpk-trust", required_argument, NULL, OPT_RPK_TRUST},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int parse_value(int c, const char *arg, struct bench_opts *o)
{
    uint64_t v;
    switch (c) {
    case OPT_HOST:
        if (!plain_text(arg, BENCH_PATH_MAX) || arg[0] == '\0')
            return bad_flag("--host", arg, "not a host name or address");
        o->host = arg;
        return 0;
    case OPT_PORT:
        if (!cli_parse_port(arg, &o->port) || o->port == 0)
            return bad_flag("--port", arg, "not a port number 1-65535");
        return 0;
    case OPT_SCHEME:
        if (strcmp(arg, "coap") == 0)
            o->scheme = BENCH_COAP;
        else if (strcmp(arg, "coaps") == 0)
            o->scheme = BENCH_COAPS;
        else
            return bad_flag("--scheme", arg, "not coap or coaps");
        return 0;
    case OPT_SESSIONS:
        if (!cli_parse_uint(arg, 1, BENCH_SESSIONS_MAX, &v))
            return bad_flag("--sessions", arg, "not a number 1-100000");
        o->sessions = (uint32_t)v;
        return 0;
    case OPT_WINDOW:
        if (!cli_parse_uint(arg, 1, BENCH_WINDOW_MAX, &v))
            return bad_flag("--window", arg, "not a number 1-256");
        o->window = (uint32_t)v;
        return 0;
    case OPT_DURATION:
        if (!cli_parse_uint(arg, 1, BENCH_DURATION_MAX_S, &v))
            return bad_flag("--duration", arg, "not a number of seconds 1-3600");
        o->duration_s = (uint32_t)v;
        return 0;
    case OPT_ACK_TIMEOUT:
        if (!cli_parse_uint(arg, 1, BENCH_ACK_TIMEOUT_MAX_MS, &v))
            return bad_flag("--ack-timeout", arg, "not a number of milliseconds 1-60000");
        o->ack_timeout_ms = (uint32_t)v;
        return 0;
    case OPT_PSK_IDENTITY:
        if (arg[0] == '\0' || strlen(arg) > COAPS_DTLS_PSK_IDENTITY_MAX)
            return bad_flag("--psk-identity", arg, "must be 1-128 bytes");
        o->psk_identity = arg;
        return 0;
    case OPT_PSK_KEY:
        if (arg[0] == '\0' || strlen(arg) > COAPS_DTLS_PSK_KEY_MAX)
            return bad_flag("--psk-key", "...", "must be 1-64 bytes");
        o->psk_key = arg;
        return 0;
    case OPT_SUITE:
        o->suite = coaps_dtls_suite_by_name(arg);
        if (o->suite == 0)
            return bad_flag("--suite", arg, "not a cipher suite we implement");
        return 0;
    case OPT_PATH:
        if (arg[0] == '/')
            arg++;
        if (!plain_text(arg, BENCH_PATH_MAX) || arg[0] == '\0')
            return bad_flag("--path", arg, "not a path of 1-255 printable characters");
        o->path = arg;
        return 0;
    case 'C':
    case OPT_RPK_TRUST:
        if (arg[0] == '\0')
            return bad_flag(c == 'C' ? "--ca" : "--rpk-trust", arg, "needs a file name");
        /* A client that pins the server's key offers RPK for the server's
         * certificate only (RFC 7250 4); it has no key of its own to send. */
        if (c == 'C')
            o->pki.ca_file = arg;
        else
            o->pki.rpk_trust_file = arg;
        o->pki_given = true;
        return 0;
    case OPT_CID:
        if (!cli_parse_uint(arg, 0, COAPS_DTLS_CID_MAX, &v))
            return bad_flag("--cid", arg, "not a Connection ID length 0-16");
        o->cid = true;
        o->cid_len = (uint8_t)v;
        return 0;
    case OPT_RESUME:
        o->resume = true;
        return 0;
    case OPT_TICKETS:
        o->tickets = true;
        return 0;
    case OPT_IGNORE_ICMP:
        o->ignore_icmp = true;
        return 0;
    case OPT_SOURCE_ADDRS:
        if (!cli_parse_uint(arg, 1, BENCH_SOURCE_ADDRS_MAX, &v))
            return bad_flag("--source-addrs", arg, "not a number 1-253");
        o->source_addrs = v;
        return 0;
    case OPT_SOURCE_FIRST:
        if (!cli_parse_uint(arg, 2, 254, &v))
            return bad_flag("--source-first", arg, "not a number 2-254");
        o->source_first = v;
        return 0;
    case OPT_SERVER_PID:
        if (!cli_parse_uint(arg, 1, INT32_MAX, &v))
            return bad_flag("--server-pid", arg, "not a process id");
        o->server_pid = (int)v;
        return 0;
    default:
        return 2;
    }
}

/* IANA names say the key exchange: TLS_ECDHE_ECDSA_WITH_... */
static bool suite_is_ecdhe(uint16_t suite)
{
    static const char prefix[] = "TLS_ECDHE_ECDSA_";
    const char *name = coaps_dtls_suite_name(suite);
    return name != NULL && strncmp(name, prefix, sizeof prefix - 1) == 0;
}

/* A suite and the credentials it needs go together: an ECDHE_ECDSA suite
 * without a way to check the server would fail every handshake, and
 * --ca with a PSK suite would be silently ignored. */
static int check_credentials(struct bench_opts *o)
{
    o->ecdhe = suite_is_ecdhe(o->suite);
    if (o->ecdhe && !o->pki_given) {
        fprintf(stderr, BENCH_PROG ": --suite %s needs --ca or --rpk-trust\n",
                coaps_dtls_suite_name(o->suite));
        return 2;
    }
    if (!o->ecdhe && o->pki_given) {
        fprintf(stderr, BENCH_PROG ": --ca/--rpk-trust need a TLS_ECDHE_ECDSA_* --suite\n");
        return 2;
    }
    return 0;
}

static int check_combination(struct bench_opts *o)
{
    if (o->source_first == 0)
        o->source_first = 2;
    if (o->source_addrs > 0 && o->source_first + o->source_addrs - 1 > 254) {
        fprintf(stderr, BENCH_PROG ": --source-first %u --source-addrs %u goes past 127.0.0.254\n",
                o->source_first, o->source_addrs);
        return 2;
    }
    if (o->fleet) {
        if (o->window > 1) {
            fprintf(stderr, BENCH_PROG ": --fleet is one outstanding request per session: "
                            "no --window above 1\n");
            return 2;
        }
        o->gso = false; /* a device sends one datagram per system call */
    }
    if (o->tickets && o->scheme != BENCH_COAPS) {
        fprintf(stderr, BENCH_PROG ": --tickets needs --scheme coaps (tickets are DTLS's)\n");
        return 2;
    }
    if (o->resume && o->scheme != BENCH_COAPS) {
        fprintf(stderr, BENCH_PROG ": --resume needs --scheme coaps (it resumes DTLS sessions)\n");
        return 2;
    }
    if (o->cid && o->scheme != BENCH_COAPS) {
        fprintf(stderr, BENCH_PROG ": --cid needs --scheme coaps (a Connection ID is DTLS's)\n");
        return 2;
    }
    if (o->mode == BENCH_HANDSHAKES && o->scheme != BENCH_COAPS) {
        fprintf(stderr, BENCH_PROG ": handshakes needs --scheme coaps (coap:// has none)\n");
        return 2;
    }
    if (o->scheme == BENCH_COAPS && check_credentials(o) != 0)
        return 2;
    if ((uint64_t)o->sessions * o->window > BENCH_SLOTS_MAX) {
        fprintf(stderr, BENCH_PROG ": --sessions x --window is more than %u outstanding requests\n",
                BENCH_SLOTS_MAX);
        return 2;
    }
    if (o->port == 0)
        o->port = o->scheme == BENCH_COAPS ? BENCH_PORT_COAPS : BENCH_PORT_COAP;
    if (o->server_pid > 0) {
        struct bench_proc_sample s;
        bench_proc_sample(o->server_pid, &s);
        if (!s.ok) {
            fprintf(stderr, BENCH_PROG ": --server-pid '%d': no such process in /proc\n",
                    o->server_pid);
            return 2;
        }
    }
    return 0;
}

int bench_opts_parse(int argc, char **argv, struct bench_opts *o)
{
    memset(o, 0, sizeof *o);
    o->host = "127.0.0.1";
    o->sessions = 1;
    o->window = 1;
    o->duration_s = 5;
    o->ack_timeout_ms = BENCH_ACK_TIMEOUT_MS;
    o->path = "light";
    o->psk_identity = BENCH_DEFAULT_IDENTITY;
    o->psk_key = BENCH_DEFAULT_KEY;
    o->suite = COAPS_DTLS_PSK_AES_128_CCM_8;
    o->json = true;
    o->gso = true;

    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":hC:", longs, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return 1;
        }
        if (c == ':') {
            fprintf(stderr, BENCH_PROG ": option %s needs a value (see " BENCH_PROG " -h)\n",
                    argv[optind - 1]);
            return 2;
        }
        if (c == '?') {
            fprintf(stderr, BENCH_PROG ": unknown option '%s' (see " BENCH_PROG " -h)\n",
                    argv[optind - 1]);
            return 2;
        }
        if (c == OPT_JSON || c == OPT_TEXT) {
            o->json = c == OPT_JSON;
            continue;
        }
        if (c == OPT_NO_GSO) {
            o->gso = false;
            continue;
        }
        if (c == OPT_FLEET) {
            o->fleet = true;
            continue;
        }
        int rc = parse_value(c, optarg, o);
        if (rc != 0)
            return rc;
    }
    if (optind >= argc) {
        fprintf(stderr, BENCH_PROG ": missing MODE: requests, handshakes or idle (see "
                        BENCH_PROG " -h)\n");
        return 2;
    }
    if (!parse_mode(argv[optind], &o->mode)) {
        fprintf(stderr, BENCH_PROG ": unknown mode '%s': requests, handshakes or idle\n",
                argv[optind]);
        return 2;
    }
    if (optind + 1 < argc) {
        fprintf(stderr, BENCH_PROG ": unexpected argument '%s' (see " BENCH_PROG " -h)\n",
                argv[optind + 1]);
        return 2;
    }
    return check_combination(o);
}
