#!/usr/bin/env bash
# bench/scheduling: duet-router's scheduling policies side by side (issue 18's targets) on
# one pool of duet-sim engine models, 4 ascend-910b + 2 nvidia-h20, for three workloads.
# Every run starts the six engines afresh (no policy inherits another's cache), a fixed
# watch snapshot naming the Route with the policy under test, and one duet-router; then
# duet-bench-sched sends the workload and the engines' /metrics are read. Rounds are
# interleaved (round 1: every workload × policy, then round 2, ...); the report gives medians.
# Method, workloads and how KV was sized: bench/README.md ("bench/scheduling").
#
# Usage: bench/scheduling/run.sh [BIN_DIR]   (a release build's bin/ with duet-bench-sched)
# Settings (environment): ROUNDS (3), TIME_SCALE (10: the engines' clock runs 10× faster;
# every time reported is device time), SCHED_WORKLOADS ("shared-context shared-context-30
# shared-context-40 chat mixed-pools": a row named WORKLOAD-N is WORKLOAD at N requests/s),
# SCHED_POLICIES ("roundRobin leastRequest sessionAffinity prefix duet"), SCHED_SEED (1),
# SPILL_MARGIN_MS (the spill row's spill.marginMs, wall time: the default 100 ms ÷ TIME_SCALE),
# RESULTS (bench/RESULTS.md: its scheduling section is replaced, the rest kept), KEEP=1
# keeps the work folder. bench/run.sh sets SCHED_WORK (its own work folder's scheduling/)
# and SCHED_NO_RESULTS=1, and writes RESULTS.md itself.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BENCH=$(dirname "$HERE")
BIN=$(cd "${1:-$BENCH/../build/release/bin}" && pwd)
export PATH="$BIN:$PATH"
: "${ROUNDS:=3}" "${TIME_SCALE:=10}" "${SCHED_SEED:=1}" "${RESULTS:=$BENCH/RESULTS.md}"
: "${SCHED_WORKLOADS:=shared-context shared-context-30 shared-context-40 chat mixed-pools}"
: "${SCHED_POLICIES:=roundRobin leastRequest sessionAffinity prefix duet}"

source "$BENCH/lib/common.sh"
source "$BENCH/lib/processes.sh"  # started, stop_all

if [ -n "${SCHED_WORK:-}" ]; then
  SW=$SCHED_WORK
  mkdir -p "$SW"
else
  SW=$(mktemp -d /tmp/duet-sched.XXXXXX)
fi
cleanup() {
  stop_all
  if [ -z "${SCHED_WORK:-}" ]; then
    [ -n "${KEEP:-}" ] && log "work folder kept: $SW" || rm -rf "$SW"
  fi
}
trap cleanup EXIT

# The pool: names, devices, KV block sizes (Ascend deployments use 128, vLLM on GPUs 16).
ENGINES=(npu-0 npu-1 npu-2 npu-3 gpu-0 gpu-1)
declare -A PROFILE=([npu]=ascend-910b [gpu]=nvidia-h20) BLOCK=([npu]=128 [gpu]=16)
POOL_SPEC="ascend-910b:4:128,nvidia-h20:2:16"
BASE_PORT=18500 ROUTER_PORT=18510 ADMIN_PORT=18511
declare -A ENGINE_PORT
for i in "${!ENGINES[@]}"; do ENGINE_PORT[${ENGINES[$i]}]=$((BASE_PORT + 1 + i)); done
for port in "${ENGINE_PORT[@]}" $ROUTER_PORT $ADMIN_PORT; do
  port_free "$port" || { log "port $port is in use"; exit 1; }
done

