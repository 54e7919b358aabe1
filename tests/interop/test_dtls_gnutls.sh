#!/bin/bash
# test_dtls_gnutls.sh - our DTLS 1.2 PSK engine (dtls-echo) against GnuTLS's
# gnutls-serv (which echoes) and gnutls-cli, every PSK suite, both
# directions, with the default MTU, with MTU 256 (our ClientHello, made long
# by a 200-byte server_name, fragments) and with MTU 150 plus a 128-byte
# identity hint: the ServerKeyExchange record (155 bytes) cannot fit one
# datagram, so the server side fragments too, whichever side we are.
# (OpenSSL refuses MTUs below 256, so only GnuTLS can show this.)
. "$(dirname "$0")/dtls_interop_lib.sh"

command -v gnutls-serv >/dev/null && command -v gnutls-cli >/dev/null ||
    { echo "SKIP: gnutls-bin not installed"; exit 0; }

# gnutls-cli --list names suites without "WITH": TLS_PSK_AES_128_CCM_8.
gnutls_list_name() {
    local s=${1/TLS_PSK_WITH_/TLS_PSK_}
    echo "${s/CHACHA20_POLY1305_SHA256/CHACHA20_POLY1305}"
}

prio() {
    echo "NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+PSK:-CIPHER-ALL:+$(gnutls_cipher "$1"):-MAC-ALL:+AEAD"
}

printf '%s:%s\n' "$PSK_ID" "$PSK_HEX" >"$WORK/psk.txt"

# our client -> gnutls-serv --echo: the lines come back.
client_case() {
    local suite=$1 mtu=$2 port pid line extra=() gextra=()
    port=$(free_port)
    line="to-gnutls $suite mtu=$mtu"
    local hint=$HINT
    [ "$mtu" = 150 ] && hint=$LONG_HINT
    if [ "$mtu" != default ]; then extra=(--mtu "$mtu" --sni "$LONG_SNI"); gextra=(--mtu "$mtu"); fi
    timeout 30 gnutls-serv --udp --echo --pskpasswd "$WORK/psk.txt" --pskhint "$hint" \
        -p "$port" --priority "$(prio "$suite")" "${gextra[@]}" >"$WORK/gs.out" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    wait_udp "$port" || { fail "client/$suite/mtu=$mtu: gnutls-serv did not start"; stop_pid "$pid"; return; }
    if printf '%s\n' "$line" | timeout 15 "$ECHO_BIN" -c 127.0.0.1 -p "$port" \
        --psk "$PSK_ID:0x$PSK_HEX" --ciphers "$suite" "${extra[@]}" >"$WORK/c.out" 2>"$WORK/c.err" &&
        grep -qxF "$line" "$WORK/c.out"; then
        pass "dtls-echo client -> gnutls-serv, $suite, mtu=$mtu"
    else
        fail "client/$suite/mtu=$mtu: $(cat "$WORK/c.err")"; cat "$WORK/c.out" "$WORK/gs.out"
    fi
    stop_pid "$pid"
}

# gnutls-cli -> our server, which echoes.
server_case() {
    local suite=$1 mtu=$2 port pid line extra=() gextra=()
    port=$(free_port)
    line="from-gnutls $suite mtu=$mtu"
    local hint=$HINT
    [ "$mtu" = 150 ] && hint=$LONG_HINT
    if [ "$mtu" != default ]; then extra=(--mtu "$mtu"); gextra=(--mtu "$mtu"); fi
    timeout 30 "$ECHO_BIN" -s -A 127.0.0.1 -p "$port" --psk "$PSK_ID:0x$PSK_HEX" \
        --hint "$hint" --ciphers "$suite" "${extra[@]}" 2>"$WORK/s.err" &
    pid=$!
    PIDS+=("$pid")
    wait_udp "$port" || { fail "server/$suite/mtu=$mtu: dtls-echo did not start"; stop_pid "$pid"; return; }
    (printf '%s\n' "$line"; sleep 2) | timeout 15 gnutls-cli --udp --pskusername "$PSK_ID" \
        --pskkey "$PSK_HEX" -p "$port" --priority "$(prio "$suite")" "${gextra[@]}" \
        127.0.0.1 >"$WORK/gc.out" 2>&1
    if grep -qxF "$line" "$WORK/gc.out" && grep -q "established, $suite" "$WORK/s.err"; then
        pass "gnutls-cli -> dtls-echo server, $suite, mtu=$mtu"
    else
        fail "server/$suite/mtu=$mtu: no echo"; cat "$WORK/gc.out" "$WORK/s.err"
    fi
    stop_pid "$pid"
}

