/*
 * hello_server.c - the README's library example: a CoAP server with one
 * resource, /hello, on coap:// and on coaps:// (PSK), written against the
 * public API only (coaps/server.h for sockets, DTLS and the event loop,
 * coaps/coap.h for the resource).
 *
 *   hello-server [PORT [IDENTITY KEY]] [--own-loop]
 *
 * coap:// on PORT (default 5683), coaps:// on PORT + 1 when a PSK is given.
 * With --own-loop the program waits in its own poll(2) loop on the
 * server's file descriptor and deadline instead of coaps_server_run().
 * Ctrl-C or SIGTERM stops it either way.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <coaps/coap.h>
#include <coaps/server.h>

static coaps_status get_hello(void *user, const coaps_coap_request *req,
                              coaps_coap_response *resp)
{
    (void)user;
    (void)req;
    coaps_coap_response_set_content_format(resp, 0); /* text/plain */
    return coaps_coap_response_set_payload(resp, "hello", 5);
}

/* Your own loop: wait for the server's descriptor or its next deadline
 * (and, in a real program, for your other descriptors too). */
static int run_own_loop(coaps_server *srv)
{
    struct pollfd pfd = {.fd = coaps_server_fd(srv), .events = POLLIN};
    while (coaps_server_stop_signal(srv) == 0) {
        if (poll(&pfd, 1, coaps_server_timeout_ms(srv)) < 0)
            return 1;
        if (coaps_server_process(srv, 0) != COAPS_OK)
            return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    bool own_loop = argc > 1 && strcmp(argv[argc - 1], "--own-loop") == 0;
    if (own_loop)
        argc--;
    int port = argc > 1 ? atoi(argv[1]) : 5683;
    char err[256], bound[64];

    coaps_server_config cfg;
    coaps_server_config_default(&cfg);
    cfg.log_name = "hello-server";
    coaps_server *srv;
    if (coaps_server_new(&srv, &cfg, err, sizeof err) != COAPS_OK) {
        fprintf(stderr, "hello-server: %s\n", err);
        return 1;
    }

    coaps_coap_resource_def def;
    coaps_coap_resource_def_init(&def, "hello");
    def.handler[COAPS_COAP_GET] = get_hello;
    coaps_coap_resource_add(coaps_server_coap(srv), &def, NULL);

    int rc = 1;
    if (coaps_server_listen(srv, "127.0.0.1", (uint16_t)port, false, bound, sizeof bound, err,
                            sizeof err) != COAPS_OK)
        goto out;
    printf("listening on coap://%s\n", bound);
    if (argc > 3) {
        const char *id = argv[2], *key = argv[3];
        if (coaps_server_add_psk(srv, (const uint8_t *)id, strlen(id), (const uint8_t *)key,
                                 strlen(key)) != COAPS_OK ||
            coaps_server_listen(srv, "127.0.0.1", (uint16_t)(port + 1), true, bound,
                                sizeof bound, err, sizeof err) != COAPS_OK)
            goto out;
        printf("listening on coaps://%s\n", bound);
    }
    fflush(stdout);
    rc = own_loop ? run_own_loop(srv) : coaps_server_run(srv) != COAPS_OK;
out:
    if (rc)
        fprintf(stderr, "hello-server: %s\n", err);
    coaps_server_free(srv);
    return rc;
}
