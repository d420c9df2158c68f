# The two commands of the README. Both install what is missing first (tools/install-deps.sh).
#   make demo     release build, then duetd + duet-router + duet-sim engines, and a curl to try
#   make test     ASan+UBSan build, then every test through ctest
#   make package  release build, then the Debian package build/release/duet_<version>_amd64.deb
#   make bench    release build with the bench tools, then bench/run.sh → bench/RESULTS.md
#   make fuzz     clang + libFuzzer build of fuzz/ only, then every target for FUZZ_RUNS
#                 executions (fuzz/README.md)
BUILD_RELEASE ?= build/release
BUILD_TEST    ?= build/test
BUILD_FUZZ    ?= build/fuzz
JOBS          ?= $(shell nproc)

.PHONY: all deps build demo test package bench fuzz clean

all: build

deps:
	@tools/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD_RELEASE) -G Ninja -DCMAKE_BUILD_TYPE=Release -DDUET_BUILD_TESTS=OFF -DDUET_WERROR=ON >/dev/null
	@cmake --build $(BUILD_RELEASE) -j $(JOBS)

demo: build
	@tools/demo.sh $(BUILD_RELEASE)/bin

test:
	@tools/install-deps.sh --test
	@cmake -S . -B $(BUILD_TEST) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DDUET_SANITIZE=ON -DDUET_WERROR=ON >/dev/null
	@cmake --build $(BUILD_TEST) -j $(JOBS)
	@ctest --test-dir $(BUILD_TEST) --output-on-failure -j $(JOBS)

package: build
	@cmake --build $(BUILD_RELEASE) --target package >/dev/null
	@ls $(BUILD_RELEASE)/duet_*_$(shell dpkg --print-architecture).deb

# The release build again, with DUET_BUILD_BENCH so that it has bench/'s tools too.
bench:
	@tools/install-deps.sh --bench
	@cmake -S . -B $(BUILD_RELEASE) -G Ninja -DCMAKE_BUILD_TYPE=Release -DDUET_BUILD_TESTS=OFF -DDUET_BUILD_BENCH=ON -DDUET_WERROR=ON >/dev/null
	@cmake --build $(BUILD_RELEASE) -j $(JOBS)
	@bench/run.sh $(BUILD_RELEASE)/bin

# Only the libraries the fuzz targets link, at low priority beside other builds; warnings
# are GCC's business (DUET_WERROR off for clang).
fuzz:
	@tools/install-deps.sh --fuzz
	@nice -n 10 cmake -S . -B $(BUILD_FUZZ) -G Ninja -DCMAKE_CXX_COMPILER=clang++-15 -DCMAKE_BUILD_TYPE= \
		-DDUET_FUZZ=ON -DDUET_BUILD_TESTS=OFF -DDUET_WERROR=OFF >/dev/null
	@nice -n 10 cmake --build $(BUILD_FUZZ) -j $(JOBS) --target duet_fuzz_targets
	@fuzz/run.sh $(BUILD_FUZZ)

clean:
	rm -rf build .demo
