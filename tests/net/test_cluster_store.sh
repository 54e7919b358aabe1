#!/usr/bin/env bash
# test_cluster_store.sh - issue 19 on loopback: coaps-server nodes that
# share their sessions through a real redis-server (--store), one node
# after the other on the same ports (the netns cluster with a balancer is
# test_cluster_netns.sh). It shows:
#   1. a client (--cid 8 --repeat) carries on across a node's stop and
#      another node's start with no new handshake: the new node takes the
#      session over from Redis (taken over 1, handshakes 0);
#   2. a forged record carrying a real session's CID takes nothing: it is
#      refused and counted, and the real client's next record takes the
#      session over (the lease's fence moves once, for it);
#   3. a client without CID (its session keyed by its address) is taken
#      over too;
#   4. a ticket (RFC 5077) made by one node resumes on another: the ticket
#      secret comes from the store;
#   5. damaged data in Redis: counted as malformed, a full handshake, no
#      crash;
#   6. Redis down: the node keeps serving its sessions and makes new ones
#      locally, and reconnects once Redis is back;
#   7. a duplicated POST to /test/counter across nodes executes once;
#   8. two nodes at once: an observer of /light on one (libcoap's
#      coap-client-openssl) is notified of a PUT made on the other, and a
#      GET on either then reads the new state.
set -euo pipefail
. "${COAPS_SOURCE_DIR:?}/scripts/lib/common.sh"
. "$COAPS_SOURCE_DIR/tests/interop/coaps_test_lib.sh"
need_program redis-server
need_program redis-cli
need_program openssl

KEY=$TEST_TMP/key
openssl rand -hex 32 >"$KEY"
REDIS_PORT=$(free_udp_port) # a TCP port: free on UDP is good enough here, retried below

start_redis() {
    local try
    for try in 1 2 3 4 5; do
        start_bg "redis$1" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
            --appendonly no
        REDIS_PID=$LAST_PID
        local i
        for i in $(seq 1 50); do
            redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && return 0
            kill -0 "$REDIS_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill "$REDIS_PID" 2>/dev/null || true
        wait "$REDIS_PID" 2>/dev/null || true
        REDIS_PORT=$(free_udp_port)
    done
    die "redis-server did not start: $(cat "$TEST_TMP/redis$1.log")"
}
rcli() { timeout 5 redis-cli -p "$REDIS_PORT" "$@"; }

start_redis 1
STORE=redis://127.0.0.1:$REDIS_PORT
NFLAGS=(--psk-default "$DEMO_KEY" -v info --workers 1 --cid 8 --test-resources
        --store "$STORE" --state-key "$KEY")

# node NAME: a node on the ports of the first one (SERVER_PORT, COAPS_PORT)
node() { start_on_ports "$1" "${NFLAGS[@]}"; }
stop_node() { stop_server; }
stat_of() { coaps_stat "$@"; } # LOG FIELD
store_stat_of() {
    grep "store: calls" "$1" | grep -oE "[ (]$2 [0-9]+" | head -1 | awk '{print $NF}'
}
client_bg() { # NAME ARGS...: coaps-client against the nodes' coaps:// port
    local name=$1; shift
    start_bg "$name" timeout 60 "$COAPS_BUILD_DIR/coaps-client" -k "$DEMO_KEY" -u "$DEMO_HINT" \
        -B 20 "$@"
    CLIENT_PID=$LAST_PID
}
wait_client() { wait "$CLIENT_PID" 2>/dev/null || true; }
answers() { grep -c '"status"' "$TEST_TMP/$1.log" || true; }
cid_key() { # the Redis key of the one CID session stored
    rcli --scan --pattern 'coaps:s:63*' | head -1
}

start_dtls_server n1 "${NFLAGS[@]}"
SERVER_PID=$(cat "$TEST_TMP/n1.pid")

# ---- 1. across a stop and a start ------------------------------------------
client_bg c1 --cid 8 --repeat 10 --interval 300 "coaps://127.0.0.1:$COAPS_PORT/light"
wait_for_line "$TEST_TMP/c1.log" '"status"' 10 || die "no first answer: $(cat "$TEST_TMP/c1.log")"
sleep 0.7
stop_node
check_eq "node 1 made one handshake" 1 "$(stat_of "$TEST_TMP/n1.log" handshakes)"
check_eq "node 1 stored the session" 1 "$(stat_of "$TEST_TMP/n1.log" stored)"
node n2
wait_client
check_eq "client 1: every request answered" 10 "$(answers c1)"
stop_node
check_eq "node 2: no handshake" 0 "$(stat_of "$TEST_TMP/n2.log" handshakes)"
check_eq "node 2: the session taken over" 1 "$(stat_of "$TEST_TMP/n2.log" "taken over")"

