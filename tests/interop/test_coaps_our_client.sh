#!/usr/bin/env bash
# test_coaps_our_client.sh - our coaps-client over coaps:// (DTLS 1.2 PSK,
# RFC 7252 9.1) against libcoap's coap-server-openssl and coap-server-gnutls
# (Debian libcoap3-bin 4.3.1, -k KEY -h HINT), then against our own server.
# Checks GET, Block2 (-b 16), Block1 PUT read back, observe of /time
# (RFC 7641), exit status, and one-line handshake failures: a wrong key
# (the libcoap servers drop the bad Finished: a timeout) and an unknown
# identity (our server: unknown_psk_identity, RFC 4279 2).
set -euo pipefail
. "${COAPS_SOURCE_DIR:?}/scripts/lib/common.sh"
. "$COAPS_SOURCE_DIR/tests/interop/coaps_test_lib.sh"
need_program coap-server-openssl
need_program coap-server-gnutls

OUR=(timeout 30 "$COAPS_BUILD_DIR/coaps-client" -B 10)

# ours ARGS...: stdout to $TEST_TMP/out, stderr to $TEST_TMP/err, exit status in $RC
ours() {
    RC=0
    "${OUR[@]}" "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err" || RC=$?
}

# libcoap binds coap:// on P and coaps:// on P+1 (UDP and TCP).
start_libcoap_dtls() { # TLS
    local try p
    for try in 1 2 3 4 5 6 7 8; do
        p=$(free_udp_port)
        [ -z "$(ss -Htuan "( sport = :$p or sport = :$((p + 1)) )" 2>/dev/null)" ] || continue
        start_bg "libcoap-$1" "coap-server-$1" -A 127.0.0.1 -p "$p" -k "$DEMO_KEY" -h "$DEMO_HINT" -v 4
        LPORT=$((p + 1))
        if wait_udp_port "$LPORT" 10; then return 0; fi
        log "coap-server-$1 did not start (try $try): $(cat "$TEST_TMP/libcoap-$1.log")"
        kill "$LAST_PID" 2>/dev/null || true
    done
    die "could not start coap-server-$1"
}

run_libcoap_cases() { # TLS
    local tls=$1 base
    start_libcoap_dtls "$tls"
    base="coaps://127.0.0.1:$LPORT"
    local k=(-k "$DEMO_KEY" -u ours)

    ours "${k[@]}" "$base/"
    check_eq "$tls GET / exit 0" 0 "$RC"
    check_contains "$tls GET / payload" "libcoap" "$(cat "$TEST_TMP/out")"

    local full
    full=$(cat "$TEST_TMP/out")
    ours "${k[@]}" -b 16 "$base/"
    check_eq "$tls Block2 -b 16 exit 0" 0 "$RC"
    check_eq "$tls Block2 -b 16 body equals the one-shot body" "$full" "$(cat "$TEST_TMP/out")"

    head -c 3000 /dev/urandom | base64 -w 60 >"$TEST_TMP/data.in"
    ours "${k[@]}" -m put -b 64 -t text/plain -f "$TEST_TMP/data.in" "$base/example_data"
    check_eq "$tls Block1 PUT exit 0" 0 "$RC"
    ours "${k[@]}" -b 16 "$base/example_data"
    if cmp -s "$TEST_TMP/data.in" "$TEST_TMP/out"; then pass "$tls Block1 PUT + Block2 GET round trip"
    else fail "$tls Block1 PUT + Block2 GET round trip" "$(wc -c <"$TEST_TMP/out") bytes back"; fi

    ours "${k[@]}" -m put -e small "$base/example_data"
    check_eq "$tls PUT exit 0" 0 "$RC"
    ours "${k[@]}" "$base/example_data"
    check_eq "$tls GET after PUT" small "$(cat "$TEST_TMP/out")"

    ours "${k[@]}" -s 4 "$base/time"
    check_eq "$tls observe /time exit 0" 0 "$RC"
    local lines
    lines=$(grep -c . "$TEST_TMP/out" || true)
    if [ "$lines" -ge 3 ]; then pass "$tls observe /time >= 3 notifications ($lines)"
    else fail "$tls observe /time >= 3 notifications" "got $lines: $(cat "$TEST_TMP/out")"; fi

    # --repeat: three requests over one DTLS session with libcoap's server.
    ours "${k[@]}" --repeat 3 --interval 200 "$base/"
    check_eq "$tls --repeat 3 exit 0" 0 "$RC"
    check_eq "$tls --repeat 3: three responses" 3 "$(grep -c 'This is a test server' "$TEST_TMP/out" || true)"

    # -K 1: CoAP pings (RFC 7252 4.3) while idle between two requests, each
    # answered by libcoap's server with a Reset.
    ours "${k[@]}" -v info -K 1 --repeat 2 --interval 2500 "$base/"
    check_eq "$tls -K 1 --repeat 2 exit 0" 0 "$RC"
    local pings
    pings=$(grep -c 'keep-alive ping: answered' "$TEST_TMP/err" || true)
    if [ "$pings" -ge 1 ]; then pass "$tls -K 1: pings answered ($pings)"
    else fail "$tls -K 1: pings answered" "$(cat "$TEST_TMP/err")"; fi

    # The libcoap servers drop a Finished they cannot decrypt: our client
    # gives up at -B and says so in one line.
    RC=0
    timeout 30 "$COAPS_BUILD_DIR/coaps-client" -B 3 -k wrong-key -u ours "$base/" \
        >"$TEST_TMP/out" 2>"$TEST_TMP/err" || RC=$?
    if [ "$RC" -ne 0 ]; then pass "$tls wrong key exits non-zero"; else fail "$tls wrong key exits non-zero"; fi
    check_contains "$tls wrong key: one-line reason" "coaps-client: DTLS handshake failed:" \
        "$(cat "$TEST_TMP/err")"
    check_eq "$tls wrong key: one line" 1 "$(wc -l <"$TEST_TMP/err")"
    stop_bg "libcoap-$tls"
}

