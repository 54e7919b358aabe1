#!/usr/bin/env bash
# test_coap_libcoap_client.sh - libcoap's coap-client-notls (Debian
# libcoap3-bin 4.3.1) against our coaps-server, on 127.0.0.1 and ::1, plus
# IPv4 and IPv6 clients of one dual-stack ([::]) server.
# Checks RFC 7252 GET/PUT and response codes, RFC 7641 observe, RFC 7959
# Block2/Block1, RFC 6690 /.well-known/core.
set -euo pipefail
. "${COAPS_SOURCE_DIR:?}/scripts/lib/common.sh"
need_program coap-client-notls

CLIENT=(timeout 20 coap-client-notls -B 10)

# get URI [ARGS...]: payload on stdout, diagnostics (e.g. "4.04") in $TEST_TMP/err
coap() { "${CLIENT[@]}" "$@" 2>"$TEST_TMP/err" || true; }
err() { cat "$TEST_TMP/err"; }

expected_large() {
    local i
    for ((i = 0; i < 64; i++)); do printf 'line %04d abcdefghijklmnopqrstuvwxyz\n' "$i"; done
}

run_cases() { # $1 = label, $2 = host part of the URI ("127.0.0.1" or "[::1]")
    local tag=$1 base="coap://$2:$SERVER_PORT"

    check_eq "$tag GET light initial" '{"status": true}' "$(coap -m get "$base/light")"

    coap -m put -t json -e '{"status": false, "brightness": 40}' "$base/light" >/dev/null
    check_eq "$tag PUT then GET" '{"status": false, "brightness": 40}' "$(coap -m get "$base/light")"

    # RFC 7641: an observer sees the state another client PUTs.
    start_bg "observer-$tag" timeout 20 coap-client-notls -s 5 -B 10 "$base/light"
    local obs=$LAST_PID
    sleep 1.5
    coap -m put -e '{"status": true, "scene": "observe"}' "$base/light" >/dev/null
    wait "$obs" || true
    check_contains "$tag observe sees initial state" '{"status": false, "brightness": 40}' \
        "$(cat "$TEST_TMP/observer-$tag.log")"
    check_contains "$tag observe sees PUT" '{"status": true, "scene": "observe"}' \
        "$(cat "$TEST_TMP/observer-$tag.log")"

    # RFC 7959 Block2 with 16-byte blocks.
    coap -m get -b 16 -o "$TEST_TMP/large.out" "$base/test/large" >/dev/null
    expected_large >"$TEST_TMP/large.want"
    if cmp -s "$TEST_TMP/large.want" "$TEST_TMP/large.out"; then pass "$tag Block2 -b 16 /test/large"
    else fail "$tag Block2 -b 16 /test/large" "$(head -c 200 "$TEST_TMP/large.out" 2>/dev/null)"; fi
    local wk
    wk=$(coap -m get -b 16 "$base/.well-known/core")
    check_contains "$tag Block2 /.well-known/core has </light>" '</light>' "$wk"

    # RFC 7959 Block1: several KiB up, read back.
    head -c 6000 /dev/urandom | base64 -w 76 >"$TEST_TMP/upload.in"
    coap -m put -b 64 -f "$TEST_TMP/upload.in" "$base/test/upload" >/dev/null
    check_eq "$tag Block1 PUT accepted" "" "$(err | grep -E '^[45]\.[0-9]{2}' || true)"
    coap -m get -o "$TEST_TMP/upload.out" "$base/test/upload" >/dev/null
    if cmp -s "$TEST_TMP/upload.in" "$TEST_TMP/upload.out"; then pass "$tag Block1 round trip"
    else fail "$tag Block1 round trip" "$(wc -c <"$TEST_TMP/upload.out" 2>/dev/null) bytes back"; fi

    # light limits: > 256 bytes -> 4.13 (block-wise or not), errors -> 4.00 / 4.15
    local big
    big="{\"pad\": \"$(head -c 300 /dev/zero | tr '\0' x)\"}"
    coap -m put -e "$big" "$base/light" >/dev/null
    check_contains "$tag PUT 300-byte state -> 4.13" "4.13" "$(err)"
    coap -m put -b 64 -e "$big" "$base/light" >/dev/null
    check_contains "$tag Block1 PUT 300-byte state -> 4.13" "4.13" "$(err)"
    coap -m put -e '{"status": ' "$base/light" >/dev/null
    check_contains "$tag PUT malformed JSON -> 4.00" "4.00" "$(err)"
    coap -m put -e '[true]' "$base/light" >/dev/null
    check_contains "$tag PUT non-object -> 4.00" "4.00" "$(err)"
    coap -m put "$base/light" >/dev/null
    check_contains "$tag PUT empty body -> 4.00" "4.00" "$(err)"
    coap -m put -t text/plain -e '{"status": true}' "$base/light" >/dev/null
    check_contains "$tag PUT text/plain -> 4.15" "4.15" "$(err)"
    check_eq "$tag state unchanged by rejected PUTs" '{"status": true, "scene": "observe"}' \
        "$(coap -m get "$base/light")"

    # RFC 6690 discovery
    wk=$(coap -m get "$base/.well-known/core")
    check_contains "$tag /.well-known/core lists </light>" '</light>' "$wk"
    check_contains "$tag /light is observable" 'obs' "$(tr ',' '\n' <<<"$wk" | grep '</light>')"
    check_contains "$tag /light ct=50" 'ct=50' "$(tr ',' '\n' <<<"$wk" | grep '</light>')"

    # RFC 7252 5.10.4: Accept text/plain cannot be served -> 4.06; json can.
    coap -m get -A 0 "$base/light" >/dev/null
    check_contains "$tag GET Accept text/plain -> 4.06" "4.06" "$(err)"
    check_eq "$tag GET Accept json" '{"status": true, "scene": "observe"}' \
        "$(coap -m get -A 50 "$base/light")"

    coap -m get "$base/no/such/thing" >/dev/null
    check_contains "$tag unknown path -> 4.04" "4.04" "$(err)"
    coap -m delete "$base/light" >/dev/null
    check_contains "$tag DELETE light -> 4.05" "4.05" "$(err)"
}

start_coaps_server server4 -A 127.0.0.1 --test-resources
run_cases ipv4 127.0.0.1
stop_bg server4

start_coaps_server server6 -A ::1 --test-resources
run_cases ipv6 '[::1]'
stop_bg server6

# Dual stack: one server bound to [::] answers IPv4 and IPv6 clients, and
# both see the same state.
start_coaps_server server46
coap -m put -e '{"status": false, "via": "ipv4"}' "coap://127.0.0.1:$SERVER_PORT/light" >/dev/null
check_eq "dual-stack IPv6 client sees IPv4 client's PUT" '{"status": false, "via": "ipv4"}' \
    "$(coap -m get "coap://[::1]:$SERVER_PORT/light")"
check_contains "dual-stack listening line" "listening on coap://[::]:$SERVER_PORT" \
    "$(cat "$TEST_TMP/server46.log")"
stop_bg server46

finish
