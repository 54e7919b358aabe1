/*
 * crypto_pki_file.c - backend-neutral loading of PKI configuration from
 * files: reading them (bounded, regular files only), the trust store's
 * file and directory loaders and the credential's file loader, all built on
 * the loaders from memory (crypto_pki.c and the backend's). Set-up path
 * only; a device without files (firmware/) leaves this file out.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/try.h"
#include "crypto/crypto_backend.h"

coaps_status crypto_pki_read_file(const char *path, uint8_t **out, size_t *out_len, char *msg)
{
    ENSURE(path != NULL && out != NULL && out_len != NULL, COAPS_E_INVALID);
    *out = NULL;
    *out_len = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        crypto_pki_msg(msg, "%s: %s", path, strerror(errno));
        return COAPS_E_IO;
    }
    coaps_status st = COAPS_E_INVALID;
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        crypto_pki_msg(msg, "%s: not a regular file", path);
        goto out;
    }
    if ((uintmax_t)sb.st_size > CRYPTO_PEM_FILE_MAX) {
        crypto_pki_msg(msg, "%s: larger than %u bytes", path, CRYPTO_PEM_FILE_MAX);
        goto out;
    }
    size_t size = (size_t)sb.st_size;
    uint8_t *buf = malloc(size + 1); /* +1: an empty file still gets a buffer */
    if (buf == NULL) {
        crypto_pki_msg(msg, "%s: out of memory", path);
        st = COAPS_E_NOMEM;
        goto out;
    }
    if (fread(buf, 1, size, f) != size) {
        crypto_pki_msg(msg, "%s: read error", path);
        crypto_pki_free_file(buf, size);
        st = COAPS_E_IO;
        goto out;
    }
    *out = buf;
    *out_len = size;
    st = COAPS_OK;
out:
    fclose(f);
    return st;
}

void crypto_pki_free_file(uint8_t *buf, size_t len)
{
    if (buf == NULL)
        return;
    crypto_wipe(buf, len);
    free(buf);
}

coaps_status crypto_trust_load_file(struct crypto_trust *t, const char *path,
                                    char msg[CRYPTO_MSG_MAX])
{
    ENSURE(t != NULL && t->live && path != NULL, COAPS_E_INVALID);
    uint8_t *buf;
    size_t len;
    TRY(crypto_pki_read_file(path, &buf, &len, msg));
    char why[CRYPTO_MSG_MAX] = "";
    coaps_status st = crypto_trust_add_pem(t, buf, len, why);
    if (st != COAPS_OK)
        crypto_pki_msg(msg, "%s: %s", path, why);
    crypto_pki_free_file(buf, len);
    return st;
}

/* Trust files by name: PEM bundles (.pem, .crt) and pinned keys (.pub). */
static bool trust_file_name(const char *name)
{
    static const char *const exts[] = {".pem", ".crt", ".pub"};
    size_t n = strlen(name);
    if (name[0] == '.')
        return false;
    for (size_t i = 0; i < COAPS_ARRAY_LEN(exts); i++) {
        size_t e = strlen(exts[i]);
        if (n > e && strcmp(name + n - e, exts[i]) == 0)
            return true;
    }
    return false;
}

/* A path of at most PATH_MAX-ish length: directory + '/' + NAME_MAX name. */
#define TRUST_PATH_MAX 4096

coaps_status crypto_trust_load_dir(struct crypto_trust *t, const char *dir,
                                   char msg[CRYPTO_MSG_MAX])
{
    ENSURE(t != NULL && t->live && dir != NULL, COAPS_E_INVALID);
    DIR *d = opendir(dir);
    if (d == NULL) {
        crypto_pki_msg(msg, "%s: %s", dir, strerror(errno));
        return COAPS_E_IO;
    }
    coaps_status st = COAPS_OK;
    size_t loaded = 0;
    struct dirent *de;
    while (st == COAPS_OK && (de = readdir(d)) != NULL) {
        if (!trust_file_name(de->d_name))
            continue;
        char path[TRUST_PATH_MAX];
        int n = snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (n < 0 || (size_t)n >= sizeof path) {
            crypto_pki_msg(msg, "%s: path too long", dir);
            st = COAPS_E_INVALID;
            break;
        }
        st = crypto_trust_load_file(t, path, msg);
        loaded += st == COAPS_OK;
    }
    closedir(d);
    if (st == COAPS_OK && loaded == 0) {
        crypto_pki_msg(msg, "%s: no *.pem, *.crt or *.pub file", dir);
        st = COAPS_E_NOT_FOUND;
    }
    return st;
}

coaps_status crypto_credential_load(struct crypto_credential *c, const char *chain_path,
                                    const char *key_path, char msg[CRYPTO_MSG_MAX])
{
    ENSURE(c != NULL, COAPS_E_INVALID);
    c->live = false;
    ENSURE(key_path != NULL, COAPS_E_INVALID);
    uint8_t *chain = NULL, *key = NULL;
    size_t chain_len = 0, key_len = 0;
    coaps_status st = COAPS_OK;
    if (chain_path != NULL)
        st = crypto_pki_read_file(chain_path, &chain, &chain_len, msg);
    if (st == COAPS_OK)
        st = crypto_pki_read_file(key_path, &key, &key_len, msg);
    if (st == COAPS_OK)
        st = crypto_credential_load_named(c, chain, chain_len, chain_path, key, key_len, key_path, msg);
    crypto_pki_free_file(chain, chain_len);
    crypto_pki_free_file(key, key_len);
    return st;
}
