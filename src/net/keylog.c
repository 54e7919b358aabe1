/* keylog.c - NSS key log file for Wireshark (see keylog.h). */
#include "net/keylog.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

coaps_status net_keylog_open(struct net_keylog *k, const char **path)
{
    k->f = NULL;
    const char *p = getenv(NET_KEYLOG_ENV);
    *path = NULL;
    if (p == NULL || *p == '\0')
        return COAPS_OK;
    *path = p;
    k->f = fopen(p, "a");
    return k->f ? COAPS_OK : COAPS_E_IO;
}

void net_keylog_line(void *user, const char *line)
{
    struct net_keylog *k = user;
    if (k == NULL || k->f == NULL)
        return;
    fprintf(k->f, "%s\n", line);
    fflush(k->f); /* a capture is read while the server runs */
}

void net_keylog_close(struct net_keylog *k)
{
    if (k->f)
        fclose(k->f);
    k->f = NULL;
}

coaps_status net_keylog_start(struct net_keylog *k, const struct net_log *log,
                              coaps_dtls_config *cfg, char *err, size_t cap)
{
    const char *path = NULL;
    if (net_keylog_open(k, &path) != COAPS_OK)
        return net_fail(COAPS_E_IO, err, cap, "SSLKEYLOGFILE '%s': %s", path, strerror(errno));
    if (k->f == NULL)
        return COAPS_OK;
    NET_LOG(log, NET_LOG_WARN, "writing DTLS secrets to %s (SSLKEYLOGFILE)", path);
    cfg->keylog = net_keylog_line;
    cfg->keylog_user = k;
    return COAPS_OK;
}
