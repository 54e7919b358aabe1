/* log.c - leveled logging to stderr (see log.h). */
#include "net/log.h"

#include <stdarg.h>
#include <stdio.h>

#include "common/try.h"

static const char *const level_names[] = {
    "emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
};

/* Longest log line; longer messages are cut (a log line, not a dump). */
#define NET_LOG_LINE_MAX 512

void net_log_print(const struct net_log *log, int level, const char *fmt, ...)
{
    char line[NET_LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    int idx = level < 0 ? 0 : level > NET_LOG_DEBUG ? NET_LOG_DEBUG : level;
    fprintf(stderr, "%s: %s: %s\n", log->prog ? log->prog : "coaps", level_names[idx], line);
}

coaps_status net_fail(coaps_status st, char *err, size_t cap, const char *fmt, ...)
{
    if (err != NULL && cap > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    return st;
}
