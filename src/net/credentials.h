/*
 * credentials.h - certificates for a runtime (server.c, client.c): the
 * files a user names, loaded once at start with the one-line error the
 * runtime hands back ("certificates: <file>: <problem>").
 */
#ifndef COAPS_NET_CREDENTIALS_H
#define COAPS_NET_CREDENTIALS_H

#include <stddef.h>

#include "coaps/dtls.h"

/* *out = NULL and COAPS_OK when files is NULL (PSK only). */
coaps_status net_pki_load(coaps_dtls_pki **out, const coaps_dtls_pki_files *files, char *err,
                          size_t cap);

#endif /* COAPS_NET_CREDENTIALS_H */
