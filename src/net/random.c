/* random.c - getrandom-backed random numbers (see random.h). */
#include "net/random.h"

#include <errno.h>
#include <sys/random.h>
#include <sys/types.h>

#include "net/clock.h"

coaps_status net_random_bytes(void *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t got = getrandom((unsigned char *)buf + done, n - done, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return COAPS_E_IO;
        done += (size_t)got;
    }
    return COAPS_OK;
}

uint32_t net_random_u32(void *ctx)
{
    (void)ctx;
    uint32_t v;
    if (net_random_bytes(&v, sizeof v) != COAPS_OK)
        v = (uint32_t)(net_now_ms() * 2654435761u);
    return v;
}
