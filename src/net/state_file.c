/* state_file.c - the durable sessions file (state_file.h). */
#include "net/state_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/try.h"
#include "crypto/crypto.h"
#include "net/addr.h"
#include "net/secret_file.h"
#include "net/log.h"

#define STATE_MAGIC 0x43535354u /* "CSST" */
#define KEY_ID_LABEL "coaps state key id"

/* ---- the key ------------------------------------------------------------- */

/* A key's id: SHA-256 of a label and the key, truncated (it names the key
 * in a state file's header without revealing it). */
static coaps_status key_id(const uint8_t key[NET_STATE_KEY_LEN], uint8_t id[NET_STATE_KEY_ID_LEN])
{
    uint8_t in[sizeof KEY_ID_LABEL - 1 + NET_STATE_KEY_LEN];
    uint8_t digest[CRYPTO_HASH_MAX];
    memcpy(in, KEY_ID_LABEL, sizeof KEY_ID_LABEL - 1);
    memcpy(in + sizeof KEY_ID_LABEL - 1, key, NET_STATE_KEY_LEN);
    coaps_status st = crypto_hash(CRYPTO_SHA256, in, sizeof in, digest);
    crypto_wipe(in, sizeof in);
    TRY(st);
    memcpy(id, digest, NET_STATE_KEY_ID_LEN);
    return COAPS_OK;
}

coaps_status net_state_key_set(struct net_state_key *k, const uint8_t key[NET_STATE_KEY_LEN])
{
    memset(k, 0, sizeof *k);
    TRY(key_id(key, k->id));
    memcpy(k->key, key, NET_STATE_KEY_LEN);
    return COAPS_OK;
}

_Static_assert(NET_STATE_KEY_LEN == NET_KEY_FILE_KEY_LEN, "a state key file holds such keys");

coaps_status net_state_key_load(struct net_state_key *k, const char *path, char *err,
                                size_t cap)
{
    uint8_t key[NET_STATE_KEY_LEN], prev[NET_STATE_KEY_LEN];
    bool has_prev = false;
    coaps_status st =
        net_key_file_load_ring("state key file", path, key, prev, &has_prev, err, cap);
    if (st != COAPS_OK)
        return st;
    st = net_state_key_set(k, key);
    if (st == COAPS_OK && has_prev) {
        memcpy(k->prev, prev, NET_STATE_KEY_LEN);
        st = key_id(prev, k->prev_id);
        k->has_prev = true;
    }
    if (st != COAPS_OK)
        net_fail(st, err, cap, "state key file %s: %s", path, coaps_status_str(st));
    else if (has_prev && crypto_ct_equal(prev, key, NET_STATE_KEY_LEN))
        st = net_fail(COAPS_E_INVALID, err, cap,
                      "state key file %s: the previous key is the current one", path);
    crypto_wipe(key, sizeof key);
    crypto_wipe(prev, sizeof prev);
    if (st != COAPS_OK)
        crypto_wipe(k, sizeof *k);
    return st;
}

/* ---- sessions of the body ---------------------------------------------- */

coaps_status net_state_put_session(struct wire_wr *w, const struct net_state_session *s)
{
    size_t at;
    TRY(wire_wr_reserve(w, 2, &at));
    size_t start = w->off;
    TRY(wire_wr_u8(w, s->peer.addr_len));
    TRY(wire_wr_bytes(w, s->peer.addr, s->peer.addr_len));
    TRY(wire_wr_u16(w, s->local_port));
    TRY(wire_wr_u32(w, s->idle_ms));
    TRY(wire_wr_uint(w, 8, s->hello_hash));
    TRY(wire_wr_u8(w, s->dtls_len));
    TRY(wire_wr_bytes(w, s->dtls, s->dtls_len));
    TRY(wire_wr_u16(w, s->obs_len));
    TRY(wire_wr_bytes(w, s->obs, s->obs_len));
    ENSURE(w->off - start <= UINT16_MAX, COAPS_E_NOSPACE);
    return wire_wr_patch(w, at, 2, w->off - start);
}

/* An address as the edge makes them (net/addr.h): the bytes must come
 * back the same through the normalisation, or no socket could reach it. */
