/*
 * key_file.h - a 32-byte secret kept in a file as 64 hex digits (white
 * space around them allowed), as `openssl rand -hex 32 > FILE` makes it:
 * the durable-state key (--state-key) and the ticket secret
 * (--ticket-key) of coaps-server.
 */
#ifndef COAPS_NET_KEY_FILE_H
#define COAPS_NET_KEY_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "coaps/status.h"

#define NET_KEY_FILE_KEY_LEN 32

/* The key from path: COAPS_OK, or COAPS_E_IO / COAPS_E_INVALID with one
 * line in err naming what (e.g. "ticket key file"), the file and the
 * problem. The key is wiped from every buffer but out. */
coaps_status net_key_file_load(const char *what, const char *path,
                               uint8_t out[NET_KEY_FILE_KEY_LEN], char *err, size_t cap);

#endif /* COAPS_NET_KEY_FILE_H */
