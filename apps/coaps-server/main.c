/*
 * coaps-server - the reference smart-light device over CoAP (RFC 7252).
 *
 * Flags follow libcoap's coap-server where they overlap (-A, -p, -v).
 * See usage() for the list. The program is the edge: it owns the sockets,
 * the event loop and the memory of the sans-IO CoAP endpoint.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coaps/coap.h"
#include "coaps/dtls.h"
#include "coaps/server.h"
#include "light/light.h"
#include "cli/cli.h"
#include "server_app.h"
#include "test_resources.h"
#include "net/server_store.h"

/* RFC 7252 6.1: the default port of coap://. */
#define SERVER_DEFAULT_PORT 5683

/* Bound of --max-observers: the core keeps one registration per observer
 * and sizes the table from it; 4096 observers of one light is plenty. */
#define SERVER_MAX_OBSERVERS_LIMIT 4096

/* The reference device's PSK identity hint (RFC 4279 2); libcoap's
 * coap-server examples use "CoAP" too. */
#define SERVER_DEFAULT_HINT "CoAP"

/* Longest --idle-timeout: one day. */
#define SERVER_IDLE_TIMEOUT_MAX_S 86400

/* --rcvbuf bounds (the default, 4 MiB, is coaps_server_config_default's). */
#define SERVER_RCVBUF_MIN 4096
#define SERVER_RCVBUF_MAX (1024 * 1024 * 1024)

/* Peers whose recent Message IDs and replies are kept for deduplication
 * (--dedup-peers; RFC 7252 4.5, src/coap/dedup.c): 4,096 x 1.4 KiB = 6 MiB
 * at most, used as peers arrive. A duplicate is recognised as long as fewer
 * than this many other peers have sent a message since, at any rate. */
#define SERVER_DEFAULT_DEDUP_PEERS 4096
#define SERVER_DEDUP_PEERS_MAX 65534

