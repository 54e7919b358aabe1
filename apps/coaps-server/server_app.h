/*
 * server_app.h - what coaps-server's main.c and its workers (workers.c)
 * share: the parsed flags, one server with its resources, and the steps
 * that set one up.
 */
#ifndef COAPS_SERVER_APP_H
#define COAPS_SERVER_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coaps/dtls.h"
#include "coaps/server.h"
#include "cluster.h"
#include "light/light.h"
#include "net/server_worker.h"
#include "test_resources.h"

#define PROG "coaps-server"

/* --workers: the bound (net/server_worker.h). The default is one worker
 * per online CPU (server_online_cpus); one worker is the server without
 * threads and without SO_REUSEPORT. */
#define SERVER_WORKERS_MAX 64

/* Longest "listening on coaps://[addr]:port" line, kept until every
 * worker's socket is bound and the state file restored. */
#define SERVER_LINE_MAX 160

/* A credential flag, applied in order once the server exists. */
struct psk_flag {
    int opt; /* OPT_PSK, OPT_PSK_FILE or OPT_PSK_DEFAULT */
    const char *arg;
};

struct server_opts {
    const char *bind_host; /* NULL: [::] dual stack (else 0.0.0.0) */
    uint16_t port;
    bool test_resources;
    bool rcvbuf_set;  /* --rcvbuf given: say so if the kernel gives less */
    bool no_coap, no_coaps;
    bool coaps_port_set;
    uint16_t coaps_port;
    coaps_server_config cfg;
    coaps_dtls_pki_files pki_files; /* -c -j -C --rpk-trust */
    bool pki_given;
    struct psk_flag *psk; /* argc entries at most */
    size_t n_psk;
    unsigned workers; /* --workers (default: online CPUs); 1 = one thread */
    bool workers_set; /* --workers given */
    enum net_cid_steer cid_steer; /* --cid-steer */
};

struct server {
    coaps_server *srv;
    struct light light;
    struct cluster_light cluster; /* --store: the light shared by the nodes */
    struct test_resources *test; /* --test-resources: every worker's, not owned */
    struct test_counter counter;  /* this server's /test/counter */
};


/* The server, its resources and its credentials, from the flags; test:
 * the --test-resources (NULL without the flag), one for every worker.
 * 0, or the exit code after a line on stderr. */
int server_setup(struct server *s, struct server_opts *o, struct test_resources *test);
/* A socket for coap:// or coaps:// on port; line: NULL, or where the
 * "listening on" line is kept (SERVER_LINE_MAX bytes) for the caller to
 * print once the server is ready. */
int server_listen_on(struct server *s, const struct server_opts *o, uint16_t port, bool dtls,
                     char *line);
/* coaps:// as the flags ask (none, or no credentials: 0 and a line). */
int server_listen_coaps(struct server *s, const struct server_opts *o, char *line);
/* The coaps:// port the flags ask for (0: any). */
uint16_t server_coaps_port(const struct server_opts *o);

/* Online CPUs (at least 1, at most SERVER_WORKERS_MAX). */
unsigned server_online_cpus(void);

/* Serve with o->workers (> 1) threads until SIGINT/SIGTERM (workers.c). */
int workers_run(struct server_opts *o, struct test_resources *test);

#endif /* COAPS_SERVER_APP_H */
