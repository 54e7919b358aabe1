#!/usr/bin/env bash
# test_bench_smoke.sh - coaps-bench runs each mode for a second and says so
# in one JSON line: against our coaps-server (coap://, and coaps:// with
# ECDHE-ECDSA handshakes checked by CA or pinned raw public key) and
# libcoap's coap-server-openssl (coaps://, PSK, TLS_PSK_WITH_AES_128_CCM_8).
# Checks the fields of the line and that something completed; also that
# the bench reports failure when nothing can complete (no server, wrong
# path, wrong key, untrusted certificate) and refuses bad flags with one
# line. With a Connection ID (--cid 0 and 8 against our server with
# --cid 8) the bytes per datagram each way grow by exactly the CID and the
# inner content type (RFC 9146 4). No timing assertions: a benchmark's
# numbers are not a test.
set -euo pipefail
. "${COAPS_SOURCE_DIR:?}/scripts/lib/common.sh"
need_program coap-server-openssl
need_program coap-client-notls

BENCH=("timeout" 40 "$COAPS_BUILD_DIR/coaps-bench")
KEY=esp32c3_key

jnum() { # JSON KEY: the number under KEY in the one-line JSON, or empty
    sed -n "s/.*\"$2\":\(-\{0,1\}[0-9][0-9.]*\).*/\1/p" <<<"$1"
}

# check_fields NAME JSON KEY...: every KEY is in the line, which is one
# JSON object.
check_fields() {
    local name=$1 json=$2 k missing=""
    shift 2
    for k in "$@"; do
        [[ $json == *"\"$k\":"* ]] || missing+=" $k"
    done
    if [[ $json != "{"*"}" ]] || [ "$(wc -l <<<"$json")" -ne 1 ]; then
        fail "$name is one JSON line" "$json"
    elif [ -n "$missing" ]; then
        fail "$name has fields" "missing$missing in $json"
    else
        pass "$name has fields"
    fi
}

# check_positive NAME JSON KEY / check_zero NAME JSON KEY
check_positive() {
    local v
    v=$(jnum "$2" "$3")
    if [ -n "$v" ] && awk -v v="$v" 'BEGIN { exit !(v > 0) }'; then pass "$1 $3 > 0 ($v)"
    else fail "$1 $3 > 0" "got [$v] in $2"; fi
}
check_zero() { check_eq "$1 $3 == 0" 0 "$(jnum "$2" "$3")"; }

# run NAME ARGS...: coaps-bench's stdout in $OUT, exit status in $RC.
run() {
    local name=$1
    shift
    RC=0
    OUT=$("${BENCH[@]}" "$@" 2>"$TEST_TMP/$name.err") || RC=$?
    log "$name: rc $RC: $OUT $(head -c 300 "$TEST_TMP/$name.err")"
}

REQ_FIELDS=(mode scheme sessions window duration_s requests rps p50_us p99_us timeouts errors
    retransmits server_cpu_us server_cpu_us_per_op server_sys_us server_sys_us_per_op
    server_rss_kb_before server_rss_kb_after)
HS_FIELDS=(mode scheme suite sessions handshakes hps p50_us p99_us failures timeouts errors
    server_cpu_us server_cpu_us_per_op)
IDLE_FIELDS=(mode scheme sessions established setup_failed server_rss_kb_before
    server_rss_kb_after rss_per_session_bytes)

# ---- flags ---------------------------------------------------------------------
run badwindow requests --window 0
check_eq "--window 0 exits 2" 2 "$RC"
check_contains "--window 0 names the flag" "--window '0'" "$(cat "$TEST_TMP/badwindow.err")"
check_eq "--window 0 says it in one line" 1 "$(wc -l <"$TEST_TMP/badwindow.err")"
run badmode sprint
check_eq "unknown mode exits 2" 2 "$RC"
run badhs handshakes --scheme coap
check_eq "handshakes over coap:// exits 2" 2 "$RC"
run badsuite requests --scheme coaps --suite TLS_RSA_WITH_RC4_128_MD5
check_contains "unknown suite is named" "--suite 'TLS_RSA_WITH_RC4_128_MD5'" \
    "$(cat "$TEST_TMP/badsuite.err")"

