/*
 * psa/hash.c - PSA Crypto backend of crypto.h: one-shot hashes, the running
 * transcript hash and prepared HMAC keys.
 *
 * Memory: a running hash is a psa_hash_operation_t held in place in the
 * caller's struct crypto_hash (PSA's built-in SHA-2 keeps its whole state
 * in the operation object: nothing on the heap). An HMAC key is a volatile
 * key in the PSA key store (Mbed TLS allocates the slot's key buffer once,
 * in crypto_hmac_key_init); the caller's struct holds only its id. Every MAC
 * under it runs a psa_mac_operation_t on the stack. None of this is on the
 * per-record path: it serves the handshake (transcript, PRF, cookies).
 */
#include <string.h>

#include "common/try.h"
#include "crypto/psa/psa_common.h"

static psa_algorithm_t hash_psa_alg(enum crypto_hash_alg alg)
{
    switch (alg) {
    case CRYPTO_SHA256: return PSA_ALG_SHA_256;
    case CRYPTO_SHA384: return PSA_ALG_SHA_384;
    }
    return PSA_ALG_NONE;
}

/* HMAC's block size B (RFC 2104 2): the hash's input block. */
static size_t hash_block_len(enum crypto_hash_alg alg)
{
    return PSA_HASH_BLOCK_LENGTH(hash_psa_alg(alg));
}

/* ---- running hash ----------------------------------------------------------- */

/* Backend state of struct crypto_hash: the operation itself, in place. */
struct hash_state {
    psa_hash_operation_t op;
};
CRYPTO_STATE_FITS(struct hash_state, struct crypto_hash);

static psa_hash_operation_t *hash_op(struct crypto_hash *h)
{
    return &CRYPTO_STATE_OF(struct hash_state, h)->op;
}

coaps_status crypto_hash_init(struct crypto_hash *h, enum crypto_hash_alg alg)
{
    ENSURE(h != NULL, COAPS_E_INVALID);
    h->live = false;
    psa_algorithm_t a = hash_psa_alg(alg);
    ENSURE(a != PSA_ALG_NONE, COAPS_E_INVALID);
    TRY(crypto_psa_ready());
    psa_hash_operation_t *op = hash_op(h);
    *op = psa_hash_operation_init(); /* PSA wants a zeroed operation before setup */
    psa_status_t s = psa_hash_setup(op, a);
    if (s != PSA_SUCCESS) {
        (void)psa_hash_abort(op);
        return crypto_psa_status(s);
    }
    h->alg = alg;
    h->live = true;
    return COAPS_OK;
}

coaps_status crypto_hash_update(struct crypto_hash *h, const void *data, size_t len)
{
    ENSURE(h != NULL && h->live, COAPS_E_INVALID);
    ENSURE(data != NULL || len == 0, COAPS_E_INVALID);
    if (len == 0)
        return COAPS_OK;
    TRY(crypto_psa_ready());
    return crypto_psa_status(psa_hash_update(hash_op(h), data, len));
}

coaps_status crypto_hash_peek(const struct crypto_hash *h, uint8_t out[CRYPTO_HASH_MAX])
{
    ENSURE(h != NULL && h->live && out != NULL, COAPS_E_INVALID);
    TRY(crypto_psa_ready());
    /* Finish a clone so the transcript keeps running (RFC 5246 7.4.9 hashes
     * "all handshake messages so far", then more messages follow). The
     * clone lives on this stack frame: PSA's SHA-2 does not allocate. */
    psa_hash_operation_t tmp = PSA_HASH_OPERATION_INIT;
    size_t n = 0;
    psa_status_t s = psa_hash_clone(&CRYPTO_CSTATE_OF(struct hash_state, h)->op, &tmp);
    if (s == PSA_SUCCESS)
        s = psa_hash_finish(&tmp, out, CRYPTO_HASH_MAX, &n);
    (void)psa_hash_abort(&tmp); /* a no-op after finish; cleans up after a failure */
    crypto_wipe(&tmp, sizeof tmp);
    TRY(crypto_psa_status(s));
    ENSURE(n == crypto_hash_len(h->alg), COAPS_E_CRYPTO);
    return COAPS_OK;
}

void crypto_hash_clear(struct crypto_hash *h)
{
    if (h == NULL || !h->live)
        return;
    (void)psa_hash_abort(hash_op(h)); /* zeroizes the hash state */
    crypto_wipe(&h->st, sizeof h->st);
    h->live = false;
}

coaps_status crypto_hash(enum crypto_hash_alg alg, const void *data, size_t len,
                         uint8_t out[CRYPTO_HASH_MAX])
{
    psa_algorithm_t a = hash_psa_alg(alg);
    ENSURE(a != PSA_ALG_NONE && out != NULL, COAPS_E_INVALID);
    ENSURE(data != NULL || len == 0, COAPS_E_INVALID);
    TRY(crypto_psa_ready());
    static const uint8_t empty[1] = {0};
    size_t n = 0;
    TRY(crypto_psa_status(psa_hash_compute(a, len ? data : empty, len, out, CRYPTO_HASH_MAX, &n)));
    ENSURE(n == crypto_hash_len(alg), COAPS_E_CRYPTO);
    return COAPS_OK;
}

/* ---- HMAC -------------------------------------------------------------------- */

