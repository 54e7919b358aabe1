/*
 * coaps/config.h - the features a coaps build carries. Each is a module
 * that the build compiles in or out as a whole (the host's CMakeLists.txt
 * builds everything; firmware/CMakeLists.txt leaves out what the light
 * does not use and sets the switches below to match, with -D). A switch
 * is 1 (in) or 0 (out); the defaults are everything in, so a build that
 * sets nothing is the full library.
 *
 * Left out, a module is replaced by a small file of the same interface in
 * src/<module>/without_<feature>/ that refuses (handshake_cert_none.c,
 * client_none.c), so the code that calls it stays free of #if.
 *
 * Code that must know whether a feature is in includes this header and
 * tests the switch with #if (never #ifdef: -Wundef catches a switch used
 * without this header). Where a call site must go, it is one #if with a
 * comment; whole files are left out by the build instead.
 */
#ifndef COAPS_CONFIG_H
#define COAPS_CONFIG_H

/* Certificates and raw public keys: the ECDHE_ECDSA suites (RFC 8422,
 * RFC 7250), the handshake's certificate messages and the certificate
 * area of a handshake context. Without it a build does PSK only. */
#ifndef COAPS_WITH_PKI
#define COAPS_WITH_PKI 1
#endif

/* The client half of the CoAP endpoint (src/coap/client.c): requests,
 * pings, automatic Block-wise transfer and Observe on the client side.
 * Without it an endpoint only serves, and rejects every response. */
#ifndef COAPS_WITH_CLIENT
#define COAPS_WITH_CLIENT 1
#endif

/* Key logging (coaps_dtls_config.keylog: the NSS key log lines that let
 * Wireshark decrypt a capture). A debugging aid for hosts; a device
 * leaves it out, and with it every way to export its master secrets. */
#ifndef COAPS_WITH_KEYLOG
#define COAPS_WITH_KEYLOG 1
#endif

/* Connection ID (RFC 9146): the connection_id extension, tls12_cid
 * records, and the CIDs a connection keeps (src/dtls/cid.c). A device
 * that never moves between addresses leaves it out (the light does). */
#ifndef COAPS_WITH_CID
#define COAPS_WITH_CID 1
#endif

/* Session resumption by session ID (RFC 5246 7.3: src/dtls/resume.c).
 * Without it every handshake is a full one (the light: its clients are
 * few, and the flash is not). */
#ifndef COAPS_WITH_RESUMPTION
#define COAPS_WITH_RESUMPTION 1
#endif

/* Durable sessions (src/dtls/persist.c): an established connection
 * exported to bytes (its keys included) and imported again after a
 * restart, so that a server keeps its clients without a handshake. It
 * needs the AEAD keys readable back from the crypto backend. A device
 * leaves it out (the light: without_persist/persist_none.c), and with it
 * every way to read its session keys back. */
#ifndef COAPS_WITH_PERSIST
#define COAPS_WITH_PERSIST 1
#endif

/* Cookie secrets derived from one shared secret (coaps_dtls_config.
 * cookie_secret: the front doors of a server's workers accept each
 * other's cookies). A device with one front door draws random secrets
 * and leaves the derivation out (the light: its flash is full). */
#ifndef COAPS_WITH_SHARED_COOKIE
#define COAPS_WITH_SHARED_COOKIE 1
#endif

/* Deduplication shared with the other servers of a cluster
 * (coaps_coap_config.shared_reply_save/_find, docs/cluster.md). A device
 * is no cluster node (the light: its flash is full); without it the two
 * hooks are never called. */
#ifndef COAPS_WITH_SHARED_DEDUP
#define COAPS_WITH_SHARED_DEDUP 1
#endif

#endif /* COAPS_CONFIG_H */
