#!/usr/bin/env bash
# test_coap_our_client.sh - our coaps-client against libcoap's example
# server coap-server-notls (Debian libcoap3-bin 4.3.1) on 127.0.0.1 and ::1.
# Checks GET, PUT (Block1), block-wise GET (RFC 7959 Block2 with -b 16),
# observe of /time (RFC 7641), error codes and exit status, and our own
# coaps-server for the option-splitting cases libcoap's server cannot show.
set -euo pipefail
. "${COAPS_SOURCE_DIR:?}/scripts/lib/common.sh"
need_program coap-server-notls

OUR=(timeout 30 "$COAPS_BUILD_DIR/coaps-client" -B 10)

# ours ARGS...: stdout to $TEST_TMP/out, stderr to $TEST_TMP/err, exit status in $RC
ours() {
    RC=0
    "${OUR[@]}" "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err" || RC=$?
}

start_libcoap_server() { # $1 = bind address
    local try
    for try in 1 2 3 4 5; do
        LPORT=$(free_udp_port)
        start_bg "libcoap-$1" coap-server-notls -p "$LPORT" -A "$1" -v 4
        if wait_udp_port "$LPORT" 10; then return 0; fi
        log "coap-server-notls did not start (try $try): $(cat "$TEST_TMP/libcoap-$1.log")"
        kill "$LAST_PID" 2>/dev/null || true
    done
    die "could not start coap-server-notls"
}

run_cases() { # $1 = tag, $2 = bind address, $3 = URI host
    local tag=$1 base
    start_libcoap_server "$2"
    base="coap://$3:$LPORT"

    ours "$base/"
    check_eq "$tag GET / exit 0" 0 "$RC"
    check_contains "$tag GET / payload" "libcoap" "$(cat "$TEST_TMP/out")"

    ours -b 16 "$base/"
    check_eq "$tag Block2 -b 16 GET / exit 0" 0 "$RC"
    local full
    full=$("${OUR[@]}" "$base/" 2>/dev/null || true)
    check_eq "$tag Block2 -b 16 body equals the one-shot body" "$full" "$(cat "$TEST_TMP/out")"

    # Block1 PUT of several KiB to /example_data, then Block2 GET it back.
    head -c 3000 /dev/urandom | base64 -w 60 >"$TEST_TMP/data.in"
    ours -m put -b 64 -t text/plain -f "$TEST_TMP/data.in" "$base/example_data"
    check_eq "$tag Block1 PUT /example_data exit 0" 0 "$RC"
    ours -b 16 "$base/example_data"
    check_eq "$tag Block2 GET /example_data exit 0" 0 "$RC"
    if cmp -s "$TEST_TMP/data.in" "$TEST_TMP/out"; then pass "$tag example_data round trip"
    else fail "$tag example_data round trip" "$(wc -c <"$TEST_TMP/out") bytes back"; fi

    ours -m put -e 'small' "$base/example_data"
    check_eq "$tag PUT small exit 0" 0 "$RC"
    ours "$base/example_data"
    check_eq "$tag GET small back" "small" "$(cat "$TEST_TMP/out")"

    # RFC 7641: /time notifies every second.
    ours -s 4 "$base/time"
    check_eq "$tag observe /time exit 0" 0 "$RC"
    local lines
    lines=$(grep -c . "$TEST_TMP/out" || true)
    if [ "$lines" -ge 3 ]; then pass "$tag observe /time >= 3 notifications ($lines)"
    else fail "$tag observe /time >= 3 notifications" "got $lines: $(cat "$TEST_TMP/out")"; fi

    # RFC 7252 5.2.2: /async?1 acknowledges at once and answers a second later.
    ours "$base/async?1"
    check_eq "$tag separate response exit 0" 0 "$RC"
    check_eq "$tag separate response payload" "done" "$(cat "$TEST_TMP/out")"

    ours -N "$base/"
    check_eq "$tag NON GET exit 0" 0 "$RC"

    ours -T 0xcafe "$base/"
    check_eq "$tag GET with -T token exit 0" 0 "$RC"

    ours "$base/no/such/resource"
    if [ "$RC" -ne 0 ]; then pass "$tag unknown path exits non-zero"; else fail "$tag unknown path exits non-zero"; fi
    check_contains "$tag unknown path prints 4.04" "4.04 Not Found" "$(cat "$TEST_TMP/err")"

    stop_bg "libcoap-$2"
}

