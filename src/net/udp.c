/* udp.c - non-blocking UDP sockets, batched I/O (see udp.h). */
#include "net/udp.h"

#include <errno.h>
#include <stdbool.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdint.h>
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

static coaps_status udp_open(const struct sockaddr *addr, socklen_t len, bool reuseport, int *fd,
                             int *err_no)
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
     * port silently; we want "Address already in use". SO_REUSEPORT only
     * when asked (the workers of one server): it lets sockets of the same
     * user share the port, the kernel spreading datagrams among them. */
    int on = 1;
    if (reuseport && setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) < 0)
        goto fail;
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

coaps_status net_udp_open(const struct sockaddr *addr, socklen_t len, int *fd, int *err_no)
{
    return udp_open(addr, len, false, fd, err_no);
}

coaps_status net_udp_open_reuseport(const struct sockaddr *addr, socklen_t len, int *fd,
                                    int *err_no)
{
    return udp_open(addr, len, true, fd, err_no);
}

coaps_status net_udp_local(int fd, struct sockaddr_storage *out, socklen_t *len)
{
    *len = sizeof *out;
    ENSURE(getsockname(fd, (struct sockaddr *)out, len) == 0, COAPS_E_IO);
    return COAPS_OK;
}

coaps_status net_udp_set_rcvbuf(int fd, int bytes, int *got)
{
    bool set = setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) == 0 ||
               setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes) == 0;
    if (got) {
        socklen_t len = sizeof *got;
        if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, got, &len) != 0)
            *got = 0;
    }
    return set ? COAPS_OK : COAPS_E_IO;
}

bool net_udp_enable_drop_count(int fd)
{
    int on = 1;
    return setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on) == 0;
}

bool net_udp_drops(int fd, uint32_t *drops)
{
    uint32_t mem[SK_MEMINFO_VARS];
    socklen_t len = sizeof mem;
    if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) != 0 ||
        len < (SK_MEMINFO_DROPS + 1) * sizeof mem[0])
        return false;
    *drops = mem[SK_MEMINFO_DROPS];
    return true;
}

bool net_udp_enable_gro(int fd)
{
    int on = 1;
    return setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof on) == 0;
}

bool net_udp_has_gso(int fd)
{
    int seg = 0;
    socklen_t len = sizeof seg;
    return getsockopt(fd, SOL_UDP, UDP_SEGMENT, &seg, &len) == 0;
}

bool net_rx_next(const struct net_rx_dgram *d, size_t *off, size_t max, const uint8_t **data,
                 size_t *len, size_t *dropped)
{
    if (*off == SIZE_MAX)
        return false;
    if (d->truncated || d->seg == 0) { /* one datagram (maybe empty) */
        *off = SIZE_MAX;
        if (d->truncated || d->len > max) {
            (*dropped)++;
            return false;
        }
        *data = d->data;
        *len = d->len;
        return true;
    }
    while (*off < d->len) {
        size_t n = d->len - *off < d->seg ? d->len - *off : d->seg;
        *data = d->data + *off;
        *off += n;
        if (n <= max) {
            *len = n;
            return true;
        }
        (*dropped)++;
    }
    return false;
}

/* A received message's ancillary data: the GRO segment size (0 if none)
 * and the socket's drop count (SO_RXQ_OVFL). */
static void rx_ancillary(struct msghdr *mh, struct net_rx_dgram *d)
{
    d->seg = 0;
    d->drops = 0;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
        if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
            int seg;
            memcpy(&seg, CMSG_DATA(cm), sizeof seg);
            d->seg = seg > 0 ? (size_t)seg : 0;
        } else if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL) {
            memcpy(&d->drops, CMSG_DATA(cm), sizeof d->drops);
        }
    }
}

int net_udp_recv_batch(int fd, struct net_rx_dgram *d, size_t n)
{
    struct mmsghdr msgs[NET_UDP_BATCH];
    struct iovec iov[NET_UDP_BATCH];
    struct { /* UDP_GRO's int and SO_RXQ_OVFL's uint32_t */
        _Alignas(struct cmsghdr) char buf[CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(uint32_t))];
    } ctl[NET_UDP_BATCH];
    if (n > NET_UDP_BATCH)
        n = NET_UDP_BATCH;
    /* Only the n headers this call uses, field by field: at one datagram
     * per wake-up (devices at NSTART = 1) this set-up is paid per
     * datagram. */
    for (size_t i = 0; i < n; i++) {
        iov[i].iov_base = d[i].data;
        iov[i].iov_len = sizeof d[i].data;
        msgs[i].msg_hdr = (struct msghdr){
            .msg_name = &d[i].addr,
            .msg_namelen = sizeof d[i].addr,
            .msg_iov = &iov[i],
            .msg_iovlen = 1,
            .msg_control = ctl[i].buf,
            .msg_controllen = sizeof ctl[i].buf,
        };
        msgs[i].msg_len = 0;
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
        rx_ancillary(&msgs[i].msg_hdr, &d[i]);
    }
    return got;
}

