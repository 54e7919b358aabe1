/*
 * psk_store.h - the server's pre-shared keys (RFC 4279), chosen by the
 * client's PSK identity, and the parsing of the flags and files that fill it.
 *
 *   --psk IDENTITY:KEY   IDENTITY ends at the first colon; "*" as identity
 *                        sets the default key (any identity), as does
 *   --psk-default KEY    (the reference device accepts its key for every
 *                        identity, as libcoap's coap-server -k does)
 *   --psk-file FILE      one "identity,key" a line; # comments, blank lines
 * KEY is text, or hex after "0x" ("0x6b6579" = "key").
 *
 * The store is a fixed array inside the struct (NET_PSK_STORE_MAX entries);
 * lookups are linear, which is fine: one lookup per handshake, not per
 * packet. Pure code: parsing takes text, never opens files itself except
 * net_psk_store_load_file().
 */
#ifndef COAPS_NET_PSK_STORE_H
#define COAPS_NET_PSK_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coaps/dtls.h"
#include "coaps/status.h"

/* Identities one server knows: a device with a few provisioned clients, or
 * a gateway with a few hundred; 256 entries x 194 bytes = 48 KiB. Larger
 * deployments want a database-backed lookup, not a flag file. */
#define NET_PSK_STORE_MAX 256

/* Longest line of a PSK file: identity (128) + ',' + "0x" + 128 hex digits
 * + spaces and CR, with margin. */
#define NET_PSK_LINE_MAX 512

/* Room for a one-line error message. */
#define NET_PSK_ERR_MAX 256

struct net_psk_entry {
    uint8_t identity[COAPS_DTLS_PSK_IDENTITY_MAX];
    uint8_t identity_len;
    uint8_t key[COAPS_DTLS_PSK_KEY_MAX];
    uint8_t key_len;
};

struct net_psk_store {
    size_t n;
    struct net_psk_entry entries[NET_PSK_STORE_MAX];
    bool has_default; /* a key for any identity not listed */
    uint8_t default_key[COAPS_DTLS_PSK_KEY_MAX];
    uint8_t default_key_len;
};

void net_psk_store_init(struct net_psk_store *s);

/* True when the store holds at least one key (named or default). */
bool net_psk_store_usable(const struct net_psk_store *s);

/* coaps_dtls_psk_from_text (include/coaps/dtls.h) is implemented in psk_store.c. */

/* Add identity -> key; a second entry for the same identity replaces the
 * first. COAPS_E_FULL past NET_PSK_STORE_MAX, COAPS_E_INVALID for an empty
 * or over-long identity. */
coaps_status net_psk_store_add(struct net_psk_store *s, const uint8_t *identity, size_t id_len,
                               const uint8_t *key, size_t key_len);

/* Set the key for identities not listed. */
coaps_status net_psk_store_set_default(struct net_psk_store *s, const uint8_t *key,
                                       size_t key_len);

/* --psk IDENTITY:KEY ("*:KEY" = default). On failure a one-line reason in
 * err (cap bytes). */
coaps_status net_psk_store_add_arg(struct net_psk_store *s, const char *arg, char *err,
                                   size_t cap);

/* One line of a PSK file (no newline; a trailing CR is ignored): blank and
 * '#' lines are skipped, else "identity,key" with optional spaces around
 * both fields. On failure a reason (without file:line) in err. */
coaps_status net_psk_store_add_line(struct net_psk_store *s, const char *line, size_t len,
                                    char *err, size_t cap);

/* Parse a whole file's text; on failure err is "LINE: reason" where
 * LINE is the 1-based line number (the caller prefixes the file name). */
coaps_status net_psk_store_add_text(struct net_psk_store *s, const char *text, size_t len,
                                    char *err, size_t cap);

/* Read and parse FILE; on failure err is "FILE:LINE: reason" or
 * "FILE: <strerror>". */
coaps_status net_psk_store_load_file(struct net_psk_store *s, const char *path, char *err,
                                     size_t cap);

/* The engine's lookup (coaps_dtls_psk_lookup_fn) with user = the store. */
coaps_status net_psk_store_lookup(void *user, const uint8_t *identity, size_t identity_len,
                                  uint8_t *key, size_t key_cap, size_t *key_len);

#endif /* COAPS_NET_PSK_STORE_H */
