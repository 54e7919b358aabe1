/* store.c - the session store's front (store.h): the URI, the sealing of
 * every value, the stats and the events; the work is the implementation's
 * (store_memory.c, store_redis.c, through store_impl.h's ops). */
#include "net/store_impl.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hex.h"
#include "common/try.h"
#include "common/wire.h"

/* ---- sealing --------------------------------------------------------------- */

/* Additional data: label, version, kind, key. A value moved to another key
 * or kind, or made by another version, fails its tag. */
#define SEAL_LABEL "coaps store"
#define SEAL_AAD_MAX (sizeof SEAL_LABEL - 1 + 3 + STORE_ID_MAX)

static coaps_status seal_aad(uint8_t aad[SEAL_AAD_MAX], enum store_kind kind,
                             const uint8_t *key, size_t key_len, size_t *aad_len)
{
    ENSURE(key_len <= STORE_ID_MAX, COAPS_E_INVALID);
    struct wire_wr w = wire_wr_init(aad, SEAL_AAD_MAX);
    TRY(wire_wr_bytes(&w, SEAL_LABEL, sizeof SEAL_LABEL - 1));
    TRY(wire_wr_u8(&w, STORE_SEAL_VERSION));
    TRY(wire_wr_u8(&w, (uint8_t)kind));
    TRY(wire_wr_u8(&w, (uint8_t)key_len));
    TRY(wire_wr_bytes(&w, key, key_len));
    *aad_len = w.off;
    return COAPS_OK;
}

coaps_status store_seal(struct crypto_aead *a, enum store_kind kind, const uint8_t *key,
                        size_t key_len, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                        size_t *out_len)
{
    ENSURE(len <= NET_STORE_VALUE_MAX, COAPS_E_INVALID);
    ENSURE(cap >= len + STORE_SEAL_OVERHEAD, COAPS_E_NOSPACE);
    uint8_t aad[SEAL_AAD_MAX];
    size_t aad_len;
    TRY(seal_aad(aad, kind, key, key_len, &aad_len));
    /* A random nonce per value: GCM allows 2^32 of them under one key
     * (SP 800-38D 8.3); a store writes one per session creation, update,
     * reply and shared value, so a cluster rotates --state-key long
     * before that (a key file's second key opens; docs/cluster.md). */
    out[0] = STORE_SEAL_VERSION;
    TRY(crypto_random(out + 1, CRYPTO_AEAD_NONCE_LEN));
    TRY(crypto_aead_seal(a, out + 1, aad, aad_len, in, len, out + 1 + CRYPTO_AEAD_NONCE_LEN));
    *out_len = len + STORE_SEAL_OVERHEAD;
    return COAPS_OK;
}

coaps_status store_open(struct crypto_aead *a, enum store_kind kind, const uint8_t *key,
                        size_t key_len, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                        size_t *out_len)
{
    ENSURE(len >= STORE_SEAL_OVERHEAD && in[0] == STORE_SEAL_VERSION, COAPS_E_MALFORMED);
    size_t n = len - STORE_SEAL_OVERHEAD;
    ENSURE(n <= NET_STORE_VALUE_MAX, COAPS_E_MALFORMED);
    ENSURE(n <= cap, COAPS_E_NOSPACE);
    uint8_t aad[SEAL_AAD_MAX];
    size_t aad_len;
    TRY(seal_aad(aad, kind, key, key_len, &aad_len));
    coaps_status st = crypto_aead_open(a, in + 1, aad, aad_len,
                                       in + 1 + CRYPTO_AEAD_NONCE_LEN, n, out);
    ENSURE(st != COAPS_E_AUTH, COAPS_E_MALFORMED);
    TRY(st);
    *out_len = n;
    return COAPS_OK;
}

/* ---- the URI ------------------------------------------------------------------ */

static bool all_of(const char *s, size_t n, const char *extra)
{
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && strchr(extra, s[i]) == NULL)
            return false;
    return true;
}

/* Decimal in [lo, hi], the whole of s[0..n). */
static bool parse_uint(const char *s, size_t n, unsigned long lo, unsigned long hi,
                       unsigned long *v)
{
    if (n == 0 || n > 5)
        return false;
    unsigned long x = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        x = x * 10 + (unsigned long)(s[i] - '0');
    }
    *v = x;
    return x >= lo && x <= hi;
}

