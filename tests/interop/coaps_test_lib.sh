# coaps_test_lib.sh - helpers shared by the coaps:// scripted tests (sourced
# after scripts/lib/common.sh; not a test itself).

# The reference device's demo credentials (scripts/run-server).
DEMO_KEY=esp32c3_key
DEMO_HINT=CoAP

# Peers are stopped by signal; leak checks belong to unit and fuzz tests.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}

# start_dtls_server NAME ARGS...: our server with coap:// on a free port
# and coaps:// on another free port; sets SERVER_PORT, COAPS_PORT and
# SERVER_PID, and waits for both "listening" lines.
start_dtls_server() {
    local name=$1; shift
    local try
    for try in 1 2 3 4 5; do
        SERVER_PORT=$(free_udp_port)
        COAPS_PORT=$(free_udp_port)
        [ "$SERVER_PORT" != "$COAPS_PORT" ] || continue
        start_bg "$name" "$COAPS_BUILD_DIR/coaps-server" -p "$SERVER_PORT" \
            --coaps-port "$COAPS_PORT" "$@"
        SERVER_PID=$LAST_PID
        if wait_for_line "$TEST_TMP/$name.log" "listening on coaps://" 10; then
            return 0
        fi
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        log "server did not start (try $try): $(cat "$TEST_TMP/$name.log")"
    done
    die "could not start coaps-server with coaps://"
}

# server_alive NAME: the server started as NAME still runs.
server_alive() {
    kill -0 "$(cat "$TEST_TMP/$1.pid")" 2>/dev/null
}

# vm_rss_kb PID: resident memory in kB.
vm_rss_kb() {
    awk '/^VmRSS:/ {print $2}' "/proc/$1/status"
}

expected_large() {
    local i
    for ((i = 0; i < 64; i++)); do printf 'line %04d abcdefghijklmnopqrstuvwxyz\n' "$i"; done
}

# start_on_ports NAME ARGS...: our server again on the ports of an earlier
# start_dtls_server (SERVER_PORT, COAPS_PORT): a restart, or the next node
# of a cluster on the same ports. While no process has them another
# program's socket may take one for a moment: then again. Sets SERVER_PID.
start_on_ports() {
    local name=$1; shift
    local try
    for try in 1 2 3 4 5; do
        start_bg "$name" "$COAPS_BUILD_DIR/coaps-server" -p "$SERVER_PORT" \
            --coaps-port "$COAPS_PORT" "$@"
        SERVER_PID=$LAST_PID
        wait_for_line "$TEST_TMP/$name.log" "listening on coaps://" 20 && return 0
        grep -q "cannot bind" "$TEST_TMP/$name.log" || break
        wait "$SERVER_PID" 2>/dev/null || true
        sleep 0.5
    done
    die "$name did not start: $(cat "$TEST_TMP/$name.log")"
}

# stop_server: SIGTERM to SERVER_PID and wait (it logs its statistics).
stop_server() {
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
}

# coaps_stat LOG FIELD: the number after FIELD in the server's coaps:
# statistics line (the whole word: "stored" is not "restored").
coaps_stat() {
    grep "coaps: hello-verify" "$1" | grep -oE "[ (;]$2 [0-9]+" | head -1 | awk '{print $NF}'
}
