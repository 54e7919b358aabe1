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
#include "light.h"
#include "net/addr.h"
#include "net/cli.h"
#include "net/clock.h"
#include "net/dtls_server.h"
#include "net/edge.h"
#include "net/keylog.h"
#include "net/log.h"
#include "net/loop.h"
#include "net/psk_store.h"
#include "net/random.h"
#include "test_resources.h"

#define PROG "coaps-server"

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

/* Receive buffer asked for each socket (--rcvbuf). Linux's default (208
 * KiB) holds about 250 small datagrams (the kernel charges each its
 * truesize, ~0.8 KiB on loopback), and a fleet's burst overflows it: at
 * 1,000 sessions 0.1-0.5 % of requests were dropped, each costing its
 * device a 2-3 s retransmission (RFC 7252 4.2). 4 MiB (which Linux doubles
 * for its bookkeeping) holds some 10,000: a request from each of the
 * default --max-sessions at once, or 50 ms of work at 200,000 datagrams/s.
 * Only pages that data reaches are used. */
#define SERVER_DEFAULT_RCVBUF (4 * 1024 * 1024)
#define SERVER_RCVBUF_MIN 4096
#define SERVER_RCVBUF_MAX (1024 * 1024 * 1024)

/* Peers whose recent Message IDs and replies are kept for deduplication
 * (--dedup-peers; RFC 7252 4.5, src/coap/dedup.c): 4,096 x 1.4 KiB = 6 MiB
 * at most, used as peers arrive. A duplicate is recognised as long as fewer
 * than this many other peers have sent a message since, at any rate. */
#define SERVER_DEFAULT_DEDUP_PEERS 4096
#define SERVER_DEDUP_PEERS_MAX 65534

struct server_opts {
    const char *bind_host; /* NULL: [::] dual stack (else 0.0.0.0) */
    uint16_t port;
    int log_level;
    uint16_t max_observers;
    bool test_resources;
    int rcvbuf;       /* bytes asked for each socket's receive buffer */
    bool rcvbuf_set;  /* --rcvbuf given: say so if the kernel gives less */
    uint16_t dedup_peers;
    bool no_coap, no_coaps;
    bool coaps_port_set;
    uint16_t coaps_port;
    const char *hint;
    struct net_psk_store *psk; /* heap: 48 KiB */
    coaps_dtls_pki_files pki_files; /* -c -j -C --rpk-trust */
    bool pki_given;
    struct net_dtls_server_opts dtls;
};

struct server {
    struct net_log log;
    struct net_loop loop;
    struct net_edge *edge;
    void *coap_mem;
    coaps_coap_endpoint *coap;
    struct light light;
    struct test_resources *test;
    struct net_dtls_server *dtls; /* NULL: no coaps:// */
    coaps_dtls_pki *pki;          /* NULL: PSK only */
    struct net_keylog keylog;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " PROG " [-A address] [-p port] [-v level] [--max-observers N]\n"
            "                    [--coaps-port N] [--no-coap] [--no-coaps]\n"
            "                    [--psk IDENTITY:KEY]... [--psk-file FILE] [--psk-default KEY]\n"
            "                    [--hint TEXT] [--max-sessions N] [--max-handshakes N]\n"
            "                    [--max-cert-handshakes N]\n"
            "                    [--idle-timeout S] [-c certfile] [-j keyfile] [-C cafile]\n"
            "                    [--rpk-trust file] [--require-client-cert]\n"
            "                    [--rcvbuf BYTES] [--dedup-peers N] [--test-resources] [-h]\n"
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
            "  --idle-timeout S   close coaps:// sessions silent this long (default 300)\n"
            "  -c certfile        PEM certificate chain (ECDHE-ECDSA suites; with or without PSK)\n"
            "  -j keyfile         PEM EC P-256 private key (default: in certfile; alone: RPK)\n"
            "  -C cafile          PEM CAs that client certificates must chain to\n"
            "  --rpk-trust file   PEM public keys of clients accepted as raw public keys\n"
            "  --require-client-cert  refuse clients without a certificate or key\n"
            "  SSLKEYLOGFILE=F    (environment) append DTLS secrets to F for Wireshark\n"
            "  -v level           log level 0-7 or emerg..debug (default 4 = warning)\n"
            "  --max-observers N  observe registrations kept at once (default 32)\n"
            "  --rcvbuf BYTES     receive buffer of each socket, K or M suffix (default 4M;\n"
            "                     beyond net.core.rmem_max only with CAP_NET_ADMIN, e.g. root)\n"
            "  --dedup-peers N    peers whose recent messages are deduplicated (default 4096;\n"
            "                     1.4 KiB each)\n"
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
    OPT_IDLE_TIMEOUT,
    OPT_RPK_TRUST,
    OPT_REQUIRE_CLIENT_CERT,
    OPT_RCVBUF,
    OPT_DEDUP_PEERS,
};

