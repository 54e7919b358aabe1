/* fuzz_session_file.c - libFuzzer harness for the session file parser
 * (src/net/session_file.c, coaps/session.h). Any bytes are refused or give
 * a session whose fields are in bounds; a session accepted must encode
 * back to exactly the input (the format has one spelling per session, and
 * a file that decodes is one we wrote). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/session_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    coaps_dtls_session s;
    if (net_session_decode(data, size, &s) != COAPS_OK)
        return 0;
    if (s.version != COAPS_DTLS_SESSION_VERSION || s.id_len > COAPS_DTLS_SESSION_ID_MAX ||
        s.ticket_len > COAPS_DTLS_TICKET_MAX || (s.id_len == 0 && s.ticket_len == 0) ||
        coaps_dtls_suite_name(s.suite) == NULL)
        abort();
    uint8_t again[NET_SESSION_FILE_MAX];
    size_t n = 0;
    if (net_session_encode(&s, again, &n) != COAPS_OK || size != n)
        abort();
    /* the ID's unused tail is zero in what we write; a file with other
     * bytes there would not pass the digest unless we had written it */
    if (memcmp(again, data, size) != 0)
        abort();
    return 0;
}