# The workloads, in device time (README.md says why each number). DURATION: seconds of
# arrivals; the drain after them is as long again at most.
# shared-context runs at three loads, as llm-d's figures sweep 3-60 QPS: 20/s (prefill
# offered with every prefix hit: a quarter of the pool's), 30/s and 40/s (near saturation).
SHARED_CONTEXT="--groups 48 --users-per-group 6 --context-tokens 3000 --answer-tokens 48 --turns 3"
declare -A WORKLOAD_FLAGS=(
  [shared-context]="--rate 20 $SHARED_CONTEXT"
  [shared-context-30]="--rate 30 $SHARED_CONTEXT"
  [shared-context-40]="--rate 40 $SHARED_CONTEXT"
  [chat]="--rate 12 --chat-users 64 --prompt-median 150 --prompt-sigma 1.0 --prompt-max 3000 --answer-median 64 --answer-sigma 0.8 --answer-max 512 --turns-mean 4"
  [mixed-pools]="--rate 16 --large-rate 0.8 --burst-at 25 --burst-for 20 --burst-rate 60 --small-min 300 --small-max 1200 --large-min 3000 --large-max 6000 --small-answer 16 --large-answer 32"
)
declare -A DURATION=([shared-context]=80 [shared-context-30]=80 [shared-context-40]=80 [chat]=80 [mixed-pools]=70)
# KV sized from the workload's demand (shared-context and chat: demand = 75 % of the pool);
# mixed-pools keeps what the devices hold (its prompts share nothing).
declare -A KV_FILL=([shared-context]=0.75 [shared-context-30]=0.75 [shared-context-40]=0.75 [chat]=0.75)
kind_of() { echo "${1%-[0-9]*}"; }  # a row's workload: shared-context-30 → shared-context
THRESHOLD_TOKENS=2048  # mixed-pools: the Route's size threshold (duet's estimate)
# The router's own times are wall time: each is divided by TIME_SCALE so that it means the
# same device time as at full speed. spill.marginMs: docs/scheduling.md's default, 100 ms;
# the engines' /metrics read every 50 ms of device time, but not more often than every 10 ms
# of wall time (the router's floor).
: "${SPILL_MARGIN_MS:=$(awk -v f="$TIME_SCALE" 'BEGIN {printf "%d", 100 / f + 0.5}')}"
SCRAPE_INTERVAL_MS=$(awk -v f="$TIME_SCALE" 'BEGIN {v = int(50 / f + 0.5); print (v < 10 ? 10 : v)}')

record() { printf 'scheduling\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$SW/results.tsv"; }

# The per-workload KV blocks of each device, from duet-bench-sched --plan.
declare -A KV_BLOCKS
plan_workload() {  # plan_workload WORKLOAD
  local w=$1 line
  line=$(duet-bench-sched --workload "$(kind_of "$w")" ${WORKLOAD_FLAGS[$w]} --duration "${DURATION[$w]}" \
    --seed "$SCHED_SEED" --plan --pool "$POOL_SPEC" --kv-fill "${KV_FILL[$w]:-1}")
  echo "$w $line" >>"$SW/plans.txt"
  log "plan $w: $line"
  set -- $line
  while [ $# -ge 2 ]; do
    case $1 in
      kv_blocks_ascend-910b) KV_BLOCKS[$w-npu]=$2 ;;
      kv_blocks_nvidia-h20) KV_BLOCKS[$w-gpu]=$2 ;;
    esac
    shift 2
  done
}

declare -A ENGINE_PIDS
start_engines() {  # start_engines WORKLOAD: the six engines, empty caches
  local w=$1 name kind kv
  for name in "${ENGINES[@]}"; do
    kind=${name%%-*}
    kv=()
    [ -n "${KV_FILL[$w]:-}" ] && kv=(--kv-blocks "${KV_BLOCKS[$w-$kind]}")
    duet-sim --port "${ENGINE_PORT[$name]}" --name "$name" --model bench --profile "${PROFILE[$kind]}" \
      --block-size "${BLOCK[$kind]}" "${kv[@]}" --time-scale "$TIME_SCALE" --max-connections 4096 \
      --log-level warn 2>>"$SW/$name.log" &
    started $!
    ENGINE_PIDS[$name]=$!
  done
  for name in "${ENGINES[@]}"; do wait_port "${ENGINE_PORT[$name]}"; done
}