# ---- our coaps-server, coap:// ------------------------------------------------------
start_coaps_server ours -A 127.0.0.1
run coap-requests requests --port "$SERVER_PORT" --sessions 2 --window 2 --duration 1 \
    --server-pid "$SERVER_PID"
check_eq "coap requests exits 0" 0 "$RC"
check_fields "coap requests" "$OUT" "${REQ_FIELDS[@]}"
check_contains "coap requests mode" '"mode":"requests","scheme":"coap"' "$OUT"
check_positive "coap requests" "$OUT" requests
check_zero "coap requests" "$OUT" errors
check_contains "coap requests with offload by default" '"gso":true' "$OUT"
# the server's kernel time is a part of its CPU time, and not nothing:
# every request costs it a trip through the UDP stack
sys_us=$(jnum "$OUT" server_sys_us) cpu_us=$(jnum "$OUT" server_cpu_us)
if [ -n "$sys_us" ] && [ -n "$cpu_us" ] && [ "$sys_us" -gt 0 ] && [ "$sys_us" -le "$cpu_us" ]; then
    pass "coap requests: server kernel time $sys_us us of $cpu_us us"
else fail "coap requests: server kernel time within its CPU time" "sys [$sys_us] cpu [$cpu_us]"; fi

run coap-requests-nogso requests --port "$SERVER_PORT" --sessions 2 --window 4 --duration 1 \
    --no-gso
check_eq "coap requests --no-gso exits 0" 0 "$RC"
check_contains "coap requests --no-gso says so" '"gso":false' "$OUT"
check_positive "coap requests --no-gso" "$OUT" requests
check_zero "coap requests --no-gso" "$OUT" errors

run coap-idle idle --port "$SERVER_PORT" --sessions 20 --duration 1 --server-pid "$SERVER_PID"
check_eq "coap idle exits 0" 0 "$RC"
check_fields "coap idle" "$OUT" "${IDLE_FIELDS[@]}"
check_eq "coap idle all 20 established" 20 "$(jnum "$OUT" established)"

# The bench must be able to report failure: a path the server does not have
# answers 4.04, which is an error and no completion.
run coap-404 requests --port "$SERVER_PORT" --path no/such --duration 1
check_eq "4.04 responses: exit 1" 1 "$RC"
check_positive "4.04 responses" "$OUT" errors
check_eq "4.04 responses: no requests counted" 0 "$(jnum "$OUT" requests)"
stop_bg ours

# Nothing listening: port unreachable, nothing completes.
run coap-noserver requests --port "$SERVER_PORT" --duration 1
if [ "$RC" -ne 0 ]; then pass "no server: non-zero exit ($RC)"; else fail "no server: non-zero exit" "$OUT"; fi

# ---- our coaps-server, coaps:// ECDHE-ECDSA (certificates) ----------------------------
CERTS=$COAPS_SOURCE_DIR/tests/crypto/certs
ECDHE=TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8
run ecdhe-nocred handshakes --scheme coaps --suite "$ECDHE"
check_eq "ECDHE suite without --ca exits 2" 2 "$RC"
check_contains "ECDHE suite without --ca says what it needs" "needs --ca or --rpk-trust" \
    "$(cat "$TEST_TMP/ecdhe-nocred.err")"
run psk-ca handshakes --scheme coaps --ca "$CERTS/ca.pem"
check_eq "--ca with a PSK suite exits 2" 2 "$RC"

start_coaps_server ours-cert -A 127.0.0.1 -c "$CERTS/server.pem" -j "$CERTS/server.key"
wait_udp_port "$((SERVER_PORT + 1))" 10 || die "no coaps:// port: $(cat "$TEST_TMP/ours-cert.log")"
ECDHE_ARGS=(--scheme coaps --port "$((SERVER_PORT + 1))" --suite "$ECDHE" --server-pid "$SERVER_PID")

