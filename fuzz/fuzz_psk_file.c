/* fuzz_psk_file.c - libFuzzer harness for the PSK file parser
 * (src/net/psk_store.c). Any text must be parsed or refused with a
 * NUL-terminated one-line reason, never read out of bounds; whatever was
 * accepted must be found again by the engine's lookup with a key of
 * 1..64 bytes (RFC 4279 5.3). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/psk_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct net_psk_store store; /* 48 KiB: not on the stack */
    char err[NET_PSK_ERR_MAX];
    net_psk_store_init(&store);
    memset(err, 'x', sizeof err);
    coaps_status st = net_psk_store_add_text(&store, (const char *)data, size, err, sizeof err);
    if (st != COAPS_OK && memchr(err, '\0', sizeof err) == NULL)
        abort();
    if (store.n > NET_PSK_STORE_MAX)
        abort();
    for (size_t i = 0; i < store.n; i++) {
        const struct net_psk_entry *e = &store.entries[i];
        uint8_t key[COAPS_DTLS_PSK_KEY_MAX];
        size_t key_len = 0;
        if (e->identity_len == 0 || e->key_len == 0 || e->key_len > COAPS_DTLS_PSK_KEY_MAX)
            abort();
        if (net_psk_store_lookup(&store, e->identity, e->identity_len, key, sizeof key,
                                 &key_len) != COAPS_OK ||
            key_len != e->key_len || memcmp(key, e->key, key_len) != 0)
            abort();
    }
    return 0;
}
