#!/usr/bin/env bash
# test_coaps_cid_rebind_netns.sh - issue 14: a DTLS session across a NAT
# rebinding, with and without a Connection ID (RFC 9146). The test makes its
# own topology, three network namespaces, and removes it on exit:
#
#   client  10.79.2.2 (vc) --- (rc) 10.79.2.1  router  10.79.1.2 (rs) --- (vs) 10.79.1.1  server
#                                              nftables: masquerade on rs
#
# The router forwards and masquerades: the server sees every client as
# 10.79.1.2 and has no route to 10.79.2.0/24 at all. The masquerade maps
# source ports into 20000-20999; a "rebinding" swaps that range for
# 30000-30999 and flushes the router's conntrack table (conntrack -F), as a
# NAT that forgot an idle binding would: the client's next datagram leaves
# from a new port, which the ranges make certain rather than likely. A set
# in the server's namespace (nftables, filled from the input hook) records
# every (address, port) that sent to coaps://, so each case checks that the
# server really saw the new port - and never the client's own address.
#
# Cases, each against a fresh coaps-server -v debug with PSK:
#   baseline   no CID on either side: --repeat 4 --interval 1500 across the
#              rebinding. Requests 1-2 are answered; request 3 comes from
#              an unknown address, which the server's front door drops (not
#              a ClientHello): the client times out (-B), notices, and
#              starts the session again resuming it (RFC 5246 7.3: an
#              abbreviated handshake, no second full one), then sends
#              request 3 again: all four answered.
#   cid        server --cid 8, client --cid 0: all 4 answered, one handshake.
#   observe    server --cid 8, client --cid 4 (CIDs both ways) -K 1 -s:
#              after the rebinding the client's keep-alive ping (CoAP
#              ping, RFC 7252 4.3) shows the server the new port; a PUT
#              from another client (coap://, from the server's namespace)
#              then reaches the observer as a notification, with no new
#              handshake.
#   observe baseline: the same without CID: the pings from the new port
#              die at the front door, and the server sends the notification
#              to the old binding, which the router no longer knows: lost.
# Each case asserts what the server did (its -v debug/info log and exit
# statistics), not only what the client saw. test_coaps_cid_rebind.sh does
# the same on loopback through the relay.
set -euo pipefail
. "${COAPS_SOURCE_DIR:?}/scripts/lib/common.sh"
. "$COAPS_SOURCE_DIR/tests/interop/coaps_test_lib.sh"
CLIENT=$COAPS_BUILD_DIR/coaps-client
SERVER=$COAPS_BUILD_DIR/coaps-server
[ -x "$CLIENT" ] || die "$CLIENT not built"
[ -x "$SERVER" ] || die "$SERVER not built"
need_program nft
need_program conntrack

if [ "$(id -u)" != 0 ]; then
    log "SKIP: needs root for network namespaces and nftables"
    exit 77
fi
if ! ip netns list >/dev/null 2>&1; then
    log "SKIP: ip netns unavailable"
    exit 77
fi

# Names unique per run (PID), so parallel runs cannot collide; removed by
# name on exit, after common.sh's cleanup has killed our processes by PID.
NS_S=coaps-rb-srv-$$
NS_R=coaps-rb-rtr-$$
NS_C=coaps-rb-cli-$$
SRV_IP=10.79.1.1 RTR_S_IP=10.79.1.2 RTR_C_IP=10.79.2.1 CLI_IP=10.79.2.2
# The server namespace is fresh and private: fixed ports cannot clash.
COAP_PORT=5683 COAPS_PORT=5684
RANGE_A=20000-20999 RANGE_B=30000-30999
remove_topology() {
    cleanup
    local ns
    for ns in "$NS_S" "$NS_R" "$NS_C"; do
        ip netns del "$ns" 2>/dev/null || true
    done
}
trap remove_topology EXIT

in_ns() { local ns=$1; shift; timeout 10 ip netns exec "$ns" "$@"; }

