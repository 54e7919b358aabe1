#!/usr/bin/env bash
# test_dtls_tickets.sh - session tickets (RFC 5077) with real peers, both
# roles, where only a ticket can resume: the server keeps no sessions.
#
# Server role: coaps-server --session-cache 0 (stateless) against openssl
# s_client -dtls1_2 (-sess_out/-sess_in), gnutls-cli --udp --resume and
# Mbed TLS 3.6's ssl_client2 tickets=1 reconnect=1: each second connection
# resumed from the ticket, which openssl's session file shows with our
# lifetime hint (3600 s). A ticket with one byte flipped gets a full
# handshake. With --ticket-key the tickets survive a restart; a server with
# another key, or none, answers the old ticket with a full handshake, and
# so does one with the right key but --no-tickets, which also gives none.
#
# Client role: coaps-client --session FILE against openssl s_server
# -no_cache, gnutls-serv --nodb and ssl_server2 cache_max=0 (tickets on):
# the second run is resumed; the same session file used with --no-tickets
# (the session ID alone, which these servers forget) is not. A ticket the
# server cannot open gets a full handshake and is replaced.
set -euo pipefail
. "${COAPS_SOURCE_DIR:?}/scripts/lib/common.sh"
. "$COAPS_SOURCE_DIR/tests/interop/coaps_test_lib.sh"
need_program openssl
need_program gnutls-cli
need_program gnutls-serv
MBEDTLS=$(bash "$COAPS_SOURCE_DIR/scripts/install-mbedtls" --prefix) ||
    die "no Mbed TLS 3.6 build (scripts/install-mbedtls)"
KEYHEX=$(printf '%s' "$DEMO_KEY" | od -An -tx1 | tr -d ' \n')

# ---- helpers ---------------------------------------------------------------

# s_client NAME ARGS...: one openssl s_client session (stdin held open
# 1.5 s so the handshake completes), output in $TEST_TMP/NAME.out.
s_client() {
    local name=$1; shift
    (sleep 1.5) | timeout 10 openssl s_client -dtls1_2 -connect "127.0.0.1:$COAPS_PORT" \
        -psk_identity dev1 -psk "$KEYHEX" "$@" >"$TEST_TMP/$name.out" 2>&1 || true
}

# s_client_expect NAME New|Reused ARGS...: s_client and check its verdict.
s_client_expect() {
    local name=$1 want=$2; shift 2
    s_client "$name" "$@"
    check_in_file "$name: $want" "$want, TLSv1.2" "$TEST_TMP/$name.out"
}

# resumed_count NAME: sessions our server NAME logged as resumed so far.
resumed_count() { grep -c "established, .* (resumed)" "$TEST_TMP/$1.log" || true; }
established_count() { grep -c "established, " "$TEST_TMP/$1.log" || true; }

# check_in_file NAME TEXT FILE: FILE holds TEXT (a fixed string).
check_in_file() {
    if grep -qF -- "$2" "$3"; then pass "$1"
    else fail "$1" "[$2] not in $(basename "$3"), which ends: $(tail -3 "$3" | tr '\n' '|')"; fi
}

# stateless NAME ARGS...: our server keeping no sessions (only tickets resume).
stateless() {
    local name=$1; shift
    start_dtls_server "$name" --psk-default "$DEMO_KEY" -v info --session-cache 0 "$@"
}

# stop_server NAME RESUMED: stop our server, check it lived to the end and
# that its exit statistics count RESUMED resumptions.
stop_server() {
    server_alive "$1" && pass "$1: server alive" || fail "$1: server died" "$(tail -5 "$TEST_TMP/$1.log")"
    stop_bg "$1"
    check_contains "$1: stats count $2 resumed" "resumed $2," "$(grep "coaps: hello-verify" "$TEST_TMP/$1.log")"
}

# saved PEM: openssl saved a session (it saves only a resumable one: with
# a ticket or a session ID); the steps after need it.
saved() { [ -s "$1" ] || die "openssl saved no session in $(basename "$1"): neither ticket nor session ID"; }

# ticket_hex PEM: the session ticket of an openssl session file, in hex
# (from the dump of `openssl sess_id -text`: offset, " - ", 16 bytes).
ticket_hex() {
    openssl sess_id -in "$1" -noout -text | awk '
        /TLS session ticket:/ { on = 1; next }
        on && /^ *[0-9a-f][0-9a-f][0-9a-f][0-9a-f] - / {
            sub(/^ *[0-9a-f][0-9a-f][0-9a-f][0-9a-f] - /, ""); print substr($0, 1, 47); next }
        on { exit }' | tr -d ' \n-'
}

