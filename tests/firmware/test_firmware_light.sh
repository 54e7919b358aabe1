#!/usr/bin/env bash
# test_firmware_light.sh - the light as bare-metal RISC-V firmware in QEMU
# (make firmware), reached through the host bridge by libcoap's
# coap-client-notls: GET, PUT then GET, an Observe notification after a PUT
# (RFC 7641), Block2 with 16-byte blocks (RFC 7959), /.well-known/core
# (RFC 6690); bad frames on the UART (garbage, truncated, oversize, bad
# CRC, bad escape) dropped and counted by the firmware and by the bridge,
# and the light still answering afterwards; over coaps:// (PSK) GET with
# libcoap's openssl and gnutls clients, a wrong PSK refused, an observer
# notified, the 4 sessions of the budget held at once. Reports the instructions retired per CoAP request and PSK
# handshake (minstret, GET /stats) and checks the stack's high-water mark
# against its reservation.
# Skips (exit 77) only when the firmware was not built.
set -euo pipefail
. "${COAPS_SOURCE_DIR:?}/scripts/lib/common.sh"
. "$COAPS_SOURCE_DIR/tests/firmware/firmware_lib.sh"

ELF=${COAPS_FIRMWARE:-$COAPS_SOURCE_DIR/build/firmware/coaps-light.elf}
if [ ! -f "$ELF" ]; then
    log "SKIP: $ELF is not built (run: make firmware)"
    exit 77
fi
need_program coap-client-notls
need_program qemu-system-riscv32

start_firmware "$ELF"
check_contains "listening line" "listening on coap://127.0.0.1:$SERVER_PORT" \
    "$(cat "$TEST_TMP/firmware.log")"

check_eq "GET light initial" '{"status": true}' "$(coap -m get "$BASE/light")"
insn_get=$(stat insn_last)
log "instructions retired by GET /light (CoAP input to reply): $insn_get"
if [ -n "$insn_get" ] && [ "$insn_get" -gt 0 ]; then pass "minstret cost of a GET reported"
else fail "minstret cost of a GET reported" "[$insn_get]"; fi

coap -m put -t json -e '{"status": false, "brightness": 40}' "$BASE/light" >/dev/null
check_eq "PUT then GET" '{"status": false, "brightness": 40}' "$(coap -m get "$BASE/light")"
log "instructions retired by that GET: $(stat insn_last)"

# RFC 7641: an observer is notified of another client's PUT.
start_bg observer timeout 20 coap-client-notls -s 6 -B 10 "$BASE/light"
obs=$LAST_PID
sleep 2
coap -m put -e '{"status": true, "scene": "observe"}' "$BASE/light" >/dev/null
wait "$obs" || true
check_contains "observe sees the state at registration" '{"status": false, "brightness": 40}' \
    "$(cat "$TEST_TMP/observer.log")"
check_contains "observe notified of the PUT" '{"status": true, "scene": "observe"}' \
    "$(cat "$TEST_TMP/observer.log")"