static coaps_status uri_memory(struct store_uri *u, const char *rest, const char *uri, char *err,
                               size_t cap)
{
    size_t n = strlen(rest);
    if (n >= sizeof u->name || !all_of(rest, n, "_-."))
        return net_fail(COAPS_E_INVALID, err, cap,
                        "store %s: a memory store's name is 1-63 letters, digits, '_', '-', '.'",
                        uri);
    memcpy(u->name, rest, n + 1);
    return COAPS_OK;
}

static coaps_status uri_host(struct store_uri *u, const char *h, size_t n, const char *uri,
                             char *err, size_t cap)
{
    char tmp[sizeof u->host];
    if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
        struct in6_addr a6;
        if (n - 2 < sizeof tmp) {
            memcpy(tmp, h + 1, n - 2);
            tmp[n - 2] = 0;
        }
        if (n - 2 >= sizeof tmp || inet_pton(AF_INET6, tmp, &a6) != 1)
            return net_fail(COAPS_E_INVALID, err, cap, "store %s: not an IPv6 address in [ ]",
                            uri);
        memcpy(u->host, tmp, n - 1);
        return COAPS_OK;
    }
    if (n == 0 || n >= sizeof tmp || !all_of(h, n, "-.") || h[0] == '-' || h[0] == '.')
        return net_fail(COAPS_E_INVALID, err, cap,
                        "store %s: the host is an IPv4 address, [IPv6] or a name", uri);
    memcpy(tmp, h, n);
    tmp[n] = 0;
    /* all digits and dots: it must be an IPv4 address, not a name */
    struct in_addr a4;
    if (strspn(tmp, "0123456789.") == n && inet_pton(AF_INET, tmp, &a4) != 1)
        return net_fail(COAPS_E_INVALID, err, cap, "store %s: %s is not an IPv4 address", uri,
                        tmp);
    memcpy(u->host, tmp, n + 1);
    return COAPS_OK;
}

/* Percent-decode p[0..n) into out (RFC 3986 2.1), NUL-terminated; false
 * when it does not fit or a %XX is broken. */
static bool pct_decode(const char *p, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++, o++) {
        if (o + 1 >= cap)
            return false;
        if (p[i] != '%') {
            out[o] = p[i];
            continue;
        }
        int hi = i + 2 < n ? hex_digit(p[i + 1]) : -1, lo = i + 2 < n ? hex_digit(p[i + 2]) : -1;
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
            return false;
        out[o] = (char)(hi << 4 | lo);
        i += 2;
    }
    out[o] = 0;
    return true;
}

/* USER:PASSWORD or :PASSWORD, before the '@' (the redis URI scheme). */
static coaps_status uri_userinfo(struct store_uri *u, const char *p, size_t n, const char *uri,
                                 char *err, size_t cap)
{
    const char *colon = memchr(p, ':', n);
    if (colon == NULL)
        return net_fail(COAPS_E_INVALID, err, cap,
                        "store %s: before '@' goes USER:PASSWORD or :PASSWORD", uri);
    size_t ul = (size_t)(colon - p);
    if (!pct_decode(p, ul, u->user, sizeof u->user) ||
        !pct_decode(colon + 1, n - ul - 1, u->password, sizeof u->password) ||
        u->password[0] == 0)
        return net_fail(COAPS_E_INVALID, err, cap,
                        "store %s: the user (up to %zu bytes) or password (1 to %zu bytes, "
                        "%%XX for special characters) is not valid",
                        uri, sizeof u->user - 1, sizeof u->password - 1);
    return COAPS_OK;
}

