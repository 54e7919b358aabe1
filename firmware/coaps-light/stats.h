/* stats.h - the /stats resource of coaps-light (see stats.c). */
#ifndef COAPS_FW_STATS_H
#define COAPS_FW_STATS_H

#include "runtime/runtime.h"
#include "runtime/runtime_dtls.h"

/* Register GET /stats, /stats/uart and (with dtls) /stats/dtls on rt's
 * endpoint; rt and dtls (NULL: coap:// only)
 * must outlive it. */
coaps_status stats_register(struct coaps_runtime *rt, const struct coaps_runtime_dtls *dtls);

#endif /* COAPS_FW_STATS_H */