run_libcoap_cases openssl
run_libcoap_cases gnutls

# Our server: named identity only; observe /light sees a PUT.
start_dtls_server ours -A 127.0.0.1 --psk "me:$DEMO_KEY" --test-resources
base="coaps://127.0.0.1:$COAPS_PORT"
ours -k "$DEMO_KEY" -u me -m put -t json -e '{"status": false}' "$base/light"
check_eq "ours PUT exit 0" 0 "$RC"
start_bg observer timeout 20 "$COAPS_BUILD_DIR/coaps-client" -k "$DEMO_KEY" -u me -s 4 "$base/light"
obs=$LAST_PID
sleep 1.5
ours -k "$DEMO_KEY" -u me -m put -t json -e '{"status": true, "n": 2}' "$base/light"
wait "$obs" || true
check_contains "ours observe sees the PUT" '{"status": true, "n": 2}' "$(cat "$TEST_TMP/observer.log")"
ours -k "$DEMO_KEY" -u me -b 16 "$base/test/large"
expected_large >"$TEST_TMP/large.want"
if cmp -s "$TEST_TMP/large.want" "$TEST_TMP/out"; then pass "ours Block2 -b 16"; else fail "ours Block2 -b 16"; fi

ours -k "$DEMO_KEY" -u stranger "$base/light"
check_eq "unknown identity exit 1" 1 "$RC"
check_eq "unknown identity: one-line reason" \
    "coaps-client: DTLS handshake failed: alert unknown_psk_identity from server" "$(cat "$TEST_TMP/err")"
ours -k other-key -u me "$base/light"
check_eq "wrong key exit 1" 1 "$RC"
check_contains "wrong key: bad_record_mac" "bad_record_mac" "$(cat "$TEST_TMP/err")"

# Keys in the NSS key log format for Wireshark.
RC=0
SSLKEYLOGFILE=$TEST_TMP/keys.log "${OUR[@]}" -k "$DEMO_KEY" -u me "$base/light" >/dev/null 2>&1 || RC=$?
check_eq "keylog run exit 0" 0 "$RC"
if grep -qE '^CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}$' "$TEST_TMP/keys.log" 2>/dev/null; then
    pass "SSLKEYLOGFILE gets a CLIENT_RANDOM line"
else fail "SSLKEYLOGFILE gets a CLIENT_RANDOM line" "$(cat "$TEST_TMP/keys.log" 2>/dev/null)"; fi

# Idle timeout: a silent session (here: an observation of a resource that
# does not change) is closed with close_notify after --idle-timeout, its
# observe registration forgotten; the client says why in one line.
start_dtls_server idle -A 127.0.0.1 --psk "me:$DEMO_KEY" --idle-timeout 1 -v info
ours -k "$DEMO_KEY" -u me -s 5 "coaps://127.0.0.1:$COAPS_PORT/light"
check_eq "idle session closed: client exit 1" 1 "$RC"
check_contains "idle session closed: client reason" "DTLS session ended: alert close_notify from server" \
    "$(cat "$TEST_TMP/err")"
check_contains "idle session closed: server log" "idle: closing" "$(cat "$TEST_TMP/idle.log")"
ours -k "$DEMO_KEY" -u me "coaps://127.0.0.1:$COAPS_PORT/light"
check_eq "served again after idle close" 0 "$RC"
stop_bg idle

# --repeat 3 --interval 200 over one DTLS session: three responses, one
# handshake (the server's "established" lines at -v info and its
# statistics at exit).
start_dtls_server repeat -A 127.0.0.1 --psk "me:$DEMO_KEY" -v info
ours -v info -k "$DEMO_KEY" -u me --repeat 3 --interval 200 "coaps://127.0.0.1:$COAPS_PORT/light"
check_eq "--repeat 3 exit 0" 0 "$RC"
check_eq "--repeat 3: one response per line" \
    "$(printf '%s\n' '{"status": true}' '{"status": true}' '{"status": true}')" "$(cat "$TEST_TMP/out")"
check_eq "--repeat 3: the client did one handshake" 1 \
    "$(grep -c 'DTLS session established' "$TEST_TMP/err" || true)"
check_contains "--repeat 3: the client counted three answers" "3 of 3 requests answered" \
    "$(cat "$TEST_TMP/err")"
ours -k "$DEMO_KEY" -u me --repeat 2 -m put -t json -e '{"status": false}' \
    "coaps://127.0.0.1:$COAPS_PORT/light"
check_eq "--repeat 2 PUT exit 0" 0 "$RC"
stop_bg repeat
check_eq "--repeat: exactly one handshake per client run on the server" 2 \
    "$(grep -c 'coaps session with .* established' "$TEST_TMP/repeat.log" || true)"
check_contains "--repeat: the server's statistics" "handshakes 2, established 2" \
    "$(cat "$TEST_TMP/repeat.log")"
check_contains "--repeat: the server's request count" "requests 5," "$(cat "$TEST_TMP/repeat.log")"

# Usage errors: one line, exit 2.
ours "$base/light"
check_eq "coaps:// without -k exit 2" 2 "$RC"
check_contains "coaps:// without -k message" "needs credentials" "$(cat "$TEST_TMP/err")"
ours -k "$DEMO_KEY" "$base/light"
check_eq "coaps:// without -u exit 2" 2 "$RC"
stop_bg ours
finish
