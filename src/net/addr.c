/* addr.c - socket address <-> coaps_peer (see addr.h). */
#include "net/addr.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "common/try.h"

_Static_assert(sizeof(struct sockaddr_in6) <= COAPS_PEER_ADDR_MAX,
               "a coaps_peer must hold a sockaddr_in6");

/* A port as getaddrinfo's service text: "65535" and a NUL. */
#define NET_PORT_TEXT_MAX 8

/* Build the sockaddr_in for an IPv4-mapped IPv6 address. */
static void unmap_v4(const struct sockaddr_in6 *s6, struct sockaddr_in *s4)
{
    memset(s4, 0, sizeof *s4);
    s4->sin_family = AF_INET;
    s4->sin_port = s6->sin6_port;
    memcpy(&s4->sin_addr, &s6->sin6_addr.s6_addr[12], 4);
}

coaps_status net_peer_from_sockaddr(const struct sockaddr *sa, socklen_t len,
                                    enum coaps_transport transport, coaps_peer *out)
{
    ENSURE(sa != NULL && out != NULL, COAPS_E_INVALID);
    memset(out, 0, sizeof *out);
    out->transport = (uint8_t)transport;
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in s4;
        ENSURE(len >= (socklen_t)sizeof s4, COAPS_E_INVALID);
        memcpy(&s4, sa, sizeof s4);
        memset(s4.sin_zero, 0, sizeof s4.sin_zero);
        memcpy(out->addr, &s4, sizeof s4);
        out->addr_len = sizeof s4;
        return COAPS_OK;
    }
    ENSURE(sa->sa_family == AF_INET6, COAPS_E_UNSUPPORTED);
    struct sockaddr_in6 s6;
    ENSURE(len >= (socklen_t)sizeof s6, COAPS_E_INVALID);
    memcpy(&s6, sa, sizeof s6);
    if (IN6_IS_ADDR_V4MAPPED(&s6.sin6_addr)) {
        struct sockaddr_in s4;
        unmap_v4(&s6, &s4);
        memcpy(out->addr, &s4, sizeof s4);
        out->addr_len = sizeof s4;
        return COAPS_OK;
    }
    struct sockaddr_in6 clean;
    memset(&clean, 0, sizeof clean);
    clean.sin6_family = AF_INET6;
    clean.sin6_port = s6.sin6_port;
    clean.sin6_addr = s6.sin6_addr;
    clean.sin6_scope_id = s6.sin6_scope_id; /* link-local needs its interface */
    memcpy(out->addr, &clean, sizeof clean);
    out->addr_len = sizeof clean;
    return COAPS_OK;
}

coaps_status net_peer_to_sockaddr(const coaps_peer *peer, int sock_family,
                                  struct sockaddr_storage *out, socklen_t *len)
{
    ENSURE(peer != NULL && out != NULL && len != NULL, COAPS_E_INVALID);
    ENSURE(peer->addr_len >= sizeof(sa_family_t) && peer->addr_len <= COAPS_PEER_ADDR_MAX,
           COAPS_E_INVALID);
    memset(out, 0, sizeof *out);
    sa_family_t family;
    memcpy(&family, peer->addr, sizeof family); /* sa_family is first on Linux */
    if (family == AF_INET && peer->addr_len == sizeof(struct sockaddr_in)) {
        struct sockaddr_in s4;
        memcpy(&s4, peer->addr, sizeof s4);
        if (sock_family == AF_INET) {
            memcpy(out, &s4, sizeof s4);
            *len = sizeof s4;
            return COAPS_OK;
        }
        ENSURE(sock_family == AF_INET6, COAPS_E_UNSUPPORTED);
        struct sockaddr_in6 s6;
        memset(&s6, 0, sizeof s6);
        s6.sin6_family = AF_INET6;
        s6.sin6_port = s4.sin_port;
        s6.sin6_addr.s6_addr[10] = 0xff; /* ::ffff:a.b.c.d, RFC 4291 2.5.5.2 */
        s6.sin6_addr.s6_addr[11] = 0xff;
        memcpy(&s6.sin6_addr.s6_addr[12], &s4.sin_addr, 4);
        memcpy(out, &s6, sizeof s6);
        *len = sizeof s6;
        return COAPS_OK;
    }
    ENSURE(family == AF_INET6 && peer->addr_len == sizeof(struct sockaddr_in6),
           COAPS_E_INVALID);
    ENSURE(sock_family == AF_INET6, COAPS_E_UNSUPPORTED);
    memcpy(out, peer->addr, sizeof(struct sockaddr_in6));
    *len = sizeof(struct sockaddr_in6);
    return COAPS_OK;
}

