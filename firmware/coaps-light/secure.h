/* secure.h - coaps:// of coaps-light: PSK (see secure.c). */
#ifndef COAPS_FW_SECURE_H
#define COAPS_FW_SECURE_H

#include "runtime/runtime_dtls.h"

/* Serve coaps:// on rt with the reference device's PSK credentials. */
coaps_status secure_start(struct coaps_runtime_dtls *d, struct coaps_runtime *rt);

#endif /* COAPS_FW_SECURE_H */
