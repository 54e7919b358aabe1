/* session_file.c - a DTLS session in a file (coaps/session.h). */
#include "coaps/session.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/try.h"
#include "common/wire.h"
#include "crypto/crypto.h"
#include "net/log.h"
#include "net/secret_file.h"
#include "net/session_file.h"

#define FILE_MAGIC 0x43534553u /* "CSES" */
#define FILE_VERSION 2              /* 1: no ticket (read as damaged: one full handshake) */
#define FILE_FIXED NET_SESSION_FILE_FIXED
#define FILE_MAX NET_SESSION_FILE_MAX

coaps_status net_session_encode(const coaps_dtls_session *s, uint8_t out[FILE_MAX], size_t *len)
{
    struct wire_wr w = wire_wr_init(out, FILE_MAX);
    uint8_t id[COAPS_DTLS_SESSION_ID_MAX] = {0};
    ENSURE(s->id_len <= COAPS_DTLS_SESSION_ID_MAX && s->ticket_len <= COAPS_DTLS_TICKET_MAX &&
               (s->id_len > 0 || s->ticket_len > 0),
           COAPS_E_INVALID);
    memcpy(id, s->id, s->id_len);
    TRY(wire_wr_uint(&w, 4, FILE_MAGIC));
    TRY(wire_wr_u16(&w, FILE_VERSION));
    TRY(wire_wr_u16(&w, s->suite));
    TRY(wire_wr_u8(&w, s->id_len));
    TRY(wire_wr_bytes(&w, id, sizeof id));
    TRY(wire_wr_bytes(&w, s->master_secret, COAPS_DTLS_MASTER_SECRET_LEN));
    TRY(wire_wr_u32(&w, s->ticket_lifetime_s));
    TRY(wire_wr_u16(&w, s->ticket_len));
    TRY(wire_wr_bytes(&w, s->ticket, s->ticket_len));
    uint8_t digest[CRYPTO_HASH_MAX]; /* crypto_hash may use all of it */
    TRY(crypto_hash(CRYPTO_SHA256, out, w.off, digest));
    TRY(wire_wr_bytes(&w, digest, 32));
    *len = w.off;
    return COAPS_OK;
}

coaps_status net_session_decode(const uint8_t *in, size_t len, coaps_dtls_session *s)
{
    ENSURE(in && len >= FILE_FIXED + 32 && len <= FILE_MAX, COAPS_E_MALFORMED);
    size_t body = len - 32;
    uint8_t digest[CRYPTO_HASH_MAX];
    TRY(crypto_hash(CRYPTO_SHA256, in, body, digest));
    ENSURE(crypto_ct_equal(digest, in + body, 32), COAPS_E_MALFORMED);
    struct wire_rd r = wire_rd_init(in, body);
    uint64_t magic;
    uint16_t version;
    TRY(wire_rd_uint(&r, 4, &magic));
    TRY(wire_rd_u16(&r, &version));
    ENSURE(magic == FILE_MAGIC && version == FILE_VERSION, COAPS_E_MALFORMED);
    memset(s, 0, sizeof *s);
    s->version = COAPS_DTLS_SESSION_VERSION;
    TRY(wire_rd_u16(&r, &s->suite));
    TRY(wire_rd_u8(&r, &s->id_len));
    ENSURE(s->id_len <= COAPS_DTLS_SESSION_ID_MAX && coaps_dtls_suite_name(s->suite) != NULL,
           COAPS_E_MALFORMED);
    const uint8_t *p;
    TRY(wire_rd_view(&r, COAPS_DTLS_SESSION_ID_MAX, &p));
    memcpy(s->id, p, s->id_len);
    TRY(wire_rd_view(&r, COAPS_DTLS_MASTER_SECRET_LEN, &p));
    memcpy(s->master_secret, p, COAPS_DTLS_MASTER_SECRET_LEN);
    TRY(wire_rd_u32(&r, &s->ticket_lifetime_s));
    TRY(wire_rd_u16(&r, &s->ticket_len));
    ENSURE(s->ticket_len <= COAPS_DTLS_TICKET_MAX && (s->id_len > 0 || s->ticket_len > 0) &&
               wire_rd_left(&r) == s->ticket_len,
           COAPS_E_MALFORMED);
    return wire_rd_bytes(&r, s->ticket, s->ticket_len);
}

coaps_status coaps_session_save(const char *path, const coaps_dtls_session *s, char *err,
                                size_t err_cap)
{
    uint8_t buf[FILE_MAX];
    size_t len = 0;
    if (!path || !s || net_session_encode(s, buf, &len) != COAPS_OK)
        return net_fail(COAPS_E_INVALID, err, err_cap, "session file: no session to save");
    coaps_status st = net_secret_file_write("session file", path, buf, len, err, err_cap);
    crypto_wipe(buf, sizeof buf);
    return st;
}

coaps_status coaps_session_load(const char *path, coaps_dtls_session *out, char *err,
                                size_t err_cap)
{
    uint8_t buf[FILE_MAX + 1];
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return net_fail(COAPS_E_NOT_FOUND, err, err_cap, "session file %s: none yet", path);
    if (fd < 0)
        return net_fail(COAPS_E_IO, err, err_cap, "session file %s: cannot read: %s", path,
                        strerror(errno));
    ssize_t n = read(fd, buf, sizeof buf); /* one byte more: a longer file is not ours */
    close(fd);
    coaps_status st = n > 0 ? net_session_decode(buf, (size_t)n, out) : COAPS_E_MALFORMED;
    crypto_wipe(buf, sizeof buf);
    if (st == COAPS_OK)
        return COAPS_OK;
    crypto_wipe(out, sizeof *out);
    return net_fail(COAPS_E_MALFORMED, err, err_cap,
                    "session file %s: damaged or not a coaps session (%zd bytes): ignored", path,
                    n);
}
