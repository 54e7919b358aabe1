#!/usr/bin/env bash
# test_conformance_spoof_netns.sh - issue 18 item 4: the forged-record
# attacks of the conformance suite from another host that spoofs the honest
# client's address. The test makes its own topology, three network
# namespaces on a bridge, and removes it on exit:
#
#   server    10.77.0.1 on br0   coaps-server -A 10.77.0.1 --psk-default
#   client    10.77.0.2 (veth)   dtls-peer, the honest PSK client
#   attacker  10.77.0.3 (veth)   dtls-peer's raw socket (-S -N): the forged
#                                records, source 10.77.0.2 and the client's port
#
# dtls-peer runs in the client namespace and opens its -S raw socket inside
# the attacker namespace (-N), so each forged datagram leaves by the
# attacker's link with the client's address and port as its source (an
# attacker who knows the port: on the path, or lucky). Cases: the
# catalogue's forged epoch-1 records before and after the ClientKeyExchange,
# forged application records in the established CCM_8 session below the
# forgery limit, a forged epoch-0 alert after the ChangeCipherSpec - each
# must leave the honest handshake, its CoAP request and the session
# intact - and, the control that shows the forgeries reach the server at
# all, 140 forged records: the limit, the session ends and the server logs
# it under the client's address. The attacker's link must have carried
# every forged datagram, and the server must never see the attacker's
# own address.
set -euo pipefail
. "${COAPS_SOURCE_DIR:?}/scripts/lib/common.sh"
. "$COAPS_SOURCE_DIR/tests/interop/coaps_test_lib.sh"
PEER=$COAPS_BUILD_DIR/dtls-peer
SERVER=$COAPS_BUILD_DIR/coaps-server
[ -x "$PEER" ] || die "$PEER not built"
[ -x "$SERVER" ] || die "$SERVER not built"

if [ "$(id -u)" != 0 ]; then
    log "SKIP: needs root for network namespaces"
    exit 77
fi
if ! ip netns list >/dev/null 2>&1; then
    log "SKIP: ip netns unavailable"
    exit 77
fi

# Names unique per run (PID), so parallel runs cannot collide; removed by
# name on exit, after common.sh's cleanup has killed our processes by PID.
NS_S=coaps-spoof-srv-$$
NS_C=coaps-spoof-cli-$$
NS_A=coaps-spoof-atk-$$
SRV_IP=10.77.0.1 CLI_IP=10.77.0.2 ATK_IP=10.77.0.3
# The server namespace is fresh and private: fixed ports cannot clash.
COAP_PORT=5683 COAPS_PORT=5684
remove_topology() {
    cleanup
    local ns
    for ns in "$NS_S" "$NS_C" "$NS_A"; do
        ip netns del "$ns" 2>/dev/null || true
    done
}
trap remove_topology EXIT

in_ns() { local ns=$1; shift; timeout 10 ip netns exec "$ns" "$@"; }
make_topology() {
    local ns
    for ns in "$NS_S" "$NS_C" "$NS_A"; do
        ip netns add "$ns" || return 1
        ip -n "$ns" link set lo up || return 1
        # Reverse-path filtering off, before the links exist so that they
        # inherit it: the forged datagrams claim 10.77.0.2 while coming in
        # from the attacker's port of the bridge; strict rp_filter would
        # pass them here (same subnet, same br0) but a loose/strict default
        # must not decide the outcome of this test.
        in_ns "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
            net.ipv4.conf.default.rp_filter=0 || return 1
    done
    ip -n "$NS_S" link add br0 type bridge || return 1
    ip link add name vc netns "$NS_C" type veth peer name vc-br netns "$NS_S" || return 1
    ip link add name va netns "$NS_A" type veth peer name va-br netns "$NS_S" || return 1
    ip -n "$NS_S" link set vc-br master br0 up || return 1
    ip -n "$NS_S" link set va-br master br0 up || return 1
    ip -n "$NS_S" addr add "$SRV_IP/24" dev br0 || return 1
    ip -n "$NS_S" link set br0 up || return 1
    ip -n "$NS_C" addr add "$CLI_IP/24" dev vc || return 1
    ip -n "$NS_C" link set vc up || return 1
    ip -n "$NS_A" addr add "$ATK_IP/24" dev va || return 1
    ip -n "$NS_A" link set va up || return 1
}
if ! make_topology 2>"$TEST_TMP/topo.err"; then
    log "SKIP: cannot make network namespaces: $(head -1 "$TEST_TMP/topo.err")"
    exit 77
