/*
 * json.h - a small, bounded JSON validator (RFC 8259).
 *
 * The light server stores whatever JSON object a client PUTs and returns it
 * on GET, so it only has to know that a payload IS a well-formed JSON text
 * and what kind of value sits at the top. It never builds a tree: the
 * validator walks the bytes once, with recursion bounded by JSON_MAX_DEPTH,
 * and needs no memory beyond the call stack.
 *
 * Strings must be valid UTF-8 (RFC 8259 section 8.1) with no unescaped
 * control characters (section 7); escapes are checked, \u surrogates must
 * pair up. Numbers follow the grammar of section 6. Leading and trailing
 * whitespace (section 2) is allowed; anything else after the value is not.
 */
#ifndef COAPS_JSON_H
#define COAPS_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "coaps/status.h"

/* Nesting bound: RFC 8259 section 9 lets a parser limit depth. 32 levels is
 * far more than a device state needs and keeps the worst-case stack use of
 * the recursive descent small (a few hundred bytes per level). */
#define JSON_MAX_DEPTH 32

enum json_kind {
    JSON_OBJECT = 0,
    JSON_ARRAY,
    JSON_STRING,
    JSON_NUMBER,
    JSON_TRUE,
    JSON_FALSE,
    JSON_NULL,
};

/*
 * Check that buf[0..len) is exactly one JSON text (RFC 8259 section 2).
 * buf need not be NUL-terminated and is only read. On success *kind (if
 * not NULL) receives the kind of the top-level value.
 * Returns COAPS_OK, COAPS_E_MALFORMED (grammar, bad UTF-8, empty input),
 * COAPS_E_TRUNCATED (input ends inside a value) or COAPS_E_FULL (nested
 * deeper than JSON_MAX_DEPTH).
 */
coaps_status json_validate(const uint8_t *buf, size_t len, enum json_kind *kind);

#endif /* COAPS_JSON_H */
