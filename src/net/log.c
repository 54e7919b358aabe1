/* log.c - leveled logging to stderr (see log.h). */
#include "net/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/try.h"

static const char *const level_names[] = {
    "emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
};

/* Longest log line; longer messages are cut (a log line, not a dump). */
#define NET_LOG_LINE_MAX 512

/* Highest -v number libcoap's tools accept (its 8 and 9 add TLS library
 * logging); we treat them as debug. */
#define NET_LOG_LIBCOAP_MAX 9

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

bool net_log_parse_level(const char *s, int *level)
{
    static const struct {
        const char *name;
        int level;
    } aliases[] = {{"err", NET_LOG_ERR}, {"warn", NET_LOG_WARN}};
    if (s == NULL || *s == '\0')
        return false;
    if (s[0] >= '0' && s[0] <= '9') {
        char *end;
        long v = strtol(s, &end, 10);
        if (*end != '\0' || v > NET_LOG_LIBCOAP_MAX)
            return false;
        *level = v > NET_LOG_DEBUG ? NET_LOG_DEBUG : (int)v;
        return true;
    }
    for (size_t i = 0; i < COAPS_ARRAY_LEN(level_names); i++)
        if (strcasecmp(s, level_names[i]) == 0) {
            *level = (int)i;
            return true;
        }
    for (size_t i = 0; i < COAPS_ARRAY_LEN(aliases); i++)
        if (strcasecmp(s, aliases[i].name) == 0) {
            *level = aliases[i].level;
            return true;
        }
    return false;
}
