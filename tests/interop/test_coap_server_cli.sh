#!/usr/bin/env bash
# test_coap_server_cli.sh - coaps-server's and coaps-client's command lines:
# bad flags give one clear line and a non-zero exit, a port in use is
# named, -h works, and SIGTERM/SIGINT end the server cleanly (exit 0).
set -euo pipefail
. "${COAPS_SOURCE_DIR:?}/scripts/lib/common.sh"

SERVER="$COAPS_BUILD_DIR/coaps-server"
CLIENT="$COAPS_BUILD_DIR/coaps-client"

# expect_error NAME EXIT_CODE MESSAGE CMD...: CMD exits EXIT_CODE and its
# stderr is exactly one line containing MESSAGE.
expect_error() {
    local name=$1 want_rc=$2 msg=$3; shift 3
    local rc=0
    timeout 10 "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err" || rc=$?
    check_eq "$name: exit $want_rc" "$want_rc" "$rc"
    check_eq "$name: one line" 1 "$(wc -l <"$TEST_TMP/err")"
    check_contains "$name: message" "$msg" "$(cat "$TEST_TMP/err")"
}

expect_error "server -p abc" 2 "coaps-server: -p 'abc': not a port number" "$SERVER" -p abc
expect_error "server -p 70000" 2 "-p '70000'" "$SERVER" -p 70000
expect_error "server -v loud" 2 "-v 'loud': not a log level" "$SERVER" -v loud
expect_error "server --max-observers 0" 2 "--max-observers '0'" "$SERVER" --max-observers 0
expect_error "server unknown flag" 2 "unknown option '--frobnicate'" "$SERVER" --frobnicate
expect_error "server --rcvbuf 1K" 2 "--rcvbuf '1K': not a size of 4K-1024M" "$SERVER" --rcvbuf 1K
expect_error "server --rcvbuf 2G" 2 "--rcvbuf '2G'" "$SERVER" --rcvbuf 2G
expect_error "server --dedup-peers 0" 2 "--dedup-peers '0': not a number 1-65534" \
    "$SERVER" --dedup-peers 0
expect_error "server --max-handshakes 65537" 2 "--max-handshakes '65537': not a number 1-65536" \
    "$SERVER" --max-handshakes 65537
expect_error "server --max-cert-handshakes 0" 2 "--max-cert-handshakes '0': not a number 1-4096" \
    "$SERVER" --max-cert-handshakes 0
expect_error "server missing value" 2 "option -p needs a value" "$SERVER" -p
expect_error "server stray argument" 2 "unexpected argument 'extra'" "$SERVER" extra
expect_error "server -A unresolvable" 1 "cannot resolve -A 'no-such-host.invalid'" \
    "$SERVER" -A no-such-host.invalid -p 0

rc=0; timeout 10 "$SERVER" -h >"$TEST_TMP/out" 2>&1 || rc=$?
check_eq "server -h exit 0" 0 "$rc"
check_contains "server -h lists -A" "-A address" "$(cat "$TEST_TMP/out")"
check_contains "server -h lists --rcvbuf" "--rcvbuf BYTES" "$(cat "$TEST_TMP/out")"
check_contains "server -h lists --dedup-peers" "--dedup-peers N" "$(cat "$TEST_TMP/out")"
check_contains "server -h gives the handshake pool's default" "(default 4096," "$(cat "$TEST_TMP/out")"
check_contains "server -h lists --max-cert-handshakes" "--max-cert-handshakes N" "$(cat "$TEST_TMP/out")"

# A port in use is named in the error.
start_coaps_server first
expect_error "server port in use" 1 \
    "coaps-server: cannot bind [::]:$SERVER_PORT: Address already in use" "$SERVER" -p "$SERVER_PORT"
expect_error "server port in use on 127.0.0.1" 1 \
    "coaps-server: cannot bind 127.0.0.1:$SERVER_PORT: Address already in use" \
    "$SERVER" -A 127.0.0.1 -p "$SERVER_PORT"