static coaps_status uri_redis(struct store_uri *u, const char *rest, const char *uri, char *err,
                              size_t cap)
{
    const char *at = strrchr(rest, '@');
    if (at != NULL) {
        TRY(uri_userinfo(u, rest, (size_t)(at - rest), uri, err, cap));
        rest = at + 1;
    } else {
        const char *env = getenv("COAPS_STORE_PASSWORD");
        if (env != NULL && env[0] != 0) {
            if (strlen(env) >= sizeof u->password)
                return net_fail(COAPS_E_INVALID, err, cap,
                                "store %s: COAPS_STORE_PASSWORD is longer than %zu bytes", uri,
                                sizeof u->password - 1);
            strcpy(u->password, env);
        }
    }
    const char *slash = strchr(rest, '/');
    const char *end = slash ? slash : rest + strlen(rest);
    const char *colon = end;
    while (colon > rest && colon[-1] != ':' && colon[-1] != ']')
        colon--;
    if (colon == rest || colon[-1] != ':')
        return net_fail(COAPS_E_INVALID, err, cap,
                        "store %s: want redis://[[USER]:PASSWORD@]HOST:PORT[/DB] "
                        "(the port is required)",
                        uri);
    TRY(uri_host(u, rest, (size_t)(colon - 1 - rest), uri, err, cap));
    unsigned long v;
    if (!parse_uint(colon, (size_t)(end - colon), 1, 65535, &v))
        return net_fail(COAPS_E_INVALID, err, cap, "store %s: the port is a number 1-65535", uri);
    u->port = (uint16_t)v;
    u->db = 0;
    if (slash) {
        if (!parse_uint(slash + 1, strlen(slash + 1), 0, 15, &v))
            return net_fail(COAPS_E_INVALID, err, cap,
                            "store %s: the database is a number 0-15", uri);
        u->db = (unsigned)v;
    }
    return COAPS_OK;
}

/* The URI as messages show it: a user part before '@' becomes "***". */
static void uri_shown(const char *uri, char *out, size_t cap)
{
    const char *at = strrchr(uri, '@');
    const char *start = strstr(uri, "://");
    if (at == NULL || start == NULL || at < start)
        snprintf(out, cap, "%s", uri);
    else
        snprintf(out, cap, "%.*s***%s", (int)(start + 3 - uri), uri, at);
}

coaps_status store_uri_parse(struct store_uri *u, const char *uri, char *err, size_t cap)
{
    memset(u, 0, sizeof *u);
    if (uri == NULL)
        return net_fail(COAPS_E_INVALID, err, cap, "store: no URI");
    char shown[320];
    uri_shown(uri, shown, sizeof shown);
    coaps_status st;
    if (strncmp(uri, "memory:", 7) == 0) {
        strcpy(u->scheme, "memory");
        st = uri_memory(u, uri + 7, shown, err, cap);
    } else if (strncmp(uri, "redis://", 8) == 0) {
        strcpy(u->scheme, "redis");
        st = uri_redis(u, uri + 8, shown, err, cap);
    } else {
        st = net_fail(COAPS_E_INVALID, err, cap,
                      "store %s: not a store URI (want memory: or "
                      "redis://[[USER]:PASSWORD@]HOST:PORT[/DB])",
                      shown);
    }
    if (st != COAPS_OK)
        store_uri_wipe(u);
    return st;
}

void store_uri_wipe(struct store_uri *u)
{
    crypto_wipe(u->password, sizeof u->password);
}

/* ---- open, close, events ---------------------------------------------------- */

coaps_status net_store_open(struct net_store **out, const char *uri,
                            const struct net_state_key *k, const char *node,
                            const struct net_log *log, char *err, size_t cap)
{
    *out = NULL;
    if (node == NULL || node[0] == 0 || strlen(node) >= sizeof((struct net_store *)0)->node ||
        strchr(node, ' ') != NULL)
        return net_fail(COAPS_E_INVALID, err, cap,
                        "store: the node name is 1-63 characters without spaces");
    struct store_uri u;
    TRY(store_uri_parse(&u, uri, err, cap));
    char shown[320];
    uri_shown(uri, shown, sizeof shown);
    struct net_store *st = calloc(1, sizeof *st);
    if (st == NULL) {
        store_uri_wipe(&u);
        return net_fail(COAPS_E_NOMEM, err, cap, "store %s: out of memory", shown);
    }
    st->ops = strcmp(u.scheme, "memory") == 0 ? &store_memory_ops : &store_redis_ops;
    st->log = log;
    strcpy(st->node, node);
    coaps_status s = crypto_aead_init(&st->seal, CRYPTO_AES_256_GCM, k->key, NET_STATE_KEY_LEN);
    if (s == COAPS_OK)
        s = crypto_aead_init(&st->open, CRYPTO_AES_256_GCM, k->key, NET_STATE_KEY_LEN);
    if (s == COAPS_OK && k->has_prev) {
        s = crypto_aead_init(&st->open_prev, CRYPTO_AES_256_GCM, k->prev, NET_STATE_KEY_LEN);
        st->has_prev = s == COAPS_OK;
    }
    if (s != COAPS_OK)
        net_fail(s, err, cap, "store %s: the state key: %s", shown, coaps_status_str(s));
    else
        s = st->ops->open(st, &u, err, cap);
    store_uri_wipe(&u); /* an implementation keeps its own copy */
    if (s != COAPS_OK) {
        crypto_aead_clear(&st->seal);
        crypto_aead_clear(&st->open);
        if (st->has_prev)
            crypto_aead_clear(&st->open_prev);
        free(st);
        return s;
    }
    *out = st;
    return COAPS_OK;
}

