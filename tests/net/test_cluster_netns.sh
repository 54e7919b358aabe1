#!/usr/bin/env bash
# test_cluster_netns.sh - issue 19: three coaps-server nodes behind a
# stateless UDP balancer share their DTLS sessions through Redis
# (coaps-server --store redis://...), so a device's session goes on, with no
# new handshake, on whichever node its records reach. The cluster is built
# the way it runs in production (docs/cluster.md), in network namespaces
# made and removed here (tests/lib/cluster.sh):
#
#   devices (client ns) -> NAT (masquerade) -> balancer (nftables jhash DNAT
#   of a VIP over the nodes, kube-proxy's nftables mode) -> node1..3, redis
#
# Which node serves a device is read from the balancer itself: the NAT's
# conntrack entry gives the device's port outside, the balancer's where
# that flow goes (cluster_flows). The checks:
#   (d) observe: libcoap's coap-client-openssl observes /light over coaps://
#       through one node; PUTs over coap:// until one reaches another node
#       (a new client port each, hashed anew); its state reaches the
#       observer as a notification;
#   (c) dedup: dtls-send POSTs /test/counter (CON) inside one session;
#       the balancer then moves the device's flow to another node (its map
#       rewritten, its conntrack entries dropped, as an orchestrator
#       rebalancing would); the same message (same Message ID) again is
#       answered by the new node with the first reply, byte for byte, and
#       the counter, read afterwards through any node, went up by one;
#   (a) rebinding: six devices (coaps-client --cid 8 --repeat) lose their
#       NAT bindings (new port range, conntrack -F) until at least one is
#       hashed to another node; (b) then the node serving the most of them
#       is SIGKILLed, the map slots it had go to the others and the
#       balancer forgets its flows. Every device gets every answer, none
#       starts its session again, and the nodes' handshakes, all counted,
#       stay the devices' first six;
#   (e) a capture on the balancer's client side (tcpdump) of everything the
#       nodes sent on coaps:// holds no (epoch, sequence number) twice on
#       one session (tests/lib/dtls_seq_dups.awk; checked first to see a
#       doubled capture as all duplicates);
#   sealing: a snapshot of Redis taken while the six sessions live in it
#       holds none of their write keys, derived from the devices' key log
#       (SSLKEYLOGFILE) and the hellos in the capture (proved right by
#       opening each server's Finished with them), though the same search
#       finds such a key once it is stored in clear.
# COAPS_CLUSTER_STORE=none runs the same without --store: the topology and
# plumbing work and the checks of (a)-(d) that need shared sessions fail,
# which shows they can.
set -euo pipefail
. "${COAPS_SOURCE_DIR:?}/scripts/lib/common.sh"
. "$COAPS_SOURCE_DIR/tests/interop/coaps_test_lib.sh"
. "$COAPS_SOURCE_DIR/tests/lib/cluster.sh"
SERVER=$COAPS_BUILD_DIR/coaps-server
CLIENT=$COAPS_BUILD_DIR/coaps-client
DSEND=$COAPS_BUILD_DIR/dtls-send
for p in "$SERVER" "$CLIENT" "$DSEND"; do [ -x "$p" ] || die "$p not built"; done
need_program nft
need_program conntrack
need_program tcpdump
need_program redis-server
need_program redis-cli
need_program coap-client-openssl
need_program openssl
STORE_MODE=${COAPS_CLUSTER_STORE:-redis}

if [ "$(id -u)" != 0 ]; then
    log "SKIP: needs root for network namespaces and nftables"
    exit 77
fi
if ! ip netns list >/dev/null 2>&1; then
    log "SKIP: ip netns unavailable"
    exit 77
fi
if [ "$STORE_MODE" = redis ] && [[ "$("$SERVER" -h 2>&1 || true)" != *--store* ]]; then
    die "coaps-server has no --store (issue 19); COAPS_CLUSTER_STORE=none runs without it"
fi

