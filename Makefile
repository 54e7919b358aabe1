# The two commands a newcomer needs (see README.md):
#   make run     install what is missing, build, start the light server
#   make check   install what is missing, build with ASan+UBSan, run every test
# Other targets: build, fuzz (long campaign), bench, install, clean,
#   firmware (the light as RISC-V firmware, docs/firmware.md), run-firmware.
# CRYPTO=psa builds on the PSA Crypto backend (Mbed TLS 3.6) instead of
# OpenSSL: `make build CRYPTO=psa` puts every program in build/release-psa.

JOBS        ?= $(shell nproc 2>/dev/null || echo 2)
CRYPTO      ?= openssl
ifeq ($(CRYPTO),openssl)
RELEASE_DIR ?= build/release
else
RELEASE_DIR ?= build/release-$(CRYPTO)
endif
CHECK_DIR   ?= build/check
CHECK_PSA_DIR ?= build/check-psa
# both suites in one ctest run (cmake/CoapsTests.cmake: locks per backend)
CHECK_ALL_DIR ?= build/check-all
SERVER_ARGS ?=
FIRMWARE_DIR ?= build/firmware
FIRMWARE_PKI_DIR ?= build/firmware-pki
FIRMWARE_ARGS ?=
FIRMWARE_PKI ?=
FUZZ_SECONDS ?= 600

.PHONY: all run check deps build build-check build-check-psa fuzz bench install clean \
        firmware run-firmware

all: build

deps:
	@bash scripts/install-deps

build: deps
	cmake -S . -B $(RELEASE_DIR) -DCMAKE_BUILD_TYPE=Release -DCOAPS_TESTS=OFF -DCOAPS_CRYPTO=$(CRYPTO)
	cmake --build $(RELEASE_DIR) -j $(JOBS)

run: build
	@bash scripts/run-server $(RELEASE_DIR) $(SERVER_ARGS)

build-check: deps
	cmake -S . -B $(CHECK_DIR) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
	      -DCOAPS_SANITIZE=ON -DCOAPS_FUZZ=ON -DCOAPS_CRYPTO=openssl
	cmake --build $(CHECK_DIR) -j $(JOBS)

build-check-psa: deps
	cmake -S . -B $(CHECK_PSA_DIR) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
	      -DCOAPS_SANITIZE=ON -DCOAPS_FUZZ=ON -DCOAPS_CRYPTO=psa
	cmake --build $(CHECK_PSA_DIR) -j $(JOBS)

# The whole suite runs once per crypto backend, the two in one ctest run
# (build/check-all holds only a CTestTestfile naming both trees), so that
# the two suites' scripted tests overlap. The release builds (gcc, as `make
# run` uses) are part of check so that a warning only gcc sees cannot break
# `make run` on either backend.
check: build build-check build-check-psa firmware
	$(MAKE) build CRYPTO=psa
	@mkdir -p $(CHECK_ALL_DIR)
	@printf 'subdirs("%s" "%s")\n' "$(abspath $(CHECK_DIR))" "$(abspath $(CHECK_PSA_DIR))" \
	    > $(CHECK_ALL_DIR)/CTestTestfile.cmake
	ctest --test-dir $(CHECK_ALL_DIR) --output-on-failure -j $(JOBS)

# The light as bare-metal RISC-V firmware for QEMU's virt board, cross-built
# in its own CMake tree (docs/firmware.md), twice: the PSK light (the
# default, which must stay within its budget: 64 KiB flash, 16 KiB RAM) in
# FIRMWARE_DIR, and the ECDHE-ECDSA build (FW_PKI: a certificate in flash,
# and PSK) in FIRMWARE_PKI_DIR; prints both footprint tables. Their Mbed
# TLS libraries (PSA crypto) are cross-built once and cached by
# scripts/install-mbedtls-rv32 (--pki for the second).
firmware: deps
	@bash scripts/install-mbedtls-rv32 >/dev/null
	@bash scripts/install-mbedtls-rv32 --pki >/dev/null
	cmake -S firmware -B $(FIRMWARE_DIR) -DFW_PKI=OFF -DCMAKE_TOOLCHAIN_FILE=$(CURDIR)/cmake/riscv32-toolchain.cmake
	cmake --build $(FIRMWARE_DIR) -j $(JOBS)
	cmake -S firmware -B $(FIRMWARE_PKI_DIR) -DFW_PKI=ON -DCMAKE_TOOLCHAIN_FILE=$(CURDIR)/cmake/riscv32-toolchain.cmake
	cmake --build $(FIRMWARE_PKI_DIR) -j $(JOBS)
	@bash scripts/firmware-footprint --title "coaps-light, ECDHE-ECDSA and PSK: $(FIRMWARE_PKI_DIR)" \
	    $(FIRMWARE_PKI_DIR)/coaps-light.map
	@bash scripts/firmware-footprint --title "coaps-light, PSK: $(FIRMWARE_DIR)" \
	    --budget 65536 16384 $(FIRMWARE_DIR)/coaps-light.map

# QEMU and the host bridge (built by `make build`): coap:// on 127.0.0.1:5683,
# coaps:// on 5684 (PSK: hint CoAP, key esp32c3_key, DEMO credentials; with
# FIRMWARE_PKI=1 the ECDHE-ECDSA build, with the test certificates of
# tests/crypto/certs as well).
ifeq ($(FIRMWARE_PKI),1)
FIRMWARE_RUN_DIR = $(FIRMWARE_PKI_DIR)
else
FIRMWARE_RUN_DIR = $(FIRMWARE_DIR)
endif
run-firmware: firmware build
	@bash scripts/run-firmware --firmware $(FIRMWARE_RUN_DIR)/coaps-light.elf \
	    --bridge $(RELEASE_DIR)/coaps-bridge $(FIRMWARE_ARGS)

# A long fuzzing campaign (not part of check): every corpus replayed, then
# FUZZ_SECONDS per harness, one after the other (docs/fuzzing.md; new finds
# go to build/fuzz/fuzz-corpus/, crashes to crash-* in build/fuzz).
fuzz: deps
	cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
	      -DCOAPS_SANITIZE=ON -DCOAPS_FUZZ=ON -DCOAPS_FUZZ_SECONDS=$(FUZZ_SECONDS)
	cmake --build build/fuzz -j $(JOBS)
	ctest --test-dir build/fuzz -L fuzz --output-on-failure

# Side-by-side benchmark against libcoap (a few minutes); see bench/README.md.
bench: build
	bench/compare --build $(RELEASE_DIR)

install: build
	cmake --install $(RELEASE_DIR)

clean:
	rm -rf build
