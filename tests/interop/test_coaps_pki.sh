#!/usr/bin/env bash
# test_coaps_pki.sh - coaps:// with certificates (ECDHE-ECDSA, RFC 7252
# 9.1.3.3) and raw public keys (RFC 7250, 9.1.3.2) through the programs'
# libcoap-style flags -c -j -C --rpk-trust (--require-client-cert on the
# server), PSK and PKI on one server together. Peers: our client and server,
# libcoap's coap-client-openssl/-gnutls and coap-server-openssl. Fixtures:
# tests/crypto/certs (test-only keys).
set -euo pipefail
. "${COAPS_SOURCE_DIR:?}/scripts/lib/common.sh"
. "$COAPS_SOURCE_DIR/tests/interop/coaps_test_lib.sh"
need_program coap-client-openssl
need_program coap-client-gnutls
need_program coap-server-openssl
C=$COAPS_SOURCE_DIR/tests/crypto/certs
OUR=(timeout 30 "$COAPS_BUILD_DIR/coaps-client" -B 8)

ours() { # ARGS...: stdout in $TEST_TMP/out, stderr in $TEST_TMP/err, status in $RC
    RC=0
    "${OUR[@]}" "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err" || RC=$?
}

# 1. Our server: certificate + CA for clients + a PSK, all at once.
start_dtls_server pki -A 127.0.0.1 -c "$C/server.pem" -j "$C/server.key" -C "$C/ca.pem" \
    --psk-default "$DEMO_KEY" -v info
base="coaps://127.0.0.1:$COAPS_PORT"
ours -C "$C/ca.pem" "$base/light"
check_eq "ours: server certificate checked against -C" '{"status": true}' "$(cat "$TEST_TMP/out")"
ours -C "$C/ca.pem" -c "$C/client.pem" -j "$C/client.key" "$base/light"
check_eq "ours: mutual certificates" '{"status": true}' "$(cat "$TEST_TMP/out")"
ours -k "$DEMO_KEY" -u psk-user "$base/light"
check_eq "ours: PSK on the same server" '{"status": true}' "$(cat "$TEST_TMP/out")"
ours -C "$C/other-ca.pem" "$base/light"
check_eq "ours: untrusted server CA exit 1" 1 "$RC"
check_eq "ours: untrusted server CA one-line reason" \
    "coaps-client: DTLS handshake failed: alert unknown_ca sent to the server" "$(cat "$TEST_TMP/err")"
grep -q "established, TLS_ECDHE_ECDSA" "$TEST_TMP/pki.log" &&
    pass "server log: ECDHE_ECDSA suite" || fail "server log: ECDHE_ECDSA suite"
for tls in openssl gnutls; do
    out=$(timeout 20 "coap-client-$tls" -B 8 -C "$C/ca.pem" -c "$C/client.pem" -j "$C/client.key" \
        "$base/light" 2>/dev/null || true)
    check_contains "coap-client-$tls with certificates" '{"status": true}' "$out"
done
stop_bg pki

# 2. --require-client-cert: a client without one is refused.
start_dtls_server req -A 127.0.0.1 -c "$C/server.pem" -j "$C/server.key" -C "$C/ca.pem" \
    --require-client-cert
base="coaps://127.0.0.1:$COAPS_PORT"
ours -C "$C/ca.pem" "$base/light"
if [ "$RC" -ne 0 ]; then pass "require-client-cert: client without certificate refused"
else fail "require-client-cert: client without certificate refused" "$(cat "$TEST_TMP/out")"; fi
ours -C "$C/ca.pem" -c "$C/client.pem" -j "$C/client.key" "$base/light"
check_eq "require-client-cert: client with certificate served" '{"status": true}' "$(cat "$TEST_TMP/out")"
stop_bg req

# 3. Raw public keys pinned both ways (RFC 7250).
start_dtls_server rpk -A 127.0.0.1 -j "$C/server.key" --rpk-trust "$C/client-pub.pem"
base="coaps://127.0.0.1:$COAPS_PORT"
ours -j "$C/client.key" --rpk-trust "$C/server-pub.pem" "$base/light"
check_eq "RPK both ways" '{"status": true}' "$(cat "$TEST_TMP/out")"
ours -j "$C/client.key" --rpk-trust "$C/client-pub.pem" "$base/light"
if [ "$RC" -ne 0 ]; then pass "RPK: server key not pinned -> refused"
else fail "RPK: server key not pinned -> refused"; fi
stop_bg rpk

# 4. Our client against coap-server-openssl with certificates.
for try in 1 2 3 4 5; do
    p=$(free_udp_port)
    [ -z "$(ss -Htuan "( sport = :$p or sport = :$((p + 1)) )" 2>/dev/null)" ] || continue
    start_bg lc coap-server-openssl -A 127.0.0.1 -p "$p" -c "$C/server.pem" -j "$C/server.key" \
        -C "$C/ca.pem"
    wait_udp_port $((p + 1)) 10 && break
done
ours -C "$C/ca.pem" -c "$C/client.pem" -j "$C/client.key" "coaps://127.0.0.1:$((p + 1))/"
check_contains "ours against coap-server-openssl with certificates" "libcoap" "$(cat "$TEST_TMP/out")"
stop_bg lc

# 5. Bad files: one line, non-zero exit.
set +e
msg=$("$COAPS_BUILD_DIR/coaps-server" -p 0 -c /nonexistent.pem 2>&1); rc=$?
set -e
if [ "$rc" -ne 0 ]; then pass "server: missing certificate file exits non-zero"
else fail "server: missing certificate file exits non-zero"; fi
check_contains "server: missing certificate file named" "/nonexistent.pem" "$msg"
ours -C /nonexistent-ca.pem "coaps://127.0.0.1:1/x"
check_eq "client: missing CA file exit 2" 2 "$RC"
check_contains "client: missing CA file named" "/nonexistent-ca.pem" "$(cat "$TEST_TMP/err")"
finish
