#!/usr/bin/env bash
# test_store_redis.sh - the cluster's session store on a real Redis
# (src/net/store_redis.c, through tests/tools/store-probe: one process per
# node). A redis-server of our own on a free loopback port, then:
#   - the semantics of store.h: create, fetch, take, reserve, update,
#     touch, drop, replies, values, counters, secrets; an old holder's
#     reserve/update/drop refused after a take;
#   - two nodes racing takes and reserves on one session: every block of
#     sequence numbers either got is disjoint from every other;
#   - the loss of a lease and a changed value reach the other node
#     (pub/sub), the taker ignores its own;
#   - a value overwritten in Redis with garbage, or a sealed value copied
#     under another key, or read with another state key: malformed,
#     counted;
#   - a Redis that turned replica (READONLY): the node reconnects;
#   - a state key rotated in three steps (a key file's second key only
#     opens): old values open during the rotation, and new ones at step 1;
#   - a Redis with requirepass and an ACL user: no or a wrong password is
#     refused with the reason logged (never the password); the right one
#     from the URI (percent-encoded) or COAPS_STORE_PASSWORD works;
#   - redis-server killed mid-way: every call fails with COAPS_E_IO at
#     once; restarted: the node reconnects after its back-off and works;
#     redis-server stopped (SIGSTOP): no call takes longer than the time
#     limits (connect 200 ms + command 100 ms).
# Skips (77) when redis-server is not installed (scripts/install-deps
# installs it).
set -euo pipefail
. "${COAPS_SOURCE_DIR:?}/scripts/lib/common.sh"
if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    log "SKIP: redis-server/redis-cli not installed (scripts/install-deps installs them)"
    exit 77
fi
PROBE=$COAPS_BUILD_DIR/store-probe
[ -x "$PROBE" ] || die "$PROBE not built"
KEY=$TEST_TMP/key
KEY2=$TEST_TMP/key2
openssl rand -hex 32 >"$KEY"
openssl rand -hex 32 >"$KEY2"

# start_redis: a redis-server on REDIS_PORT (picked once, then reused for
# restarts), no persistence; waits until it answers.
REDIS_PORT=""
start_redis() {
    local try
    for try in 1 2 3 4 5; do
        [ -n "$REDIS_PORT" ] && [ "$try" -eq 1 ] || REDIS_PORT=$(free_udp_port)
        start_bg redis redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
            --appendonly no --protected-mode no
        REDIS_PID=$LAST_PID
        local i
        for i in $(seq 50); do
            redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && return 0
            kill -0 "$REDIS_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill "$REDIS_PID" 2>/dev/null || true
        wait "$REDIS_PID" 2>/dev/null || true
    done
    die "redis-server does not start (see $TEST_TMP/redis.log)"
}
start_redis
URI=redis://127.0.0.1:$REDIS_PORT/3
rcli() { timeout 5 redis-cli -p "$REDIS_PORT" -n 3 "$@"; }
probe() { timeout 30 "$PROBE" --node "$1" "$URI" "${2:-$KEY}" "${@:3}"; }

# ---- semantics ---------------------------------------------------------------
out=$(probe a "$KEY" create 0a01 5 60000 fetch 0a01 reserve 0a01 1)
check_eq "create: fence 1, the block asked for" "create ok 1 5 65541" "$(sed -n 1p <<<"$out")"
check_eq "fetch opens the record" "fetch ok record" "$(sed -n 2p <<<"$out")"
check_eq "reserve: the next block" "reserve ok 1 65541 131077" "$(sed -n 3p <<<"$out")"
out=$(probe b "$KEY" take 0a01 reserve 0a01 2)
check_eq "take: a new fence, a block past every earlier one" "take ok 2 131077 196613" "$(sed -n 1p <<<"$out")"
check_eq "the new holder reserves" "reserve ok 2 196613 262149" "$(sed -n 2p <<<"$out")"
out=$(probe a "$KEY" reserve 0a01 1 update 0a01 1 stale 60000 drop 0a01 1 fetch 0a01)
check_eq "the old holder is refused" "reserve state|update state|drop state|fetch ok record" \
    "$(paste -sd'|' <<<"$out")"
