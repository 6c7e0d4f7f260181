# Partita: `make run` and `make test` are the two commands; both install what
# is missing (scripts/deps.sh), build into build/, then run.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
FUZZ_SECONDS ?= 60

.PHONY: all deps configure run test asan bench fuzz fuzz-smoke install clean

all: configure
	cmake --build $(BUILD) -j $(JOBS)

deps:
	@scripts/deps.sh

configure: deps
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

# The demo writes $(BUILD)/out.wav.
run: all
	cd $(BUILD) && ./partita run

test: all
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)
	@$(MAKE) --no-print-directory fuzz-smoke

# The whole suite again under AddressSanitizer and UBSan.
asan: deps
	@test -f build-asan/CMakeCache.txt || cmake -S . -B build-asan -DPARTITA_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
	cmake --build build-asan -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --test-dir build-asan --output-on-failure -j $(JOBS)

bench: all
	$(BUILD)/partita bench

# libFuzzer targets (clang), each run for FUZZ_SECONDS.
fuzz: deps
	@test -f build-fuzz/CMakeCache.txt || CC=clang cmake -S . -B build-fuzz -DPARTITA_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug
	cmake --build build-fuzz -j $(JOBS) --target fuzz_all
	scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS)

# The short bounded fuzz run that `make test` includes.
fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=10

# PREFIX=DIR installs there instead of the configured prefix (/usr/local).
install: all
	cmake --install $(BUILD) $(if $(PREFIX),--prefix $(PREFIX))

clean:
	rm -rf $(BUILD) build-asan build-fuzz