void net_store_close(struct net_store *st)
{
    if (st == NULL)
        return;
    st->ops->close(st);
    crypto_aead_clear(&st->seal);
    crypto_aead_clear(&st->open);
    if (st->has_prev)
        crypto_aead_clear(&st->open_prev);
    crypto_wipe(st, sizeof *st);
    free(st);
}

coaps_status net_store_attach(struct net_store *st, struct net_loop *loop,
                              const struct net_store_events *ev)
{
    if (ev != NULL) {
        st->ev = *ev;
        st->has_events = true;
    }
    return st->ops->attach(st, loop);
}

bool net_store_up(const struct net_store *st)
{
    return st->ops->up(st);
}

const struct net_store_stats *net_store_get_stats(const struct net_store *st)
{
    return &st->stats;
}

void store_event_lost(struct net_store *st, const uint8_t *key, size_t key_len, uint64_t fence)
{
    if (st->has_events && st->ev.lost != NULL)
        st->ev.lost(st->ev.ctx, key, key_len, fence);
}

/* store_open under the current state key, else (during a rotation) the
 * previous one: a value another node sealed before it rotated. */
static coaps_status open_any(struct net_store *st, enum store_kind kind, const uint8_t *id,
                             size_t id_len, const uint8_t *in, size_t len, uint8_t *out,
                             size_t cap, size_t *out_len)
{
    coaps_status s = store_open(&st->open, kind, id, id_len, in, len, out, cap, out_len);
    if (s != COAPS_E_MALFORMED || !st->has_prev)
        return s;
    s = store_open(&st->open_prev, kind, id, id_len, in, len, out, cap, out_len);
    if (s == COAPS_OK)
        st->stats.prev_key++;
    return s;
}

void store_event_changed(struct net_store *st, const char *name, const uint8_t *sealed,
                         size_t len)
{
    uint8_t val[NET_STORE_VALUE_MAX];
    size_t n;
    if (open_any(st, STORE_KIND_VALUE, (const uint8_t *)name, strlen(name), sealed, len, val,
                 sizeof val, &n) != COAPS_OK) {
        st->stats.malformed++;
        NET_LOG(st->log, NET_LOG_WARN, "store: a changed value of %s did not open: ignored",
                name);
        return;
    }
    if (st->has_events && st->ev.changed != NULL)
        st->ev.changed(st->ev.ctx, name, val, n);
    crypto_wipe(val, n);
}

coaps_status net_store_raw(struct net_store *st, enum store_kind kind, const uint8_t *id,
                           size_t id_len, bool put, uint8_t *val, size_t cap, size_t *len)
{
    ENSURE(st->ops->raw != NULL, COAPS_E_UNSUPPORTED);
    return st->ops->raw(st, kind, id, id_len, put, val, cap, len);
}

/* ---- the calls ---------------------------------------------------------------- */

/* Count a call's outcome. */
static coaps_status counted(struct net_store *st, coaps_status s)
{
    if (s == COAPS_E_IO)
        st->stats.failed++;
    else if (s == COAPS_E_MALFORMED)
        st->stats.malformed++;
    return s;
}

static bool key_ok(const uint8_t *key, size_t key_len)
{
    return key != NULL && key_len > 0 && key_len <= NET_STORE_KEY_MAX;
}

static bool name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    return n > 0 && n < NET_STORE_NAME_MAX && all_of(name, n, "_-.");
}

/* Seal val under kind/id, then run put with the sealed bytes. */
#define SEALED(st, kind, id, id_len, val, len, sealed, sealed_len)                             \
    uint8_t sealed[STORE_SEALED_MAX];                                                      \
    size_t sealed_len;                                                                     \
    TRY(store_seal(&(st)->seal, (kind), (id), (id_len), (val), (len), sealed, sizeof sealed, \
                   &sealed_len))

