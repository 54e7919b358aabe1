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
#include "light.h"
#include "net/addr.h"
#include "net/cli.h"
#include "net/edge.h"
#include "net/log.h"
#include "net/loop.h"
#include "net/random.h"
#include "test_resources.h"

#define PROG "coaps-server"

/* RFC 7252 6.1: the default port of coap://. */
#define SERVER_DEFAULT_PORT 5683

/* Bound of --max-observers: the core keeps one registration per observer
 * and sizes the table from it; 4096 observers of one light is plenty. */
#define SERVER_MAX_OBSERVERS_LIMIT 4096

struct server_opts {
    const char *bind_host; /* NULL: [::] dual stack (else 0.0.0.0) */
    uint16_t port;
    int log_level;
    uint16_t max_observers;
    bool test_resources;
};

struct server {
    struct net_log log;
    struct net_loop loop;
    struct net_edge *edge;
    void *coap_mem;
    coaps_coap_endpoint *coap;
    struct light light;
    struct test_resources *test;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " PROG " [-A address] [-p port] [-v level] [--max-observers N]\n"
            "                    [--test-resources] [-h]\n"
            "The reference smart light: GET/PUT/observe coap://HOST/light (JSON state).\n"
            "  -A address         bind to this address or host name (default: all, [::] dual stack)\n"
            "  -p port            UDP port for coap:// (default 5683; 0 = any free port)\n"
            "  -v level           log level 0-7 or emerg..debug (default 4 = warning)\n"
            "  --max-observers N  observe registrations kept at once (default 32)\n"
            "  --test-resources   add /test/large and /test/upload (block-wise tests)\n"
            "  -h, --help         this help\n");
}

/* One line naming what is wrong, as the team's CLI rule asks. */
static int bad_flag(const char *flag, const char *value, const char *what)
{
    fprintf(stderr, PROG ": %s '%s': %s (see " PROG " -h)\n", flag, value, what);
    return 2;
}

enum { OPT_MAX_OBSERVERS = 256, OPT_TEST_RESOURCES };

static int parse_opts(int argc, char **argv, struct server_opts *o, bool *help)
{
    static const struct option longs[] = {
        {"max-observers", required_argument, NULL, OPT_MAX_OBSERVERS},
        {"test-resources", no_argument, NULL, OPT_TEST_RESOURCES},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint64_t v;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":A:p:v:h", longs, NULL)) != -1) {
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
    return 0;
}

static int server_setup_coap(struct server *s, const struct server_opts *o)
{
    coaps_coap_config cfg;
    coaps_coap_config_default(&cfg);
    cfg.random = net_random_u32;
    if (o->max_observers)
        cfg.max_observers = o->max_observers;
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

/* Bind coap:// on -A or, by default, on [::] dual stack, falling back to
 * 0.0.0.0 on hosts without IPv6. */
static int server_bind(struct server *s, const struct server_opts *o)
{
    struct sockaddr_storage ss;
    socklen_t len;
    const char *err = NULL;
    const char *host = o->bind_host ? o->bind_host : "::";
    if (net_addr_resolve(host, o->port, true, &ss, &len, &err) != COAPS_OK) {
        fprintf(stderr, PROG ": cannot resolve -A '%s': %s\n", host, err ? err : "unknown");
        return 1;
    }
    int err_no = 0;
    struct net_endpoint *ep = NULL;
    coaps_status st = net_edge_open(s->edge, (struct sockaddr *)&ss, len, COAPS_TRANSPORT_UDP,
                                    &ep, &err_no);
    if (st != COAPS_OK && o->bind_host == NULL && err_no == EAFNOSUPPORT) {
        net_addr_resolve("0.0.0.0", o->port, true, &ss, &len, &err);
        st = net_edge_open(s->edge, (struct sockaddr *)&ss, len, COAPS_TRANSPORT_UDP, &ep,
                           &err_no);
    }
    if (st != COAPS_OK) {
        char text[NET_ADDR_STR_MAX];
        fprintf(stderr, PROG ": cannot bind %s: %s\n",
                net_addr_format((struct sockaddr *)&ss, text, sizeof text), strerror(err_no));
        return 1;
    }
    char text[NET_ADDR_STR_MAX];
    fprintf(stderr, PROG ": listening on coap://%s\n",
            net_addr_format((struct sockaddr *)&ep->local, text, sizeof text));
    return 0;
}

static void server_log_stats(const struct server *s)
{
    if (!NET_LOG_ENABLED(&s->log, NET_LOG_INFO))
        return;
    const coaps_coap_stats *st = coaps_coap_get_stats(s->coap);
    net_log_print(&s->log, NET_LOG_INFO,
                  "stats: rx %llu (malformed %llu, duplicates %llu), requests %llu, tx %llu "
                  "(retransmissions %llu, rst %llu, notifications %llu, dropped %llu), "
                  "timeouts %llu, table full %llu",
                  (unsigned long long)st->rx_datagrams, (unsigned long long)st->rx_malformed,
                  (unsigned long long)st->rx_duplicates, (unsigned long long)st->rx_requests,
                  (unsigned long long)st->tx_datagrams, (unsigned long long)st->tx_retransmissions,
                  (unsigned long long)st->tx_rst, (unsigned long long)st->tx_notifications,
                  (unsigned long long)st->tx_dropped, (unsigned long long)st->timeouts,
                  (unsigned long long)st->table_full);
    for (size_t i = 0; i < s->edge->n_eps; i++) {
        const struct net_endpoint_stats *es = &s->edge->eps[i].stats;
        char text[NET_ADDR_STR_MAX];
        net_log_print(&s->log, NET_LOG_INFO,
                      "socket %s: rx %llu (dropped %llu), tx %llu (dropped %llu)",
                      net_addr_format((const struct sockaddr *)&s->edge->eps[i].local, text,
                                      sizeof text),
                      (unsigned long long)es->rx_datagrams, (unsigned long long)es->rx_dropped,
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
    if (net_loop_init(&s->loop, &s->log, true) != COAPS_OK) {
        fprintf(stderr, PROG ": cannot set up the event loop: %s\n", strerror(errno));
        return 1;
    }
    rc = server_bind(s, o);
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
    net_edge_close(s->edge);
    net_loop_close(&s->loop);
    return rc;
}

int main(int argc, char **argv)
{
    struct server_opts o = {NULL, SERVER_DEFAULT_PORT, NET_LOG_DEFAULT, 0, false};
    bool help = false;
    int rc = parse_opts(argc, argv, &o, &help);
    if (rc || help) {
        if (help)
            usage(stdout);
        return rc;
    }
    struct server s;
    memset(&s, 0, sizeof s);
    s.log.level = o.log_level;
    s.log.prog = PROG;
    s.loop.epfd = -1;
    s.loop.sigfd = -1;
    rc = server_run(&s, &o);
    free(s.edge);
    free(s.test);
    free(s.coap_mem);
    return rc;
}