out=$(probe b "$KEY" update 0a01 2 newer 60000 fetch 0a01)
check_eq "the holder updates" "update ok|fetch ok newer" "$(paste -sd'|' <<<"$out")"
ttl=$(rcli PTTL coaps:s:0a01)
out=$(probe b "$KEY" touch 900000 0a01,0a02)
check_eq "touch" "touch ok" "$out"
t=(); for k in s m; do t+=("$(rcli PTTL coaps:$k:0a01)"); done
if [ "${t[0]}" -gt "$ttl" ] && [ "${t[0]}" -gt 800000 ] && [ "${t[1]}" -gt 800000 ]; then
    pass "touch renews every key of the session (${t[*]} ms)"
else
    fail "touch renews every key of the session" "PTTLs ${t[*]}, before $ttl"
fi
out=$(probe b "$KEY" drop 0a01 2 fetch 0a01 take 0a01 create 0a01 0 60000)
check_eq "drop: gone; created again fences past" "drop ok|fetch not_found|take not_found|create ok 3 0 65536" \
    "$(paste -sd'|' <<<"$out")"
out=$(probe a "$KEY" reply-put 0a01 513 reply 60000 reply-get 0a01 513 reply-get 0a01 514 \
      value-set light on value-get light value-get none counter n counter n secret s)
sec_a=$(sed -n 's/^secret ok //p' <<<"$out")
check_eq "replies, values, counters" "reply-put ok|reply-get ok reply|reply-get not_found|value-set ok|value-get ok on|value-get not_found|counter ok 1|counter ok 2" \
    "$(head -8 <<<"$out" | paste -sd'|')"
