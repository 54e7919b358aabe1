#!/usr/bin/env bash
# test_firmware_random.sh - two boots of the emulated light give different
# DTLS randoms: the ServerHello.random (RFC 5246 7.4.1.3) comes from the
# port's entropy (QEMU's Zkr seed CSR, fed by the host's random source),
# never from a constant or a clock (issue 12). Each boot is asked for a
# ServerHello twice, through the bridge, by a minimal DTLS 1.2 client
# (ClientHello, HelloVerifyRequest, ClientHello with the cookie, RFC 6347
# 4.2.1); the four randoms must all differ. Prints the randoms it saw.
# Skips (exit 77) when the firmware was not built, or built without coaps://.
set -euo pipefail
. "${COAPS_SOURCE_DIR:?}/scripts/lib/common.sh"

ELF=${COAPS_FIRMWARE:-$COAPS_SOURCE_DIR/build/firmware/coaps-light.elf}
if [ ! -f "$ELF" ]; then
    log "SKIP: $ELF is not built (run: make firmware)"
    exit 77
fi
need_program qemu-system-riscv32
need_program python3

# server_random PORT: the hex ServerHello.random of one handshake's
# second flight, or nothing. One socket, so the cookie matches the peer.
server_random() {
    python3 - "$1" <<'EOF'
import os, socket, struct, sys

def record(body, seq):
    # DTLSPlaintext: handshake(22), DTLS 1.2, epoch 0, 48-bit sequence
    return struct.pack(">BHHHI", 22, 0xFEFD, 0, 0, seq) + struct.pack(">H", len(body)) + body

def client_hello(rand, cookie, msg_seq):
    body = struct.pack(">H", 0xFEFD) + rand + b"\x00"            # no session id
    body += bytes([len(cookie)]) + cookie
    body += struct.pack(">HH", 2, 0xC0A8)                         # PSK_WITH_AES_128_CCM_8
    body += b"\x01\x00"                                           # null compression
    n = len(body)
    hs = bytes([1]) + n.to_bytes(3, "big") + struct.pack(">H", msg_seq)
    hs += (0).to_bytes(3, "big") + n.to_bytes(3, "big")          # one fragment
    return hs + body

def first_handshake(dgram):
    # record header 13, handshake header 12: type at 13, body at 25
    if len(dgram) < 25 or dgram[0] != 22:
        return None, b""
    return dgram[13], dgram[25:]

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
addr = ("127.0.0.1", int(sys.argv[1]))
rand = os.urandom(32)
try:
    s.sendto(record(client_hello(rand, b"", 0), 0), addr)
    t, body = first_handshake(s.recv(2048))
    if t != 3:                                                    # HelloVerifyRequest
        sys.exit("no HelloVerifyRequest")
    cookie = body[3:3 + body[2]]                                  # version 2, cookie<0..255>
    s.sendto(record(client_hello(rand, cookie, 1), 1), addr)
    t, body = first_handshake(s.recv(2048))
    if t != 2:                                                    # ServerHello
        sys.exit("no ServerHello")
    print(body[2:34].hex())                                       # after server_version
except socket.timeout:
    sys.exit("timeout")
EOF
}

# boot: start the firmware, print two ServerHello randoms, stop it.
boot() {
    local coap coaps try
    for try in 1 2 3; do
        coap=$(free_udp_port)
        coaps=$(free_udp_port)
        start_bg "firmware$1" bash "$COAPS_SOURCE_DIR/scripts/run-firmware" --firmware "$ELF" \
            --bridge "$COAPS_BUILD_DIR/coaps-bridge" -A 127.0.0.1 -p "$coap" --coaps-port "$coaps"
        if wait_for_line "$TEST_TMP/firmware$1.log" "listening on coap://" 30; then
            if ! grep -q "listening on coaps://" "$TEST_TMP/firmware$1.log"; then
                stop_bg "firmware$1"
                log "SKIP: the firmware was built without coaps:// (no rv32 Mbed TLS)"
                exit 77
            fi
            server_random "$coaps" 2>>"$TEST_TMP/random.err" || true
            server_random "$coaps" 2>>"$TEST_TMP/random.err" || true
            stop_bg "firmware$1"
            return 0
        fi
        stop_bg "firmware$1"
        log "firmware did not come up (try $try): $(cat "$TEST_TMP/firmware$1.log")"
    done
    die "could not start the firmware"
}

boot 1 >"$TEST_TMP/boot1" # not in a subshell: the EXIT trap sees its processes
boot 2 >"$TEST_TMP/boot2"
mapfile -t first <"$TEST_TMP/boot1"
mapfile -t second <"$TEST_TMP/boot2"
log "boot 1 ServerHello randoms: ${first[*]:-none}"
log "boot 2 ServerHello randoms: ${second[*]:-none}"
all=("${first[@]}" "${second[@]}")
if [ "${#all[@]}" -eq 4 ] && [[ "${all[*]}" =~ ^([0-9a-f]{64} ?){4}$ ]]; then
    pass "a ServerHello from each of two handshakes in each of two boots"
else
    fail "a ServerHello from each of two handshakes in each of two boots" \
        "[${all[*]}] $(cat "$TEST_TMP/random.err" 2>/dev/null)"
fi
check_eq "the four randoms differ" 4 "$(printf '%s\n' "${all[@]}" | sort -u | grep -c .)"
check_eq "no random repeats across boots" 0 \
    "$(comm -12 <(printf '%s\n' "${first[@]}" | sort) <(printf '%s\n' "${second[@]}" | sort) | grep -c . || true)"
finish
