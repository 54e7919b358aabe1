/*
 * hex.h - hexadecimal digits and strings, for the places that read hex
 * text from users or the wire (0x keys and tokens, %XX in URIs, \uXXXX in
 * JSON).
 */
#ifndef COAPS_HEX_H
#define COAPS_HEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 0..15 for '0'-'9', 'a'-'f', 'A'-'F'; -1 for anything else. */
static inline int hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode the n hex digits at hex into out: true with *out_len = n / 2, or
 * false for an odd count, a non-hex digit or more than cap bytes. */
static inline bool hex_to_bytes(const char *hex, size_t n, uint8_t *out, size_t cap,
                                size_t *out_len)
{
    if (n % 2 != 0 || n / 2 > cap)
        return false;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *out_len = n / 2;
    return true;
}

#endif /* COAPS_HEX_H */
