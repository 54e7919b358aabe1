/* log.c - libcoap's logging: one process-wide level (syslog's numbers,
 * default LOG_WARNING) and lines on stderr. */
#include <stdarg.h>
#include <stdio.h>

#include "compat/compat.h"

/* libcoap's default level. */
static coap_log_t log_level = LOG_WARNING;

void coap_set_log_level(coap_log_t level)
{
    log_level = level;
}

coap_log_t coap_get_log_level(void)
{
    return log_level;
}

/* The coaps runtime takes 0-7 (syslog's range); libcoap's levels above
 * LOG_DEBUG (cipher and packet dumps) mean "everything". */
int compat_log_level(void)
{
    if (log_level < LOG_EMERG)
        return LOG_EMERG;
    return log_level > LOG_DEBUG ? LOG_DEBUG : log_level;
}

static const char *const level_names[] = {"EMRG", "ALRT", "CRIT", "ERR ",
                                          "WARN", "NOTE", "INFO", "DEBG"};

void coap_log_impl(coap_log_t level, const char *format, ...)
{
    if (format == NULL)
        return;
    int i = level < LOG_EMERG ? LOG_EMERG : level > LOG_DEBUG ? LOG_DEBUG : level;
    fprintf(stderr, "coap %s ", level_names[i]);
    va_list ap;
    va_start(ap, format);
    vfprintf(stderr, format, ap);
    va_end(ap);
}
