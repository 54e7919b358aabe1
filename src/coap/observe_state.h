/*
 * observe_state.h - a peer's Observe registrations (RFC 7641) to bytes and
 * back, for durable sessions (docs/sessions.md): the server saves them
 * with the peer's DTLS session at shutdown and puts them back after a
 * restart, so an observer goes on getting notifications without
 * registering again. Internal to the library (src/net/state_save.c).
 */
#ifndef COAPS_COAP_OBSERVE_STATE_H
#define COAPS_COAP_OBSERVE_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "coaps/coap.h"
#include "coaps/peer.h"
#include "common/wire.h"

/* Registrations of one peer kept in a state file at most: more than any
 * one client needs (libcoap's client observes one resource at a time). */
#define COAP_OBS_STATE_PER_PEER 16

/* Append the registrations of peer (u8 count, then each: the resource's
 * path, token, Observe sequence number, NON count, age of the last CON,
 * Message ID of the last notification, pending flag, the registration
 * request) to w. now_ms: the endpoint's clock, for the age. At most
 * COAP_OBS_STATE_PER_PEER; COAPS_E_NOSPACE when w is full. */
coaps_status coap_observe_state_export(const coaps_coap_endpoint *ep, const coaps_peer *peer,
                                       uint64_t now_ms, struct wire_wr *w);

/* Register again, for peer, what coap_observe_state_export wrote (len
 * bytes, exactly). Every field is checked first: COAPS_E_TRUNCATED,
 * COAPS_E_MALFORMED; a registration of a resource this endpoint no longer
 * has, or no longer observable, is skipped; COAPS_E_FULL when the table
 * has no room (those restored stay). A CON notification that was in
 * flight is marked pending: the next tick sends the current state. */
coaps_status coap_observe_state_import(coaps_coap_endpoint *ep, const coaps_peer *peer,
                                       uint64_t now_ms, const uint8_t *buf, size_t len);

#endif /* COAPS_COAP_OBSERVE_STATE_H */
