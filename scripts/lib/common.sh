# common.sh - shared helpers for the scripted tests (tests/*/test_*.sh).
# Source it after `set -euo pipefail`:
#   . "$COAPS_SOURCE_DIR/scripts/lib/common.sh"
#
# Everything a test starts goes through start_bg, which records the PID;
# the EXIT trap kills exactly those PIDs (never by name) and removes the
# test's temporary directory. Every wait has a timeout.

: "${COAPS_BUILD_DIR:?COAPS_BUILD_DIR must point at the build directory}"
: "${COAPS_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"

TEST_NAME=$(basename "$0" .sh)
TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/coaps-$TEST_NAME.XXXXXX")
TEST_PIDS=()
TEST_FAILS=0
TEST_PASSES=0

cleanup() {
    local pid
    for pid in "${TEST_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${TEST_PIDS[@]}"; do
        # give each a moment to exit, then insist
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$TEST_TMP"
}
trap cleanup EXIT

log() { printf '%s: %s\n' "$TEST_NAME" "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }

# A missing peer program fails the test (a skipped interop test would
# pass silently): install it with scripts/install-deps.
need_program() {
    command -v "$1" >/dev/null 2>&1 || die "$1 not found (run scripts/install-deps)"
}

# pass NAME / fail NAME DETAIL: record one check.
pass() { TEST_PASSES=$((TEST_PASSES + 1)); log "PASS $1"; }
fail() { TEST_FAILS=$((TEST_FAILS + 1)); log "FAIL $1${2:+: $2}"; }

# check_eq NAME EXPECTED ACTUAL
check_eq() {
    if [ "$2" == "$3" ]; then pass "$1"; else fail "$1" "expected [$2], got [$3]"; fi
}

# check_contains NAME NEEDLE HAYSTACK
check_contains() {
    if [[ "$3" == *"$2"* ]]; then pass "$1"; else fail "$1" "[$2] not in [$3]"; fi
}

# finish: exit non-zero if any check failed (call at the end).
finish() {
    log "$TEST_PASSES passed, $TEST_FAILS failed"
    [ "$TEST_FAILS" -eq 0 ]
}

# free_udp_port: a UDP port free on loopback now (tests/tools/freeport).
free_udp_port() {
    "$COAPS_BUILD_DIR/freeport"
}

# start_bg NAME CMD...: run CMD in the background, output in
# $TEST_TMP/NAME.log, PID in $TEST_TMP/NAME.pid and in $LAST_PID.
start_bg() {
    local name=$1; shift
    "$@" >"$TEST_TMP/$name.log" 2>&1 &
    LAST_PID=$!
    TEST_PIDS+=("$LAST_PID")
    echo "$LAST_PID" >"$TEST_TMP/$name.pid"
}

# stop_bg NAME: kill the process started as NAME and wait for it.
stop_bg() {
    local pid
    pid=$(cat "$TEST_TMP/$1.pid")
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# wait_for_line FILE PATTERN SECONDS: until grep -q PATTERN FILE succeeds.
wait_for_line() {
    local file=$1 pattern=$2 deadline=$((SECONDS + $3))
    while [ $SECONDS -lt $deadline ]; do
        grep -q -- "$pattern" "$file" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# wait_udp_port PORT SECONDS: until something listens on UDP PORT.
wait_udp_port() {
    local port=$1 deadline=$((SECONDS + $2))
    while [ $SECONDS -lt $deadline ]; do
        ss -Huln "sport = :$port" 2>/dev/null | grep -q . && return 0
        sleep 0.1
    done
    return 1
}

# start_coaps_server NAME ARGS...: start our server on a free port (retried
# when another process takes the port first), wait for its "listening"
# line; sets SERVER_PORT and SERVER_PID.
start_coaps_server() {
    local name=$1; shift
    local try
    for try in 1 2 3 4 5; do
        SERVER_PORT=$(free_udp_port)
        start_bg "$name" "$COAPS_BUILD_DIR/coaps-server" -p "$SERVER_PORT" "$@"
        SERVER_PID=$LAST_PID
        if wait_for_line "$TEST_TMP/$name.log" "listening on" 10; then
            return 0
        fi
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        log "server did not start (try $try): $(cat "$TEST_TMP/$name.log")"
    done
    die "could not start coaps-server"
}