/* Open a value the implementation handed up; count the ones that fail. */
static coaps_status opened(struct net_store *st, coaps_status s, enum store_kind kind,
                           const uint8_t *id, size_t id_len, uint8_t *sealed, size_t sealed_len,
                           uint8_t *out, size_t cap, size_t *out_len)
{
    if (s == COAPS_OK)
        s = open_any(st, kind, id, id_len, sealed, sealed_len, out, cap, out_len);
    if (s == COAPS_E_MALFORMED)
        NET_LOG(st->log, NET_LOG_WARN, "store: a stored value did not open (damaged, "
                "another key or version): treated as absent");
    return counted(st, s);
}

coaps_status net_store_session_create(struct net_store *st, const uint8_t *key, size_t key_len,
                                      const uint8_t *rec, size_t rec_len, uint64_t seq_next,
                                      uint32_t ttl_ms, struct net_store_lease *lease)
{
    st->stats.calls++;
    ENSURE(key_ok(key, key_len) && ttl_ms > 0, COAPS_E_INVALID);
    SEALED(st, STORE_KIND_SESSION, key, key_len, rec, rec_len, sealed, sealed_len);
    return counted(st, st->ops->create(st, key, key_len, sealed, sealed_len, seq_next, ttl_ms,
                                       lease));
}

coaps_status net_store_session_fetch(struct net_store *st, const uint8_t *key, size_t key_len,
                                     uint8_t *rec, size_t cap, size_t *rec_len)
{
    st->stats.calls++;
    ENSURE(key_ok(key, key_len), COAPS_E_INVALID);
    uint8_t sealed[STORE_SEALED_MAX];
    size_t n = 0;
    coaps_status s = st->ops->fetch(st, key, key_len, sealed, sizeof sealed, &n);
    return opened(st, s, STORE_KIND_SESSION, key, key_len, sealed, n, rec, cap, rec_len);
}

coaps_status net_store_session_take(struct net_store *st, const uint8_t *key, size_t key_len,
                                    struct net_store_lease *lease)
{
    st->stats.calls++;
    ENSURE(key_ok(key, key_len), COAPS_E_INVALID);
    return counted(st, st->ops->take(st, key, key_len, lease));
}

coaps_status net_store_seq_reserve(struct net_store *st, const uint8_t *key, size_t key_len,
                                   struct net_store_lease *lease)
{
    st->stats.calls++;
    ENSURE(key_ok(key, key_len), COAPS_E_INVALID);
    return counted(st, st->ops->reserve(st, key, key_len, lease));
}

coaps_status net_store_session_update(struct net_store *st, const uint8_t *key, size_t key_len,
                                      uint64_t fence, const uint8_t *rec, size_t rec_len,
                                      uint32_t ttl_ms)
{
    st->stats.calls++;
    ENSURE(key_ok(key, key_len) && ttl_ms > 0, COAPS_E_INVALID);
    SEALED(st, STORE_KIND_SESSION, key, key_len, rec, rec_len, sealed, sealed_len);
    return counted(st, st->ops->update(st, key, key_len, fence, sealed, sealed_len, ttl_ms));
}

coaps_status net_store_session_touch(struct net_store *st, const uint8_t *const *keys,
                                     const size_t *key_lens, size_t n, uint32_t ttl_ms)
{
    st->stats.calls++;
    ENSURE(ttl_ms > 0, COAPS_E_INVALID);
    for (size_t i = 0; i < n; i++)
        ENSURE(key_ok(keys[i], key_lens[i]), COAPS_E_INVALID);
    if (n == 0)
        return COAPS_OK;
    return counted(st, st->ops->touch(st, keys, key_lens, n, ttl_ms));
}

coaps_status net_store_session_drop(struct net_store *st, const uint8_t *key, size_t key_len,
                                    uint64_t fence)
{
    st->stats.calls++;
    ENSURE(key_ok(key, key_len), COAPS_E_INVALID);
    return counted(st, st->ops->drop(st, key, key_len, fence));
}

/* A reply's id: the session key and the Message ID. */
static size_t reply_id(uint8_t id[STORE_ID_MAX], const uint8_t *key, size_t key_len, uint16_t mid)
{
    memcpy(id, key, key_len);
    id[key_len] = (uint8_t)(mid >> 8);
    id[key_len + 1] = (uint8_t)mid;
    return key_len + 2;
}

