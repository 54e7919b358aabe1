#!/usr/bin/env bash
# test_conformance_server.sh - issue 18 item 4: the DTLS conformance suite,
# server role. tests/tools/dtls-peer, a scripted DTLS 1.2 PSK client, plays
# every case of tests/conformance/server.txt against coaps-server: every
# handshake message type, ChangeCipherSpec, alert and application data, at
# epoch 0 and 1, in each of the six states of the server's handshake, plus
# the attack cases (forged epoch-1 records before the ClientKeyExchange and
# in an established CCM_8 session, reordered and incomplete flights,
# replays, a ClientHello flood inside a session). Every injected datagram
# comes from the honest client's own address and port; the forged-record
# attacks run once more from a raw socket with that address forged as the
# source. Fails on any reaction that differs from
# the catalogue, on a hole in the matrix, when docs/conformance.md does not
# hold the catalogue's table, or when the server died on the way.
set -euo pipefail
. "${COAPS_SOURCE_DIR:?}/scripts/lib/common.sh"
. "$COAPS_SOURCE_DIR/tests/interop/coaps_test_lib.sh"
PEER=$COAPS_BUILD_DIR/dtls-peer
[ -x "$PEER" ] || die "$PEER not built"
CAT=$COAPS_SOURCE_DIR/tests/conformance/server.txt
DOC=$COAPS_SOURCE_DIR/docs/conformance.md

# The table in the docs is the catalogue's, generated (no hole allowed).
if "$PEER" -M -c "$CAT" >"$TEST_TMP/table.md"; then
    pass "catalogue covers every state x message x epoch"
else
    fail "catalogue covers every state x message x epoch"
fi
sed -n '/<!-- conformance-table:begin -->/,/<!-- conformance-table:end -->/p' "$DOC" |
    sed '1d;$d' >"$TEST_TMP/doc.md"
if diff -u "$TEST_TMP/doc.md" "$TEST_TMP/table.md" >"$TEST_TMP/doc.diff"; then
    pass "docs/conformance.md holds the catalogue's table"
else
    fail "docs/conformance.md holds the catalogue's table" \
        "regenerate it: dtls-peer -M -c tests/conformance/server.txt; $(head -20 "$TEST_TMP/doc.diff")"
fi

start_dtls_server conformance -A 127.0.0.1 --psk-default "$DEMO_KEY"
backend=$(grep -o 'crypto [a-z]*' "$TEST_TMP/conformance.log" | head -1 || true)
log "coaps-server ${backend:-}: $(wc -l <"$TEST_TMP/conformance.log") log lines"
rc=0
timeout 400 "$PEER" -k "$DEMO_KEY" -c "$CAT" 127.0.0.1 "$COAPS_PORT" >"$TEST_TMP/peer.out" \
    2>"$TEST_TMP/peer.err" || rc=$?
cat "$TEST_TMP/peer.out" >&2
cat "$TEST_TMP/peer.err" >&2
check_eq "every reaction as in the catalogue" 0 "$rc"
cases=$(grep -c '^[a-z]' "$CAT" || true)
check_contains "every case ran" "$cases cases, 0 mismatches" "$(tail -1 "$TEST_TMP/peer.out")"
# The attacks again, each injected datagram now sent from a raw socket with
# the client's address and port forged as its source (dtls-peer -S): a
# spoofer elsewhere, not the client's own socket. The server must react
# the same (and count the forged records: 140 of them end the session).
spoofed=$(grep -c '^[a-z_0-9]* *forged' "$CAT" || true)
rc=0
timeout 120 "$PEER" -S -f forged -k "$DEMO_KEY" -c "$CAT" 127.0.0.1 "$COAPS_PORT" \
    >"$TEST_TMP/spoof.out" 2>&1 || rc=$?
cat "$TEST_TMP/spoof.out" >&2
check_eq "spoofed source: every reaction as in the catalogue" 0 "$rc"
check_contains "spoofed source: every case ran" "$spoofed cases, 0 mismatches" \
    "$(tail -1 "$TEST_TMP/spoof.out")"
if server_alive conformance; then
    pass "server alive after the catalogue"
else
    fail "server alive after the catalogue" "$(tail -5 "$TEST_TMP/conformance.log")"
fi
if grep -q 'ERROR: AddressSanitizer\|runtime error' "$TEST_TMP/conformance.log"; then
    fail "server clean under the sanitizers" "$(grep -m3 'ERROR\|runtime error' "$TEST_TMP/conformance.log")"
else
    pass "server clean under the sanitizers"
fi
finish
