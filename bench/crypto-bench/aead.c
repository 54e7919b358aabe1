/*
 * aead.c - record protection figures of crypto-bench: seal and open of one
 * DTLS record per operation, for each AEAD of our cipher suites.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbench.h"
#include "common/wire.h"
#include "crypto/crypto.h"

/* DTLS 1.2 additional data: seq_num (epoch + sequence number, 8 bytes),
 * type, version, length (RFC 6347 4.1.2.1, RFC 5246 6.2.3.3). */
#define AAD_LEN 13
#define AAD_CONTENT_TYPE 23 /* application_data */
/* Records sealed ahead for the open figure, each under its own nonce as on
 * the wire; opening cycles through them. 64 x 1 KiB stays in L2 cache, like
 * the one datagram buffer a server decrypts in. */
#define OPEN_RING 64
/* CoAP-sized payloads: a small request or notification, and a 1 KiB block
 * (RFC 7959 SZX 6, the largest block). */
static const size_t record_sizes[] = {64, 1024};

struct aead_case {
    enum crypto_aead_alg alg;
    const char *name;
};

static const struct aead_case aeads[] = {
    {CRYPTO_AES_128_CCM_8, "AES-128-CCM-8"},
    {CRYPTO_AES_128_CCM, "AES-128-CCM"},
    {CRYPTO_AES_128_GCM, "AES-128-GCM"},
    {CRYPTO_AES_256_GCM, "AES-256-GCM"},
    {CRYPTO_CHACHA20_POLY1305, "ChaCha20-Poly1305"},
};

/* One direction's context each, as a session keeps them (crypto.h: a
 * context that changes direction re-keys). */
struct aead_run {
    struct crypto_aead seal, open;
    size_t len, tag;
    uint64_t seq;
    uint8_t nonce[CRYPTO_AEAD_NONCE_LEN];
    uint8_t aad[AAD_LEN];
    uint8_t *plain; /* len bytes */
    uint8_t *out;   /* len + tag bytes */
    uint8_t *ring;  /* OPEN_RING records of len + tag bytes */
};

/* The per-record inputs for sequence number seq: the nonce's last 8 bytes
 * are epoch || sequence number (RFC 6655 3, RFC 5288 3; RFC 7905 XORs the
 * same 8 bytes into its IV, which costs the same), and the additional data
 * carries them too. The first 4 bytes stay the connection's salt. */
static void record_inputs(struct aead_run *r, uint64_t seq)
{
    struct wire_wr n = wire_wr_init(r->nonce + 4, 8);
    struct wire_wr a = wire_wr_init(r->aad, sizeof r->aad);
    (void)wire_wr_uint(&n, 8, seq);
    (void)wire_wr_uint(&a, 8, seq);
    (void)wire_wr_u8(&a, AAD_CONTENT_TYPE);
    (void)wire_wr_u16(&a, 0xfefd); /* DTLS 1.2 */
    (void)wire_wr_u16(&a, (uint16_t)r->len);
}

static bool op_failed(const char *what, coaps_status st)
{
    fprintf(stderr, CBENCH_PROG ": %s: %s\n", what, coaps_status_str(st));
    return false;
}

static bool seal_n(void *arg, uint64_t n)
{
    struct aead_run *r = arg;
    for (uint64_t i = 0; i < n; i++) {
        record_inputs(r, r->seq++);
        coaps_status st =
            crypto_aead_seal(&r->seal, r->nonce, r->aad, AAD_LEN, r->plain, r->len, r->out);
        if (st != COAPS_OK)
            return op_failed("seal", st);
    }
    return true;
}

/* A cold session's first record out (crypto_aead_cool, coaps-server
 * --cold-after): the context re-keys, then seals. */
static bool cold_seal_n(void *arg, uint64_t n)
{
    struct aead_run *r = arg;
    for (uint64_t i = 0; i < n; i++) {
        (void)crypto_aead_cool(&r->seal);
        record_inputs(r, r->seq++);
        coaps_status st =
            crypto_aead_seal(&r->seal, r->nonce, r->aad, AAD_LEN, r->plain, r->len, r->out);
        if (st != COAPS_OK)
            return op_failed("cold seal", st);
    }
    return true;
}

