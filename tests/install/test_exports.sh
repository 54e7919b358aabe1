#!/usr/bin/env bash
# test_exports.sh - libcoaps.so and libcoaps.a export exactly the public API:
# every defined global symbol of either library is a function that a header
# in include/coaps/ (or include/coap3/, the libcoap 4.3 API) declares with
# COAPS_API, and every such declaration is exported. Then a program that calls an internal function (json_validate,
# from src/common) must fail to link against either library: the internals
# cannot collide with another library's names or be relied upon.
set -euo pipefail
: "${COAPS_BUILD_DIR:?}" "${COAPS_SOURCE_DIR:?}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

so=$COAPS_BUILD_DIR/libcoaps.so
ar=$COAPS_BUILD_DIR/libcoaps.a
[ -e "$so" ] && [ -e "$ar" ] || fail "build the libraries first ($so, $ar)"

# The API: the name before '(' on every COAPS_API line of the headers.
grep -h '^COAPS_API ' "$COAPS_SOURCE_DIR"/include/coaps/*.h "$COAPS_SOURCE_DIR"/include/coap3/*.h \
  | sed -E 's/^COAPS_API [^(]*[ *]([a-z_][a-z0-9_]*)\(.*/\1/' | sort -u > "$work/api"
[ "$(wc -l < "$work/api")" -gt 50 ] || fail "found only $(wc -l < "$work/api") COAPS_API declarations"

# A COAPS_FUZZ build's coverage instrumentation makes the linker define the
# bounds of its sections (__start___sancov_cntrs, ...) in the .so: not API,
# and absent from a normal build.
nm -D --defined-only "$so" | awk 'NF == 3 { print $3 }' \
  | grep -Ev '^__(start|stop)___sancov_[a-z]+$' | sort -u > "$work/libcoaps.so"
nm -g --defined-only "$ar" | awk 'NF == 3 { print $3 }' | sort -u > "$work/libcoaps.a"

status=0
for lib in libcoaps.so libcoaps.a; do
  extra=$(comm -13 "$work/api" "$work/$lib")
  missing=$(comm -23 "$work/api" "$work/$lib")
  if [ -n "$extra" ]; then
    echo "FAIL: $lib exports $(echo "$extra" | wc -l) symbols no public header declares COAPS_API:" >&2
    echo "$extra" | head -20 | sed 's/^/  /' >&2
    status=1
  fi
  if [ -n "$missing" ]; then
    echo "FAIL: $lib lacks declared API:" >&2
    echo "$missing" | sed 's/^/  /' >&2
    status=1
  fi
  if [ -z "$extra$missing" ]; then
    echo "ok: $lib exports the $(wc -l < "$work/api") public functions and nothing else"
  fi
done
[ "$status" = 0 ] || exit 1

# An internal function is out of reach of a program linking either library.
cat > "$work/reach.c" <<'C'
#include <stddef.h>
#include <stdint.h>
int json_validate(const uint8_t *buf, size_t len, int *kind);
int main(void) { int k; return json_validate((const uint8_t *)"1", 1, &k); }
C
cat > "$work/public.c" <<'C'
#include <coaps/status.h>
#include <stdio.h>
int main(void) { puts(coaps_status_str(COAPS_OK)); return 0; }
C
cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$COAPS_BUILD_DIR/CMakeCache.txt")
flags=""
grep -q 'COAPS_SANITIZE:BOOL=ON' "$COAPS_BUILD_DIR/CMakeCache.txt" && flags="-fsanitize=address,undefined"
grep -q 'COAPS_FUZZ:BOOL=ON' "$COAPS_BUILD_DIR/CMakeCache.txt" && flags="$flags -fsanitize=fuzzer-no-link"
libs=-lcrypto
mbed=$(sed -n 's/^COAPS_MBEDTLS_PREFIX:[A-Z]*=//p' "$COAPS_BUILD_DIR/CMakeCache.txt")
if grep -q '^COAPS_CRYPTO:[A-Z]*=psa' "$COAPS_BUILD_DIR/CMakeCache.txt"; then
  libs="-L$mbed/lib -lmbedx509 -lmbedcrypto -leverest -lp256m -lpthread"
fi
# the cluster's session store talks to Redis through hiredis (coaps.pc:
# Requires.private: hiredis)
libs="$libs -lhiredis"
for lib in "$ar" "$so"; do
  # shellcheck disable=SC2086
  "$cc" $flags -I"$COAPS_SOURCE_DIR/include" -o "$work/public" "$work/public.c" "$lib" $libs \
    -Wl,-rpath,"$COAPS_BUILD_DIR" || fail "a program calling the public API does not link against $lib"
  ASAN_OPTIONS=detect_leaks=0 "$work/public" | grep -q ok || fail "public program linked with $lib does not run"
  # shellcheck disable=SC2086
  if "$cc" $flags -o "$work/reach" "$work/reach.c" "$lib" $libs 2> "$work/err"; then
    fail "a program calling the internal json_validate links against $lib"
  fi
  grep -q "undefined reference to .json_validate" "$work/err" \
    || { cat "$work/err" >&2; fail "linking json_validate against $lib failed for another reason"; }
  echo "ok: the internal json_validate is not reachable through $(basename "$lib")"
done
