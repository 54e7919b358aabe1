/* client.h - coaps-client's state, shared by its files. */
#ifndef COAPS_APP_CLIENT_H
#define COAPS_APP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli/cli.h"
#include "coaps/client.h"
#include "coaps/coap.h"
#include "coaps/dtls.h"
#include "coaps/uri.h"

#define PROG "coaps-client"

/* Largest body sent (-e/-f) or received (Block2 reassembled): 64 KiB is
 * far beyond what constrained devices serve and bounds memory. */
#define CLIENT_BODY_MAX 65536

/* Bodies the client's core reassembles at once: one request. */
#define CLIENT_BODY_SLOTS 1

/* Bytes of a diagnostic payload printed with an error code. */
#define CLIENT_DIAG_MAX 200

/* libcoap's coap-client waits 90 s by default (-B). */
#define CLIENT_DEFAULT_WAIT_S 90

/* Longest -s / -B: one day; longer waits are a typo. */
#define CLIENT_MAX_SECONDS 86400

/* --repeat: a million requests over one session is a load test, which is
 * coaps-bench's job; more is a typo. --interval: at most an hour. */
#define CLIENT_MAX_REPEAT 1000000
#define CLIENT_MAX_INTERVAL_MS 3600000

struct client_opts {
    uint8_t method;
    int32_t content_format; /* COAPS_COAP_CF_NONE when not given */
    int32_t accept;
    uint32_t observe_s;     /* -s: observe for this long; 0 = no observe */
    uint16_t block_size;    /* 0 = core default */
    uint32_t block_num;     /* -b num,size: first Block2 block (GET/FETCH) */
    bool non;
    uint8_t token[CLI_TOKEN_MAX];
    size_t token_len;
    uint32_t wait_s;
    uint32_t keepalive_s;   /* -K: CoAP ping after this long without traffic; 0 = none */
    uint32_t repeat;        /* --repeat: requests sent over the one session (default 1) */
    uint32_t interval_ms;   /* --interval: pause after each response (default 0) */
    const char *out_path;   /* -o: payloads go to this file, not stdout */
    const char *uri;
    /* coaps:// PSK (-k KEY, -u IDENTITY), as libcoap's coap-client */
    bool have_key, have_identity;
    uint8_t psk_key[COAPS_DTLS_PSK_KEY_MAX];
    size_t psk_key_len;
    uint8_t psk_identity[COAPS_DTLS_PSK_IDENTITY_MAX];
    size_t psk_identity_len;
    /* coaps:// certificates (-c -j -C --rpk-trust) */
    coaps_dtls_pki_files pki_files;
    bool pki_given;
    /* --cid LEN: offer a Connection ID (RFC 9146), asking for LEN bytes */
    bool cid;
    uint8_t cid_len;
    /* --session FILE: resume from and save to (coaps/session.h) */
    const char *session_file;
    /* --no-tickets: no session tickets (RFC 5077) asked for or offered */
    bool no_tickets;
};

struct client {
    struct client_opts opts;
    int log_level;    /* -v */
    FILE *out;        /* stdout or the -o file */
    coaps_client *cl; /* the runtime: socket, DTLS, loop (coaps/client.h) */
    coaps_coap_endpoint *coap;
    coaps_uri uri;
    uint8_t *payload; /* -e / -f body, heap */
    size_t payload_len;
    /* Uri-Path / Uri-Query segments of the request, pointing into uri */
    coaps_coap_segment path[COAPS_URI_SEGMENTS_MAX];
    coaps_coap_segment query[COAPS_URI_SEGMENTS_MAX];
    coaps_peer server;
    coaps_coap_request_id req_id;
    uint64_t end_ms;
    uint64_t last_activity_ms; /* our last request or ping, or the last answer (-K) */
    bool ping_pending;
    bool done;        /* the current request is over */
    bool stopped;     /* no further request: a signal, the session ended */
    bool got_response;
    unsigned notifications;
    int exit_code;
};

/* Parse argv into c->opts, c->uri and c->payload. Returns 0 (and *help
 * when -h was given: usage is printed), or 2 after printing one line. */
int client_parse_opts(struct client *c, int argc, char **argv, bool *help);

/* Fill *req for c's request to server. 0, or 1/2 after printing a line. */
int client_build_request(struct client *c, const coaps_peer *server,
                         coaps_coap_client_request *req);

/* "Not Found" for 4.04 etc. (RFC 7252 12.1.2); "" for unknown codes. */
const char *client_code_name(uint8_t code);

#endif /* COAPS_APP_CLIENT_H */
