/*
 * hello_server.c - the README's library example as a real program: a CoAP
 * server with one resource, built against an INSTALLED coaps (find_package
 * and pkg-config) by tests/install/test_install.sh. It serves /hello on the
 * port given as argv[1] until it has answered argv[2] requests.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <coaps/coap.h>

static int served;

static coaps_status get_hello(void *user, const coaps_coap_request *req, coaps_coap_response *resp)
{
    (void)user;
    (void)req;
    served++;
    coaps_coap_response_set_content_format(resp, 0); /* text/plain */
    return coaps_coap_response_set_payload(resp, "hello", 5);
}

static uint32_t my_random_u32(void *ctx)
{
    (void)ctx;
    return (uint32_t)rand();
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: hello_server PORT COUNT\n");
        return 2;
    }
    int want = atoi(argv[2]);

    coaps_coap_config cfg;
    coaps_coap_config_default(&cfg);
    cfg.random = my_random_u32; /* the core never calls the OS */
    size_t n = coaps_coap_endpoint_size(&cfg);
    void *mem = malloc(n);
    coaps_coap_endpoint *ep;
    if (!mem || coaps_coap_endpoint_init(mem, n, &cfg, &ep) != COAPS_OK)
        return 1;

    coaps_coap_resource_def def;
    coaps_coap_resource_def_init(&def, "hello");
    def.handler[COAPS_COAP_GET] = get_hello;
    if (coaps_coap_resource_add(ep, &def, NULL) != COAPS_OK)
        return 1;

    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        perror("hello_server: bind");
        return 1;
    }
    printf("listening\n");
    fflush(stdout);

    uint8_t buf[1500], out[1500];
    while (served < want) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        poll(&p, 1, 100);
        uint64_t now = now_ms();
        if (p.revents & POLLIN) {
            struct sockaddr_in from;
            socklen_t fl = sizeof from;
            ssize_t len = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
            if (len >= 0) {
                coaps_peer peer = {.addr_len = (uint8_t)fl, .transport = COAPS_TRANSPORT_UDP};
                memcpy(peer.addr, &from, fl);
                coaps_coap_input(ep, &peer, buf, (size_t)len, now);
            }
        }
        coaps_coap_tick(ep, now);
        coaps_peer to;
        size_t olen;
        while (coaps_coap_output(ep, &to, out, sizeof out, &olen, now) == COAPS_OK)
            sendto(fd, out, olen, 0, (struct sockaddr *)to.addr, to.addr_len);
    }
    /* Let the last response leave before exiting. */
    coaps_peer to;
    size_t olen;
    while (coaps_coap_output(ep, &to, out, sizeof out, &olen, now_ms()) == COAPS_OK)
        sendto(fd, out, olen, 0, (struct sockaddr *)to.addr, to.addr_len);
    close(fd);
    free(mem);
    return 0;
}