fi
# Both ports of the bridge forward before anything is sent (the honest
# cases then show that the client reaches the server, the limit case that
# the attacker does).
for port in vc-br va-br; do
    forwarding=no
    for _ in $(seq 1 50); do
        if bridge -n "$NS_S" link show dev "$port" | grep -q 'state forwarding'; then
            forwarding=yes
            break
        fi
        sleep 0.2
    done
    check_eq "bridge port $port forwards" yes "$forwarding"
done

start_bg server ip netns exec "$NS_S" "$SERVER" -A "$SRV_IP" -p "$COAP_PORT" \
    --coaps-port "$COAPS_PORT" --psk-default "$DEMO_KEY"
wait_for_line "$TEST_TMP/server.log" "listening on coaps://" 20 ||
    die "coaps-server did not start in $NS_S: $(cat "$TEST_TMP/server.log")"

# The cases: every forged-record attack of the catalogue (the forged_* kinds)
# and the epoch-0 alert after the ChangeCipherSpec, taken from server.txt so
# the expectations stay the catalogue's.
CAT=$COAPS_SOURCE_DIR/tests/conformance/server.txt
grep -E '^[a-z_0-9]+ +forged_|^after_ccs +alert +0 ' "$CAT" >"$TEST_TMP/spoof.txt"
cases=$(wc -l <"$TEST_TMP/spoof.txt")
limit_cases=$(grep -c ' ended$' "$TEST_TMP/spoof.txt" || true)
check_eq "the forgery-limit control case is in the catalogue" 1 "$limit_cases"
# Datagrams the attacker sends: NAME*N counts N, any other case 1.
forged_dgrams=$(awk '{n = 1; if (split($2, a, "*") == 2) n = a[2]; s += n} END {print s}' \
    "$TEST_TMP/spoof.txt")
tx_packets() { ip -n "$NS_A" -s -j link show va | grep -o '"tx":{[^}]*' | grep -o '"packets":[0-9]*' |
    cut -d: -f2; }
tx0=$(tx_packets)

rc=0
timeout 300 ip netns exec "$NS_C" "$PEER" -S -N "/run/netns/$NS_A" -k "$DEMO_KEY" \
    -c "$TEST_TMP/spoof.txt" "$SRV_IP" "$COAPS_PORT" >"$TEST_TMP/peer.out" 2>&1 || rc=$?
cat "$TEST_TMP/peer.out" >&2
[ "$rc" != 77 ] || die "dtls-peer could not open its raw socket in $NS_A"
check_eq "forged from another host: every reaction as in the catalogue" 0 "$rc"
check_contains "forged from another host: every case ran" "$cases cases, 0 mismatches" \
    "$(tail -1 "$TEST_TMP/peer.out")"
tx1=$(tx_packets)
if [ $((tx1 - tx0)) -ge "$forged_dgrams" ]; then
    pass "the attacker's link carried the $forged_dgrams forged datagrams ($((tx1 - tx0)) packets)"
else
    fail "the attacker's link carried the $forged_dgrams forged datagrams" "only $((tx1 - tx0))"
fi
# The forgeries arrived as the client's: the limit case ended a session of
# 10.77.0.2, counted by the server, and 10.77.0.3 never showed up.
limit_line=$(grep 'records failed authentication' "$TEST_TMP/server.log" || true)
log "server: ${limit_line:-(no forgery-limit line)}"
check_contains "server counted the forged records up to the limit, as the client's" \
    "coaps session with $CLI_IP:" "$limit_line"
check_contains "the session under forgery was CCM_8" "CCM_8" "$limit_line"
check_eq "server never saw the attacker's address" 0 "$(grep -c "$ATK_IP" "$TEST_TMP/server.log" || true)"
if server_alive server; then
    pass "server alive after the forgeries"
else
    fail "server alive after the forgeries" "$(tail -5 "$TEST_TMP/server.log")"
fi
if grep -q 'ERROR: AddressSanitizer\|runtime error' "$TEST_TMP/server.log"; then
    fail "server clean under the sanitizers" "$(grep -m3 'ERROR\|runtime error' "$TEST_TMP/server.log")"
else
    pass "server clean under the sanitizers"
fi
finish