run_cases ipv4 127.0.0.1 127.0.0.1
run_cases ipv6 ::1 '[::1]'

# Against our own server: name resolution + Uri-Host, percent-decoding,
# and exit status of 4.xx.
start_coaps_server ours --test-resources
base="coap://localhost:$SERVER_PORT"
ours "$base/light"
check_eq "GET via host name" '{"status": true}' "$(cat "$TEST_TMP/out")"
ours "coap://127.0.0.1:$SERVER_PORT/%6c%69%67%68%74"
check_eq "percent-encoded path" '{"status": true}' "$(cat "$TEST_TMP/out")"
ours -m put -t json -e '{"status": false}' "coap://[::1]:$SERVER_PORT/light"
check_eq "PUT light exit 0" 0 "$RC"
ours -m put -t json -e 'nope' "coap://[::1]:$SERVER_PORT/light"
check_eq "PUT malformed exit 1" 1 "$RC"
check_contains "PUT malformed prints 4.00" "4.00 Bad Request" "$(cat "$TEST_TMP/err")"
# RFC 7641 between our two programs: the observer prints each state.
start_bg our-observer timeout 20 "$COAPS_BUILD_DIR/coaps-client" -s 4 "coap://[::1]:$SERVER_PORT/light"
obs_pid=$LAST_PID
sleep 1.5
ours -m put -e '{"status": true, "n": 1}' "coap://127.0.0.1:$SERVER_PORT/light"
sleep 0.5
ours -m put -e '{"status": false, "n": 2}' "coap://127.0.0.1:$SERVER_PORT/light"
rc=0; wait "$obs_pid" || rc=$?
check_eq "our observer exit 0" 0 "$rc"
check_eq "our observer prints one line per state" \
    "$(printf '%s\n' '{"status": false}' '{"status": true, "n": 1}' '{"status": false, "n": 2}')" \
    "$(grep -v '^coaps-client' "$TEST_TMP/our-observer.log")"
ours -b 16 -o "$TEST_TMP/large.out" "coap://127.0.0.1:$SERVER_PORT/test/large"
check_eq "-o writes the payload to the file" "$(for ((i = 0; i < 64; i++)); do
    printf 'line %04d abcdefghijklmnopqrstuvwxyz\n' "$i"; done)" "$(cat "$TEST_TMP/large.out")"
check_eq "-o leaves stdout empty" "" "$(cat "$TEST_TMP/out")"
ours -b 16 "coap://127.0.0.1:$SERVER_PORT/test/large"
check_eq "Block2 -b 16 from our server" 2368 "$(wc -c <"$TEST_TMP/out")"

# RFC 7252 6.4 as libcoap's server sees it (its -v 7 log prints each
# request's options): %2F and %26 stay inside one segment, empty segments
# count, a host name becomes Uri-Host, an IP literal does not.
# Bind where "localhost" resolves first (getaddrinfo order, as our client).
LOCALHOST_ADDR=$(getent ahosts localhost | awk 'NR == 1 { print $1 }')
case "$LOCALHOST_ADDR" in 127.0.0.1|::1) ;; *) die "localhost resolves to '$LOCALHOST_ADDR'" ;; esac
LPORT=$(free_udp_port)
start_bg libcoap-debug coap-server-notls -p "$LPORT" -A "$LOCALHOST_ADDR" -v 7
wait_udp_port "$LPORT" 10 || die "coap-server-notls -v 7 did not start"
ours -B 3 "coap://$([ "$LOCALHOST_ADDR" = ::1 ] && echo '[::1]' || echo 127.0.0.1):$LPORT/a%2Fb/c?x%26y=1&z"
ours -B 3 "coap://localhost:$LPORT/a//b?q"
sleep 0.3
check_contains "Uri-Path/Uri-Query from percent-encoded URI" \
    "[ Uri-Path:a/b, Uri-Path:c, Uri-Query:x&y=1, Uri-Query:z ]" "$(cat "$TEST_TMP/libcoap-debug.log")"
