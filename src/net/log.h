/*
 * log.h - leveled logging to stderr for the edge and the programs.
 *
 * Levels are the syslog numbers libcoap users pass to -v (0 emerg .. 7 debug).
 * The logger is a small context struct owned by the program, not a global;
 * NET_LOG checks the level before formatting anything, so a disabled debug
 * line on the hot path costs one comparison.
 */
#ifndef COAPS_NET_LOG_H
#define COAPS_NET_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "coaps/status.h"

enum net_log_level {
    NET_LOG_EMERG = 0,
    NET_LOG_ALERT = 1,
    NET_LOG_CRIT = 2,
    NET_LOG_ERR = 3,
    NET_LOG_WARN = 4,
    NET_LOG_NOTICE = 5,
    NET_LOG_INFO = 6,
    NET_LOG_DEBUG = 7,
};

/* Default level: warnings and worse, as libcoap's tools do. */
#define NET_LOG_DEFAULT NET_LOG_WARN

struct net_log {
    int level;        /* lines at or below this level are printed */
    const char *prog; /* prefix of every line, e.g. "coaps-server" */
};

#define NET_LOG_ENABLED(log, lvl) ((log) != NULL && (log)->level >= (lvl))

#define NET_LOG(log, lvl, ...)                                                 \
    do {                                                                       \
        if (NET_LOG_ENABLED(log, lvl))                                         \
            net_log_print((log), (lvl), __VA_ARGS__);                          \
    } while (0)

/* Print one line "<prog>: <level>: <message>" to stderr. Use NET_LOG. */
void net_log_print(const struct net_log *log, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The runtime's errors for its user (include/coaps/server.h, client.h):
 * write one line into err (cap bytes; err may be NULL) and return st. */
coaps_status net_fail(coaps_status st, char *err, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));


#endif /* COAPS_NET_LOG_H */