# ---- 2. a forged record with a real CID --------------------------------------
node n3
client_bg c2 --cid 8 --repeat 14 --interval 400 "coaps://127.0.0.1:$COAPS_PORT/light"
wait_for_line "$TEST_TMP/c2.log" '"status"' 10 || die "no first answer: $(cat "$TEST_TMP/c2.log")"
K=$(cid_key)
[ -n "$K" ] || die "no CID session in Redis"
CID=${K#coaps:s:63}
META_KEY=coaps:m:${K#coaps:s:} # the session's lease: f its fence (store_redis.c)
stop_node
FENCE0=$(rcli hget "$META_KEY" f)
[ -n "$FENCE0" ] || die "no fence in $META_KEY"
node n4
# tls12_cid record (25), DTLS 1.2, epoch 1, a sequence number far ahead,
# the session's CID, 40 bytes that are no ciphertext of its key
FORGED="19fefd0001000000ffff00${CID}0028$(printf '%080d' 0)"
"$COAPS_BUILD_DIR/udp-send" -t 300 127.0.0.1 "$COAPS_PORT" "$FORGED" >/dev/null || true
wait_client
# one take moved the fence: the real client's, not the forgery's
check_eq "forgery: the fence moved once (the real client's takeover)" "$((FENCE0 + 1))" \
    "$(rcli hget "$META_KEY" f)"
check_eq "client 2: every request answered after the forgery" 14 "$(answers c2)"
stop_node
check_eq "forgery: refused and counted" 1 "$(stat_of "$TEST_TMP/n4.log" "take refused")"
check_eq "forgery: the real client still taken over" 1 "$(stat_of "$TEST_TMP/n4.log" "taken over")"
check_eq "forgery: node 4 made no handshake" 0 "$(stat_of "$TEST_TMP/n4.log" handshakes)"

# ---- 3. a client without CID: its session by address -------------------------
node n5
client_bg c3 --repeat 8 --interval 300 "coaps://127.0.0.1:$COAPS_PORT/light"
wait_for_line "$TEST_TMP/c3.log" '"status"' 10 || die "no first answer: $(cat "$TEST_TMP/c3.log")"
sleep 0.5
stop_node
node n6
wait_client
check_eq "client 3 (no CID): every request answered" 8 "$(answers c3)"
stop_node
check_eq "no CID: node 6 took the session over by address" 1 \
    "$(stat_of "$TEST_TMP/n6.log" "taken over")"
check_eq "no CID: node 6 made no handshake" 0 "$(stat_of "$TEST_TMP/n6.log" handshakes)"

# ---- 4. a ticket from one node resumes on another ----------------------------
node n7
SESSION=$TEST_TMP/session
"$COAPS_BUILD_DIR/coaps-client" -k "$DEMO_KEY" -u "$DEMO_HINT" -B 10 --session "$SESSION" \
    "coaps://127.0.0.1:$COAPS_PORT/light" >"$TEST_TMP/c4a.log" 2>&1 || true
stop_node
node n8
"$COAPS_BUILD_DIR/coaps-client" -k "$DEMO_KEY" -u "$DEMO_HINT" -B 10 --session "$SESSION" \
    "coaps://127.0.0.1:$COAPS_PORT/light" >"$TEST_TMP/c4b.log" 2>&1 || true
stop_node
check_eq "ticket: answered on node 8" 1 "$(answers c4b)"
check_eq "ticket: node 8 resumed it (the cluster's ticket secret)" 1 \
    "$(stat_of "$TEST_TMP/n8.log" resumed)"

# ---- 5. damaged data in Redis ---------------------------------------------------
node n9
client_bg c5 --cid 8 --repeat 6 --interval 300 "coaps://127.0.0.1:$COAPS_PORT/light"
wait_for_line "$TEST_TMP/c5.log" '"status"' 10 || die "no first answer: $(cat "$TEST_TMP/c5.log")"
stop_node
K=$(cid_key)
rcli set "$K" "not a sealed session at all" >/dev/null
node n10
wait_client
server_alive n10 && pass "damaged record: node 10 still runs" || fail "damaged record: node 10 died"
check_eq "damaged record: the client still got every answer (a new handshake)" 6 "$(answers c5)"
stop_node
malformed=$(store_stat_of "$TEST_TMP/n10.log" malformed)
[ "${malformed:-0}" -ge 1 ] && pass "damaged record: counted as malformed" ||
    fail "damaged record: counted as malformed" "malformed ${malformed:-none}"
check_eq "damaged record: a full handshake instead" 1 "$(stat_of "$TEST_TMP/n10.log" handshakes)"

# ---- 6. Redis down, then back -------------------------------------------------------
node n11
client_bg c6 --cid 8 --repeat 12 --interval 300 "coaps://127.0.0.1:$COAPS_PORT/light"
wait_for_line "$TEST_TMP/c6.log" '"status"' 10 || die "no first answer: $(cat "$TEST_TMP/c6.log")"
kill -9 "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null || true
"$COAPS_BUILD_DIR/coaps-client" -k "$DEMO_KEY" -u "$DEMO_HINT" -B 10 \
    "coaps://127.0.0.1:$COAPS_PORT/light" >"$TEST_TMP/c6b.log" 2>&1 || true
check_eq "redis down: a new client still served (a local session)" 1 "$(answers c6b)"
start_redis 2
wait_client
check_eq "redis down: the running session went on" 12 "$(answers c6)"
sleep 0.5
"$COAPS_BUILD_DIR/coaps-client" -k "$DEMO_KEY" -u "$DEMO_HINT" --cid 8 -B 10 --repeat 2 \
    "coaps://127.0.0.1:$COAPS_PORT/light" >"$TEST_TMP/c6c.log" 2>&1 || true
stop_node
server_alive n11 2>/dev/null && fail "node 11 did not stop" || true
reconnects=$(store_stat_of "$TEST_TMP/n11.log" reconnects)
[ "${reconnects:-0}" -ge 1 ] && pass "redis back: the node reconnected" ||
    fail "redis back: the node reconnected" "reconnects ${reconnects:-none}"
check_eq "redis back: a new session stored again" 1 \
    "$(( $(stat_of "$TEST_TMP/n11.log" stored) >= 2 ? 1 : 0 ))"
down_lines=$(grep -ci 'redis' "$TEST_TMP/n11.log" | head -1)
[ "$down_lines" -le 5 ] && pass "redis down: a few log lines, not one per request" ||
    fail "redis down: log lines" "$down_lines lines mention redis"

# ---- 7. a duplicated POST across nodes -------------------------------------------------
# tests/tools/dtls-send sends the very same CoAP message (same Message ID)
# twice in one DTLS session, 3 s apart; between the copies node 12 stops
# and node 13 starts, which takes the session over (by address: dtls-send
# has no CID) and must answer the second copy from the store.
node n12
POST_HEX="42021092a1b2b474657374""07636f756e746572" # CON POST MID 4242 token a1b2 /test/counter
start_bg p1 "$COAPS_BUILD_DIR/dtls-send" -t 500 -n 2 -i 3000 -k "$DEMO_KEY" -u "$DEMO_HINT" \
    127.0.0.1 "$COAPS_PORT" "$POST_HEX"
P1=$LAST_PID
wait_for_line "$TEST_TMP/p1.log" '^6' 10 || die "no answer to the first POST: $(cat "$TEST_TMP/p1.log")"
stop_node
node n13
wait "$P1" 2>/dev/null || true
stop_node
replies=$(grep -c '^6' "$TEST_TMP/p1.log" || true)
check_eq "duplicated POST: both copies answered" 2 "$replies"
check_eq "duplicated POST: the same answer both times" 1 \
    "$(grep '^6' "$TEST_TMP/p1.log" | sort -u | wc -l)"
check_eq "duplicated POST: run on node 12" 1 \
    "$(grep -o 'requests [0-9]*' "$TEST_TMP/n12.log" | head -1 | awk '{print $2}')"
check_eq "duplicated POST: not run on node 13" 0 \
    "$(grep -o 'requests [0-9]*' "$TEST_TMP/n13.log" | head -1 | awk '{print $2}')"
check_eq "duplicated POST: node 13 answered it from the store" 1 \
    "$(grep -o 'duplicates [0-9]*' "$TEST_TMP/n13.log" | head -1 | awk '{print $2}')"
check_eq "duplicated POST: the cluster's counter (in Redis) is 1" 1 "$(rcli get coaps:c:counter)"

# ---- 8. a PUT on one node, observers on another --------------------------------------
node n14
N14=$SERVER_PID
A_COAPS=$COAPS_PORT
start_dtls_server n15 "${NFLAGS[@]}"
N15=$SERVER_PID
B_COAPS=$COAPS_PORT
start_bg obs timeout 20 coap-client-openssl -s 8 -B 10 -k "$DEMO_KEY" -u "$DEMO_HINT" \
    "coaps://127.0.0.1:$A_COAPS/light"
OBS=$LAST_PID
wait_for_line "$TEST_TMP/obs.log" 'status' 10 || die "observer got nothing: $(cat "$TEST_TMP/obs.log")"
NEW='{"status": false, "from": "node 15"}'
"$COAPS_BUILD_DIR/coaps-client" -k "$DEMO_KEY" -u "$DEMO_HINT" -B 10 -m put -e "$NEW" \
    "coaps://127.0.0.1:$B_COAPS/light" >"$TEST_TMP/put.log" 2>&1 || true
wait_for_line "$TEST_TMP/obs.log" 'node 15' 5 && pass "observer on node 14 notified of node 15's PUT" ||
    fail "observer on node 14 notified of node 15's PUT" "$(cat "$TEST_TMP/obs.log")"
"$COAPS_BUILD_DIR/coaps-client" -k "$DEMO_KEY" -u "$DEMO_HINT" -B 10 \
    "coaps://127.0.0.1:$A_COAPS/light" >"$TEST_TMP/geta.log" 2>&1 || true
check_contains "GET on node 14 reads node 15's PUT" 'node 15' "$(cat "$TEST_TMP/geta.log")"
kill "$OBS" 2>/dev/null || true
wait "$OBS" 2>/dev/null || true
kill -TERM "$N14" "$N15"
wait "$N14" "$N15" 2>/dev/null || true
notifs=$(grep -o 'notifications [0-9]*' "$TEST_TMP/n14.log" | head -1 | awk '{print $2}')
[ "${notifs:-0}" -ge 1 ] && pass "node 14 sent the notification" ||
    fail "node 14 sent the notification" "notifications ${notifs:-none}"

finish
