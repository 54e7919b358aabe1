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
stop_bg libcoap-debug

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

finish