/* Bounds of the coaps:// flags (src/net/dtls_server.h's limits). */
#define SERVER_MAX_SESSIONS_LIMIT 1048576
#define SERVER_MAX_HANDSHAKES_LIMIT 65536
#define SERVER_MAX_CERT_HANDSHAKES_LIMIT 4096

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " PROG " [-A address] [-p port] [-v level] [--max-observers N]\n"
            "                    [--coaps-port N] [--no-coap] [--no-coaps]\n"
            "                    [--psk IDENTITY:KEY]... [--psk-file FILE] [--psk-default KEY]\n"
            "                    [--hint TEXT] [--max-sessions N] [--max-handshakes N]\n"
            "                    [--max-cert-handshakes N] [--max-handshakes-per-host N]\n"
            "                    [--cold-after S]\n"
            "                    [--idle-timeout S] [-c certfile] [-j keyfile] [-C cafile]\n"
            "                    [--rpk-trust file] [--require-client-cert] [--cid LEN]\n"
            "                    [--session-cache N] [--no-tickets] [--ticket-key KEYFILE]\n"
            "                    [--state FILE --state-key KEYFILE] [--store URI]\n"
            "                    [--rcvbuf BYTES] [--dedup-peers N] [--workers N]\n"
            "                    [--cid-steer bpf|handoff|hash|misroute]\n"
            "                    [--test-resources] [-h]\n"
            "The reference smart light: GET/PUT/observe coap://HOST/light and\n"
            "coaps://HOST/light (CoAP over DTLS 1.2, RFC 7252 9.1) (JSON state).\n"
            "  -A address         bind to this address or host name (default: all, [::] dual stack)\n"
            "  -p port            UDP port for coap:// (default 5683; 0 = any free port)\n"
            "  --coaps-port N     UDP port for coaps:// (default: the coap:// port + 1)\n"
            "  --no-coap          do not serve coap:// (plain UDP)\n"
            "  --no-coaps         do not serve coaps:// (DTLS)\n"
            "  --psk ID:KEY       accept PSK identity ID with KEY (repeatable; ID ends at the\n"
            "                     first colon; KEY is text or 0x + hex; ID '*' = any identity)\n"
            "  --psk-file FILE    identities and keys, one 'identity,key' a line, # comments\n"
            "  --psk-default KEY  KEY for any identity not listed (like coap-server -k)\n"
            "  --hint TEXT        PSK identity hint sent to clients (default CoAP)\n"
            "  --max-sessions N   coaps:// sessions kept at once (default 10000)\n"
            "  --max-handshakes N coaps:// handshakes in progress at once (default 4096,\n"
            "                     2 KiB each; a full pool displaces a handshake without\n"
            "                     progress from the address holding the most)\n"
            "  --max-cert-handshakes N  of those, with a certificate (ECDHE-ECDSA) at once\n"
            "                     (default 64, 24.5 KiB each)\n"
            "  --max-handshakes-per-host N  of those, from one source host (IPv4 address,\n"
            "                     IPv6 /64) at once; past it the host's newest displaces its\n"
            "                     own oldest (default: a quarter of each worker's handshakes)\n"
            "  --idle-timeout S   close coaps:// sessions silent this long (default 300)\n"
            "  --cold-after S     coaps:// sessions silent this long give back their crypto\n"
            "                     contexts until their next record (default 30; 0: never)\n"
            "  -c certfile        PEM certificate chain (ECDHE-ECDSA suites; with or without PSK)\n"
            "  -j keyfile         PEM EC P-256 private key (default: in certfile; alone: RPK)\n"
            "  -C cafile          PEM CAs that client certificates must chain to\n"
            "  --rpk-trust file   PEM public keys of clients accepted as raw public keys\n"
            "  --require-client-cert  refuse clients without a certificate or key\n"
            "  --cid LEN          Connection ID (RFC 9146): clients that offer one send LEN\n"
            "                     bytes (0-16; 0: none towards us) and keep their session\n"
            "                     when their address changes (NAT rebinding)\n"
            "  --session-cache N  coaps:// sessions kept for resumption by session ID, one\n"
            "                     round trip, no key exchange (default: --max-sessions; 0: none)\n"
            "  --no-tickets       give no session tickets (RFC 5077; default: a client that\n"
            "                     asks gets one, and resumes with it while the server keeps\n"
            "                     nothing, even with --session-cache 0)\n"
            "  --ticket-key KEYFILE  the secret the ticket keys come from: 64 hex digits\n"
            "                     (openssl rand -hex 32 > KEYFILE); the same file on every\n"
            "                     node and across restarts keeps tickets valid (default:\n"
            "                     random per run); keys rotate hourly, tickets last 1-2 h\n");
    /* (two strings: one would pass the 4,095 bytes C99 promises) */
    fprintf(out,
            "  --state FILE       durable sessions: at SIGTERM/SIGINT save the coaps:// sessions\n"
            "                     and their Observe registrations to FILE, at start restore them\n"
            "                     (clients go on without a handshake; docs/sessions.md)\n"
            "  --state-key KEYFILE  the AES-256 key that seals FILE (or the store's values):\n"
            "                     64 hex digits (openssl rand -hex 32 > KEYFILE); a second key\n"
            "                     after it only opens (a rotation, docs/cluster.md)\n"
            "  --store URI        a cluster node (docs/cluster.md): share the coaps:// sessions,\n"
            "                     the cookie and ticket secrets and the light's state with the\n"
            "                     other nodes through redis://[[USER]:PASSWORD@]HOST:PORT[/DB]\n"
            "                     (or the password in COAPS_STORE_PASSWORD); a node takes over\n"
            "                     any session from it with no handshake (needs --state-key)\n"
            "  SSLKEYLOGFILE=F    (environment) append DTLS secrets to F for Wireshark\n"
            "  -v level           log level 0-7 or emerg..debug (default 4 = warning)\n"
            "  --max-observers N  observe registrations kept at once (default 32)\n"
            "  --rcvbuf BYTES     receive buffer of each socket, K or M suffix (default 4M;\n"
            "                     beyond net.core.rmem_max only with CAP_NET_ADMIN, e.g. root)\n"
            "  --dedup-peers N    peers whose recent messages are deduplicated (default 4096;\n"
            "                     1.4 KiB each)\n"
            "  --workers N        N threads, each with its own sockets (SO_REUSEPORT), sessions\n"
            "                     and event loop (default and 0: one per online CPU, at most\n"
            "                     64; 1: no threads); a session's records reach its worker,\n"
            "                     with --cid after an address change too (docs/workers.md).\n"
            "                     --max-sessions, --max-handshakes, --max-cert-handshakes,\n"
            "                     --session-cache, --dedup-peers and --max-observers are the\n"
            "                     server's totals: the workers share one count of sessions,\n"
            "                     and each gets 1/N of the others (rounded up)\n"
            "  --cid-steer MODE   how a CID record finds its worker: bpf (default),\n"
            "                     the socket group's program reads the CID's worker tag;\n"
            "                     handoff, the worker that got it passes it on; hash, the\n"
            "                     kernel's 4-tuple hash alone (to measure; loses moved peers);\n"
            "                     misroute, every record to the wrong worker, which passes it\n"
            "                     on (to measure the hand-off)\n"
            "  --test-resources   add /test/large, /test/upload (block-wise tests), /test/counter\n"
            "  -h, --help         this help\n");
}

