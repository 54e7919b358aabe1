/* clock.c - monotonic millisecond clock (see clock.h). */
#include "net/clock.h"

#include <time.h>

uint64_t net_now_ms(void)
{
    struct timespec ts;
    /* CLOCK_MONOTONIC cannot fail on Linux with a valid pointer. */
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void net_sleep_until_ms(uint64_t t)
{
    for (uint64_t now = net_now_ms(); now < t; now = net_now_ms()) {
        struct timespec ts = {(time_t)((t - now) / 1000), (long)((t - now) % 1000) * 1000000L};
        (void)nanosleep(&ts, NULL); /* EINTR: the loop sleeps the rest */
    }
}
