/*
 * crypto.h - the narrow interface between the protocol code and the crypto
 * primitives. The protocol (src/dtls) calls only what is declared here.
 * Two backends implement it, chosen at configure time (-DCOAPS_CRYPTO=...):
 *   src/crypto/openssl/  OpenSSL 3 libcrypto (the default)
 *   src/crypto/psa/      the PSA Crypto API on Mbed TLS 3.6, with Mbed TLS's
 *                        x509 module for certificates (PSA has none)
 * and they are the only code that includes a crypto library's headers.
 * src/crypto/crypto_*.c are backend-neutral (lengths, tables, the TLS PRF,
 * file loading), built on the functions below.
 *
 * Memory: every context is a struct owned by the caller (embedded in a
 * session or a handshake context) whose backend state lives inside it, in
 * `st`, sized at compile time for the configured backend
 * (crypto_state.h); only the backend looks inside. `live` says whether the
 * context holds state: false after zeroing, a failed init or a clear.
 * Where the library keeps state of its own that the API cannot put in
 * caller memory (OpenSSL's EVP contexts; the PSA key store's key slots),
 * it is set up when the context is keyed, never per record.
 *
 * Errors: COAPS_E_INVALID for bad arguments (NULL, wrong lengths, unknown
 * algorithm), COAPS_E_NOMEM when set-up allocation fails, COAPS_E_CRYPTO
 * when the backend itself fails, COAPS_E_AUTH / COAPS_E_VERIFY /
 * COAPS_E_MALFORMED for bad network input as documented per function.
 *
 * Ownership: every context struct is owned by the caller (embedded in a
 * session). *_init keys or sets it up once (may allocate inside the backend,
 * never per packet); *_clear releases and wipes it. Seal/open are called per
 * record and must not allocate.
 */
#ifndef COAPS_CRYPTO_H
#define COAPS_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coaps/status.h"
#include "crypto/crypto_state.h"

/* Backend state inside a caller's context: n bytes, aligned for any
 * pointer or 64-bit field the backend keeps there. */
#define CRYPTO_STATE(n)                                                                            \
    union {                                                                                        \
        unsigned char bytes[n];                                                                    \
        uint64_t align_u64;                                                                        \
        void *align_ptr;                                                                           \
    }

/* ---- hashes ------------------------------------------------------------ */

enum crypto_hash_alg {
    CRYPTO_SHA256 = 0,
    CRYPTO_SHA384 = 1,
};

#define CRYPTO_HASH_MAX 48 /* SHA-384 output */

size_t crypto_hash_len(enum crypto_hash_alg alg);

/* A running hash (the handshake transcript). */
struct crypto_hash {
    CRYPTO_STATE(CRYPTO_HASH_STATE_SIZE) st; /* backend state */
    enum crypto_hash_alg alg;
    bool live;
};

/* Start a running hash (its whole state in `st`: no allocation). On
 * failure h->live is false and crypto_hash_clear() is still safe. */
coaps_status crypto_hash_init(struct crypto_hash *h, enum crypto_hash_alg alg);
/* Absorb len bytes (data may be NULL when len is 0). */
coaps_status crypto_hash_update(struct crypto_hash *h, const void *data, size_t len);
/* The digest of everything so far (crypto_hash_len(h->alg) bytes), without
 * ending the running hash: more updates and peeks may follow (Finished
 * messages, RFC 5246 7.4.9). Finishes a copy on the stack. */
coaps_status crypto_hash_peek(const struct crypto_hash *h, uint8_t out[CRYPTO_HASH_MAX]);
/* Free the state; safe to call twice. */
void crypto_hash_clear(struct crypto_hash *h);

/* One-shot hash and HMAC; out receives crypto_hash_len(alg) bytes. A key
 * of any length is fine (longer than the block is hashed, RFC 2104). */
coaps_status crypto_hash(enum crypto_hash_alg alg, const void *data, size_t len,
                         uint8_t out[CRYPTO_HASH_MAX]);
coaps_status crypto_hmac(enum crypto_hash_alg alg, const void *key, size_t key_len,
                         const void *data, size_t len, uint8_t out[CRYPTO_HASH_MAX]);

/* HMAC over the concatenation of several pieces, without copying them into
 * one buffer first (PRF iterations, cookies over address || ClientHello
 * fields). parts may be NULL when n_parts is 0; a piece with len 0 may have
 * p == NULL. Handshake path only: the backend may allocate here. */
struct crypto_iov {
    const void *p;
    size_t len;
};

coaps_status crypto_hmac_iov(enum crypto_hash_alg alg, const void *key, size_t key_len,
                             const struct crypto_iov *parts, size_t n_parts,
                             uint8_t out[CRYPTO_HASH_MAX]);

/* An HMAC key prepared once for many MACs under it (the PRF's P_hash
 * makes 4+ under one secret): K ^ ipad and K ^ opad (RFC 2104 2) are
 * absorbed by crypto_hmac_key_init, so each crypto_hmac_keyed hashes only
 * the message and the inner digest. Handshake path only: may allocate.
 * crypto_hmac_key_clear frees and wipes; safe on a zeroed or failed key. */