cluster_init "$$" "$TEST_TMP"
remove_all() {
    cleanup
    cluster_remove
}
trap remove_all EXIT
if ! cluster_make 2>"$TEST_TMP/topo.err"; then
    log "SKIP: cannot make network namespaces with nftables NAT: $(head -1 "$TEST_TMP/topo.err")"
    exit 77
fi

in_cli() { cl_in "$CL_NS_CLI" "$@"; }
KEY=$TEST_TMP/state.key
openssl rand -hex 32 >"$KEY"
TICKET_KEY=$TEST_TMP/ticket.key
openssl rand -hex 32 >"$TICKET_KEY"
VIP=$CL_VIP
CIDLEN=8

# ---- the cluster: redis, three nodes, a capture on the balancer ------------------------
cluster_redis_argv "$TEST_TMP"
start_bg redis ip netns exec "$CL_NS_REDIS" timeout 120 "${CL_ARGV[@]}"
wait_for_line "$TEST_TMP/redis.log" "Ready to accept connections" 10 ||
    die "redis-server did not start: $(tail -3 "$TEST_TMP/redis.log")"

# Everything the nodes send on coaps:// towards the devices, as the
# balancer's client side sees it (after its reverse NAT).
start_bg tcpdump ip netns exec "$CL_NS_LB" timeout 120 tcpdump -i ln -nn -U --immediate-mode -Z root \
    -w "$TEST_TMP/lb.pcap" udp port "$CL_COAPS_PORT"
wait_for_line "$TEST_TMP/tcpdump.log" "listening on" 10 ||
    die "tcpdump did not start: $(cat "$TEST_TMP/tcpdump.log")"

NODE_PID=("" "" "" "")
start_node() {
    cluster_node_argv "$1" "$SERVER" "$KEY" "$TICKET_KEY" "$STORE_MODE"
    start_bg "node$1" ip netns exec "${CL_NS_NODE[$1]}" timeout 120 "${CL_ARGV[@]}"
}
for i in 1 2 3; do start_node "$i"; done
# NODE_PID: the servers themselves (start_bg has their timeout's, which
# passes SIGTERM on but cannot pass SIGKILL).
for i in 1 2 3; do
    wait_for_line "$TEST_TMP/node$i.log" "listening on coaps://" 20 ||
        die "node$i did not start: $(cat "$TEST_TMP/node$i.log")"
    NODE_PID[i]=$(pgrep -P "$(cat "$TEST_TMP/node$i.pid")")
    [ -n "${NODE_PID[$i]}" ] || die "node$i: no server process under its timeout"
done

