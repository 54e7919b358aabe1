#!/usr/bin/env bash
# test_compare_smoke.sh - bench/compare --quick end to end: it starts our
# server and libcoap's three, runs every mode against each, and leaves one
# JSON file whose summary has a number for us, for libcoap and for the ratio
# on every row, one SVG chart with a bar per ratio, and the table on stdout.
# The fleet section (NSTART = 1 at 64 and 1,000 sessions, the PSK handshake
# op) has a row per figure with a ratio, and the floor (bench/coap-floor)
# a figure and a ratio per size; the Connection ID section (our
# server with --cid 8; clients without, with --cid 0 and --cid 8) has bytes
# per request each way, larger exactly where a CID travels. Also: a bad
# flag is refused in one line. No timing assertions: the
# numbers of a one-second run under sanitizers mean nothing.
# The backend section (our server and crypto-bench from this build and from
# a PSA build) is checked when build/release-psa is built (make check builds
# it first; COAPS_BENCH_PSA_BUILD names another); without it compare must
# say, in one line, that it skipped it.
set -euo pipefail
. "${COAPS_SOURCE_DIR:?}/scripts/lib/common.sh"
for p in coap-server-notls coap-server-openssl coap-server-gnutls coap-client-notls ss; do
    need_program "$p"
done

COMPARE=("timeout" 300 bash "$COAPS_SOURCE_DIR/bench/compare" --build "$COAPS_BUILD_DIR")
OUT_DIR=$TEST_TMP/results
PSA_BUILD=${COAPS_BENCH_PSA_BUILD:-$COAPS_SOURCE_DIR/build/release-psa}
HAVE_PSA=0
[ -x "$PSA_BUILD/coaps-server" ] && [ -x "$PSA_BUILD/crypto-bench" ] && HAVE_PSA=1
if [ "$HAVE_PSA" = 1 ]; then
    BACKEND_ARGS=(--build-psa "$PSA_BUILD")
else
    BACKEND_ARGS=(--build-psa "$TEST_TMP/no-psa-build")
fi

RC=0
"${COMPARE[@]}" --quick --out "$OUT_DIR" "${BACKEND_ARGS[@]}" >"$TEST_TMP/stdout" \
    2>"$TEST_TMP/stderr" || RC=$?
log "compare: rc $RC; stderr: $(tail -n 5 "$TEST_TMP/stderr")"
check_eq "compare --quick exits 0" 0 "$RC"

