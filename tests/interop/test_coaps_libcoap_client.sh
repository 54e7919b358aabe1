#!/usr/bin/env bash
# test_coaps_libcoap_client.sh - libcoap's coap-client-openssl and
# coap-client-gnutls (Debian libcoap3-bin 4.3.1) against our coaps-server
# over coaps:// (CoAP over DTLS 1.2 with PSK, RFC 7252 9.1, RFC 4279).
# Checks GET, PUT, observe (RFC 7641) seeing another client's PUT, Block2
# and Block1 (RFC 7959) through DTLS; a wrong key fails the handshake
# (bad_record_mac), is logged, and the server keeps serving; an unknown
# identity fails with unknown_psk_identity when only named identities are
# configured; no credentials -> no coaps:// port and a one-line reason.
set -euo pipefail
. "${COAPS_SOURCE_DIR:?}/scripts/lib/common.sh"
. "$COAPS_SOURCE_DIR/tests/interop/coaps_test_lib.sh"
need_program coap-client-openssl
need_program coap-client-gnutls

# c TLS ARGS...: one libcoap client; payload on stdout, diagnostics in $TEST_TMP/err.
c() { local tls=$1; shift; timeout 20 "coap-client-$tls" -B 8 "$@" 2>"$TEST_TMP/err" || true; }

run_cases() { # TLS ID HOST
    local tls=$1 id=$2 base="coaps://$3:$COAPS_PORT"
    local k=(-k "$DEMO_KEY" -u "$id")
    local tag="$tls/$3"

    c "$tls" "${k[@]}" -m put -t json -e "{\"status\": false, \"by\": \"$tls\"}" "$base/light" >/dev/null
    check_eq "$tag PUT then GET" "{\"status\": false, \"by\": \"$tls\"}" \
        "$(c "$tls" "${k[@]}" -m get "$base/light")"

    # RFC 7641 over DTLS: the notification travels on the observer's session.
    start_bg "obs-$tls-$3" timeout 20 "coap-client-$tls" "${k[@]}" -s 5 -B 10 "$base/light"
    local obs=$LAST_PID
    sleep 1.5
    c "$tls" "${k[@]}" -m put -t json -e "{\"status\": true, \"scene\": \"$tls\"}" "$base/light" >/dev/null
    wait "$obs" || true
    check_contains "$tag observe sees the initial state" "{\"status\": false, \"by\": \"$tls\"}" \
        "$(cat "$TEST_TMP/obs-$tls-$3.log")"
    check_contains "$tag observe sees another client's PUT" "{\"status\": true, \"scene\": \"$tls\"}" \
        "$(cat "$TEST_TMP/obs-$tls-$3.log")"

    # RFC 7959 Block2, 16-byte blocks: 148 exchanges on one session.
    c "$tls" "${k[@]}" -m get -b 16 -o "$TEST_TMP/large.out" "$base/test/large" >/dev/null
    expected_large >"$TEST_TMP/large.want"
    if cmp -s "$TEST_TMP/large.want" "$TEST_TMP/large.out"; then pass "$tag Block2 -b 16"
    else fail "$tag Block2 -b 16" "$(head -c 200 "$TEST_TMP/large.out" 2>/dev/null)"; fi

    # RFC 7959 Block1 up, read back.
    head -c 3000 /dev/urandom | base64 -w 76 >"$TEST_TMP/up.in"
    c "$tls" "${k[@]}" -m put -b 64 -f "$TEST_TMP/up.in" "$base/test/upload" >/dev/null
    c "$tls" "${k[@]}" -m get -o "$TEST_TMP/up.out" "$base/test/upload" >/dev/null
    if cmp -s "$TEST_TMP/up.in" "$TEST_TMP/up.out"; then pass "$tag Block1 PUT round trip"
    else fail "$tag Block1 PUT round trip" "$(wc -c <"$TEST_TMP/up.out" 2>/dev/null) bytes back"; fi

    # A wrong key: the handshake fails, the server logs it and goes on.
    local before
    before=$(grep -c 'bad_record_mac' "$TEST_TMP/$SERVER_NAME.log" || true)
    local out
    # libcoap prints its DTLS warnings on stdout: the alert it got, no payload.
    out=$(c "$tls" -k not-the-key -u "$id" -m get "$base/light")
    if [[ $out == *'"status"'* ]]; then fail "$tag wrong key: no payload" "$out"
    else pass "$tag wrong key: no payload"; fi
    if grep -qiE 'bad.record.mac|Alert .20.' <<<"$out"; then pass "$tag wrong key: client got bad_record_mac"
    else fail "$tag wrong key: client got bad_record_mac" "$out"; fi
    sleep 0.3
    local after
    after=$(grep -c 'bad_record_mac' "$TEST_TMP/$SERVER_NAME.log" || true)
    if [ "$after" -gt "$before" ]; then pass "$tag wrong key logged by the server"
    else fail "$tag wrong key logged by the server" "$(tail -3 "$TEST_TMP/$SERVER_NAME.log")"; fi
    check_contains "$tag serving after a wrong key" '"status": true' \
        "$(c "$tls" "${k[@]}" -m get "$base/light")"
}