check_contains "Uri-Host for a name, empty path segment kept" \
    "[ Uri-Host:localhost, Uri-Path:a, Uri-Path:, Uri-Path:b, Uri-Query:q ]" \
    "$(cat "$TEST_TMP/libcoap-debug.log")"

# --repeat 3 --interval 200: three requests from one socket, each a new
# Message ID and token (libcoap's -v 7 log prints "i:MID {token}" per
# request and "new incoming session" per client address and port).
ours --repeat 3 --interval 200 "coap://localhost:$LPORT/"
check_eq "--repeat 3 exit 0" 0 "$RC"
check_eq "--repeat 3: three responses" 3 "$(grep -c 'This is a test server' "$TEST_TMP/out" || true)"
sleep 0.3
grep -E '^v:1 t:CON c:GET i:[0-9a-f]+ \{[0-9a-f]*\} \[ Uri-Host:localhost \]$' \
    "$TEST_TMP/libcoap-debug.log" >"$TEST_TMP/repeat.req" || true
check_eq "--repeat 3: three requests reached the server" 3 "$(wc -l <"$TEST_TMP/repeat.req")"
check_eq "--repeat 3: three Message IDs" 3 "$(awk '{print $4}' "$TEST_TMP/repeat.req" | sort -u | wc -l)"
check_eq "--repeat 3: three tokens" 3 "$(awk '{print $5}' "$TEST_TMP/repeat.req" | sort -u | wc -l)"
check_eq "--repeat 3: one client address and port (the earlier runs had 2)" 3 \
    "$(grep -c 'new incoming session' "$TEST_TMP/libcoap-debug.log" || true)"
stop_bg libcoap-debug

# --repeat against our server: each response on its own line, a PUT
# repeated, and a 4.04 reported for each request with exit 1.
start_coaps_server repeat -v debug
ours --repeat 3 --interval 200 "coap://127.0.0.1:$SERVER_PORT/light"
check_eq "ours --repeat 3 exit 0" 0 "$RC"
check_eq "ours --repeat 3: one response per line" \
    "$(printf '%s\n' '{"status": true}' '{"status": true}' '{"status": true}')" "$(cat "$TEST_TMP/out")"
check_eq "ours --repeat 3: three requests from one source port" 1 \
    "$(grep -o 'rx [0-9]* bytes from 127.0.0.1:[0-9]*' "$TEST_TMP/repeat.log" | awk '{print $5}' |
        sort -u | wc -l)"
ours --repeat 2 -m put -t json -e '{"status": false}' "coap://127.0.0.1:$SERVER_PORT/light"
check_eq "ours --repeat 2 PUT exit 0" 0 "$RC"
ours "coap://127.0.0.1:$SERVER_PORT/light"
check_eq "ours --repeat 2 PUT took effect" '{"status": false}' "$(cat "$TEST_TMP/out")"
# -K 1: a CoAP ping (an empty CON, 4 bytes) while idle, answered with a
# Reset (4 bytes).
ours -v info -K 1 --repeat 2 --interval 2500 "coap://127.0.0.1:$SERVER_PORT/light"
check_eq "ours -K 1 exit 0" 0 "$RC"
pings=$(grep -c 'keep-alive ping: answered' "$TEST_TMP/err" || true)
if [ "$pings" -ge 1 ]; then pass "ours -K 1: pings answered ($pings)"
else fail "ours -K 1: pings answered" "$(cat "$TEST_TMP/err")"; fi
check_eq "ours -K 1: the server got each ping and sent each Reset" \
    "$pings $pings" "$(grep -c 'rx 4 bytes' "$TEST_TMP/repeat.log" || true) $(grep -c 'tx 4 bytes' \
        "$TEST_TMP/repeat.log" || true)"
