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
