/*
 * crypto-bench - CPU cost of the crypto backend's primitives, as the DTLS
 * engine uses them (cbench.h). No network, no files: run it from two builds
 * (-DCOAPS_CRYPTO=openssl and =psa) to compare the backends; bench/compare
 * does. See bench/README.md for the figures.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cbench.h"
#include "cli/cli.h"

/* Default CPU time per figure: the 26 figures take about 6 s. */
#define TIME_MS_DEFAULT 200
/* A minute per figure is a soak test, not a benchmark. */
#define TIME_MS_MAX 60000

enum what { WHAT_ALL, WHAT_AEAD, WHAT_HANDSHAKE };

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " CBENCH_PROG " [--time MS] [--only aead|handshake] [--json | --text]\n"
            "  --time MS    CPU time spent on each figure, 1-%d (default %d)\n"
            "  --only       aead: record seal/open only; handshake: HMAC, PRF, ECDHE,\n"
            "               ECDSA only (default both)\n"
            "  --json       one JSON line per figure on stdout (default)\n"
            "  --text       one readable line per figure instead\n"
            "  -h, --help   this help\n"
            "Figures are this thread's CPU time per operation (ns_per_op).\n",
            TIME_MS_MAX, TIME_MS_DEFAULT);
}

static int bad_flag(const char *flag, const char *value, const char *what)
{
    fprintf(stderr, CBENCH_PROG ": %s '%s': %s (see " CBENCH_PROG " -h)\n", flag, value, what);
    return 2;
}

enum { OPT_TIME = 256, OPT_ONLY, OPT_JSON, OPT_TEXT };

static const struct option longs[] = {
    {"time", required_argument, NULL, OPT_TIME}, {"only", required_argument, NULL, OPT_ONLY},
    {"json", no_argument, NULL, OPT_JSON},       {"text", no_argument, NULL, OPT_TEXT},
    {"help", no_argument, NULL, 'h'},            {NULL, 0, NULL, 0},
};

static int parse_one(int c, const char *arg, struct cb_opts *o, enum what *what)
{
    uint64_t v;
    switch (c) {
    case OPT_TIME:
        if (!cli_parse_uint(arg, 1, TIME_MS_MAX, &v))
            return bad_flag("--time", arg, "not a number of milliseconds 1-60000");
        o->time_ms = (uint32_t)v;
        return 0;
    case OPT_ONLY:
        if (strcmp(arg, "aead") == 0)
            *what = WHAT_AEAD;
        else if (strcmp(arg, "handshake") == 0)
            *what = WHAT_HANDSHAKE;
        else
            return bad_flag("--only", arg, "not aead or handshake");
        return 0;
    case OPT_JSON:
    case OPT_TEXT:
        o->json = c == OPT_JSON;
        return 0;
    case ':':
        fprintf(stderr, CBENCH_PROG ": option %s needs a value (see " CBENCH_PROG " -h)\n",
                arg);
        return 2;
    default:
        fprintf(stderr, CBENCH_PROG ": unknown option '%s' (see " CBENCH_PROG " -h)\n", arg);
        return 2;
    }
}

/* 0: run; 1: help printed; 2: bad flag (one line said why). */
static int parse(int argc, char **argv, struct cb_opts *o, enum what *what)
{
    o->time_ms = TIME_MS_DEFAULT;
    o->json = true;
    *what = WHAT_ALL;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longs, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return 1;
        }
        bool bad = c == ':' || c == '?';
        int rc = parse_one(c, bad ? argv[optind - 1] : optarg, o, what);
        if (rc != 0)
            return rc;
    }
    if (optind < argc) {
        fprintf(stderr, CBENCH_PROG ": unexpected argument '%s' (see " CBENCH_PROG " -h)\n",
                argv[optind]);
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct cb_opts o;
    enum what what;
    int rc = parse(argc, argv, &o, &what);
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    if (what != WHAT_HANDSHAKE)
        rc |= cb_aead_all(&o);
    if (what != WHAT_AEAD)
        rc |= cb_handshake_all(&o);
    return rc;
}
