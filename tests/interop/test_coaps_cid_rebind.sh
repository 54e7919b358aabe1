#!/usr/bin/env bash
# test_coaps_cid_rebind.sh - a coaps session across an address change (NAT
# rebinding) on loopback: coaps-client talks to coaps-server through the
# relay (tests/tools/relay.c), which on SIGUSR1 gives its client a new
# upstream port, as a NAT that lost its mapping. With a Connection ID
# (RFC 9146, --cid on both) every request of `coaps-client --repeat` is
# answered over the one session and the server follows the new address
# (one handshake, "moved" once); without, the requests after the change
# reach no session. Also: a record with a CID no session has is dropped
# and counted. (tests/interop/test_coaps_cid_rebind_netns.sh does the same
# through a real nftables masquerade in network namespaces.)
set -euo pipefail
. "${COAPS_SOURCE_DIR:?}/scripts/lib/common.sh"
. "$COAPS_SOURCE_DIR/tests/interop/coaps_test_lib.sh"

RELAY=$COAPS_BUILD_DIR/relay
REPEAT=4

# run_case NAME CLIENT_CID SERVER_CID: server (and its CID flag, "" for
# none), relay, client with --repeat; the relay rebinds after the first
# response. Output in $TEST_TMP/NAME-*.
run_case() {
    local name=$1 ccid=$2 scid=$3 sflags=() cflags=()
    [ -n "$scid" ] && sflags=(--cid "$scid")
    [ -n "$ccid" ] && cflags=(--cid "$ccid")
    start_dtls_server "$name-srv" --psk-default "$DEMO_KEY" -v info "${sflags[@]}"
    RPORT=$(free_udp_port)
    start_bg "$name-relay" "$RELAY" -l "$RPORT" -s "127.0.0.1:$COAPS_PORT"
    local relay_pid=$LAST_PID
    wait_udp_port "$RPORT" 5 || die "relay did not start"
    start_bg "$name-cl" timeout 30 "$COAPS_BUILD_DIR/coaps-client" -B 3 -v info -k "$DEMO_KEY" -u CoAP \
        "${cflags[@]}" --repeat "$REPEAT" --interval 1500 "coaps://127.0.0.1:$RPORT/light"
    local client_pid=$LAST_PID
    # the first response is in: the session is up; then the NAT rebinds
    wait_for_line "$TEST_TMP/$name-cl.log" '"status"' 10 || log "$name: no first response"
    kill -USR1 "$relay_pid"
    wait_for_line "$TEST_TMP/$name-relay.log" "rebound 1" 5 || fail "$name: relay did not rebind"
    wait "$client_pid" 2>/dev/null && CLIENT_RC=0 || CLIENT_RC=$?
    stop_bg "$name-relay"
    stop_bg "$name-srv"
    ANSWERS=$(grep -c '"status"' "$TEST_TMP/$name-cl.log" || true)
    HANDSHAKES=$(grep -c "coaps session with .* established" "$TEST_TMP/$name-srv.log" || true)
    MOVED=$(grep -c "moved to 127.0.0.1" "$TEST_TMP/$name-srv.log" || true)
}

# With CID: the server's CID in the client's records (8 bytes), none back.
run_case cid 0 8
check_eq "CID 0/8: client exit 0" 0 "$CLIENT_RC"
check_eq "CID 0/8: all $REPEAT answers across the rebinding" "$REPEAT" "$ANSWERS"
check_eq "CID 0/8: one handshake" 1 "$HANDSHAKES"
check_eq "CID 0/8: the session moved once" 1 "$MOVED"
check_contains "CID 0/8: stats count the move" "moved 1, unknown cid 0" \
    "$(cat "$TEST_TMP/cid-srv.log")"

# CIDs both ways (the server's records carry the client's 4 bytes).
run_case cid2 4 6
check_eq "CID 4/6: client exit 0" 0 "$CLIENT_RC"
check_eq "CID 4/6: all $REPEAT answers across the rebinding" "$REPEAT" "$ANSWERS"
check_eq "CID 4/6: one handshake" 1 "$HANDSHAKES"
check_eq "CID 4/6: the session moved once" 1 "$MOVED"

# Without CID: after the rebinding the records come from an address with
# no session; the front door drops them (they are no ClientHello). The
# client notices (no answer), starts the session again resuming it (RFC
# 5246 7.3) and sends that request again.
run_case plain "" ""
check_eq "no CID: the client recovers (exit 0)" 0 "$CLIENT_RC"
check_eq "no CID: all $REPEAT answered in the end" "$REPEAT" "$ANSWERS"
check_contains "no CID: the client noticed" "starting it again" "$(cat "$TEST_TMP/plain-cl.log")"
check_eq "no CID: two sessions" 2 "$HANDSHAKES"
check_eq "no CID: the second one resumed" 1 \
    "$(grep -c "established, .* (resumed)" "$TEST_TMP/plain-srv.log" || true)"
check_eq "no CID: no move" 0 "$MOVED"
# a record from the new address, with no CID to claim its session by:
# the front door drops it (not a ClientHello), counts it, changes nothing
if grep -qE "front dropped [1-9]" "$TEST_TMP/plain-srv.log"; then
    pass "no CID: the records from the new address were dropped and counted"
else
    fail "no CID: front door count" "$(grep "coaps:" "$TEST_TMP/plain-srv.log")"
fi


# Only the server with CID: the client did not offer one, nothing moves;
# the session is lost at the rebinding and resumed.
run_case server_only "" 8
check_eq "server-only CID: not negotiated, no move" 0 "$MOVED"
check_eq "server-only CID: the session was started again" 2 "$HANDSHAKES"

# A tls12_cid record with a CID no session has (RFC 9146 6): dropped and
# counted, nothing answered, the server lives on.
start_dtls_server unknown --psk-default "$DEMO_KEY" -v info --cid 8
# type 25, DTLS 1.2, epoch 1, seq 5, CID 8 bytes, length 24, 24 bytes
rec=19fefd0001000000000005a1a2a3a4a5a6a7a80018$(printf '%048x' 0)
"$COAPS_BUILD_DIR/udp-send" -t 300 127.0.0.1 "$COAPS_PORT" "$rec" >"$TEST_TMP/u.out" 2>&1 || true
check_eq "unknown CID: no answer" "" "$(grep -v '^udp-send' "$TEST_TMP/u.out" || true)"
server_alive unknown && pass "unknown CID: server alive" || fail "unknown CID: server died"
stop_bg unknown
check_contains "unknown CID: counted" "unknown cid 1" "$(cat "$TEST_TMP/unknown.log")"

finish
