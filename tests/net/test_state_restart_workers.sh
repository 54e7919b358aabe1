#!/usr/bin/env bash
# test_state_restart_workers.sh - durable sessions with workers
# (coaps-server --workers 2 --state FILE --state-key KEYFILE;
# docs/workers.md, docs/sessions.md): at SIGTERM every worker's sessions go
# into the one state file; at start each session goes back into the worker
# that will receive its peer's records. The server is restarted while
# clients work, and they go on over their DTLS sessions with no handshake:
#   1. 8 clients without a Connection ID, each from its own port: the
#      socket group's address hash (net/reuseport.h) spreads them over the
#      two workers, and the restore must put each session where its records
#      arrive: a session restored into the other worker would never see
#      them (its client's next record is dropped at that worker's front
#      door, the client starts again: a handshake). With 8 sessions,
#      a placement by chance is right for all of them 1 time in 256. Then a
#      second restart into --workers 1 (one table takes them all);
#   2. 6 clients with a CID (--cid 8) behind the relay: restored into the
#      worker their CID's tag names, then their NAT rebinds (SIGUSR1):
#      their records still reach that worker (moved, no unknown cid). Then
#      a restart from --workers 1 back into 2 workers: the single worker's
#      CIDs carry no tag, and each session goes where its address hashes.
# Every client exits 0 with every request answered and never starts its
# session again; the restarted servers count no handshake, no
# hello-verify, no resumption, and restore every session (the total, and
# per worker "restored N" adds up).
set -euo pipefail
. "${COAPS_SOURCE_DIR:?}/scripts/lib/common.sh"
. "$COAPS_SOURCE_DIR/tests/interop/coaps_test_lib.sh"
need_program openssl

CLIENT=$COAPS_BUILD_DIR/coaps-client
RELAY=$COAPS_BUILD_DIR/relay
STATE=$TEST_TMP/state
KEY=$TEST_TMP/key
openssl rand -hex 32 >"$KEY"
SFLAGS=(--psk-default "$DEMO_KEY" -v info --state "$STATE" --state-key "$KEY")

# restart NAME WORKERS [ARGS...]: SIGTERM the server, start it again with
# --workers WORKERS on the same ports (SERVER_PID the new one); up when
# its sockets are bound and the sessions restored ("listening on coaps://"
# comes after both). Another program may take a port for a moment while
# none holds it: then again.
restart() {
    local name=$1 workers=$2; shift 2
    stop_server
    start_on_ports "$name" --workers "$workers" "$@"
}

stop() { stop_server; }

stat_of() { coaps_stat "$@"; } # LOG FIELD: the server's coaps: statistics line
# requests_sum LOG: the workers' "requests N" added up
requests_sum() {
    sed -n 's/.*: worker [0-9]*: requests \([0-9]*\),.*/\1/p' "$1" | awk '{s += $1} END {print s + 0}'
}
# restored_sum LOG: the workers' "restored N" added up
restored_sum() {
    sed -n 's/.*: worker [0-9]*:.* restored \([0-9]*\),.*/\1/p' "$1" | awk '{s += $1} END {print s + 0}'
}

# check_clients NAME N REQUESTS: every client of the run answered in full,
# none started its session again.
check_clients() {
    local name=$1 n=$2 want=$3 c bad=0 again=0
    for c in $(seq 1 "$n"); do
        grep -q "$want of $want requests answered with 2.xx" "$TEST_TMP/$name-cl$c.log" || bad=$((bad + 1))
        if grep -q "starting it again" "$TEST_TMP/$name-cl$c.log"; then again=$((again + 1)); fi
    done
    check_eq "$name: every client had all $want requests answered" 0 "$bad"
    check_eq "$name: no client started its session again" 0 "$again"
}

# check_restored NAME LOG N: the restarted server made no handshake and
# restored all N sessions, the workers' counts adding up.
check_restored() {
    local name=$1 log=$2 n=$3
    check_contains "$name: restored $n sessions" "restored $n coaps sessions" "$(cat "$log")"
    check_eq "$name: no handshake" 0 "$(stat_of "$log" handshakes)"
    check_eq "$name: no hello-verify" 0 "$(stat_of "$log" hello-verify)"
    check_eq "$name: no session established" 0 "$(stat_of "$log" established)"
    check_eq "$name: none resumed" 0 "$(stat_of "$log" resumed)"
    check_eq "$name: the total counts the restored" "$n" "$(stat_of "$log" restored)"
    # a session restored into a worker its records do not reach: they are
    # dropped at the other's front door (the CoAP retransmission to the
    # next process could hide that from the clients)
    check_eq "$name: every record reached its session's worker" 0 \
        "$(stat_of "$log" "front dropped")"
}

# ---- 1. address-only sessions: 2 workers -> 2 workers -> 1 worker ------------------
N=8
REPEAT=14
start_dtls_server a1 --workers 2 "${SFLAGS[@]}"
wait_for_line "$TEST_TMP/a1.log" "2 workers" 10 || die "a1: workers did not start"
pids=()
for c in $(seq 1 $N); do
    start_bg "a-cl$c" timeout 90 "$CLIENT" -B 20 -v info -k "$DEMO_KEY" -u CoAP \
        --repeat $REPEAT --interval 400 "coaps://127.0.0.1:$COAPS_PORT/light"
    pids+=("$LAST_PID")
done
for c in $(seq 1 $N); do
    wait_for_line "$TEST_TMP/a-cl$c.log" '"status"' 10 || die "client $c: no first response"