shopt -s nullglob
jsons=("$OUT_DIR"/*.json)
svgs=("$OUT_DIR"/*.svg)
check_eq "one result file" 1 "${#jsons[@]}"
check_eq "one chart" 1 "${#svgs[@]}"
json=$(cat "${jsons[0]:-/dev/null}")

# row SCHEME MODE METRIC: the summary entry has numbers for us, libcoap and
# the ratio.
num='-?[0-9][0-9.e+-]*'
row() {
    local want="\"scheme\":\"$1\",\"mode\":\"$2\",\"metric\":\"$3\",\"better\":\"[a-z]+\",\"coaps\":$num,\"libcoap\":$num,\"libcoap_gnutls\":($num|null),\"ratio\":$num"
    if grep -Eq "$want" <<<"$json"; then pass "summary $1 $2 $3"
    else fail "summary $1 $2 $3" "no numbers in $(grep -o "\"scheme\":\"$1\",\"mode\":\"$2\",\"metric\":\"$3\"[^}]*" <<<"$json")"; fi
}
row coap requests rps
row coap requests_nogso rps
row coap requests server_cpu_us_per_op
row coaps requests rps
row coaps requests_nogso rps
row coaps handshakes hps
row coaps handshakes server_cpu_us_per_op
row coaps idle rss_per_session_bytes

# every run of the four servers is in the file
for s in coaps libcoap-notls libcoap-openssl libcoap-gnutls; do
    n=$(grep -o "{\"server\":\"$s\"" <<<"$json" | wc -l)
    if [ "$n" -ge 3 ]; then pass "$s ran ($n runs)"; else fail "$s ran" "$n runs"; fi
done

svg=$(cat "${svgs[0]:-/dev/null}")
check_contains "chart is an SVG document" "<svg xmlns=" "$svg"
check_contains "chart is complete" "</svg>" "$svg"
bars=$(grep -c '<rect x=' <<<"$svg" || true)
if [ "$bars" -ge 15 ]; then pass "chart has a bar per ratio ($bars)"; else fail "chart bars" "$bars"; fi

check_contains "table has the no-gso row" "requests/s_no-gso" "$(cat "$TEST_TMP/stdout")"
check_contains "table names the files" "chart: $OUT_DIR/" "$(cat "$TEST_TMP/stdout")"

# ---- fleet section: NSTART = 1, server CPU per operation ------------------------------

# frow SCHEME MODE METRIC: the fleet summary entry has numbers for us,
# libcoap and the ratio, and the ratio's spread over the rounds.
frow() {
    local want="\"scheme\":\"$1\",\"mode\":\"$2\",\"metric\":\"$3\",\"better\":\"[a-z]+\",\"coaps\":$num,\"libcoap\":$num,\"libcoap_gnutls\":($num|null),\"ratio\":$num,\"ratio_gnutls\":($num|null),\"ratio_spread\":\"[0-9.]+-[0-9.]+\""
    if grep -Eq "$want" <<<"$json"; then pass "fleet $1 $2 $3"
    else fail "fleet $1 $2 $3" "no numbers in $(grep -o "\"scheme\":\"$1\",\"mode\":\"$2\",\"metric\":\"$3\"[^}]*" <<<"$json")"; fi
}
check_contains "fleet section in the JSON" '"fleet":{"skipped":null,"sessions":[64,1000]' "$json"
for n in 64 1000; do
    frow coap "fleet$n" server_cpu_us_per_op
    frow coaps "fleet$n" server_cpu_us_per_op
done
frow coaps fleet_hs server_cpu_us_per_op
frow coap fleet64 server_sys_us_per_op # the kernel's part
# the fleet runs are what --fleet makes: window 1, no GSO, one per size
n=$(grep -Eo '"mode":"requests","scheme":"coaps?"[^}]*"gso":false,"fleet":true,"sessions":(64|1000),"window":1' <<<"$json" | wc -l)
if [ "$n" -ge 10 ]; then pass "fleet request runs in the file ($n)"; else fail "fleet request runs" "$n"; fi
check_contains "fleet table printed" "fleet: NSTART = 1" "$(cat "$TEST_TMP/stdout")"
# the floor (bench/coap-floor) ran the coap:// fleet loads and has a ratio
for n in 64 1000; do
    if grep -Eq "\"sessions\":$n,\"cpu_us\":[0-9][0-9.]*,\"kernel_us\":[0-9][0-9.]*,\"ratio_notls\":[0-9][0-9.]*,\"ratio_openssl\":[0-9][0-9.]*}" <<<"$json"; then
        pass "fleet floor at $n sessions"
    else
        fail "fleet floor at $n sessions" "$(grep -o '"floor":\[[^]]*\]' <<<"$json")"
    fi
done
check_contains "floor table printed" "floor: coap-floor answers" "$(cat "$TEST_TMP/stdout")"
check_contains "fleet table has the handshake row" "server_cpu_us/PSK_handshake" \
    "$(sed -n '/^fleet: NSTART/,$p' "$TEST_TMP/stdout")"

# ---- Connection ID section: bytes on the wire per request -------------------------------

# crow METRIC: the cid summary entry has a number for each client kind.
crow() {
    local want="\"metric\":\"$1\",\"no_cid\":$num,\"cid_0\":$num,\"cid_8\":$num"
    if grep -Eq "$want" <<<"$json"; then pass "cid $1"
    else fail "cid $1" "no numbers in $(grep -o "\"metric\":\"$1\",\"no_cid\"[^}]*" <<<"$json")"; fi
}
check_contains "cid section in the JSON" '"cid":{"skipped":null,"server_cid":8' "$json"
for m in tx_bytes_per_op rx_bytes_per_op rps server_cpu_us_per_op; do crow "$m"; done
n=$(grep -o '{"server":"coaps-cid"' <<<"$json" | wc -l)
check_eq "cid: three runs against the server with --cid" 3 "$n"
# cval METRIC KIND: the median in the summary
cval() { grep -Eo "\"metric\":\"$1\",[^}]*" <<<"$json" | sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p"; }
more() { awk -v a="$2" -v b="$3" 'BEGIN { exit !(a > b) }' && pass "$1 ($2 > $3)" || fail "$1" "$2 <= $3"; }
more "cid: --cid 0 requests carry the server's CID" "$(cval tx_bytes_per_op cid_0)" \
    "$(cval tx_bytes_per_op no_cid)"
check_eq "cid: --cid 0 responses carry none" "$(cval rx_bytes_per_op no_cid)" \
    "$(cval rx_bytes_per_op cid_0)"
more "cid: --cid 8 responses carry ours" "$(cval rx_bytes_per_op cid_8)" \
    "$(cval rx_bytes_per_op no_cid)"
check_contains "cid table printed" "Connection ID (RFC 9146)" "$(cat "$TEST_TMP/stdout")"

# ---- backend section ---------------------------------------------------------------

# brow MODE METRIC [RATIO]: the backends summary entry has numbers for both
# builds, and for the ratio unless RATIO is "any" (an RSS growth may be 0).
brow() {
    local r=$num
    [ "${3:-}" == any ] && r="($num|null)"
    local want="\"mode\":\"$1\",\"metric\":\"$2\",\"better\":\"[a-z]+\",\"openssl\":$num,\"psa\":$num,\"ratio\":$r"
    if grep -Eq "$want" <<<"$json"; then pass "backends $1 $2"
    else fail "backends $1 $2" "no numbers in $(grep -o "\"mode\":\"$1\",\"metric\":\"$2\"[^}]*" <<<"$json")"; fi
}
if [ "$HAVE_PSA" = 1 ]; then
    brow handshakes server_cpu_us_per_op
    brow handshakes_ecdhe server_cpu_us_per_op
    brow idle rss_per_session_bytes any
    brow AES-128-CCM-8/seal/64 ns_per_op
    brow AES-128-GCM/open/1024 ns_per_op
    brow TLS12-PRF-SHA256/prf/40 ns_per_op
    n=$(grep -Eo '"mode":"[A-Za-z0-9-]+/(seal|open)/(64|1024)"' <<<"$json" | wc -l)
    check_eq "backends: seal and open of 5 AEADs x 2 sizes" 20 "$n"
    check_contains "backends: psa build named" "\"psa\":{\"build\":\"$PSA_BUILD\"" "$json"
    check_contains "backends table printed" "server_cpu_us/ECDHE_handshake" "$(cat "$TEST_TMP/stdout")"
    for s in ours-openssl ours-psa; do
        n=$(grep -o "{\"server\":\"$s\"" <<<"$json" | wc -l)
        if [ "$n" -ge 23 ]; then pass "$s ran ($n runs)"; else fail "$s ran" "$n runs"; fi
    done
else
    log "no PSA build in $PSA_BUILD: checking that the backend section is skipped"
    check_contains "backends skipped, said on stdout" "backends: skipped ($TEST_TMP/no-psa-build/" \
        "$(cat "$TEST_TMP/stdout")"
    check_contains "backends skipped, in the JSON" "\"backends\":{\"skipped\":\"" "$json"
fi

# --backends-only without a PSA build: nothing to run, one line says why
RC=0
"${COMPARE[@]}" --backends-only --build-psa "$TEST_TMP/no-psa-build" >"$TEST_TMP/bo.out" \
    2>"$TEST_TMP/bo.err" || RC=$?
check_eq "--backends-only without a PSA build exits 1" 1 "$RC"
check_contains "--backends-only names the missing build" "no-psa-build/coaps-server not built" \
    "$(cat "$TEST_TMP/bo.err")"

RC=0
"${COMPARE[@]}" --rounds 0 >"$TEST_TMP/bad.out" 2>"$TEST_TMP/bad.err" || RC=$?
check_eq "--rounds 0 refused" 1 "$RC"
check_eq "--rounds 0 says it in one line" 1 "$(wc -l <"$TEST_TMP/bad.err")"
check_contains "--rounds 0 names the flag" "--rounds '0'" "$(cat "$TEST_TMP/bad.err")"

finish