# auth NAME: the server's certificate chain (x509) or its pinned raw public key (rpk)
for auth in x509 rpk; do
    trust=(--ca "$CERTS/ca.pem")
    [ "$auth" == rpk ] && trust=(--rpk-trust "$CERTS/server-pub.pem")
    run "ecdhe-$auth" handshakes "${ECDHE_ARGS[@]}" "${trust[@]}" --sessions 2 --duration 1
    check_eq "ECDHE $auth handshakes exits 0" 0 "$RC"
    check_fields "ECDHE $auth handshakes" "$OUT" "${HS_FIELDS[@]}"
    check_contains "ECDHE $auth handshakes suite and auth" "\"suite\":\"$ECDHE\",\"auth\":\"$auth\"" "$OUT"
    check_positive "ECDHE $auth handshakes" "$OUT" handshakes
    check_positive "ECDHE $auth handshakes" "$OUT" server_cpu_us
    check_zero "ECDHE $auth handshakes" "$OUT" failures
done

# A server certificate from a CA we do not trust completes no handshake.
run ecdhe-otherca handshakes "${ECDHE_ARGS[@]}" --ca "$CERTS/other-ca.pem" --sessions 1 --duration 1
check_eq "untrusted server certificate: exit 1" 1 "$RC"
check_eq "untrusted server certificate: no handshakes" 0 "$(jnum "$OUT" handshakes)"
stop_bg ours-cert

# ---- our coaps-server with a Connection ID (RFC 9146): bytes on the wire -------------
run cid-badlen requests --scheme coaps --cid 17
check_eq "--cid 17 exits 2" 2 "$RC"
check_contains "--cid 17 names the flag" "--cid '17'" "$(cat "$TEST_TMP/cid-badlen.err")"
run cid-coap requests --cid 4
check_eq "--cid over coap:// exits 2" 2 "$RC"
check_contains "--cid over coap:// says why" "--cid needs --scheme coaps" "$(cat "$TEST_TMP/cid-coap.err")"

start_coaps_server ours-cid -A 127.0.0.1 --psk-default "$KEY" --hint CoAP --cid 8
wait_udp_port "$((SERVER_PORT + 1))" 10 || die "no coaps:// port: $(cat "$TEST_TMP/ours-cid.log")"
CID_ARGS=(--scheme coaps --port "$((SERVER_PORT + 1))" --psk-key "$KEY" --sessions 2 --window 2
    --duration 1 --no-gso --server-pid "$SERVER_PID")
CID_FIELDS=(tx_bytes rx_bytes tx_datagrams rx_datagrams tx_bytes_per_op rx_bytes_per_op)
# per_dgram JSON DIR: UDP payload bytes per datagram sent (tx) or received
# (rx); every request of a run has one size, and so has every response
per_dgram() {
    awk -v b="$(jnum "$1" "$2_bytes")" -v n="$(jnum "$1" "$2_datagrams")" \
        'BEGIN { if (n > 0) printf "%.2f\n", b / n; else print "none" }'
}
declare -A TX RX
for cid in none 0 8; do
    args=()
    [ "$cid" != none ] && args=(--cid "$cid")
    run "cid-$cid" requests "${CID_ARGS[@]}" "${args[@]}"
    check_eq "--cid $cid requests exits 0" 0 "$RC"
    check_fields "--cid $cid requests" "$OUT" "${REQ_FIELDS[@]}" "${CID_FIELDS[@]}"
    check_positive "--cid $cid requests" "$OUT" requests
    check_zero "--cid $cid requests" "$OUT" errors
    if [ "$cid" == none ]; then
        check_eq "no --cid: no cid field" "" "$(jnum "$OUT" cid)"
    else # both sessions negotiated it with the server
        check_contains "--cid $cid reported" "\"cid\":$cid,\"cid_sessions\":2," "$OUT"
    fi
    TX[$cid]=$(per_dgram "$OUT" tx)
    RX[$cid]=$(per_dgram "$OUT" rx)
    log "--cid $cid: ${TX[$cid]} B per datagram sent, ${RX[$cid]} received"
