#!/bin/bash
# test_dtls_fault.sh - real sockets through the impairing relay
# (tests/tools/relay.c): 10 concurrent dtls-echo handshakes with 20% loss
# each way, duplication and reordering must all complete and echo; with a
# 256-byte MTU enforced by the relay (oversized datagrams dropped) a
# --mtu 256 session completes, and a control run without --mtu fails.
# The in-memory twin with 100 handshakes at 30% loss is
# tests/dtls/test_engine_fault.c.
set -u
BUILD=${COAPS_BUILD_DIR:?COAPS_BUILD_DIR not set}
ECHO_BIN=$BUILD/dtls-echo
RELAY=$BUILD/relay
for b in "$ECHO_BIN" "$RELAY"; do [ -x "$b" ] || { echo "FAIL: $b not built"; exit 1; }; done
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}

WORK=$(mktemp -d /tmp/coaps-dtls-fault.XXXXXX)
PIDS=()
stop_pid() {
    kill "$1" 2>/dev/null
    for _ in $(seq 30); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    return 0
}
cleanup() {
    for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && stop_pid "$p"; done
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_udp() {
    for _ in $(seq 50); do
        ss -Hlun "sport = :$1" 2>/dev/null | grep -q . && return 0
        sleep 0.1
    done
    return 1
}

FAILS=0
PSK=fault-client:0x666175c74d70736b
SPORT=$(free_port)
"$ECHO_BIN" -s -A 127.0.0.1 -p "$SPORT" --psk "$PSK" --mtu 256 2>"$WORK/server.err" &
PIDS+=($!)
wait_udp "$SPORT" || { echo "FAIL: dtls-echo server did not start"; exit 1; }

# --- 10 concurrent handshakes through a lossy relay ----------------------------
RPORT=$(free_port)
"$RELAY" -l "$RPORT" -s "127.0.0.1:$SPORT" --seed 42 --loss 20 --dup 10 --reorder 30 \
    --delay 300 2>"$WORK/relay.err" &
RELAY_PID=$!
PIDS+=($RELAY_PID)
wait_udp "$RPORT" || { echo "FAIL: relay did not start"; exit 1; }
CPIDS=()
for i in $(seq 10); do
    # lines are resent by nobody: a lost application record is lost, so
    # the client sends its line several times and needs one echo back
    (for _ in 1 2 3 4 5; do echo "fault line $i"; done) |
        timeout 90 "$ECHO_BIN" -c 127.0.0.1 -p "$RPORT" --psk "$PSK" --timeout 80000 \
        --wait 3000 >"$WORK/c$i.out" 2>"$WORK/c$i.err" &
    CPIDS+=($!)
done
ok=0
for i in $(seq 10); do
    wait "${CPIDS[$((i - 1))]}"
    # exit status 1 with "N of 5 lines echoed" is fine: records may be lost;
    # a handshake failure is not
    if grep -q "handshake failed" "$WORK/c$i.err" || ! grep -qx "fault line $i" "$WORK/c$i.out"; then
        echo "FAIL: lossy client $i: $(cat "$WORK/c$i.err")"
        FAILS=$((FAILS + 1))
    else
        ok=$((ok + 1))
    fi
done
stop_pid "$RELAY_PID"
cat "$WORK/relay.err"
for d in client-\>server server-\>client; do
    dropped=$(sed -n "s/^relay: $d: [0-9]* seen, \([0-9]*\) dropped.*/\1/p" "$WORK/relay.err")
    if [ -z "$dropped" ] || [ "$dropped" -eq 0 ]; then
        echo "FAIL: the relay dropped nothing $d: the test proved nothing"
        FAILS=$((FAILS + 1))
    fi
done
echo "lossy relay: $ok of 10 handshakes completed and echoed"

# --- MTU enforced by the relay -------------------------------------------------
LONG_SNI=$(printf 'a%.0s' $(seq 200)).example
RPORT=$(free_port)
"$RELAY" -l "$RPORT" -s "127.0.0.1:$SPORT" --mtu 256 2>"$WORK/relay-mtu.err" &
RELAY_PID=$!
PIDS+=($RELAY_PID)
wait_udp "$RPORT" || { echo "FAIL: relay did not start"; exit 1; }
if echo "mtu line" | timeout 20 "$ECHO_BIN" -c 127.0.0.1 -p "$RPORT" --psk "$PSK" --mtu 256 \
    --sni "$LONG_SNI" --timeout 15000 >"$WORK/mtu.out" 2>"$WORK/mtu.err" &&
    grep -qx "mtu line" "$WORK/mtu.out"; then
    echo "PASS: --mtu 256 both ends through a relay dropping datagrams > 256 bytes"
else
    echo "FAIL: --mtu 256 through the MTU relay: $(cat "$WORK/mtu.err")"
    FAILS=$((FAILS + 1))
fi
# control: the client's 400-byte ClientHello is dropped by the relay
if echo "mtu line" | timeout 20 "$ECHO_BIN" -c 127.0.0.1 -p "$RPORT" --psk "$PSK" \
    --sni "$LONG_SNI" --timeout 4000 >/dev/null 2>"$WORK/ctl.err"; then
    echo "FAIL: control run without --mtu got through a 256-byte relay"
    FAILS=$((FAILS + 1))
elif grep -q "timeout" "$WORK/ctl.err"; then
    echo "PASS: control run without --mtu times out: $(cat "$WORK/ctl.err")"
else
    echo "FAIL: control run failed for another reason: $(cat "$WORK/ctl.err")"
    FAILS=$((FAILS + 1))
fi
stop_pid "$RELAY_PID"
cat "$WORK/relay-mtu.err"

[ "$FAILS" -eq 0 ] && echo "dtls fault: all passed"
[ "$FAILS" -eq 0 ]
