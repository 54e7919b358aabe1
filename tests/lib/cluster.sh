# shellcheck shell=bash
# cluster.sh - the three-node coaps-server cluster of docs/cluster.md, built in
# network namespaces: sourced by tests/net/test_cluster_netns.sh and
# scripts/run-cluster (not a test itself). It makes and removes the topology
# and moves devices around in it; starting processes is the caller's (each
# has its own way of recording and killing them by PID).
#
#   client 10.90.1.2 --- 10.90.1.1 nat 10.90.2.2 --- 10.90.2.1 lb 10.90.3.1 (bridge)
#   (devices)            masquerade:                 DNAT of VIP 10.90.0.1  |-- node1 10.90.3.11
#                        source ports into a range   udp 5683, 5684 by       |-- node2 10.90.3.12
#                        (a rebinding: new range,    jhash(saddr . sport)    |-- node3 10.90.3.13
#                        conntrack -F)               mod 3 -> @nodes         '-- redis 10.90.3.2
#
# The balancer is kube-proxy's nftables mode in miniature: a stateless hash
# of the 4-tuple picks a node for a flow's first datagram, conntrack keeps
# the flow there, and the orchestrator rewrites the map when a node goes.
# The nodes route back through it (their default route), so their answers
# leave with the VIP as source. Namespace names carry the ID given to
# cluster_init (the caller's PID), so two runs never clash; the addresses
# are private to those namespaces.
#
# Usage: cluster_init ID TMPDIR; cluster_make || ...; ...; cluster_remove
# (TMPDIR: a directory of the caller's for this file's scratch files).

CL_VIP=10.90.0.1
CL_CLI_IP=10.90.1.2
CL_NAT_C_IP=10.90.1.1
CL_NAT_L_IP=10.90.2.2
CL_LB_N_IP=10.90.2.1
CL_LB_BR_IP=10.90.3.1
CL_REDIS_IP=10.90.3.2
CL_NODE_IP=("" 10.90.3.11 10.90.3.12 10.90.3.13)
# Fresh namespaces: the well-known ports cannot clash with anything.
CL_COAP_PORT=5683
CL_COAPS_PORT=5684
CL_REDIS_PORT=6379
# Source ports of the masquerade: range k is 20000+1000k .. +999, so each
# rebinding hands the devices ports no earlier flow had.
CL_RANGE=0

# cluster_init ID TMPDIR: the namespaces' names for this run.
cluster_init() {
    CL_TMP=$2
    CL_NS_CLI=coaps-cl-cli-$1
    CL_NS_NAT=coaps-cl-nat-$1
    CL_NS_LB=coaps-cl-lb-$1
    CL_NS_REDIS=coaps-cl-redis-$1
    CL_NS_NODE=("" "coaps-cl-n1-$1" "coaps-cl-n2-$1" "coaps-cl-n3-$1")
    CL_ALL_NS=("$CL_NS_CLI" "$CL_NS_NAT" "$CL_NS_LB" "$CL_NS_REDIS"
        "${CL_NS_NODE[1]}" "${CL_NS_NODE[2]}" "${CL_NS_NODE[3]}")
    CL_MADE=()
}

# cl_in NS CMD...: CMD in namespace NS, never longer than 10 s.
cl_in() { local ns=$1; shift; timeout 10 ip netns exec "$ns" "$@"; }

# cluster_remove: delete every namespace this run made (their links and
# nftables go with them). The caller kills its processes first.
cluster_remove() {
    local ns
    for ns in "${CL_MADE[@]}"; do
        ip netns del "$ns" 2>/dev/null || true
    done
    CL_MADE=()
}

cl_add_ns() {
    ip netns add "$1" || return 1
    CL_MADE+=("$1")
    ip -n "$1" link set lo up
}

# cl_link NS_A NAME_A ADDR_A NS_B NAME_B ADDR_B: a veth pair between two
# namespaces, addressed (/24) and up; ADDR "-" leaves that end bare.
cl_link() {
    ip link add name "$2" netns "$1" type veth peer name "$5" netns "$4" || return 1
    [ "$3" = - ] || ip -n "$1" addr add "$3/24" dev "$2" || return 1
    [ "$6" = - ] || ip -n "$4" addr add "$6/24" dev "$5" || return 1
    ip -n "$1" link set "$2" up && ip -n "$4" link set "$5" up
}

