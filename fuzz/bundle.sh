#!/usr/bin/env bash
# Packs the libFuzzer build (`make fuzz`) into OUTDIR so that the targets run on another
# x86-64 Linux machine without clang or Debian's libraries: the targets (debug info
# stripped, symbols kept: a finding's stack trace, printed as module+offset there without
# llvm-symbolizer (100 MB of libLLVM), is read back here with `llvm-symbolizer --obj`), every shared library they load and the dynamic
# loader itself (these two packed in payload.tar.gz), the corpora, dictionaries and
# targets.txt, and OUTDIR/run-bundle.sh.
#   fuzz/bundle.sh OUTDIR [BUILD_DIR]
# On the other machine: cd OUTDIR && FUZZ_RUNS=10000000 ./run-bundle.sh [TARGET...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: fuzz/bundle.sh OUTDIR [BUILD_DIR]}
build=${2:-$root/build/fuzz}
rm -rf "$out"/corpus "$out"/dict  # no seeds of an earlier bundle
mkdir -p "$out"/corpus "$out"/dict
out=$(cd "$out" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/bin "$stage"/lib

for bin in "$build"/bin/*_fuzz; do
  strip --strip-debug -o "$stage/bin/$(basename "$bin")" "$bin"
  # "name => /path (addr)", or "/lib64/ld-linux-x86-64.so.2 (addr)" for the loader; not the vdso
  ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
done | sort -u | while read -r lib; do
  cp -L "$lib" "$stage/lib/$(basename "$lib")"
done
[ -e "$stage/lib/ld-linux-x86-64.so.2" ] || { echo "bundle.sh: no dynamic loader found" >&2; exit 1; }
cp -r "$root"/fuzz/corpus/. "$out/corpus/"
cp "$root"/fuzz/dict/*.dict "$out/dict/"
cp "$root"/fuzz/targets.txt "$out/"
cp "$root"/fuzz/run-bundle.sh "$out/"
# Compressed (77 MB plain, 24 MB so) to stay far under the 64 MiB a bundle may take with it;
# run-bundle.sh unpacks it on its first run.
rm -rf "$out"/bin "$out"/lib
tar -C "$stage" -czf "$out/payload.tar.gz" bin lib
du -sh "$out"