listed=$(gnutls-cli --list 2>/dev/null)
for suite in $IANA_SUITES; do
    if ! grep -q "^$(gnutls_list_name "$suite")[[:space:]]" <<<"$listed"; then
        skip "$suite: not listed by gnutls-cli --list ($(gnutls-cli --version | head -1))"
        continue
    fi
    for mtu in default 256 150; do
        client_case "$suite" "$mtu"
        server_case "$suite" "$mtu"
    done
done

# extended_master_secret (RFC 7627): GnuTLS can leave it out
# (%NO_SESSION_HASH). Without it both directions still work (RFC 5246 8.1
# master secret); with --require-ems our side refuses with handshake_failure.
ems_cases() {
    local suite=TLS_PSK_WITH_AES_128_CCM_8 port pid p
    p="$(prio "$suite"):%NO_SESSION_HASH"
    port=$(free_port)
    timeout 30 gnutls-serv --udp --echo --pskpasswd "$WORK/psk.txt" -p "$port" --priority "$p" \
        >"$WORK/gs.out" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    wait_udp "$port" || { fail "ems: gnutls-serv did not start"; stop_pid "$pid"; return; }
    if echo "no ems" | timeout 15 "$ECHO_BIN" -c 127.0.0.1 -p "$port" --psk "$PSK_ID:0x$PSK_HEX" \
        >"$WORK/c.out" 2>"$WORK/c.err" && grep -qx "no ems" "$WORK/c.out"; then
        pass "dtls-echo client -> gnutls-serv without extended_master_secret"
    else
        fail "ems: client without EMS: $(cat "$WORK/c.err")"
    fi
    if echo "no ems" | timeout 15 "$ECHO_BIN" -c 127.0.0.1 -p "$port" --psk "$PSK_ID:0x$PSK_HEX" \
        --require-ems >"$WORK/c.out" 2>"$WORK/c.err"; then
        fail "ems: --require-ems client accepted a server without EMS"
    elif grep -q "alert sent: handshake_failure" "$WORK/c.err"; then
        pass "dtls-echo client --require-ems refuses gnutls-serv without EMS: $(cat "$WORK/c.err")"
    else
        fail "ems: --require-ems client failed oddly: $(cat "$WORK/c.err")"
    fi
    stop_pid "$pid"
    for req in no yes; do
        local extra=()
        [ "$req" = yes ] && extra=(--require-ems)
        port=$(free_port)
        timeout 30 "$ECHO_BIN" -s -A 127.0.0.1 -p "$port" --psk "$PSK_ID:0x$PSK_HEX" \
            "${extra[@]}" 2>"$WORK/s.err" &
        pid=$!
        PIDS+=("$pid")
        wait_udp "$port" || { fail "ems: dtls-echo did not start"; stop_pid "$pid"; return; }
        (echo "no ems in"; sleep 2) | timeout 15 gnutls-cli --udp --pskusername "$PSK_ID" \
            --pskkey "$PSK_HEX" -p "$port" --priority "$p" 127.0.0.1 >"$WORK/gc.out" 2>&1
        sleep 0.2
        if [ "$req" = no ] && grep -qx "no ems in" "$WORK/gc.out"; then
            pass "gnutls-cli without extended_master_secret -> dtls-echo server"
        elif [ "$req" = yes ] && grep -q "alert sent: handshake_failure" "$WORK/s.err"; then
            pass "dtls-echo server --require-ems refuses gnutls-cli without EMS"
        else
            fail "ems: gnutls-cli without EMS, require=$req"; cat "$WORK/gc.out" "$WORK/s.err"
        fi
        stop_pid "$pid"
    done
}
ems_cases

echo "gnutls interop: $PASS passed, $FAILS failed, $SKIPS skipped"
[ "$FAILS" -eq 0 ] && [ "$PASS" -gt 0 ]
