/* fuzz_ticket.c - libFuzzer harness for opening session tickets (RFC 5077,
 * src/dtls/ticket.c): a ticket is a client's bytes that the server opens
 * with its keys. Any bytes are refused or give a session in bounds; a
 * ticket that opens under the current key seals back to exactly itself
 * (same key, same nonce: the AEAD is deterministic), so nothing but a
 * ticket we sealed ever opens.
 *
 * FUZZ_TICKET_GEN=dir writes seeds: tickets sealed now (current key) and
 * one sealed in the previous period (also accepted), e.g.
 *   FUZZ_TICKET_GEN=fuzz/corpus/ticket build/.../fuzz_ticket -runs=0 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtls/ticket.h"
#include "fuzz_check.h"
#include "fuzz_ticket.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static void write_seed(const char *dir, const char *name, const uint8_t *b, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(b, 1, n, f) == n);
    fclose(f);
}

static void generate(const char *dir)
{
    static const uint16_t suites[] = {0xc0a8, 0x00a8, 0xccab, 0xc0ae};
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++) {
        struct dtls_ticket_state st = {suites[i], true, {0}};
        uint8_t nonce[CRYPTO_AEAD_NONCE_LEN], t[DTLS_TICKET_LEN];
        for (size_t k = 0; k < sizeof st.ms; k++)
            st.ms[k] = (uint8_t)(k * 3 + i);
        memset(nonce, (int)(0x40 + i), sizeof nonce);
        CHECK(dtls_ticket_seal(fuzz_ticket_keys(), &st, nonce, t) == COAPS_OK);
        char name[32];
        snprintf(name, sizeof name, "current-%04x", suites[i]);
        write_seed(dir, name, t, sizeof t);
    }
    /* one of the previous period: sealed by a ring an hour younger */
    coaps_dtls_ticket_keys old;
    static const uint8_t secret[COAPS_DTLS_TICKET_SECRET_LEN] = "fuzz ticket secret, 32 bytes..";
    CHECK(coaps_dtls_ticket_keys_init(&old, secret, sizeof secret, 0,
                                      FUZZ_TICKET_UNIX_S - COAPS_DTLS_TICKET_PERIOD_S) == COAPS_OK);
    struct dtls_ticket_state st = {0xc0a8, true, {1}};
    uint8_t nonce[CRYPTO_AEAD_NONCE_LEN] = {7}, t[DTLS_TICKET_LEN];
    CHECK(dtls_ticket_seal(&old, &st, nonce, t) == COAPS_OK);
    write_seed(dir, "previous-c0a8", t, sizeof t);
    coaps_dtls_ticket_keys_clear(&old);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    const char *dir = getenv("FUZZ_TICKET_GEN");
    if (dir)
        generate(dir);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dtls_ticket_state st;
    bool current = false;
    coaps_dtls_ticket_keys *keys = fuzz_ticket_keys();
    if (dtls_ticket_open(keys, data, size, &st, &current) != COAPS_OK)
        return 0;
    CHECK(size == DTLS_TICKET_LEN);
    if (current) {
        uint8_t again[DTLS_TICKET_LEN];
        CHECK(dtls_ticket_seal(keys, &st, data + 4, again) == COAPS_OK);
        CHECK(memcmp(again, data, size) == 0);
    }
    return 0;
}
