#!/usr/bin/env bash
# test_coap_bad_input.sh - malformed datagrams to coaps-server (RFC 7252 3,
# 4.2, 4.3): a malformed CON is rejected with a Reset carrying its Message
# ID; malformed NON/ACK/RST, truncated headers, unknown versions and empty
# datagrams get no answer; and the server still answers afterwards.
set -euo pipefail
. "${COAPS_SOURCE_DIR:?}/scripts/lib/common.sh"

SEND="$COAPS_BUILD_DIR/udp-send"
start_coaps_server server -A 127.0.0.1

# send NAME HEX EXPECTED: EXPECTED is the exact reply in hex ("" = none).
send() {
    local got
    got=$(timeout 10 "$SEND" -t 500 127.0.0.1 "$SERVER_PORT" "$2" | tr '\n' ' ' | sed 's/ $//')
    check_eq "$1" "$3" "$got"
}

# Header: Ver=1 | T | TKL, Code, Message ID (RFC 7252 3). 0x4x = CON,
# 0x5x = NON, 0x6x = ACK, 0x7x = RST. A Reset is 70 00 + the MID.
send "CON token length 9 -> RST"      "4901a001010203040506070809"  "7000a001"
send "CON token length 15 -> RST"     "4f01a002"                    "7000a002"
send "CON option delta nibble 15 -> RST" "4001a003f1aa"             "7000a003"
send "CON option length nibble 15 -> RST" "4001a0041f"              "7000a004"
send "CON option length past end -> RST" "4001a005b56c6967"         "7000a005"
send "CON payload marker without payload -> RST" "4001a006ff"       "7000a006"
send "CON code class 1 -> RST"        "4021a007"                    "7000a007"
send "CON code class 7 -> RST"        "40e0a008"                    "7000a008"
send "CON Empty with a token -> RST"  "4100a009aa"                  "7000a009"
send "CON Empty (ping) -> RST (pong)" "4000a00a"                    "7000a00a"
send "NON payload marker without payload -> nothing" "5001a00bff"   ""
send "NON token length 9 -> nothing"  "5901a00c010203040506070809"  ""
send "ACK malformed -> nothing"       "6201a00d"                    ""
send "RST malformed -> nothing"       "7f00a00e"                    ""
send "truncated header (3 bytes) -> nothing" "4001a0"               ""
send "one byte -> nothing"            "40"                          ""
send "empty datagram -> nothing"      ""                            ""
send "version 2 -> nothing (RFC 7252 3: silently ignore)" "8001a00f" ""
send "version 0 -> nothing"           "0001a010"                    ""
send "random garbage -> nothing"      "deadbeefcafebabe0123456789abcdef" ""
garbage=$(head -c 1200 /dev/urandom | od -v -An -tx1 | tr -d ' \n')
send "1200 random bytes, version 3 -> nothing" "c0${garbage:2}"    ""

# Well-formed but unwelcome (answers start with ACK, TKL 1, code, MID, token).
# send_prefix NAME HEX PREFIX: the reply starts with PREFIX.
send_prefix() {
    local got
    got=$(timeout 10 "$SEND" -t 1000 -c 1 127.0.0.1 "$SERVER_PORT" "$2" || true)
    check_eq "$1" "$3" "${got:0:${#3}}"
}
# RFC 7252 5.4.1: unrecognised critical option 9 before Uri-Path "light".
send_prefix "CON GET with unknown critical option -> 4.02" "4101a0f04290256c69676874" "6182a0f042"
# RFC 7252 5.8: an unknown method code (0.08) -> 4.05.
send_prefix "CON method 0.08 -> 4.05" "4108a0f142b56c69676874" "6185a0f142"
# RFC 7252 4.2: a CON response nobody asked for -> RST.
send_prefix "unsolicited CON 2.01 -> RST" "4041a0f2" "7000a0f2"
# RFC 7252 5.2.3: a NON request gets a NON response (type 1, 2.05).
send_prefix "NON GET -> NON 2.05" "5101a0f342b56c69676874" "5145"

garbage=$(head -c 1999 /dev/urandom | od -v -An -tx1 | tr -d ' \n')
send "2000-byte CON (longer than any datagram we take) -> nothing" "40${garbage}" ""

# Still alive and correct: CON GET /light (Uri-Path "light"), token 0x42.
got=$(timeout 10 "$SEND" -t 2000 -c 1 127.0.0.1 "$SERVER_PORT" "4101a0ff42b56c69676874" || true)
check_contains "normal GET after the bad input: ACK 2.05 same MID and token" "6145a0ff42" "${got:0:10}"
check_contains "normal GET returns the state" \
    "$(printf '{"status": true}' | od -An -tx1 | tr -d ' \n')" "$got"
kill -0 "$SERVER_PID" 2>/dev/null && pass "server still running" || fail "server still running"

finish
