#!/usr/bin/env bash
# test_conformance_client.sh - issue 18 item 4: the DTLS conformance suite,
# client role. tests/tools/dtls-peer -R client plays an honest PSK server
# (our engine behind its stateless front door) for coaps-client, started
# afresh for each case of tests/conformance/client.txt, and on the way
# sends every handshake message type, ChangeCipherSpec, alert and
# application data, at epoch 0 and 1, in each of six states of the
# client's handshake, plus forged epoch-1 records, replays and
# HelloRequests inside the session. A case completes when coaps-client
# gets its response and exits 0. Fails on any reaction that differs from
# the catalogue, on a hole in the matrix, and when docs/conformance.md
# does not hold the catalogue's table.
set -euo pipefail
. "${COAPS_SOURCE_DIR:?}/scripts/lib/common.sh"
. "$COAPS_SOURCE_DIR/tests/interop/coaps_test_lib.sh"
PEER=$COAPS_BUILD_DIR/dtls-peer
CLIENT=$COAPS_BUILD_DIR/coaps-client
[ -x "$PEER" ] || die "$PEER not built"
[ -x "$CLIENT" ] || die "$CLIENT not built"
CAT=$COAPS_SOURCE_DIR/tests/conformance/client.txt
DOC=$COAPS_SOURCE_DIR/docs/conformance.md

if "$PEER" -R client -M -c "$CAT" >"$TEST_TMP/table.md"; then
    pass "catalogue covers every state x message x epoch"
else
    fail "catalogue covers every state x message x epoch"
fi
sed -n '/<!-- conformance-client-table:begin -->/,/<!-- conformance-client-table:end -->/p' \
    "$DOC" | sed '1d;$d' >"$TEST_TMP/doc.md"
if diff -u "$TEST_TMP/doc.md" "$TEST_TMP/table.md" >"$TEST_TMP/doc.diff"; then
    pass "docs/conformance.md holds the catalogue's table"
else
    fail "docs/conformance.md holds the catalogue's table" \
        "regenerate it: dtls-peer -R client -M -c tests/conformance/client.txt; $(head -20 "$TEST_TMP/doc.diff")"
fi

# dtls-peer starts each coaps-client itself and kills it by PID when a
# case is over; the timeout bounds the whole run.
rc=0
timeout 500 "$PEER" -R client -C "$CLIENT" -k "$DEMO_KEY" -c "$CAT" >"$TEST_TMP/peer.out" \
    2>"$TEST_TMP/peer.err" || rc=$?
cat "$TEST_TMP/peer.out" >&2
cat "$TEST_TMP/peer.err" >&2
check_eq "every reaction as in the catalogue" 0 "$rc"
cases=$(grep -c '^[a-z]' "$CAT" || true)
check_contains "every case ran" "$cases cases, 0 mismatches" "$(tail -1 "$TEST_TMP/peer.out")"
finish
