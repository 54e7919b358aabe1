#!/bin/bash
# test_dtls_mbedtls.sh - our DTLS 1.2 engine against Mbed TLS 3.6's sample
# peers ssl_client2 and ssl_server2 (built by scripts/install-mbedtls, the
# stack of ESP-IDF and Zephyr devices), both directions:
# - every PSK suite (RFC 4279, RFC 6655, RFC 5487, RFC 7905) with dtls-echo,
#   and coaps-server / coaps-client with a suite they negotiate;
# - ECDHE_ECDSA with X.509 (RFC 8422, RFC 7251; tests/crypto/certs, made by
#   scripts/make-test-certs): the server's certificate checked against the CA
#   and the name, and mutual authentication with every suite (and with
#   coaps-server / coaps-client);
# - certificate flights in fragments (RFC 6347 4.2.3) through a relay that
#   drops every datagram over MTU 256, then 150, each way: both peers must
#   cut theirs to fit (the certificates alone are ~490 bytes);
# - refusals: wrong PSK, untrusted CA, wrong name, no client certificate;
# - a client offering a session ticket (RFC 5077) that our server ignores:
#   ssl_client2 of 3.6 and of 2.28 (scripts/install-mbedtls2), whose
#   ClientHellos then differ in session_id before and after the cookie.
# ssl_client2 sends an HTTP-like request and prints what it reads back; our
# echo server returns it. ssl_server2 prints the request and answers with
# "HTTP/1.0 200 OK ... Successful connection using: SUITE".
. "$(dirname "$0")/dtls_interop_lib.sh"

MBEDTLS=$(bash "$COAPS_SOURCE_DIR/scripts/install-mbedtls" --prefix) ||
    { echo "FAIL: Mbed TLS 3.6 is not built: run scripts/install-deps (make check does)"; exit 1; }
MBEDTLS2=$(bash "$COAPS_SOURCE_DIR/scripts/install-mbedtls2" --prefix) ||
    { echo "FAIL: Mbed TLS 2.28's peers are not built: run scripts/install-deps (make check does)"; exit 1; }
SSL_CLIENT=$MBEDTLS/bin/ssl_client2
SSL_SERVER=$MBEDTLS/bin/ssl_server2
SSL_CLIENT_228=$MBEDTLS2/bin/ssl_client2
RELAY=$BUILD/relay
for b in "$SSL_CLIENT" "$SSL_SERVER" "$SSL_CLIENT_228" "$RELAY" "$BUILD/coaps-server" "$BUILD/coaps-client"; do
    [ -x "$b" ] || { echo "FAIL: $b not built"; exit 1; }
done

# Mbed TLS names the suites as IANA does, with '-' for '_'.
mbed_name() { echo "${1//_/-}"; }

# show FILE...: the peers' output after a failure (Mbed TLS's ends without
# a newline).
show() { local f; for f; do cat "$f"; echo; done; }

# Both Mbed TLS programs: DTLS on loopback, handshake timers of 0.5 s
# doubling to 4 s (RFC 6347 4.2.4), so a refused handshake ends in seconds.
MBED=(dtls=1 server_addr=127.0.0.1 hs_timeout=500-4000)
MBED_PSK=(psk="$PSK_HEX" psk_identity="$PSK_ID")

# auth_flags AUTH: the flags of the four programs for AUTH = psk, server
# (the server's certificate checked against the CA and the name localhost)
# or mutual (the server also requires the client's certificate). Sets
# OUR_C, OUR_S (dtls-echo client and server), MB_C, MB_S (ssl_client2,
# ssl_server2).
auth_flags() {
    case $1 in
    psk)
        OUR_C=(--psk "$PSK_ID:0x$PSK_HEX")
        OUR_S=(--psk "$PSK_ID:0x$PSK_HEX" --hint "$HINT")
        MB_C=("${MBED_PSK[@]}")
        MB_S=("${MBED_PSK[@]}")
        ;;
    server)
        OUR_C=(-C "$CERTS/ca.pem" --server-name localhost)
        OUR_S=("${ECHO_SERVER_CERT[@]}")
        MB_C=(ca_file="$CERTS/ca.pem" server_name=localhost auth_mode=required
            crt_file=none key_file=none)
        MB_S=(crt_file="$CERTS/server.pem" key_file="$CERTS/server.key")
        ;;
    mutual)
        OUR_C=(-C "$CERTS/ca.pem" --server-name localhost "${ECHO_CLIENT_CERT[@]}")
        OUR_S=("${ECHO_SERVER_CERT[@]}" -C "$CERTS/ca.pem" --require-client-cert)
        MB_C=(ca_file="$CERTS/ca.pem" server_name=localhost auth_mode=required
            crt_file="$CERTS/client.pem" key_file="$CERTS/client.key")
        MB_S=(crt_file="$CERTS/server.pem" key_file="$CERTS/server.key"
            ca_file="$CERTS/ca.pem" auth_mode=required)
        ;;
    esac
}