# SIGTERM and SIGINT: clean shutdown, exit 0.
for sig in TERM INT; do
    kill -"$sig" "$SERVER_PID"
    rc=0
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    wait "$SERVER_PID" || rc=$?
    check_eq "server exits 0 on SIG$sig" 0 "$rc"
    [ "$sig" = TERM ] && start_coaps_server second -v info
done
check_contains "server logs its stats at -v info" "stats:" "$(cat "$TEST_TMP/second.log")"
check_contains "server logs kernel drops at -v info" "kernel dropped 0)" "$(cat "$TEST_TMP/second.log")"
# --rcvbuf: root gets it (SO_RCVBUFFORCE); others get net.core.rmem_max
# at most, and a warning saying so when that is less.
start_coaps_server buffered --rcvbuf 512K -v info
if [ "$(id -u)" = 0 ]; then
    check_contains "--rcvbuf 512K is what the socket gets (root)" \
        "coap://: receive buffer 512 KiB" "$(cat "$TEST_TMP/buffered.log")"
elif [ "$(cat /proc/sys/net/core/rmem_max)" -lt 524288 ]; then
    check_contains "--rcvbuf 512K over rmem_max: a warning" "less than asked" \
        "$(cat "$TEST_TMP/buffered.log")"
fi
stop_bg buffered

# --max-observers 1: the first observer is registered; a second one gets
# its answer without an Observe option (RFC 7641 4.1: the server may decline)
# so our client prints it once and ends at once instead of after -s.
# (one worker: with workers each would get its share, at least one)
start_coaps_server limited --workers 1 --max-observers 1
start_bg observer1 timeout 20 "$CLIENT" -s 4 "coap://127.0.0.1:$SERVER_PORT/light"
obs1=$LAST_PID
sleep 1
start=$SECONDS
rc=0; timeout 10 "$CLIENT" -s 4 "coap://127.0.0.1:$SERVER_PORT/light" >"$TEST_TMP/out" 2>&1 || rc=$?
check_eq "second observer over the limit: exit 0" 0 "$rc"
check_eq "second observer over the limit: one answer" '{"status": true}' "$(cat "$TEST_TMP/out")"
if [ $((SECONDS - start)) -lt 3 ]; then pass "second observer not registered (ended early)"
else fail "second observer not registered (ended early)" "took $((SECONDS - start)) s"; fi
rc=0; wait "$obs1" || rc=$?
check_eq "first observer ran its course" 0 "$rc"

expect_error "client no URI" 2 "missing URI" "$CLIENT"
expect_error "client two URIs" 2 "more than one URI" "$CLIENT" coap://a/ coap://b/
expect_error "client -t unknown" 2 "-t 'yaml'" "$CLIENT" -t yaml coap://127.0.0.1/
expect_error "client -T too long" 2 "-T '123456789'" "$CLIENT" -T 123456789 coap://127.0.0.1/
expect_error "client -s 0" 2 "-s '0'" "$CLIENT" -s 0 coap://127.0.0.1/
expect_error "client -f missing" 2 "-f '$TEST_TMP/none'" "$CLIENT" -f "$TEST_TMP/none" coap://127.0.0.1/
expect_error "client -o unwritable" 2 "-o '$TEST_TMP/no/such/dir'" \
    "$CLIENT" -o "$TEST_TMP/no/such/dir" coap://127.0.0.1/
expect_error "client bad URI" 2 "bad URI 'http://x/'" "$CLIENT" http://x/
expect_error "client unresolvable host" 1 "cannot resolve 'no-such-host.invalid'" \
    "$CLIENT" coap://no-such-host.invalid/light
rc=0; timeout 10 "$CLIENT" -h >"$TEST_TMP/out" 2>&1 || rc=$?
check_eq "client -h exit 0" 0 "$rc"

finish
