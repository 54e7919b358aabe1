#!/usr/bin/env bash
# test_dtls_cid_mbedtls.sh - DTLS Connection ID (RFC 9146) against Mbed TLS
# 3.6 (its default configuration has RFC 9146 CIDs: ssl_client2 and
# ssl_server2 with cid=1 cid_val=HEX), both roles, CIDs of zero and
# non-zero length on either side, over our dtls-echo client and server:
# the handshake must negotiate the CID (Mbed TLS prints "Use of Connection
# ID has been negotiated" and the CID it sends with), and application data
# must cross in tls12_cid records both ways (the echo comes back). A side
# that does not offer the extension gets a session without a CID.
set -euo pipefail
. "${COAPS_SOURCE_DIR:?}/scripts/lib/common.sh"
MBEDTLS=$(bash "$COAPS_SOURCE_DIR/scripts/install-mbedtls" --prefix) ||
    die "no Mbed TLS 3.6 build (scripts/install-mbedtls)"
ECHO_BIN=$COAPS_BUILD_DIR/dtls-echo
PSK_HEX=000102030405060708090a0b0c0d0e0f
MBED=(dtls=1 server_addr=127.0.0.1 hs_timeout=500-4000 psk="$PSK_HEX" psk_identity=cid-test)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}

# ours_client OUR_CID MB_CID SUITE: dtls-echo client (--cid OUR_CID, or no
# extension for "-") -> ssl_server2 (cid_val MB_CID, "-": cid=0).
ours_client() {
    local ours=$1 theirs=$2 suite=$3 what port flags=() mb=(cid=0)
    what="dtls-echo client --cid $ours -> ssl_server2 cid_val=$theirs, $suite"
    [ "$ours" != - ] && flags=(--cid "$ours")
    [ "$theirs" != - ] && mb=(cid=1 cid_val="$theirs")
    port=$(free_udp_port)
    start_bg ms timeout 30 "$MBEDTLS/bin/ssl_server2" "${MBED[@]}" server_port="$port" "${mb[@]}"
    wait_udp_port "$port" 10 || { fail "$what: ssl_server2 did not start"; return; }
    printf 'cid line %s\n' "$ours/$theirs" | timeout 15 "$ECHO_BIN" -c 127.0.0.1 -p "$port" \
        --psk "cid-test:0x$PSK_HEX" --ciphers "$suite" "${flags[@]}" >"$TEST_TMP/c.out" \
        2>"$TEST_TMP/c.err" && rc=0 || rc=$?
    sleep 0.2
    stop_bg ms
    local log="$TEST_TMP/ms.log"
    if [ "$rc" -ne 0 ] || ! grep -q "^HTTP/1.0 200 OK" "$TEST_TMP/c.out" ||
        ! grep -qF "cid line $ours/$theirs" "$log"; then
        fail "$what: no exchange" "rc $rc; $(cat "$TEST_TMP/c.err")"; return
    fi
    expect_cid "$what" "$log" "$ours" "$theirs"
}

# mbed_client MB_CID OUR_CID SUITE: ssl_client2 (cid_val MB_CID) -> our
# dtls-echo server (--cid OUR_CID), which echoes its request.
mbed_client() {
    local theirs=$1 ours=$2 suite=$3 what port flags=() mb=(cid=0)
    what="ssl_client2 cid_val=$theirs -> dtls-echo server --cid $ours, $suite"
    [ "$ours" != - ] && flags=(--cid "$ours")
    [ "$theirs" != - ] && mb=(cid=1 cid_val="$theirs")
    port=$(free_udp_port)
    start_bg ours timeout 30 "$ECHO_BIN" -s -A 127.0.0.1 -p "$port" --psk "cid-test:0x$PSK_HEX" \
        "${flags[@]}"
    wait_udp_port "$port" 10 || { fail "$what: dtls-echo did not start"; return; }
    timeout 15 "$MBEDTLS/bin/ssl_client2" "${MBED[@]}" server_port="$port" "${mb[@]}" \
        force_ciphersuite="$(mbed_suite "$suite")" >"$TEST_TMP/mc.out" 2>&1 && rc=0 || rc=$?
    stop_bg ours
    if [ "$rc" -ne 0 ] || ! grep -q "Read from server" "$TEST_TMP/mc.out"; then
        fail "$what: no echo" "rc $rc; $(tail -5 "$TEST_TMP/mc.out")"; return
    fi
    expect_cid "$what" "$TEST_TMP/mc.out" "$ours" "$theirs"
}

# expect_cid WHAT MBED_LOG OURS THEIRS: Mbed TLS's view of the session.
# Its peer is us: "Peer CID (length N Bytes)" is the length of the CID we
# asked for (our --cid); negotiated only when both sides offered ("-": a
# side without the extension).
expect_cid() {
    local what=$1 log=$2 ours=$3 theirs=$4
    if [ "$ours" = - ] || [ "$theirs" = - ]; then
        if grep -q "Use of Connection ID has been negotiated" "$log"; then
            fail "$what: a CID negotiated though one side did not offer it"
        else pass "$what: no CID, data crossed"; fi
        return
    fi
    if grep -q "Use of Connection ID has been negotiated" "$log" &&
        grep -q "Peer CID (length $ours Bytes)" "$log"; then
        pass "$what: CID negotiated ($ours bytes towards us), data crossed"
    else
        fail "$what: CID not as expected" "$(grep -i 'cid' "$log" | head -3)"
    fi
}

mbed_suite() {
    case $1 in
    TLS_PSK_WITH_AES_128_CCM_8) echo TLS-PSK-WITH-AES-128-CCM-8 ;;
    TLS_PSK_WITH_AES_128_GCM_SHA256) echo TLS-PSK-WITH-AES-128-GCM-SHA256 ;;
    TLS_PSK_WITH_CHACHA20_POLY1305_SHA256) echo TLS-PSK-WITH-CHACHA20-POLY1305-SHA256 ;;
    esac
}

for suite in TLS_PSK_WITH_AES_128_CCM_8 TLS_PSK_WITH_AES_128_GCM_SHA256 \
    TLS_PSK_WITH_CHACHA20_POLY1305_SHA256; do
    ours_client 0 deadbeef "$suite"   # CID records from us only
    ours_client 6 deadbeef "$suite"   # both ways
    mbed_client c0ffee01 8 "$suite"   # both ways
    mbed_client "" 8 "$suite"         # Mbed TLS asks for none: plain records to it
done
ours_client 6 "" TLS_PSK_WITH_AES_128_CCM_8  # ssl_server2 asks for none
ours_client 4 - TLS_PSK_WITH_AES_128_CCM_8   # server without CID
mbed_client aabb - TLS_PSK_WITH_AES_128_CCM_8 # our server without CID
mbed_client - 8 TLS_PSK_WITH_AES_128_CCM_8    # client without CID

finish
