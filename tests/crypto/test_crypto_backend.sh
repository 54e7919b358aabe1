#!/usr/bin/env bash
# test_crypto_backend.sh - the crypto backend is what the build was
# configured with and nothing else: a PSA build's programs do not load
# OpenSSL's libcrypto or libssl at all (issue 11: `ldd` of coaps-server),
# an OpenSSL build's do; and an unknown -DCOAPS_CRYPTO fails configure with
# a message that names the accepted backends.
set -euo pipefail
. "$COAPS_SOURCE_DIR/scripts/lib/common.sh"

backend=$(sed -n 's/^COAPS_CRYPTO:[A-Z]*=//p' "$COAPS_BUILD_DIR/CMakeCache.txt")
[ -n "$backend" ] || die "COAPS_CRYPTO not in $COAPS_BUILD_DIR/CMakeCache.txt"
log "backend: $backend"

for prog in coaps-server coaps-client dtls-echo; do
    bin="$COAPS_BUILD_DIR/$prog"
    [ -x "$bin" ] || die "$bin not built"
    ldd "$bin" >"$TEST_TMP/$prog.ldd" || die "ldd $bin failed"
    case "$backend" in
    psa)
        if grep -E 'lib(crypto|ssl)\.so' "$TEST_TMP/$prog.ldd"; then
            die "$prog of the PSA build loads OpenSSL"
        fi ;;
    openssl)
        grep -qE 'libcrypto\.so\.3' "$TEST_TMP/$prog.ldd" ||
            die "$prog of the OpenSSL build does not load libcrypto.so.3" ;;
    *) die "unknown backend '$backend' in the cache" ;;
    esac
done
log "programs link only the $backend backend's library"

# An unknown backend is refused at configure time, naming the accepted ones.
if cmake -S "$COAPS_SOURCE_DIR" -B "$TEST_TMP/bogus" -DCOAPS_CRYPTO=wolfssl \
         -DCOAPS_TESTS=OFF >"$TEST_TMP/bogus.log" 2>&1; then
    die "configure accepted COAPS_CRYPTO=wolfssl"
fi
grep -q 'COAPS_CRYPTO=wolfssl is not a crypto backend; accepted: openssl, psa' \
    "$TEST_TMP/bogus.log" || { cat "$TEST_TMP/bogus.log" >&2; die "no clear message for a bad COAPS_CRYPTO"; }
log "PASS"
