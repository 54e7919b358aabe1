#!/usr/bin/env bash
# test_dtls_resume_client.sh - our coaps-client resuming sessions
# (RFC 5246 7.3, `--session FILE`) with real servers: openssl s_server
# -dtls1_2, Mbed TLS 3.6's ssl_server2, gnutls-serv --udp and libcoap's
# coap-server-openssl: the first run makes a full handshake and saves the
# session, the second resumes it. libcoap's coap-server-gnutls keeps no
# sessions: the offer is answered with a full handshake, which must just
# work. A damaged session file gives one warning line and a full
# handshake; a session of another server is simply not resumed.
set -euo pipefail
. "${COAPS_SOURCE_DIR:?}/scripts/lib/common.sh"
. "$COAPS_SOURCE_DIR/tests/interop/coaps_test_lib.sh"
need_program openssl
need_program gnutls-serv
need_program coap-server-openssl
need_program coap-server-gnutls
MBEDTLS=$(bash "$COAPS_SOURCE_DIR/scripts/install-mbedtls" --prefix) ||
    die "no Mbed TLS 3.6 build (scripts/install-mbedtls)"
KEYHEX=$(printf '%s' "$DEMO_KEY" | od -An -tx1 | tr -d ' \n')

# client NAME PORT PATH: coaps-client with the session file $TEST_TMP/NAME.sess;
# stderr (its -v info log) in $TEST_TMP/NAME.err, exit status in $RC. The
# TLS test servers speak no CoAP: the GET gets no answer (after -B 2), but
# the handshake, what counts here, is in the log.
client() {
    RC=0
    timeout 15 "$COAPS_BUILD_DIR/coaps-client" -B 2 -v info --session "$TEST_TMP/$1.sess" \
        -k "$DEMO_KEY" -u dev1 "coaps://127.0.0.1:$2/$3" >"$TEST_TMP/$1.out" 2>"$TEST_TMP/$1.err" ||
        RC=$?
}

# twice NAME PORT PATH WANT [coap]: a first run (full handshake), then a
# second that is resumed (WANT=resumed) or not (WANT=full); with coap, a
# CoAP server, each run must also succeed.
twice() {
    local name=$1 port=$2 path=$3 want=$4 coap=${5:-}
    rm -f "$TEST_TMP/$name.sess"
    client "$name" "$port" "$path"
    [ -z "$coap" ] || check_eq "$name: first run exit 0" 0 "$RC"
    if grep -q "established" "$TEST_TMP/$name.err" && ! grep -q "resumed" "$TEST_TMP/$name.err"
    then pass "$name: first run is a full handshake"
    else fail "$name: first run" "$(cat "$TEST_TMP/$name.err")"; fi
    client "$name" "$port" "$path"
    [ -z "$coap" ] || check_eq "$name: second run exit 0" 0 "$RC"
    if [ "$want" = resumed ]; then
        check_contains "$name: second run resumed" "resumed" "$(grep established "$TEST_TMP/$name.err")"
    else
        if grep -q "resumed" "$TEST_TMP/$name.err"; then fail "$name: resumed by a server without a cache"
        else pass "$name: a full handshake again, no error"; fi
    fi
}

port=$(free_udp_port)
start_bg s_server timeout 60 sh -c "sleep 60 | exec openssl s_server -dtls1_2 -accept $port -nocert -psk $KEYHEX -psk_hint CoAP -quiet"
wait_udp_port "$port" 10 || die "openssl s_server did not start"
twice openssl "$port" light resumed

port=$(free_udp_port)
start_bg ssl_server2 timeout 60 "$MBEDTLS/bin/ssl_server2" dtls=1 server_addr=127.0.0.1 \
    server_port="$port" psk="$KEYHEX" psk_identity=dev1 hs_timeout=500-4000
wait_udp_port "$port" 10 || die "ssl_server2 did not start"
twice mbedtls "$port" light resumed

port=$(free_udp_port)
printf 'dev1:%s\n' "$KEYHEX" >"$TEST_TMP/psk.txt"
start_bg gnutls timeout 60 gnutls-serv --udp -p "$port" --pskpasswd "$TEST_TMP/psk.txt" \
    --priority "NORMAL:+PSK:+VERS-DTLS1.2"
wait_udp_port "$port" 10 || die "gnutls-serv did not start"
twice gnutls "$port" light resumed

# libcoap binds coap:// on P and coaps:// on P+1
start_libcoap() {
    local tls=$1 try p
    for try in 1 2 3 4 5; do
        p=$(free_udp_port)
        [ -z "$(ss -Htuan "( sport = :$p or sport = :$((p + 1)) )" 2>/dev/null)" ] || continue
        start_bg "libcoap-$tls" timeout 60 "coap-server-$tls" -A 127.0.0.1 -p "$p" -k "$DEMO_KEY" -h CoAP
        LPORT=$((p + 1))
        wait_udp_port "$LPORT" 10 && return 0
    done
    die "coap-server-$tls did not start"
}
start_libcoap openssl
twice libcoap-openssl "$LPORT" "" resumed coap
start_libcoap gnutls
twice libcoap-gnutls "$LPORT" "" full coap

# A damaged file: one warning, a full handshake, a sound file again after.
printf 'not a session' >"$TEST_TMP/openssl.sess"
port=$(free_udp_port)
start_bg s_server2 timeout 60 sh -c "sleep 60 | exec openssl s_server -dtls1_2 -accept $port -nocert -psk $KEYHEX -psk_hint CoAP -quiet"
wait_udp_port "$port" 10 || die "openssl s_server did not start"
client openssl "$port" light
check_eq "damaged file: one warning line" 1 "$(grep -c "warning: session file .*damaged" "$TEST_TMP/openssl.err" || true)"
client openssl "$port" light
check_contains "damaged file: replaced, resumed on the next run" "resumed" "$(cat "$TEST_TMP/openssl.err")"

# The session of one server offered to another: not resumed, no warning.
cp "$TEST_TMP/mbedtls.sess" "$TEST_TMP/foreign.sess"
client foreign "$port" light
if grep -qE "resumed|warning" "$TEST_TMP/foreign.err"; then fail "foreign session" "$(cat "$TEST_TMP/foreign.err")"
else pass "foreign session: a full handshake, no warning"; fi

finish