struct crypto_hmac_key {
    CRYPTO_STATE(CRYPTO_HMAC_KEY_STATE_SIZE) st;
    enum crypto_hash_alg alg;
    bool live;
};

coaps_status crypto_hmac_key_init(struct crypto_hmac_key *k, enum crypto_hash_alg alg,
                                  const void *key, size_t key_len);
coaps_status crypto_hmac_keyed(const struct crypto_hmac_key *k, const struct crypto_iov *parts,
                               size_t n_parts, uint8_t out[CRYPTO_HASH_MAX]);
void crypto_hmac_key_clear(struct crypto_hmac_key *k);

/* TLS 1.2 PRF (RFC 5246 section 5): P_hash(secret, label || seed).
 * label is a NUL-terminated ASCII string (the NUL is not hashed); out_len may
 * be any length (key blocks are ~40..136 bytes). Built on crypto_hmac_key_*
 * in crypto_prf.c, so a second backend gets it for free. COAPS_E_INVALID on
 * NULL arguments. */
coaps_status crypto_tls12_prf(enum crypto_hash_alg alg, const uint8_t *secret, size_t secret_len,
                              const char *label, const uint8_t *seed, size_t seed_len,
                              uint8_t *out, size_t out_len);

/* The same PRF under a secret already prepared with crypto_hmac_key_init
 * (its hash is the PRF's): for several PRF calls under one secret, as the
 * key block and both Finished messages are under the master secret. */
coaps_status crypto_tls12_prf_keyed(const struct crypto_hmac_key *key, const char *label,
                                    const uint8_t *seed, size_t seed_len, uint8_t *out,
                                    size_t out_len);

/* ---- AEAD ---------------------------------------------------------------- */

enum crypto_aead_alg {
    CRYPTO_AES_128_CCM_8 = 0, /* RFC 6655, tag 8 */
    CRYPTO_AES_128_CCM = 1,   /* RFC 6655, tag 16 */
    CRYPTO_AES_128_GCM = 2,   /* RFC 5288 */
    CRYPTO_AES_256_GCM = 3,   /* RFC 5288 */
    CRYPTO_CHACHA20_POLY1305 = 4, /* RFC 7905 */
};

#define CRYPTO_AEAD_KEY_MAX 32
#define CRYPTO_AEAD_NONCE_LEN 12 /* all suites above use a 12-byte nonce */
#define CRYPTO_AEAD_TAG_MAX 16

size_t crypto_aead_key_len(enum crypto_aead_alg alg);
size_t crypto_aead_tag_len(enum crypto_aead_alg alg);
/* true when the configured backend implements alg: a cipher suite whose
 * AEAD is missing is not offered (src/dtls/suites.c). */
bool crypto_aead_available(enum crypto_aead_alg alg);
/* The backend's name for logs and benchmarks: "openssl" or "psa". */
const char *crypto_backend_name(void);

struct crypto_aead {
    CRYPTO_STATE(CRYPTO_AEAD_STATE_SIZE) st; /* backend state, keyed once */
    enum crypto_aead_alg alg;
    bool live;
};

/* Key a context once (allocates backend state: set-up path). key_len must be
 * crypto_aead_key_len(alg), else COAPS_E_INVALID. On failure a->live is false
 * and crypto_aead_clear() is still safe. The backend keeps the key schedule
 * (and, for OpenSSL, a copy of the key) until crypto_aead_clear().
 * A context may both seal and open, but switching direction re-keys inside
 * the backend: use one context per direction on hot paths (DTLS does). */
coaps_status crypto_aead_init(struct crypto_aead *a, enum crypto_aead_alg alg,
                              const uint8_t *key, size_t key_len);
/* out receives len bytes of ciphertext followed by the tag
 * (len + crypto_aead_tag_len bytes); out may equal in (in-place), any other
 * overlap is undefined. Never allocates. COAPS_E_INVALID on bad arguments,
 * COAPS_E_CRYPTO if the backend fails. The caller guarantees the nonce is
 * never reused under one key (DTLS: epoch || sequence number). */
coaps_status crypto_aead_seal(struct crypto_aead *a, const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN],
                              const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
                              uint8_t *out);
/* in holds len bytes of ciphertext followed by the tag (len excludes the tag);
 * out receives len bytes of plaintext and may equal in. COAPS_E_AUTH when the
 * tag does not verify (out is then wiped: no unauthenticated plaintext is ever
 * released). Never allocates. */
coaps_status crypto_aead_open(struct crypto_aead *a, const uint8_t nonce[CRYPTO_AEAD_NONCE_LEN],
                              const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
                              uint8_t *out);
