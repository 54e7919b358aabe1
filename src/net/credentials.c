/* credentials.c - certificates for a runtime (see credentials.h). */
#include "net/credentials.h"

#include "net/log.h"

coaps_status net_pki_load(coaps_dtls_pki **out, const coaps_dtls_pki_files *files, char *err,
                          size_t cap)
{
    *out = NULL;
    if (files == NULL)
        return COAPS_OK;
    char why[256] = "";
    coaps_status st = coaps_dtls_pki_new(out, files, why, sizeof why);
    if (st != COAPS_OK)
        return net_fail(st, err, cap, "certificates: %s", why[0] ? why : coaps_status_str(st));
    return COAPS_OK;
}
