#!/usr/bin/env bash
# test_coaps_fault.sh - coaps:// flows through the impairing relay
# (tests/tools/relay.c): loss, duplication, reordering and a small MTU
# between real clients and our coaps-server. They must complete, and the
# server's state must be right afterwards: every POST to /test/counter
# applied exactly once (RFC 7252 4.5: a retransmitted or duplicated CON is
# answered from the deduplication cache, not run again; RFC 6347 4.1.2.6:
# a replayed record is dropped), the last PUT of a sequence is the state.
set -euo pipefail
. "${COAPS_SOURCE_DIR:?}/scripts/lib/common.sh"
. "$COAPS_SOURCE_DIR/tests/interop/coaps_test_lib.sh"
need_program coap-client-openssl
RELAY=$COAPS_BUILD_DIR/relay
OUR=$COAPS_BUILD_DIR/coaps-client
[ -x "$RELAY" ] || die "$RELAY not built"

start_dtls_server srv -A 127.0.0.1 --psk-default "$DEMO_KEY" --test-resources
direct="coaps://127.0.0.1:$COAPS_PORT"
K=(-k "$DEMO_KEY" -u fault)

# start_relay NAME ARGS...: relay on a free port to the server; sets RPORT.
start_relay() {
    local name=$1; shift
    RPORT=$(free_udp_port)
    start_bg "$name" "$RELAY" -l "$RPORT" -s "127.0.0.1:$COAPS_PORT" "$@"
    wait_udp_port "$RPORT" 5 || die "relay $name did not start"
}

# relay_dropped NAME: datagrams the relay dropped (both directions), read
# from its counters after it stopped.
relay_dropped() {
    sed -n 's/^relay: [^:]*: [0-9]* seen, \([0-9]*\) dropped.*/\1/p' "$TEST_TMP/$1.log" |
        awk '{s += $1} END {print s + 0}'
}

# 1. Loss, duplication and reordering: 8 POSTs, each its own DTLS session.
start_relay lossy --seed 7 --loss 15 --dup 15 --reorder 20 --delay 80
ok=0
for i in $(seq 8); do
    if timeout 60 "$OUR" -B 45 "${K[@]}" -m post "coaps://127.0.0.1:$RPORT/test/counter" \
        >"$TEST_TMP/post.out" 2>"$TEST_TMP/post.err"; then
        ok=$((ok + 1))
    else
        log "POST $i failed: $(cat "$TEST_TMP/post.err")"
    fi
done
check_eq "8 POSTs through loss/dup/reorder completed" 8 "$ok"
check_eq "each POST applied exactly once" 8 \
    "$(timeout 20 "$OUR" -B 10 "${K[@]}" "$direct/test/counter" 2>/dev/null || true)"

# 2. A PUT sequence over one libcoap session each, then the final state.
for v in 1 2 3 4; do
    timeout 60 coap-client-openssl -B 40 "${K[@]}" -m put -t json \
        -e "{\"status\": true, \"seq\": $v}" "coaps://127.0.0.1:$RPORT/light" >/dev/null 2>&1 || true
done
check_eq "PUT sequence through the lossy relay: last value wins" '{"status": true, "seq": 4}' \
    "$(timeout 20 "$OUR" -B 10 "${K[@]}" "$direct/light" 2>/dev/null || true)"

# 3. Block2 and Block1 through the same impairments.
timeout 130 "$OUR" -B 120 "${K[@]}" -b 256 -o "$TEST_TMP/large.out" "coaps://127.0.0.1:$RPORT/test/large" \
    2>"$TEST_TMP/large.err" || true
expected_large >"$TEST_TMP/large.want"
if cmp -s "$TEST_TMP/large.want" "$TEST_TMP/large.out"; then pass "Block2 -b 256 through the lossy relay"
else fail "Block2 -b 256 through the lossy relay" "$(cat "$TEST_TMP/large.err")"; fi
head -c 1500 /dev/urandom | base64 -w 76 >"$TEST_TMP/up.in"
timeout 130 "$OUR" -B 120 "${K[@]}" -m put -b 256 -f "$TEST_TMP/up.in" "coaps://127.0.0.1:$RPORT/test/upload" \
    >/dev/null 2>"$TEST_TMP/up.err" || true
timeout 20 "$OUR" -B 10 "${K[@]}" -o "$TEST_TMP/up.out" "$direct/test/upload" 2>/dev/null || true
if cmp -s "$TEST_TMP/up.in" "$TEST_TMP/up.out"; then pass "Block1 through the lossy relay, stored once and whole"
else fail "Block1 through the lossy relay" "$(cat "$TEST_TMP/up.err")"; fi

# 4. Observe through the impairments: notifications arrive on the
# observer's session. They are NON (RFC 7641 4.5 lets a server send most as
# NON), so one can be lost for good: three changes, one must get through.
start_bg observer timeout 40 "$OUR" -B 20 "${K[@]}" -s 12 "coaps://127.0.0.1:$RPORT/light"
sleep 3
for v in 1 2 3; do
    timeout 20 "$OUR" -B 10 "${K[@]}" -m put -t json -e "{\"status\": false, \"seq\": \"obs$v\"}" \
        "$direct/light" >/dev/null 2>&1 || true
    sleep 1
done
wait "$LAST_PID" || true
check_contains "observe through the lossy relay sees a PUT" '"seq": "obs' \
    "$(cat "$TEST_TMP/observer.log")"
stop_bg lossy
dropped=$(relay_dropped lossy)
if [ "$dropped" -gt 0 ]; then pass "the relay did drop datagrams ($dropped): the test means something"
else fail "the relay did drop datagrams" "$(cat "$TEST_TMP/lossy.log")"; fi

# 5. A 300-byte MTU (oversized datagrams dropped by the relay): PSK
# handshake flights are small; block-wise with 64-byte blocks fits.
start_relay mtu --mtu 300
timeout 60 "$OUR" -B 30 "${K[@]}" -b 64 -o "$TEST_TMP/mtu.out" "coaps://127.0.0.1:$RPORT/test/large" \
    2>"$TEST_TMP/mtu.err" || true
if cmp -s "$TEST_TMP/large.want" "$TEST_TMP/mtu.out"; then pass "Block2 -b 64 through a 300-byte MTU"
else fail "Block2 -b 64 through a 300-byte MTU" "$(cat "$TEST_TMP/mtu.err")"; fi
timeout 60 "$OUR" -B 30 "${K[@]}" -m post "coaps://127.0.0.1:$RPORT/test/counter" >/dev/null 2>&1 || true
check_eq "POST through the MTU relay applied once" 9 \
    "$(timeout 20 "$OUR" -B 10 "${K[@]}" "$direct/test/counter" 2>/dev/null || true)"
# control: 1024-byte blocks do not fit, so the relay is really enforcing
if timeout 30 "$OUR" -B 4 "${K[@]}" -o /dev/null "coaps://127.0.0.1:$RPORT/test/large" 2>/dev/null; then
    fail "control: 1024-byte blocks through a 300-byte MTU must fail"
else pass "control: 1024-byte blocks through a 300-byte MTU fail"; fi
stop_bg mtu

if server_alive srv; then pass "server alive"; else fail "server alive"; fi
finish
