# firmware_lib.sh - what the tests of the emulated light (tests/firmware/
# test_firmware_*.sh) share. Source it after scripts/lib/common.sh.

# start_firmware ELF: QEMU and the bridge (scripts/run-firmware) with the
# firmware ELF on free loopback ports, until its "listening on coap://"
# line (three tries: another test may take a port first). Sets
# SERVER_PORT, COAPS_PORT, INJECT_PORT, FW_PID, BASE (coap://) and SBASE
# (coaps://); the log is $TEST_TMP/firmware.log.
start_firmware() {
    local elf=$1 try
    for try in 1 2 3; do
        SERVER_PORT=$(free_udp_port)
        COAPS_PORT=$(free_udp_port)
        INJECT_PORT=$(free_udp_port)
        start_bg firmware bash "$COAPS_SOURCE_DIR/scripts/run-firmware" --firmware "$elf" \
            --bridge "$COAPS_BUILD_DIR/coaps-bridge" -A 127.0.0.1 -p "$SERVER_PORT" \
            --coaps-port "$COAPS_PORT" --inject-port "$INJECT_PORT"
        FW_PID=$LAST_PID
        if wait_for_line "$TEST_TMP/firmware.log" "listening on coap://" 30; then
            BASE="coap://127.0.0.1:$SERVER_PORT"
            SBASE="coaps://127.0.0.1:$COAPS_PORT"
            return 0
        fi
        stop_bg firmware
        log "firmware did not come up (try $try): $(cat "$TEST_TMP/firmware.log")"
    done
    die "could not start the firmware"
}

# coap ARGS...: coap-client-notls, its stderr in $TEST_TMP/err.
coap() { timeout 20 coap-client-notls -B 10 "$@" 2>"$TEST_TMP/err" || true; }

# stat NAME [RESOURCE]: one figure from GET /stats (or /stats/RESOURCE).
stat() { coap "$BASE/stats${2:+/$2}" | tr ',{}' '\n\n\n' | sed -n "s/^ *\"$1\": //p"; }

# check_within_three_quarters WHAT USED SIZE: a reservation sized from a
# measured high-water mark (stack, heap) keeps its last quarter free; a
# path that grows into it means the reservation needs a new look.
check_within_three_quarters() {
    if [ -n "$2" ] && [ -n "$3" ] && [ $(($2 * 4)) -le $(($3 * 3)) ]; then
        pass "$1 high-water within three quarters of the reservation"
    else fail "$1 high-water within three quarters of the reservation" "$2 of $3"; fi
}
