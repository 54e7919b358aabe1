/*
 * test_state_file.c - the durable sessions file (src/net/state_file.c):
 * the key file (64 hex digits, or a one-line error naming the file), a
 * sealed round trip, every verdict (truncated at every length, longer,
 * one flipped bit anywhere, not ours, another version, another key,
 * stale, from the future), session records in and out with their bounds,
 * and the atomic write (mode 0600, no temporary file left).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "net/addr.h"
#include "net/secret_file.h"
#include "net/state_file.h"

static char dir[64], path[128], keypath[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/coaps-state-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/state", dir);
    snprintf(keypath, sizeof keypath, "%s/key", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    unlink(keypath);
    rmdir(dir);
    return 0;
}

static void write_text(const char *p, const char *text)
{
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static struct net_state_key key_of(uint8_t fill)
{
    uint8_t k[NET_STATE_KEY_LEN];
    memset(k, fill, sizeof k);
    struct net_state_key key;
    assert_int_equal(net_state_key_set(&key, k), COAPS_OK);
    return key;
}

static void key_files(void **state)
{
    (void)state;
    struct net_state_key k, same = key_of(0xab);
    char err[NET_STATE_MSG_MAX];
    write_text(keypath, "  abababababababababababababababababababababababababababababababab\n");
    assert_int_equal(net_state_key_load(&k, keypath, err, sizeof err), COAPS_OK);
    assert_memory_equal(k.key, same.key, NET_STATE_KEY_LEN);
    assert_memory_equal(k.id, same.id, NET_STATE_KEY_ID_LEN);
    struct net_state_key other = key_of(0xac);
    assert_memory_not_equal(other.id, same.id, NET_STATE_KEY_ID_LEN);
    static const char *bad[] = {
        "",
        "abab",
        "ababababababababababababababababababababababababababababababababab", /* 66 */
        "abababababababababababababababababababababababababababababababaX",
        "abababababababababababababababab abababababababababababababababab",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_text(keypath, bad[i]);
        err[0] = 0;
        assert_int_equal(net_state_key_load(&k, keypath, err, sizeof err), COAPS_E_INVALID);
        assert_non_null(strstr(err, keypath));
        assert_null(strchr(err, '\n'));
    }
    unlink(keypath);
    assert_int_equal(net_state_key_load(&k, keypath, err, sizeof err), COAPS_E_IO);
    assert_non_null(strstr(err, keypath));
}

#define HEX_AB "abababababababababababababababababababababababababababababababab"
#define HEX_CD "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"

static size_t make_body(uint8_t *buf, size_t cap, uint32_t n);

/* A rotation: the key file's second key (the previous one) opens a file
 * the first did not seal; the first seals. */
static void key_rotation(void **state)
{
    (void)state;
    struct net_state_key old = key_of(0xab), rotated, fresh = key_of(0xcd);
    char err[NET_STATE_MSG_MAX];
    write_text(keypath, HEX_CD "\n" HEX_AB "\n");
    assert_int_equal(net_state_key_load(&rotated, keypath, err, sizeof err), COAPS_OK);
    assert_memory_equal(rotated.key, fresh.key, NET_STATE_KEY_LEN);
    assert_true(rotated.has_prev);
    assert_memory_equal(rotated.prev, old.key, NET_STATE_KEY_LEN);
    assert_memory_equal(rotated.prev_id, old.id, NET_STATE_KEY_ID_LEN);
    assert_false(old.has_prev);

    uint8_t buf[2048], again[2048];
    size_t body_len = make_body(buf, sizeof buf, 3), len = 0;
    uint64_t now = 1765000000000ull;
    assert_int_equal(net_state_seal(&old, now, buf, body_len, &len), COAPS_OK);
    memcpy(again, buf, len);
    const uint8_t *body;
    size_t blen;
    uint64_t created;
    /* written before the rotation: opens under the second key */
    assert_int_equal(net_state_open(&rotated, buf, len, now, 300000, &body, &blen, &created),
                     NET_STATE_OK);
    assert_int_equal(blen, body_len);
    /* without it: another key's file */
    assert_int_equal(net_state_open(&fresh, again, len, now, 300000, &body, &blen, &created),
                     NET_STATE_FOREIGN);
    /* after the rotation: sealed under the first key, which the old one
     * cannot open */
    body_len = make_body(buf, sizeof buf, 2);
    assert_int_equal(net_state_seal(&rotated, now, buf, body_len, &len), COAPS_OK);
    memcpy(again, buf, len);
    assert_int_equal(net_state_open(&fresh, buf, len, now, 300000, &body, &blen, &created),
                     NET_STATE_OK);
    assert_int_equal(net_state_open(&old, again, len, now, 300000, &body, &blen, &created),
                     NET_STATE_FOREIGN);

    static const char *bad[] = {
        HEX_AB "\n" HEX_AB "\n",               /* the same key twice */
        HEX_AB "\n" HEX_CD "\n" HEX_AB "\n", /* three */
        HEX_AB "\nabab\n",                    /* a second that is not a key */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_text(keypath, bad[i]);
        err[0] = 0;
        assert_int_equal(net_state_key_load(&rotated, keypath, err, sizeof err),
                         COAPS_E_INVALID);
        assert_non_null(strstr(err, keypath));
        assert_null(strchr(err, '\n'));
    }
}