/* Free and wipe the backend state; safe on a cleared or failed context. */
void crypto_aead_clear(struct crypto_aead *a);
/* Make a keyed context cold: give back the state the backend holds outside
 * the context (OpenSSL: its EVP_CIPHER_CTX, the bulk of an idle session's
 * memory) and keep only the key, inside the context. The next seal or open
 * re-keys on its own (the cost of one crypto_aead_init, once; it may then
 * fail with COAPS_E_NOMEM or COAPS_E_CRYPTO, never COAPS_E_AUTH);
 * crypto_aead_export_key and crypto_aead_clear work as before. true when
 * something was given back; false for a context not keyed, already cold,
 * or on a backend that keeps nothing it could give back without losing
 * the key (PSA: the key lives only in the key store). */
bool crypto_aead_cool(struct crypto_aead *a);
/* The key a context was keyed with, into key (CRYPTO_AEAD_KEY_MAX bytes),
 * its length to *key_len: for durable sessions (src/dtls/persist.c), which
 * seal a session's keys into a state file. COAPS_E_STATE for a context
 * not keyed; COAPS_E_UNSUPPORTED in a build without COAPS_WITH_PERSIST
 * (coaps/config.h: the PSA backend then keys its AEADs without the
 * export permission). The caller wipes key after use. */
coaps_status crypto_aead_export_key(const struct crypto_aead *a, uint8_t key[CRYPTO_AEAD_KEY_MAX],
                                    size_t *key_len);

/* ---- ephemeral ECDH (ECDHE_* key exchange, RFC 8422; X25519 RFC 7748) ---- */

enum crypto_kx_group {
    CRYPTO_KX_P256 = 0,   /* secp256r1, NamedGroup 23 */
    CRYPTO_KX_X25519 = 1, /* x25519, NamedGroup 29 */
};

/* Largest public value: an uncompressed P-256 point 0x04 || X || Y
 * (RFC 8422 5.4.1, the only point format we use); X25519 uses 32 bytes. */
#define CRYPTO_KX_PUBLIC_MAX 65
/* Shared secret: the 32-byte X coordinate for P-256 (RFC 8422 5.10) or the
 * 32-byte X25519 output (RFC 7748 6.1). */
#define CRYPTO_KX_SECRET_MAX 32

struct crypto_kx {
    CRYPTO_STATE(CRYPTO_KX_STATE_SIZE) st; /* backend key pair */
    enum crypto_kx_group group;
    bool live;
};

/* Public value length on the wire: 65 (P-256) or 32 (X25519); 0 if unknown. */
size_t crypto_kx_public_len(enum crypto_kx_group group);

/* Make a fresh key pair (handshake path; allocates in the backend) and
 * write our public value (crypto_kx_public_len bytes) to pub.
 * COAPS_E_INVALID, COAPS_E_NOMEM, COAPS_E_CRYPTO. */
coaps_status crypto_kx_generate(struct crypto_kx *kx, enum crypto_kx_group group,
                                uint8_t pub[CRYPTO_KX_PUBLIC_MAX], size_t *pub_len);

/* Use a given private key instead (known-answer tests): 32 bytes for both
 * groups (P-256 scalar big-endian, X25519 scalar as in RFC 7748). pub/pub_len
 * receive the matching public value. A P-256 scalar outside [1, n-1] is
 * COAPS_E_INVALID. */
coaps_status crypto_kx_import_private(struct crypto_kx *kx, enum crypto_kx_group group,
                                      const uint8_t *priv, size_t priv_len,
                                      uint8_t pub[CRYPTO_KX_PUBLIC_MAX], size_t *pub_len);

/* The shared secret with the peer's public value (network input).
 * COAPS_E_MALFORMED when the peer value has the wrong length or format, is
 * not a point on the curve, or (X25519) gives the all-zero secret
 * (RFC 8422 5.11, RFC 7748 6.1): answer with illegal_parameter.
 * *secret_len is set to 32. The caller wipes secret after use. */
coaps_status crypto_kx_derive(const struct crypto_kx *kx, const uint8_t *peer, size_t peer_len,
                              uint8_t secret[CRYPTO_KX_SECRET_MAX], size_t *secret_len);

/* Free and wipe the key pair; safe on a cleared or failed context. */
void crypto_kx_clear(struct crypto_kx *kx);

/* ---- ECDSA over P-256 with SHA-256 (ecdsa_secp256r1_sha256, RFC 8422 5.4) - */

#define CRYPTO_P256_PRIVATE_LEN 32
#define CRYPTO_P256_PUBLIC_LEN 65 /* 0x04 || X || Y */
/* DER Ecdsa-Sig-Value: SEQUENCE { INTEGER r, INTEGER s }, each INTEGER at
 * most 33 bytes (a leading 0x00 when the top bit is set): 2 + 2 * (2 + 33). */
#define CRYPTO_ECDSA_SIG_MAX 72

struct crypto_sign_key {
    CRYPTO_STATE(CRYPTO_SIGN_KEY_STATE_SIZE) st; /* backend key pair */
    bool live;
};

