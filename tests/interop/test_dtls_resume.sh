#!/usr/bin/env bash
# test_dtls_resume.sh - session resumption by session ID (RFC 5246 7.3)
# with real clients against coaps-server: openssl s_client -dtls1_2
# (-sess_out, then -sess_in; with and without its ticket extension),
# gnutls-cli --udp --resume, and Mbed TLS 3.6's ssl_client2 reconnect=1
# (tickets off and on: a ticket we do not issue must not get in the way).
# Each must see its second connection resumed, and the server must count
# it; a server without a cache (--session-cache 0) or restarted (the cache
# gone) answers the same offer with a full handshake, never a failure.
set -euo pipefail
. "${COAPS_SOURCE_DIR:?}/scripts/lib/common.sh"
. "$COAPS_SOURCE_DIR/tests/interop/coaps_test_lib.sh"
need_program openssl
need_program gnutls-cli
MBEDTLS=$(bash "$COAPS_SOURCE_DIR/scripts/install-mbedtls" --prefix) ||
    die "no Mbed TLS 3.6 build (scripts/install-mbedtls)"
SSL_CLIENT=$MBEDTLS/bin/ssl_client2
KEYHEX=$(printf '%s' "$DEMO_KEY" | od -An -tx1 | tr -d ' \n')

# s_client NAME ARGS...: one openssl s_client session (stdin held open
# 1.5 s so the handshake completes), output in $TEST_TMP/NAME.out.
s_client() {
    local name=$1; shift
    (sleep 1.5) | timeout 10 openssl s_client -dtls1_2 -connect "127.0.0.1:$COAPS_PORT" \
        -psk_identity dev1 -psk "$KEYHEX" "$@" >"$TEST_TMP/$name.out" 2>&1 || true
}

resumed_count() { grep -c "established, .* (resumed)" "$TEST_TMP/$1.log" || true; }

# One worker (the server's default is one per CPU): a session ID is in the
# cache of the worker that made the session, and a client that reconnects
# from a new port may reach another (docs/workers.md; a ticket, below,
# resumes anywhere). What is tested here is the cache and its clients.
start_dtls_server srv --workers 1 --psk-default "$DEMO_KEY" -v info

for variant in no_ticket ticket; do
    flags=()
    [ "$variant" = no_ticket ] && flags=(-no_ticket)
    s_client "os-$variant-1" "${flags[@]}" -sess_out "$TEST_TMP/$variant.pem"
    check_contains "openssl ($variant): first connection is new" "New, TLSv1.2" \
        "$(cat "$TEST_TMP/os-$variant-1.out")"
    s_client "os-$variant-2" "${flags[@]}" -sess_in "$TEST_TMP/$variant.pem"
    check_contains "openssl ($variant): second connection reused" "Reused, TLSv1.2" \
        "$(cat "$TEST_TMP/os-$variant-2.out")"
done

echo | timeout 15 gnutls-cli --udp --resume --pskusername dev1 --pskkey "$KEYHEX" \
    --priority "NORMAL:+PSK:+VERS-DTLS1.2" -p "$COAPS_PORT" 127.0.0.1 >"$TEST_TMP/gnutls.out" 2>&1 || true
check_contains "gnutls-cli --resume: resumed" "This is a resumed session" \
    "$(cat "$TEST_TMP/gnutls.out")"

for tickets in 0 1; do
    timeout 20 "$SSL_CLIENT" dtls=1 server_addr=127.0.0.1 server_port="$COAPS_PORT" \
        psk="$KEYHEX" psk_identity=dev1 reconnect=1 tickets="$tickets" hs_timeout=500-4000 \
        >"$TEST_TMP/mbed-$tickets.out" 2>&1 && rc=0 || rc=$?
    check_eq "ssl_client2 reconnect=1 tickets=$tickets: exit 0" 0 "$rc"
    check_contains "ssl_client2 tickets=$tickets: reconnected with its session" \
        "Reconnecting with saved session... ok" "$(cat "$TEST_TMP/mbed-$tickets.out")"
done

server_alive srv && pass "server alive" || fail "server died"
stop_bg srv
check_eq "server: every second connection resumed (2 openssl, gnutls, 2 Mbed TLS)" 5 \
    "$(resumed_count srv)"
check_contains "server: stats count them" "resumed 5" "$(cat "$TEST_TMP/srv.log")"

# The same offers to a server that keeps no sessions, and to a restarted
# one (its cache gone): full handshakes.
start_dtls_server nocache --psk-default "$DEMO_KEY" -v info --session-cache 0
s_client os-nocache -no_ticket -sess_in "$TEST_TMP/no_ticket.pem"
check_contains "no cache: openssl gets a new session" "New, TLSv1.2" \
    "$(cat "$TEST_TMP/os-nocache.out")"
stop_bg nocache
check_eq "no cache: nothing resumed" 0 "$(resumed_count nocache)"
check_contains "no cache: the session was established" "established" \
    "$(cat "$TEST_TMP/nocache.log")"

start_dtls_server restarted --psk-default "$DEMO_KEY" -v info
s_client os-restarted -no_ticket -sess_in "$TEST_TMP/no_ticket.pem"
check_contains "restarted server: openssl gets a new session" "New, TLSv1.2" \
    "$(cat "$TEST_TMP/os-restarted.out")"
stop_bg restarted
check_eq "restarted server: nothing resumed" 0 "$(resumed_count restarted)"

finish
