#!/bin/bash
# test_dtls_pki_openssl.sh - our ECDHE_ECDSA handshake (dtls-echo) against
# OpenSSL's s_server / s_client with X.509 certificates (RFC 8422, RFC 7251):
# every suite with mutual authentication both ways, server-only
# authentication, MTU 256 (certificate flights in fragments, RFC 6347
# 4.2.3) and refusals (client certificate required, expired certificate).
. "$(dirname "$0")/dtls_interop_lib.sh"

command -v openssl >/dev/null || { echo "SKIP: openssl not installed"; exit 0; }

ossl_name() {
    case $1 in
    TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8) echo ECDHE-ECDSA-AES128-CCM8 ;;
    TLS_ECDHE_ECDSA_WITH_AES_128_CCM) echo ECDHE-ECDSA-AES128-CCM ;;
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256) echo ECDHE-ECDSA-AES128-GCM-SHA256 ;;
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384) echo ECDHE-ECDSA-AES256-GCM-SHA384 ;;
    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256) echo ECDHE-ECDSA-CHACHA20-POLY1305 ;;
    esac
}

# our client -> openssl s_server (prints what it receives).
# $1 suite, $2 mtu (default|N), $3 auth (mutual|server)
client_case() {
    local suite=$1 mtu=$2 auth=$3 name port line out pid extra=() oextra=()
    name=$(ossl_name "$suite")
    port=$(free_port)
    line="to-openssl $suite mtu=$mtu auth=$auth"
    out=$WORK/s_server.out
    if [ "$mtu" != default ]; then extra+=(--mtu "$mtu"); oextra+=(-mtu "$mtu"); fi
    if [ "$auth" = mutual ]; then extra+=("${ECHO_CLIENT_CERT[@]}"); oextra+=(-Verify 1 -CAfile "$CERTS/ca.pem"); fi
    sleep 8 | timeout 15 openssl s_server -dtls1_2 -cert "$CERTS/server.pem" \
        -key "$CERTS/server.key" -cipher "$name" -listen -accept "127.0.0.1:$port" \
        "${oextra[@]}" >"$out" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    wait_udp "$port" || { fail "client/$suite/$mtu/$auth: s_server did not start"; stop_pid "$pid"; return; }
    if printf '%s\n' "$line" | timeout 15 "$ECHO_BIN" -c 127.0.0.1 -p "$port" \
        -C "$CERTS/ca.pem" --ciphers "$suite" --no-echo "${extra[@]}" \
        >"$WORK/c.out" 2>"$WORK/c.err"; then
        sleep 0.3
        if grep -qF "$line" "$out" && grep -q "CIPHER is $name" "$out"; then
            pass "dtls-echo client -> openssl s_server, $suite, mtu=$mtu, auth=$auth"
        else
            fail "client/$suite/$mtu/$auth: s_server did not print the line"; cat "$out"
        fi
    else
        fail "client/$suite/$mtu/$auth: dtls-echo client failed: $(cat "$WORK/c.err")"; cat "$out"
    fi
    stop_pid "$pid"
}

