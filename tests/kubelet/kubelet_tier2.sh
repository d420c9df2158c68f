#!/usr/bin/env bash
# Tier 2: kubelet's real device manager (1.20.2, Debian's `kubernetes` source package, built
# in GOPATH mode by Debian's Go 1.19) drives duet-kubelet-plugin through
# zz_external_plugin_test.go. The deb-src entry is derived from this machine's own apt
# sources, never a hard-coded mirror; the source and Go's build cache stay in CACHE, so a
# second run compiles nothing (about 110 s cold on 2 cores, 0.7 GB).
# usage: kubelet_tier2.sh CACHE   (DP_* variables: see zz_external_plugin_test.go)
# Exit 77 (skipped) when the source or Go cannot be had; stdout says why.
set -euo pipefail
cache=$1
here=$(cd "$(dirname "$0")" && pwd)
skip() { echo "SKIP: $*"; exit 77; }

go=/usr/lib/go-1.19/bin/go
[ -x "$go" ] || skip "Debian's Go 1.19 ($go, package golang-1.19-go) is not installed"
mkdir -p "$cache"
src=$(ls -d "$cache"/kubernetes-1.20.2 2>/dev/null || true)
if [ -z "$src" ]; then
  apt="$cache/apt"
  mkdir -p "$apt/parts" "$apt/lists/partial" "$apt/cache/archives/partial"
  # This machine's own deb lines, as deb-src (deb822 .sources files and one-line .list files).
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && sed 's/^Types: deb$/Types: deb-src/' "$f" > "$apt/parts/$(basename "$f")"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] && sed -n 's/^deb /deb-src /p' "$f" > "$apt/parts/$(basename "$f")"
  done
  opts=(-o Dir::Etc::sourcelist=/dev/null -o "Dir::Etc::sourceparts=$apt/parts"
        -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o APT::Sandbox::User=root)
  apt-get "${opts[@]}" update -qq >/dev/null 2>&1 || skip "apt-get update of the deb-src entries failed"
  (cd "$cache" && apt-get "${opts[@]}" source --download-only kubernetes >/dev/null 2>&1) ||
    skip "apt-get source kubernetes failed (no deb-src for bookworm's kubernetes here)"
  tarball=$(ls "$cache"/kubernetes_1.20*.orig.tar.gz 2>/dev/null | head -1)
  [ -n "$tarball" ] || skip "the kubernetes source package is not 1.20 (bookworm's)"
  tar -C "$cache" -xzf "$tarball"
  src="$cache/kubernetes-1.20.2"
  [ -d "$src/pkg/kubelet/cm/devicemanager" ] || skip "no kubelet device manager in $tarball"
fi
mkdir -p "$cache/gopath/src/k8s.io"
ln -sfn "$src" "$cache/gopath/src/k8s.io/kubernetes"
cp "$here/zz_external_plugin_test.go" "$src/pkg/kubelet/cm/devicemanager/"
cd "$cache/gopath/src/k8s.io/kubernetes"
export GO111MODULE=off GOPATH="$cache/gopath" GOCACHE="$cache/gocache" GOPROXY=off CGO_ENABLED=0
# Kubernetes' own packages unoptimised (-N -l) and no vet: this test checks what the device
# manager does, not how fast; a cold build took 106 s on 2 cores instead of 154 s.
exec "$go" test -vet=off -gcflags="k8s.io/...=-N -l" -count=1 -run TestExternalPlugin -v \
  ./pkg/kubelet/cm/devicemanager/
