/* fuzz_store_value.c - libFuzzer harness for the opening of a value the
 * cluster's session store keeps (src/net/store.c, store_open): what
 * Redis hands back is untrusted bytes.
 *
 * The input: u8 kind (its low two bits pick session, reply, value or
 * secret), u8 n, n bytes of key (n at most STORE_ID_MAX), then the sealed
 * value, opened under the fixed key below (seeds: values sealed with it).
 * Nothing may crash or leak; what opens must reseal to a value that opens
 * to the same bytes, and must not open under another key or kind. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_check.h"
#include "net/store_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The key of the seeds: 32 bytes 0x01 0x02 ... 0x20. */
static struct crypto_aead aead;
static bool ready;

static const enum store_kind kinds[] = {STORE_KIND_SESSION, STORE_KIND_REPLY, STORE_KIND_VALUE,
                                        STORE_KIND_SECRET};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready) {
        uint8_t k[NET_STATE_KEY_LEN];
        for (size_t i = 0; i < sizeof k; i++)
            k[i] = (uint8_t)(i + 1);
        CHECK(crypto_aead_init(&aead, CRYPTO_AES_256_GCM, k, sizeof k) == COAPS_OK);
        ready = true;
    }
    if (size < 2 || data[1] > STORE_ID_MAX || size < 2u + data[1])
        return 0;
    enum store_kind kind = kinds[data[0] & 3];
    const uint8_t *key = data + 2;
    size_t key_len = data[1];
    const uint8_t *in = key + key_len;
    size_t len = size - 2 - key_len;

    static uint8_t out[NET_STORE_VALUE_MAX], again[NET_STORE_VALUE_MAX];
    static uint8_t sealed[STORE_SEALED_MAX];
    size_t n = 0, sn = 0, n2 = 0;
    coaps_status st = store_open(&aead, kind, key, key_len, in, len, out, sizeof out, &n);
    if (st != COAPS_OK) {
        CHECK(st == COAPS_E_MALFORMED);
        return 0;
    }
    CHECK(n + STORE_SEAL_OVERHEAD == len);
    CHECK(store_seal(&aead, kind, key, key_len, out, n, sealed, sizeof sealed, &sn) == COAPS_OK);
    CHECK(sn == len);
    CHECK(store_open(&aead, kind, key, key_len, sealed, sn, again, sizeof again, &n2) == COAPS_OK);
    CHECK(n2 == n && memcmp(again, out, n) == 0);
    /* bound to its kind */
    enum store_kind other = kinds[(data[0] + 1) & 3];
    CHECK(store_open(&aead, other, key, key_len, sealed, sn, again, sizeof again, &n2) ==
          COAPS_E_MALFORMED);
    return 0;
}
