/* psk_store.c - PSK identities and keys, flags and files (see psk_store.h). */
#include "net/psk_store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/try.h"
#include "common/hex.h"

/* A PSK file bigger than this is not a list of keys (256 lines of 512). */
#define NET_PSK_FILE_MAX (NET_PSK_STORE_MAX * NET_PSK_LINE_MAX)

void net_psk_store_init(struct net_psk_store *s)
{
    memset(s, 0, sizeof *s);
}

bool net_psk_store_usable(const struct net_psk_store *s)
{
    return s->n > 0 || s->has_default;
}

coaps_status coaps_dtls_psk_from_text(const char *text, size_t n, uint8_t *key,
                                      size_t *key_len, const char **why)
{
    if (n >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        text += 2;
        n -= 2;
        if (n == 0 || n % 2 || n / 2 > COAPS_DTLS_PSK_KEY_MAX) {
            *why = "hex key must be 2..128 hex digits, an even count";
            return COAPS_E_INVALID;
        }
        if (!hex_to_bytes(text, n, key, COAPS_DTLS_PSK_KEY_MAX, key_len)) {
            *why = "hex key has a non-hex digit";
            return COAPS_E_INVALID;
        }
        return COAPS_OK;
    }
    if (n == 0 || n > COAPS_DTLS_PSK_KEY_MAX) {
        *why = "key must be 1..64 bytes (RFC 4279 5.3)";
        return COAPS_E_INVALID;
    }
    memcpy(key, text, n);
    *key_len = n;
    return COAPS_OK;
}

coaps_status net_psk_store_add(struct net_psk_store *s, const uint8_t *identity, size_t id_len,
                               const uint8_t *key, size_t key_len)
{
    ENSURE(id_len > 0 && id_len <= COAPS_DTLS_PSK_IDENTITY_MAX, COAPS_E_INVALID);
    ENSURE(key_len > 0 && key_len <= COAPS_DTLS_PSK_KEY_MAX, COAPS_E_INVALID);
    struct net_psk_entry *e = NULL;
    for (size_t i = 0; i < s->n && e == NULL; i++)
        if (s->entries[i].identity_len == id_len &&
            memcmp(s->entries[i].identity, identity, id_len) == 0)
            e = &s->entries[i];
    if (e == NULL) {
        ENSURE(s->n < NET_PSK_STORE_MAX, COAPS_E_FULL);
        e = &s->entries[s->n++];
    }
    memcpy(e->identity, identity, id_len);
    e->identity_len = (uint8_t)id_len;
    memcpy(e->key, key, key_len);
    e->key_len = (uint8_t)key_len;
    return COAPS_OK;
}

coaps_status net_psk_store_set_default(struct net_psk_store *s, const uint8_t *key,
                                       size_t key_len)
{
    ENSURE(key_len > 0 && key_len <= COAPS_DTLS_PSK_KEY_MAX, COAPS_E_INVALID);
    memcpy(s->default_key, key, key_len);
    s->default_key_len = (uint8_t)key_len;
    s->has_default = true;
    return COAPS_OK;
}

/* Store identity (id, id_len) -> key text; "*" is the default key. */
static coaps_status store_pair(struct net_psk_store *s, const char *id, size_t id_len,
                               const char *key_text, size_t key_text_len, char *err,
                               size_t cap)
{
    uint8_t key[COAPS_DTLS_PSK_KEY_MAX];
    size_t key_len = 0;
    const char *why = NULL;
    if (id_len == 0) {
        snprintf(err, cap, "empty identity");
        return COAPS_E_INVALID;
    }
    if (id_len > COAPS_DTLS_PSK_IDENTITY_MAX) {
        snprintf(err, cap, "identity longer than 128 bytes (RFC 4279 5.3)");
        return COAPS_E_INVALID;
    }
    if (coaps_dtls_psk_from_text(key_text, key_text_len, key, &key_len, &why) != COAPS_OK) {
        snprintf(err, cap, "%s", why);
        return COAPS_E_INVALID;
    }
    coaps_status st = id_len == 1 && id[0] == '*'
                          ? net_psk_store_set_default(s, key, key_len)
                          : net_psk_store_add(s, (const uint8_t *)id, id_len, key, key_len);
    if (st == COAPS_E_FULL)
        snprintf(err, cap, "more than %d identities", NET_PSK_STORE_MAX);
    return st;
}