ours --repeat 2 "coap://127.0.0.1:$SERVER_PORT/no/such"
check_eq "ours --repeat 2 of a 4.04 exit 1" 1 "$RC"
check_eq "ours --repeat 2 of a 4.04: one line each" 2 "$(grep -c '4.04 Not Found' "$TEST_TMP/err" || true)"
stop_bg repeat

# Timeouts and bad usage: one line, non-zero exit.
QPORT=$(free_udp_port)
RC=0; timeout 20 "$COAPS_BUILD_DIR/coaps-client" -B 2 "coap://127.0.0.1:$QPORT/x" \
    >/dev/null 2>"$TEST_TMP/err" || RC=$?
check_eq "nobody listening exits 1" 1 "$RC"
ours "coaps://127.0.0.1/light"
check_eq "coaps:// without credentials exits 2" 2 "$RC"
check_contains "coaps:// message" "coaps:// needs credentials" "$(cat "$TEST_TMP/err")"
ours -m frobnicate "coap://127.0.0.1/light"
check_eq "bad method exits 2" 2 "$RC"
ours "coap://127.0.0.1/light#frag"
check_eq "fragment exits 2" 2 "$RC"
ours -b 48 "coap://127.0.0.1/light"
check_eq "bad block size exits 2" 2 "$RC"
# --repeat with a timeout: each request waits -B, then the next goes.
RC=0; timeout 20 "$COAPS_BUILD_DIR/coaps-client" -B 1 --repeat 2 "coap://127.0.0.1:$QPORT/x" \
    >/dev/null 2>"$TEST_TMP/err" || RC=$?
check_eq "--repeat 2, nobody listening, exits 1" 1 "$RC"
check_eq "--repeat 2, nobody listening: one timeout line each" 2 \
    "$(grep -c 'no response within 1 s' "$TEST_TMP/err" || true)"
for bad in 0 -1 x 1000001 ''; do
    ours --repeat "$bad" "coap://127.0.0.1/light"
    check_eq "--repeat '$bad' exits 2" 2 "$RC"
    check_eq "--repeat '$bad': one line" "coaps-client: --repeat '$bad': not a number 1-1000000 (see coaps-client -h)" \
        "$(cat "$TEST_TMP/err")"
done
ours --interval 1.5 "coap://127.0.0.1/light"
check_eq "--interval 1.5 exits 2" 2 "$RC"
check_contains "--interval 1.5: one line" "--interval '1.5': not a number 0-3600000" "$(cat "$TEST_TMP/err")"
ours --repeat 2 -s 3 "coap://127.0.0.1/light"
check_eq "--repeat with -s exits 2" 2 "$RC"
check_contains "--repeat with -s: one line" "--repeat cannot be combined with -s" "$(cat "$TEST_TMP/err")"
ours -K 1.5 "coap://127.0.0.1/light"
check_eq "-K 1.5 exits 2" 2 "$RC"
check_contains "-K 1.5: one line" "-K '1.5': not a number of seconds 0-86400" "$(cat "$TEST_TMP/err")"
ours --cid 4 "coap://127.0.0.1/light"
check_eq "--cid with coap:// exits 2" 2 "$RC"
check_contains "--cid with coap://: one line" "--cid needs a coaps:// URI" "$(cat "$TEST_TMP/err")"
for bad in 17 -1 x; do
    ours --cid "$bad" -k key -u me "coaps://127.0.0.1/light"
    check_eq "--cid '$bad' exits 2" 2 "$RC"
    check_eq "--cid '$bad': one line" "coaps-client: --cid '$bad': not a number 0-16 (see coaps-client -h)" \
        "$(cat "$TEST_TMP/err")"
done
ours "coap://127.0.0.1/light" --repeat
check_eq "--repeat without a value exits 2" 2 "$RC"
check_eq "--repeat without a value: one line" \
    "coaps-client: option --repeat needs a value (see coaps-client -h)" "$(cat "$TEST_TMP/err")"

finish