engine_json() {  # engine_json NAME DEPLOYMENT
  printf '{"name": "%s", "deployment": "%s", "version": "v1", "track": "stable", "state": "Ready", "ready": true, "endpoint": "127.0.0.1:%s"}' \
    "$1" "$2" "${ENGINE_PORT[$1]}"
}

# The watch snapshot: one Route with the policy under test. shared-context and chat: one
# deployment of all six engines; mixed-pools: size routing, small prompts to the 910Bs,
# large ones to the H20s. POLICY is a policy name, or duet-spill-off / duet-spill-on (spill
# settings), duet-kv0 (duet without its KV term) or duet-cp0 (without its cache pressure term).
write_snapshot() {  # write_snapshot WORKLOAD POLICY FILE
  local w=$1 policy=$2 more="" dest engines="" name sep=""
  case $policy in
    duet-spill-off) policy=duet more=', "spill": {"enabled": false}' ;;
    duet-spill-on) policy=duet more=", \"spill\": {\"enabled\": true, \"marginMs\": $SPILL_MARGIN_MS}" ;;
    duet-kv0) policy=duet more=', "weights": {"kvUtilization": 0}' ;;  # a diagnostic, not in the default rows
    duet-cp0) policy=duet more=', "weights": {"cachePressure": 0}' ;;  # duet before it placed new prefixes by it
  esac
  local scheduling="{\"policy\": \"$policy\", \"sessionHeader\": \"x-session-id\"$more}"
  if [ "$w" = mixed-pools ]; then
    dest="\"sizeRouting\": {\"thresholdTokens\": $THRESHOLD_TOKENS, \"small\": \"npu\", \"large\": \"gpu\"}"
    for name in "${ENGINES[@]}"; do engines+="$sep$(engine_json "$name" "${name%%-*}")"; sep=", "; done
    deployments='{"kind": "EngineDeployment", "metadata": {"name": "npu"}, "status": {"canaryWeight": 0}},
  {"kind": "EngineDeployment", "metadata": {"name": "gpu"}, "status": {"canaryWeight": 0}}'
  else
    dest='"backend": "pool"'
    for name in "${ENGINES[@]}"; do engines+="$sep$(engine_json "$name" pool)"; sep=", "; done
    deployments='{"kind": "EngineDeployment", "metadata": {"name": "pool"}, "status": {"canaryWeight": 0}}'
  fi
  cat >"$3" <<EOF
{"resourceVersion": 1, "runtimeclasses": [],
 "routes": [
  {"apiVersion": "duet/v1alpha1", "kind": "Route", "metadata": {"name": "sched"},
   "spec": {"match": {"pathPrefix": "/v1/"}, $dest, "scheduling": $scheduling}}],
 "deployments": [
  $deployments],
 "engines": [$engines]}
EOF
}

# Starts the source and duet-router for WORKLOAD and POLICY; returns 3 when the router does
# not know the spill settings (the two spill rows are then not run).
start_router() {  # start_router WORKLOAD POLICY
  local i spill
  write_snapshot "$1" "$2" "$SW/snapshot.json"
  rm -f "$SW/sched.sock"
  duet-bench-source "$SW/sched.sock" "$SW/snapshot.json" 2>>"$SW/source.log" &
  started $!
  until [ -S "$SW/sched.sock" ]; do sleep 0.01; done
  cat >"$SW/router.yaml" <<EOF
listen:
  - {address: "127.0.0.1:$ROUTER_PORT"}
admin: "127.0.0.1:$ADMIN_PORT"
threads: 1
scheduling: {scrapeIntervalMs: $SCRAPE_INTERVAL_MS}
sources:
  - unix:$SW/sched.sock
EOF
  duet-router --config "$SW/router.yaml" --log-level warn 2>>"$SW/router.log" &
  started $!
  ROUTER_PID=$!
  for i in $(seq 1 500); do
    curl -sf -o /dev/null "http://127.0.0.1:$ADMIN_PORT/readyz" && break
    sleep 0.02
  done
  curl -sf "http://127.0.0.1:$ADMIN_PORT/config" >"$SW/config.json" ||
    { log "duet-router did not start: $(tail -3 "$SW/router.log")"; return 1; }
  if [[ $2 == duet-spill-* ]]; then
    spill=$(jq -r '.routes[0].spec.scheduling | has("spill")' "$SW/config.json")
    [ "$spill" = true ] || return 3
  fi
  return 0
}

