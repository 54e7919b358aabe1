/*
 * keylog.h - SSLKEYLOGFILE support: the DTLS engine's key log lines (NSS
 * format, "CLIENT_RANDOM <hex client random> <hex master secret>") are
 * appended to the file the environment variable names, so that Wireshark
 * can decrypt a capture. Off unless the variable is set; for debugging
 * only: anyone who reads the file can decrypt the sessions.
 */
#ifndef COAPS_NET_KEYLOG_H
#define COAPS_NET_KEYLOG_H

#include <stdio.h>

#include "coaps/dtls.h"
#include "coaps/status.h"
#include "net/log.h"

/* The environment variable, as in NSS, OpenSSL's s_client and curl. */
#define NET_KEYLOG_ENV "SSLKEYLOGFILE"

struct net_keylog {
    FILE *f; /* NULL: off */
};

/* Open the file named by $SSLKEYLOGFILE for appending, if set and not
 * empty. COAPS_OK when off or open; COAPS_E_IO (errno set) when the file
 * cannot be opened. *path receives the file name (NULL when off). */
coaps_status net_keylog_open(struct net_keylog *k, const char **path);

/* A coaps_dtls_keylog_fn: user = struct net_keylog *. One line, flushed. */
void net_keylog_line(void *user, const char *line);

/* For a runtime (server.c, client.c): open as net_keylog_open, warn once
 * in log that secrets are written, and point cfg's keylog at k. COAPS_E_IO
 * with one line in err when the file cannot be opened. */
coaps_status net_keylog_start(struct net_keylog *k, const struct net_log *log,
                              coaps_dtls_config *cfg, char *err, size_t cap);

void net_keylog_close(struct net_keylog *k);

#endif /* COAPS_NET_KEYLOG_H */
