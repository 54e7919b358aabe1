#!/usr/bin/env bash
# test_install.sh - `cmake --install` gives a usable library: headers, the
# static and shared libraries, a CMake package (find_package(coaps)) and a
# pkg-config file. Builds the README's example server both ways against the
# installed copy and talks to it with libcoap's client.
set -euo pipefail
: "${COAPS_BUILD_DIR:?}" "${COAPS_SOURCE_DIR:?}"

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

prefix=$work/prefix
cmake --install "$COAPS_BUILD_DIR" --prefix "$prefix" >/dev/null
for f in include/coaps/coap.h include/coaps/dtls.h include/coaps/status.h include/coaps/peer.h; do
  [ -e "$prefix/$f" ] || fail "install is missing $f"
done
for f in libcoaps.a libcoaps.so coaps.pc coapsConfig.cmake; do
  [ -n "$(find "$prefix" -name "$f")" ] || fail "install is missing $f"
done
pcdir=$(dirname "$(find "$prefix" -name coaps.pc)")
libdir=$(dirname "$(find "$prefix" -name libcoaps.a)")

# The build under test may be instrumented; the consumer must use the same flags.
flags=""
if grep -q 'COAPS_SANITIZE:BOOL=ON' "$COAPS_BUILD_DIR/CMakeCache.txt"; then
  flags="-fsanitize=address,undefined"
fi
if grep -q 'COAPS_FUZZ:BOOL=ON' "$COAPS_BUILD_DIR/CMakeCache.txt"; then
  flags="$flags -fsanitize=fuzzer-no-link"
fi
cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$COAPS_BUILD_DIR/CMakeCache.txt")

# 1. find_package(coaps)
cmake -S "$COAPS_SOURCE_DIR/tests/install" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$prefix" \
      -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" >/dev/null \
  || fail "find_package(coaps) consumer does not configure"
cmake --build "$work/consumer" >/dev/null || fail "find_package(coaps) consumer does not build"

# 2. pkg-config, linking the shared library
PKG_CONFIG_PATH=$pcdir pkg-config --exists coaps || fail "pkg-config does not find coaps"
# shellcheck disable=SC2046,SC2086
"$cc" $flags -o "$work/hello_pc" "$COAPS_SOURCE_DIR/tests/install/hello_server.c" \
  $(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs coaps) -lcrypto \
  -Wl,-rpath,"$libdir" || fail "pkg-config consumer does not build"
# ldd's output read whole: grep -q stopping early can SIGPIPE ldd (pipefail)
grep -q "$libdir/libcoaps.so" <<<"$(ldd "$work/hello_pc")" || fail "pkg-config consumer is not linked with the installed libcoaps.so"

export ASAN_OPTIONS=detect_leaks=0
for bin in "$work/consumer/hello_server" "$work/hello_pc"; do
  port=$("$COAPS_BUILD_DIR/freeport")
  "$bin" "$port" 1 > "$work/out" 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do grep -q listening "$work/out" && break; sleep 0.1; done
  got=$(timeout 10 coap-client-notls -B 5 "coap://127.0.0.1:$port/hello") || fail "$bin: no answer"
  [ "$got" = "hello" ] || fail "$bin answered '$got', want 'hello'"
  echo "ok: $(basename "$bin") answers GET /hello"
done
echo "install test: 2 passed, 0 failed"
