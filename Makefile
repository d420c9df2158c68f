# The two commands of the README. Both install what is missing first (tools/install-deps.sh).
#   make demo   release build, then duetd + duet-router + duet-sim engines, and a curl to try
#   make test   ASan+UBSan build, then every test through ctest
BUILD_RELEASE ?= build/release
BUILD_TEST    ?= build/test
JOBS          ?= $(shell nproc)

.PHONY: all deps build demo test clean

all: build

deps:
	@tools/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD_RELEASE) -G Ninja -DCMAKE_BUILD_TYPE=Release -DDUET_BUILD_TESTS=OFF >/dev/null
	@cmake --build $(BUILD_RELEASE) -j $(JOBS)

demo: build
	@tools/demo.sh $(BUILD_RELEASE)/bin

test: deps
	@cmake -S . -B $(BUILD_TEST) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DDUET_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD_TEST) -j $(JOBS)
	@ctest --test-dir $(BUILD_TEST) --output-on-failure -j $(JOBS)

clean:
	rm -rf build .demo
