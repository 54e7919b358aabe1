/* cli.c - command-line value parsing shared by the programs (see cli.h). */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/try.h"
#include "common/hex.h"

bool cli_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (s == NULL || *s == '\0')
        return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        uint64_t d = (uint64_t)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (v < min || v > max)
        return false;
    *out = v;
    return true;
}

bool cli_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char digits[24]; /* 20 digits of a uint64_t and a NUL, with room to spare */
    size_t n = s ? strlen(s) : 0;
    uint64_t unit = 1;
    if (n > 0 && (s[n - 1] == 'K' || s[n - 1] == 'k'))
        unit = 1024;
    else if (n > 0 && (s[n - 1] == 'M' || s[n - 1] == 'm'))
        unit = 1024 * 1024;
    if (unit > 1)
        n--;
    if (n == 0 || n >= sizeof digits)
        return false;
    memcpy(digits, s, n);
    digits[n] = '\0';
    uint64_t v;
    if (!cli_parse_uint(digits, 0, UINT64_MAX / unit, &v) || v * unit < min || v * unit > max)
        return false;
    *out = v * unit;
    return true;
}

bool cli_parse_port(const char *s, uint16_t *port)
{
    uint64_t v;
    if (!cli_parse_uint(s, 0, 65535, &v))
        return false;
    *port = (uint16_t)v;
    return true;
}

bool cli_parse_method(const char *s, uint8_t *code)
{
    /* Index = method code (RFC 7252 12.1.1: 0.01-0.04; RFC 8132: 0.05-0.07). */
    static const char *const names[] = {NULL, "get", "post", "put", "delete", "fetch", "patch",
                                        "ipatch"};
    if (s == NULL)
        return false;
    for (size_t i = 1; i < COAPS_ARRAY_LEN(names); i++)
        if (strcasecmp(s, names[i]) == 0) {
            *code = (uint8_t)i;
            return true;
        }
    return false;
}

bool cli_parse_content_format(const char *s, uint16_t *cf)
{
    /* Names from the CoAP Content-Formats registry (RFC 7252 12.3) and the
     * short forms libcoap's coap-client accepts. */
    static const struct {
        const char *name;
        uint16_t cf;
    } names[] = {
        {"text/plain", 0},         {"plain", 0},          {"text", 0},
        {"application/link-format", 40}, {"link-format", 40}, {"link", 40},
        {"application/xml", 41},   {"xml", 41},
        {"application/octet-stream", 42}, {"octet-stream", 42}, {"binary", 42},
        {"application/exi", 47},   {"exi", 47},
        {"application/json", 50},  {"json", 50},
        {"application/json-patch+json", 51}, {"json-patch+json", 51},
        {"application/merge-patch+json", 52}, {"merge-patch+json", 52},
        {"application/cbor", 60},  {"cbor", 60},
        {"application/senml+json", 110}, {"senml+json", 110},
        {"application/senml+cbor", 112}, {"senml+cbor", 112},
    };
    uint64_t v;
    if (cli_parse_uint(s, 0, 65535, &v)) {
        *cf = (uint16_t)v;
        return true;
    }
    if (s == NULL)
        return false;
    for (size_t i = 0; i < COAPS_ARRAY_LEN(names); i++)
        if (strcasecmp(s, names[i].name) == 0) {
            *cf = names[i].cf;
            return true;
        }
    return false;
}

/* RFC 7959 2.2: NUM is up to 20 bits; SZX 0..6 means 16..1024 bytes. */
#define CLI_BLOCK_NUM_MAX ((1u << 20) - 1)
#define CLI_BLOCK_SIZE_MIN 16
#define CLI_BLOCK_SIZE_MAX 1024
/* Longest -b text: "1048575,1024" is 12 characters; 32 leaves room. */
#define CLI_BLOCK_TEXT_MAX 32

bool cli_parse_block(const char *s, uint32_t *num, uint16_t *size)
{
    char buf[CLI_BLOCK_TEXT_MAX];
    uint64_t n = 0, sz;
    if (s == NULL || strlen(s) >= sizeof buf)
        return false;
    strcpy(buf, s);
    char *comma = strchr(buf, ',');
    const char *size_text = buf;
    if (comma) {
        *comma = '\0';
        if (!cli_parse_uint(buf, 0, CLI_BLOCK_NUM_MAX, &n))
            return false;
        size_text = comma + 1;
    }
    if (!cli_parse_uint(size_text, CLI_BLOCK_SIZE_MIN, CLI_BLOCK_SIZE_MAX, &sz))
        return false;
    if ((sz & (sz - 1)) != 0)
        return false; /* not a power of two: no SZX for it */
    *num = (uint32_t)n;
    *size = (uint16_t)sz;
    return true;
}

bool cli_parse_token(const char *s, uint8_t token[CLI_TOKEN_MAX], size_t *len)
{
    if (s == NULL || *s == '\0')
        return false;
    size_t n = strlen(s);
    if (n > 2 && (strncmp(s, "0x", 2) == 0 || strncmp(s, "0X", 2) == 0)) {
        return hex_to_bytes(s + 2, n - 2, token, CLI_TOKEN_MAX, len);
    }
    if (n > CLI_TOKEN_MAX)
        return false;
    memcpy(token, s, n);
    *len = n;
    return true;
}

bool cli_pki_file(int letter, const char *path, coaps_dtls_pki_files *f)
{
    switch (letter) {
    case 'c': f->cert_file = path; return true;
    case 'j': f->key_file = path; return true;
    case 'C': f->ca_file = path; return true;
    case 'R':
        f->rpk_trust_file = path;
        f->use_rpk = true;
        return true;
    }
    return false;
}

/* syslog's names, index = level (as src/net/log.c prints them). */
static const char *const log_level_names[] = {
    "emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
};

/* Highest -v number libcoap's tools accept (its 8 and 9 add TLS library
 * logging); we treat them as debug. */
#define CLI_LOG_LIBCOAP_MAX 9
#define CLI_LOG_ERR 3
#define CLI_LOG_WARN 4
#define CLI_LOG_DEBUG 7

bool cli_parse_log_level(const char *s, int *level)
{
    static const struct {
        const char *name;
        int level;
    } aliases[] = {{"err", CLI_LOG_ERR}, {"warn", CLI_LOG_WARN}};
    if (s == NULL || *s == '\0')
        return false;
    if (s[0] >= '0' && s[0] <= '9') {
        char *end;
        long v = strtol(s, &end, 10);
        if (*end != '\0' || v > CLI_LOG_LIBCOAP_MAX)
            return false;
        *level = v > CLI_LOG_DEBUG ? CLI_LOG_DEBUG : (int)v;
        return true;
    }
    for (size_t i = 0; i < COAPS_ARRAY_LEN(log_level_names); i++)
        if (strcasecmp(s, log_level_names[i]) == 0) {
            *level = (int)i;
            return true;
        }
    for (size_t i = 0; i < COAPS_ARRAY_LEN(aliases); i++)
        if (strcasecmp(s, aliases[i].name) == 0) {
            *level = aliases[i].level;
            return true;
        }
    return false;
}