# RFC 7959 Block2: 16-byte blocks give the same bytes as one response.
wk=$(coap -m get "$BASE/.well-known/core")
check_contains "/.well-known/core lists </light>" '</light>;rt="light";ct=50;obs' "$wk"
in_before=$(stat dgram_in)
check_eq "Block2 -b 16 /.well-known/core" "$wk" "$(coap -m get -b 16 "$BASE/.well-known/core")"
in_after=$(stat dgram_in)
blocks=$((in_after - in_before - 1))
log "Block2 -b 16 took $blocks requests for ${#wk} bytes"
if [ "$blocks" -ge $(( (${#wk} + 15) / 16 )) ]; then pass "Block2 in 16-byte blocks"
else fail "Block2 in 16-byte blocks" "$blocks requests for ${#wk} bytes"; fi
check_eq "Block2 -b 16 /light" '{"status": true, "scene": "observe"}' \
    "$(coap -m get -b 16 "$BASE/light")"

# Bad frames straight onto the UART (the bridge's --inject-port writes
# them unframed). SLIP END is c0; a frame is header(22) payload crc32(4).
inject() { timeout 10 "$COAPS_BUILD_DIR/udp-send" -t 200 127.0.0.1 "$INJECT_PORT" "$1" >/dev/null; }
hdr="010004007f000001000000000000000000000000""04d2"   # datagram, 127.0.0.1:1234
crc0=$(stat bad_crc uart); over0=$(stat oversize uart); mal0=$(stat malformed uart)
inject "68656c6c6f20776f726c64c0"                     # garbage: too short for a frame
inject "c0${hdr}4000a0a0deadbeefc0"                   # a CoAP ping with a wrong CRC
inject "c0${hdr}c0"                                   # truncated: header, no CRC
inject "c0$(head -c 1400 /dev/zero | tr '\0' 'A' | od -An -v -tx1 | tr -d ' \n')c0" # oversize
inject "c0${hdr}db41c0"                               # ESC then a byte SLIP does not allow
inject "c0c0c0"                                       # empty frames: not counted
check_eq "bad CRC counted" $((crc0 + 1)) "$(stat bad_crc uart)"
check_eq "oversize counted" $((over0 + 1)) "$(stat oversize uart)"
check_eq "garbage, truncated, bad escape counted" $((mal0 + 3)) "$(stat malformed uart)"
check_eq "light answers after bad frames" '{"status": true, "scene": "observe"}' \
    "$(coap -m get "$BASE/light")"

# coaps:// with the reference device's PSK (hint CoAP, key esp32c3_key),
# when the firmware was built with it (its Mbed TLS, `make firmware`).
if grep -q "listening on coaps://" "$TEST_TMP/firmware.log"; then
    for peer in openssl gnutls; do
        need_program "coap-client-$peer"
        got=$(timeout 30 "coap-client-$peer" -B 20 -k esp32c3_key -u "$peer-client" "$SBASE/light" \
              2>"$TEST_TMP/$peer.err" || true)
        check_eq "coaps:// GET with $peer" '{"status": true, "scene": "observe"}' "$got"
        est=$(stat established dtls)
        # RFC 5246 7.4.9: with the wrong key the client's Finished does not
        # verify; the firmware ends that handshake as failed (with an
        # alert) and returns no state.
        failed0=$(stat failed dtls)
        got=$(timeout 30 "coap-client-$peer" -B 5 -k not_the_key -u "$peer-client" "$SBASE/light" \
              2>&1 || true)
        if [[ "$got" == *'"status"'* ]]; then fail "no state for a wrong PSK ($peer)" "$got"
        else pass "no state for a wrong PSK ($peer)"; fi
        check_eq "wrong PSK: handshake failed on the firmware ($peer)" $((failed0 + 1)) \
            "$(stat failed dtls)"
        check_eq "no session for a wrong PSK ($peer)" "$est" "$(stat established dtls)"
    done
    coap_s() { timeout 30 coap-client-openssl -B 20 -k esp32c3_key -u me "$@" 2>/dev/null || true; }
    coap_s -m put -e '{"status": false, "via": "coaps"}' "$SBASE/light" >/dev/null
    check_eq "coaps:// PUT seen over coap://" '{"status": false, "via": "coaps"}' \
        "$(coap -m get "$BASE/light")"
    # RFC 7641 over coaps://: a notification sealed for an observer's
    # session (the deepest path for the stack: handler, notify, record).
    start_bg sobserver timeout 30 coap-client-openssl -s 8 -B 20 -k esp32c3_key -u obs \
        "$SBASE/light"
    sobs=$LAST_PID
    wait_for_line "$TEST_TMP/sobserver.log" '"via": "coaps"' 20 || true
    coap -m put -e '{"status": true, "via": "notify"}' "$BASE/light" >/dev/null
    wait "$sobs" || true
    check_contains "coaps:// observer notified of a coap:// PUT" '{"status": true, "via": "notify"}' \
        "$(cat "$TEST_TMP/sobserver.log")"
    # The budget's 4 sessions at once (COAPS_RUNTIME_SESSIONS), each an
    # observer; a PUT reaches all four, and no handshake failed for want
    # of a slot or a key slot (Mbed TLS's 13). One after the other: the
    # one handshake context serves one handshake at a time.
    failed0=$(stat failed dtls)
    refused0=$(stat refused dtls)
    for n in 1 2 3 4; do
        peer=openssl; [ $((n % 2)) -eq 0 ] && peer=gnutls
        start_bg "obs$n" timeout 60 "coap-client-$peer" -s 40 -B 50 -k esp32c3_key -u "obs$n" \
            "$SBASE/light"
        wait_for_line "$TEST_TMP/obs$n.log" '"status"' 20 || true
    done
    coap -m put -e '{"status": false, "via": "four"}' "$BASE/light" >/dev/null
    for n in 1 2 3 4; do wait_for_line "$TEST_TMP/obs$n.log" '"via": "four"' 20 || true; done
    for n in 1 2 3 4; do
        check_contains "4 sessions at once: observer $n notified" '"via": "four"' \
            "$(cat "$TEST_TMP/obs$n.log")"
    done
    check_eq "4 sessions at once: no handshake failed" "$failed0" "$(stat failed dtls)"
    check_eq "4 sessions at once: none refused" "$refused0" "$(stat refused dtls)"
    for n in 1 2 3 4; do stop_bg "obs$n"; done
    hs=$(stat insn_handshake dtls)
    log "instructions retired per PSK handshake (cookie ClientHello to Finished): $hs," \
        "HelloVerifyRequest: $(stat insn_hello_verify dtls)"
    if [ -n "$hs" ] && [ "$hs" -gt 0 ]; then pass "minstret cost of a PSK handshake reported"
    else fail "minstret cost of a PSK handshake reported" "[$hs]"; fi
    check_eq "no heap used by Mbed TLS" 0 "$(stat heap_refused)"
else
    log "firmware built without coaps:// (no rv32 Mbed TLS): coaps:// checks not run"
fi

stack=$(stat stack_used)
stack_size=$(stat stack_size)
log "stack high-water mark: $stack of $stack_size bytes"
# The reservation (FW_STACK_SIZE) is sized from this figure.
check_within_three_quarters "stack" "$stack" "$stack_size"
log "instructions per request: min $(stat insn_min), max $(stat insn_max)"

# Ctrl-C/SIGTERM stops QEMU and the bridge; the port is free again.
stop_bg firmware
if ss -Huln "sport = :$SERVER_PORT" | grep -q .; then fail "run-firmware stops the bridge" "port $SERVER_PORT still bound"
else pass "run-firmware stops the bridge"; fi
check_contains "bridge prints its counters at exit" "uart frames in:" "$(cat "$TEST_TMP/firmware.log")"

# The bridge's own decoder: bad frames from the firmware's side are dropped
# and counted, and the end of the line ends the bridge (no hang).
bad="68656c6c6fc0c0${hdr}4000a0a0deadbeefc0c0${hdr}c0"
printf "$(sed 's/../\\x&/g' <<<"$bad")" >"$TEST_TMP/bad.bin"
timeout 10 "$COAPS_BUILD_DIR/coaps-bridge" -A 127.0.0.1 -p 0 --uart - \
    <"$TEST_TMP/bad.bin" >/dev/null 2>"$TEST_TMP/bridge.err" || true
check_contains "bridge counts bad frames" "0 ok, 1 bad crc, 0 oversize, 2 malformed" \
    "$(cat "$TEST_TMP/bridge.err")"

finish
