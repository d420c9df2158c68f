#!/usr/bin/env bash
# Runs the fuzz targets of fuzz/targets.txt under libFuzzer (the build of `make fuzz`), in
# parallel over the cores, each for FUZZ_RUNS executions (default 10,000,000) or, when set,
# FUZZ_SECONDS seconds. New corpus entries go to a temporary folder that is deleted after;
# crashes, leaks, timeouts and out-of-memory inputs stay in BUILD/findings/TARGET/, with the
# run's log beside them. Prints per target: executions, seconds, executions a second, and
# whether something was found; exits 1 if anything was.
#   fuzz/run.sh [BUILD_DIR [TARGET...]]
# FUZZ_JOBS: targets run at once (default: the number of cores).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build/fuzz}" && pwd)
shift || true
runs=${FUZZ_RUNS:-10000000}
seconds=${FUZZ_SECONDS:-}
jobs=${FUZZ_JOBS:-$(nproc)}
# Stack traces with function names and lines, from whichever llvm-symbolizer is installed.
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ]; then
  ASAN_SYMBOLIZER_PATH=$(command -v llvm-symbolizer-15 || command -v llvm-symbolizer || true)
  export ASAN_SYMBOLIZER_PATH
fi

run_target() {
  local name=$1 max_len=$2 dict=$3
  local bin=$build/bin/${name}_fuzz findings=$build/findings/$name work
  mkdir -p "$findings"
  work=$(mktemp -d)
  local args=(-max_len="$max_len" -artifact_prefix="$findings/" -print_final_stats=1
              -rss_limit_mb=2048 -timeout=10)
  [ "$dict" != - ] && args+=(-dict="$root/fuzz/dict/$dict.dict")
  if [ -n "$seconds" ]; then args+=(-max_total_time="$seconds"); else args+=(-runs="$runs"); fi
  local start end rc before
  before=$(ls "$findings" | wc -l)  # findings of earlier runs stay; only new ones count
  start=$(date +%s.%N)
  nice -n 10 "$bin" "${args[@]}" "$work" "$root/fuzz/corpus/$name" >"$findings.log" 2>&1
  rc=$?
  end=$(date +%s.%N)
  rm -rf "$work"
  local executed found=no
  executed=$(sed -n 's/^stat::number_of_executed_units: *//p' "$findings.log" | tail -1)
  if [ "$rc" -ne 0 ] || [ "$(ls "$findings" | wc -l)" -gt "$before" ]; then
    found="YES ($findings, rc $rc)"
  fi
  awk -v n="$name" -v e="${executed:-0}" -v s="$start" -v t="$end" -v f="$found" 'BEGIN {
    d = t - s; printf "%-18s %12d %9.0f %10.0f  %s\n", n, e, d, (d > 0 ? e / d : 0), f }' \
    >"$findings.result"
}

mkdir -p "$build/findings"
selected=("$@")
names=()
while read -r name max_len dict; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  if [ ${#selected[@]} -gt 0 ] && [[ ! " ${selected[*]} " == *" $name "* ]]; then continue; fi
  [ -x "$build/bin/${name}_fuzz" ] || { echo "run.sh: $build/bin/${name}_fuzz is not built" >&2; exit 2; }
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
  rm -f "$build/findings/$name.result"
  run_target "$name" "$max_len" "$dict" &
  names+=("$name")
done <"$root/fuzz/targets.txt"
wait

printf "%-18s %12s %9s %10s  %s\n" target executions seconds "exec/s" finding
status=0
for name in "${names[@]}"; do
  cat "$build/findings/$name.result"
  grep -q ' YES ' "$build/findings/$name.result" && status=1
done
exit $status
