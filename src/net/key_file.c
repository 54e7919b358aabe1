/* key_file.c - a 32-byte secret as 64 hex digits in a file (key_file.h). */
#include "net/key_file.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
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