/* A fresh P-256 signing key (set-up path). */
coaps_status crypto_ecdsa_p256_generate(struct crypto_sign_key *k);
/* A P-256 signing key from its 32-byte big-endian private scalar; the public
 * point is computed. COAPS_E_INVALID for a scalar outside [1, n-1]. */
coaps_status crypto_ecdsa_p256_import(struct crypto_sign_key *k,
                                      const uint8_t priv[CRYPTO_P256_PRIVATE_LEN]);
/* The public point of k, uncompressed (65 bytes). */
coaps_status crypto_ecdsa_p256_public(const struct crypto_sign_key *k,
                                      uint8_t pub[CRYPTO_P256_PUBLIC_LEN]);
/* Sign a SHA-256 digest (e.g. of the ServerKeyExchange params, RFC 8422
 * 5.4, or a transcript hash peek): DER signature into sig, *sig_len its
 * length (<= CRYPTO_ECDSA_SIG_MAX). Randomized (not RFC 6979). */
coaps_status crypto_ecdsa_p256_sign(const struct crypto_sign_key *k, const uint8_t digest[32],
                                    uint8_t sig[CRYPTO_ECDSA_SIG_MAX], size_t *sig_len);
/* Verify a DER signature over a SHA-256 digest with an uncompressed public
 * point (network input). COAPS_OK when valid; COAPS_E_VERIFY when the
 * signature does not verify or is not strict DER; COAPS_E_MALFORMED when
 * the public point is not a valid P-256 point. */
coaps_status crypto_ecdsa_p256_verify(const uint8_t *pub, size_t pub_len, const uint8_t digest[32],
                                      const uint8_t *sig, size_t sig_len);
/* Free and wipe; safe on a cleared or failed key. */
void crypto_sign_key_clear(struct crypto_sign_key *k);

/* ---- randomness and comparisons ------------------------------------------ */

/* Fill out with len bytes from the system CSPRNG (randoms, cookie secrets). */
coaps_status crypto_random(void *out, size_t len);
/* true when equal; the time taken does not depend on where bytes differ. */
bool crypto_ct_equal(const void *a, const void *b, size_t len);
/* Wipe secrets in a way the compiler will not elide. */
void crypto_wipe(void *p, size_t len);


/* ==== certificates, raw public keys and our own credential ================
 * (each backend's x509.c: trust store and chain verification; sig.c: peer
 *  keys and signature verification; cred.c: our own certificate chain and
 *  private key; pem.c: PEM helpers shared by the three; crypto_pki_file.c:
 *  the file loaders, for every backend.)
 *
 * Everything here is handshake or set-up path: it allocates inside the
 * backend and never runs per record. Trust stores and credentials are
 * configuration: load once at start-up, then share read-only between
 * sessions (verification does not modify a crypto_trust). Loading from files
 * is the one place src/crypto touches the file system, because it is
 * configuration loading; every _file/_dir loader has a bytes twin
 * (*_pem, *_der) so a sans-IO caller can feed memory instead.
 *
 * Messages: loaders take `char msg[CRYPTO_MSG_MAX]` (may be NULL). On failure
 * it receives one line naming what is wrong ("server.key: key must be EC
 * P-256"), suitable for printing as is; on success it is left unchanged.
 */

/* Bytes of a loader's error message, NUL included: a path plus a short
 * reason fit in one terminal line or log record. */
#define CRYPTO_MSG_MAX 256
/* Certificates in a chain we accept from a peer or load for ourselves:
 * leaf + intermediates. Real chains are 2..4; 8 leaves room for cross
 * signatures while bounding the work a peer can ask for. */
#define CRYPTO_CHAIN_MAX 8
/* Raw public keys (RFC 7250) one trust store can pin: configuration of a
 * small deployment; lookup is linear. */
#define CRYPTO_TRUST_RPK_MAX 64
/* Largest signature crypto_peer_key_verify accepts: RSA-8192 (1024 bytes);
 * DER ECDSA P-384 is at most 104. */
#define CRYPTO_SIG_VERIFY_MAX 1024
/* Largest file a PEM loader reads (a system CA bundle is ~200 KiB). */
#define CRYPTO_PEM_FILE_MAX (4u * 1024u * 1024u)

/* TLS SignatureScheme codes (RFC 8446 4.2.3; in TLS 1.2 the same two bytes
 * are the SignatureAndHashAlgorithm {hash, signature} pair of RFC 5246
 * 7.4.1.4.1, e.g. 0x0403 = {sha256, ecdsa}). */
