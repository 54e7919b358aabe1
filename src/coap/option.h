/*
 * option.h - the option definition table (RFC 7252 5.10, 7641 2, 7959 2.1
 * and 4) and the checks a received message's options go through.
 */
#ifndef COAPS_COAP_OPTION_H
#define COAPS_COAP_OPTION_H

#include <stdbool.h>
#include <stdint.h>

#include "coaps/coap.h"

enum coap_opt_format {
    COAP_FMT_EMPTY,
    COAP_FMT_OPAQUE,
    COAP_FMT_UINT,
    COAP_FMT_STRING,
};

struct coap_optdef {
    uint16_t number;
    const char *name;
    uint8_t format; /* enum coap_opt_format */
    uint16_t min_len, max_len;
    bool repeatable;
};

/* The table row for a number, or NULL when we do not recognise it. */
const struct coap_optdef *coap_optdef_find(uint16_t number);

/* RFC 7252 5.4.1: odd option numbers are critical. */
static inline bool coap_opt_is_critical(uint16_t number)
{
    return (number & 1) != 0;
}

/* Outcome of checking a received message's options. */
enum coap_optcheck {
    COAP_OPTCHECK_OK,
    COAP_OPTCHECK_BAD_CRITICAL, /* unrecognised critical option: 4.02 */
    COAP_OPTCHECK_PROXY,        /* Proxy-Uri/Proxy-Scheme: 5.05 (RFC 7252 5.7.2) */
};

/* Apply RFC 7252 5.4.1, 5.4.3 and 5.4.5 to a parsed message in place:
 * an unknown option, a known one whose length is outside its bounds, or a
 * repeated occurrence of a non-repeatable option is "unrecognised". An
 * unrecognised elective option is removed (silently ignored); an
 * unrecognised critical one is reported, its number in *bad. */
enum coap_optcheck coap_options_check(coaps_coap_msg *m, uint16_t *bad);

#endif /* COAPS_COAP_OPTION_H */
