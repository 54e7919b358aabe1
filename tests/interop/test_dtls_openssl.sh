#!/bin/bash
# test_dtls_openssl.sh - our DTLS 1.2 PSK engine (dtls-echo) against
# OpenSSL's s_server / s_client, every PSK suite, both directions, with the
# default MTU and with MTU 256 (our ClientHello then fragments).
. "$(dirname "$0")/dtls_interop_lib.sh"

command -v openssl >/dev/null || { echo "SKIP: openssl not installed"; exit 0; }

ossl_name() {
    case $1 in
    TLS_PSK_WITH_AES_128_CCM_8) echo PSK-AES128-CCM8 ;;
    TLS_PSK_WITH_AES_128_CCM) echo PSK-AES128-CCM ;;
    TLS_PSK_WITH_AES_128_GCM_SHA256) echo PSK-AES128-GCM-SHA256 ;;
    TLS_PSK_WITH_AES_256_GCM_SHA384) echo PSK-AES256-GCM-SHA384 ;;
    TLS_PSK_WITH_CHACHA20_POLY1305_SHA256) echo PSK-CHACHA20-POLY1305 ;;
    esac
}

# our client -> openssl s_server. s_server prints what it receives.
client_case() {
    local suite=$1 mtu=$2 name port line out pid extra=() oextra=()
    name=$(ossl_name "$suite")
    port=$(free_port)
    line="to-openssl $suite mtu=$mtu"
    out=$WORK/s_server.$suite.$mtu
    if [ "$mtu" != default ]; then extra=(--mtu "$mtu" --sni "$LONG_SNI"); oextra=(-mtu "$mtu"); fi
    sleep 8 | timeout 15 openssl s_server -dtls1_2 -nocert -psk "$PSK_HEX" \
        -psk_identity "$PSK_ID" -psk_hint "$HINT" -cipher "$name" -listen \
        -accept "127.0.0.1:$port" "${oextra[@]}" >"$out" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    wait_udp "$port" || { fail "client/$suite/mtu=$mtu: s_server did not start"; stop_pid "$pid"; return; }
    if printf '%s\n' "$line" | timeout 15 "$ECHO_BIN" -c 127.0.0.1 -p "$port" \
        --psk "$PSK_ID:0x$PSK_HEX" --ciphers "$suite" --no-echo "${extra[@]}" \
        >"$WORK/c.out" 2>"$WORK/c.err"; then
        sleep 0.3
        if grep -qF "$line" "$out" && grep -q "CIPHER is $name" "$out"; then
            pass "dtls-echo client -> openssl s_server, $suite, mtu=$mtu"
        else
            fail "client/$suite/mtu=$mtu: s_server did not print the line"; cat "$out"
        fi
    else
        fail "client/$suite/mtu=$mtu: dtls-echo client failed: $(cat "$WORK/c.err")"; cat "$out"
    fi
    stop_pid "$pid"
}

# openssl s_client -> our server, which echoes.
server_case() {
    local suite=$1 mtu=$2 name port line pid extra=() oextra=()
    name=$(ossl_name "$suite")
    port=$(free_port)
    line="from-openssl $suite mtu=$mtu"
    if [ "$mtu" != default ]; then extra=(--mtu "$mtu"); oextra=(-mtu "$mtu"); fi
    timeout 30 "$ECHO_BIN" -s -A 127.0.0.1 -p "$port" --psk "$PSK_ID:0x$PSK_HEX" \
        --hint "$HINT" --ciphers "$suite" "${extra[@]}" 2>"$WORK/s.err" &
    pid=$!
    PIDS+=("$pid")
    wait_udp "$port" || { fail "server/$suite/mtu=$mtu: dtls-echo did not start"; stop_pid "$pid"; return; }
    (printf '%s\n' "$line"; sleep 2) | timeout 15 openssl s_client -dtls1_2 \
        -psk "$PSK_HEX" -psk_identity "$PSK_ID" -cipher "$name" \
        -connect "127.0.0.1:$port" "${oextra[@]}" >"$WORK/sc.out" 2>&1
    if grep -qF "$line" "$WORK/sc.out" && grep -q "established, $suite" "$WORK/s.err"; then
        pass "openssl s_client -> dtls-echo server, $suite, mtu=$mtu"
    else
        fail "server/$suite/mtu=$mtu: no echo"; cat "$WORK/sc.out" "$WORK/s.err"
    fi
    stop_pid "$pid"
}

have_suites=$(openssl ciphers 'PSK' 2>/dev/null | tr ':' ' ')
for suite in $IANA_SUITES; do
    name=$(ossl_name "$suite")
    if ! grep -qw -- "$name" <<<"$have_suites"; then
        skip "$suite: not offered by $(openssl version)"
        continue
    fi
    for mtu in default 256; do
        client_case "$suite" "$mtu"
        server_case "$suite" "$mtu"
    done
done

echo "openssl interop: $PASS passed, $FAILS failed, $SKIPS skipped"
[ "$FAILS" -eq 0 ] && [ "$PASS" -gt 0 ]