enum crypto_sig_scheme {
    CRYPTO_SIG_RSA_PKCS1_SHA256 = 0x0401,
    CRYPTO_SIG_RSA_PKCS1_SHA384 = 0x0501,
    CRYPTO_SIG_RSA_PKCS1_SHA512 = 0x0601,
    CRYPTO_SIG_ECDSA_SECP256R1_SHA256 = 0x0403,
    CRYPTO_SIG_ECDSA_SECP384R1_SHA384 = 0x0503,
    CRYPTO_SIG_ECDSA_SECP521R1_SHA512 = 0x0603,
    CRYPTO_SIG_RSA_PSS_RSAE_SHA256 = 0x0804,
    CRYPTO_SIG_RSA_PSS_RSAE_SHA384 = 0x0805,
    CRYPTO_SIG_RSA_PSS_RSAE_SHA512 = 0x0806,
};

/* Why a peer's certificate chain or raw public key was refused, and the
 * TLS alert (RFC 5246 7.2.2) to send for it: crypto_x509_reason_alert().
 *   CRYPTO_X509_OK                 accepted
 *   CRYPTO_X509_NO_CERTIFICATE     empty chain: handshake_failure (40),
 *                                  RFC 5246 7.4.6
 *   CRYPTO_X509_MALFORMED          a certificate or SPKI is not valid DER,
 *                                  or the chain is longer than
 *                                  CRYPTO_CHAIN_MAX: bad_certificate (42)
 *                                  ("corrupt")
 *   CRYPTO_X509_BAD_CERT_SIGNATURE a signature inside the chain does not
 *                                  verify: bad_certificate (42) ("contained
 *                                  signatures that did not verify")
 *   CRYPTO_X509_NAME_MISMATCH      no subjectAltName (or CN when there is no
 *                                  SAN, RFC 6125 6.4.4) matches the expected
 *                                  name: bad_certificate (42). Chosen over
 *                                  certificate_unknown (46) because the
 *                                  certificate is definitely wrong for this
 *                                  peer, not of unknown status; OpenSSL
 *                                  sends the same.
 *   CRYPTO_X509_UNSUPPORTED        leaf key type we cannot use (not RSA,
 *                                  P-256 or P-384; RSA below 2048 bits), or
 *                                  keyUsage without digitalSignature, or
 *                                  extendedKeyUsage without serverAuth /
 *                                  clientAuth as required:
 *                                  unsupported_certificate (43) ("of an
 *                                  unsupported type": unusable for this)
 *   CRYPTO_X509_EXPIRED            outside notBefore..notAfter at `now`
 *                                  (also not yet valid): certificate_expired
 *                                  (45) ("expired or is not currently valid")
 *   CRYPTO_X509_UNKNOWN_CA         no path to a trusted root (includes a
 *                                  self-signed leaf we do not trust):
 *                                  unknown_ca (48)
 *   CRYPTO_X509_RPK_UNKNOWN        a well-formed raw public key that is not
 *                                  pinned: certificate_unknown (46) (there
 *                                  is no CA to be unknown)
 *   CRYPTO_X509_INVALID_CHAIN      any other chain defect (a non-CA issuer,
 *                                  path length, bad extension):
 *                                  bad_certificate (42)
 *   CRYPTO_X509_BAD_SIGNATURE      a handshake signature made with the peer
 *                                  key (ServerKeyExchange, CertificateVerify)
 *                                  did not verify: decrypt_error (51). The
 *                                  verifier never returns it; the engine
 *                                  uses it when crypto_peer_key_verify says
 *                                  COAPS_E_VERIFY, for one log/alert path.
 *   CRYPTO_X509_INTERNAL           the backend failed (memory): internal_error
 *                                  (80)
 */
enum crypto_x509_reason {
    CRYPTO_X509_OK = 0,
    CRYPTO_X509_NO_CERTIFICATE,
    CRYPTO_X509_MALFORMED,
    CRYPTO_X509_BAD_CERT_SIGNATURE,
    CRYPTO_X509_NAME_MISMATCH,
    CRYPTO_X509_UNSUPPORTED,
    CRYPTO_X509_EXPIRED,
    CRYPTO_X509_UNKNOWN_CA,
    CRYPTO_X509_RPK_UNKNOWN,
    CRYPTO_X509_INVALID_CHAIN,
    CRYPTO_X509_BAD_SIGNATURE,
    CRYPTO_X509_INTERNAL,
};

/* The TLS AlertDescription for a reason (see the table above); 0 for
 * CRYPTO_X509_OK, internal_error (80) for a value outside the enum. */
uint8_t crypto_x509_reason_alert(enum crypto_x509_reason r);
/* A short static phrase for logs ("certificate expired", "unknown CA",
 * "name mismatch", ...). Never NULL. */
const char *crypto_x509_reason_str(enum crypto_x509_reason r);
/* One log line into buf (always NUL-terminated when cap > 0, truncated to
 * fit): the phrase, plus ": expected NAME" for CRYPTO_X509_NAME_MISMATCH
 * when expected_name is not NULL. Returns buf. */
const char *crypto_x509_reason_format(enum crypto_x509_reason r, const char *expected_name,
                                      char *buf, size_t cap);

/* ---- trust store ------------------------------------------------------------ */