# start_mbed_server PORT ARGS...: ssl_server2 on 127.0.0.1:PORT, output in
# $WORK/ms.out; sets MS_PID. It serves one client after another until
# stopped.
start_mbed_server() {
    local port=$1; shift
    timeout 30 "$SSL_SERVER" "${MBED[@]}" server_port="$port" "$@" >"$WORK/ms.out" 2>&1 &
    MS_PID=$!
    PIDS+=("$MS_PID")
    wait_udp "$port"
}

# start_relay PORT MTU: a relay on a free port to 127.0.0.1:PORT that drops
# every datagram over MTU bytes, each way; sets RELAY_PORT and RELAY_PID.
start_relay() {
    RELAY_PORT=$(free_port)
    timeout 30 "$RELAY" -l "$RELAY_PORT" -s "127.0.0.1:$1" --mtu "$2" 2>"$WORK/relay.err" &
    RELAY_PID=$!
    PIDS+=("$RELAY_PID")
    wait_udp "$RELAY_PORT"
}

# relay_fitted: stop the relay; true when it counted both directions and
# dropped nothing over its MTU.
relay_fitted() {
    stop_pid "$RELAY_PID"
    [ "$(grep -c ', 0 over MTU$' "$WORK/relay.err")" = 2 ]
}

# mtu_flags MTU: the MTU option of each side (none for "default").
mtu_flags() {
    OUR_MTU=() MB_MTU=()
    if [ "$1" != default ]; then OUR_MTU=(--mtu "$1"); MB_MTU=(mtu="$1"); fi
}

# our client -> ssl_server2. $1 suite, $2 auth, $3 mtu (default|N: through
# the relay). ssl_server2 prints our line; we print its answer.
client_case() {
    local suite=$1 auth=$2 mtu=$3 name port dport line what mbextra=()
    name=$(mbed_name "$suite")
    what="$suite, auth=$auth, mtu=$mtu"
    line="to-mbedtls $suite auth=$auth mtu=$mtu"
    auth_flags "$auth"
    mtu_flags "$mtu"
    # ssl_server2's 150-byte answer would not fit MTU 150 with its record
    # header, and Mbed TLS does not split application data: shorten it.
    [ "$mtu" != default ] && mbextra=(response_size=64)
    port=$(free_port)
    start_mbed_server "$port" "${MB_S[@]}" force_ciphersuite="$name" "${MB_MTU[@]}" "${mbextra[@]}" ||
        { fail "client $what: ssl_server2 did not start"; show "$WORK/ms.out"; stop_pid "$MS_PID"; return; }
    dport=$port
    if [ "$mtu" != default ]; then
        start_relay "$port" "$mtu" || { fail "client $what: relay did not start"; stop_pid "$MS_PID"; return; }
        dport=$RELAY_PORT
    fi
    printf '%s\n' "$line" | timeout 15 "$ECHO_BIN" -c 127.0.0.1 -p "$dport" "${OUR_C[@]}" \
        --ciphers "$suite" "${OUR_MTU[@]}" >"$WORK/c.out" 2>"$WORK/c.err"
    local rc=$?
    sleep 0.2
    if [ "$mtu" != default ] && ! relay_fitted; then
        fail "client $what: datagrams over the MTU"; show "$WORK/relay.err"
    elif [ "$rc" -eq 0 ] && grep -q "^HTTP/1.0 200 OK" "$WORK/c.out" &&
        sed -n '/Read from client/,$p' "$WORK/ms.out" | grep -qF "$line" &&
        grep -qF "Ciphersuite is $name ]" "$WORK/ms.out"; then
        pass "dtls-echo client -> ssl_server2, $what"
    else
        fail "client $what: rc=$rc $(cat "$WORK/c.err")"; show "$WORK/c.out" "$WORK/ms.out"
    fi
    stop_pid "$MS_PID"
}

