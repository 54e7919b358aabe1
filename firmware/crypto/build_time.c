/*
 * build_time.c - the wall clock of a device that has none, for the
 * validity of certificates (crypto_x509_verify_chain judges them at
 * time(NULL)): the moment the firmware was built (FW_BUILD_UNIX, set by
 * firmware/CMakeLists.txt). The true time is never earlier, so a
 * certificate that had expired when the firmware was built is refused; one
 * that expires later in the field is not (a device that must know needs a
 * real-time clock or a trusted time source).
 */
#include <time.h>

time_t time(time_t *t)
{
    time_t now = (time_t)FW_BUILD_UNIX;
    if (t != NULL)
        *t = now;
    return now;
}
