#!/usr/bin/env bash
# test_coap_dedup_load.sh - RFC 7252 4.5 under load: a CON POST to
# /test/counter sent twice with the same Message ID, 2 s apart, from the
# same peer, gets the identical response twice and increments the counter
# once, while 64 other sessions load the server with requests (thousands
# of messages in those 2 s, far more than the 128 entries the server's
# whole duplicate cache used to hold). Over coap:// (udp-send, one source
# port) and coaps:// (dtls-send, one DTLS session), idle and under load.
# A control run with --dedup-peers 16 (fewer than the loading sessions)
# must see the duplicate handled twice: the load does churn the table, so
# the passing runs mean something.
set -euo pipefail
. "${COAPS_SOURCE_DIR:?}/scripts/lib/common.sh"
. "$COAPS_SOURCE_DIR/tests/interop/coaps_test_lib.sh"
SEND=$COAPS_BUILD_DIR/udp-send
DSEND=$COAPS_BUILD_DIR/dtls-send
BENCH=$COAPS_BUILD_DIR/coaps-bench
for tool in "$SEND" "$DSEND" "$BENCH"; do [ -x "$tool" ] || die "$tool not built"; done

LOAD_SESSIONS=64
GAP_MS=2000

# post_hex MID: CON POST /test/counter with Message ID MID (4 hex digits),
# token 0xd1 (RFC 7252 3).
post_hex() { printf '4102%sd1b474657374%s' "$1" "07636f756e746572"; }

# payload_text HEX: the payload of a CoAP message in hex (after 0xff), as text.
payload_text() {
    local p=${1#*ff}
    [ "$p" != "$1" ] || return 0
    printf '%b' "$(sed 's/../\\x&/g' <<<"$p")"
}

# counter: GET /test/counter over coap://, the value as text. A random
# Message ID: a new source port that happened to be an earlier one's must
# not get that one's cached reply. Its hex digits are decimal ones: an
# "ff" in the echoed Message ID would pass for the payload marker in
# payload_text (it did, once in a few hundred runs).
counter() {
    local get
    get=$(printf '4101%04dd2b47465737407636f756e746572' "$((RANDOM % 10000))")
    payload_text "$(timeout 10 "$SEND" -c 1 127.0.0.1 "$SERVER_PORT" "$get" | head -n 1)"
}

# start_load NAME SCHEME PORT: LOAD_SESSIONS sessions, one CON GET /light
# outstanding each, for 5 s; its JSON line in $TEST_TMP/NAME.log.
start_load() {
    start_bg "$1" timeout 60 "$BENCH" requests --scheme "$2" --port "$3" \
        --sessions "$LOAD_SESSIONS" --window 1 --duration 5 --psk-key "$DEMO_KEY" --json
    LOAD_PID=$LAST_PID
    sleep 1.5 # sessions set up (handshakes for coaps) and running
}

# check_load NAME: the load ran and sent far more than 128 requests.
check_load() {
    wait "$LOAD_PID" || true
    local n
    n=$(grep -o '"requests": *[0-9]*' "$TEST_TMP/$1.log" | grep -o '[0-9]*$' || echo 0)
    if [ "${n:-0}" -gt 1000 ]; then pass "$1: $LOAD_SESSIONS sessions loaded the server ($n requests)"
    else fail "$1: $LOAD_SESSIONS sessions loaded the server" "$(cat "$TEST_TMP/$1.log")"; fi
}

# resend NAME SCHEME MID: the POST twice, GAP_MS apart, from one peer;
# its two replies (hex lines) in $TEST_TMP/NAME.out.
resend() {
    local hex
    hex=$(post_hex "$3")
    if [ "$2" = coap ]; then
        timeout 20 "$SEND" -n 2 -i "$GAP_MS" -c 1 -t 1500 127.0.0.1 "$SERVER_PORT" "$hex" \
            >"$TEST_TMP/$1.out" || true
    else
        timeout 30 "$DSEND" -n 2 -i "$GAP_MS" -c 1 -t 1500 -k "$DEMO_KEY" -u dedup \
            127.0.0.1 "$COAPS_PORT" "$hex" >"$TEST_TMP/$1.out" || true
    fi
}

# check_once NAME BEFORE: two identical 2.04 replies, the counter one up.
check_once() {
    local first second after
    first=$(sed -n 1p "$TEST_TMP/$1.out")
    second=$(sed -n 2p "$TEST_TMP/$1.out")
    after=$(counter)
    check_eq "$1: first reply is 2.04 Changed" 44 "${first:2:2}"
    check_eq "$1: the duplicate gets the identical reply" "$first" "$second"
    check_eq "$1: the counter was incremented once" "$(($2 + 1))" "$after"
    check_eq "$1: the reply carries the new count" "$after" "$(payload_text "$first")"
}

start_dtls_server dedup -A 127.0.0.1 --test-resources --psk-default "$DEMO_KEY" -v info
mid=1000
for scheme in coap coaps; do
    port=$SERVER_PORT
    [ "$scheme" = coaps ] && port=$COAPS_PORT
    for load in idle load; do
        name="$scheme-$load"
        before=$(counter)
        [ "$load" = load ] && start_load "$name-bench" "$scheme" "$port"
        resend "$name" "$scheme" "$mid"
        [ "$load" = load ] && check_load "$name-bench"
        check_once "$name" "$before"
        mid=$((mid + 1))
    done
done
server_alive dedup || fail "server still running"
stop_bg dedup
check_contains "the 4 duplicates counted" "duplicates 4)" \
    "$(grep 'stats:' "$TEST_TMP/dedup.log")"
check_contains "no live peer state evicted" "table full 0," "$(grep 'stats:' "$TEST_TMP/dedup.log")"

# Control: with fewer dedup slots than loading sessions the duplicate is
# forgotten within the 2 s (the oldest peer's state goes first), so it is
# handled again: this is what the load above did not manage to do.
start_dtls_server control -A 127.0.0.1 --test-resources --psk-default "$DEMO_KEY" \
    --dedup-peers 16 -v info
before=$(counter)
start_load control-bench coap "$SERVER_PORT"
resend control coap 2000
check_load control-bench
after=$(counter)
check_eq "control (--dedup-peers 16): the duplicate was handled again" "$((before + 2))" "$after"
stop_bg control
evicted=$(sed -n 's/.*stats:.*table full \([0-9]*\).*/\1/p' "$TEST_TMP/control.log")
if [ "${evicted:-0}" -gt 0 ]; then pass "control: live peers' state evicted ($evicted, table full)"
else fail "control: live peers' state evicted" "$(grep 'stats:' "$TEST_TMP/control.log")"; fi

finish
