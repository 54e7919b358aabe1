#!/usr/bin/env bash
# test_coap_rx_drops.sh - datagrams the kernel drops at a full receive
# buffer are counted and shown: 1,000 sessions (coaps-bench requests, one
# CON GET outstanding each, as a fleet at NSTART = 1 sends) over coap://
# and coaps://, then the server's "kernel dropped" figures (SO_RXQ_OVFL /
# SO_MEMINFO) from its stats at exit, reported in the log.
#   - With the default receive buffer (4 MiB) nothing is dropped: 1,000
#     sessions have at most 1,000 requests (and their retransmissions) in
#     flight, far less than the buffer holds.
#   - A control run with --rcvbuf 4K (SO_RCVBUFFORCE: we run as root; else
#     the kernel's minimum) must drop, and the server must count it: the
#     counter is not a constant 0.
set -euo pipefail
. "${COAPS_SOURCE_DIR:?}/scripts/lib/common.sh"
. "$COAPS_SOURCE_DIR/tests/interop/coaps_test_lib.sh"
BENCH=$COAPS_BUILD_DIR/coaps-bench
[ -x "$BENCH" ] || die "$BENCH not built"
[ "$(ulimit -n)" -ge 1100 ] || ulimit -n 4096 2>/dev/null || die "need 1,100 file descriptors"

SESSIONS=1000

# load NAME SCHEME PORT: SESSIONS sessions for 5 s; JSON in $TEST_TMP/NAME.json.
load() {
    timeout 120 "$BENCH" requests --scheme "$2" --port "$3" --sessions "$SESSIONS" --window 1 \
        --duration 5 --psk-key "$DEMO_KEY" --json >"$TEST_TMP/$1.json" 2>"$TEST_TMP/$1.err" || true
    log "$1: $(cat "$TEST_TMP/$1.json") $(head -c 300 "$TEST_TMP/$1.err")"
}

jnum() { # FILE KEY: the number under KEY in a JSON line, or 0
    grep -o "\"$2\": *[0-9]*" "$1" | grep -o '[0-9]*$' || echo 0
}

# socket_stat NAME PORT FIELD: from the server's "socket ...:PORT: rx N
# (dropped D, kernel dropped K), ..." line at exit, FIELD rx or kernel.
socket_stat() {
    local line
    line=$(grep "socket .*:$2: rx" "$TEST_TMP/$1.log" || true)
    case $3 in
    rx) sed -n 's/.*: rx \([0-9]*\) .*/\1/p' <<<"$line" ;;
    kernel) sed -n 's/.*kernel dropped \([0-9]*\)).*/\1/p' <<<"$line" ;;
    esac
}

# 1. The default receive buffer: nothing dropped, coap:// and coaps://.
start_dtls_server fleet -A 127.0.0.1 --psk-default "$DEMO_KEY" --max-sessions 2000 -v info
check_contains "default receive buffer is 4 MiB" "coap://: receive buffer 4096 KiB" \
    "$(cat "$TEST_TMP/fleet.log")"
load fleet-coap coap "$SERVER_PORT"
load fleet-coaps coaps "$COAPS_PORT"
stop_bg fleet
for scheme in coap coaps; do
    port=$SERVER_PORT
    [ "$scheme" = coaps ] && port=$COAPS_PORT
    reqs=$(jnum "$TEST_TMP/fleet-$scheme.json" requests)
    setup=$(jnum "$TEST_TMP/fleet-$scheme.json" setup_ok)
    rx=$(socket_stat fleet "$port" rx)
    kernel=$(socket_stat fleet "$port" kernel)
    log "$scheme://, $SESSIONS sessions, default buffer: $reqs requests answered," \
        "server rx $rx, kernel dropped $kernel"
    if [ "$setup" -ge "$SESSIONS" ] && [ "$reqs" -gt "$SESSIONS" ]; then
        pass "$scheme://: $SESSIONS sessions ran ($reqs requests)"
    else
        fail "$scheme://: $SESSIONS sessions ran" "$(cat "$TEST_TMP/fleet-$scheme.json")"
    fi
    check_eq "$scheme://: kernel drops reported and none at the default buffer" 0 "${kernel:-none}"
done

# 2. Control: a 4 KiB buffer overflows, and the drops are counted.
start_dtls_server small -A 127.0.0.1 --psk-default "$DEMO_KEY" --rcvbuf 4K -v info
load small-coap coap "$SERVER_PORT"
stop_bg small
kernel=$(socket_stat small "$SERVER_PORT" kernel)
rx=$(socket_stat small "$SERVER_PORT" rx)
retrans=$(jnum "$TEST_TMP/small-coap.json" retransmits)
log "coap://, $SESSIONS sessions, --rcvbuf 4K: server rx $rx, kernel dropped $kernel," \
    "client retransmissions $retrans"
if [ "${kernel:-0}" -gt 0 ]; then pass "--rcvbuf 4K: kernel drops counted ($kernel)"
else fail "--rcvbuf 4K: kernel drops counted" "$(grep 'socket ' "$TEST_TMP/small.log")"; fi

finish
