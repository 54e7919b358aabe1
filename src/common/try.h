/*
 * try.h - the guard macros of the one error idiom (see coaps/status.h).
 *
 *   TRY(rd_u16(&r, &len));        propagate any failure to the caller
 *   ENSURE(len <= max, COAPS_E_MALFORMED);  fail with a status unless true
 */
#ifndef COAPS_TRY_H
#define COAPS_TRY_H

#include "coaps/status.h"

#define TRY(expr)                                                              \
    do {                                                                       \
        coaps_status try_st_ = (expr);                                         \
        if (try_st_ != COAPS_OK)                                               \
            return try_st_;                                                    \
    } while (0)

#define ENSURE(cond, st)                                                       \
    do {                                                                       \
        if (!(cond))                                                           \
            return (st);                                                       \
    } while (0)

#define COAPS_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif /* COAPS_TRY_H */