static bool peer_sound(const coaps_peer *p)
{
    struct sockaddr_storage ss;
    if (p->addr_len > sizeof ss)
        return false;
    memset(&ss, 0, sizeof ss);
    memcpy(&ss, p->addr, p->addr_len);
    coaps_peer again;
    return net_peer_from_sockaddr((const struct sockaddr *)&ss, p->addr_len,
                                  COAPS_TRANSPORT_DTLS, &again) == COAPS_OK &&
           coaps_peer_equal(&again, p);
}

coaps_status net_state_next_session(struct wire_rd *r, struct net_state_session *s)
{
    uint16_t len;
    struct wire_rd rec;
    TRY(wire_rd_u16(r, &len));
    TRY(wire_rd_sub(r, len, &rec));
    memset(s, 0, sizeof *s);
    const uint8_t *p;
    TRY(wire_rd_u8(&rec, &s->peer.addr_len));
    ENSURE(s->peer.addr_len <= COAPS_PEER_ADDR_MAX, COAPS_E_MALFORMED);
    TRY(wire_rd_view(&rec, s->peer.addr_len, &p));
    memcpy(s->peer.addr, p, s->peer.addr_len);
    s->peer.transport = COAPS_TRANSPORT_DTLS;
    ENSURE(peer_sound(&s->peer), COAPS_E_MALFORMED);
    TRY(wire_rd_u16(&rec, &s->local_port));
    TRY(wire_rd_u32(&rec, &s->idle_ms));
    TRY(wire_rd_uint(&rec, 8, &s->hello_hash));
    TRY(wire_rd_u8(&rec, &s->dtls_len));
    ENSURE(s->dtls_len <= COAPS_DTLS_EXPORT_MAX, COAPS_E_MALFORMED);
    TRY(wire_rd_view(&rec, s->dtls_len, &s->dtls));
    TRY(wire_rd_u16(&rec, &s->obs_len));
    TRY(wire_rd_view(&rec, s->obs_len, &s->obs));
    ENSURE(wire_rd_left(&rec) == 0, COAPS_E_MALFORMED);
    return COAPS_OK;
}

/* ---- sealing ---------------------------------------------------------- */

static coaps_status header_write(uint8_t *buf, const struct net_state_key *k,
                                 uint64_t created_ms, const uint8_t *nonce, size_t body_len)
{
    struct wire_wr w = wire_wr_init(buf, NET_STATE_HEADER_LEN);
    TRY(wire_wr_u32(&w, STATE_MAGIC));
    TRY(wire_wr_u16(&w, NET_STATE_VERSION));
    TRY(wire_wr_u16(&w, 0));
    TRY(wire_wr_bytes(&w, k->id, NET_STATE_KEY_ID_LEN));
    TRY(wire_wr_uint(&w, 8, created_ms));
    TRY(wire_wr_bytes(&w, nonce, CRYPTO_AEAD_NONCE_LEN));
    return wire_wr_u32(&w, (uint32_t)body_len);
}

coaps_status net_state_seal(const struct net_state_key *k, uint64_t created_ms, uint8_t *buf,
                            size_t body_len, size_t *len)
{
    ENSURE(body_len <= NET_STATE_FILE_MAX, COAPS_E_INVALID);
    /* a fresh random nonce per file: the key seals one file per shutdown,
     * far below the 2^32 random nonces GCM allows (SP 800-38D 8.3) */
    uint8_t nonce[CRYPTO_AEAD_NONCE_LEN];
    TRY(crypto_random(nonce, sizeof nonce));
    TRY(header_write(buf, k, created_ms, nonce, body_len));
    struct crypto_aead a;
    TRY(crypto_aead_init(&a, CRYPTO_AES_256_GCM, k->key, NET_STATE_KEY_LEN));
    uint8_t *body = buf + NET_STATE_HEADER_LEN;
    coaps_status st = crypto_aead_seal(&a, nonce, buf, NET_STATE_HEADER_LEN, body, body_len, body);
    crypto_aead_clear(&a);
    TRY(st);
    *len = NET_STATE_HEADER_LEN + body_len + NET_STATE_TAG_LEN;
    return COAPS_OK;
}

