/*
 * cli.h - parsing helpers for the programs' command-line flags, shared by
 * coaps-server and coaps-client so that both accept the same spellings
 * (those libcoap's coap-client and coap-server users know).
 *
 * Each returns false when the text is not acceptable; the caller prints one
 * line naming the flag and the value. Pure functions: no I/O.
 */
#ifndef COAPS_CLI_CLI_H
#define COAPS_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coaps/dtls.h"

/* Decimal unsigned integer in [min, max]: digits only, no sign, no spaces. */
bool cli_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* A size in bytes in [min, max]: decimal digits, optionally followed by K
 * or M (KiB, MiB: x 1024, x 1048576; either case), e.g. 4194304, 4096K,
 * 4M. */
bool cli_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* UDP port 0..65535 (0 = any free port, for servers in tests). */
bool cli_parse_port(const char *s, uint16_t *port);

/* -m: get, post, put, delete, fetch, patch, ipatch (any case) -> method code
 * (RFC 7252 12.1.1, RFC 8132). */
bool cli_parse_method(const char *s, uint8_t *code);

/* -t / -A: a Content-Format number 0..65535 or a name (text/plain, plain,
 * text, link-format, link, xml, octet-stream, binary, exi, json,
 * application/json, cbor, ...; RFC 7252 12.3 and the IANA registry). */
bool cli_parse_content_format(const char *s, uint16_t *cf);

/* -b [num,]size: size a power of two in 16..1024 (RFC 7959 2.2: SZX 0..6),
 * num < 2^20 (the 20-bit NUM field). num is 0 when not given. */
bool cli_parse_block(const char *s, uint32_t *num, uint16_t *size);

/* Largest token (RFC 7252 3: TKL 0-8). */
#define CLI_TOKEN_MAX 8

/* -T: "0x" followed by 2..16 hex digits (an even number) is hex; anything
 * else is taken as the token's bytes (libcoap's -T), 1..8 of them. */
bool cli_parse_token(const char *s, uint8_t token[CLI_TOKEN_MAX], size_t *len);

/* The certificate flags both programs take, with libcoap's letters: 'c'
 * certificate file, 'j' key file, 'C' CA file, and 'R' for --rpk-trust
 * (pinning raw public keys means speaking RPK too, RFC 7250). Stores path
 * in *f; false for any other letter. */
bool cli_pki_file(int letter, const char *path, coaps_dtls_pki_files *f);

/* A log level for -v: 0-7 (8 and 9, libcoap's TLS levels, mean 7) or a
 * syslog name (emerg .. debug, also err and warn), any case. */
bool cli_parse_log_level(const char *s, int *level);

#endif /* COAPS_CLI_CLI_H */
