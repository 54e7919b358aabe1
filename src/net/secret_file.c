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

#include "crypto/crypto.h"
#include "net/log.h"

/* 64 hex digits, white space around them, and a margin: a longer file is
 * not a key file. */
#define KEY_FILE_MAX 256

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static bool key_from_text(const char *t, size_t n, uint8_t key[NET_KEY_FILE_KEY_LEN])
{
    while (n > 0 && isspace((unsigned char)t[n - 1]))
        n--;
    while (n > 0 && isspace((unsigned char)*t)) {
        t++;
        n--;
    }
    if (n != 2 * NET_KEY_FILE_KEY_LEN)
        return false;
    for (size_t i = 0; i < NET_KEY_FILE_KEY_LEN; i++) {
        int hi = hex_value(t[2 * i]), lo = hex_value(t[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        key[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

coaps_status net_key_file_load(const char *what, const char *path,
                               uint8_t out[NET_KEY_FILE_KEY_LEN], char *err, size_t cap)
{
    char text[KEY_FILE_MAX + 1];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return net_fail(COAPS_E_IO, err, cap, "%s %s: cannot read: %s", what, path,
                        strerror(errno));
    ssize_t n = read(fd, text, sizeof text);
    int saved = errno;
    close(fd);
    if (n < 0)
        return net_fail(COAPS_E_IO, err, cap, "%s %s: cannot read: %s", what, path,
                        strerror(saved));
    bool ok = n <= KEY_FILE_MAX && key_from_text(text, (size_t)n, out);
    crypto_wipe(text, sizeof text);
    if (!ok) {
        crypto_wipe(out, NET_KEY_FILE_KEY_LEN);
        return net_fail(COAPS_E_INVALID, err, cap,
                        "%s %s: not 64 hex digits (a 32-byte key; make one with: "
                        "openssl rand -hex 32)",
                        what, path);
    }
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