done
sleep 0.5
restart a2 2 "${SFLAGS[@]}"
check_contains "a2: the state file was consumed at start" "no file" \
    "$( [ -e "$STATE" ] && echo "still there" || echo "no file")"
sleep 1.6
restart a3 1 "${SFLAGS[@]}"
failed=0
for p in "${pids[@]}"; do wait "$p" 2>/dev/null || failed=$((failed + 1)); done
stop
check_eq "a: every client exits 0" 0 "$failed"
check_clients a $N $REPEAT
check_contains "a1: saved every worker's sessions in one file" "saved $N coaps sessions" \
    "$(cat "$TEST_TMP/a1.log")"
check_eq "a1: $N handshakes" $N "$(stat_of "$TEST_TMP/a1.log" handshakes)"
check_restored a2 "$TEST_TMP/a2.log" $N
check_eq "a2: the workers' restored counts add up" $N "$(restored_sum "$TEST_TMP/a2.log")"
a2_requests=$(requests_sum "$TEST_TMP/a2.log")
if [ "$a2_requests" -ge $N ]; then pass "a2: the restored sessions carried requests ($a2_requests)"
else fail "a2: the restored sessions carried requests" "$a2_requests < $N"; fi
log "a2: restored on worker 0: $(sed -n 's/.*worker 0:.* restored \([0-9]*\),.*/\1/p' "$TEST_TMP/a2.log")," \
    "on worker 1: $(sed -n 's/.*worker 1:.* restored \([0-9]*\),.*/\1/p' "$TEST_TMP/a2.log")"
check_contains "a2: saved them again" "saved $N coaps sessions" "$(cat "$TEST_TMP/a2.log")"
check_restored a3 "$TEST_TMP/a3.log" $N
if grep -q "warning" "$TEST_TMP"/a[123].log; then
    fail "a: no warnings" "$(grep warning "$TEST_TMP"/a[123].log)"
else
    pass "a: no warnings"
fi

# ---- 2. CID sessions: restored by their tag, then their NAT rebinds ----------------------
rm -f "$STATE"
CLIENTS=6
REPEAT=12
start_dtls_server b1 --workers 2 --cid 8 "${SFLAGS[@]}"
wait_for_line "$TEST_TMP/b1.log" "2 workers" 10 || die "b1: workers did not start"
RPORT=$(free_udp_port)
start_bg b-relay "$RELAY" -l "$RPORT" -s "127.0.0.1:$COAPS_PORT"
RELAY_PID=$LAST_PID
wait_udp_port "$RPORT" 5 || die "relay did not start"
pids=()
for c in $(seq 1 $CLIENTS); do
    start_bg "b-cl$c" timeout 90 "$CLIENT" -B 20 -v info -k "$DEMO_KEY" -u CoAP --cid 0 \
        --repeat $REPEAT --interval 500 "coaps://127.0.0.1:$RPORT/light"
    pids+=("$LAST_PID")
done
for c in $(seq 1 $CLIENTS); do
    wait_for_line "$TEST_TMP/b-cl$c.log" '"status"' 10 || die "CID client $c: no first response"
done
sleep 0.5
restart b2 2 --cid 8 "${SFLAGS[@]}"
sleep 0.8
kill -USR1 "$RELAY_PID" # every client's upstream port changes
sleep 1.2
restart b3 1 --cid 8 "${SFLAGS[@]}"
sleep 1.2
restart b4 2 --cid 8 "${SFLAGS[@]}"
failed=0
for p in "${pids[@]}"; do wait "$p" 2>/dev/null || failed=$((failed + 1)); done
stop
check_eq "b: every client exits 0" 0 "$failed"
check_clients b $CLIENTS $REPEAT
check_eq "b: the relay rebound" 1 "$(grep -c 'relay: rebound' "$TEST_TMP/b-relay.log" || true)"
check_contains "b1: saved every worker's sessions" "saved $CLIENTS coaps sessions" \
    "$(cat "$TEST_TMP/b1.log")"
for s in b2 b3 b4; do
    check_restored "$s" "$TEST_TMP/$s.log" $CLIENTS
done
check_eq "b2: the workers' restored counts add up" $CLIENTS "$(restored_sum "$TEST_TMP/b2.log")"
check_eq "b4: the workers' restored counts add up" $CLIENTS "$(restored_sum "$TEST_TMP/b4.log")"
check_eq "b2: every restored session followed its peer" $CLIENTS "$(stat_of "$TEST_TMP/b2.log" moved)"
check_eq "b2: no record reached a worker without its session" 0 \
    "$(stat_of "$TEST_TMP/b2.log" "unknown cid")"
if grep -q "warning" "$TEST_TMP"/b[1234].log; then
    fail "b: no warnings" "$(grep warning "$TEST_TMP"/b[1234].log)"
else
    pass "b: no warnings"
fi

# ---- a damaged file with workers: one warning, a clean start ---------------------------
printf 'garbage' >"$STATE"
start_dtls_server bad --workers 2 "${SFLAGS[@]}"
out=$(timeout 20 "$CLIENT" -B 8 -k "$DEMO_KEY" -u CoAP "coaps://127.0.0.1:$COAPS_PORT/light" 2>&1) || true
stop
check_eq "bad file: one warning line" 1 "$(grep -c warning "$TEST_TMP/bad.log" || true)"
check_contains "bad file: a handshake works" '"status"' "$out"
check_eq "bad file: nothing restored" 0 "$(stat_of "$TEST_TMP/bad.log" restored)"

finish
