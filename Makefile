# The two commands a newcomer needs (see README.md):
#   make run     install what is missing, build, start the light server
#   make check   install what is missing, build with ASan+UBSan, run every test
# Other targets: build, fuzz (long campaign), bench, install, clean.

JOBS        ?= $(shell nproc 2>/dev/null || echo 2)
RELEASE_DIR ?= build/release
CHECK_DIR   ?= build/check
SERVER_ARGS ?=
FUZZ_SECONDS ?= 600

.PHONY: all run check deps build build-check fuzz bench install clean

all: build

deps:
	@bash scripts/install-deps

build: deps
	cmake -S . -B $(RELEASE_DIR) -DCMAKE_BUILD_TYPE=Release -DCOAPS_TESTS=OFF
	cmake --build $(RELEASE_DIR) -j $(JOBS)

run: build
	@bash scripts/run-server $(RELEASE_DIR) $(SERVER_ARGS)

build-check: deps
	cmake -S . -B $(CHECK_DIR) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
	      -DCOAPS_SANITIZE=ON -DCOAPS_FUZZ=ON
	cmake --build $(CHECK_DIR) -j $(JOBS)

# The release build (gcc, as `make run` uses) is part of check so that a
# warning only gcc sees cannot break `make run`.
check: build build-check
	ctest --test-dir $(CHECK_DIR) --output-on-failure -j $(JOBS)

# A long fuzzing campaign (not part of check): FUZZ_SECONDS per harness.
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