# 1. The demo set-up: one key for any identity (as the reference device),
# with the key log for Wireshark on.
SERVER_NAME=any
SSLKEYLOGFILE=$TEST_TMP/server-keys.log \
    start_dtls_server any -A 127.0.0.1 --psk-default "$DEMO_KEY" --hint "$DEMO_HINT" --test-resources
run_cases openssl alice 127.0.0.1
run_cases gnutls bob 127.0.0.1
check_eq "coap:// still served next to coaps://" '{"status": true, "scene": "gnutls"}' \
    "$(timeout 20 coap-client-notls -B 8 "coap://127.0.0.1:$SERVER_PORT/light" 2>/dev/null || true)"
stop_bg any
check_contains "server warns that it writes the key log" "writing DTLS secrets to" "$(cat "$TEST_TMP/any.log")"
n=$(grep -cE '^CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}$' "$TEST_TMP/server-keys.log" 2>/dev/null || true)
if [ "${n:-0}" -ge 10 ]; then pass "server SSLKEYLOGFILE: one NSS line per session ($n)"
else fail "server SSLKEYLOGFILE: one NSS line per session" "${n:-0} lines"; fi

# 2. IPv6 and named identities only, from a PSK file.
cat >"$TEST_TMP/keys.psk" <<KEYS
# identity,key
alice,$DEMO_KEY

carol , 0x$(printf '%s' "$DEMO_KEY" | od -An -tx1 | tr -d ' \n')
KEYS
SERVER_NAME=named
start_dtls_server named -A ::1 --psk-file "$TEST_TMP/keys.psk" --test-resources
run_cases openssl alice '[::1]'
run_cases gnutls carol '[::1]'
for tls in openssl gnutls; do
    out=$(c "$tls" -k "$DEMO_KEY" -u mallory -m get "coaps://[::1]:$COAPS_PORT/light")
    if [[ $out == *'"status"'* ]]; then fail "$tls unknown identity: no payload" "$out"
    else pass "$tls unknown identity: no payload"; fi
    # RFC 4279 2: unknown_psk_identity (115)
    if grep -qiE "unknown psk identity|Alert '115'" <<<"$out"; then
        pass "$tls unknown identity: client got unknown_psk_identity"
    else fail "$tls unknown identity: client got unknown_psk_identity" "$out"; fi
done
sleep 0.3
check_contains "unknown identity logged with peer and identity" \
    "refused: unknown PSK identity 'mallory'" "$(cat "$TEST_TMP/named.log")"
check_contains "unknown identity log names the peer" "[::1]:" \
    "$(grep "identity 'mallory'" "$TEST_TMP/named.log" | head -1)"
if server_alive named; then pass "server alive after the failures"; else fail "server alive after the failures"; fi
stop_bg named

# 3. No credentials: coap:// only, and one line saying why.
start_coaps_server nocred -A 127.0.0.1
sleep 0.3
check_contains "no credentials: one-line reason" "coaps:// not started: no credentials" \
    "$(cat "$TEST_TMP/nocred.log")"
if grep -q "listening on coaps://" "$TEST_TMP/nocred.log"; then fail "no credentials: no coaps port"
else pass "no credentials: no coaps port"; fi
stop_bg nocred

# 4. Bad credential input: one line naming file:line, exit 2.
printf 'ok,key\nbroken line without comma\n' >"$TEST_TMP/bad.psk"
set +e
msg=$("$COAPS_BUILD_DIR/coaps-server" -p 0 --psk-file "$TEST_TMP/bad.psk" 2>&1); rc=$?
set -e
check_eq "bad psk file exit status" 2 "$rc"
check_contains "bad psk file names file:line" "$TEST_TMP/bad.psk:2: expected 'identity,key'" "$msg"
set +e
msg=$("$COAPS_BUILD_DIR/coaps-server" -p 0 --psk 'nokey' 2>&1); rc=$?
set -e
check_eq "--psk without colon exit status" 2 "$rc"
check_contains "--psk without colon message" "wants IDENTITY:KEY" "$msg"

finish