/* One line naming what is wrong, as the team's CLI rule asks. */
static int bad_flag(const char *flag, const char *value, const char *what)
{
    fprintf(stderr, PROG ": %s '%s': %s (see " PROG " -h)\n", flag, value, what);
    return 2;
}

enum {
    OPT_MAX_OBSERVERS = 256,
    OPT_TEST_RESOURCES,
    OPT_COAPS_PORT,
    OPT_NO_COAP,
    OPT_NO_COAPS,
    OPT_PSK,
    OPT_PSK_FILE,
    OPT_PSK_DEFAULT,
    OPT_HINT,
    OPT_MAX_SESSIONS,
    OPT_MAX_HANDSHAKES,
    OPT_MAX_CERT_HANDSHAKES,
    OPT_MAX_HS_PER_HOST,
    OPT_IDLE_TIMEOUT,
    OPT_COLD_AFTER,
    OPT_RPK_TRUST,
    OPT_REQUIRE_CLIENT_CERT,
    OPT_RCVBUF,
    OPT_DEDUP_PEERS,
    OPT_CID,
    OPT_SESSION_CACHE,
    OPT_STATE,
    OPT_STATE_KEY,
    OPT_STORE,
    OPT_NO_TICKETS,
    OPT_TICKET_KEY,
    OPT_WORKERS,
    OPT_CID_STEER,
};

/* The coaps:// flags (credentials, session limits). 0, or 2 after a line. */
static int parse_coaps_opt(int c, const char *arg, struct server_opts *o)
{
    uint64_t v;
    switch (c) {
    case OPT_COAPS_PORT:
        o->coaps_port_set = true;
        return cli_parse_port(arg, &o->coaps_port)
                   ? 0 : bad_flag("--coaps-port", arg, "not a port number 0-65535");
    case OPT_NO_COAP:
        o->no_coap = true;
        return 0;
    case OPT_NO_COAPS:
        o->no_coaps = true;
        return 0;
    case OPT_PSK:
    case OPT_PSK_FILE:
    case OPT_PSK_DEFAULT:
        o->psk[o->n_psk++] = (struct psk_flag){c, arg};
        return 0;
    case 'c':
    case 'j':
    case 'C':
    case OPT_RPK_TRUST:
        o->pki_given = cli_pki_file(c == OPT_RPK_TRUST ? 'R' : c, arg, &o->pki_files);
        return 0;
    case OPT_REQUIRE_CLIENT_CERT:
        o->pki_files.require_client_cert = true;
        return 0;
    case OPT_HINT:
        if (strlen(arg) > COAPS_DTLS_PSK_HINT_MAX)
            return bad_flag("--hint", arg, "longer than 128 bytes");
        o->cfg.psk_hint = arg;
        return 0;
    case OPT_MAX_SESSIONS:
        if (!cli_parse_uint(arg, 1, SERVER_MAX_SESSIONS_LIMIT, &v))
            return bad_flag("--max-sessions", arg, "not a number 1-1048576");
        o->cfg.max_sessions = (uint32_t)v;
        return 0;
    case OPT_MAX_HANDSHAKES:
        if (!cli_parse_uint(arg, 1, SERVER_MAX_HANDSHAKES_LIMIT, &v))
            return bad_flag("--max-handshakes", arg, "not a number 1-65536");
        o->cfg.max_handshakes = (uint32_t)v;
        return 0;
    case OPT_MAX_CERT_HANDSHAKES:
        if (!cli_parse_uint(arg, 1, SERVER_MAX_CERT_HANDSHAKES_LIMIT, &v))
            return bad_flag("--max-cert-handshakes", arg, "not a number 1-4096");
        o->cfg.max_cert_handshakes = (uint32_t)v;
        return 0;
    case OPT_MAX_HS_PER_HOST:
        if (!cli_parse_uint(arg, 1, SERVER_MAX_HANDSHAKES_LIMIT, &v))
            return bad_flag("--max-handshakes-per-host", arg, "not a number 1-65536");
        o->cfg.max_handshakes_per_host = (uint32_t)v;
        return 0;
    case OPT_IDLE_TIMEOUT:
        if (!cli_parse_uint(arg, 1, SERVER_IDLE_TIMEOUT_MAX_S, &v))
            return bad_flag("--idle-timeout", arg, "not a number of seconds 1-86400");
        o->cfg.idle_timeout_ms = (uint32_t)v * 1000u;
        return 0;
    case OPT_COLD_AFTER:
        if (!cli_parse_uint(arg, 0, SERVER_IDLE_TIMEOUT_MAX_S, &v))
            return bad_flag("--cold-after", arg, "not a number of seconds 0-86400");
        o->cfg.cold_after_ms = v == 0 ? UINT32_MAX : (uint32_t)v * 1000u;
        return 0;
    case OPT_CID:
        if (!cli_parse_uint(arg, 0, COAPS_DTLS_CID_MAX, &v))
            return bad_flag("--cid", arg, "not a Connection ID length 0-16");
        o->cfg.cid = true;
        o->cfg.cid_len = (uint8_t)v;
        return 0;
    case OPT_SESSION_CACHE:
        if (!cli_parse_uint(arg, 0, SERVER_MAX_SESSIONS_LIMIT, &v))
            return bad_flag("--session-cache", arg, "not a number 0-1048576");
        o->cfg.session_cache = (uint32_t)v;
        o->cfg.no_session_cache = v == 0;
        return 0;
    case OPT_STATE:
        o->cfg.state_file = arg;
        return 0;
    case OPT_STATE_KEY:
        o->cfg.state_key_file = arg;
        return 0;
    case OPT_STORE:
        o->cfg.store = arg;
        return 0;
    case OPT_NO_TICKETS:
        o->cfg.no_tickets = true;
        return 0;
    case OPT_TICKET_KEY:
        o->cfg.ticket_key_file = arg;
        return 0;
    default:
        return 2;
    }
}