const char *net_addr_format(const struct sockaddr *sa, char *buf, size_t cap)
{
    char host[INET6_ADDRSTRLEN];
    char scope[IF_NAMESIZE + 2] = "";
    if (cap == 0)
        return buf;
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in s4;
        memcpy(&s4, sa, sizeof s4);
        inet_ntop(AF_INET, &s4.sin_addr, host, sizeof host);
        snprintf(buf, cap, "%s:%u", host, (unsigned)ntohs(s4.sin_port));
    } else if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 s6;
        memcpy(&s6, sa, sizeof s6);
        inet_ntop(AF_INET6, &s6.sin6_addr, host, sizeof host);
        if (s6.sin6_scope_id)
            snprintf(scope, sizeof scope, "%%%u", (unsigned)s6.sin6_scope_id);
        snprintf(buf, cap, "[%s%s]:%u", host, scope, (unsigned)ntohs(s6.sin6_port));
    } else {
        snprintf(buf, cap, "?");
    }
    return buf;
}

const char *net_peer_format(const coaps_peer *peer, char *buf, size_t cap)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    size_t n = peer->addr_len < sizeof ss ? peer->addr_len : sizeof ss;
    memcpy(&ss, peer->addr, n);
    if (n < sizeof(sa_family_t)) {
        if (cap)
            snprintf(buf, cap, "?");
        return buf;
    }
    return net_addr_format((const struct sockaddr *)&ss, buf, cap);
}

coaps_status net_addr_parse_numeric(const char *s, uint16_t port,
                                    struct sockaddr_storage *out, socklen_t *len)
{
    ENSURE(s != NULL && out != NULL && len != NULL, COAPS_E_INVALID);
    char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
        s++;
        n -= 2;
    }
    ENSURE(n > 0 && n < sizeof host, COAPS_E_INVALID);
    memcpy(host, s, n);
    host[n] = '\0';
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    char serv[NET_PORT_TEXT_MAX];
    snprintf(serv, sizeof serv, "%u", (unsigned)port);
    ENSURE(getaddrinfo(host, serv, &hints, &res) == 0 && res != NULL, COAPS_E_INVALID);
    coaps_status st = COAPS_E_INVALID;
    if (res->ai_addrlen <= sizeof *out) {
        memset(out, 0, sizeof *out);
        memcpy(out, res->ai_addr, res->ai_addrlen);
        *len = res->ai_addrlen;
        st = COAPS_OK;
    }
    freeaddrinfo(res);
    return st;
}

coaps_status net_addr_resolve(const char *host, uint16_t port, bool passive,
                              struct sockaddr_storage *out, socklen_t *len,
                              const char **err)
{
    ENSURE(out != NULL && len != NULL, COAPS_E_INVALID);
    if (host != NULL && *host != '\0' && net_addr_parse_numeric(host, port, out, len) == COAPS_OK)
        return COAPS_OK;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    char serv[NET_PORT_TEXT_MAX];
    snprintf(serv, sizeof serv, "%u", (unsigned)port);
    int rc = getaddrinfo(host && *host ? host : NULL, serv, &hints, &res);
    if (rc != 0 || res == NULL) {
        if (err)
            *err = rc ? gai_strerror(rc) : "no address";
        return COAPS_E_NOT_FOUND;
    }
    coaps_status st = COAPS_E_NOT_FOUND;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) && ai->ai_addrlen <= sizeof *out) {
            memset(out, 0, sizeof *out);
            memcpy(out, ai->ai_addr, ai->ai_addrlen);
            *len = ai->ai_addrlen;
            st = COAPS_OK;
            break;
        }
    }
    freeaddrinfo(res);
    if (st != COAPS_OK && err)
        *err = "no IPv4 or IPv6 address";
    return st;
}
