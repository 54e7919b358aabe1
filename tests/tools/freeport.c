/*
 * freeport - print a UDP port that is free on both 127.0.0.1 and ::1 right
 * now (the kernel picks it), for tests that start servers on loopback.
 * There is a window between this check and the server's bind; the test
 * scripts retry with another port when the bind fails.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/addr.h"
#include "net/udp.h"

/* Tries before giving up: a port free on [::] dual stack is nearly always
 * free on both loopbacks. */
#define FREEPORT_TRIES 20

int main(void)
{
    for (int i = 0; i < FREEPORT_TRIES; i++) {
        struct sockaddr_storage any, local;
        socklen_t any_len, local_len;
        int fd;
        if (net_addr_parse_numeric("::", 0, &any, &any_len) != COAPS_OK ||
            net_udp_open((struct sockaddr *)&any, any_len, &fd, NULL) != COAPS_OK)
            break;
        if (net_udp_local(fd, &local, &local_len) == COAPS_OK) {
            struct sockaddr_in6 s6;
            memcpy(&s6, &local, sizeof s6);
            unsigned port = ntohs(s6.sin6_port);
            close(fd);
            if (port >= 1024) {
                printf("%u\n", port);
                return 0;
            }
            continue;
        }
        close(fd);
    }
    fprintf(stderr, "freeport: no free UDP port found\n");
    return 1;
}
