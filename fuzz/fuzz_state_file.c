/* fuzz_state_file.c - libFuzzer harness for the durable sessions file
 * (src/net/state_file.c) and what restoring it feeds: the DTLS engine's
 * import (src/dtls/persist.c) and the Observe registrations
 * (src/coap/observe_state.c).
 *
 * The first byte picks what the rest is: even, a whole state file, opened
 * under the fixed key below (seeds: files coaps-server wrote with it); odd,
 * a body as a sound file holds it after opening (no forger gets one past
 * the AES-GCM tag, but a bug of ours could write one). Every session of a
 * body goes to coaps_dtls_import and coap_observe_state_import. Nothing
 * may crash or leak; a connection that imports must export again, to the
 * same bytes but for the sequence number, which moved by the gap
 * (COAPS_DTLS_IMPORT_SEQ_GAP), and a refused one must be FAILED. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coap/observe_state.h"
#include "coaps/coap.h"
#include "coaps/dtls.h"
#include "fuzz_check.h"
#include "net/state_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The key of the seeds: 32 bytes 0x01 0x02 ... 0x20 (a key file of
 * "0102...20"). */
static struct net_state_key key;
static coaps_dtls_config cfg;
static coaps_coap_endpoint *ep;

/* Offset of the write sequence number in a blob (persist.c's layout). */
#define BLOB_SEQ_AT 23

static coaps_status no_psk(void *user, const uint8_t *id, size_t id_len, uint8_t *k, size_t cap,
                           size_t *len)
{
    (void)user, (void)id, (void)id_len, (void)k, (void)cap, (void)len;
    return COAPS_E_PSK_IDENTITY;
}

static coaps_status light_get(void *user, const coaps_coap_request *req,
                              coaps_coap_response *resp)
{
    (void)user, (void)req;
    return coaps_coap_response_set_payload(resp, "{}", 2);
}

static void setup(void)
{
    uint8_t k[NET_STATE_KEY_LEN];
    for (size_t i = 0; i < sizeof k; i++)
        k[i] = (uint8_t)(i + 1);
    CHECK(net_state_key_set(&key, k) == COAPS_OK);
    /* coaps-server's: PSK, a hint, and Connection IDs of 8 bytes */
    cfg.role = COAPS_DTLS_SERVER;
    cfg.psk_lookup = no_psk;
    cfg.cid = true;
    cfg.cid_len = 8;
    coaps_coap_config cc;
    coaps_coap_config_default(&cc);
    size_t n = coaps_coap_endpoint_size(&cc);
    void *mem = malloc(n);
    CHECK(mem && coaps_coap_endpoint_init(mem, n, &cc, &ep) == COAPS_OK);
    coaps_coap_resource_def def;
    coaps_coap_resource_def_init(&def, "light");
    def.observable = true;
    def.handler[COAPS_COAP_GET] = light_get;
    CHECK(coaps_coap_resource_add(ep, &def, NULL) == COAPS_OK);
}

static void one_session(const struct net_state_session *s)
{
    coaps_dtls_conn c;
    coaps_status st = coaps_dtls_import(&c, &cfg, s->dtls, s->dtls_len);
    if (st == COAPS_OK) {
        CHECK(coaps_dtls_state(&c) == COAPS_DTLS_ESTABLISHED);
        uint8_t again[COAPS_DTLS_EXPORT_MAX];
        size_t len = 0;
        CHECK(coaps_dtls_export(&c, again, sizeof again, &len) == COAPS_OK);
        CHECK(len == s->dtls_len);
        CHECK(memcmp(again, s->dtls, BLOB_SEQ_AT) == 0);
        CHECK(memcmp(again + BLOB_SEQ_AT + 6, s->dtls + BLOB_SEQ_AT + 6,
                     len - BLOB_SEQ_AT - 6) == 0);
        uint64_t a = 0, b = 0;
        for (int i = 0; i < 6; i++) {
            a = a << 8 | again[BLOB_SEQ_AT + i];
            b = b << 8 | s->dtls[BLOB_SEQ_AT + i];
        }
        CHECK(a == b + COAPS_DTLS_IMPORT_SEQ_GAP);
        uint8_t rec[64];
        CHECK(coaps_dtls_write(&c, (const uint8_t *)"x", 1, rec, sizeof rec, &len) == COAPS_OK);
    } else {
        CHECK(coaps_dtls_state(&c) == COAPS_DTLS_FAILED);
    }
    coaps_dtls_conn_clear(&c);
    (void)coap_observe_state_import(ep, &s->peer, 1000, s->obs, s->obs_len);
    coaps_coap_forget_peer(ep, &s->peer);
}

static void body(const uint8_t *b, size_t len)
{
    struct wire_rd r = wire_rd_init(b, len);
    uint32_t count;
    if (wire_rd_u32(&r, &count) != COAPS_OK)
        return;
    for (uint32_t i = 0; i < count; i++) {
        struct net_state_session s;
        if (net_state_next_session(&r, &s) != COAPS_OK)
            return;
        one_session(&s);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (ep == NULL)
        setup();
    if (size < 1)
        return 0;
    uint8_t *copy = malloc(size);
    if (copy == NULL)
        return 0;
    memcpy(copy, data + 1, size - 1);
    if (data[0] & 1) {
        body(copy, size - 1);
    } else {
        const uint8_t *b = NULL;
        size_t blen = 0;
        uint64_t created = 0;
        /* any time: the seeds' creation times must not go stale */
        enum net_state_verdict v =
            net_state_open(&key, copy, size - 1, UINT64_MAX / 2, UINT64_MAX, &b, &blen, &created);
        CHECK(net_state_verdict_str(v) != NULL);
        if (v == NET_STATE_OK) {
            CHECK(b >= copy && b + blen <= copy + size - 1);
            body(b, blen);
        }
    }
    free(copy);
    return 0;
}
