#!/usr/bin/env bash
# test_firmware_pki.sh - the ECDHE-ECDSA build of the emulated light
# (FW_PKI, make firmware: build/firmware-pki): its certificate chain, key
# and the CA of its clients are PEM in flash (tests/crypto/certs), and it
# requires a client certificate (RFC 5246 7.4.4). libcoap's
# coap-client-openssl and -gnutls GET /light over coaps:// with their
# certificates (TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, RFC 7252 9.1.3.3) and
# PUT it; a client whose certificate the light does not trust is refused
# with unknown_ca, one without a certificate with handshake_failure
# (RFC 5246 7.4.6), and a client that does not trust the light gets no
# state; PSK still works beside the certificates. Reports the
# instructions retired per ECDHE-ECDSA handshake (minstret) and checks the
# stack's and the heap's high-water marks against their reservations.
# Skips (exit 77) only when the ECDHE-ECDSA firmware was not built.
set -euo pipefail
. "${COAPS_SOURCE_DIR:?}/scripts/lib/common.sh"
. "$COAPS_SOURCE_DIR/tests/firmware/firmware_lib.sh"

ELF=${COAPS_FIRMWARE_PKI:-$COAPS_SOURCE_DIR/build/firmware-pki/coaps-light.elf}
if [ ! -f "$ELF" ]; then
    log "SKIP: $ELF is not built (run: make firmware)"
    exit 77
fi
need_program coap-client-notls
need_program coap-client-openssl
need_program coap-client-gnutls
need_program qemu-system-riscv32
need_program openssl
C=$COAPS_SOURCE_DIR/tests/crypto/certs

# A client certificate the light must not trust: clientAuth, from the
# other test CA (tests/crypto/certs/other-ca; its key is a fixture).
openssl ecparam -name prime256v1 -genkey -noout -out "$TEST_TMP/stranger.key" 2>/dev/null
openssl req -new -key "$TEST_TMP/stranger.key" -subj "/O=coaps test/CN=stranger" \
    -out "$TEST_TMP/stranger.csr" 2>/dev/null
printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' >"$TEST_TMP/ext"
openssl x509 -req -in "$TEST_TMP/stranger.csr" -CA "$C/other-ca.pem" -CAkey "$C/other-ca.key" \
    -set_serial 7 -days 2 -extfile "$TEST_TMP/ext" -out "$TEST_TMP/stranger.pem" 2>/dev/null

start_firmware "$ELF"
check_contains "listening on coaps://" "listening on coaps://127.0.0.1:$COAPS_PORT" \
    "$(cat "$TEST_TMP/firmware.log")"

# coaps PEER ARGS...: one request with libcoap's PEER client; stderr in
# $TEST_TMP/PEER.err.
coaps() {
    local peer=$1; shift
    timeout 60 "coap-client-$peer" -B 30 "$@" 2>"$TEST_TMP/$peer.err" || true
}
mine=(-C "$C/ca.pem" -c "$C/client.pem" -j "$C/client.key")

# RFC 7252 9.1.3.3: certificates both ways. The handshake's cost is the
# cookie-bearing ClientHello through our Finished (GET /stats/dtls).
for peer in openssl gnutls; do
    est=$(stat established dtls)
    check_eq "coaps:// GET with certificates ($peer)" '{"status": true}' \
        "$(coaps "$peer" "${mine[@]}" "$SBASE/light")"
    check_eq "a session established ($peer)" $((est + 1)) "$(stat established dtls)"
    hs=$(stat insn_handshake dtls)
    log "instructions retired per ECDHE-ECDSA handshake with $peer (cookie ClientHello to" \
        "Finished): $hs, HelloVerifyRequest: $(stat insn_hello_verify dtls)"
    if [ -n "$hs" ] && [ "$hs" -gt 0 ]; then pass "minstret cost of an ECDHE-ECDSA handshake ($peer)"
    else fail "minstret cost of an ECDHE-ECDSA handshake ($peer)" "[$hs]"; fi
done
coaps openssl "${mine[@]}" -m put -e '{"status": false, "via": "ecdsa"}' "$SBASE/light" >/dev/null
check_eq "PUT over ECDHE-ECDSA seen over coap://" '{"status": false, "via": "ecdsa"}' \
    "$(coap -m get "$BASE/light")"

# RFC 5246 7.4.6 / 7.2.2: a client certificate from a CA the light does
# not trust ends the handshake with unknown_ca (48); none at all, with
# handshake_failure (40): the light requires one.
for peer in openssl gnutls; do
    est=$(stat established dtls)
    failed0=$(stat failed dtls)
    got=$(coaps "$peer" -C "$C/ca.pem" -c "$TEST_TMP/stranger.pem" -j "$TEST_TMP/stranger.key" \
          -B 10 "$SBASE/light")
    if [[ "$got" == *'"status"'* ]]; then fail "untrusted client certificate refused ($peer)" "$got"
    else pass "untrusted client certificate refused ($peer)"; fi
    check_eq "untrusted client certificate: handshake failed ($peer)" $((failed0 + 1)) \
        "$(stat failed dtls)"
    check_eq "untrusted client certificate: unknown_ca sent ($peer)" 48 "$(stat alert_last dtls)"
    check_eq "untrusted client certificate: no session ($peer)" "$est" "$(stat established dtls)"
done
est=$(stat established dtls)
got=$(coaps openssl -R "$C/ca.pem" -B 10 "$SBASE/light")
if [[ "$got" == *'"status"'* ]]; then fail "client without a certificate refused" "$got"
else pass "client without a certificate refused"; fi
check_eq "client without a certificate: handshake_failure sent" 40 "$(stat alert_last dtls)"
check_eq "client without a certificate: no session" "$est" "$(stat established dtls)"

# The client's side: trusting only the other CA, it refuses the light's
# chain (and tells the light so); nothing is served.
for peer in openssl gnutls; do
    est=$(stat established dtls)
    got=$(coaps "$peer" -C "$C/other-ca.pem" -c "$C/client.pem" -j "$C/client.key" -B 10 \
          "$SBASE/light")
    if [[ "$got" == *'"status"'* ]]; then fail "a client that does not trust the light gets nothing ($peer)" "$got"
    else pass "a client that does not trust the light gets nothing ($peer)"; fi
    check_eq "a client that does not trust the light: no session ($peer)" "$est" \
        "$(stat established dtls)"
done

# PSK beside the certificates (the reference device's key, hint CoAP).
for peer in openssl gnutls; do
    check_eq "coaps:// GET with PSK on the ECDHE-ECDSA build ($peer)" \
        '{"status": false, "via": "ecdsa"}' \
        "$(coaps "$peer" -k esp32c3_key -u "$peer-psk" "$SBASE/light")"
done
log "instructions retired per PSK handshake on this build: $(stat insn_handshake dtls)"

# Memory: the heap holds what was loaded at start and what a handshake's
# ECDH, ECDSA and the client's chain need; nothing may have been refused.
check_eq "no allocation failed" 0 "$(stat heap_refused)"
heap=$(stat heap_used dtls)
heap_size=$(stat heap_size dtls)
stack=$(stat stack_used)
stack_size=$(stat stack_size)
log "heap high-water mark: $heap of $heap_size bytes; stack: $stack of $stack_size bytes"
check_within_three_quarters "heap" "$heap" "$heap_size"
check_within_three_quarters "stack" "$stack" "$stack_size"

stop_bg firmware
finish