/* How many datagrams from d[0] on can go as one GSO send: the same
 * address, the same length, except that a shorter last one ends the run. */
static size_t gso_run(const struct net_dgram *d, size_t n)
{
    size_t seg = d[0].len, total = seg, k = 1;
    if (seg == 0 || seg > NET_UDP_GSO_SEG_MAX)
        return 1;
    while (k < n && k < NET_UDP_GSO_SEGMENTS && d[k].len > 0 && d[k].len <= seg &&
           total + d[k].len <= NET_UDP_GSO_BYTES && d[k].addr_len == d[0].addr_len &&
           memcmp(&d[k].addr, &d[0].addr, d[0].addr_len) == 0) {
        total += d[k++].len;
        if (d[k - 1].len < seg)
            break;
    }
    return k;
}

struct gso_ctl {
    _Alignas(struct cmsghdr) char buf[CMSG_SPACE(sizeof(uint16_t))];
};

static void gso_set(struct msghdr *mh, struct gso_ctl *ctl, size_t seg)
{
    memset(ctl, 0, sizeof *ctl);
    mh->msg_control = ctl->buf;
    mh->msg_controllen = sizeof ctl->buf;
    struct cmsghdr *cm = CMSG_FIRSTHDR(mh);
    cm->cmsg_level = SOL_UDP;
    cm->cmsg_type = UDP_SEGMENT;
    cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    uint16_t size = (uint16_t)seg;
    memcpy(CMSG_DATA(cm), &size, sizeof size);
}

/* Refusals that mean this socket or route cannot do GSO at all. */
static bool gso_unsupported(int err)
{
    return err == EIO || err == ENOPROTOOPT || err == EOPNOTSUPP;
}

/* One msghdr per datagram, or per GSO run if gso; count[i] = datagrams in
 * msgs[i]. Returns the number of messages. */
static size_t send_plan(const struct net_dgram *d, size_t n, bool gso, struct mmsghdr *msgs,
                        struct iovec *iov, struct gso_ctl *ctl, size_t *count)
{
    size_t m = 0;
    memset(msgs, 0, n * sizeof *msgs);
    for (size_t i = 0; i < n; m++) {
        size_t k = gso ? gso_run(d + i, n - i) : 1;
        for (size_t j = 0; j < k; j++) {
            iov[i + j].iov_base = (void *)d[i + j].data;
            iov[i + j].iov_len = d[i + j].len;
        }
        struct msghdr *mh = &msgs[m].msg_hdr;
        mh->msg_name = (void *)&d[i].addr;
        mh->msg_namelen = d[i].addr_len;
        mh->msg_iov = &iov[i];
        mh->msg_iovlen = k;
        if (k > 1)
            gso_set(mh, &ctl[m], d[i].len);
        count[m] = k;
        i += k;
    }
    return m;
}

size_t net_udp_send_batch(int fd, const struct net_dgram *d, size_t n, bool *gso)
{
    struct mmsghdr msgs[NET_UDP_BATCH];
    struct iovec iov[NET_UDP_BATCH];
    struct gso_ctl ctl[NET_UDP_BATCH];
    size_t count[NET_UDP_BATCH];
    if (n > NET_UDP_BATCH)
        n = NET_UDP_BATCH;
    size_t m = send_plan(d, n, gso != NULL && *gso, msgs, iov, ctl, count);
    size_t done = 0, sent = 0;
    while (done < m) {
        int rc = sendmmsg(fd, msgs + done, (unsigned)(m - done), MSG_DONTWAIT);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc > 0) {
            for (size_t end = done + (size_t)rc; done < end; done++)
                sent += count[done];
            continue;
        }
        /* msgs[done] failed (e.g. ECONNREFUSED from an earlier ICMP, or
         * EAGAIN): a GSO run the kernel refused goes again one by one
         * (its first datagram is d[its first iovec's index]); anything
         * else is dropped, and we go on with the rest. */
        int err = errno;
        if (count[done] > 1 && err != EAGAIN && err != EWOULDBLOCK && err != ENOBUFS) {
            if (gso_unsupported(err))
                *gso = false;
            size_t first = (size_t)(msgs[done].msg_hdr.msg_iov - iov);
            sent += net_udp_send_batch(fd, d + first, count[done], NULL);
        }
        done++;
    }
    return sent;
}
