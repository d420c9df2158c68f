#!/usr/bin/env bash
# Runs the fuzz targets of a bundle (fuzz/bundle.sh) on any x86-64 Linux machine: each
# target through the carried dynamic loader and libraries, one target after the other, each
# on every core (FUZZ_JOBS processes, default nproc, sharing one corpus folder, with
# different seeds from FUZZ_SEED_BASE + 1) until FUZZ_RUNS executions in all (default
# 10,000,000), or FUZZ_SECONDS seconds when that is set and comes first. Writes per target:
# executions, seconds, exec/s and findings to results.txt (also printed); crash, leak,
# timeout and out-of-memory inputs go to findings/TARGET/, each process's log to logs/.
# FUZZ_KEEP=DIR keeps the corpus a run grows in DIR/TARGET/ and starts from it again, so a
# later run on another machine (or after a time limit) goes on where this one stopped.
# Exits 1 if anything was found.
#   ./run-bundle.sh [TARGET...]
set -uo pipefail
cd "$(dirname "$0")"
runs=${FUZZ_RUNS:-10000000}
seconds=${FUZZ_SECONDS:-}
jobs=${FUZZ_JOBS:-$(nproc)}
seed_base=${FUZZ_SEED_BASE:-0}  # a second run takes other seeds than the first
mkdir -p findings logs
[ -d bin ] || tar -xzf payload.tar.gz  # bin/ and lib/, packed by bundle.sh

run_target() {
  local name=$1 max_len=$2 dict=$3 work i start end
  mkdir -p "findings/$name"
  if [ -n "${FUZZ_KEEP:-}" ]; then
    work=$FUZZ_KEEP/$name; mkdir -p "$work"  # grown corpus, kept for the next run
  else
    work=$(mktemp -d)  # new corpus entries, shared by the processes, deleted after
  fi
  local args=(-max_len="$max_len" -artifact_prefix="findings/$name/" -print_final_stats=1
              -rss_limit_mb=2048 -timeout=10)
  [ "$dict" != - ] && args+=(-dict="dict/$dict.dict")
  args+=(-runs=$(((runs + jobs - 1) / jobs)))
  [ -n "$seconds" ] && args+=(-max_total_time="$seconds")
  local before
  before=$(ls "findings/$name" | wc -l)
  start=$(date +%s.%N)
  for ((i = 0; i < jobs; i++)); do
    ./lib/ld-linux-x86-64.so.2 --library-path ./lib "./bin/${name}_fuzz" "${args[@]}" -seed=$((seed_base + i + 1)) \
      "$work" "corpus/$name" </dev/null >"logs/$name.$seed_base.$i.log" 2>&1 &
  done
  local failed=0
  for ((i = 0; i < jobs; i++)); do wait -n || failed=$((failed + 1)); done
  end=$(date +%s.%N)
  [ -n "${FUZZ_KEEP:-}" ] || rm -rf "$work"
  local executed found=no
  executed=$(cat "logs/$name.$seed_base".*.log | sed -n 's/^stat::number_of_executed_units: *//p' |
             awk '{ s += $1 } END { print s + 0 }')
  if [ "$failed" -gt 0 ] || [ "$(ls "findings/$name" | wc -l)" -gt "$before" ]; then
    found="YES: $(($(ls "findings/$name" | wc -l) - before)) in findings/$name, $failed process(es) failed (logs/$name.$seed_base.*.log)"
  fi
  awk -v n="$name" -v e="$executed" -v s="$start" -v t="$end" -v f="$found" 'BEGIN {
    d = t - s; printf "%-18s %12d %9.0f %10.0f  %s\n", n, e, d, (d > 0 ? e / d : 0), f }' |
    tee -a results.txt
  [ "$found" = no ]
}

selected=" $* "
{ echo "# $(date -u +%FT%TZ) $(uname -n): $jobs processes a target," \
       "$runs runs${seconds:+ or $seconds s} a target, seeds from $((seed_base + 1))"
  printf "%-18s %12s %9s %10s  %s\n" target executions seconds "exec/s" findings; } | tee -a results.txt
status=0
while read -r name max_len dict; do
  [[ -z "$name" || "$name" == \#* ]] && continue
  [ $# -gt 0 ] && [[ "$selected" != *" $name "* ]] && continue
  run_target "$name" "$max_len" "$dict" || status=1
done <targets.txt
exit $status
