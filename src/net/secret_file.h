/*
 * secret_file.h - files that hold secrets: a 32-byte key kept as 64 hex
 * digits (white space around them allowed), as `openssl rand -hex 32 >
 * FILE` makes it (coaps-server's --state-key and --ticket-key), and the
 * atomic, private write of a file (mode 0600: a temp file, fsync,
 * rename, the directory synced) for the session file of coaps-client
 * --session and the state file of coaps-server --state.
 */
#ifndef COAPS_NET_SECRET_FILE_H
#define COAPS_NET_SECRET_FILE_H

#include <stdbool.h>

#include <stddef.h>
#include <stdint.h>

#include "coaps/status.h"

#define NET_KEY_FILE_KEY_LEN 32

/* The key from path: COAPS_OK, or COAPS_E_IO / COAPS_E_INVALID with one
 * line in err naming what (e.g. "ticket key file"), the file and the
 * problem. The key is wiped from every buffer but out. */
coaps_status net_key_file_load(const char *what, const char *path,
                               uint8_t out[NET_KEY_FILE_KEY_LEN], char *err, size_t cap);
/* The same for a key that rotates (--state-key): the file holds the
 * current key, optionally followed by the previous one (white space
 * between), which *has_prev says and prev gets. */
coaps_status net_key_file_load_ring(const char *what, const char *path,
                                    uint8_t out[NET_KEY_FILE_KEY_LEN],
                                    uint8_t prev[NET_KEY_FILE_KEY_LEN], bool *has_prev, char *err,
                                    size_t cap);

/* Write buf to path so that a reader sees the old file or the whole new
 * one, never a part, even across a crash: path.tmp (mode 0600, not
 * following a link), fsync, rename, then the directory synced. COAPS_OK,
 * or COAPS_E_IO with one line in err naming what and path. */
coaps_status net_secret_file_write(const char *what, const char *path, const uint8_t *buf,
                                   size_t len, char *err, size_t cap);
/* Sync the directory holding path (after a rename or unlink in it). */
bool net_secret_sync_dir(const char *path);

#endif /* COAPS_NET_SECRET_FILE_H */