/* Trusted CA certificates (trust anchors) and pinned raw public keys.
 * Owned by the caller; st is backend state. Zero it, or call
 * crypto_trust_init, before any other call. */
struct crypto_trust {
    CRYPTO_STATE(CRYPTO_TRUST_STATE_SIZE) st;
    bool live;
};

/* An empty store. COAPS_E_NOMEM. On failure t->live is false and
 * crypto_trust_clear() is still safe. */
coaps_status crypto_trust_init(struct crypto_trust *t);
/* Add every "CERTIFICATE" block of a PEM buffer as a trust anchor and every
 * "PUBLIC KEY" block as a pinned raw public key; other blocks (keys,
 * parameters) are ignored. The bytes are copied: buf may be freed after.
 * COAPS_E_MALFORMED (msg says which block) when a block does not decode or
 * none of the two kinds is present; COAPS_E_FULL past CRYPTO_TRUST_RPK_MAX
 * keys; COAPS_E_UNSUPPORTED for a public key of a type we cannot verify
 * with. Blocks before the failing one stay added. */
coaps_status crypto_trust_add_pem(struct crypto_trust *t, const void *buf, size_t len,
                                  char msg[CRYPTO_MSG_MAX]);
/* Add one DER certificate as a trust anchor (copied). COAPS_E_MALFORMED when
 * it is not exactly one DER certificate. */
coaps_status crypto_trust_add_der(struct crypto_trust *t, const uint8_t *der, size_t len);
/* Pin one raw public key: a DER SubjectPublicKeyInfo (copied).
 * COAPS_E_MALFORMED, COAPS_E_UNSUPPORTED (key type), COAPS_E_FULL. */
coaps_status crypto_trust_add_rpk_der(struct crypto_trust *t, const uint8_t *spki, size_t len);
/* crypto_trust_add_pem on the contents of a file. COAPS_E_IO when it cannot
 * be read (msg: "PATH: No such file or directory"), COAPS_E_INVALID when
 * larger than CRYPTO_PEM_FILE_MAX; msg lines start with the path. */
coaps_status crypto_trust_load_file(struct crypto_trust *t, const char *path,
                                    char msg[CRYPTO_MSG_MAX]);
/* crypto_trust_load_file on every regular file named *.pem, *.crt or *.pub
 * in a directory (not recursive; other names are skipped, so the
 * directory may also hold hash links or READMEs). COAPS_E_IO when the
 * directory cannot be read, COAPS_E_NOT_FOUND when no file was loaded; the
 * first failing file stops the walk. */
coaps_status crypto_trust_load_dir(struct crypto_trust *t, const char *dir,
                                   char msg[CRYPTO_MSG_MAX]);
/* Counts of anchors and pinned keys (either pointer may be NULL). */
void crypto_trust_count(const struct crypto_trust *t, size_t *n_ca, size_t *n_rpk);
/* Free the store; safe twice and on a failed init. */
void crypto_trust_clear(struct crypto_trust *t);

/* ---- peer keys and signature verification ------------------------------------ */

enum crypto_peer_key_type {
    CRYPTO_PEER_KEY_NONE = 0,
    CRYPTO_PEER_KEY_EC_P256,
    CRYPTO_PEER_KEY_EC_P384,
    CRYPTO_PEER_KEY_RSA,
};

/* A peer's public key, from its certificate or raw public key. Owned by the
 * caller (one per handshake); holds a reference in the backend until
 * crypto_peer_key_clear. Zero-initialise before use as an output. */
struct crypto_peer_key {
    CRYPTO_STATE(CRYPTO_PEER_KEY_STATE_SIZE) st;
    enum crypto_peer_key_type type;
    bool live;
};

/* Verify a signature `sig` over the message `msg` (the hash is computed
 * here) under TLS SignatureScheme `scheme`: network input.
 *   ECDSA keys (P-256, P-384): 0x0403, 0x0503, 0x0603 with a DER
 *     Ecdsa-Sig-Value. As in TLS 1.2 (RFC 5246 7.4.1.4.1, RFC 8422 5.10)
 *     the code fixes the hash only, the curve is the key's.
 *   RSA keys: 0x0401/0x0501/0x0601 (PKCS#1 v1.5) and 0x0804/0x0805/0x0806
 *     (PSS, MGF1 with the same hash, salt length = hash length, RFC 8446
 *     4.2.3).
 * COAPS_OK when valid; COAPS_E_VERIFY when it does not verify (send
 * decrypt_error, CRYPTO_X509_BAD_SIGNATURE); COAPS_E_UNSUPPORTED when the
 * scheme is unknown or does not fit the key type (send illegal_parameter:
 * the peer chose a scheme we did not offer or cannot use with its key);
 * COAPS_E_INVALID for NULL arguments or an empty key. Does not keep msg or
 * sig. */
coaps_status crypto_peer_key_verify(const struct crypto_peer_key *key, uint16_t scheme,
                                    const uint8_t *msg, size_t msg_len, const uint8_t *sig,
                                    size_t sig_len);