# ssl_client2 -> our server, which echoes its request. Same arguments.
server_case() {
    local suite=$1 auth=$2 mtu=$3 name port dport page pid what
    name=$(mbed_name "$suite")
    what="$suite, auth=$auth, mtu=$mtu"
    page="/from-mbedtls/$suite/$auth/mtu=$mtu"
    auth_flags "$auth"
    mtu_flags "$mtu"
    port=$(free_port)
    timeout 30 "$ECHO_BIN" -s -A 127.0.0.1 -p "$port" "${OUR_S[@]}" --ciphers "$suite" \
        "${OUR_MTU[@]}" 2>"$WORK/s.err" &
    pid=$!
    PIDS+=("$pid")
    wait_udp "$port" || { fail "server $what: dtls-echo did not start"; stop_pid "$pid"; return; }
    dport=$port
    if [ "$mtu" != default ]; then
        start_relay "$port" "$mtu" || { fail "server $what: relay did not start"; stop_pid "$pid"; return; }
        dport=$RELAY_PORT
    fi
    timeout 15 "$SSL_CLIENT" "${MBED[@]}" server_port="$dport" "${MB_C[@]}" \
        force_ciphersuite="$name" request_page="$page" read_timeout=5000 "${MB_MTU[@]}" \
        >"$WORK/mc.out" 2>&1
    local rc=$?
    if [ "$mtu" != default ] && ! relay_fitted; then
        fail "server $what: datagrams over the MTU"; show "$WORK/relay.err"
    elif [ "$rc" -eq 0 ] && sed -n '/Read from server/,$p' "$WORK/mc.out" | grep -qF "GET $page HTTP/1.0" &&
        grep -q "established, $suite" "$WORK/s.err"; then
        pass "ssl_client2 -> dtls-echo server, $what"
    else
        fail "server $what: rc=$rc, no echo"; show "$WORK/mc.out" "$WORK/s.err"
    fi
    stop_pid "$pid"
}

# ssl_client2 -> coaps-server. Its request "GET / HTTP/1.0..." is no CoAP
# message, but its first byte 'G' (0x47) reads as version 1, type CON: a
# malformed CON, which the server answers with a Reset (RFC 7252 4.2):
# 4 bytes, the first 0x70 ('p': version 1, type RST, no token).
# $1 auth (psk|mutual)
coaps_server_case() {
    local auth=$1 port pid flags=()
    case $auth in
    psk) flags=(--psk "$PSK_ID:0x$PSK_HEX" --hint "$HINT") ;;
    mutual) flags=(-c "$CERTS/server.pem" -j "$CERTS/server.key" -C "$CERTS/ca.pem" --require-client-cert) ;;
    esac
    auth_flags "$auth"
    port=$(free_port)
    timeout 30 "$BUILD/coaps-server" -A 127.0.0.1 --no-coap --coaps-port "$port" -v info \
        "${flags[@]}" >"$WORK/cs.out" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    wait_udp "$port" || { fail "coaps-server/$auth: did not start"; show "$WORK/cs.out"; stop_pid "$pid"; return; }
    timeout 15 "$SSL_CLIENT" "${MBED[@]}" server_port="$port" "${MB_C[@]}" read_timeout=5000 \
        >"$WORK/mc.out" 2>&1
    local rc=$?
    if [ "$rc" -eq 0 ] && grep -A2 "Read from server: 4 bytes read" "$WORK/mc.out" | grep -q '^p' &&
        grep -q "established, TLS_" "$WORK/cs.out"; then
        pass "ssl_client2 -> coaps-server, auth=$auth: session up, Reset to its non-CoAP request"
    else
        fail "coaps-server/$auth: rc=$rc"; show "$WORK/mc.out" "$WORK/cs.out"
    fi
    stop_pid "$pid"
}