coaps_status net_psk_store_add_arg(struct net_psk_store *s, const char *arg, char *err,
                                   size_t cap)
{
    const char *colon = strchr(arg, ':');
    if (colon == NULL) {
        snprintf(err, cap, "wants IDENTITY:KEY");
        return COAPS_E_INVALID;
    }
    return store_pair(s, arg, (size_t)(colon - arg), colon + 1, strlen(colon + 1), err, cap);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Trim spaces (and a CR) at both ends of [*p, *p + *n). */
static void trim(const char **p, size_t *n)
{
    while (*n && is_space(**p)) {
        (*p)++;
        (*n)--;
    }
    while (*n && is_space((*p)[*n - 1]))
        (*n)--;
}

coaps_status net_psk_store_add_line(struct net_psk_store *s, const char *line, size_t len,
                                    char *err, size_t cap)
{
    trim(&line, &len);
    if (len == 0 || line[0] == '#')
        return COAPS_OK;
    if (memchr(line, '\0', len) != NULL) {
        snprintf(err, cap, "NUL byte in line");
        return COAPS_E_INVALID;
    }
    const char *comma = memchr(line, ',', len);
    if (comma == NULL) {
        snprintf(err, cap, "expected 'identity,key'");
        return COAPS_E_INVALID;
    }
    const char *id = line, *key = comma + 1;
    size_t id_len = (size_t)(comma - line), key_len = len - id_len - 1;
    trim(&id, &id_len);
    trim(&key, &key_len);
    return store_pair(s, id, id_len, key, key_len, err, cap);
}

coaps_status net_psk_store_add_text(struct net_psk_store *s, const char *text, size_t len,
                                    char *err, size_t cap)
{
    size_t lineno = 0;
    while (len > 0) {
        lineno++;
        const char *nl = memchr(text, '\n', len);
        size_t n = nl ? (size_t)(nl - text) : len;
        char why[NET_PSK_ERR_MAX] = "";
        coaps_status st = n > NET_PSK_LINE_MAX ? COAPS_E_INVALID
                                               : net_psk_store_add_line(s, text, n, why,
                                                                        sizeof why);
        if (n > NET_PSK_LINE_MAX)
            snprintf(why, sizeof why, "line longer than %d bytes", NET_PSK_LINE_MAX);
        if (st != COAPS_OK) {
            snprintf(err, cap, "%zu: %s", lineno, why);
            return st;
        }
        text += nl ? n + 1 : n;
        len -= nl ? n + 1 : n;
    }
    return COAPS_OK;
}

coaps_status net_psk_store_load_file(struct net_psk_store *s, const char *path, char *err,
                                     size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, cap, "%s: %s", path, strerror(errno));
        return COAPS_E_IO;
    }
    char *buf = malloc(NET_PSK_FILE_MAX + 1); /* set-up path only */
    if (buf == NULL) {
        fclose(f);
        snprintf(err, cap, "%s: out of memory", path);
        return COAPS_E_NOMEM;
    }
    size_t n = fread(buf, 1, NET_PSK_FILE_MAX + 1, f);
    bool failed = ferror(f) != 0;
    fclose(f);
    if (failed || n > NET_PSK_FILE_MAX) {
        free(buf);
        snprintf(err, cap, "%s: %s", path, failed ? "read error" : "file too large for a PSK list");
        return COAPS_E_IO;
    }
    char why[NET_PSK_ERR_MAX];
    coaps_status st = net_psk_store_add_text(s, buf, n, why, sizeof why);
    memset(buf, 0, n); /* keys do not linger in freed memory */
    free(buf);
    if (st != COAPS_OK)
        snprintf(err, cap, "%s:%s", path, why);
    return st;
}

coaps_status net_psk_store_lookup(void *user, const uint8_t *identity, size_t identity_len,
                                  uint8_t *key, size_t key_cap, size_t *key_len)
{
    const struct net_psk_store *s = user;
    const uint8_t *k = NULL;
    size_t klen = 0;
    for (size_t i = 0; i < s->n && k == NULL; i++)
        if (s->entries[i].identity_len == identity_len &&
            memcmp(s->entries[i].identity, identity, identity_len) == 0) {
            k = s->entries[i].key;
            klen = s->entries[i].key_len;
        }
    if (k == NULL && s->has_default) {
        k = s->default_key;
        klen = s->default_key_len;
    }
    ENSURE(k != NULL, COAPS_E_PSK_IDENTITY);
    ENSURE(klen <= key_cap, COAPS_E_PSK_IDENTITY);
    memcpy(key, k, klen);
    *key_len = klen;
    return COAPS_OK;
}