sec_b=$(probe b "$KEY" secret s | sed -n 's/^secret ok //p')
if [ ${#sec_a} -eq 64 ] && [ "$sec_a" = "$sec_b" ]; then
    pass "a secret: the first node's, for every node"
else
    fail "a secret: the first node's, for every node" "[$sec_a] [$sec_b]"
fi
if rcli GET coaps:v:light | grep -q '^on$' || rcli GET coaps:s:0a01 | grep -q record; then
    fail "nothing in clear in Redis"
else
    pass "nothing in clear in Redis"
fi

# ---- two nodes racing --------------------------------------------------------
probe a "$KEY" create 0b01 0 60000 >/dev/null
probe a "$KEY" race 0b01 5000 >"$TEST_TMP/race_a" &
ra=$!
probe b "$KEY" race 0b01 5000 >"$TEST_TMP/race_b" &
rb=$!
wait "$ra" "$rb"
blocks=$(cat "$TEST_TMP/race_a" "$TEST_TMP/race_b" | grep -c '^block' || true)
refused=$(cat "$TEST_TMP/race_a" "$TEST_TMP/race_b" | grep -c '^refused' || true)
overlap=$(cat "$TEST_TMP/race_a" "$TEST_TMP/race_b" | awk '$1 == "block" { print $3, $4 }' |
          sort -n | awk 'NR > 1 && $1 < last { bad++ } { last = $2 } END { print bad + 0 }')
others=$(cat "$TEST_TMP/race_a" "$TEST_TMP/race_b" | grep -vc '^block\|^refused' || true)
if [ "$blocks" -ge 5000 ] && [ "$refused" -gt 0 ] && [ "$overlap" -eq 0 ] && [ "$others" -eq 0 ]; then
    pass "racing nodes: $blocks blocks, all disjoint ($refused reserves refused after a take)"
else
    fail "racing nodes: blocks disjoint" "$blocks blocks, $refused refused, $overlap overlapping, $others errors: $(cat "$TEST_TMP/race_a" "$TEST_TMP/race_b" | grep -v '^block\|^refused' | sort | uniq -c | head -n 5 | tr '\n' ' ')"
fi

# ---- a state key rotated across the cluster ---------------------------------------
# A key file's second key only opens. Step 1, every node: old then new (new
# values still sealed under old, and new ones readable); step 2: new then
# old; step 3, once the old values have expired: new alone.
cat "$KEY" "$KEY2" >"$TEST_TMP/key-step1"
cat "$KEY2" "$KEY" >"$TEST_TMP/key-step2"
probe a "$KEY" create 0d10 0 60000 >/dev/null
out=$(probe c "$TEST_TMP/key-step2" fetch 0d10 create 0d11 0 60000 stats)
check_eq "rotated: an old value opens under the second key, counted" \
    "fetch ok record|create ok 1 0 65536|stats 2 0 0 0 1" "$(paste -sd'|' <<<"$out")"
check_eq "a node at step 1 opens what a rotated one sealed" "fetch ok record" \
    "$(probe b "$TEST_TMP/key-step1" fetch 0d11)"
check_eq "a node with the old key alone cannot (hence step 1)" "fetch malformed" \
    "$(probe b "$KEY" fetch 0d11)"
check_eq "step 3: the old key gone, its values with it" "fetch malformed|fetch ok record" \
    "$(probe c "$KEY2" fetch 0d10 fetch 0d11 | paste -sd'|')"

# ---- events ------------------------------------------------------------------
probe a "$KEY" create 0c01 0 60000 >/dev/null
start_bg listen "$PROBE" --node a "$URI" "$KEY" listen 3000
wait_for_line "$TEST_TMP/listen.log" listening 10 || die "listener does not start"
sleep 0.3 # its subscription is made when it attaches, before "listening"
out=$(probe b "$KEY" take 0c01 value-set light '{"on":true}' sleep 300)
fence=$(awk '$1 == "take" { print $3 }' <<<"$out")
check_contains "the taker is told of the change it made" 'changed light {"on":true}' "$out"
wait_for_line "$TEST_TMP/listen.log" "changed light" 5 || true
check_contains "the loss reaches the other node" "lost 0c01 $fence" "$(cat "$TEST_TMP/listen.log")"
check_contains "a changed value reaches the other node" 'changed light {"on":true}' "$(cat "$TEST_TMP/listen.log")"
out=$(probe a "$KEY" take 0c01 sleep 300)
if grep -q '^lost' <<<"$out"; then fail "a node ignores its own take" "$out"; else pass "a node ignores its own take"; fi

# ---- values that do not open --------------------------------------------------
probe a "$KEY" create 0d01 0 60000 create 0d02 0 60000 >/dev/null
rcli SET coaps:s:0d01 garbage >/dev/null
out=$(probe a "$KEY" fetch 0d01 stats)
check_eq "garbage in Redis: malformed, counted" "fetch malformed|stats 1 0 1 0 0" "$(paste -sd'|' <<<"$out")"
rcli EVAL "return redis.call('SET', KEYS[2], redis.call('GET', KEYS[1]))" 2 coaps:s:0d02 coaps:s:0d03 >/dev/null
out=$(probe a "$KEY" fetch 0d03 fetch 0d02)
check_eq "a sealed value copied under another key: malformed" "fetch malformed|fetch ok record" "$(paste -sd'|' <<<"$out")"
out=$(probe c "$KEY2" fetch 0d02 stats)
check_eq "a value sealed under another state key: malformed" "fetch malformed|stats 1 0 1 0 0" "$(paste -sd'|' <<<"$out")"
rcli SET coaps:v:light "$(head -c 40 /dev/urandom | base64)" >/dev/null
check_eq "a shared value damaged: malformed" "value-get malformed" "$(probe a "$KEY" value-get light)"

# ---- a primary turned replica (a failover): reconnect, not stuck -------------------
rcli REPLICAOF 127.0.0.1 1 >/dev/null
timeout 30 "$PROBE" --node a "$URI" "$KEY" create 0f01 0 60000 sleep 800 create 0f01 0 60000 \
    >"$TEST_TMP/ro.out" 2>"$TEST_TMP/ro.err" &
ro=$!
sleep 0.4
rcli REPLICAOF NO ONE >/dev/null
wait "$ro" || true
check_eq "a read-only replica: io, then working again once it is primary" \
    "create io|create ok 1 0 65536" "$(paste -sd'|' "$TEST_TMP/ro.out")"
# marked down (to connect again, to wherever the name leads now), not kept
check_contains "a read-only replica: marked down, one line naming it" "READONLY" \
    "$(grep 'down, retrying' "$TEST_TMP/ro.err")"
check_contains "a read-only replica: connected again" "up again" "$(cat "$TEST_TMP/ro.err")"

# ---- Redis killed, then back ------------------------------------------------------
probe a "$KEY" create 0e01 0 600000 >/dev/null
"$PROBE" --node a "$URI" "$KEY" poll 0e01 4000 stats >"$TEST_TMP/poll.out" 2>"$TEST_TMP/poll.err" &
pp=$!
TEST_PIDS+=("$pp")
sleep 0.8
kill -9 "$REDIS_PID"
wait "$REDIS_PID" 2>/dev/null || true
sleep 1
start_redis
probe a "$KEY" create 0e01 0 600000 >/dev/null # a fresh Redis lost it
wait "$pp" || true
poll=$(grep '^poll' "$TEST_TMP/poll.out" || true)
log "killed: $poll"
io=$(sed -n 's/.* io=\([0-9]*\).*/\1/p' <<<"$poll")
max_io=$(sed -n 's/.*max_io_us=\([0-9]*\).*/\1/p' <<<"$poll")
back=$(sed -n 's/.*back_ms=\(-\{0,1\}[0-9]*\).*/\1/p' <<<"$poll")
reconnects=$(awk '$1 == "stats" { print $5 }' "$TEST_TMP/poll.out")
if [ "${io:-0}" -gt 0 ] && [ "${max_io:-999999}" -lt 300000 ]; then
    pass "Redis killed: calls fail with COAPS_E_IO at once ($io calls, slowest $max_io us)"
else
    fail "Redis killed: calls fail at once" "$poll"
fi
if [ "${back:--1}" -ge 0 ] && [ "${reconnects:-0}" -ge 1 ]; then
    pass "Redis restarted: the node reconnects after its back-off (working again at $back ms, $reconnects reconnect)"
else
    fail "Redis restarted: the node reconnects" "$poll; stats $(grep '^stats' "$TEST_TMP/poll.out")"
fi
lines=$(grep -c 'down, retrying' "$TEST_TMP/poll.err" || true)
check_eq "one log line for the outage" 1 "$lines"

# ---- Redis hung (SIGSTOP): the time limits hold ------------------------------------
"$PROBE" --node a "$URI" "$KEY" poll 0e01 3000 >"$TEST_TMP/poll2.out" 2>/dev/null &
pp=$!
TEST_PIDS+=("$pp")
sleep 0.5
kill -STOP "$REDIS_PID"
sleep 1.2
kill -CONT "$REDIS_PID"
wait "$pp" || true
poll=$(cat "$TEST_TMP/poll2.out")
log "stopped: $poll"
max=$(sed -n 's/.* max_us=\([0-9]*\).*/\1/p' <<<"$poll")
io=$(sed -n 's/.* io=\([0-9]*\).*/\1/p' <<<"$poll")
back=$(sed -n 's/.*back_ms=\(-\{0,1\}[0-9]*\).*/\1/p' <<<"$poll")
# connect (200 ms) + one command (100 ms) at most, with room for ASan
if [ "${io:-0}" -gt 0 ] && [ "${max:-999999999}" -lt 450000 ] && [ "${back:--1}" -ge 0 ]; then
    pass "Redis hung: no call blocks past the time limits (slowest $max us), back after"
else
    fail "Redis hung: the time limits hold" "$poll"
fi

# ---- a Redis that wants AUTH ---------------------------------------------------------
# requirepass for the default user, and a Redis 6 ACL user of its own; the
# password from the URI (percent-encoded) or from COAPS_STORE_PASSWORD, never
# in a log line.
AUTH_PORT=""
for _ in 1 2 3 4 5; do
    AUTH_PORT=$(free_udp_port)
    start_bg redis-auth redis-server --port "$AUTH_PORT" --bind 127.0.0.1 --save '' \
        --appendonly no --requirepass 'def@ult:pw' --user coaps on '>node/pw' '~coaps:*' \
        '&coaps:*' +@all
    for _ in $(seq 50); do
        REDISCLI_AUTH='def@ult:pw' redis-cli -p "$AUTH_PORT" ping 2>/dev/null | grep -q PONG && break 2
        kill -0 "$LAST_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill "$LAST_PID" 2>/dev/null || true
done
REDISCLI_AUTH='def@ult:pw' redis-cli -p "$AUTH_PORT" ping 2>/dev/null | grep -q PONG ||
    die "redis-server with requirepass does not start (see $TEST_TMP/redis-auth.log)"
aprobe() {
    local rc=0
    timeout 30 "$PROBE" --node a "$1" "$KEY" create "$2" 0 60000 fetch "$2" \
        2>"$TEST_TMP/aprobe.err" || rc=$?
    cat "$TEST_TMP/aprobe.err" >>"$TEST_TMP/aprobe-all.err"
    return "$rc"
}
out=$(aprobe "redis://127.0.0.1:$AUTH_PORT/1" 1a01 || true)
check_eq "no password: refused" "create io|fetch io" "$(tr '\n' '|' <<<"$out" | sed 's/|$//')"
check_contains "no password: the log says why" "NOAUTH" "$(cat "$TEST_TMP/aprobe.err")"
out=$(aprobe "redis://:wrong@127.0.0.1:$AUTH_PORT/1" 1a02 || true)
check_eq "a wrong password: refused" "create io|fetch io" "$(tr '\n' '|' <<<"$out" | sed 's/|$//')"
check_contains "a wrong password: the log says AUTH" "AUTH: WRONGPASS" "$(cat "$TEST_TMP/aprobe.err")"
out=$(aprobe "redis://:def%40ult%3Apw@127.0.0.1:$AUTH_PORT/1" 1a03)
check_eq "the default user's password in the URI" "create ok 1 0 65536|fetch ok record" \
    "$(tr '\n' '|' <<<"$out" | sed 's/|$//')"
out=$(COAPS_STORE_PASSWORD='def@ult:pw' aprobe "redis://127.0.0.1:$AUTH_PORT/1" 1a04)
check_eq "the password from COAPS_STORE_PASSWORD" "create ok 1 0 65536|fetch ok record" \
    "$(tr '\n' '|' <<<"$out" | sed 's/|$//')"
out=$(aprobe "redis://coaps:node%2Fpw@127.0.0.1:$AUTH_PORT/1" 1a05)
check_eq "an ACL user" "create ok 1 0 65536|fetch ok record" "$(tr '\n' '|' <<<"$out" | sed 's/|$//')"
out=$(aprobe "redis://coaps:wrong@127.0.0.1:$AUTH_PORT/1" 1a06 || true)
check_eq "an ACL user, wrong password: refused" "create io|fetch io" \
    "$(tr '\n' '|' <<<"$out" | sed 's/|$//')"
if grep -q 'node/pw\|node%2Fpw\|def@ult:pw\|def%40ult\|wrong' "$TEST_TMP/aprobe-all.err"; then
    fail "no password in the log" "$(cat "$TEST_TMP/aprobe-all.err")"
else
    pass "no password in the log"
fi

finish
