#!/bin/bash
# test_dtls_pki_gnutls.sh - our ECDHE_ECDSA handshake (dtls-echo) against
# GnuTLS's gnutls-serv (which echoes) and gnutls-cli: every suite with
# mutual authentication both ways, secp256r1 and x25519, MTU 256
# (certificate flights fragment both ways, RFC 6347 4.2.3), and raw public
# keys (RFC 7250) when this gnutls-bin supports them.
. "$(dirname "$0")/dtls_interop_lib.sh"

command -v gnutls-serv >/dev/null && command -v gnutls-cli >/dev/null ||
    { echo "SKIP: gnutls-bin not installed"; exit 0; }

# $1 suite, $2 group (ALL|SECP256R1|X25519), $3 extra priority items
prio() {
    local g=""
    [ "$2" != ALL ] && g=":-GROUP-ALL:+GROUP-$2"
    echo "NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+ECDHE-ECDSA:-CIPHER-ALL:+$(gnutls_cipher "$1"):-MAC-ALL:+AEAD$g${3:-}"
}

# our client -> gnutls-serv --echo. $1 suite $2 mtu $3 group
client_case() {
    local suite=$1 mtu=$2 group=$3 port pid line extra=() gextra=()
    port=$(free_port)
    line="to-gnutls $suite mtu=$mtu group=$group"
    if [ "$mtu" != default ]; then extra=(--mtu "$mtu"); gextra=(--mtu "$mtu"); fi
    timeout 30 gnutls-serv --udp --echo -p "$port" --x509certfile "$CERTS/server.pem" \
        --x509keyfile "$CERTS/server.key" --x509cafile "$CERTS/ca.pem" --require-client-cert \
        --priority "$(prio "$suite" "$group")" "${gextra[@]}" >"$WORK/gs.out" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    wait_udp "$port" || { fail "client/$suite/$mtu/$group: gnutls-serv did not start"; stop_pid "$pid"; return; }
    if printf '%s\n' "$line" | timeout 15 "$ECHO_BIN" -c 127.0.0.1 -p "$port" \
        -C "$CERTS/ca.pem" "${ECHO_CLIENT_CERT[@]}" --ciphers "$suite" "${extra[@]}" \
        >"$WORK/c.out" 2>"$WORK/c.err" && grep -qxF "$line" "$WORK/c.out"; then
        pass "dtls-echo client (cert) -> gnutls-serv --require-client-cert, $suite, mtu=$mtu, group=$group"
    else
        fail "client/$suite/$mtu/$group: $(cat "$WORK/c.err")"; cat "$WORK/c.out" "$WORK/gs.out"
    fi
    stop_pid "$pid"
}

# gnutls-cli (with a client certificate) -> our server requiring one.
server_case() {
    local suite=$1 mtu=$2 group=$3 port pid line extra=() gextra=()
    port=$(free_port)
    line="from-gnutls $suite mtu=$mtu group=$group"
    if [ "$mtu" != default ]; then extra=(--mtu "$mtu"); gextra=(--mtu "$mtu"); fi
    timeout 30 "$ECHO_BIN" -s -A 127.0.0.1 -p "$port" "${ECHO_SERVER_CERT[@]}" \
        -C "$CERTS/ca.pem" --require-client-cert --ciphers "$suite" "${extra[@]}" \
        2>"$WORK/s.err" &
    pid=$!
    PIDS+=("$pid")
    wait_udp "$port" || { fail "server/$suite/$mtu/$group: dtls-echo did not start"; stop_pid "$pid"; return; }
    (printf '%s\n' "$line"; sleep 2) | timeout 15 gnutls-cli --udp -p "$port" \
        --x509cafile "$CERTS/ca.pem" --x509certfile "$CERTS/client.pem" \
        --x509keyfile "$CERTS/client.key" --priority "$(prio "$suite" "$group")" \
        "${gextra[@]}" 127.0.0.1 >"$WORK/gc.out" 2>&1
    if grep -qxF "$line" "$WORK/gc.out" && grep -q "established, $suite" "$WORK/s.err"; then
        pass "gnutls-cli (cert) -> dtls-echo server --require-client-cert, $suite, mtu=$mtu, group=$group"
    else
        fail "server/$suite/$mtu/$group: no echo"; cat "$WORK/gc.out" "$WORK/s.err"
    fi
    stop_pid "$pid"
}

# RFC 7250 raw public keys both ways, if gnutls-bin has the options.
rpk_cases() {
    local port pid line rprio
    if ! gnutls-serv --help 2>&1 | grep -q -- --rawpkkeyfile; then
        skip "raw public keys: this gnutls-serv has no --rawpkkeyfile"
        return
    fi
    rprio=$(prio TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 ALL ":+CTYPE-SRV-RAWPK:+CTYPE-CLI-RAWPK")
    # our client -> gnutls-serv with a raw public key
    port=$(free_port)
    line="rpk to-gnutls"
    timeout 30 gnutls-serv --udp --echo -p "$port" --rawpkkeyfile "$CERTS/server.key" \
        --rawpkfile "$CERTS/server-pub.pem" --priority "$rprio" >"$WORK/gs.out" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    if wait_udp "$port"; then
        if printf '%s\n' "$line" | timeout 15 "$ECHO_BIN" -c 127.0.0.1 -p "$port" \
            --rpk-trust "$CERTS/server-pub.pem" -j "$CERTS/client.key" --rpk \
            >"$WORK/c.out" 2>"$WORK/c.err" && grep -qxF "$line" "$WORK/c.out"; then
            pass "dtls-echo client (RPK) -> gnutls-serv (RPK)"
        else
            fail "rpk client: $(cat "$WORK/c.err")"; cat "$WORK/gs.out"
        fi
    else
        skip "raw public keys: gnutls-serv did not start: $(head -3 "$WORK/gs.out")"
    fi
    stop_pid "$pid"
    # gnutls-cli with a raw public key -> our server pinning it
    port=$(free_port)
    line="rpk from-gnutls"
    timeout 30 "$ECHO_BIN" -s -A 127.0.0.1 -p "$port" -j "$CERTS/server.key" --rpk \
        --rpk-trust "$CERTS/client-pub.pem" --require-client-cert 2>"$WORK/s.err" &
    pid=$!
    PIDS+=("$pid")
    wait_udp "$port" || { fail "rpk server: dtls-echo did not start"; stop_pid "$pid"; return; }
    (printf '%s\n' "$line"; sleep 2) | timeout 15 gnutls-cli --udp -p "$port" \
        --rawpkkeyfile "$CERTS/client.key" --rawpkfile "$CERTS/client-pub.pem" --insecure \
        --priority "$rprio" 127.0.0.1 >"$WORK/gc.out" 2>&1
    if grep -qxF "$line" "$WORK/gc.out" && grep -q "established" "$WORK/s.err"; then
        pass "gnutls-cli (RPK) -> dtls-echo server (RPK, client key pinned)"
    else
        fail "rpk server: no echo"; cat "$WORK/gc.out" "$WORK/s.err"
    fi
    stop_pid "$pid"
}

for suite in $ECDHE_SUITES; do
    client_case "$suite" default ALL
    server_case "$suite" default ALL
done
for group in SECP256R1 X25519; do
    client_case TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 default "$group"
    server_case TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 default "$group"
done
client_case TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 256 ALL
server_case TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 256 ALL
rpk_cases

echo "gnutls pki interop: $PASS passed, $FAILS failed, $SKIPS skipped"
[ "$FAILS" -eq 0 ] && [ "$PASS" -gt 0 ]