static bool parse_steer(const char *arg, enum net_cid_steer *out)
{
    static const struct {
        const char *name;
        enum net_cid_steer steer;
    } names[] = {{"bpf", NET_STEER_BPF},
                 {"handoff", NET_STEER_HANDOFF},
                 {"hash", NET_STEER_HASH},
                 {"misroute", NET_STEER_MISROUTE}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(arg, names[i].name) == 0) {
            *out = names[i].steer;
            return true;
        }
    return false;
}

static int parse_opts(int argc, char **argv, struct server_opts *o, bool *help)
{
    static const struct option longs[] = {
        {"max-observers", required_argument, NULL, OPT_MAX_OBSERVERS},
        {"test-resources", no_argument, NULL, OPT_TEST_RESOURCES},
        {"coaps-port", required_argument, NULL, OPT_COAPS_PORT},
        {"no-coap", no_argument, NULL, OPT_NO_COAP},
        {"no-coaps", no_argument, NULL, OPT_NO_COAPS},
        {"psk", required_argument, NULL, OPT_PSK},
        {"psk-file", required_argument, NULL, OPT_PSK_FILE},
        {"psk-default", required_argument, NULL, OPT_PSK_DEFAULT},
        {"hint", required_argument, NULL, OPT_HINT},
        {"max-sessions", required_argument, NULL, OPT_MAX_SESSIONS},
        {"max-handshakes", required_argument, NULL, OPT_MAX_HANDSHAKES},
        {"max-cert-handshakes", required_argument, NULL, OPT_MAX_CERT_HANDSHAKES},
        {"max-handshakes-per-host", required_argument, NULL, OPT_MAX_HS_PER_HOST},
        {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
        {"cold-after", required_argument, NULL, OPT_COLD_AFTER},
        {"rpk-trust", required_argument, NULL, OPT_RPK_TRUST},
        {"require-client-cert", no_argument, NULL, OPT_REQUIRE_CLIENT_CERT},
        {"rcvbuf", required_argument, NULL, OPT_RCVBUF},
        {"dedup-peers", required_argument, NULL, OPT_DEDUP_PEERS},
        {"cid", required_argument, NULL, OPT_CID},
        {"session-cache", required_argument, NULL, OPT_SESSION_CACHE},
        {"state", required_argument, NULL, OPT_STATE},
        {"state-key", required_argument, NULL, OPT_STATE_KEY},
        {"store", required_argument, NULL, OPT_STORE},
        {"no-tickets", no_argument, NULL, OPT_NO_TICKETS},
        {"ticket-key", required_argument, NULL, OPT_TICKET_KEY},
        {"workers", required_argument, NULL, OPT_WORKERS},
        {"cid-steer", required_argument, NULL, OPT_CID_STEER},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint64_t v;
    int c, rc;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":A:p:v:c:j:C:h", longs, NULL)) != -1) {
        switch (c) {
        case 'A':
            o->bind_host = optarg;
            break;
        case 'p':
            if (!cli_parse_port(optarg, &o->port))
                return bad_flag("-p", optarg, "not a port number 0-65535");
            break;
        case 'v':
            if (!cli_parse_log_level(optarg, &o->cfg.log_level))
                return bad_flag("-v", optarg, "not a log level 0-7 or emerg..debug");
            break;
        case OPT_MAX_OBSERVERS:
            if (!cli_parse_uint(optarg, 1, SERVER_MAX_OBSERVERS_LIMIT, &v))
                return bad_flag("--max-observers", optarg, "not a number 1-4096");
            o->cfg.max_observers = (uint16_t)v;
            break;
        case OPT_TEST_RESOURCES:
            o->test_resources = true;
            break;
        case OPT_RCVBUF:
            if (!cli_parse_size(optarg, SERVER_RCVBUF_MIN, SERVER_RCVBUF_MAX, &v))
                return bad_flag("--rcvbuf", optarg, "not a size of 4K-1024M (bytes, K or M)");
            o->cfg.rcvbuf = (int)v;
            o->rcvbuf_set = true;
            break;
        case OPT_WORKERS:
            if (!cli_parse_uint(optarg, 0, SERVER_WORKERS_MAX, &v))
                return bad_flag("--workers", optarg, "not a number 0-64 (0: one per CPU)");
            o->workers = v ? (unsigned)v : server_online_cpus();
            o->workers_set = true;
            break;
        case OPT_CID_STEER:
            if (!parse_steer(optarg, &o->cid_steer))
                return bad_flag("--cid-steer", optarg, "not bpf, handoff, hash or misroute");
            break;
        case OPT_DEDUP_PEERS:
            if (!cli_parse_uint(optarg, 1, SERVER_DEDUP_PEERS_MAX, &v))
                return bad_flag("--dedup-peers", optarg, "not a number 1-65534");
            o->cfg.dedup_peers = (uint16_t)v;
            break;
        case OPT_COAPS_PORT:
        case OPT_NO_COAP:
        case OPT_NO_COAPS:
        case OPT_PSK:
        case OPT_PSK_FILE:
        case OPT_PSK_DEFAULT:
        case OPT_HINT:
        case OPT_MAX_SESSIONS:
        case OPT_MAX_HANDSHAKES:
        case OPT_MAX_CERT_HANDSHAKES:
        case OPT_MAX_HS_PER_HOST:
        case OPT_IDLE_TIMEOUT:
        case OPT_COLD_AFTER:
        case OPT_RPK_TRUST:
        case OPT_REQUIRE_CLIENT_CERT:
        case OPT_CID:
        case OPT_SESSION_CACHE:
        case OPT_STATE:
        case OPT_STATE_KEY:
        case OPT_STORE:
        case OPT_NO_TICKETS:
        case OPT_TICKET_KEY:
        case 'c':
        case 'j':
        case 'C':
            rc = parse_coaps_opt(c, optarg, o);
            if (rc)
                return rc;
            break;
        case 'h':
            *help = true;
            return 0;
        case ':':
            fprintf(stderr, PROG ": option %s needs a value (see " PROG " -h)\n",
                    argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, PROG ": unknown option '%s' (see " PROG " -h)\n", argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, PROG ": unexpected argument '%s' (see " PROG " -h)\n", argv[optind]);
        return 2;
    }
    if (o->no_coap && o->no_coaps) {
        fprintf(stderr, PROG ": --no-coap and --no-coaps leave nothing to serve\n");
        return 2;
    }
    if (o->workers > 1 && o->cfg.cid && o->cfg.cid_len == 1) {
        if (!o->workers_set) {
            /* the default bows to --cid 1: one worker, whose CIDs need no tag */
            o->workers = 1;
        } else {
            fprintf(stderr, PROG ": --cid 1 with --workers leaves no random byte after the "
                            "worker's tag (give --cid 0 or 2-16)\n");
            return 2;
        }
    }
    if (o->cfg.store && o->cfg.state_file) {
        fprintf(stderr, PROG ": --store holds the sessions: no --state with it\n");
        return 2;
    }
    if (o->cfg.store && o->cfg.state_key_file == NULL) {
        fprintf(stderr, PROG ": --store needs --state-key (the store's values are sealed "
                        "under it)\n");
        return 2;
    }
    if (o->cfg.store == NULL &&
        (o->cfg.state_file == NULL) != (o->cfg.state_key_file == NULL)) {
        fprintf(stderr, PROG ": --state and --state-key go together\n");
        return 2;
    }
    if (o->no_coap && o->n_psk == 0 && !o->pki_given) {
        fprintf(stderr, PROG ": --no-coap needs coaps:// credentials "
                        "(--psk, --psk-file, --psk-default or -c/-j)\n");
        return 2;
    }
    return 0;
}