static coaps_peer peer4(uint16_t port)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(0x7f000001);
    coaps_peer p;
    assert_int_equal(net_peer_from_sockaddr((struct sockaddr *)&sin, sizeof sin,
                                            COAPS_TRANSPORT_DTLS, &p),
                     COAPS_OK);
    return p;
}

static const uint8_t blob[40] = {1, 1, 0xc0, 0xa8};
static const uint8_t obs[3] = {0};

/* A body of n sessions in buf (after header room); its length. */
static size_t make_body(uint8_t *buf, size_t cap, uint32_t n)
{
    struct wire_wr w = wire_wr_init(buf + NET_STATE_HEADER_LEN,
                                    cap - NET_STATE_HEADER_LEN - NET_STATE_TAG_LEN);
    assert_int_equal(wire_wr_u32(&w, n), COAPS_OK);
    for (uint32_t i = 0; i < n; i++) {
        struct net_state_session s = {
            .peer = peer4((uint16_t)(40000 + i)),
            .local_port = 5684,
            .idle_ms = 1000 * i,
            .hello_hash = 0x1122334455667788ull + i,
            .dtls = blob,
            .dtls_len = sizeof blob,
            .obs = obs,
            .obs_len = (uint16_t)(i % 4),
        };
        assert_int_equal(net_state_put_session(&w, &s), COAPS_OK);
    }
    return w.off;
}

static void round_trip(void **state)
{
    (void)state;
    struct net_state_key k = key_of(7);
    uint8_t buf[2048];
    size_t body_len = make_body(buf, sizeof buf, 5), len = 0;
    uint8_t plain[2048];
    memcpy(plain, buf + NET_STATE_HEADER_LEN, body_len);
    uint64_t now = 1765000000000ull;
    assert_int_equal(net_state_seal(&k, now, buf, body_len, &len), COAPS_OK);
    assert_int_equal(len, NET_STATE_HEADER_LEN + body_len + NET_STATE_TAG_LEN);
    assert_memory_not_equal(buf + NET_STATE_HEADER_LEN, plain, body_len); /* sealed */
    char err[NET_STATE_MSG_MAX];
    assert_int_equal(net_secret_file_write("state file", path, buf, len, err, sizeof err), COAPS_OK);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    assert_int_not_equal(access(tmp, F_OK), 0);
    uint8_t *file;
    size_t flen;
    assert_int_equal(net_state_read_file(path, &file, &flen, err, sizeof err), COAPS_OK);
    assert_int_equal(flen, len);
    const uint8_t *body;
    size_t blen;
    uint64_t created;
    assert_int_equal(net_state_open(&k, file, flen, now + 5000, 300000, &body, &blen, &created),
                     NET_STATE_OK);
    assert_int_equal(created, now);
    assert_int_equal(blen, body_len);
    assert_memory_equal(body, plain, body_len);
    struct wire_rd r = wire_rd_init(body, blen);
    uint32_t n;
    assert_int_equal(wire_rd_u32(&r, &n), COAPS_OK);
    assert_int_equal(n, 5);
    for (uint32_t i = 0; i < n; i++) {
        struct net_state_session s;
        assert_int_equal(net_state_next_session(&r, &s), COAPS_OK);
        coaps_peer want = peer4((uint16_t)(40000 + i));
        assert_true(coaps_peer_equal(&s.peer, &want));
        assert_int_equal(s.local_port, 5684);
        assert_int_equal(s.idle_ms, 1000 * i);
        assert_int_equal(s.hello_hash, 0x1122334455667788ull + i);
        assert_int_equal(s.dtls_len, sizeof blob);
        assert_memory_equal(s.dtls, blob, sizeof blob);
        assert_int_equal(s.obs_len, i % 4);
    }
    assert_int_equal(wire_rd_left(&r), 0);
    free(file);
    /* written again: replaced whole */
    assert_int_equal(net_secret_file_write("state file", path, buf, 100, err, sizeof err), COAPS_OK);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_size, 100);
    unlink(path);
    assert_int_equal(net_state_read_file(path, &file, &flen, err, sizeof err), COAPS_E_NOT_FOUND);
}

static enum net_state_verdict open_copy(const struct net_state_key *k, const uint8_t *f,
                                        size_t len, uint64_t now, uint64_t max_age)
{
    uint8_t *c = malloc(len ? len : 1);
    memcpy(c, f, len);
    const uint8_t *body;
    size_t blen;
    uint64_t created;
    enum net_state_verdict v = net_state_open(k, c, len, now, max_age, &body, &blen, &created);
    free(c);
    return v;
}

