#!/usr/bin/env bash
# test_coaps_cold.sh - cold sessions at the server's edge (coaps-server
# --cold-after, coaps_dtls_cool): one DTLS session (dtls-send) sends a GET
# three times, 2.5 s apart, to a server that makes sessions silent for 1 s
# cold. Every request must get its 2.05 through the cold session (the
# engine re-keys in both directions), and the server's exit statistics
# must show the session cooled in each gap and woken by each later
# request. On the PSA backend nothing is given back (the keys live in its
# key store): the answers must come the same, and nothing counts as cooled.
set -euo pipefail
. "${COAPS_SOURCE_DIR:?}/scripts/lib/common.sh"
. "$COAPS_SOURCE_DIR/tests/interop/coaps_test_lib.sh"
DSEND=$COAPS_BUILD_DIR/dtls-send
[ -x "$DSEND" ] || die "$DSEND not built"
PSA=0
grep -q '^COAPS_CRYPTO:STRING=psa' "$COAPS_BUILD_DIR/CMakeCache.txt" 2>/dev/null && PSA=1

start_dtls_server cold -A 127.0.0.1 --psk-default "$DEMO_KEY" --cold-after 1 -v info
# CON GET /light, Message ID 0x1234, token b5: the same message each time
# (the later ones are CoAP duplicates, answered from the dedup cache,
# which still goes out through the session's write key)
timeout 30 "$DSEND" -n 3 -i 2500 -c 1 -t 1500 -k "$DEMO_KEY" -u cold \
    127.0.0.1 "$COAPS_PORT" 40011234b56c69676874 >"$TEST_TMP/replies" || true
kill -INT "$SERVER_PID"
wait_for_line "$TEST_TMP/cold.log" "woken" 10 || true
check_eq "three replies" 3 "$(grep -c . "$TEST_TMP/replies" || true)"
check_eq "every reply a 2.05 piggybacked ACK" 3 "$(grep -c '^6045' "$TEST_TMP/replies" || true)"
stats=$(grep -o 'cooled [0-9]*, woken [0-9]*' "$TEST_TMP/cold.log" || true)
cooled=$(echo "$stats" | sed -n 's/cooled \([0-9]*\),.*/\1/p')
woken=$(echo "$stats" | sed -n 's/.*woken \([0-9]*\)/\1/p')
if [ "$PSA" = 1 ]; then
    check_eq "PSA: nothing cooled" "cooled 0, woken 0" "$stats"
else
    if [ -n "$cooled" ] && [ "$cooled" -ge 2 ]; then pass "cooled in both gaps ($cooled)"
    else fail "cooled in both gaps" "$stats / $(cat "$TEST_TMP/cold.log")"; fi
    check_eq "woken by the second and third request" 2 "$woken"
fi
finish