done
# RFC 9146 4: a tls12_cid record carries the receiver's CID and one byte of
# inner content type: 9 bytes more towards the server's 8-byte CID, none
# towards a client that asked for a zero-length one, 9 towards ours of 8.
plus9() { awk -v v="$1" 'BEGIN { printf "%.2f\n", v + 9 }'; }
check_eq "--cid 0: requests carry the server's CID (+9 B)" "$(plus9 "${TX[none]}")" "${TX[0]}"
check_eq "--cid 0: responses carry none" "${RX[none]}" "${RX[0]}"
check_eq "--cid 8: requests carry the server's CID (+9 B)" "$(plus9 "${TX[none]}")" "${TX[8]}"
check_eq "--cid 8: responses carry ours (+9 B)" "$(plus9 "${RX[none]}")" "${RX[8]}"
stop_bg ours-cid

# ---- libcoap's coap-server-openssl, coaps:// PSK -------------------------------------
# It listens on P (coap) and P+1 (coaps), UDP and TCP: both must be free.
lc_port=
for _ in 1 2 3 4 5 6 7 8 9 10; do
    p=$(free_udp_port)
    if [ -z "$(ss -Htuan "( sport = :$p or sport = :$((p + 1)) )" 2>/dev/null)" ]; then
        start_bg libcoap coap-server-openssl -A 127.0.0.1 -p "$p" -d 4 -k "$KEY" -h CoAP
        if wait_udp_port "$((p + 1))" 10; then lc_port=$p; break; fi
        stop_bg libcoap
    fi
done
[ -n "$lc_port" ] || die "coap-server-openssl did not start: $(cat "$TEST_TMP/libcoap.log")"
LC_PID=$(cat "$TEST_TMP/libcoap.pid")
# libcoap's example server has no /light: create it (-d) with our body.
timeout 20 coap-client-notls -B 5 -m put -t json -e '{"status": true}' \
    "coap://127.0.0.1:$lc_port/light" >/dev/null 2>&1 || true
check_eq "libcoap serves /light" '{"status": true}' \
    "$(timeout 20 coap-client-notls -B 5 "coap://127.0.0.1:$lc_port/light" 2>/dev/null || true)"
DTLS=(--scheme coaps --port "$((lc_port + 1))" --psk-key "$KEY" --server-pid "$LC_PID")

run coaps-hs handshakes "${DTLS[@]}" --sessions 2 --duration 1
check_eq "coaps handshakes exits 0" 0 "$RC"
check_fields "coaps handshakes" "$OUT" "${HS_FIELDS[@]}"
check_contains "coaps handshakes suite" '"suite":"TLS_PSK_WITH_AES_128_CCM_8"' "$OUT"
check_positive "coaps handshakes" "$OUT" handshakes
check_zero "coaps handshakes" "$OUT" errors

run coaps-req requests "${DTLS[@]}" --sessions 2 --window 2 --duration 1
check_eq "coaps requests exits 0" 0 "$RC"
check_fields "coaps requests" "$OUT" "${REQ_FIELDS[@]}"
check_positive "coaps requests" "$OUT" requests
check_eq "coaps requests sessions set up" 2 "$(jnum "$OUT" setup_ok)"
check_zero "coaps requests" "$OUT" errors

run coaps-idle idle "${DTLS[@]}" --sessions 10 --duration 1
check_eq "coaps idle exits 0" 0 "$RC"
check_fields "coaps idle" "$OUT" "${IDLE_FIELDS[@]}"
check_eq "coaps idle all 10 established" 10 "$(jnum "$OUT" established)"

# A wrong key completes no handshake.
run coaps-badkey handshakes --scheme coaps --port "$((lc_port + 1))" --psk-key wrong-key \
    --sessions 1 --duration 1
check_eq "wrong PSK: exit 1" 1 "$RC"
check_eq "wrong PSK: no handshakes" 0 "$(jnum "$OUT" handshakes)"
stop_bg libcoap

finish