/* Backend state of struct crypto_hmac_key: the key's id in the PSA key
 * store (an HMAC key whose policy allows exactly HMAC with alg's hash). */
struct hmac_key_state {
    psa_key_id_t id;
};
CRYPTO_STATE_FITS(struct hmac_key_state, struct crypto_hmac_key);

static psa_key_id_t hmac_key_id(const struct crypto_hmac_key *k)
{
    return CRYPTO_CSTATE_OF(struct hmac_key_state, k)->id;
}

/* RFC 2104 2 defines HMAC on K padded with zeros to B bytes, so every key of
 * at most B bytes means the same as itself with zero bytes appended. PSA
 * refuses to import an empty key (psa_import_key: INVALID_ARGUMENT for
 * 0 bytes), so the empty key goes in as the one byte 0x00: the same padded
 * key, hence the same HMAC. (Hashing nothing would not be: that is the
 * rule for keys longer than B.) */
static const uint8_t hmac_empty_key[1] = {0};

static coaps_status hmac_key_import(struct crypto_hmac_key *k, enum crypto_hash_alg alg,
                                    const uint8_t *key, size_t key_len)
{
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&attr, PSA_KEY_TYPE_HMAC);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_SIGN_MESSAGE);
    psa_set_key_algorithm(&attr, PSA_ALG_HMAC(hash_psa_alg(alg)));
    psa_set_key_lifetime(&attr, PSA_KEY_LIFETIME_VOLATILE);
    if (key_len == 0) {
        key = hmac_empty_key;
        key_len = sizeof hmac_empty_key;
    }
    psa_key_id_t id = PSA_KEY_ID_NULL;
    psa_status_t s = psa_import_key(&attr, key, key_len, &id);
    psa_reset_key_attributes(&attr);
    TRY(crypto_psa_status(s));
    CRYPTO_STATE_OF(struct hmac_key_state, k)->id = id;
    return COAPS_OK;
}

coaps_status crypto_hmac_key_init(struct crypto_hmac_key *k, enum crypto_hash_alg alg,
                                  const void *key, size_t key_len)
{
    ENSURE(k != NULL, COAPS_E_INVALID);
    k->live = false;
    ENSURE(hash_psa_alg(alg) != PSA_ALG_NONE, COAPS_E_INVALID);
    ENSURE(key != NULL || key_len == 0, COAPS_E_INVALID);
    TRY(crypto_psa_ready());
    uint8_t hashed_key[CRYPTO_HASH_MAX];
    if (key_len > hash_block_len(alg)) {
        /* RFC 2104 2: a key longer than B is hashed first. PSA would do the
         * same, but only for keys up to its largest key size
         * (PSA_MAX_KEY_BITS); hashing here accepts keys of any length. */
        TRY(crypto_hash(alg, key, key_len, hashed_key));
        key = hashed_key;
        key_len = crypto_hash_len(alg);
    }
    coaps_status st = hmac_key_import(k, alg, key, key_len);
    crypto_wipe(hashed_key, sizeof hashed_key);
    TRY(st);
    k->alg = alg;
    k->live = true;
    return COAPS_OK;
}

/* The MAC proper; PSA keeps K ^ ipad / K ^ opad inside the operation. */
static psa_status_t hmac_run(psa_mac_operation_t *op, const struct crypto_hmac_key *k,
                             const struct crypto_iov *parts, size_t n_parts, uint8_t *out,
                             size_t *n)
{
    psa_status_t s = psa_mac_sign_setup(op, hmac_key_id(k), PSA_ALG_HMAC(hash_psa_alg(k->alg)));
    for (size_t i = 0; s == PSA_SUCCESS && i < n_parts; i++)
        if (parts[i].len > 0)
            s = psa_mac_update(op, parts[i].p, parts[i].len);
    if (s == PSA_SUCCESS)
        s = psa_mac_sign_finish(op, out, CRYPTO_HASH_MAX, n);
    return s;
}

coaps_status crypto_hmac_keyed(const struct crypto_hmac_key *k, const struct crypto_iov *parts,
                               size_t n_parts, uint8_t out[CRYPTO_HASH_MAX])
{
    ENSURE(k != NULL && k->live && out != NULL, COAPS_E_INVALID);
    ENSURE(parts != NULL || n_parts == 0, COAPS_E_INVALID);
    for (size_t i = 0; i < n_parts; i++)
        ENSURE(parts[i].p != NULL || parts[i].len == 0, COAPS_E_INVALID);
    TRY(crypto_psa_ready());
    /* The operation holds the keyed inner and outer hash states: on the
     * stack, aborted (which wipes them) however the MAC ends. */
    psa_mac_operation_t op = PSA_MAC_OPERATION_INIT;
    size_t n = 0;
    psa_status_t s = hmac_run(&op, k, parts, n_parts, out, &n);
    (void)psa_mac_abort(&op);
    crypto_wipe(&op, sizeof op);
    TRY(crypto_psa_status(s));
    ENSURE(n == crypto_hash_len(k->alg), COAPS_E_CRYPTO);
    return COAPS_OK;
}

void crypto_hmac_key_clear(struct crypto_hmac_key *k)
{
    if (k == NULL || !k->live)
        return;
    /* Frees the slot; Mbed TLS wipes the key material. */
    (void)psa_destroy_key(hmac_key_id(k));
    crypto_wipe(&k->st, sizeof k->st);
    k->live = false;
}