/* The credential flags, in the order given: one line naming the flag on
 * the first that is wrong. */
static int server_add_psks(struct server *s, const struct server_opts *o)
{
    char err[256] = "";
    char arg[512];
    for (size_t i = 0; i < o->n_psk; i++) {
        const struct psk_flag *f = &o->psk[i];
        coaps_status st;
        if (f->opt == OPT_PSK_FILE) {
            st = coaps_server_load_psk_file(s->srv, f->arg, err, sizeof err);
            if (st != COAPS_OK) {
                fprintf(stderr, PROG ": --psk-file %s\n", err);
                return 2;
            }
            continue;
        }
        /* --psk-default KEY is the identity "*" of --psk */
        snprintf(arg, sizeof arg, "%s%s", f->opt == OPT_PSK_DEFAULT ? "*:" : "", f->arg);
        st = coaps_server_add_psk_arg(s->srv, arg, err, sizeof err);
        if (st != COAPS_OK)
            return bad_flag(f->opt == OPT_PSK_DEFAULT ? "--psk-default" : "--psk", f->arg, err);
    }
    return 0;
}

int server_setup(struct server *s, struct server_opts *o, struct test_resources *test)
{
    char err[512] = "";
    if (o->pki_given && !o->no_coaps)
        o->cfg.pki = &o->pki_files;
    if (coaps_server_new(&s->srv, &o->cfg, err, sizeof err) != COAPS_OK) {
        fprintf(stderr, PROG ": %s\n", err);
        return 1;
    }
    coaps_coap_endpoint *coap = coaps_server_coap(s->srv);
    if (light_register(&s->light, coap) != COAPS_OK) {
        fprintf(stderr, PROG ": cannot register /light\n");
        return 1;
    }
    cluster_light_attach(&s->cluster, s->srv, &s->light);
    s->test = test;
    if (test) {
        s->counter.store = net_server_store(s->srv); /* --store: the cluster's count */
        if (test_resources_register(test, &s->counter, coap) != COAPS_OK) {
            fprintf(stderr, PROG ": cannot register the test resources\n");
            return 1;
        }
    }
    return server_add_psks(s, o);
}

