/*
 * crypto_backend.h - what the backends (src/crypto/openssl/, src/crypto/psa/)
 * share with the backend-neutral files of src/crypto. Not part of the crypto
 * interface: protocol code includes crypto.h only.
 */
#ifndef COAPS_CRYPTO_BACKEND_H
#define COAPS_CRYPTO_BACKEND_H

#include "crypto/crypto.h"

/* The backend's own state type T inside a context (crypto.h `st`). */
#define CRYPTO_STATE_OF(T, ctx) ((T *)(void *)(ctx)->st.bytes)
#define CRYPTO_CSTATE_OF(T, ctx) ((const T *)(const void *)(ctx)->st.bytes)
/* Fails the build when T does not fit the state of context type C, or
 * needs more alignment than CRYPTO_STATE gives. */
#define CRYPTO_STATE_FITS(T, C)                                                                    \
    _Static_assert(sizeof(T) <= sizeof(((C *)0)->st) &&                                            \
                       _Alignof(T) <= _Alignof(__typeof__(((C *)0)->st)),                          \
                   #T " does not fit " #C " (crypto_state.h)")

/* ---- signature schemes (crypto_sig.c) ------------------------------------------- */

enum crypto_sig_family { CRYPTO_SIG_FAM_ECDSA, CRYPTO_SIG_FAM_RSA_PKCS1, CRYPTO_SIG_FAM_RSA_PSS };
enum crypto_sig_hash { CRYPTO_SIG_HASH_SHA256, CRYPTO_SIG_HASH_SHA384, CRYPTO_SIG_HASH_SHA512 };

/* What a TLS SignatureScheme code means (RFC 8446 4.2.3). */
struct crypto_sig_scheme_info {
    uint16_t code;
    enum crypto_sig_family fam;
    enum crypto_sig_hash hash;
    size_t hash_len; /* 32, 48, 64 */
};

/* The row for a code we verify, or NULL. */
const struct crypto_sig_scheme_info *crypto_sig_scheme_find(uint16_t code);
/* Whether a scheme's family can be used with a key of this type. */
bool crypto_sig_family_fits(enum crypto_sig_family fam, enum crypto_peer_key_type type);

/* RSA moduli we verify with: below 2048 bits is too weak (NIST SP 800-57
 * part 1, 112-bit security); above 8192 the signature would exceed
 * CRYPTO_SIG_VERIFY_MAX and cost a peer-chosen amount of work. */
#define CRYPTO_RSA_BITS_MIN 2048
#define CRYPTO_RSA_BITS_MAX 8192

/* ---- messages (crypto_pki.c) and files (crypto_pki_file.c) ------------------------ */

/* Format one line into msg (NULL: nothing), truncating to CRYPTO_MSG_MAX. */
void crypto_pki_msg(char *msg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Read a whole regular file into a fresh malloc'ed buffer (*out, freed by
 * the caller with crypto_pki_free_file). COAPS_E_IO when it cannot be opened
 * or read, COAPS_E_INVALID when not a regular file or larger than
 * CRYPTO_PEM_FILE_MAX; msg says "PATH: why". */
coaps_status crypto_pki_read_file(const char *path, uint8_t **out, size_t *out_len, char *msg);
/* Wipe (a key file holds secrets) and free what crypto_pki_read_file gave. */
void crypto_pki_free_file(uint8_t *buf, size_t len);

/* One decoded PEM block into a trust store (crypto_pki.c; crypto_trust_add_pem
 * of each backend walks the blocks with its library's PEM reader and hands
 * each here): CERTIFICATE -> crypto_trust_add_der, PUBLIC KEY ->
 * crypto_trust_add_rpk_der, any other label skipped (COAPS_OK, *added
 * unchanged). index is the block's 1-based number, for msg; *added counts
 * the blocks taken. */
coaps_status crypto_trust_add_block(struct crypto_trust *t, const char *name, const uint8_t *der,
                                    size_t len, size_t index, size_t *added, char *msg);

/* crypto_credential_load_pem with the names its messages use for the two
 * buffers (file paths when they came from files): implemented by the
 * backend, called by crypto_credential_load_pem and _load. */
coaps_status crypto_credential_load_named(struct crypto_credential *c, const void *chain_pem,
                                          size_t chain_len, const char *chain_what,
                                          const void *key_pem, size_t key_len,
                                          const char *key_what, char msg[CRYPTO_MSG_MAX]);

#endif /* COAPS_CRYPTO_BACKEND_H */