coaps_status net_store_reply_put(struct net_store *st, const uint8_t *key, size_t key_len,
                                 uint16_t mid, const uint8_t *reply, size_t len, uint32_t ttl_ms)
{
    st->stats.calls++;
    ENSURE(key_ok(key, key_len) && ttl_ms > 0, COAPS_E_INVALID);
    uint8_t id[STORE_ID_MAX];
    size_t id_len = reply_id(id, key, key_len, mid);
    SEALED(st, STORE_KIND_REPLY, id, id_len, reply, len, sealed, sealed_len);
    return counted(st, st->ops->reply_put(st, id, id_len, sealed, sealed_len, ttl_ms));
}

coaps_status net_store_reply_get(struct net_store *st, const uint8_t *key, size_t key_len,
                                 uint16_t mid, uint8_t *reply, size_t cap, size_t *len)
{
    st->stats.calls++;
    ENSURE(key_ok(key, key_len), COAPS_E_INVALID);
    uint8_t id[STORE_ID_MAX];
    size_t id_len = reply_id(id, key, key_len, mid);
    uint8_t sealed[STORE_SEALED_MAX];
    size_t n = 0;
    coaps_status s = st->ops->reply_get(st, id, id_len, sealed, sizeof sealed, &n);
    return opened(st, s, STORE_KIND_REPLY, id, id_len, sealed, n, reply, cap, len);
}

coaps_status net_store_value_set(struct net_store *st, const char *name, const uint8_t *value,
                                 size_t len)
{
    st->stats.calls++;
    ENSURE(name_ok(name), COAPS_E_INVALID);
    SEALED(st, STORE_KIND_VALUE, (const uint8_t *)name, strlen(name), value, len, sealed,
           sealed_len);
    return counted(st, st->ops->value_set(st, name, sealed, sealed_len));
}

coaps_status net_store_value_get(struct net_store *st, const char *name, uint8_t *value,
                                 size_t cap, size_t *len)
{
    st->stats.calls++;
    ENSURE(name_ok(name), COAPS_E_INVALID);
    uint8_t sealed[STORE_SEALED_MAX];
    size_t n = 0;
    coaps_status s = st->ops->value_get(st, name, sealed, sizeof sealed, &n);
    return opened(st, s, STORE_KIND_VALUE, (const uint8_t *)name, strlen(name), sealed, n, value,
                  cap, len);
}

coaps_status net_store_counter_incr(struct net_store *st, const char *name, uint64_t *value)
{
    st->stats.calls++;
    ENSURE(name_ok(name), COAPS_E_INVALID);
    return counted(st, st->ops->counter_add(st, name, 1, value));
}

coaps_status net_store_counter_get(struct net_store *st, const char *name, uint64_t *value)
{
    st->stats.calls++;
    ENSURE(name_ok(name), COAPS_E_INVALID);
    return counted(st, st->ops->counter_add(st, name, 0, value));
}

coaps_status net_store_secret(struct net_store *st, const char *name, uint8_t secret[32])
{
    st->stats.calls++;
    ENSURE(name_ok(name), COAPS_E_INVALID);
    const uint8_t *id = (const uint8_t *)name;
    size_t id_len = strlen(name);
    uint8_t cand[32];
    TRY(crypto_random(cand, sizeof cand));
    uint8_t sealed[STORE_SEALED_MAX], got[STORE_SEALED_MAX];
    size_t sealed_len, n = 0, out_len = 0;
    coaps_status s = store_seal(&st->seal, STORE_KIND_SECRET, id, id_len, cand, sizeof cand,
                                sealed, sizeof sealed, &sealed_len);
    crypto_wipe(cand, sizeof cand);
    TRY(s);
    s = st->ops->secret(st, name, sealed, sealed_len, got, sizeof got, &n);
    uint8_t plain[NET_STORE_VALUE_MAX];
    s = opened(st, s, STORE_KIND_SECRET, id, id_len, got, n, plain, sizeof plain, &out_len);
    if (s == COAPS_OK && out_len != 32)
        s = counted(st, COAPS_E_MALFORMED);
    if (s == COAPS_OK)
        memcpy(secret, plain, 32);
    crypto_wipe(plain, out_len);
    return s;
}