/* The coaps:// flags (credentials, session limits). 0, or 2 after a line. */
static int parse_coaps_opt(int c, const char *arg, struct server_opts *o)
{
    char err[NET_PSK_ERR_MAX];
    uint64_t v;
    const char *why = NULL;
    uint8_t key[COAPS_DTLS_PSK_KEY_MAX];
    size_t key_len = 0;
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
        if (net_psk_store_add_arg(o->psk, arg, err, sizeof err) != COAPS_OK)
            return bad_flag("--psk", arg, err);
        return 0;
    case OPT_PSK_FILE:
        if (net_psk_store_load_file(o->psk, arg, err, sizeof err) != COAPS_OK) {
            fprintf(stderr, PROG ": --psk-file %s\n", err);
            return 2;
        }
        return 0;
    case OPT_PSK_DEFAULT:
        if (net_psk_parse_key(arg, strlen(arg), key, &key_len, &why) != COAPS_OK)
            return bad_flag("--psk-default", arg, why);
        net_psk_store_set_default(o->psk, key, key_len);
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
        o->hint = arg;
        return 0;
    case OPT_MAX_SESSIONS:
        if (!cli_parse_uint(arg, 1, NET_SESSION_TABLE_MAX, &v))
            return bad_flag("--max-sessions", arg, "not a number 1-1048576");
        o->dtls.max_sessions = (uint32_t)v;
        return 0;
    case OPT_MAX_HANDSHAKES:
        if (!cli_parse_uint(arg, 1, NET_DTLS_MAX_HANDSHAKES_LIMIT, &v))
            return bad_flag("--max-handshakes", arg, "not a number 1-65536");
        o->dtls.max_handshakes = (uint32_t)v;
        return 0;
    case OPT_MAX_CERT_HANDSHAKES:
        if (!cli_parse_uint(arg, 1, NET_DTLS_MAX_CERT_HANDSHAKES_LIMIT, &v))
            return bad_flag("--max-cert-handshakes", arg, "not a number 1-4096");
        o->dtls.max_cert_handshakes = (uint32_t)v;
        return 0;
    case OPT_IDLE_TIMEOUT:
        if (!cli_parse_uint(arg, 1, SERVER_IDLE_TIMEOUT_MAX_S, &v))
            return bad_flag("--idle-timeout", arg, "not a number of seconds 1-86400");
        o->dtls.idle_timeout_ms = (uint32_t)v * 1000u;
        return 0;
    default:
        return 2;
    }
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
        {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
        {"rpk-trust", required_argument, NULL, OPT_RPK_TRUST},
        {"require-client-cert", no_argument, NULL, OPT_REQUIRE_CLIENT_CERT},
        {"rcvbuf", required_argument, NULL, OPT_RCVBUF},
        {"dedup-peers", required_argument, NULL, OPT_DEDUP_PEERS},
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
            if (!net_log_parse_level(optarg, &o->log_level))
                return bad_flag("-v", optarg, "not a log level 0-7 or emerg..debug");
            break;
        case OPT_MAX_OBSERVERS:
            if (!cli_parse_uint(optarg, 1, SERVER_MAX_OBSERVERS_LIMIT, &v))
                return bad_flag("--max-observers", optarg, "not a number 1-4096");
            o->max_observers = (uint16_t)v;
            break;
        case OPT_TEST_RESOURCES:
            o->test_resources = true;
            break;
        case OPT_RCVBUF:
            if (!cli_parse_size(optarg, SERVER_RCVBUF_MIN, SERVER_RCVBUF_MAX, &v))
                return bad_flag("--rcvbuf", optarg, "not a size of 4K-1024M (bytes, K or M)");
            o->rcvbuf = (int)v;
            o->rcvbuf_set = true;
            break;
        case OPT_DEDUP_PEERS:
            if (!cli_parse_uint(optarg, 1, SERVER_DEDUP_PEERS_MAX, &v))
                return bad_flag("--dedup-peers", optarg, "not a number 1-65534");
            o->dedup_peers = (uint16_t)v;
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
        case OPT_IDLE_TIMEOUT:
        case OPT_RPK_TRUST:
        case OPT_REQUIRE_CLIENT_CERT:
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
    if (o->no_coap && !net_psk_store_usable(o->psk) && !o->pki_given) {
        fprintf(stderr, PROG ": --no-coap needs coaps:// credentials "
                        "(--psk, --psk-file, --psk-default or -c/-j)\n");
        return 2;
    }
    return 0;
}

