#!/usr/bin/env bash
# test_coaps_hs_flood.sh - issue 18: a flood from validated addresses does
# not starve slow devices of handshake capacity.
#
# 500 source ports on 127.0.1.1 complete the cookie exchange and then keep
# re-sending their cookie-valid ClientHello, 3,000 a second in all
# (tests/tools/dtls-flood reflood). Meanwhile three honest PSK clients on
# other loopback hosts (127.0.0.2-4) handshake and GET /light, waiting 0,
# 50 and 500 ms before each flight they send (dtls-flood client --think):
# every one must be answered. Two rounds:
#   A. the default pool (--max-handshakes 4096): each flooding port holds
#      one 2 KiB context, its repeats go to that handshake (which resends
#      its flight at most once per half timeout, RFC 6347 4.2.4.1) and take
#      nothing, so the pool never fills;
#   B. a pool of 64 (the old default), smaller than the flood: it stays
#      full and every repeat from a displaced port takes a context again;
#      the victim is a handshake without progress from the host holding the
#      most (hs_pool.h), never the slow devices on the other hosts; and the
#      flooding host, past its bound (--max-handshakes-per-host, a quarter
#      of the pool), displaces its own handshakes.
# Reported: the handshake time of each client, the server's RSS before and
# during the flood and its CPU use during it (utime + stime over wall
# time). The environment may change the flood for measurements
# (HS_FLOOD_PORTS, _RATE, _SECONDS, _HOSTS, _THINKS, _SMALL_POOL; the
# figures in docs/dtls-limits.md). Memory must stay flat during the flood (no growth beyond 1 MiB,
# 4 MiB under ASan, once the 500 handshakes are held).
set -euo pipefail
. "${COAPS_SOURCE_DIR:?}/scripts/lib/common.sh"
. "$COAPS_SOURCE_DIR/tests/interop/coaps_test_lib.sh"
FLOOD=$COAPS_BUILD_DIR/dtls-flood
[ -x "$FLOOD" ] || die "$FLOOD not built"

PORTS=${HS_FLOOD_PORTS:-500}
RATE=${HS_FLOOD_RATE:-3000}
SECONDS_PER_ROUND=${HS_FLOOD_SECONDS:-10}
THINKS=${HS_FLOOD_THINKS:-"0 50 500"}
FLOOD_HOSTS=${HS_FLOOD_HOSTS:-1} # >1: the flood comes from 127.0.1.1 .. 127.0.1.N
SMALL_POOL=${HS_FLOOD_SMALL_POOL:-64}
SCALE=1
if nm "$COAPS_BUILD_DIR/coaps-server" 2>/dev/null | grep __asan_init >/dev/null; then
    SCALE=4
    export ASAN_OPTIONS=detect_leaks=0:quarantine_size_mb=0
fi
FLAT_BOUND_KB=$((1024 * SCALE))
HZ=$(getconf CLK_TCK)

# utime + stime of PID in clock ticks (fields 14 and 15 of /proc/PID/stat,
# counted after the command name in parentheses)
cpu_ticks() {
    sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}
now_ms() { date +%s%3N; }

