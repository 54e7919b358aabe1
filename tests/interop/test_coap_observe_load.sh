#!/usr/bin/env bash
# test_coap_observe_load.sh - many observers of /light (RFC 7641): every
# registered observer is notified of a PUT, even when there are more
# observers than the core's default output queue (64); the observer table
# bound (--max-observers) is respected.
set -euo pipefail
. "${COAPS_SOURCE_DIR:?}/scripts/lib/common.sh"

OBSERVERS="$COAPS_BUILD_DIR/coap-observers"
CLIENT="$COAPS_BUILD_DIR/coaps-client"

# run_load NAME N: N observers, one PUT, output in $TEST_TMP/NAME.log
run_load() {
    start_bg "$1" timeout 30 "$OBSERVERS" -n "$2" -t 3000 127.0.0.1 "$SERVER_PORT" light
    local pid=$LAST_PID
    wait_for_line "$TEST_TMP/$1.log" "registered" 10 || die "observers did not register"
    timeout 10 "$CLIENT" -m put -e "{\"status\": false, \"load\": $2}" \
        "coap://127.0.0.1:$SERVER_PORT/light" || fail "$1 PUT"
    wait "$pid" || true
}

start_coaps_server big -A 127.0.0.1 --max-observers 200
run_load many 150
check_eq "150 observers answered" "registered 150" "$(grep registered "$TEST_TMP/many.log")"
check_eq "150 observers notified of one PUT" "notified 150" "$(grep notified "$TEST_TMP/many.log")"
stop_bg big

# one worker: the bound of one observer table (with workers each gets its
# share, and how 20 observers hash decides how many of the 10 are used)
start_coaps_server small -A 127.0.0.1 --workers 1 --max-observers 10
run_load over 20
check_eq "20 requests answered" "registered 20" "$(grep registered "$TEST_TMP/over.log")"
check_eq "only --max-observers 10 are notified" "notified 10" "$(grep notified "$TEST_TMP/over.log")"
stop_bg small

finish
