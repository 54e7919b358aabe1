#!/usr/bin/env bash
# test_state_restart.sh - durable sessions (coaps-server --state FILE
# --state-key KEYFILE, docs/sessions.md): the server is stopped with
# SIGTERM in the middle of a client's work and started again on the same
# ports; the client goes on over its DTLS session with no handshake at all.
#   - coaps-client --repeat: every request answered, the client never
#     starts its session again, and the restarted server made no handshake
#     (its statistics: handshakes 0, established 0, resumed 0, restored 1);
#   - libcoap's coap-client-openssl observing /light across the restart
#     gets the notification of a PUT sent to the restarted server;
#   - a second restart keeps going (the restored session is saved again),
#     and the file is consumed at start (a crash cannot restore it twice);
#   - a corrupt, truncated, foreign-key, stale or missing file: one
#     warning line (none when missing), a clean start, and a new handshake
#     works; a bad key file is a one-line error naming it.
set -euo pipefail
. "${COAPS_SOURCE_DIR:?}/scripts/lib/common.sh"
. "$COAPS_SOURCE_DIR/tests/interop/coaps_test_lib.sh"
need_program coap-client-openssl
need_program openssl

STATE=$TEST_TMP/state
KEY=$TEST_TMP/key
openssl rand -hex 32 >"$KEY"
SFLAGS=(--psk-default "$DEMO_KEY" -v info --state "$STATE" --state-key "$KEY")

# restart NAME [ARGS...]: SIGTERM the server, start it again on the same
# ports as NAME (SERVER_PID is the new one). While no process has the
# ports another program's socket may take one for a moment: then again.
restart() {
    local name=$1; shift
    stop_server
    start_on_ports "$name" "$@"
}

# stop NAME: SIGTERM, wait; the statistics are then in NAME's log.
stop() { stop_server; }

stat_of() { coaps_stat "$@"; } # LOG FIELD
coap_stat_of() { # LOG FIELD: the same in the CoAP statistics line
    grep "stats: rx" "$1" | grep -o "$2 [0-9]*" | head -1 | awk '{print $NF}'
}

# ---- coaps-client --repeat across two restarts ---------------------------------
start_dtls_server srv1 "${SFLAGS[@]}"
start_bg rep timeout 60 "$COAPS_BUILD_DIR/coaps-client" -B 20 -v info -k "$DEMO_KEY" -u CoAP \
    --repeat 12 --interval 400 "coaps://127.0.0.1:$COAPS_PORT/light"
REP_PID=$LAST_PID
wait_for_line "$TEST_TMP/rep.log" '"status"' 10 || die "no first response"
sleep 1
restart srv2 "${SFLAGS[@]}"
check_contains "the state file was consumed at start" "no file" \
    "$( [ -e "$STATE" ] && echo "still there" || echo "no file")"
sleep 1.5
restart srv3 "${SFLAGS[@]}"
wait "$REP_PID" && REP_RC=0 || REP_RC=$?
stop
check_eq "client exit 0 (every request answered)" 0 "$REP_RC"
check_eq "12 responses" 12 "$(grep -c '"status"' "$TEST_TMP/rep.log" || true)"
check_contains "client: all answered, none resent as a new request" "12 of 12 requests answered with 2.xx (12 sent)" \
    "$(cat "$TEST_TMP/rep.log")"
if grep -q "starting it again" "$TEST_TMP/rep.log"; then
    fail "the client never started its session again" "$(grep "starting" "$TEST_TMP/rep.log")"
else
    pass "the client never started its session again"
fi
check_contains "srv1 saved its session" "saved 1 coaps sessions" "$(cat "$TEST_TMP/srv1.log")"
check_eq "srv1: one handshake" 1 "$(stat_of "$TEST_TMP/srv1.log" handshakes)"
for s in srv2 srv3; do
    check_contains "$s restored the session" "restored 1 coaps sessions" "$(cat "$TEST_TMP/$s.log")"
    check_eq "$s: no handshake" 0 "$(stat_of "$TEST_TMP/$s.log" handshakes)"
    check_eq "$s: no session established" 0 "$(stat_of "$TEST_TMP/$s.log" established)"
    check_eq "$s: none resumed" 0 "$(stat_of "$TEST_TMP/$s.log" resumed)"
    check_eq "$s: no hello-verify" 0 "$(stat_of "$TEST_TMP/$s.log" hello-verify)"
    check_eq "$s: stats count the restored session" 1 "$(stat_of "$TEST_TMP/$s.log" restored)"
done
if grep -q "warning" "$TEST_TMP"/srv[123].log; then
    fail "no warnings" "$(grep warning "$TEST_TMP"/srv[123].log)"
else
    pass "no warnings"
fi

# ---- Observe across a restart (libcoap's client) ------------------------------------
rm -f "$STATE"
restart obs1 "${SFLAGS[@]}"
start_bg observer timeout 30 coap-client-openssl -k "$DEMO_KEY" -u CoAP -s 12 -B 15 \
    "coaps://127.0.0.1:$COAPS_PORT/light"
OBS_PID=$LAST_PID
wait_for_line "$TEST_TMP/observer.log" '"status"' 10 || die "observer got no first response"
sleep 0.5
restart obs2 "${SFLAGS[@]}"
check_contains "obs2 restored the observer's session" "restored 1 coaps sessions" \
    "$(cat "$TEST_TMP/obs2.log")"
