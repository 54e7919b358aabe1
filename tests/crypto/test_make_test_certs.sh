#!/usr/bin/env bash
# test_make_test_certs.sh - scripts/make-test-certs works with the Debian 12
# openssl (3.0), is idempotent, writes every file the tests use, and the
# PKI unit tests pass on a set made fresh today (not only on the committed
# fixtures of tests/crypto/certs/).
set -euo pipefail
. "$COAPS_SOURCE_DIR/scripts/lib/common.sh"

out="$TEST_TMP/certs"
timeout 60 "$COAPS_SOURCE_DIR/scripts/make-test-certs" "$out" 2>/dev/null ||
    die "make-test-certs failed"
# idempotent: a second run over the same directory succeeds, same names
ls "$out" >"$TEST_TMP/first"
timeout 60 "$COAPS_SOURCE_DIR/scripts/make-test-certs" "$out" 2>/dev/null ||
    die "second make-test-certs run failed"
ls "$out" >"$TEST_TMP/second"
cmp -s "$TEST_TMP/first" "$TEST_TMP/second" || die "file set changed between runs"

# the fresh set has every file the committed one has (bar the README)
for f in "$COAPS_SOURCE_DIR"/tests/crypto/certs/*; do
    b=$(basename "$f")
    [ "$b" = README.md ] && continue
    [ -s "$out/$b" ] || die "fresh set lacks $b"
done
# expired.pem really lies in the past
openssl x509 -in "$out/expired.pem" -noout -checkend 0 >/dev/null 2>&1 &&
    die "expired.pem is not expired"
openssl x509 -in "$out/server.pem" -noout -checkend $((19 * 365 * 86400)) >/dev/null ||
    die "server.pem is not valid for ~20 years"

for t in crypto_test_crypto_x509 crypto_test_crypto_sig; do
    bin="$COAPS_BUILD_DIR/$t"
    [ -x "$bin" ] || die "$bin not built"
    COAPS_CERTS_DIR="$out" timeout 120 "$bin" >"$TEST_TMP/$t.log" 2>&1 || {
        cat "$TEST_TMP/$t.log" >&2
        die "$t failed on the fresh certificates"
    }
    log "$t passed on fresh certificates"
done
log "PASS"