/* The schemes crypto_peer_key_verify accepts, in our order of preference
 * (ECDSA first: smaller and cheaper; then RSA-PSS, then PKCS#1 v1.5), for
 * the signature_algorithms extension (RFC 5246 7.4.1.4.1) and
 * CertificateRequest.supported_signature_algorithms (7.4.4). Returns a
 * static array and sets *n to its length (at most CRYPTO_SIG_SCHEMES_MAX). */
#define CRYPTO_SIG_SCHEMES_MAX 9 /* the nine codes of enum crypto_sig_scheme */
const uint16_t *crypto_sig_verify_schemes(size_t *n);
/* true when `scheme` can be verified with this key (to choose what to offer
 * or check a peer's choice before verifying). */
bool crypto_peer_key_supports(const struct crypto_peer_key *key, uint16_t scheme);
/* The same over a precomputed digest of the message (digest_len bytes,
 * the length of the scheme's hash): for TLS 1.2 CertificateVerify (RFC 5246
 * 7.4.8), which signs the handshake transcript that the engine keeps only
 * as running hashes. Same results as crypto_peer_key_verify; a digest of
 * the wrong length is COAPS_E_INVALID. */
coaps_status crypto_peer_key_verify_digest(const struct crypto_peer_key *key, uint16_t scheme,
                                           const uint8_t *digest, size_t digest_len,
                                           const uint8_t *sig, size_t sig_len);
/* The hash a scheme signs with: true and *alg set for the SHA-256 and
 * SHA-384 schemes (the ones a running crypto_hash can serve); false for
 * SHA-512 schemes and unknown codes. */
bool crypto_sig_scheme_hash(uint16_t scheme, enum crypto_hash_alg *alg);
/* Release the reference; safe twice and on a zeroed key. */
void crypto_peer_key_clear(struct crypto_peer_key *key);

/* ---- chain verification (RFC 5280 path validation by libcrypto) --------------- */

/* Which role the peer plays: a client checks the server's chain with
 * CRYPTO_X509_PURPOSE_SERVER (extendedKeyUsage serverAuth when present),
 * a server checks a client's with CRYPTO_X509_PURPOSE_CLIENT (clientAuth). */
enum crypto_x509_purpose {
    CRYPTO_X509_PURPOSE_SERVER = 0,
    CRYPTO_X509_PURPOSE_CLIENT = 1,
};

/* Verify a peer's certificate chain from the Certificate message (RFC 5246
 * 7.4.2): certs[0] is the leaf (DER, lens[0] bytes), certs[1..n-1] are
 * untrusted intermediates in any order (the root may be included or not).
 * libcrypto's X509_STORE builds the path to one of `trust`'s anchors and
 * checks it (RFC 5280 6.1): signatures, validity at `now_unix` (seconds
 * since 1970; 0 = the system clock, for callers without a clock of their
 * own), CA flags and path lengths, and the extended key usage for
 * `purpose` when present (on the leaf and the CAs). Anchors end a path only
 * when they are self-signed roots: an intermediate in the store helps to
 * build a path but is not trusted on its own (no partial chains). Then we
 * check the leaf: keyUsage, when present, must allow digitalSignature (it
 * signs the handshake: RFC 8422 5.3, RFC 5246 7.4.2); the name, unless
 * expected_name is NULL: an IPv4/IPv6 literal matches iPAddress SANs only,
 * anything else dNSName SANs (case-insensitive, a wildcard only as the
 * whole left-most label), or the subject CN only when the certificate has
 * no dNSName SAN (RFC 6125 6.4.4); and a key type we can verify with
 * (CRYPTO_PEER_KEY_*). The first defect found is the reason.
 * Returns COAPS_OK with *out_leaf_key holding the leaf's public key (clear
 * it with crypto_peer_key_clear); COAPS_E_VERIFY with *out_reason saying why
 * (send crypto_x509_reason_alert(*out_reason)) and *out_leaf_key empty;
 * COAPS_E_INVALID for bad arguments (NULL trust, unknown purpose, now_unix
 * above INT64_MAX; reason CRYPTO_X509_INTERNAL); COAPS_E_NOMEM when the
 * backend fails (reason CRYPTO_X509_INTERNAL). out_leaf_key and out_reason
 * may be NULL. Never keeps the certs; `trust` is only read, so one store
 * may serve many sessions and threads as long as nobody adds to it
 * meanwhile. Handshake path: allocates inside libcrypto, frees before
 * returning (except the key reference handed out). */
coaps_status crypto_x509_verify_chain(const struct crypto_trust *trust,
                                      const uint8_t *const *certs, const size_t *lens, size_t n,
                                      const char *expected_name, enum crypto_x509_purpose purpose,
                                      uint64_t now_unix, struct crypto_peer_key *out_leaf_key,
                                      enum crypto_x509_reason *out_reason);

