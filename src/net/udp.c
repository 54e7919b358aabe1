/* udp.c - non-blocking UDP sockets, batched I/O (see udp.h). */
#include "net/udp.h"

#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "common/try.h"

static bool is_v6_wildcard(const struct sockaddr *addr)
{
    if (addr->sa_family != AF_INET6)
        return false;
    struct sockaddr_in6 s6;
    memcpy(&s6, addr, sizeof s6);
    return IN6_IS_ADDR_UNSPECIFIED(&s6.sin6_addr);
}

coaps_status net_udp_open(const struct sockaddr *addr, socklen_t len, int *fd, int *err_no)
{
    *fd = -1;
    int s = socket(addr->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0)
        goto fail;
    if (addr->sa_family == AF_INET6) {
        int v6only = is_v6_wildcard(addr) ? 0 : 1;
        if (setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only) < 0)
            goto fail;
    }
    /* No SO_REUSEADDR: for UDP it would let a second server bind the same
     * port silently; we want "Address already in use". */
    if (bind(s, addr, len) < 0)
        goto fail;
    *fd = s;
    return COAPS_OK;
fail:
    if (err_no)
        *err_no = errno;
    if (s >= 0)
        close(s);
    return COAPS_E_IO;
}

coaps_status net_udp_local(int fd, struct sockaddr_storage *out, socklen_t *len)
{
    *len = sizeof *out;
    ENSURE(getsockname(fd, (struct sockaddr *)out, len) == 0, COAPS_E_IO);
    return COAPS_OK;
}

int net_udp_recv_batch(int fd, struct net_dgram *d, size_t n, size_t *truncated)
{
    struct mmsghdr msgs[NET_UDP_BATCH];
    struct iovec iov[NET_UDP_BATCH];
    if (n > NET_UDP_BATCH)
        n = NET_UDP_BATCH;
    memset(msgs, 0, sizeof msgs);
    for (size_t i = 0; i < n; i++) {
        iov[i].iov_base = d[i].data;
        iov[i].iov_len = sizeof d[i].data;
        msgs[i].msg_hdr.msg_name = &d[i].addr;
        msgs[i].msg_hdr.msg_namelen = sizeof d[i].addr;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int got;
    do {
        got = recvmmsg(fd, msgs, (unsigned)n, MSG_DONTWAIT, NULL);
    } while (got < 0 && errno == EINTR);
    if (got < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    for (int i = 0; i < got; i++) {
        d[i].addr_len = msgs[i].msg_hdr.msg_namelen;
        d[i].len = msgs[i].msg_len;
        d[i].truncated = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
        if (d[i].truncated) {
            if (truncated)
                (*truncated)++;
        }
    }
    return got;
}

size_t net_udp_send_batch(int fd, const struct net_dgram *d, size_t n)
{
    struct mmsghdr msgs[NET_UDP_BATCH];
    struct iovec iov[NET_UDP_BATCH];
    if (n > NET_UDP_BATCH)
        n = NET_UDP_BATCH;
    memset(msgs, 0, sizeof msgs);
    for (size_t i = 0; i < n; i++) {
        iov[i].iov_base = (void *)d[i].data;
        iov[i].iov_len = d[i].len;
        msgs[i].msg_hdr.msg_name = (void *)&d[i].addr;
        msgs[i].msg_hdr.msg_namelen = d[i].addr_len;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    size_t done = 0, sent = 0;
    while (done < n) {
        int rc = sendmmsg(fd, msgs + done, (unsigned)(n - done), MSG_DONTWAIT);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0) {
            /* The first datagram failed (e.g. ECONNREFUSED from an earlier
             * ICMP, or EAGAIN): drop it and go on with the rest. */
            done++;
            continue;
        }
        done += (size_t)rc;
        sent += (size_t)rc;
    }
    return sent;
}
