#!/usr/bin/env bash
# test_hello_server.sh - the README's library example (examples/hello-server,
# public headers only) answers libcoap's clients: GET /hello over coap:// and
# over coaps:// with a PSK (coap-client-openssl), a wrong PSK is refused,
# both with coaps_server_run() and with the program's own poll(2) loop on
# coaps_server_fd()/coaps_server_timeout_ms(); SIGTERM stops it with status 0.
set -euo pipefail
. "${COAPS_SOURCE_DIR:?}/scripts/lib/common.sh"
need_program coap-client-notls
need_program coap-client-openssl
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}

EXAMPLE=$COAPS_BUILD_DIR/hello-server
[ -x "$EXAMPLE" ] || die "missing $EXAMPLE (build the examples)"

for mode in run own-loop; do
  for try in 1 2 3 4 5; do
    port=$(free_udp_port)
    port2=$((port + 1))
    args=("$port" client1 secretPSK)
    [ "$mode" = own-loop ] && args+=(--own-loop)
    start_bg "hello-$mode" "$EXAMPLE" "${args[@]}"
    pid=$LAST_PID
    wait_for_line "$TEST_TMP/hello-$mode.log" "listening on coaps://" 5 && break
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    log "example did not start (try $try): $(cat "$TEST_TMP/hello-$mode.log")"
  done
  got=$(timeout 10 coap-client-notls -B 5 "coap://127.0.0.1:$port/hello" 2>/dev/null || true)
  check_eq "$mode: GET coap://.../hello" "hello" "$got"
  got=$(timeout 10 coap-client-openssl -B 5 -u client1 -k secretPSK \
        "coaps://127.0.0.1:$port2/hello" 2>/dev/null || true)
  check_eq "$mode: GET coaps://.../hello with the PSK" "hello" "$got"
  got=$(timeout 10 coap-client-openssl -B 3 -u client1 -k wrongPSK \
        "coaps://127.0.0.1:$port2/hello" 2>&1 || true)
  check_contains "$mode: a wrong PSK ends in bad_record_mac" "bad record mac" "$got"
  case "$got" in *hello*) fail "$mode: a wrong PSK got the resource" ;; esac
  got=$(timeout 10 coap-client-notls -B 5 "coap://127.0.0.1:$port/nothing" 2>&1 || true)
  check_contains "$mode: unknown resource is 4.04" "4.04" "$got"
  kill -TERM "$pid"
  rc=0
  timeout 5 tail --pid="$pid" -f /dev/null || rc=$?
  wait "$pid" 2>/dev/null && status=0 || status=$?
  check_eq "$mode: SIGTERM stops the example cleanly" "0 0" "$rc $status"
done
finish