static bool open_n(void *arg, uint64_t n)
{
    struct aead_run *r = arg;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t k = r->seq++ % OPEN_RING;
        record_inputs(r, k);
        coaps_status st = crypto_aead_open(&r->open, r->nonce, r->aad, AAD_LEN,
                                           r->ring + k * (r->len + r->tag), r->len, r->out);
        if (st != COAPS_OK)
            return op_failed("open", st);
    }
    return true;
}

/* Fill the ring with records sealed under sequence numbers 0..OPEN_RING-1. */
static bool seal_ring(struct aead_run *r)
{
    for (uint64_t k = 0; k < OPEN_RING; k++) {
        record_inputs(r, k);
        coaps_status st = crypto_aead_seal(&r->seal, r->nonce, r->aad, AAD_LEN, r->plain, r->len,
                                           r->ring + k * (r->len + r->tag));
        if (st != COAPS_OK)
            return op_failed("seal", st);
    }
    return true;
}

static bool run_setup(struct aead_run *r, enum crypto_aead_alg alg, size_t len)
{
    uint8_t key[CRYPTO_AEAD_KEY_MAX];
    size_t key_len = crypto_aead_key_len(alg);
    memset(r, 0, sizeof *r);
    r->len = len;
    r->tag = crypto_aead_tag_len(alg);
    r->plain = malloc(len);
    r->out = malloc(len + r->tag);
    r->ring = malloc(OPEN_RING * (len + r->tag));
    if (r->plain == NULL || r->out == NULL || r->ring == NULL)
        return op_failed("buffers", COAPS_E_NOMEM);
    coaps_status st = crypto_random(key, key_len);
    if (st == COAPS_OK)
        st = crypto_random(r->nonce, 4);
    if (st == COAPS_OK)
        st = crypto_random(r->plain, len);
    if (st == COAPS_OK)
        st = crypto_aead_init(&r->seal, alg, key, key_len);
    if (st == COAPS_OK)
        st = crypto_aead_init(&r->open, alg, key, key_len);
    crypto_wipe(key, sizeof key);
    if (st != COAPS_OK)
        return op_failed("key", st);
    return seal_ring(r);
}

static void run_clear(struct aead_run *r)
{
    crypto_aead_clear(&r->seal);
    crypto_aead_clear(&r->open);
    free(r->plain);
    free(r->out);
    free(r->ring);
}

/* seal then open of one (AEAD, size); 0 when both ran. */
static int one_size(const struct cb_opts *o, const struct aead_case *a, size_t len)
{
    struct aead_run r;
    struct cb_result res;
    uint64_t budget = (uint64_t)o->time_ms * 1000000u;
    bool ok = run_setup(&r, a->alg, len);
    if (ok && (ok = cb_measure(seal_n, &r, budget, &res)))
        cb_print(o, a->name, "seal", len, &res);
    r.seq = 0;
    if (ok && (ok = cb_measure(open_n, &r, budget, &res)))
        cb_print(o, a->name, "open", len, &res);
    /* a cold session's first record: only the small size matters */
    if (ok && len == record_sizes[0] && (ok = cb_measure(cold_seal_n, &r, budget, &res)))
        cb_print(o, a->name, "cold seal", len, &res);
    run_clear(&r);
    if (!ok)
        fprintf(stderr, CBENCH_PROG ": %s, %zu bytes: failed\n", a->name, len);
    return ok ? 0 : 1;
}

int cb_aead_all(const struct cb_opts *o)
{
    int rc = 0;
    for (size_t i = 0; i < sizeof aeads / sizeof aeads[0]; i++) {
        for (size_t j = 0; j < sizeof record_sizes / sizeof record_sizes[0]; j++) {
            if (!crypto_aead_available(aeads[i].alg)) {
                cb_print(o, aeads[i].name, "seal", record_sizes[j], NULL);
                cb_print(o, aeads[i].name, "open", record_sizes[j], NULL);
                continue;
            }
            rc |= one_size(o, &aeads[i], record_sizes[j]);
        }
    }
    return rc;
}