# set_masquerade RANGE: the router's one NAT rule, replaced atomically.
set_masquerade() {
    printf '%s\n' "flush chain ip coaps_nat post" \
        "add rule ip coaps_nat post oifname rs ip saddr 10.79.2.0/24 ip protocol udp masquerade to :$1" |
        in_ns "$NS_R" nft -f -
}

# Whether this kernel and this user may make namespaces, veth pairs and
# nftables NAT at all (else: skip, with the reason).
can_make_topology() {
    local ns
    for ns in "$NS_S" "$NS_R" "$NS_C"; do
        ip netns add "$ns" || return 1
        ip -n "$ns" link set lo up || return 1
    done
    ip link add name vs netns "$NS_S" type veth peer name rs netns "$NS_R" || return 1
    in_ns "$NS_R" nft add table ip coaps_nat || return 1
    in_ns "$NS_R" nft add chain ip coaps_nat post \
        '{ type nat hook postrouting priority srcnat; policy accept; }' || return 1
    in_ns "$NS_R" conntrack -F || return 1
}
if ! can_make_topology 2>"$TEST_TMP/topo.err"; then
    log "SKIP: cannot make network namespaces with nftables NAT: $(head -1 "$TEST_TMP/topo.err")"
    exit 77
fi

make_topology() {
    ip link add name vc netns "$NS_C" type veth peer name rc netns "$NS_R" || return 1
    ip -n "$NS_S" addr add "$SRV_IP/24" dev vs || return 1
    ip -n "$NS_R" addr add "$RTR_S_IP/24" dev rs || return 1
    ip -n "$NS_R" addr add "$RTR_C_IP/24" dev rc || return 1
    ip -n "$NS_C" addr add "$CLI_IP/24" dev vc || return 1
    ip -n "$NS_S" link set vs up || return 1
    ip -n "$NS_R" link set rs up || return 1
    ip -n "$NS_R" link set rc up || return 1
    ip -n "$NS_C" link set vc up || return 1
    ip -n "$NS_C" route add default via "$RTR_C_IP" || return 1
    in_ns "$NS_R" sysctl -qw net.ipv4.ip_forward=1 || return 1
    set_masquerade "$RANGE_A" || return 1
    # What the server's host received on coaps://: (address, port) pairs.
    in_ns "$NS_S" nft -f - <<EOF || return 1
table inet coaps_seen {
    set peers { type ipv4_addr . inet_service; flags dynamic; size 4096; }
    chain in {
        type filter hook input priority 0; policy accept;
        udp dport $COAPS_PORT add @peers { ip saddr . udp sport }
    }
}
EOF
}
make_topology 2>"$TEST_TMP/topo.err" || die "cannot build the topology: $(cat "$TEST_TMP/topo.err")"

# rebind RANGE: the NAT forgets every binding and maps into RANGE from now on.
rebind() {
    set_masquerade "$1"
    in_ns "$NS_R" conntrack -F >/dev/null 2>&1
}

# seen_ports: "ADDR PORT" per line, every source the server's host received
# coaps:// datagrams from since the last reset_seen.
seen_ports() {
    in_ns "$NS_S" nft list set inet coaps_seen peers |
        grep -oE '[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+ \. [0-9]+' | awk '{print $1, $3}' | sort -u
}
reset_seen() { in_ns "$NS_S" nft flush set inet coaps_seen peers; }