# coaps-client -> ssl_server2. ssl_server2 prints our GET /light (the
# Uri-Path option's bytes) and answers HTTP, which is no CoAP message, then
# closes: the client reports close_notify from the server, not a handshake
# failure. $1 auth (psk|mutual)
coaps_client_case() {
    local auth=$1 port flags=()
    case $auth in
    psk) flags=(-k "$PSK_TEXT" -u "$PSK_ID") ;;
    mutual) flags=(-C "$CERTS/ca.pem" -c "$CERTS/client.pem" -j "$CERTS/client.key") ;;
    esac
    auth_flags "$auth"
    port=$(free_port)
    start_mbed_server "$port" "${MB_S[@]}" ||
        { fail "coaps-client/$auth: ssl_server2 did not start"; stop_pid "$MS_PID"; return; }
    timeout 15 "$BUILD/coaps-client" -B 5 "${flags[@]}" "coaps://127.0.0.1:$port/light" \
        >"$WORK/c.out" 2>"$WORK/c.err"
    # ssl_server2 prints the byte count of what it read, then the bytes as a
    # C string, which stops at the first zero byte of the random Message ID
    # or token: so the check is the count. GET /light with our 8-byte token
    # is 18 bytes (RFC 7252 3: 4-byte header, token, Uri-Path option 1 + 5).
    local i
    for i in $(seq 50); do
        grep -qa "Read from client: 18 bytes read" "$WORK/ms.out" && break
        sleep 0.1
    done
    if grep -qa "Read from client: 18 bytes read" "$WORK/ms.out" &&
        grep -q "alert close_notify from server" "$WORK/c.err"; then
        pass "coaps-client -> ssl_server2, auth=$auth: GET /light delivered"
    else
        fail "coaps-client/$auth: $(cat "$WORK/c.err")"; show "$WORK/ms.out"
    fi
    stop_pid "$MS_PID"
}