# openssl s_client -> our server, which echoes.
server_case() {
    local suite=$1 mtu=$2 auth=$3 name port line pid extra=() oextra=()
    name=$(ossl_name "$suite")
    port=$(free_port)
    line="from-openssl $suite mtu=$mtu auth=$auth"
    if [ "$mtu" != default ]; then extra+=(--mtu "$mtu"); oextra+=(-mtu "$mtu"); fi
    if [ "$auth" = mutual ]; then
        extra+=(-C "$CERTS/ca.pem" --require-client-cert)
        oextra+=(-cert "$CERTS/client.pem" -key "$CERTS/client.key")
    fi
    timeout 30 "$ECHO_BIN" -s -A 127.0.0.1 -p "$port" "${ECHO_SERVER_CERT[@]}" \
        --ciphers "$suite" "${extra[@]}" 2>"$WORK/s.err" &
    pid=$!
    PIDS+=("$pid")
    wait_udp "$port" || { fail "server/$suite/$mtu/$auth: dtls-echo did not start"; stop_pid "$pid"; return; }
    (printf '%s\n' "$line"; sleep 2) | timeout 15 openssl s_client -dtls1_2 \
        -CAfile "$CERTS/ca.pem" -verify_return_error -verify_hostname localhost \
        -cipher "$name" -connect "127.0.0.1:$port" "${oextra[@]}" >"$WORK/sc.out" 2>&1
    if grep -qF "$line" "$WORK/sc.out" && grep -q "established, $suite" "$WORK/s.err" &&
        grep -q "Verify return code: 0 (ok)" "$WORK/sc.out"; then
        pass "openssl s_client -> dtls-echo server, $suite, mtu=$mtu, auth=$auth"
    else
        fail "server/$suite/$mtu/$auth: no echo"; cat "$WORK/sc.out" "$WORK/s.err"
    fi
    stop_pid "$pid"
}

# Our server requires a client certificate; s_client has none.
refuse_no_client_cert() {
    local port pid
    port=$(free_port)
    timeout 30 "$ECHO_BIN" -s -A 127.0.0.1 -p "$port" "${ECHO_SERVER_CERT[@]}" \
        -C "$CERTS/ca.pem" --require-client-cert -v 2>"$WORK/s.err" &
    pid=$!
    PIDS+=("$pid")
    wait_udp "$port" || { fail "refuse: dtls-echo did not start"; stop_pid "$pid"; return; }
    (echo "nope"; sleep 2) | timeout 15 openssl s_client -dtls1_2 -CAfile "$CERTS/ca.pem" \
        -connect "127.0.0.1:$port" >"$WORK/sc.out" 2>&1
    sleep 0.3
    if grep -q "handshake_failure" "$WORK/s.err" && ! grep -q "established" "$WORK/s.err"; then
        pass "dtls-echo server --require-client-cert refuses s_client without a certificate"
    else
        fail "refuse: server did not refuse"; cat "$WORK/s.err" "$WORK/sc.out"
    fi
    stop_pid "$pid"
}

# s_server with an expired certificate: our client says certificate_expired.
refuse_expired() {
    local port pid
    port=$(free_port)
    sleep 8 | timeout 15 openssl s_server -dtls1_2 -cert "$CERTS/expired.pem" \
        -key "$CERTS/expired.key" -listen -accept "127.0.0.1:$port" >"$WORK/s_server.out" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    wait_udp "$port" || { fail "expired: s_server did not start"; stop_pid "$pid"; return; }
    if echo "x" | timeout 15 "$ECHO_BIN" -c 127.0.0.1 -p "$port" -C "$CERTS/ca.pem" \
        --no-echo >"$WORK/c.out" 2>"$WORK/c.err"; then
        fail "expired: our client accepted an expired certificate"
    elif grep -q "certificate_expired" "$WORK/c.err"; then
        pass "dtls-echo client refuses an expired certificate: $(cat "$WORK/c.err")"
    else
        fail "expired: wrong reason: $(cat "$WORK/c.err")"
    fi
    stop_pid "$pid"
}

have_suites=$(openssl ciphers 'ALL' 2>/dev/null | tr ':' ' ')
for suite in $ECDHE_SUITES; do
    name=$(ossl_name "$suite")
    if ! grep -qw -- "$name" <<<"$have_suites"; then
        skip "$suite: not offered by $(openssl version)"
        continue
    fi
    client_case "$suite" default mutual
    server_case "$suite" default mutual
done
client_case TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 default server
server_case TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 default server
client_case TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 256 mutual
server_case TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 256 mutual
refuse_no_client_cert
refuse_expired

echo "openssl pki interop: $PASS passed, $FAILS failed, $SKIPS skipped"
[ "$FAILS" -eq 0 ] && [ "$PASS" -gt 0 ]