round() {
    local name=$1; shift
    start_dtls_server "$name" -A 127.0.0.1 --psk-default "$DEMO_KEY" -v info "$@"
    local pid=$SERVER_PID
    sleep 0.2
    local rss0 rss1 rss2 ticks0 ticks1 t0 t1
    rss0=$(vm_rss_kb "$pid")
    start_bg "$name-flood" "$FLOOD" reflood --port "$COAPS_PORT" --host 127.0.0.1 \
        --bind 127.0.1.1 --hosts "$FLOOD_HOSTS" --sockets "$PORTS" --rate "$RATE" \
        --duration "$SECONDS_PER_ROUND"
    local flood_pid=$LAST_PID
    wait_for_line "$TEST_TMP/$name-flood.log" "re-sending at" 30 ||
        die "$name: the flood did not validate its ports: $(cat "$TEST_TMP/$name-flood.log")"
    local validated
    validated=$(grep -o '[0-9]* of [0-9]* ports validated' "$TEST_TMP/$name-flood.log" | awk '{print $1}')
    check_eq "$name: flooding ports validated" "$PORTS" "$validated"
    sleep 1 # the flood is at full rate
    rss1=$(vm_rss_kb "$pid")
    ticks0=$(cpu_ticks "$pid")
    t0=$(now_ms)
    local think host=2 pids=()
    for think in $THINKS; do
        start_bg "$name-client-$think" "$FLOOD" client --port "$COAPS_PORT" --host 127.0.0.1 \
            --bind "127.0.0.$host" --key "$DEMO_KEY" --think "$think"
        pids+=("$LAST_PID")
        host=$((host + 1))
    done
    local i=0 rc
    for think in $THINKS; do
        rc=0
        wait "${pids[$i]}" || rc=$?
        local out
        out=$(cat "$TEST_TMP/$name-client-$think.log")
        log "$name: client from 127.0.0.$((i + 2)): $out"
        if [ "$rc" -eq 0 ] && grep -q answered <<<"$out"; then
            pass "$name: client thinking $think ms between flights served during the flood"
        else
            fail "$name: client thinking $think ms between flights served during the flood" "$out"
        fi
        i=$((i + 1))
    done
    # until the flood ends: memory and CPU under it
    rss2=$(vm_rss_kb "$pid")
    ticks1=$(cpu_ticks "$pid")
    t1=$(now_ms)
    while kill -0 "$flood_pid" 2>/dev/null; do
        rss2=$(vm_rss_kb "$pid")
        ticks1=$(cpu_ticks "$pid")
        t1=$(now_ms)
        sleep 0.2
    done
    wait "$flood_pid" || true
    local sent
    sent=$(awk '/^validated/ {print $4}' "$TEST_TMP/$name-flood.log")
    local cpu=$(((ticks1 - ticks0) * 100000 / HZ / (t1 - t0 > 0 ? t1 - t0 : 1)))
    log "$name: flood of $PORTS validated ports, $RATE ClientHellos/s for $SECONDS_PER_ROUND s (sent ${sent:-?} in all)"
    log "$name: server RSS $rss0 kB before, $rss1 kB with the flood's handshakes held, $rss2 kB at the flood's end; CPU $cpu % of one core under the flood ($(((t1 - t0) / 1000)) s measured)"
    if [ $((rss2 - rss1)) -lt "$FLAT_BOUND_KB" ]; then pass "$name: memory flat during the flood ($((rss2 - rss1)) kB)"
    else fail "$name: memory flat during the flood" "grew $((rss2 - rss1)) kB"; fi
    if server_alive "$name"; then pass "$name: server alive after the flood"
    else fail "$name: server alive after the flood" "$(tail -5 "$TEST_TMP/$name.log")"; fi
    stop_bg "$name" # the server logs its statistics as it exits
    HANDSHAKES=$(grep -o 'coaps: hello-verify [0-9]*, handshakes [0-9]*' "$TEST_TMP/$name.log" |
        awk '{print $NF}')
    log "$name: $(grep -o 'coaps: hello-verify.*' "$TEST_TMP/$name.log")"
}

round default
# RFC 6347 4.2.4: a repeated ClientHello goes to its handshake and takes no
# context: one handshake per flooding port and client, not one per hello.
if [ -n "${HANDSHAKES:-}" ] && [ "$HANDSHAKES" -le $((PORTS + 10)) ]; then
    pass "default: repeated ClientHellos took no new handshake ($HANDSHAKES handshakes)"
else
    fail "default: repeated ClientHellos took no new handshake" "${HANDSHAKES:-no statistics} handshakes"
fi
round small --max-handshakes "$SMALL_POOL"
check_contains "small pool: flooders displaced, without progress, from the busiest host" \
    "no progress, " "$(cat "$TEST_TMP/small.log")"
# the flood's one host is held to a quarter of each worker's pool
# (--max-handshakes-per-host's default): it displaces its own handshakes
capped=$(grep -o '(host at its bound [0-9]*)' "$TEST_TMP/small.log" | tr -d ')' | awk '{print $NF}')
if [ "${capped:-0}" -gt 0 ]; then pass "small pool: the flooding host held to its bound ($capped displaced its own)"
else fail "small pool: the flooding host held to its bound" "host at its bound ${capped:-none}"; fi
if grep -q "dropping the handshake of 127.0.0.[234]" "$TEST_TMP/small.log"; then
    fail "small pool: no honest client displaced" "$(grep 'dropping the handshake of 127.0.0.[234]' "$TEST_TMP/small.log" | head -3)"
else
    pass "small pool: no honest client displaced"
fi
finish