static void verdicts(void **state)
{
    (void)state;
    struct net_state_key k = key_of(7), other = key_of(8);
    uint8_t buf[2048];
    size_t body_len = make_body(buf, sizeof buf, 3), len = 0;
    uint64_t t = 1765000000000ull;
    assert_int_equal(net_state_seal(&k, t, buf, body_len, &len), COAPS_OK);
    assert_int_equal(open_copy(&k, buf, len, t, 1000), NET_STATE_OK);
    /* truncated at every length (the magic's first 4 bytes: truncated) */
    for (size_t cut = 0; cut < len; cut++) {
        enum net_state_verdict v = open_copy(&k, buf, cut, t, 1000);
        assert_int_equal(v, NET_STATE_TRUNCATED);
    }
    /* a byte more */
    uint8_t longer[2100];
    memcpy(longer, buf, len);
    longer[len] = 0;
    assert_int_equal(open_copy(&k, longer, len + 1, t, 1000), NET_STATE_NOT_OURS);
    /* one flipped bit anywhere: never accepted */
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            uint8_t c[2048];
            memcpy(c, buf, len);
            c[i] ^= (uint8_t)(1u << bit);
            assert_int_not_equal(open_copy(&k, c, len, t, 1000), NET_STATE_OK);
        }
    }
    uint8_t c[2048];
    memcpy(c, buf, len);
    c[0] = 'X';
    assert_int_equal(open_copy(&k, c, len, t, 1000), NET_STATE_NOT_OURS);
    memcpy(c, buf, len);
    c[5] = 2; /* version 2 */
    assert_int_equal(open_copy(&k, c, len, t, 1000), NET_STATE_OTHER_VERSION);
    assert_int_equal(open_copy(&other, buf, len, t, 1000), NET_STATE_FOREIGN);
    memcpy(c, buf, len);
    c[len - 1] ^= 1; /* the tag */
    assert_int_equal(open_copy(&k, c, len, t, 1000), NET_STATE_DAMAGED);
    assert_int_equal(open_copy(&k, buf, len, t + 1000, 1000), NET_STATE_OK);
    assert_int_equal(open_copy(&k, buf, len, t + 1001, 1000), NET_STATE_STALE);
    assert_int_equal(open_copy(&k, buf, len, t - NET_STATE_FUTURE_MS, 1000), NET_STATE_OK);
    assert_int_equal(open_copy(&k, buf, len, t - NET_STATE_FUTURE_MS - 1, 1000),
                     NET_STATE_FUTURE);
    for (int v = NET_STATE_OK; v <= NET_STATE_FUTURE; v++)
        assert_non_null(net_state_verdict_str((enum net_state_verdict)v));
}

/* Session records out of bounds are refused, never read past. */
static void bad_records(void **state)
{
    (void)state;
    uint8_t buf[512];
    size_t body_len = make_body(buf, sizeof buf, 1);
    const uint8_t *rec = buf + NET_STATE_HEADER_LEN + 4;
    size_t rec_len = body_len - 4;
    struct net_state_session s;
    for (size_t cut = 0; cut < rec_len; cut++) {
        struct wire_rd r = wire_rd_init(rec, cut);
        assert_int_not_equal(net_state_next_session(&r, &s), COAPS_OK);
    }
    uint8_t c[512];
    /* the record's length field says one byte more than its fields */
    memcpy(c, rec, rec_len);
    c[rec_len] = 0;
    c[1]++;
    struct wire_rd r = wire_rd_init(c, rec_len + 1);
    assert_int_equal(net_state_next_session(&r, &s), COAPS_E_MALFORMED);
    /* an address length no socket address has */
    memcpy(c, rec, rec_len);
    c[2] = 15;
    r = wire_rd_init(c, rec_len);
    assert_int_not_equal(net_state_next_session(&r, &s), COAPS_OK);
    /* an address that is not what the edge makes (family 0) */
    memcpy(c, rec, rec_len);
    c[3] = 0;
    c[4] = 0;
    r = wire_rd_init(c, rec_len);
    assert_int_equal(net_state_next_session(&r, &s), COAPS_E_MALFORMED);
    /* a DTLS blob longer than any export */
    struct wire_wr w = wire_wr_init(c, sizeof c);
    static uint8_t big[COAPS_DTLS_EXPORT_MAX + 1];
    struct net_state_session t = {.peer = peer4(1), .dtls = big, .dtls_len = sizeof big - 1};
    assert_int_equal(net_state_put_session(&w, &t), COAPS_OK);
    c[2 + 1 + 16 + 2 + 4 + 8] = (uint8_t)(COAPS_DTLS_EXPORT_MAX + 1);
    r = wire_rd_init(c, w.off);
    assert_int_not_equal(net_state_next_session(&r, &s), COAPS_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(key_files, setup, teardown),
cmocka_unit_test_setup_teardown(key_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(round_trip, setup, teardown),
        cmocka_unit_test(verdicts),
        cmocka_unit_test(bad_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