# handshakes: sessions every node established so far (full or resumed:
# -v info logs each), killed nodes included.
handshakes() {
    cat "$TEST_TMP"/node[123].log | grep -c 'coaps session with .* established' || true
}
# client_port NAME: the local UDP port of the one process called NAME in
# the client namespace (ss shows at most 15 characters of the name).
client_port() {
    in_cli ss -Hunap 2>/dev/null | grep "\"${1:0:15}\"" |
        awk '{ n = split($4, a, ":"); print a[n]; exit }'
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
# redis_dump FILE: all of Redis now, as one line of hex (its snapshot).
redis_dump() {
    cl_in "$CL_NS_REDIS" redis-cli -h "$CL_REDIS_IP" -p "$CL_REDIS_PORT" --rdb "$TEST_TMP/dump.rdb" \
        >/dev/null 2>&1 || true
    od -An -v -tx1 "$TEST_TMP/dump.rdb" 2>/dev/null | tr -d ' \n' >"$1"
}
coap_get() { # PATH: the payload of a GET through the VIP over coap://
    in_cli "$CLIENT" -B 5 "coap://$VIP:$CL_COAP_PORT/$1" 2>&1 || true
}

# ---- the path: coap:// and coaps:// through the NAT and the balancer -----------------
# GETs, each from a new port, until the balancer has used every node.
: >"$TEST_TMP/path.out"
for t in $(seq 1 30); do
    coap_get light >>"$TEST_TMP/path.out"
    used=$(cluster_flows "$CL_COAP_PORT" | awk '{print $2}' | sort -u | wc -l)
    [ "$used" = 3 ] && break
done
check_eq "coap:// GET /light through the NAT and the balancer, $t times" "$t" \
    "$(grep -o '"status"' "$TEST_TMP/path.out" | wc -l)"
check_eq "the balancer spread $t devices over all three nodes" 3 "$used"
RC=0
in_cli "$CLIENT" -B 8 -k "$DEMO_KEY" -u path "coaps://$VIP/light" >"$TEST_TMP/path-dtls.out" 2>&1 || RC=$?
check_eq "coaps:// GET /light through the balancer" 0 "$RC"
if grep -q "src=$CL_CLI_IP" <(cl_in "$CL_NS_LB" conntrack -L 2>/dev/null); then
    fail "the balancer sees only the NAT's address" "$(cl_in "$CL_NS_LB" conntrack -L 2>/dev/null)"
else
    pass "the balancer sees only the NAT's address"
fi

# ---- (d) Observe through one node, a PUT through another ------------------------------
start_bg observer ip netns exec "$CL_NS_CLI" timeout 30 coap-client-openssl -k "$DEMO_KEY" -u observer \
    -s 20 -B 25 "coaps://$VIP/light"
OBS_PID=$LAST_PID
wait_for_line "$TEST_TMP/observer.log" '"status"' 15 || fail "observer: first state" "$(cat "$TEST_TMP/observer.log")"
OBS_NODE=$(cluster_node_of "$CL_COAPS_PORT" "$(client_port coap-client-openssl)")
log "the observer's session is on node${OBS_NODE:-?}"
PUT_NODE="" PUT_CASE=""
for t in $(seq 1 12); do
    before=$(cluster_flows "$CL_COAP_PORT" | sort)
    in_cli "$CLIENT" -B 5 -m put -t json -e "{\"status\": false, \"put\": $t}" \
        "coap://$VIP:$CL_COAP_PORT/light" >/dev/null 2>&1 || true
    node=$(comm -13 <(printf '%s\n' "$before") <(cluster_flows "$CL_COAP_PORT" | sort) | awk '{print $2; exit}')
    log "PUT $t went to node${node:-?}"
    if [ -n "$node" ] && [ -n "$OBS_NODE" ] && [ "$node" != "$OBS_NODE" ]; then
        PUT_NODE=$node PUT_CASE="\"put\": $t"
        break
    fi
done
if [ -n "$PUT_NODE" ]; then
    pass "a PUT reached another node than the observer's ($PUT_NODE, not $OBS_NODE)"
    wait_for_line "$TEST_TMP/observer.log" "$PUT_CASE" 5 || true
    check_contains "observe: the notification of a PUT on another node arrived" \
        "$PUT_CASE}" "$(cat "$TEST_TMP/observer.log")"
else
    fail "a PUT reached another node than the observer's" "observer on node${OBS_NODE:-?}"
fi
kill "$OBS_PID" 2>/dev/null || true
wait "$OBS_PID" 2>/dev/null || true

# ---- (c) a duplicated POST across a move executes once --------------------------------
# counters: /test/counter as each live node has it, read from the balancer's
# namespace, which reaches the nodes themselves.
counters() {
    local i vals=()
    for i in 1 2 3; do
        kill -0 "${NODE_PID[$i]}" 2>/dev/null || continue
        vals+=("node$i=$(cl_in "$CL_NS_LB" "$CLIENT" -B 5 "coap://${CL_NODE_IP[$i]}:$CL_COAP_PORT/test/counter" 2>&1)")
    done
    echo "${vals[*]}"
}
C0=$(counters)
V0=$(coap_get test/counter)
[[ "$V0" =~ ^[0-9]+$ ]] || { fail "dedup: the counter read" "$V0"; V0=0; }
check_eq "dedup: every node has one counter before" "node1=$V0 node2=$V0 node3=$V0" "$C0"
HS0=$(handshakes)
# CON POST /test/counter, Message ID 0x1234, token c1c2; sent twice, 4 s apart.
POST=42021234c1c2b47465737407636f756e746572
start_bg dup ip netns exec "$CL_NS_CLI" timeout 30 "$DSEND" -n 2 -i 4000 -c 1 -t 1500 \
    -k "$DEMO_KEY" -u dup "$VIP" "$CL_COAPS_PORT" "$POST"
DUP_PID=$LAST_PID
DUP_NODE="" DUP_NEW=""
if wait_count "$TEST_TMP/dup.log" '^6' 1 10; then
    DUP_PORT=$(client_port dtls-send)
    DUP_NODE=$(cluster_node_of "$CL_COAPS_PORT" "$DUP_PORT")
    # The orchestrator rebalances: the slots of that node go to the next.
    if [ -n "$DUP_NODE" ]; then
        DUP_NEW=$((DUP_NODE % 3 + 1))
        slots=()
        for s in 1 2 3; do
            if [ "$s" = "$DUP_NODE" ]; then slots+=("$DUP_NEW"); else slots+=("$s"); fi
        done
        cluster_map "${slots[@]}"
        cluster_forget_node "$DUP_NODE"
    fi
else
    fail "dedup: the first POST answered" "$(cat "$TEST_TMP/dup.log")"
fi
RC=0
wait "$DUP_PID" || RC=$?
check_eq "dedup: dtls-send sent both copies" 0 "$RC"
log "dedup: node${DUP_NODE:-?} answered the first copy; the flow moved to node${DUP_NEW:-?}"
check_eq "dedup: the second copy went to node$DUP_NEW" "${DUP_NEW:-none}" \
    "$(cluster_node_of "$CL_COAPS_PORT" "${DUP_PORT:-0}")"
mapfile -t replies < <(grep '^6' "$TEST_TMP/dup.log" || true)
check_eq "dedup: both copies answered" 2 "${#replies[@]}"
check_eq "dedup: the second answer is the first, byte for byte" "${replies[0]:-}" "${replies[1]:-none}"
V1=$((V0 + 1))
check_eq "dedup: the POST executed once: every node's counter went up by one" \
    "node1=$V1 node2=$V1 node3=$V1" "$(counters)"
check_eq "dedup: no handshake but dtls-send's own" "$((HS0 + 1))" "$(handshakes)"
cluster_map 1 2 3

# ---- (a) rebindings that move devices, (b) a node killed -------------------------------
D=6
HS0=$(handshakes)
for d in $(seq 1 $D); do
    start_bg "dev$d" ip netns exec "$CL_NS_CLI" env SSLKEYLOGFILE="$TEST_TMP/keylog" \
        timeout 60 "$CLIENT" -v info -B 4 --cid "$CIDLEN" \
        --repeat 40 --interval 250 -k "$DEMO_KEY" -u "dev$d" "coaps://$VIP/light"
done
for d in $(seq 1 $D); do
    wait_count "$TEST_TMP/dev$d.log" '^{"status"' 2 20 || fail "dev$d: first answers" "$(cat "$TEST_TMP/dev$d.log")"
done
HS1=$(handshakes)
check_eq "every device made one handshake" "$((HS0 + D))" "$HS1"
answers() { cat "$TEST_TMP"/dev*.log | grep -c '^{"status"' || true; }
# wait_answers N SECONDS: until every device has N answers more than now
wait_answers() {
    local d target
    for d in $(seq 1 $D); do
        target=$(($(grep -c '^{"status"' "$TEST_TMP/dev$d.log" || true) + $1))
        wait_count "$TEST_TMP/dev$d.log" '^{"status"' "$target" "$2" || true
    done
}
# device_flows: "PORT NODE" of the devices (the coaps-client processes) now
device_flows() {
    cluster_flows "$CL_COAPS_PORT" | sort >"$TEST_TMP/flows.all"
    in_cli ss -Hunap 2>/dev/null | grep '"coaps-client"' |
        awk '{ n = split($4, a, ":"); print a[n] }' | sort -u >"$TEST_TMP/devports"
    join "$TEST_TMP/flows.all" "$TEST_TMP/devports"
}
device_flows >"$TEST_TMP/flows0"
check_eq "the balancer holds a flow of every device" "$D" "$(wc -l <"$TEST_TMP/flows0")"
log "before: $(tr '\n' ' ' <"$TEST_TMP/flows0")"
moved=0
for r in 1 2 3 4 5; do
    cluster_rebind
    wait_answers 2 8
    device_flows >"$TEST_TMP/flows$r"
    log "after rebinding $r: $(tr '\n' ' ' <"$TEST_TMP/flows$r")"
    moved=$(join "$TEST_TMP/flows0" "$TEST_TMP/flows$r" | awk '$2 != $3' | wc -l)
    [ "$moved" -ge 1 ] && break
done
if [ "$moved" -ge 1 ]; then
    pass "rebinding: $moved of $D devices moved to another node ($r rebindings)"
else
    fail "rebinding: a device moved to another node" "after $r rebindings"
fi
check_eq "rebinding: no new handshake" "$HS1" "$(handshakes)"
# The rebinding really gave every device a new port outside.
renat=0
while read -r _ outside; do
    cluster_range_has "$outside" && renat=$((renat + 1))
done < <(cluster_nat_flows "$CL_COAPS_PORT" | join - "$TEST_TMP/devports")
check_eq "rebinding: every device has a port of the NAT's new range" "$D" "$renat"

# (b) the node with the most devices dies; the orchestrator moves its share.
device_flows >"$TEST_TMP/flows-kill"
VICTIM=$(awk '{print $2}' "$TEST_TMP/flows-kill" | sort | uniq -c | sort -rn | awk '{print $2; exit}')
ON_VICTIM=$(awk -v v="$VICTIM" '$2 == v' "$TEST_TMP/flows-kill" | wc -l)
log "killing node$VICTIM, serving $ON_VICTIM devices"
kill -KILL "${NODE_PID[$VICTIM]}"
wait "$(cat "$TEST_TMP/node$VICTIM.pid")" 2>/dev/null || true
if kill -0 "${NODE_PID[$VICTIM]}" 2>/dev/null; then fail "node$VICTIM killed"; else pass "node$VICTIM killed"; fi
others=()
for s in 1 2 3; do [ "$s" = "$VICTIM" ] || others+=("$s"); done
slots=()
for s in 1 2 3; do
    if [ "$s" = "$VICTIM" ]; then slots+=("${others[0]}"); else slots+=("$s"); fi
done
cluster_map "${slots[@]}"
cluster_forget_node "$VICTIM"
wait_answers 2 8
device_flows >"$TEST_TMP/flows-after"
log "after the kill: $(tr '\n' ' ' <"$TEST_TMP/flows-after")"
check_eq "kill: every device of node$VICTIM now on another node" "$ON_VICTIM" \
    "$(join "$TEST_TMP/flows-kill" "$TEST_TMP/flows-after" | awk -v v="$VICTIM" '$2 == v && $3 != v' | wc -l)"
# What Redis holds now, with the six sessions in it: checked below.
REDIS_KEYS=$(cl_in "$CL_NS_REDIS" redis-cli -h "$CL_REDIS_IP" -p "$CL_REDIS_PORT" dbsize 2>&1 || true)
redis_dump "$TEST_TMP/redis1.hex"
for d in $(seq 1 $D); do
    RC=0
    wait "$(cat "$TEST_TMP/dev$d.pid")" || RC=$?
    out=$(cat "$TEST_TMP/dev$d.log")
    check_eq "dev$d: exit 0" 0 "$RC"
    check_contains "dev$d: every request answered" "40 of 40 requests answered with 2.xx (40 sent)" "$out"
    check_eq "dev$d: one handshake" 1 "$(grep -c 'DTLS session established' <<<"$out" || true)"
    check_eq "dev$d: never started its session again" 0 "$(grep -c 'starting it again' <<<"$out" || true)"
done
check_eq "rebinding and kill: no new handshake on any node" "$HS1" "$(handshakes)"

# ---- the nodes: alive, clean, their statistics ------------------------------------------
for i in 1 2 3; do
    [ "$i" = "$VICTIM" ] && continue
    if kill -0 "${NODE_PID[$i]}" 2>/dev/null; then pass "node$i alive"; else fail "node$i alive"; fi
    kill -TERM "${NODE_PID[$i]}" 2>/dev/null || true
    wait "$(cat "$TEST_TMP/node$i.pid")" 2>/dev/null || true
    grep -E 'info: (stats|coaps: hello)' "$TEST_TMP/node$i.log" | sed "s/^/  node$i: /" >&2 || true
done
# store_stat FIELD: the sum of FIELD in the live nodes' "store:" statistics
store_stat() {
    cat "$TEST_TMP"/node[123].log | grep -o "store: .*" | grep -o "$1 [0-9]*" |
        awk '{ n += $NF } END { print n + 0 }'
}
if [ "$STORE_MODE" = redis ]; then
    took=$(store_stat "taken over")
    if [ "$took" -ge 1 ]; then pass "the live nodes took $took sessions over from the store"
    else fail "the live nodes took sessions over from the store" "taken over $took"; fi
    check_eq "no store operation failed" 0 "$(store_stat failed)"
fi
for i in 1 2 3; do
    if grep -q 'ERROR: AddressSanitizer\|runtime error' "$TEST_TMP/node$i.log"; then
        fail "node$i clean under the sanitizers" "$(grep -m3 'ERROR\|runtime error' "$TEST_TMP/node$i.log")"
    else
        pass "node$i clean under the sanitizers"
    fi
done

# ---- (e) no (epoch, sequence number) sent twice on one session ----------------------------
stop_bg tcpdump
tcpdump -r "$TEST_TMP/lb.pcap" -nn -x "udp src port $CL_COAPS_PORT" >"$TEST_TMP/lb.txt" 2>/dev/null ||
    die "tcpdump cannot read the capture"
AWK=$COAPS_SOURCE_DIR/tests/lib/dtls_seq_dups.awk
real=$(awk -v cidlen="$CIDLEN" -f "$AWK" "$TEST_TMP/lb.txt" | tee "$TEST_TMP/dups.txt" | tail -1)
doubled=$(cat "$TEST_TMP/lb.txt" "$TEST_TMP/lb.txt" | awk -v cidlen="$CIDLEN" -f "$AWK" | tail -1)
log "capture: $real"
read -r _ _ _ _ _ cids _ dups _ bad <<<"$real"
read -r _ _ _ _ _ _ _ dups2 _ _ <<<"$doubled"
check_eq "capture: every record parsed" 0 "$bad"
if [ "$cids" -ge $((D * 40)) ]; then
    pass "capture: the devices' answers are there ($cids records with their CID)"
else
    fail "capture: the devices' answers are there" "$real"
fi
if [ "$dups2" -ge "$cids" ]; then
    pass "capture: the check sees a doubled capture's repeats ($dups2)"
else
    fail "capture: the check sees a doubled capture's repeats" "$doubled"
fi
check_eq "capture: no (epoch, seq) sent twice on one session" 0 "$dups"
[ "$dups" = 0 ] || head -5 "$TEST_TMP/dups.txt" >&2

# ---- Redis never holds a session's keys in clear ---------------------------------------
# The devices' key blocks (RFC 5246 6.3): master secret and client random
# from their key log, the server random from the ServerHello the capture
# shows going to the address the ClientHello came from; TLS_PSK_WITH_AES_
# 128_CCM_8: client write key, server write key (16 bytes each), 2 IVs.
# openssl's TLS1-PRF is first checked on a published vector.
check_eq "TLS 1.2 PRF (SHA-256) test vector" \
    e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66 \
    "$(openssl kdf -keylen 100 -kdfopt digest:SHA256 -kdfopt hexsecret:9bbe436ba940f017b17652849a71db35 \
        -kdfopt seed:"test label" -kdfopt hexseed:a0ba9f936cda311827a6f796ffd5198c TLS1-PRF |
        tr -d ':\n' | tr 'A-F' 'a-f')"
tcpdump -r "$TEST_TMP/lb.pcap" -nn -x 2>/dev/null |
    awk -v cidlen="$CIDLEN" -f "$COAPS_SOURCE_DIR/tests/lib/dtls_hellos.awk" >"$TEST_TMP/hellos"
# hex_bytes HEX: the bytes themselves
hex_bytes() {
    local h=$1 esc=""
    while [ -n "$h" ]; do esc+="\\x${h:0:2}"; h=${h:2}; done
    printf '%b' "$esc"
}
: >"$TEST_TMP/session.keys"
finished=0
while read -r label cr ms; do
    [ "$label" = CLIENT_RANDOM ] || continue
    cr=$(tr 'A-F' 'a-f' <<<"$cr") ms=$(tr 'A-F' 'a-f' <<<"$ms")
    # the server random, and the server's first epoch-1 record (its Finished)
    sr="" nonce="" ct=""
    read -r sr nonce ct < <(awk -v r="$cr" '$1 == "CH" && $3 == r { a = $2 }
        a != "" && $1 == "SH" && $2 == a { sr = $3 }
        sr != "" && $1 == "E1" && $3 == a { print sr, $4, $5; exit }' "$TEST_TMP/hellos") || true
    [ -n "$ct" ] || continue
    kb=$(openssl kdf -keylen 40 -kdfopt digest:SHA256 -kdfopt hexsecret:"$ms" -kdfopt seed:"key expansion" \
        -kdfopt hexseed:"$sr$cr" TLS1-PRF | tr -d ':\n' | tr 'A-F' 'a-f')
    echo "${kb:0:32} ${kb:32:32}" >>"$TEST_TMP/session.keys"
    # CCM is CTR for the data: the block after A_0 = flags 2 (L = 3),
    # server write IV, explicit nonce, counter 1 (RFC 3610 2.3, RFC 6655 3).
    plain=$(hex_bytes "$ct" | openssl enc -d -aes-128-ctr -nopad -K "${kb:32:32}" \
        -iv "02${kb:72:8}${nonce}000001" | od -An -v -tx1 | tr -d ' \n')
    [ "${plain:0:8}" = 1400000c ] && finished=$((finished + 1))
done <"$TEST_TMP/keylog"
check_eq "sealing: the key blocks of all $D devices' sessions derived" "$D" "$(wc -l <"$TEST_TMP/session.keys")"
check_eq "sealing: ... and right: each opens its server's Finished" "$D" "$finished"
# in_dump FILE KEYHEX: whether the dump holds the key's bytes (its hex at
# an even offset of the dump's).
in_dump() {
    awk -v k="$2" '{
        s = $0; off = 0
        while ((i = index(s, k)) > 0) {
            if ((off + i) % 2 == 1) { found = 1; exit }
            off += i; s = substr(s, i + 1)
        }
    } END { exit !found }' "$1"
}
if [ "$STORE_MODE" = redis ]; then
    if [[ "$REDIS_KEYS" =~ ^[0-9]+$ ]] && [ "$REDIS_KEYS" -ge "$D" ]; then
        pass "sealing: Redis held the sessions when dumped ($REDIS_KEYS keys)"
    else
        fail "sealing: Redis held the sessions when dumped" "dbsize: $REDIS_KEYS"
    fi
fi
clear=0
while read -r ck sk; do
    in_dump "$TEST_TMP/redis1.hex" "$ck" && clear=$((clear + 1))
    in_dump "$TEST_TMP/redis1.hex" "$sk" && clear=$((clear + 1))
done <"$TEST_TMP/session.keys"
check_eq "sealing: no session's write key in clear in Redis" 0 "$clear"
# ... and the search finds a key that is there in clear.
read -r ck _ <"$TEST_TMP/session.keys" || ck=""
if [ -n "$ck" ]; then
    hex_bytes "$ck" |
        cl_in "$CL_NS_REDIS" redis-cli -h "$CL_REDIS_IP" -p "$CL_REDIS_PORT" -x set coaps-test-clear >/dev/null
    redis_dump "$TEST_TMP/redis2.hex"
    if in_dump "$TEST_TMP/redis2.hex" "$ck"; then
        pass "sealing: the search finds a key stored in clear"
    else
        fail "sealing: the search finds a key stored in clear"
    fi
fi
finish