# ssl_client2 offering a session ticket -> dtls-echo server. The ticket is
# ssl_server2's (RFC 5077): ssl_client2 connects through a relay to it,
# gets a ticket and closes; while it waits reco_delay (3 s) the relay is
# restarted on the same port towards our server, so the client's
# reconnection offers the ticket to us (our server was up before; only the
# relay's restart must fit in the delay). We do not resume: we ignore the
# extension and do a full handshake (our ServerHello's empty session_id
# tells the client so). With a ticket, Mbed TLS 2.28 writes a fresh
# session_id into every ClientHello, the one after our HelloVerifyRequest
# too (RFC 5077 3.4 lets it pick one; RFC 6347 4.2.1 would have it repeat
# it), so a cookie over session_id made it loop on HelloVerifyRequests
# (src/dtls/cookie.h); 3.6 repeats it. Checked in the client's debug output
# (level 3; line-buffered by stdbuf, to tell when the first session is
# over; kept to 8 MiB by ulimit, as that loop writes hundreds): after the
# reconnection, the ticket was sent, at most two HelloVerifyRequests came,
# and the request came back. $1 name, $2 ssl_client2, $3 its reco_delay
# for 3 s (3.6: ms; 2.28: s).
ticket_case() {
    local name=$1 client=$2 delay=$3 suite=TLS_PSK_WITH_AES_128_CCM_8 port eport rport pid
    local rpid mpid rc page="/ticket/$name" reco="$WORK/mc.reco" hvrs i
    port=$(free_port)
    start_mbed_server "$port" "${MBED_PSK[@]}" tickets=1 force_ciphersuite="$(mbed_name "$suite")" ||
        { fail "ticket $name: ssl_server2 did not start"; stop_pid "$MS_PID"; return; }
    eport=$(free_port)
    timeout 40 "$ECHO_BIN" -s -A 127.0.0.1 -p "$eport" --psk "$PSK_ID:0x$PSK_HEX" --hint "$HINT" \
        --ciphers "$suite" 2>"$WORK/s.err" &
    pid=$!
    PIDS+=("$pid")
    wait_udp "$eport" || { fail "ticket $name: dtls-echo did not start"; stop_pid "$pid"; stop_pid "$MS_PID"; return; }
    rport=$(free_port)
    timeout 40 "$RELAY" -l "$rport" -s "127.0.0.1:$port" 2>/dev/null &
    rpid=$!
    PIDS+=("$rpid")
    wait_udp "$rport" || { fail "ticket $name: relay did not start"; stop_pid "$rpid"; stop_pid "$pid"; stop_pid "$MS_PID"; return; }
    (ulimit -f 8192 # KiB: 8 MiB
     exec timeout 30 stdbuf -oL "$client" "${MBED[@]}" server_port="$rport" "${MBED_PSK[@]}" \
        tickets=1 reconnect=1 reco_delay="$delay" request_page="$page" read_timeout=5000 \
        debug_level=3 >"$WORK/mc.out" 2>&1) &
    mpid=$!
    PIDS+=("$mpid")
    for i in $(seq 100); do
        grep -q "Closing the connection" "$WORK/mc.out" && break
        sleep 0.1
    done
    stop_pid "$rpid"
    stop_pid "$MS_PID"
    grep -q "Closing the connection" "$WORK/mc.out" ||
        { fail "ticket $name: no first session with ssl_server2"; show "$WORK/mc.out" "$WORK/ms.out"; stop_pid "$mpid"; stop_pid "$pid"; return; }
    timeout 40 "$RELAY" -l "$rport" -s "127.0.0.1:$eport" 2>/dev/null &
    rpid=$!
    PIDS+=("$rpid")
    wait_udp "$rport" || { fail "ticket $name: relay did not restart"; stop_pid "$rpid"; stop_pid "$pid"; stop_pid "$mpid"; return; }
    wait "$mpid"
    rc=$?
    sed -n '/Reconnecting with saved session/,$p' "$WORK/mc.out" >"$reco"
    hvrs=$(grep -c "received hello verify request" "$reco")
    if [ "$rc" -eq 0 ] && grep -q "sending session ticket of length" "$reco" && [ "$hvrs" -ge 1 ] &&
        [ "$hvrs" -le 2 ] && sed -n '/Read from server/,$p' "$reco" | grep -qF "GET $page HTTP/1.0" &&
        grep -q "established, $suite" "$WORK/s.err"; then
        pass "ssl_client2 ($name) offering a ticket -> dtls-echo server: ticket ignored, full handshake after $hvrs HelloVerifyRequest(s)"
    else
        fail "ticket $name: rc=$rc, $hvrs HelloVerifyRequests after the reconnection"
        grep -v "^ssl_\|^[a-z_0-9]*\.c:" "$reco" | tail -n 40
        show "$WORK/s.err"
    fi
    stop_pid "$rpid"
    stop_pid "$pid"
}

# Refusals, our client -> ssl_server2. $1 what, $2 ssl_server2's auth, $3
# the reason expected in our stderr, $4 the one in ssl_server2's output,
# then our client's flags.
client_refused() {
    local what=$1 auth=$2 want=$3 mbwant=$4 port; shift 4
    auth_flags "$auth"
    port=$(free_port)
    start_mbed_server "$port" "${MB_S[@]}" ||
        { fail "refuse $what: ssl_server2 did not start"; stop_pid "$MS_PID"; return; }
    if echo "must not pass" | timeout 15 "$ECHO_BIN" -c 127.0.0.1 -p "$port" --timeout 2500 "$@" \
        >"$WORK/c.out" 2>"$WORK/c.err"; then
        fail "refuse $what: our client got through"; show "$WORK/c.out" "$WORK/ms.out"
    elif sleep 0.2 && grep -qF -- "$want" "$WORK/c.err" && grep -qF -- "$mbwant" "$WORK/ms.out" &&
        ! grep -q "Read from client" "$WORK/ms.out"; then
        pass "dtls-echo client -> ssl_server2 refused, $what: $(cat "$WORK/c.err") / $mbwant"
    else
        fail "refuse $what: wrong reason: $(cat "$WORK/c.err")"; show "$WORK/ms.out"
    fi
    stop_pid "$MS_PID"
}

