#!/usr/bin/env bash
# Installs the Debian packages duet builds, tests and demos with. Idempotent and quiet
# when everything is present: `make demo` and `make test` both call it first.
# --test adds what only `make test` needs (a browser); --bench what only `make bench` needs
# (the peers, the load generator, jq); --fuzz what only `make fuzz` needs (clang and
# libFuzzer: GCC has no coverage-guided fuzzing). They combine: `--bench --test` adds both.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev libssl-dev libyaml-cpp-dev nlohmann-json3-dev libjwt-dev
  prometheus-cpp-dev libsystemd-dev libgtest-dev libgmock-dev libbenchmark-dev
  libboost-program-options1.81-dev  # every program's command line (libboost1.81-dev is headers only)
  libsimdjson-dev  # duet-router: request bodies read at GB/s (SPEC §9: a decision in 2 µs)
  curl openssl procps
  systemd lintian  # the package's tests: systemd-analyze, sysusers, tmpfiles; lintian (~7 MB)
  testssl.sh  # router_testssl_test: the router's TLS listener seen by an outside scanner (~3 MB)
  lld  # make test: links the sanitized test binaries in 40 % of GNU ld's time
  # duet-kubelet-plugin: kubelet's device-plugin API is gRPC (v1beta1); the .proto is
  # compiled at build time by Debian's protoc and grpc_cpp_plugin
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  # its tier-1 test: a fake kubelet in Python on the same .proto (grpc_python_plugin is in
  # protobuf-compiler-grpc); tier 2 builds kubelet's own device manager with Debian's Go
  python3-grpcio python3-protobuf golang-1.19-go
  libjs-chart.js  # the dashboard's charts, embedded in duetd and duetctl at build time (~1 MB)
)
for flag in "$@"; do
  case "$flag" in
    --bench)
      # util-linux: taskset; strace and valgrind: the profile scenario
      packages+=(nginx-light haproxy wrk jq util-linux strace valgrind)
      # bench/scheduling's plots (TTFT CDFs as PNG beside RESULTS.md); -nox: no X11 libraries
      packages+=(gnuplot-nox)
      ;;
    --test)
      # the dashboard's browser test drives Debian's Chromium headless (DevTools over a pipe)
      packages+=(chromium)
      ;;
    --fuzz)
      packages+=(clang-15 libfuzzer-15-dev)
      ;;
    *)
      echo "install-deps: unknown flag $flag (--bench, --test, --fuzz)" >&2
      exit 2
      ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