timeout 20 "$COAPS_BUILD_DIR/coaps-client" -B 8 -k "$DEMO_KEY" -u CoAP -m put -t json \
    -e '{"status": true, "scene": "after restart"}' "coaps://127.0.0.1:$COAPS_PORT/light" \
    >/dev/null 2>"$TEST_TMP/put.err" || fail "PUT to the restarted server" "$(cat "$TEST_TMP/put.err")"
wait_for_line "$TEST_TMP/observer.log" 'after restart' 10 || true
check_contains "the observer got the notification after the restart" \
    '{"status": true, "scene": "after restart"}' "$(cat "$TEST_TMP/observer.log")"
wait "$OBS_PID" 2>/dev/null || true
stop
# the PUT's client made the one handshake, the observer none
check_eq "obs2: one handshake (the PUT's client)" 1 "$(stat_of "$TEST_TMP/obs2.log" handshakes)"
check_eq "obs2: one notification sent" 1 "$(coap_stat_of "$TEST_TMP/obs2.log" notifications)"

# ---- files that cannot be used: one warning, a clean start, handshakes work ------------
# save_state NAME: a fresh state file of one session (a client's request,
# then SIGTERM), its bytes then left for the case to damage.
save_state() {
    rm -f "$STATE"
    start_dtls_server "$1-save" "${SFLAGS[@]}"
    timeout 20 "$COAPS_BUILD_DIR/coaps-client" -B 8 -k "$DEMO_KEY" -u CoAP \
        "coaps://127.0.0.1:$COAPS_PORT/light" >/dev/null 2>&1 || fail "$1: request before saving"
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
    [ -s "$STATE" ] || die "$1: no state file written"
}

# bad_case NAME WARNING [ARGS...]: start on the damaged file (on new
# ports: no session is to go on), expect one warning line with WARNING,
# then a handshake and a response.
bad_case() {
    local name=$1 want=$2; shift 2
    start_dtls_server "$name" "$@"
    local warns
    warns=$(grep -c "warning" "$TEST_TMP/$name.log" || true)
    check_eq "$name: one warning line" 1 "$warns"
    check_contains "$name: the warning says why" "$want" "$(grep warning "$TEST_TMP/$name.log" || true)"
    local out
    out=$(timeout 20 "$COAPS_BUILD_DIR/coaps-client" -B 8 -k "$DEMO_KEY" -u CoAP \
        "coaps://127.0.0.1:$COAPS_PORT/light" 2>&1) || true
    check_contains "$name: a new handshake works" '"status"' "$out"
    stop
    check_eq "$name: nothing restored" 0 "$(stat_of "$TEST_TMP/$name.log" restored)"
    check_eq "$name: one handshake" 1 "$(stat_of "$TEST_TMP/$name.log" handshakes)"
}

# no file at all: silent
rm -f "$STATE"
start_dtls_server none "${SFLAGS[@]}"
stop
check_eq "no state file: no warning" 0 "$(grep -c warning "$TEST_TMP/none.log" || true)"

save_state corrupt
size=$(stat -c %s "$STATE")
printf '\xff' | dd of="$STATE" bs=1 seek=$((size - 20)) conv=notrunc status=none
bad_case corrupt "damaged (authentication failed)" "${SFLAGS[@]}"
check_contains "corrupt: the file is left for inspection" "there" \
    "$( [ -e "$STATE" ] && echo there || echo gone)"

save_state truncated
truncate -s $(($(stat -c %s "$STATE") - 7)) "$STATE"
bad_case truncated "truncated" "${SFLAGS[@]}"
truncate -s 10 "$STATE"
bad_case truncated2 "truncated" "${SFLAGS[@]}"

save_state foreign
openssl rand -hex 32 >"$TEST_TMP/other.key"
bad_case foreign "sealed with another key" --psk-default "$DEMO_KEY" -v info --state "$STATE" \
    --state-key "$TEST_TMP/other.key"

head -c 300 /dev/urandom >"$STATE"
bad_case garbage "not a coaps state file" "${SFLAGS[@]}"

# stale: older than the idle timeout (1 s here), so nothing in it could live
save_state stale
sleep 2.2
bad_case stale "stale" "${SFLAGS[@]}" --idle-timeout 1

# a bad key file: one line naming it, exit 2-ish, no server
echo "not hex" >"$TEST_TMP/bad.key"
set +e
out=$("$COAPS_BUILD_DIR/coaps-server" -p 0 --psk-default "$DEMO_KEY" --state "$STATE" \
    --state-key "$TEST_TMP/bad.key" 2>&1)
rc=$?
set -e
check_eq "bad key file: fails" 1 "$([ "$rc" -ne 0 ] && echo 1 || echo 0)"
check_eq "bad key file: one line" 1 "$(printf '%s\n' "$out" | wc -l)"
check_contains "bad key file: names it" "$TEST_TMP/bad.key" "$out"
set +e
out=$("$COAPS_BUILD_DIR/coaps-server" -p 0 --psk-default "$DEMO_KEY" --state "$STATE" 2>&1)
rc=$?
set -e
check_eq "--state without --state-key: exit 2" 2 "$rc"

finish