# Refusals, ssl_client2 -> our server. $1 what, $2 our server's auth, $3
# the reason expected in our server's stderr, $4 the one in ssl_client2's
# output, then ssl_client2's parameters.
server_refused() {
    local what=$1 auth=$2 want=$3 mbwant=$4 port pid; shift 4
    auth_flags "$auth"
    port=$(free_port)
    timeout 30 "$ECHO_BIN" -s -A 127.0.0.1 -p "$port" "${OUR_S[@]}" 2>"$WORK/s.err" &
    pid=$!
    PIDS+=("$pid")
    wait_udp "$port" || { fail "refuse $what: dtls-echo did not start"; stop_pid "$pid"; return; }
    if timeout 15 "$SSL_CLIENT" "${MBED[@]}" server_port="$port" read_timeout=3000 "$@" \
        >"$WORK/mc.out" 2>&1; then
        fail "refuse $what: ssl_client2 got through"; show "$WORK/mc.out" "$WORK/s.err"
    elif sleep 0.2 && grep -qF -- "$want" "$WORK/s.err" && grep -qF -- "$mbwant" "$WORK/mc.out" &&
        ! grep -q "established" "$WORK/s.err"; then
        pass "ssl_client2 -> dtls-echo server refused, $what: $(grep -F -- "$want" "$WORK/s.err") / $mbwant"
    else
        fail "refuse $what: wrong reason"; show "$WORK/mc.out" "$WORK/s.err"
    fi
    stop_pid "$pid"
}

have_suites=$("$SSL_CLIENT" help_ciphersuites 2>/dev/null | awk '{print $1}')
have() { grep -qxF -- "$(mbed_name "$1")" <<<"$have_suites"; }

# 1. PSK, every suite, both directions.
for suite in $IANA_SUITES; do
    if ! have "$suite"; then skip "$suite: not in this Mbed TLS"; continue; fi
    client_case "$suite" psk default
    server_case "$suite" psk default
done
coaps_server_case psk
coaps_client_case psk

# 2./3. ECDHE_ECDSA: server authentication only, then mutual with every suite.
client_case TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 server default
server_case TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 server default
for suite in $ECDHE_SUITES; do
    if ! have "$suite"; then skip "$suite: not in this Mbed TLS"; continue; fi
    client_case "$suite" mutual default
    server_case "$suite" mutual default
done
coaps_server_case mutual
coaps_client_case mutual

# 4. Certificate flights (both ways, mutual) in fragments through the relay.
for mtu in 256 150; do
    client_case TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 mutual "$mtu"
    server_case TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 mutual "$mtu"
done

# 5. A client that offers a session ticket, of 3.6 and of 2.28.
ticket_case mbedtls-3.6 "$SSL_CLIENT" 3000
ticket_case mbedtls-2.28 "$SSL_CLIENT_228" 3

# 6. Refusals. Mbed TLS answers a Finished under the wrong key with
# bad_record_mac; it sends no alert when a required client certificate is
# missing, so our client then gives up after its --timeout.
client_refused "wrong PSK" psk "alert received: bad_record_mac" \
    "Verification of the message MAC failed" --psk "$PSK_ID:not-the-key"
client_refused "untrusted CA" server "alert sent: unknown_ca" \
    "fatal alert message was received" -C "$CERTS/other-ca.pem"
client_refused "wrong name" server "name mismatch: expected wrong.example" \
    "fatal alert message was received" -C "$CERTS/ca.pem" --server-name wrong.example
client_refused "no client certificate" mutual "handshake failed: timeout" \
    "No client certification received" -C "$CERTS/ca.pem" --server-name localhost
server_refused "wrong PSK" psk "alert sent: bad_record_mac" \
    "fatal alert message was received" psk=00112233 psk_identity="$PSK_ID"
server_refused "untrusted CA" server "alert received: unknown_ca" \
    "not correctly signed by the trusted CA" ca_file="$CERTS/other-ca.pem" auth_mode=required
server_refused "wrong name" server "alert received: bad_certificate" \
    "does not match with the expected CN" ca_file="$CERTS/ca.pem" server_name=wrong.example \
    auth_mode=required
server_refused "no client certificate" mutual "alert sent: handshake_failure (no certificate)" \
    "fatal alert message was received" ca_file="$CERTS/ca.pem" auth_mode=required \
    crt_file=none key_file=none

echo "mbedtls interop: $PASS passed, $FAILS failed, $SKIPS skipped"
[ "$FAILS" -eq 0 ] && [ "$PASS" -gt 0 ]