metric_of() {  # metric_of PORT METRIC: its value (summed over labels), 0 when absent
  curl -sf "http://127.0.0.1:$1/metrics" |
    awk -v m="$2" '$1 == m || index($1, m "{") == 1 {v += $2} END {printf "%.0f\n", v}'
}
engine_metric() { metric_of "${ENGINE_PORT[$1]}" "$2"; }  # engine_metric NAME METRIC
machine_busy() {  # jiffies busy and all, from /proc/stat
  awk '/^cpu / {busy = $2 + $3 + $4 + $7 + $8; all = busy + $5 + $6; print busy, all}' /proc/stat
}

# One workload under one policy: fresh engines, source and router; the load; the metrics.
sched_run() {  # sched_run WORKLOAD POLICY ROUND
  local w=$1 p=$2 r=$3 rc=0 line name before after busy0 all0 busy1 all1 hz cpu_pct max_pct sum_pct
  start_engines "$w"
  start_router "$w" "$p" || rc=$?
  if [ "$rc" -ne 0 ]; then
    stop_all
    if [ "$rc" -eq 3 ]; then
      record "$w" "$p" "$r" not_run spill
      log "$w $p round $r: not run (the router's Route has no spill settings: not on main yet)"
      return 0
    fi
    exit 1
  fi
  hz=$(getconf CLK_TCK)
  declare -A ticks0
  for name in "${ENGINES[@]}"; do ticks0[$name]=$(cpu_ticks "${ENGINE_PIDS[$name]}"); done
  before=$(cpu_ticks "$ROUTER_PID")
  read -r busy0 all0 < <(machine_busy)
  rm -f "$SW/requests.part"
  line=$(duet-bench-sched --to "127.0.0.1:$ROUTER_PORT" --workload "$(kind_of "$w")" ${WORKLOAD_FLAGS[$w]} \
    --duration "${DURATION[$w]}" --seed "$SCHED_SEED" --time-scale "$TIME_SCALE" \
    --label "$p" --round "$r" --out "$SW/requests.part") || { log "$w $p round $r: the load generator failed"; stop_all; return 0; }
  # Its requests under the row's name (the client writes the workload's), one header in all.
  awk -F'\t' -v OFS='\t' -v w="$w" -v header="$([ -s "$SW/requests.tsv" ] && echo 0 || echo 1)" \
    'FNR == 1 {if (header) print; next} {$1 = w; print}' "$SW/requests.part" >>"$SW/requests.tsv"
  read -r busy1 all1 < <(machine_busy)
  after=$(cpu_ticks "$ROUTER_PID")
  set -- $line
  local wall=0
  while [ $# -ge 2 ]; do
    record "$w" "$p" "$r" "$1" "$2"
    [ "$1" = wall_s ] && wall=$2
    shift 2
  done
  cpu_pct() { awk -v t="$1" -v hz="$hz" -v w="$wall" 'BEGIN {printf "%.1f", (w > 0 ? 100 * t / hz / w : 0)}'; }
  record "$w" "$p" "$r" router_cpu_pct "$(cpu_pct $((after - before)))"
  max_pct=0 sum_pct=0
  local hits=0 queries=0 preempt=0 v
  for name in "${ENGINES[@]}"; do
    v=$(cpu_pct $(($(cpu_ticks "${ENGINE_PIDS[$name]}") - ${ticks0[$name]})))
    max_pct=$(awk -v a="$max_pct" -v b="$v" 'BEGIN {print (b > a ? b : a)}')
    sum_pct=$(awk -v a="$sum_pct" -v b="$v" 'BEGIN {print a + b}')
    hits=$((hits + $(engine_metric "$name" vllm:prefix_cache_hits_total)))
    queries=$((queries + $(engine_metric "$name" vllm:prefix_cache_queries_total)))
    preempt=$((preempt + $(engine_metric "$name" vllm:num_preemptions_total)))
  done
  # The router's own view: spills, and its estimated hit rate (chunks the picked engine held
  # by the index) under the prefix policies. Absent from an older router: recorded as 0.
  local spills chunks matched
  spills=$(metric_of "$ADMIN_PORT" duet_router_spills_total)
  chunks=$(metric_of "$ADMIN_PORT" duet_router_prefix_chunks_total)
  matched=$(metric_of "$ADMIN_PORT" duet_router_prefix_chunks_matched_total)
  record "$w" "$p" "$r" spills "$spills"
  record "$w" "$p" "$r" router_est_hit_rate "$(awk -v m="$matched" -v c="$chunks" 'BEGIN {printf "%.4f", (c > 0 ? m / c : 0)}')"
  record "$w" "$p" "$r" engine_cpu_max_pct "$max_pct"
  record "$w" "$p" "$r" engine_cpu_sum_pct "$sum_pct"
  record "$w" "$p" "$r" machine_busy_pct \
    "$(awk -v b=$((busy1 - busy0)) -v a=$((all1 - all0)) 'BEGIN {printf "%.1f", (a > 0 ? 100 * b / a : 0)}')"
  record "$w" "$p" "$r" metrics_prefix_hits "$hits"
  record "$w" "$p" "$r" metrics_prefix_queries "$queries"
  record "$w" "$p" "$r" metrics_hit_rate "$(awk -v h="$hits" -v q="$queries" 'BEGIN {printf "%.4f", (q > 0 ? h / q : 0)}')"
  record "$w" "$p" "$r" preemptions "$preempt"
  log "$w $p round $r: $line preemptions $preempt metrics_hits $hits/$queries spills $spills router_cpu $(cpu_pct $((after - before)))% engines_max $max_pct%"
  stop_all
}

policies_of() {  # the rows of a workload
  case $1 in
    mixed-pools) echo "$SCHED_POLICIES duet-spill-off duet-spill-on" ;;
    # duet as it placed new prefixes before weights.cachePressure, beside it in one run.
    shared-context*) [[ " $SCHED_POLICIES " == *" duet "* ]] && echo "$SCHED_POLICIES duet-cp0" || echo "$SCHED_POLICIES" ;;
    *) echo "$SCHED_POLICIES" ;;
  esac
}