# ---- server role -----------------------------------------------------------

# 1. openssl s_client: a ticket (lifetime hint 3600 s), then resumed from it.
stateless srv-os
s_client_expect os-1 New -sess_out "$TEST_TMP/os.pem"
saved "$TEST_TMP/os.pem"
openssl sess_id -in "$TEST_TMP/os.pem" -noout -text >"$TEST_TMP/os.txt"
check_in_file "openssl: the session holds our ticket's lifetime hint" \
    "TLS session ticket lifetime hint: 3600 (seconds)" "$TEST_TMP/os.txt"
TICKET=$(ticket_hex "$TEST_TMP/os.pem")
[ "${#TICKET}" -ge 64 ] && pass "openssl: the session holds a ticket (${#TICKET} hex digits)" ||
    fail "openssl: no ticket in the session" "$(cat "$TEST_TMP/os.txt")"
s_client_expect os-2 Reused -sess_in "$TEST_TMP/os.pem"
check_eq "openssl: the server resumed it" 1 "$(resumed_count srv-os)"

# 5. One byte of that ticket flipped (inside the sealed state): the server
# cannot open it and makes a full handshake; the intact ticket still resumes.
[ -n "$TICKET" ] || die "no ticket to damage"
openssl sess_id -in "$TEST_TMP/os.pem" -outform DER -out "$TEST_TMP/os.der"
DER=$(od -An -v -tx1 "$TEST_TMP/os.der" | tr -d ' \n')
mid=$((${#TICKET} / 4 * 2)) # the middle byte: past our key name and nonce
flip=$(printf '%02x' $((0x${TICKET:mid:2} ^ 0x01)))
BAD_TICKET=${TICKET:0:mid}$flip${TICKET:mid+2}
check_eq "damaged ticket: the ticket occurs once in the session's DER" 1 \
    "$(grep -o "$TICKET" <<<"$DER" | wc -l)"
printf '%b' "$(sed 's/../\\x&/g' <<<"${DER/$TICKET/$BAD_TICKET}")" >"$TEST_TMP/bad.der"
openssl sess_id -inform DER -in "$TEST_TMP/bad.der" -out "$TEST_TMP/bad.pem"
check_eq "damaged ticket: the session file carries it" "$BAD_TICKET" "$(ticket_hex "$TEST_TMP/bad.pem")"
s_client_expect os-bad New -sess_in "$TEST_TMP/bad.pem"
check_eq "damaged ticket: a full handshake established" 3 "$(established_count srv-os)"
check_eq "damaged ticket: nothing more resumed" 1 "$(resumed_count srv-os)"
s_client_expect os-good Reused -sess_in "$TEST_TMP/os.pem"
stop_server srv-os 2

# 2-3. gnutls-cli and ssl_client2 on a stateless server.
gnutls_resume() {
    echo | timeout 15 gnutls-cli --udp --resume --pskusername dev1 --pskkey "$KEYHEX" \
        --priority "NORMAL:+PSK:+VERS-DTLS1.2" -p "$COAPS_PORT" 127.0.0.1 >"$TEST_TMP/$1.out" 2>&1 || true
    check_in_file "$1: gnutls-cli's second handshake completed" "Resume Handshake was completed" \
        "$TEST_TMP/$1.out"
}
# ssl_client2 says at debug level 3 whether it got and offered a ticket and
# whether the server resumed its session.
mbed_reconnect() {
    local rc=0
    timeout 20 "$MBEDTLS/bin/ssl_client2" dtls=1 server_addr=127.0.0.1 server_port="$COAPS_PORT" \
        psk="$KEYHEX" psk_identity=dev1 reconnect=1 tickets=1 hs_timeout=500-4000 debug_level=3 \
        >"$TEST_TMP/$1.out" 2>&1 || rc=$?
    check_eq "$1: ssl_client2 exit 0" 0 "$rc"
    check_in_file "$1: reconnected" "Reconnecting with saved session" "$TEST_TMP/$1.out"
}
mbed_resumed() { grep -c "a session has been resumed" "$TEST_TMP/$1.out" || true; }

stateless srv
gnutls_resume gnutls
check_in_file "gnutls-cli --resume: resumed" "This is a resumed session" "$TEST_TMP/gnutls.out"
check_eq "gnutls-cli: the server resumed it" 1 "$(resumed_count srv)"
mbed_reconnect mbed
check_in_file "ssl_client2: got a ticket" "parse new session ticket" "$TEST_TMP/mbed.out"
check_in_file "ssl_client2: offered it on reconnect" "sending session ticket of length" "$TEST_TMP/mbed.out"
check_eq "ssl_client2: its reconnection resumed" 1 "$(mbed_resumed mbed)"
check_eq "ssl_client2: the server resumed it" 2 "$(resumed_count srv)"
stop_server srv 2

# 4. Tickets across a restart: the same --ticket-key opens them, another key
# or none does not (a full handshake, no failure).
openssl rand -hex 32 >"$TEST_TMP/k1.key"
openssl rand -hex 32 >"$TEST_TMP/k2.key"
stateless k1 --ticket-key "$TEST_TMP/k1.key"
s_client_expect k1-os New -sess_out "$TEST_TMP/k1.pem"
saved "$TEST_TMP/k1.pem"
stop_server k1 0
stateless k1-again --ticket-key "$TEST_TMP/k1.key"
s_client_expect k1-again-os Reused -sess_in "$TEST_TMP/k1.pem"
stop_server k1-again 1
stateless k2 --ticket-key "$TEST_TMP/k2.key"
s_client_expect k2-os New -sess_in "$TEST_TMP/k1.pem"
check_eq "another key: the full handshake completed" 1 "$(established_count k2)"
stop_server k2 0
stateless nokey
s_client_expect nokey-os New -sess_in "$TEST_TMP/k1.pem"
check_eq "no key file: the full handshake completed" 1 "$(established_count nokey)"
stop_server nokey 0

# Negative controls: --no-tickets, with the very key that opens k1.pem's
# ticket: that ticket, and the clients' own offers, get full handshakes.
stateless off --no-tickets --ticket-key "$TEST_TMP/k1.key"
s_client_expect off-os New -sess_in "$TEST_TMP/k1.pem"
if grep -q "TLS session ticket" "$TEST_TMP/off-os.out"
then fail "--no-tickets: openssl got a ticket"; else pass "--no-tickets: openssl got no ticket"; fi
gnutls_resume off-gnutls
if grep -q "This is a resumed session" "$TEST_TMP/off-gnutls.out"
then fail "--no-tickets: gnutls-cli resumed"; else pass "--no-tickets: gnutls-cli not resumed"; fi
mbed_reconnect off-mbed
check_eq "--no-tickets: ssl_client2 not resumed" 0 "$(mbed_resumed off-mbed)"
check_eq "--no-tickets: every handshake completed (openssl, 2 gnutls, 2 Mbed TLS)" 5 \
    "$(established_count off)"
stop_server off 0

# A bad key file is the user's error: one line naming the file, exit 1.
printf 'not hex\n' >"$TEST_TMP/bad.key"
rc=0
timeout 10 "$COAPS_BUILD_DIR/coaps-server" -p 0 --coaps-port 0 --psk-default "$DEMO_KEY" \
    --ticket-key "$TEST_TMP/bad.key" >"$TEST_TMP/badkey.out" 2>&1 || rc=$?
check_eq "bad --ticket-key file: exit 1" 1 "$rc"
check_eq "bad --ticket-key file: one line" 1 "$(wc -l <"$TEST_TMP/badkey.out")"
check_in_file "bad --ticket-key file: names the file" "$TEST_TMP/bad.key" "$TEST_TMP/badkey.out"

# ---- client role -----------------------------------------------------------

# client NAME PORT [FLAGS...]: coaps-client with the session file
# $TEST_TMP/NAME.sess; its -v info log in $TEST_TMP/NAME-RUN.err (RUN
# counts the runs). The TLS test servers speak no CoAP: the GET gets no
# answer (after -B 2), but the handshake, what counts here, is in the log.
declare -A RUNS
client() {
    local name=$1 port=$2; shift 2
    RUNS[$name]=$((${RUNS[$name]:-0} + 1))
    LAST=$TEST_TMP/$name-${RUNS[$name]}.err
    timeout 15 "$COAPS_BUILD_DIR/coaps-client" -B 2 -v info --session "$TEST_TMP/$name.sess" \
        -k "$DEMO_KEY" -u dev1 "$@" "coaps://127.0.0.1:$port/light" >/dev/null 2>"$LAST" || true
}

# expect_run LABEL full|resumed: the last client run's handshake.
expect_run() {
    local line
    line=$(grep "DTLS session established" "$LAST" || true)
    if [ -z "$line" ]; then fail "$1: no session established" "$(cat "$LAST")"
    elif [ "$2" = resumed ]; then check_contains "$1: resumed" ", resumed" "$line"
    elif [[ "$line" == *resumed* ]]; then fail "$1: resumed, expected a full handshake" "$line"
    else pass "$1: a full handshake"; fi
}

# sess_ticket_len FILE: the ticket length kept in our session file (format
# 2 of src/net/session_file.c: magic, version, suite, id_len, id[32],
# master secret[48], lifetime u32, ticket_len u16 at offset 93).
sess_ticket_len() {
    local head
    head=$(od -An -tx1 -N6 "$1" | tr -d ' \n')
    [ "$head" = 435345530002 ] || { echo "not a version-2 session file ($head)"; return; }
    echo $((0x$(od -An -tx1 -j93 -N2 "$1" | tr -d ' \n')))
}

# ticket_twice NAME PORT: the first run stores a ticket, the second resumes
# from it; the same file with --no-tickets (session ID only) is not resumed.
ticket_twice() {
    local name=$1 port=$2 n
    rm -f "$TEST_TMP/$name.sess"
    client "$name" "$port"
    expect_run "$name: first run" full
    n=$(sess_ticket_len "$TEST_TMP/$name.sess" 2>/dev/null || echo none)
    if [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -gt 0 ]; then pass "$name: the session file holds a $n-byte ticket"
    else fail "$name: no ticket in the session file" "$n"; fi
    client "$name" "$port"
    expect_run "$name: second run" resumed
    client "$name" "$port" --no-tickets
    expect_run "$name: the same session with --no-tickets" full
}

# 6. openssl s_server without a session cache. It reads stdin while a
# connection is up and stops at its end: a FIFO we hold open feeds it
# nothing, and the PID we kill is its own (timeout's, which passes it on).
mkfifo "$TEST_TMP/s_server.in"
exec 7<>"$TEST_TMP/s_server.in"
port=$(free_udp_port)
start_bg s_server timeout 60 bash -c 'exec openssl s_server "$@" <"$0"' "$TEST_TMP/s_server.in" \
    -dtls1_2 -accept "$port" -nocert -psk "$KEYHEX" -psk_hint CoAP -quiet -no_cache
wait_udp_port "$port" 10 || die "openssl s_server did not start"
ticket_twice openssl "$port"
# ... and a client that never asks for tickets is not resumed at all
rm -f "$TEST_TMP/openssl-nt.sess"
client openssl-nt "$port" --no-tickets
expect_run "openssl --no-tickets: first run" full
client openssl-nt "$port" --no-tickets
expect_run "openssl --no-tickets: second run" full
stop_bg s_server

# 7. gnutls-serv without its resumption database (tickets are its default).
port=$(free_udp_port)
printf 'dev1:%s\n' "$KEYHEX" >"$TEST_TMP/psk.txt"
start_bg gnutls timeout 60 gnutls-serv --udp -p "$port" --pskpasswd "$TEST_TMP/psk.txt" \
    --priority "NORMAL:+PSK:+VERS-DTLS1.2" --nodb
wait_udp_port "$port" 10 || die "gnutls-serv did not start"
ticket_twice gnutls "$port"
stop_bg gnutls

# 8. ssl_server2 with tickets and a cache that holds nothing.
port=$(free_udp_port)
start_bg ssl_server2 timeout 60 "$MBEDTLS/bin/ssl_server2" dtls=1 server_addr=127.0.0.1 \
    server_port="$port" psk="$KEYHEX" psk_identity=dev1 hs_timeout=500-4000 tickets=1 cache_max=0
wait_udp_port "$port" 10 || die "ssl_server2 did not start"
ticket_twice mbedtls "$port"
# A ticket this server cannot open (openssl's): a full handshake without a
# warning, and the ticket it gives then resumes.
cp "$TEST_TMP/openssl.sess" "$TEST_TMP/foreign.sess"
client foreign "$port"
expect_run "a foreign ticket" full
if grep -qiE "warning|error|fail" "$LAST"; then fail "a foreign ticket: no complaint" "$(cat "$LAST")"
else pass "a foreign ticket: no complaint"; fi
client foreign "$port"
expect_run "a foreign ticket, replaced: the next run" resumed
stop_bg ssl_server2

exec 7>&-
finish
