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
#include "light/light.h"
#include "net/server_worker.h"

#define PROG "coaps-server"

/* --workers: the default, and the bound (net/server_worker.h). One
 * worker is the server as it was before workers: no SO_REUSEPORT, no
 * thread. The default stays 1 while the tests and bounds assume one
 * process-wide table of sessions; --workers 0 asks for one per CPU. */
#define SERVER_DEFAULT_WORKERS 1
#define SERVER_WORKERS_MAX 64

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
    unsigned workers; /* --workers: 1 = one thread, as before workers */
    enum net_cid_steer cid_steer; /* --cid-steer */
};

struct server {
    coaps_server *srv;
    struct light light;
    struct test_resources *test;
};


/* The server, its resources and its credentials, from the flags. 0, or
 * the exit code after a line on stderr. */
int server_setup(struct server *s, struct server_opts *o);
/* A socket for coap:// or coaps:// on port; announce: print the
 * "listening on" line. */
int server_listen_on(struct server *s, const struct server_opts *o, uint16_t port, bool dtls,
                     bool announce);
/* coaps:// as the flags ask (none, or no credentials: 0 and a line). */
int server_listen_coaps(struct server *s, const struct server_opts *o);
/* The coaps:// port the flags ask for (0: any). */
uint16_t server_coaps_port(const struct server_opts *o);

/* Online CPUs (at least 1, at most SERVER_WORKERS_MAX). */
unsigned server_online_cpus(void);

/* Serve with o->workers (> 1) threads until SIGINT/SIGTERM (workers.c). */
int workers_run(struct server_opts *o);

#endif /* COAPS_SERVER_APP_H */