/* One socket for coap:// or coaps:// on -A (default: all addresses). */
int server_listen_on(struct server *s, const struct server_opts *o, uint16_t port, bool dtls,
                     char *line)
{
    char bound[64], err[512] = "";
    coaps_status st = coaps_server_listen(s->srv, o->bind_host, port, dtls, bound, sizeof bound,
                                          err, sizeof err);
    if (st == COAPS_E_NOT_FOUND && o->bind_host) {
        /* name the flag: "cannot resolve 'HOST': REASON" */
        const char *why = strstr(err, "': ");
        fprintf(stderr, PROG ": cannot resolve -A '%s': %s\n", o->bind_host,
                why ? why + 3 : err);
        return 1;
    }
    if (st != COAPS_OK) {
        fprintf(stderr, PROG ": %s\n", err);
        return 1;
    }
    if (line)
        snprintf(line, SERVER_LINE_MAX, PROG ": listening on %s://%s\n", dtls ? "coaps" : "coap",
                 bound);
    return 0;
}

/* Say once, at start, which suites the crypto backend cannot do: they are
 * neither offered nor chosen (a client asking only for them fails). */
static void server_report_suites(void)
{
    size_t n = 0;
    const uint16_t *all = coaps_dtls_suites_all(&n);
    for (size_t i = 0; i < n; i++)
        if (!coaps_dtls_suite_available(all[i]))
            fprintf(stderr, PROG ": crypto backend %s lacks %s: not offered\n",
                    coaps_dtls_crypto_backend(), coaps_dtls_suite_name(all[i]));
}