{
  echo "date $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "cores $(nproc)"
  echo "duet $(git -C "$BENCH/.." describe --always --dirty 2>/dev/null || echo unknown)"
  echo "settings ROUNDS=$ROUNDS TIME_SCALE=$TIME_SCALE SCHED_SEED=$SCHED_SEED"
  echo "pool $POOL_SPEC"
  echo "spill_margin_ms $SPILL_MARGIN_MS"
  echo "scrape_interval_ms $SCRAPE_INTERVAL_MS"
} >"$SW/env.txt"
for w in $SCHED_WORKLOADS; do
  echo "flags $w ${WORKLOAD_FLAGS[$w]} --duration ${DURATION[$w]}" >>"$SW/env.txt"
  plan_workload "$w"
done
started_at=$(date +%s)
for r in $(seq 1 "$ROUNDS"); do
  for w in $SCHED_WORKLOADS; do
    for p in $(policies_of "$w"); do sched_run "$w" "$p" "$r"; done
  done
done
echo "elapsed_s $(($(date +%s) - started_at))" >>"$SW/env.txt"

if [ -z "${SCHED_NO_RESULTS:-}" ]; then
  "$HERE/report.sh" "$SW" "$(dirname "$RESULTS")" >"$SW/section.md"
  "$HERE/splice.sh" "$RESULTS" "$SW/section.md"
  log "wrote the scheduling section of $RESULTS"
fi