static int server_setup_coap(struct server *s, const struct server_opts *o)
{
    coaps_coap_config cfg;
    coaps_coap_config_default(&cfg);
    cfg.random = net_random_u32;
    if (o->max_observers)
        cfg.max_observers = o->max_observers;
    cfg.dedup_peers = o->dedup_peers;
    /* the default output queue: notifications that do not fit wait in the
     * core for the next tick (coaps_coap_resource_notify) */
    size_t size = coaps_coap_endpoint_size(&cfg);
    s->coap_mem = size ? malloc(size) : NULL;
    if (s->coap_mem == NULL ||
        coaps_coap_endpoint_init(s->coap_mem, size, &cfg, &s->coap) != COAPS_OK) {
        fprintf(stderr, PROG ": cannot set up the CoAP endpoint (%zu bytes)\n", size);
        return 1;
    }
    if (light_register(&s->light, s->coap) != COAPS_OK) {
        fprintf(stderr, PROG ": cannot register /light\n");
        return 1;
    }
    if (o->test_resources) {
        s->test = calloc(1, sizeof *s->test);
        if (s->test == NULL || test_resources_register(s->test, s->coap) != COAPS_OK) {
            fprintf(stderr, PROG ": cannot register the test resources\n");
            return 1;
        }
    }
    return 0;
}

/* Bind one socket for transport on -A or, by default, on [::] dual
 * stack, falling back to 0.0.0.0 on hosts without IPv6. */