# cluster_make: the whole topology. Fails (status 1, the reason on stderr)
# where this kernel or user may not make namespaces or nftables NAT: the
# caller skips then.
cluster_make() {
    local ns i
    for ns in "${CL_ALL_NS[@]}"; do
        cl_add_ns "$ns" || return 1
    done
    cl_link "$CL_NS_CLI" vc "$CL_CLI_IP" "$CL_NS_NAT" rc "$CL_NAT_C_IP" || return 1
    cl_link "$CL_NS_NAT" rl "$CL_NAT_L_IP" "$CL_NS_LB" ln "$CL_LB_N_IP" || return 1
    ip -n "$CL_NS_LB" link add br0 type bridge || return 1
    ip -n "$CL_NS_LB" addr add "$CL_LB_BR_IP/24" dev br0 || return 1
    ip -n "$CL_NS_LB" link set br0 up || return 1
    for i in 1 2 3; do
        cl_link "${CL_NS_NODE[$i]}" eth0 "${CL_NODE_IP[$i]}" "$CL_NS_LB" "bn$i" - || return 1
        ip -n "$CL_NS_LB" link set "bn$i" master br0 || return 1
        ip -n "${CL_NS_NODE[$i]}" route add default via "$CL_LB_BR_IP" || return 1
    done
    cl_link "$CL_NS_REDIS" eth0 "$CL_REDIS_IP" "$CL_NS_LB" bredis - || return 1
    ip -n "$CL_NS_LB" link set bredis master br0 || return 1
    ip -n "$CL_NS_CLI" route add default via "$CL_NAT_C_IP" || return 1
    ip -n "$CL_NS_NAT" route add default via "$CL_LB_N_IP" || return 1
    cl_in "$CL_NS_NAT" sysctl -qw net.ipv4.ip_forward=1 || return 1
    cl_in "$CL_NS_LB" sysctl -qw net.ipv4.ip_forward=1 || return 1
    cl_in "$CL_NS_NAT" nft -f - <<EOF || return 1
table ip coaps_nat {
    chain post { type nat hook postrouting priority srcnat; policy accept; }
}
EOF
    cluster_rebind || return 1
    # The balancer: the map's slots are what the orchestrator rewrites.
    cl_in "$CL_NS_LB" nft -f - <<EOF || return 1
table ip coaps_lb {
    map nodes {
        typeof numgen inc mod 3 : ip daddr
        elements = { 0 : ${CL_NODE_IP[1]}, 1 : ${CL_NODE_IP[2]}, 2 : ${CL_NODE_IP[3]} }
    }
    chain pre {
        type nat hook prerouting priority dstnat; policy accept;
        ip daddr $CL_VIP udp dport { $CL_COAP_PORT, $CL_COAPS_PORT } dnat to jhash ip saddr . udp sport mod 3 map @nodes
    }
}
EOF
    cl_in "$CL_NS_LB" conntrack -F 2>/dev/null || return 1
}

# cluster_map N0 N1 N2: the balancer's slots 0, 1, 2 go to these nodes
# (1-3), in one transaction; flows already under way stay where conntrack
# has them (cluster_forget_node moves them).
cluster_map() {
    cl_in "$CL_NS_LB" nft -f - <<EOF
flush map ip coaps_lb nodes
add element ip coaps_lb nodes { 0 : ${CL_NODE_IP[$1]}, 1 : ${CL_NODE_IP[$2]}, 2 : ${CL_NODE_IP[$3]} }
EOF
}

# cluster_forget_node N: the balancer forgets the flows it sent to node N,
# so their next datagram is hashed through the map again.
cluster_forget_node() {
    cl_in "$CL_NS_LB" conntrack -D -p udp --reply-src "${CL_NODE_IP[$1]}" >/dev/null 2>&1 || true
}

# cluster_rebind: the NAT forgets every binding and maps into the next
# range from now on: every device's next datagram leaves from a new port.
cluster_rebind() {
    CL_RANGE=$((CL_RANGE + 1))
    local lo=$((20000 + 1000 * CL_RANGE))
    printf '%s\n' "flush chain ip coaps_nat post" \
        "add rule ip coaps_nat post oifname rl ip saddr 10.90.1.0/24 ip protocol udp masquerade to :$lo-$((lo + 999))" |
        cl_in "$CL_NS_NAT" nft -f - || return 1
    cl_in "$CL_NS_NAT" conntrack -F >/dev/null 2>&1
}

