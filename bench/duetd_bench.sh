#!/usr/bin/env bash
# SPEC §9, duetd's two targets, measured with real processes (issue 7, scenario 8):
#   1. apply → Ready for one duet-sim replica (target ≤ 1 s)
#   2. SIGKILL duetd with N running replicas (default 100), start it again: time until every
#      replica is adopted and Ready again, with no pid changed (target ≤ 1 s, no restart)
# Usage: bench/duetd_bench.sh [BIN_DIR] [REPLICAS] [ROUNDS]; prints one line per round and
# the medians. BIN_DIR defaults to build/release/bin (`make build`).
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

top="$(cd "$(dirname "$0")/.." && pwd)"
bin="$(cd "${1:-$top/build/release/bin}" && pwd)"
replicas="${2:-100}"
rounds="${3:-5}"
work="$(mktemp -d /tmp/duet-bench.XXXXXX)"
export PATH="$bin:$PATH" DUET_SERVER="unix:$work/duetd.sock"
duetd_pid=""

cleanup() {
  [ -n "$duetd_pid" ] && { kill -9 "$duetd_pid"; wait "$duetd_pid"; } 2>/dev/null || true
  pkill -9 -f "duet-sim --port 42[0-9][0-9][0-9] " 2>/dev/null || true  # engines of this run's port range
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

now_ms() { date +%s%3N; }

start_duetd() {
  setsid duetd --api "$DUET_SERVER" --state-dir "$work/state" --port-range 42000-42999 \
    --log-level warn 2>>"$work/duetd.log" &
  duetd_pid=$!
  until [ -S "$work/duetd.sock" ] && duetctl get engines >/dev/null 2>&1; do sleep 0.005; done
}

manifest() {  # $1: deployment name, $2: replicas
  deployment_head "$1" "$2"
  cat <<YAML
  template:
    command: [duet-sim, --port, "\${PORT}", --ttft-ms, "0", --tpot-ms, "0"]
    readinessProbe: {httpGet: {path: /health}, periodSeconds: 2}
    terminationGracePeriodSeconds: 5
YAML
}

ready_count() { duetctl get engines | awk '$4 == "Ready"' | wc -l; }
pids() { duetctl get engines -o wide | awk 'NR > 1 {print $1, $8}' | sort; }
wait_ready() {  # $1: count; polls every 5 ms
  until [ "$(ready_count)" -ge "$1" ]; do sleep 0.005; done
}
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
start_duetd
apply_ms=()
for r in $(seq 1 "$rounds"); do
  manifest one 1 >"$work/one.yaml"
  t0=$(now_ms)
  duetctl apply -f "$work/one.yaml" >/dev/null
  wait_ready 1
  apply_ms+=($(( $(now_ms) - t0 )))
  duetctl delete deployment one >/dev/null
  until [ "$(duetctl get engines | wc -l)" -le 1 ]; do sleep 0.01; done
  echo "round $r: apply -> Ready ${apply_ms[-1]} ms"
done

manifest many "$replicas" >"$work/many.yaml"
duetctl apply -f "$work/many.yaml" >/dev/null
wait_ready "$replicas"
adopt_ms=()
for r in $(seq 1 "$rounds"); do
  before="$(pids)"
  { kill -9 "$duetd_pid"; wait "$duetd_pid"; } 2>/dev/null || true
  t0=$(now_ms)
  start_duetd
  wait_ready "$replicas"
  adopt_ms+=($(( $(now_ms) - t0 )))
  after="$(pids)"
  same=$([ "$before" = "$after" ] && echo yes || echo NO)
  echo "round $r: SIGKILL + restart with $replicas replicas -> all Ready ${adopt_ms[-1]} ms, pids unchanged: $same"
  [ "$same" = yes ] || exit 1
done
echo "median apply -> Ready: $(printf '%s\n' "${apply_ms[@]}" | median) ms (target <= 1000)"
echo "median restart -> $replicas adopted and Ready: $(printf '%s\n' "${adopt_ms[@]}" | median) ms (target <= 1000)"
duetctl delete deployment many >/dev/null
