#!/usr/bin/env bash
# test_pki_bad_files.sh - a key or certificate the crypto backend cannot use
# is a one-line error naming the file and the reason, and the program exits
# non-zero (issue 11, item 6). The expected lines are fixed here, so every
# crypto backend must say exactly the same thing.
set -euo pipefail
. "$COAPS_SOURCE_DIR/scripts/lib/common.sh"

C="$COAPS_SOURCE_DIR/tests/crypto/certs"
SERVER="$COAPS_BUILD_DIR/coaps-server"
CLIENT="$COAPS_BUILD_DIR/coaps-client"
[ -x "$SERVER" ] && [ -x "$CLIENT" ] || die "coaps-server/coaps-client not built in $COAPS_BUILD_DIR"

G="$TEST_TMP/garbage.pem"
echo "not a PEM file" >"$G"
E="$TEST_TMP/encrypted.key"
openssl pkey -in "$C/server.key" -aes128 -passout pass:secret -out "$E" 2>/dev/null ||
    die "openssl could not make an encrypted key"

# expect WHAT EXPECTED-LINE PROGRAM ARGS...: the program fails with exactly
# one line on stderr, and it is EXPECTED-LINE.
expect() {
    local what=$1 want=$2
    shift 2
    local rc=0
    timeout 10 "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err" </dev/null || rc=$?
    if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ]; then
        fail "$what: exit status $rc, wanted a failure"
        return
    fi
    if [ "$(wc -l <"$TEST_TMP/err")" -ne 1 ] || [ "$(cat "$TEST_TMP/err")" != "$want" ]; then
        fail "$what: stderr was:"
        sed 's/^/    /' "$TEST_TMP/err" >&2
        echo "  wanted: $want" >&2
        return
    fi
    pass "$what"
}

srv=(--no-coap -p 0)
expect "missing key file" \
    "coaps-server: certificates: /nonexistent/server.key: No such file or directory" \
    "$SERVER" "${srv[@]}" -c "$C/server.pem" -j /nonexistent/server.key
expect "P-384 key" \
    "coaps-server: certificates: $C/p384-server.key: key must be EC P-256" \
    "$SERVER" "${srv[@]}" -c "$C/p384-server.pem" -j "$C/p384-server.key"
expect "RSA key" \
    "coaps-server: certificates: $C/rsa-leaf.key: key must be EC P-256" \
    "$SERVER" "${srv[@]}" -c "$C/rsa-leaf.pem" -j "$C/rsa-leaf.key"
expect "key of another certificate" \
    "coaps-server: certificates: private key $C/client.key does not match the certificate $C/server.pem" \
    "$SERVER" "${srv[@]}" -c "$C/server.pem" -j "$C/client.key"
expect "garbage key file" \
    "coaps-server: certificates: $G: no private key (PRIVATE KEY or EC PRIVATE KEY block)" \
    "$SERVER" "${srv[@]}" -c "$C/server.pem" -j "$G"
expect "encrypted key" \
    "coaps-server: certificates: $E: encrypted private keys are not supported" \
    "$SERVER" "${srv[@]}" -c "$C/server.pem" -j "$E"
expect "garbage certificate file" \
    "coaps-server: certificates: $G: no CERTIFICATE block" \
    "$SERVER" "${srv[@]}" -c "$G" -j "$C/server.key"
expect "garbage CA file" \
    "coaps-server: certificates: $G: no CERTIFICATE or PUBLIC KEY block" \
    "$SERVER" "${srv[@]}" -c "$C/server.pem" -j "$C/server.key" -C "$G"
expect "garbage raw public key file" \
    "coaps-server: certificates: $G: no CERTIFICATE or PUBLIC KEY block" \
    "$SERVER" "${srv[@]}" -j "$C/server.key" --rpk-trust "$G"
expect "client: key of another certificate" \
    "coaps-client: certificates: private key $C/client.key does not match the certificate $C/server.pem" \
    "$CLIENT" -c "$C/server.pem" -j "$C/client.key" coaps://127.0.0.1/light
expect "client: missing CA file" \
    "coaps-client: certificates: /nonexistent/ca.pem: No such file or directory" \
    "$CLIENT" -C /nonexistent/ca.pem coaps://127.0.0.1/light
finish