# cluster_nat_flows PORT: "CLIENT_PORT OUTSIDE_PORT" for every flow of a
# device to VIP:PORT the NAT holds now.
cluster_nat_flows() {
    # "src=CLI dst=VIP sport=C dport=PORT src=VIP dst=NAT sport=PORT dport=N"
    cl_in "$CL_NS_NAT" conntrack -L -p udp --orig-dst "$CL_VIP" --dport "$1" 2>/dev/null |
        awk '{ n = 0; for (i = 1; i <= NF; i++) if ($i ~ /^(sport|dport)=/) { n++; v[n] = substr($i, 7) }
               if (n >= 4) print v[1], v[4] }' | sort -u
}

# cluster_range_has PORT: whether PORT lies in the NAT's current range.
cluster_range_has() {
    local lo=$((20000 + 1000 * CL_RANGE))
    [ "$1" -ge "$lo" ] && [ "$1" -le $((lo + 999)) ]
}

# cluster_flows PORT: "CLIENT_PORT NODE" for every flow of a device to
# VIP:PORT that both the NAT and the balancer hold now: the device's own
# source port, and the node (1-3) the balancer sends it to. The NAT's entry
# says which port the device has outside, the balancer's where that goes.
cluster_flows() {
    local port=$1
    cluster_nat_flows "$port" >"$CL_TMP/nat.flows"
    # "src=NAT dst=VIP sport=N dport=PORT src=NODE dst=NAT sport=PORT dport=N"
    cl_in "$CL_NS_LB" conntrack -L -p udp --orig-dst "$CL_VIP" --dport "$port" 2>/dev/null |
        awk -v n1="${CL_NODE_IP[1]}" -v n2="${CL_NODE_IP[2]}" -v n3="${CL_NODE_IP[3]}" '
            { s = 0; p = 0; node = 0
              for (i = 1; i <= NF; i++) {
                  if ($i ~ /^src=/) { s++; if (s == 2) { a = substr($i, 5)
                      node = a == n1 ? 1 : a == n2 ? 2 : a == n3 ? 3 : 0 } }
                  if ($i ~ /^sport=/ && p == 0) { p = substr($i, 7) }
              }
              if (node) print p, node }' | sort -u >"$CL_TMP/lb.flows"
    awk 'NR == FNR { node[$1] = $2; next } ($2 in node) { print $1, node[$2] }' \
        "$CL_TMP/lb.flows" "$CL_TMP/nat.flows"
}

# cluster_node_of PORT CLIENT_PORT: the node serving that device now (or
# nothing).
cluster_node_of() {
    cluster_flows "$1" | awk -v c="$2" '$1 == c { print $2; exit }'
}

# cluster_node_argv I SERVER STATE_KEY TICKET_KEY STORE [ADDR COAP_PORT]:
# CL_ARGV = the command line of node I (its namespace's, or ADDR and
# COAP_PORT, coaps:// on the next port, where there are no namespaces):
# the light with the test resources, the demo PSK, CIDs, one worker (its
# log is then one loop's), tickets from one shared key, and with STORE
# "redis" the sessions shared through the Redis above, sealed with the
# state key.
cluster_node_argv() {
    local i=$1 server=$2 key=$3 tkey=$4 store=$5
    local addr=${6:-${CL_NODE_IP[$i]}} port=${7:-$CL_COAP_PORT}
    local redis_addr=${CL_REDIS_ADDR:-$CL_REDIS_IP}
    CL_ARGV=("$server" -A "$addr" -p "$port" --coaps-port "$((port + 1))"
        --psk-default esp32c3_key --hint CoAP --cid 8 --test-resources --workers 1
        --ticket-key "$tkey" -v info)
    if [ "$store" = redis ]; then
        CL_ARGV+=(--store "redis://$redis_addr:$CL_REDIS_PORT/0" --state-key "$key")
    fi
}

# cluster_redis_argv DIR [ADDR]: CL_ARGV = redis-server on ADDR (default
# its namespace's) and CL_REDIS_PORT, nothing written to disk (DIR: its
# working directory); a snapshot (redis-cli --rdb) holds the values
# uncompressed, as they were stored.
cluster_redis_argv() {
    CL_ARGV=(redis-server --port "$CL_REDIS_PORT" --bind "${2:-$CL_REDIS_IP}" --protected-mode no
        --save '' --appendonly no --rdbcompression no --dir "$1")
}