/* Match a peer's raw public key (RFC 7250 3: the DER SubjectPublicKeyInfo
 * of its Certificate message) against the pinned keys of `trust`. Keys
 * compare by value, so another valid encoding of a pinned key matches.
 * COAPS_OK with *out_key set (clear it); COAPS_E_VERIFY with *out_reason
 * CRYPTO_X509_MALFORMED (not one DER SPKI), CRYPTO_X509_UNSUPPORTED (key
 * type) or CRYPTO_X509_RPK_UNKNOWN (not pinned). out_key and out_reason
 * may be NULL. */
coaps_status crypto_rpk_match(const struct crypto_trust *trust, const uint8_t *spki, size_t len,
                              struct crypto_peer_key *out_key,
                              enum crypto_x509_reason *out_reason);

/* ---- our own credential: certificate chain + EC P-256 private key ------------- */

/* Owned by the caller; st holds the key and DER copies of the chain and
 * of our SPKI. Zero it before use. Load once, share read-only. */
struct crypto_credential {
    CRYPTO_STATE(CRYPTO_CREDENTIAL_STATE_SIZE) st;
    bool live;
};

/* Load from PEM buffers. chain_pem: our certificate first, then any
 * intermediates (RFC 5246 7.4.2), at most CRYPTO_CHAIN_MAX; NULL (len 0)
 * for a raw-public-key-only credential (RFC 7250). key_pem: one private key
 * as "PRIVATE KEY" (PKCS#8) or "EC PRIVATE KEY" (RFC 5915); other blocks
 * such as "EC PARAMETERS" or certificates are skipped, so chain and key may
 * be one buffer. Copies everything. Errors, each with one line in msg:
 *   COAPS_E_MALFORMED    no CERTIFICATE / private key block, or one that
 *                        does not decode ("no private key")
 *   COAPS_E_UNSUPPORTED  "key must be EC P-256" (RSA, P-384, Ed25519...),
 *                        or an encrypted key ("encrypted private keys are
 *                        not supported")
 *   COAPS_E_CONFIG       "private key does not match the certificate"
 *   COAPS_E_FULL         more than CRYPTO_CHAIN_MAX certificates
 *   COAPS_E_NOMEM
 * On failure c->live is false (clear is still safe). */
coaps_status crypto_credential_load_pem(struct crypto_credential *c, const void *chain_pem,
                                        size_t chain_len, const void *key_pem, size_t key_len,
                                        char msg[CRYPTO_MSG_MAX]);
/* The same from files (chain_path may be NULL for RPK only, and may equal
 * key_path). COAPS_E_IO for a missing or unreadable file ("PATH: No such
 * file or directory"); other messages are prefixed with the file's path. */
coaps_status crypto_credential_load(struct crypto_credential *c, const char *chain_path,
                                    const char *key_path, char msg[CRYPTO_MSG_MAX]);
/* Number of certificates in our chain (0 for RPK only or an empty c). */
size_t crypto_credential_chain_len(const struct crypto_credential *c);
/* Certificate i of our chain as DER (borrowed, valid until
 * crypto_credential_clear), for the Certificate message.
 * COAPS_E_NOT_FOUND when i >= chain_len, COAPS_E_INVALID on NULL. */
coaps_status crypto_credential_cert(const struct crypto_credential *c, size_t i,
                                    const uint8_t **der, size_t *len);
/* Our DER SubjectPublicKeyInfo (borrowed, same lifetime): the body of a
 * raw public key Certificate message (RFC 7250 3). */
coaps_status crypto_credential_spki(const struct crypto_credential *c, const uint8_t **der,
                                    size_t *len);
/* Sign msg (hashed here) with our key: scheme must be
 * CRYPTO_SIG_ECDSA_SECP256R1_SHA256 (else COAPS_E_UNSUPPORTED). DER ECDSA
 * signature into sig (at most CRYPTO_ECDSA_SIG_MAX bytes), *sig_len set.
 * Randomized. COAPS_E_INVALID on NULL or an empty credential. */
coaps_status crypto_credential_sign(const struct crypto_credential *c, uint16_t scheme,
                                    const uint8_t *msg, size_t msg_len,
                                    uint8_t sig[CRYPTO_ECDSA_SIG_MAX], size_t *sig_len);
/* The same over a SHA-256 digest computed by the caller (CertificateVerify
 * over the running transcript hash, RFC 5246 7.4.8). */
coaps_status crypto_credential_sign_digest(const struct crypto_credential *c, uint16_t scheme,
                                           const uint8_t digest[32],
                                           uint8_t sig[CRYPTO_ECDSA_SIG_MAX], size_t *sig_len);
/* Our public key as a peer key (for self-tests: verify what we signed).
 * *out must be cleared by the caller. */
coaps_status crypto_credential_peer_key(const struct crypto_credential *c,
                                        struct crypto_peer_key *out);
/* Free and wipe; safe twice and on a failed load. */
void crypto_credential_clear(struct crypto_credential *c);

#endif /* COAPS_CRYPTO_H */