int server_listen_coaps(struct server *s, const struct server_opts *o, char *line)
{
    if (o->no_coaps)
        return 0;
    server_report_suites();
    if (!coaps_server_has_credentials(s->srv)) {
        fprintf(stderr, PROG ": coaps:// not started: no credentials "
                        "(give --psk, --psk-file, --psk-default or -c/-j)\n");
        return 0;
    }
    if (!o->coaps_port_set && o->port == UINT16_MAX) {
        fprintf(stderr, PROG ": -p 65535 leaves no port for coaps:// (give --coaps-port)\n");
        return 1;
    }
    return server_listen_on(s, o, server_coaps_port(o), true, line);
}

uint16_t server_coaps_port(const struct server_opts *o)
{
    return o->coaps_port_set ? o->coaps_port : o->port == 0 ? 0 : (uint16_t)(o->port + 1);
}

/* --state: the sessions of the last run back (a file that cannot be used
 * is one warning line and a clean start), and saved at the end. */
static void server_restore_state(struct server *s)
{
    char err[512] = "";
    if (coaps_server_restore_state(s->srv, NULL, err, sizeof err) != COAPS_OK)
        fprintf(stderr, PROG ": warning: %s\n", err);
}

static void server_save_state(struct server *s)
{
    char err[512] = "";
    if (coaps_server_save_state(s->srv, NULL, err, sizeof err) != COAPS_OK)
        fprintf(stderr, PROG ": warning: %s\n", err);
}

/* One server, no thread (--workers 1). The "listening on" lines once it
 * is ready: sockets bound, sessions restored. */
static int server_run(struct server *s, struct server_opts *o, struct test_resources *test)
{
    if (o->workers > 1)
        return workers_run(o, test);
    char coap_line[SERVER_LINE_MAX] = "", coaps_line[SERVER_LINE_MAX] = "";
    int rc = server_setup(s, o, test);
    if (rc == 0 && !o->no_coap)
        rc = server_listen_on(s, o, o->port, false, coap_line);
    if (rc == 0)
        rc = server_listen_coaps(s, o, coaps_line);
    if (rc == 0) {
        server_restore_state(s);
        fprintf(stderr, "%s%s", coap_line, coaps_line);
    }
    if (rc == 0 && coaps_server_run(s->srv) != COAPS_OK) {
        fprintf(stderr, PROG ": event loop failed: %s\n", strerror(errno));
        rc = 1;
    }
    if (rc == 0)
        server_save_state(s);
    if (rc == 0)
        coaps_server_log_stats(s->srv);
    return rc;
}

int main(int argc, char **argv)
{
    struct server_opts o;
    memset(&o, 0, sizeof o);
    o.port = SERVER_DEFAULT_PORT;
    coaps_server_config_default(&o.cfg);
    o.cfg.log_name = PROG;
    o.cfg.psk_hint = SERVER_DEFAULT_HINT;
    o.cfg.dedup_peers = SERVER_DEFAULT_DEDUP_PEERS;
    o.cfg.keylog_from_env = true;
    o.workers = server_online_cpus();
    o.psk = calloc((size_t)argc, sizeof *o.psk);
    if (o.psk == NULL) {
        fprintf(stderr, PROG ": out of memory\n");
        return 1;
    }
    bool help = false;
    int rc = parse_opts(argc, argv, &o, &help);
    if (rc || help) {
        if (help)
            usage(stdout);
        free(o.psk);
        return rc;
    }
    /* --test-resources: one set, whichever worker a request reaches */
    struct test_resources *test = o.test_resources ? calloc(1, sizeof *test) : NULL;
    if (o.test_resources && test == NULL) {
        fprintf(stderr, PROG ": out of memory\n");
        free(o.psk);
        return 1;
    }
    if (test)
        test_resources_init(test);
    struct server s;
    memset(&s, 0, sizeof s);
    rc = server_run(&s, &o, test);
    coaps_server_free(s.srv);
    if (test)
        test_resources_free(test);
    free(test);
    free(o.psk);
    return rc;
}