static int server_bind(struct server *s, const struct server_opts *o, uint16_t port,
                       enum coaps_transport transport)
{
    struct sockaddr_storage ss;
    socklen_t len;
    const char *err = NULL;
    const char *host = o->bind_host ? o->bind_host : "::";
    const char *scheme = transport == COAPS_TRANSPORT_DTLS ? "coaps" : "coap";
    if (net_addr_resolve(host, port, true, &ss, &len, &err) != COAPS_OK) {
        fprintf(stderr, PROG ": cannot resolve -A '%s': %s\n", host, err ? err : "unknown");
        return 1;
    }
    int err_no = 0;
    struct net_endpoint *ep = NULL;
    coaps_status st = net_edge_open(s->edge, (struct sockaddr *)&ss, len, transport, &ep, &err_no);
    if (st != COAPS_OK && o->bind_host == NULL && err_no == EAFNOSUPPORT) {
        net_addr_resolve("0.0.0.0", port, true, &ss, &len, &err);
        st = net_edge_open(s->edge, (struct sockaddr *)&ss, len, transport, &ep, &err_no);
    }
    if (st != COAPS_OK) {
        char text[NET_ADDR_STR_MAX];
        /* coap:// keeps the message scripts know; coaps:// names itself */
        fprintf(stderr, PROG ": cannot bind %s%s%s: %s\n",
                transport == COAPS_TRANSPORT_DTLS ? scheme : "",
                transport == COAPS_TRANSPORT_DTLS ? "://" : "",
                net_addr_format((struct sockaddr *)&ss, text, sizeof text), strerror(err_no));
        return 1;
    }
    char text[NET_ADDR_STR_MAX];
    fprintf(stderr, PROG ": listening on %s://%s\n", scheme,
            net_addr_format((struct sockaddr *)&ep->local, text, sizeof text));
    /* Linux reports twice what it granted (socket(7)) */
    bool short_buf = ep->rcvbuf / 2 < o->rcvbuf;
    NET_LOG(&s->log, short_buf && o->rcvbuf_set ? NET_LOG_WARN : NET_LOG_INFO,
            "%s://: receive buffer %d KiB%s", scheme, ep->rcvbuf / 2 / 1024,
            short_buf ? " (less than asked: raise net.core.rmem_max or run with CAP_NET_ADMIN)"
                      : "");
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

/* coaps://: credentials, keylog, the DTLS layer, its socket. */
static int server_setup_coaps(struct server *s, const struct server_opts *o)
{
    if (o->no_coaps)
        return 0;
    server_report_suites();
    if (!net_psk_store_usable(o->psk) && !o->pki_given) {
        fprintf(stderr, PROG ": coaps:// not started: no credentials "
                        "(give --psk, --psk-file, --psk-default or -c/-j)\n");
        return 0;
    }
    if (o->pki_given) {
        char err[256] = "";
        coaps_status pst = coaps_dtls_pki_new(&s->pki, &o->pki_files, err, sizeof err);
        if (pst != COAPS_OK) {
            fprintf(stderr, PROG ": certificates: %s\n", err[0] ? err : coaps_status_str(pst));
            return 1;
        }
    }
    const char *keylog_path = NULL;
    if (net_keylog_open(&s->keylog, &keylog_path) != COAPS_OK) {
        fprintf(stderr, PROG ": SSLKEYLOGFILE '%s': %s\n", keylog_path, strerror(errno));
        return 1;
    }
    if (keylog_path)
        fprintf(stderr, PROG ": warning: writing DTLS secrets to %s (SSLKEYLOGFILE)\n",
                keylog_path);
    coaps_dtls_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.role = COAPS_DTLS_SERVER;
    cfg.psk_hint = (const uint8_t *)o->hint;
    cfg.psk_hint_len = strlen(o->hint);
    cfg.pki = s->pki;
    if (s->keylog.f) {
        cfg.keylog = net_keylog_line;
        cfg.keylog_user = &s->keylog;
    }
    s->dtls = calloc(1, sizeof *s->dtls);
    if (s->dtls == NULL) {
        fprintf(stderr, PROG ": out of memory\n");
        return 1;
    }
    coaps_status st = net_dtls_server_init(s->dtls, s->edge, &s->log, &cfg, o->psk, &o->dtls,
                                           net_now_ms());
    if (st != COAPS_OK) {
        fprintf(stderr, PROG ": cannot set up coaps://: %s\n", coaps_status_str(st));
        free(s->dtls);
        s->dtls = NULL;
        return 1;
    }
    uint16_t port = o->coaps_port_set ? o->coaps_port
                    : o->port == 0    ? 0
                                      : (uint16_t)(o->port + 1);
    if (!o->coaps_port_set && o->port == UINT16_MAX) {
        fprintf(stderr, PROG ": -p 65535 leaves no port for coaps:// (give --coaps-port)\n");
        return 1;
    }
    return server_bind(s, o, port, COAPS_TRANSPORT_DTLS);
}

static void server_log_stats(const struct server *s)
{
    if (!NET_LOG_ENABLED(&s->log, NET_LOG_INFO))
        return;
    const coaps_coap_stats *st = coaps_coap_get_stats(s->coap);
    net_log_print(&s->log, NET_LOG_INFO,
                  "stats: rx %llu (malformed %llu, duplicates %llu), requests %llu, tx %llu "
                  "(retransmissions %llu, rst %llu, notifications %llu, dropped %llu), "
                  "timeouts %llu, table full %llu, dedup recycled %llu",
                  (unsigned long long)st->rx_datagrams, (unsigned long long)st->rx_malformed,
                  (unsigned long long)st->rx_duplicates, (unsigned long long)st->rx_requests,
                  (unsigned long long)st->tx_datagrams, (unsigned long long)st->tx_retransmissions,
                  (unsigned long long)st->tx_rst, (unsigned long long)st->tx_notifications,
                  (unsigned long long)st->tx_dropped, (unsigned long long)st->timeouts,
                  (unsigned long long)st->table_full, (unsigned long long)st->dedup_recycled);
    if (s->dtls) {
        const struct net_dtls_server_stats *d = &s->dtls->stats;
        net_log_print(&s->log, NET_LOG_INFO,
                      "coaps: hello-verify %llu, handshakes %llu, established %llu, failed %llu "
                      "(unknown identity %llu, forgery limit %llu), closed %llu, restarted %llu, "
                      "idle %llu, evicted %llu, handshakes evicted %llu, refused %llu",
                      (unsigned long long)d->hello_verify, (unsigned long long)d->handshakes,
                      (unsigned long long)d->established, (unsigned long long)d->failed,
                      (unsigned long long)d->unknown_identity,
                      (unsigned long long)d->auth_limit, (unsigned long long)d->closed,
                      (unsigned long long)d->restarted, (unsigned long long)d->idle_expired,
                      (unsigned long long)d->evicted, (unsigned long long)d->handshakes_evicted,
                      (unsigned long long)d->refused);
    }
    for (size_t i = 0; i < s->edge->n_eps; i++) {
        net_endpoint_update_drops(&s->edge->eps[i]);
        const struct net_endpoint_stats *es = &s->edge->eps[i].stats;
        char text[NET_ADDR_STR_MAX];
        /* kernel: dropped before we could read them (receive buffer full) */
        net_log_print(&s->log, NET_LOG_INFO,
                      "socket %s: rx %llu (dropped %llu, kernel dropped %llu), "
                      "tx %llu (dropped %llu)",
                      net_addr_format((const struct sockaddr *)&s->edge->eps[i].local, text,
                                      sizeof text),
                      (unsigned long long)es->rx_datagrams, (unsigned long long)es->rx_dropped,
                      (unsigned long long)es->rx_kernel_dropped,
                      (unsigned long long)es->tx_datagrams, (unsigned long long)es->tx_dropped);
    }
}

static int server_run(struct server *s, const struct server_opts *o)
{
    int rc = server_setup_coap(s, o);
    if (rc)
        return rc;
    s->edge = calloc(1, sizeof *s->edge);
    if (s->edge == NULL) {
        fprintf(stderr, PROG ": out of memory\n");
        return 1;
    }
    net_edge_init(s->edge, s->coap, &s->log);
    s->edge->rcvbuf = o->rcvbuf;
    if (net_loop_init(&s->loop, &s->log, true) != COAPS_OK) {
        fprintf(stderr, PROG ": cannot set up the event loop: %s\n", strerror(errno));
        return 1;
    }
    if (!o->no_coap)
        rc = server_bind(s, o, o->port, COAPS_TRANSPORT_UDP);
    if (rc == 0)
        rc = server_setup_coaps(s, o);
    if (rc == 0 && s->dtls && net_dtls_server_attach(s->dtls, &s->loop) != COAPS_OK) {
        fprintf(stderr, PROG ": cannot add the coaps:// timer\n");
        rc = 1;
    }
    if (rc == 0 && net_edge_attach(s->edge, &s->loop) != COAPS_OK) {
        fprintf(stderr, PROG ": cannot watch the socket: %s\n", strerror(errno));
        rc = 1;
    }
    if (rc == 0 && net_loop_run(&s->loop) != COAPS_OK) {
        fprintf(stderr, PROG ": event loop failed: %s\n", strerror(errno));
        rc = 1;
    }
    if (rc == 0)
        server_log_stats(s);
    if (s->dtls)
        net_dtls_server_close(s->dtls, net_now_ms());
    net_edge_close(s->edge);
    net_loop_close(&s->loop);
    return rc;
}

int main(int argc, char **argv)
{
    struct server_opts o;
    memset(&o, 0, sizeof o);
    o.port = SERVER_DEFAULT_PORT;
    o.log_level = NET_LOG_DEFAULT;
    o.hint = SERVER_DEFAULT_HINT;
    o.rcvbuf = SERVER_DEFAULT_RCVBUF;
    o.dedup_peers = SERVER_DEFAULT_DEDUP_PEERS;
    o.psk = malloc(sizeof *o.psk);
    if (o.psk == NULL) {
        fprintf(stderr, PROG ": out of memory\n");
        return 1;
    }
    net_psk_store_init(o.psk);
    bool help = false;
    int rc = parse_opts(argc, argv, &o, &help);
    if (rc || help) {
        if (help)
            usage(stdout);
        free(o.psk);
        return rc;
    }
    struct server s;
    memset(&s, 0, sizeof s);
    s.log.level = o.log_level;
    s.log.prog = PROG;
    s.loop.epfd = -1;
    s.loop.sigfd = -1;
    rc = server_run(&s, &o);
    net_keylog_close(&s.keylog);
    coaps_dtls_pki_free(s.pki);
    free(s.dtls);
    free(o.psk);
    free(s.edge);
    free(s.test);
    free(s.coap_mem);
    return rc;
}
