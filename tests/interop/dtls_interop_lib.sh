# dtls_interop_lib.sh - shared helpers of the DTLS interop scripts
# (sourced, not a test itself). Every peer started is killed by PID in the
# EXIT trap; every wait is bounded.

set -u
BUILD=${COAPS_BUILD_DIR:?COAPS_BUILD_DIR not set}
ECHO_BIN=$BUILD/dtls-echo
[ -x "$ECHO_BIN" ] || { echo "FAIL: $ECHO_BIN not built"; exit 1; }

# Peers are ended by signal; leak checking belongs to the unit and fuzz
# tests (LeakSanitizer's exit-time scan can stall under ptrace limits).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}

WORK=$(mktemp -d /tmp/coaps-dtls-interop.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && stop_pid "$p"; done
    rm -rf "$WORK"
}
trap cleanup EXIT

PASS=0
FAILS=0
SKIPS=0
pass() { echo "PASS: $*"; PASS=$((PASS + 1)); }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
skip() { echo "SKIP: $*"; SKIPS=$((SKIPS + 1)); }

# A free UDP port on 127.0.0.1 (bind to port 0 and ask the kernel).
free_port() {
    python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Wait until something listens on UDP port $1 (at most ~5 s).
wait_udp() {
    for _ in $(seq 50); do
        ss -Hlun "sport = :$1" 2>/dev/null | grep -q . && return 0
        sleep 0.1
    done
    return 1
}

# Stop a peer started as `timeout N prog &`: TERM to it and its child, a
# bounded wait, then KILL.
stop_pid() {
    local kids
    kids=$(ps -o pid= --ppid "$1" 2>/dev/null)
    kill "$1" $kids 2>/dev/null
    for _ in $(seq 30); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$1" $kids 2>/dev/null
    wait "$1" 2>/dev/null
    return 0
}

# GnuTLS's priority name of a suite's bulk cipher, from the IANA suite name
# (what follows _WITH_ is the same for the PSK and ECDHE_ECDSA suites).
gnutls_cipher() {
    case ${1#*_WITH_} in
    AES_128_CCM_8) echo AES-128-CCM-8 ;;
    AES_128_CCM) echo AES-128-CCM ;;
    AES_128_GCM_SHA256) echo AES-128-GCM ;;
    AES_256_GCM_SHA384) echo AES-256-GCM ;;
    CHACHA20_POLY1305_SHA256) echo CHACHA20-POLY1305 ;;
    esac
}

PSK_ID=interop-client
PSK_TEXT=coaps-interop-psk
PSK_HEX=$(printf '%s' "$PSK_TEXT" | od -An -tx1 | tr -d ' \n')
HINT=coaps-hint
# A long server_name makes our ClientHello larger than 256 bytes, so at
# --mtu 256 it goes out in fragments (RFC 6347 4.2.3).
LONG_SNI=$(printf 'a%.0s' $(seq 200)).example
LONG_HINT=$(printf 'h%.0s' $(seq 128)) # COAPS_DTLS_PSK_HINT_MAX

IANA_SUITES="TLS_PSK_WITH_AES_128_CCM_8 TLS_PSK_WITH_AES_128_CCM TLS_PSK_WITH_AES_128_GCM_SHA256 TLS_PSK_WITH_AES_256_GCM_SHA384 TLS_PSK_WITH_CHACHA20_POLY1305_SHA256"

# ---- certificates (test_dtls_pki_*.sh) ------------------------------------
CERTS=${COAPS_SOURCE_DIR:?COAPS_SOURCE_DIR not set}/tests/crypto/certs
ECDHE_SUITES="TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 TLS_ECDHE_ECDSA_WITH_AES_128_CCM TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"
# our dtls-echo flags for each side (tests/crypto/certs/README.md)
ECHO_SERVER_CERT=(--cert "$CERTS/server.pem" -j "$CERTS/server.key")
ECHO_CLIENT_CERT=(--cert "$CERTS/client.pem" -j "$CERTS/client.key")
