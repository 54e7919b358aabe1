/* secret_file.c - files that hold secrets (secret_file.h). */
#include "net/secret_file.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/hex.h"
#include "common/try.h"
#include "crypto/crypto.h"
#include "net/log.h"

/* 64 hex digits, white space around them, and a margin: a longer file is
 * not a key file. */
#define KEY_FILE_MAX 256

/* 64 hex digits at t[0..n) into key. */
static bool key_from_hex(const char *t, size_t n, uint8_t key[NET_KEY_FILE_KEY_LEN])
{
    size_t len = 0;
    return n == 2 * NET_KEY_FILE_KEY_LEN && hex_to_bytes(t, n, key, NET_KEY_FILE_KEY_LEN, &len);
}

/* 1 to max keys of 64 hex digits, separated and surrounded by white
 * space, into keys; *got how many. */
static bool keys_from_text(const char *t, size_t n, uint8_t (*keys)[NET_KEY_FILE_KEY_LEN],
                           size_t max, size_t *got)
{
    *got = 0;
    size_t i = 0;
    for (;;) {
        while (i < n && isspace((unsigned char)t[i]))
            i++;
        if (i == n)
            return *got > 0;
        size_t start = i;
        while (i < n && !isspace((unsigned char)t[i]))
            i++;
        if (*got == max || !key_from_hex(t + start, i - start, keys[*got]))
            return false;
        (*got)++;
    }
}

/* The file's text: COAPS_OK with n bytes in text (KEY_FILE_MAX + 1 bytes). */
static coaps_status key_file_read(const char *what, const char *path, char *text, size_t *n,
                                  char *err, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return net_fail(COAPS_E_IO, err, cap, "%s %s: cannot read: %s", what, path,
                        strerror(errno));
    ssize_t got = read(fd, text, KEY_FILE_MAX + 1);
    int saved = errno;
    close(fd);
    if (got < 0)
        return net_fail(COAPS_E_IO, err, cap, "%s %s: cannot read: %s", what, path,
                        strerror(saved));
    *n = (size_t)got;
    return COAPS_OK;
}

static coaps_status key_file_keys(const char *what, const char *path,
                                  uint8_t (*keys)[NET_KEY_FILE_KEY_LEN], size_t max, size_t *got,
                                  char *err, size_t cap)
{
    char text[KEY_FILE_MAX + 1];
    size_t n = 0;
    TRY(key_file_read(what, path, text, &n, err, cap));
    bool ok = n <= KEY_FILE_MAX && keys_from_text(text, n, keys, max, got);
    crypto_wipe(text, sizeof text);
    if (ok)
        return COAPS_OK;
    crypto_wipe(keys, max * NET_KEY_FILE_KEY_LEN);
    if (max == 1)
        return net_fail(COAPS_E_INVALID, err, cap,
                        "%s %s: not 64 hex digits (a 32-byte key; make one with: "
                        "openssl rand -hex 32)",
                        what, path);
    return net_fail(COAPS_E_INVALID, err, cap,
                    "%s %s: not 64 hex digits, or two such keys (the current one, then the "
                    "previous one) on lines of their own",
                    what, path);
}

coaps_status net_key_file_load(const char *what, const char *path,
                               uint8_t out[NET_KEY_FILE_KEY_LEN], char *err, size_t cap)
{
    size_t got;
    return key_file_keys(what, path, (uint8_t(*)[NET_KEY_FILE_KEY_LEN])out, 1, &got, err, cap);
}

coaps_status net_key_file_load_ring(const char *what, const char *path,
                                    uint8_t out[NET_KEY_FILE_KEY_LEN],
                                    uint8_t prev[NET_KEY_FILE_KEY_LEN], bool *has_prev, char *err,
                                    size_t cap)
{
    uint8_t keys[2][NET_KEY_FILE_KEY_LEN];
    size_t got = 0;
    TRY(key_file_keys(what, path, keys, 2, &got, err, cap));
    memcpy(out, keys[0], NET_KEY_FILE_KEY_LEN);
    *has_prev = got == 2;
    if (*has_prev)
        memcpy(prev, keys[1], NET_KEY_FILE_KEY_LEN);
    crypto_wipe(keys, sizeof keys);
    return COAPS_OK;
}

/* All of buf to fd, then to the disk. */
static bool write_all(int fd, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        buf += n;
        len -= (size_t)n;
    }
    return fsync(fd) == 0;
}

/* The rename is durable only once the directory is on disk too. */
bool net_secret_sync_dir(const char *path)
{
    char copy[4096];
    if ((size_t)snprintf(copy, sizeof copy, "%s", path) >= sizeof copy)
        return false;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = fsync(fd) == 0;
    close(fd);
    return ok;
}

coaps_status net_secret_file_write(const char *what, const char *path, const uint8_t *buf,
                                   size_t len, char *err, size_t cap)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return net_fail(COAPS_E_IO, err, cap, "%s %s: name too long", what, path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    bool ok = fd >= 0 && fchmod(fd, 0600) == 0 && write_all(fd, buf, len);
    int saved = errno;
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    if (ok && rename(tmp, path) == 0) {
        if (net_secret_sync_dir(path))
            return COAPS_OK;
        return net_fail(COAPS_E_IO, err, cap, "%s %s: cannot sync its directory: %s", what,
                        path, strerror(errno));
    }
    saved = errno ? errno : saved;
    (void)unlink(tmp);
    return net_fail(COAPS_E_IO, err, cap, "%s %s: cannot write: %s", what, path,
                    strerror(saved));
}