# in_range PORT RANGE
in_range() { local lo=${2%-*} hi=${2#*-}; [ "$1" -ge "$lo" ] && [ "$1" -le "$hi" ]; }

# seen_in RANGE: how many distinct router ports of RANGE the server saw.
seen_in() {
    local n=0 addr port
    while read -r addr port; do
        [ "$addr" = "$RTR_S_IP" ] && in_range "$port" "$1" && n=$((n + 1))
    done < <(seen_ports)
    echo "$n"
}

# wait_seen_in RANGE SECONDS: until the server has seen a port of RANGE.
wait_seen_in() {
    local deadline=$((SECONDS + $2))
    while [ $SECONDS -lt $deadline ]; do
        [ "$(seen_in "$1")" -ge 1 ] && return 0
        sleep 0.1
    done
    return 1
}

# wait_count FILE PATTERN N SECONDS: until FILE has N lines matching PATTERN.
wait_count() {
    local deadline=$((SECONDS + $4))
    while [ $SECONDS -lt $deadline ]; do
        [ "$(grep -c -- "$2" "$1" 2>/dev/null || true)" -ge "$3" ] && return 0
        sleep 0.1
    done
    return 1
}

# start_server NAME ARGS...: coaps-server in the server namespace, fresh NAT
# state (range A, no bindings) and an empty record of sources.
start_server() {
    local name=$1; shift
    set_masquerade "$RANGE_A"
    in_ns "$NS_R" conntrack -F >/dev/null 2>&1
    reset_seen
    start_bg "$name" ip netns exec "$NS_S" "$SERVER" -A "$SRV_IP" -p "$COAP_PORT" \
        --coaps-port "$COAPS_PORT" --psk "me:$DEMO_KEY" -v debug "$@"
    wait_for_line "$TEST_TMP/$name.log" "listening on coaps://" 20 ||
        die "coaps-server did not start in $NS_S: $(cat "$TEST_TMP/$name.log")"
}

# The server's "established" lines: handshakes that completed.
handshakes() { grep -c 'coaps session with .* established' "$TEST_TMP/$1.log" || true; }

# check_server_clean NAME: alive, no sanitizer report.
check_server_clean() {
    if server_alive "$1"; then pass "$1: server alive"
    else fail "$1: server alive" "$(tail -5 "$TEST_TMP/$1.log")"; fi
    if grep -q 'ERROR: AddressSanitizer\|runtime error' "$TEST_TMP/$1.log"; then
        fail "$1: server clean under the sanitizers" "$(grep -m3 'ERROR\|runtime error' "$TEST_TMP/$1.log")"
    else
        pass "$1: server clean under the sanitizers"
    fi
}

# check_rebound NAME: the server saw the router's port of range A and,
# after the rebinding, one of range B; never the client's own address.
check_rebound() {
    local seen
    seen=$(seen_ports | tr '\n' ' ')
    log "$1: sources the server saw: $seen"
    check_eq "$1: before the rebinding, one port of $RANGE_A" 1 "$(seen_in "$RANGE_A")"
    check_eq "$1: after the rebinding, one new port of $RANGE_B" 1 "$(seen_in "$RANGE_B")"
    check_eq "$1: the server never saw the client's own address" 0 \
        "$(seen_ports | grep -c "^$CLI_IP " || true)"
}

# port_in RANGE: the router's port of RANGE that the server saw.
port_in() {
    local addr port
    while read -r addr port; do
        if [ "$addr" = "$RTR_S_IP" ] && in_range "$port" "$1"; then echo "$port"; return; fi
    done < <(seen_ports)
}

# check_moved NAME: the server moved the session from the old binding to
# the new one, on a record with the session's CID (its -v info line and
# its statistics), and CoAP saw the requests from the new port.
check_moved() {
    local from to
    from=$(port_in "$RANGE_A") to=$(port_in "$RANGE_B")
    check_contains "$1: the server moved the session to the new port" \
        "coaps session with $RTR_S_IP:$from moved to $RTR_S_IP:$to (CID)" "$(cat "$TEST_TMP/$1.log")"
    check_contains "$1: the server counted one move" "moved 1," "$(cat "$TEST_TMP/$1.log")"
    if grep -qE "rx [0-9]+ bytes from $RTR_S_IP:$to\$" "$TEST_TMP/$1.log"; then
        pass "$1: CoAP got messages from the new port"
    else
        fail "$1: CoAP got messages from the new port" "$(grep 'debug: rx' "$TEST_TMP/$1.log" | tail -3)"
    fi
}

# The path works, and through the NAT: coap:// first.
start_server path
RC=0
in_ns "$NS_C" "$CLIENT" -B 5 "coap://$SRV_IP:$COAP_PORT/light" >"$TEST_TMP/path.out" 2>&1 || RC=$?
check_eq "client reaches the server through the router" 0 "$RC"
check_contains "GET /light through the NAT" '{"status": true}' "$(cat "$TEST_TMP/path.out")"
check_contains "the server sees the router's address" "rx 18 bytes from $RTR_S_IP:" \
    "$(cat "$TEST_TMP/path.log")"
stop_bg path

SERVER_CID=(--cid 8)

# ---- baseline: no Connection ID ---------------------------------------------
# run_repeat NAME CLIENT_ARGS...: --repeat 4 --interval 1500 with a
# rebinding after the second answer; the client's output in NAME-client.log.
run_repeat() {
    local name=$1; shift
    start_bg "$name-client" ip netns exec "$NS_C" timeout 60 "$CLIENT" -v info -B 3 \
        --repeat 4 --interval 1500 -k "$DEMO_KEY" -u me "$@" "coaps://$SRV_IP:$COAPS_PORT/light"
    local pid=$LAST_PID
    if wait_count "$TEST_TMP/$name-client.log" '^{"status"' 2 20; then
        rebind "$RANGE_B"
    else
        fail "$name: two answers before the rebinding" "$(cat "$TEST_TMP/$name-client.log")"
    fi
    RC=0
    wait "$pid" || RC=$?
}

start_server base
run_repeat base
out=$(cat "$TEST_TMP/base-client.log")
check_eq "baseline: the client recovers (exit 0)" 0 "$RC"
check_eq "baseline: all four answered in the end" 4 "$(grep -c '^{"status"' <<<"$out" || true)"
check_eq "baseline: one request timed out on the lost session" 1 "$(grep -c 'no response within 3 s' <<<"$out" || true)"
check_contains "baseline: the client noticed" "no answer on the DTLS session: starting it again" "$out"
check_contains "baseline: ... and resumed its session" "established, TLS_PSK_WITH_AES_128_CCM_8, resumed" "$out"
check_contains "baseline: the client's count" "4 of 4 requests answered" "$out"
check_rebound baseline
stop_bg base
grep -E 'info: (stats|coaps: hello|socket [^ ]*:5684):' "$TEST_TMP/base.log" | sed 's/^/  server: /' >&2 || true
check_eq "baseline: two sessions on the server" 2 "$(handshakes base)"
check_eq "baseline: the second one resumed, not a full handshake" 1 \
    "$(grep -c 'coaps session with .* established, .* (resumed)' "$TEST_TMP/base.log" || true)"
# The request sent on the lost session reached the server's socket but no
# session (the front door dropped it); its copy on the resumed one counted.
check_contains "baseline: the lost request never reached CoAP" "requests 4," "$(cat "$TEST_TMP/base.log")"
if grep -qE "front dropped [1-9]" "$TEST_TMP/base.log"; then
    pass "baseline: the server dropped and counted what came on the lost session"
else
    fail "baseline: front door count" "$(grep "coaps:" "$TEST_TMP/base.log")"
fi

# ---- Connection ID: the session survives ------------------------------------
start_server cid "${SERVER_CID[@]}"
run_repeat cid --cid 0
out=$(cat "$TEST_TMP/cid-client.log")
check_eq "cid: the client succeeds (exit 0)" 0 "$RC"
check_eq "cid: all four answered" 4 "$(grep -c '^{"status"' <<<"$out" || true)"
check_contains "cid: the client's count" "4 of 4 requests answered" "$out"
check_eq "cid: the client did one handshake" 1 "$(grep -c 'DTLS session established' <<<"$out" || true)"
check_contains "cid: the client's session has a Connection ID" "established, TLS_PSK_WITH_AES_128_CCM_8, Connection ID" "$out"
check_rebound cid
check_server_clean cid
stop_bg cid
check_eq "cid: one handshake on the server" 1 "$(handshakes cid)"
check_moved cid
check_contains "cid: the CoAP layer saw all four requests" "requests 4," "$(cat "$TEST_TMP/cid.log")"

# ---- Observe across the rebinding ---------------------------------------------
# run_observe NAME SERVER_NAME CLIENT_ARGS...: an observer of /light behind the NAT, a
# rebinding once it has the first state, a PUT from the server's namespace
# once the server has heard from the new port (the observer's -K ping).
run_observe() {
    local name=$1 server_log=$2.log; shift 2
    start_bg "$name-observer" ip netns exec "$NS_C" timeout 60 "$CLIENT" -v info -B 5 -K 1 -s 8 \
        -k "$DEMO_KEY" -u me "$@" "coaps://$SRV_IP:$COAPS_PORT/light"
    local pid=$LAST_PID
    if ! wait_count "$TEST_TMP/$name-observer.log" '^{"status": true}' 1 20; then
        fail "$name: the observer's first state" "$(cat "$TEST_TMP/$name-observer.log")"
    fi
    rebind "$RANGE_B"
    wait_seen_in "$RANGE_B" 10 || true
    # With a CID, let the server take the new address (the ping reaches
    # CoAP from the new port) before the PUT makes it notify.
    if [[ " $* " == *" --cid "* ]]; then
        wait_for_line "$TEST_TMP/$server_log" "rx 4 bytes from $RTR_S_IP:$(port_in "$RANGE_B")" 10 || true
    fi
    RC=0
    in_ns "$NS_S" "$CLIENT" -B 5 -m put -t json -e "{\"status\": false, \"case\": \"$name\"}" \
        "coap://$SRV_IP:$COAP_PORT/light" >"$TEST_TMP/$name-put.log" 2>&1 || RC=$?
    check_eq "$name: the PUT from another client succeeds" 0 "$RC"
    wait_count "$TEST_TMP/$name-observer.log" "\"case\": \"$name\"" 1 5 || true
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

start_server obs "${SERVER_CID[@]}"
run_observe obs obs --cid 4
check_contains "observe+cid: the notification after the rebinding arrived" \
    '{"status": false, "case": "obs"}' "$(cat "$TEST_TMP/obs-observer.log")"
check_eq "observe+cid: the client did one handshake" 1 \
    "$(grep -c 'DTLS session established' "$TEST_TMP/obs-observer.log" || true)"
check_rebound "observe+cid"
check_server_clean obs
stop_bg obs
check_eq "observe+cid: one handshake on the server" 1 "$(handshakes obs)"
check_moved obs
check_contains "observe+cid: the notification went to the new port" "tx " \
    "$(grep -E "tx [0-9]+ bytes to $RTR_S_IP:$(port_in "$RANGE_B")\$" "$TEST_TMP/obs.log" || true)"

start_server obsbase
run_observe obsbase obsbase
check_eq "observe baseline: the notification after the rebinding is lost" 0 \
    "$(grep -c '"case": "obsbase"' "$TEST_TMP/obsbase-observer.log" || true)"
check_rebound "observe baseline"
stop_bg obsbase
check_eq "observe baseline: one handshake" 1 "$(handshakes obsbase)"
# The server did notify, to the binding the NAT has forgotten.
check_contains "observe baseline: the server sent the notification" "notifications 1," \
    "$(cat "$TEST_TMP/obsbase.log")"
check_eq "observe baseline: ... to the old port (the last datagram to the router)" \
    "$RTR_S_IP:$(port_in "$RANGE_A")" \
    "$(grep -oE "tx [0-9]+ bytes to $RTR_S_IP:[0-9]+\$" "$TEST_TMP/obsbase.log" | tail -1 | awk '{print $5}')"
finish