enum net_state_verdict net_state_open(const struct net_state_key *k, uint8_t *buf, size_t len,
                                      uint64_t now_ms, uint64_t max_age_ms,
                                      const uint8_t **body, size_t *body_len,
                                      uint64_t *created_ms)
{
    struct wire_rd r = wire_rd_init(buf, len);
    uint32_t magic, n;
    uint16_t version, flags;
    const uint8_t *key_id, *nonce;
    if (wire_rd_u32(&r, &magic) != COAPS_OK)
        return NET_STATE_TRUNCATED;
    if (magic != STATE_MAGIC)
        return NET_STATE_NOT_OURS;
    if (wire_rd_u16(&r, &version) != COAPS_OK || wire_rd_u16(&r, &flags) != COAPS_OK ||
        wire_rd_view(&r, NET_STATE_KEY_ID_LEN, &key_id) != COAPS_OK ||
        wire_rd_uint(&r, 8, created_ms) != COAPS_OK ||
        wire_rd_view(&r, CRYPTO_AEAD_NONCE_LEN, &nonce) != COAPS_OK ||
        wire_rd_u32(&r, &n) != COAPS_OK)
        return NET_STATE_TRUNCATED;
    if (version != NET_STATE_VERSION || flags != 0)
        return NET_STATE_OTHER_VERSION;
    /* the key the header names: the current one, or the previous one of a
     * rotation (a file written before it) */
    const uint8_t *key = k->key;
    if (!crypto_ct_equal(key_id, k->id, NET_STATE_KEY_ID_LEN)) {
        if (!k->has_prev || !crypto_ct_equal(key_id, k->prev_id, NET_STATE_KEY_ID_LEN))
            return NET_STATE_FOREIGN;
        key = k->prev;
    }
    if (wire_rd_left(&r) < (size_t)n + NET_STATE_TAG_LEN)
        return NET_STATE_TRUNCATED;
    if (wire_rd_left(&r) > (size_t)n + NET_STATE_TAG_LEN)
        return NET_STATE_NOT_OURS;
    struct crypto_aead a;
    if (crypto_aead_init(&a, CRYPTO_AES_256_GCM, key, NET_STATE_KEY_LEN) != COAPS_OK)
        return NET_STATE_DAMAGED;
    uint8_t *p = buf + NET_STATE_HEADER_LEN;
    coaps_status st = crypto_aead_open(&a, nonce, buf, NET_STATE_HEADER_LEN, p, n, p);
    crypto_aead_clear(&a);
    if (st != COAPS_OK)
        return NET_STATE_DAMAGED;
    /* judged only now that the time is authenticated */
    if (*created_ms > now_ms + NET_STATE_FUTURE_MS)
        return NET_STATE_FUTURE;
    if (now_ms > *created_ms && now_ms - *created_ms > max_age_ms)
        return NET_STATE_STALE;
    *body = p;
    *body_len = n;
    return NET_STATE_OK;
}

const char *net_state_verdict_str(enum net_state_verdict v)
{
    switch (v) {
    case NET_STATE_OK: return "sound";
    case NET_STATE_TRUNCATED: return "truncated";
    case NET_STATE_NOT_OURS: return "not a coaps state file";
    case NET_STATE_OTHER_VERSION: return "another layout version";
    case NET_STATE_FOREIGN: return "sealed with another key";
    case NET_STATE_DAMAGED: return "damaged (authentication failed)";
    case NET_STATE_STALE: return "stale (older than the idle timeout)";
    case NET_STATE_FUTURE: return "written in the future (clock?)";
    }
    return "?";
}

/* ---- the file ------------------------------------------------------------ */

uint64_t net_state_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

coaps_status net_state_read_file(const char *path, uint8_t **buf, size_t *len, char *err,
                                 size_t cap)
{
    *buf = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return net_fail(COAPS_E_NOT_FOUND, err, cap, "state file %s: none", path);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        int saved = errno;
        if (fd >= 0)
            close(fd);
        return net_fail(COAPS_E_IO, err, cap, "state file %s: cannot read: %s", path,
                        strerror(saved));
    }
    if (!S_ISREG(sb.st_mode) || sb.st_size > (off_t)NET_STATE_FILE_MAX) {
        close(fd);
        return net_fail(COAPS_E_MALFORMED, err, cap, "state file %s: not a coaps state file",
                        path);
    }
    size_t want = (size_t)sb.st_size;
    uint8_t *b = malloc(want ? want : 1);
    size_t got = 0;
    while (b && got < want) {
        ssize_t n = read(fd, b + got, want - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (b == NULL)
        return net_fail(COAPS_E_NOMEM, err, cap, "state file %s: out of memory", path);
    *buf = b;
    *len = got;
    return COAPS_OK;
}
