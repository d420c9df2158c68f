#!/usr/bin/env bash
# `make bench`: SPEC §9's performance targets measured side by side in one run, duet-router
# against nginx and HAProxy on the same upstream, and bench/RESULTS.md written from it.
# Method and how to read the results: bench/README.md.
# Usage: bench/run.sh [BIN_DIR]   (BIN_DIR: a release build's bin/, with the duet-bench-* tools)
# Settings (environment): DURATION seconds per run (10), ROUNDS (3), CONNECTIONS (64),
# STREAM_REQUESTS (200), DUETD_REPLICAS (100), SCENARIOS (all: proxy keepalive workers2 stream
# scale decision failover duetd profile scheduling drain migration; `hold` starts the proxies
# and waits, for profiling), IDLE_CONNS (1000: keepalive), WORKERS2 (2) and WORKERS2_CPU_QUOTA
# (100, empty: none; workers2), SCALE_CONNS (10000), SCALE_STREAMS (2000), SCALE_CHUNKS (50),
# SCALE_GAP_US (100000), SCALE_SECONDS (5: scale),
# SCHED_ROUNDS (3: the rounds of bench/scheduling/run.sh, which has its own settings),
# RESULTS (bench/RESULTS.md), NOTE (a line for the top of RESULTS.md), KEEP=1 keeps the work
# folder. DUET_BASELINE=DIR: the duet-router of another build's bin/ runs beside this one in
# the proxy scenario's throughput runs, interleaved round by round, for a before/after pair
# on one machine in one run (its rows: "duet-router, baseline"). RESULTS.md keeps its scheduling section when the scheduling scenario does not run.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$(cd "${1:-$HERE/../build/release/bin}" && pwd)
export PATH="$BIN:$PATH"
: "${DURATION:=10}" "${ROUNDS:=3}" "${CONNECTIONS:=64}" "${STREAM_REQUESTS:=200}"
: "${STREAM_CHUNKS:=20}" "${STREAM_GAP_US:=1000}" "${DUETD_REPLICAS:=100}"
: "${SCENARIOS:=proxy keepalive workers2 stream scale decision failover duetd profile scheduling drain migration}"
: "${RESULTS:=$HERE/RESULTS.md}"
: "${IDLE_CONNS:=1000}" "${WORKERS2:=2}" "${WORKERS2_CPU_QUOTA=100}"
: "${SCALE_CONNS:=10000}" "${SCALE_STREAMS:=2000}" "${SCALE_CHUNKS:=50}" "${SCALE_GAP_US:=100000}"
: "${SCALE_SECONDS:=5}"
# Room for every connection a proxy holds (clients and upstreams): the peers' maxconn and
# worker_connections, duet-router's maxConnections, duet-bench-stamp's limit.
MAX_CONNS=4096 SCALE_MAX_CONNS=$((SCALE_CONNS + SCALE_STREAMS + 1024))
: "${DECISION_MIN_TIME:=0.5}"

source "$HERE/lib/common.sh"
source "$HERE/lib/processes.sh"
source "$HERE/lib/load.sh"
source "$HERE/lib/failover.sh"
source "$HERE/lib/profile.sh"
source "$HERE/lib/connections.sh"

WORK=$(mktemp -d /tmp/duet-bench.XXXXXX)
cleanup() {
  uncap_all
  stop_all
  [ -n "${KEEP:-}" ] && log "work folder kept: $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

# Fixed loopback ports, so the peers' configs and the watch snapshots can name them.
SIM_PORT=18000 SMALL_PORT=18001 CANARY_PORT=18002 LARGE_PORT=18003 STAMP_PORT=18010
FO0_PORT=18004 FO1_PORT=18005
DUET_PORT=18100 DUET_TLS_PORT=18101 DUET_ADMIN_PORT=18109
NGINX_PORT=18200 NGINX_TLS_PORT=18201 HAPROXY_PORT=18300 HAPROXY_TLS_PORT=18301
FO_PORT=18400 FO_TLS_PORT=18401 FO_ADMIN_PORT=18409
FLOOR_PORT=18450
# The 2-worker instances (w2-*) and the streaming-scale ones (scale-*) and their upstream.
W2_ADMIN_PORT=18119 SCALE_ADMIN_PORT=18129 SCALE_STAMP_PORT=18011
BASE_ADMIN_PORT=18139  # DUET_BASELINE's duet-router
declare -A PORTS=([duet-plain]=$DUET_PORT [duet-tls]=$DUET_TLS_PORT
  [nginx-plain]=$NGINX_PORT [nginx-tls]=$NGINX_TLS_PORT
  [haproxy-plain]=$HAPROXY_PORT [haproxy-tls]=$HAPROXY_TLS_PORT
  [w2-duet-plain]=18110 [w2-duet-tls]=18111 [w2-nginx-plain]=18210 [w2-nginx-tls]=18211
  [w2-haproxy-plain]=18310 [w2-haproxy-tls]=18311
  [scale-duet-plain]=18120 [scale-duet-tls]=18121 [scale-nginx-plain]=18220
  [scale-nginx-tls]=18221 [scale-haproxy-plain]=18320 [scale-haproxy-tls]=18321
  [base-plain]=18130 [base-tls]=18131)
for port in $SIM_PORT $SMALL_PORT $CANARY_PORT $LARGE_PORT $STAMP_PORT $FO0_PORT $FO1_PORT \
  $DUET_ADMIN_PORT $FO_PORT $FO_TLS_PORT $FO_ADMIN_PORT $W2_ADMIN_PORT $SCALE_ADMIN_PORT $BASE_ADMIN_PORT \
  $SCALE_STAMP_PORT "${PORTS[@]}"; do
  port_free "$port" || { log "port $port is in use"; exit 1; }
done
url() {  # url PROXY VARIANT
  local scheme=http
  [ "$2" = tls ] && scheme=https
  echo "$scheme://127.0.0.1:${PORTS[$1-$2]}"
}
has() { [[ " $SCENARIOS " == *" $1 "* ]]; }
BASELINE=${DUET_BASELINE:+base}  # the baseline's proxy key, in the lists of proxies it joins

split_cores
WRK_THREADS=$THREADS
{
  echo "date $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "cores $(nproc)"
  echo "cpu $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "memory $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "kernel $(uname -r)"
  echo "pinning proxy on CPUs ${PROXY_CPUS:-any}, wrk and upstreams on CPUs ${LOAD_CPUS:-any}, $THREADS worker(s) per proxy"
  echo "settings DURATION=$DURATION ROUNDS=$ROUNDS CONNECTIONS=$CONNECTIONS" \
    "STREAM_REQUESTS=$STREAM_REQUESTS STREAM_CHUNKS=$STREAM_CHUNKS STREAM_GAP_US=$STREAM_GAP_US" \
    "DUETD_REPLICAS=$DUETD_REPLICAS SCENARIOS=\"$SCENARIOS\"${PROXY_CPU_QUOTA:+ PROXY_CPU_QUOTA=$PROXY_CPU_QUOTA}" \
    "IDLE_CONNS=$IDLE_CONNS WORKERS2=$WORKERS2 WORKERS2_CPU_QUOTA=$WORKERS2_CPU_QUOTA" \
    "SCALE_CONNS=$SCALE_CONNS SCALE_STREAMS=$SCALE_STREAMS SCALE_CHUNKS=$SCALE_CHUNKS" \
    "SCALE_GAP_US=$SCALE_GAP_US SCALE_SECONDS=$SCALE_SECONDS"
  echo "duet $(git -C "$HERE/.." describe --always --dirty 2>/dev/null || echo unknown) (git)"
  [ -n "${DUET_BASELINE:-}" ] && echo "baseline $DUET_BASELINE/duet-router ($(sha256sum "$DUET_BASELINE/duet-router" | cut -c1-12))"
  echo "command bench/run.sh ${1:-}"
  echo "nginx $(nginx -v 2>&1 | sed 's/.*: //')"
  echo "haproxy $(haproxy -v 2>&1 | head -1)"
  echo "wrk $(wrk -v 2>&1 | head -1)"
  echo "openssl $(openssl version)"
  echo "benchmark $(dpkg-query -W -f='${Version}' libbenchmark-dev 2>/dev/null)"
} >"$WORK/env.txt"
touch "$WORK/results.tsv"
printf '%s' "${NOTE:-}" >"$WORK/note.txt"

make_credentials
export BENCH_TOKENS="$WORK/tokens.txt"
# The scale scenario holds 10,000 connections in one client, and a proxy that many plus its
# upstream connections (HAProxy asks for 2 descriptors per maxconn).
if has scale; then
  ulimit -n 65536 2>/dev/null || log "could not raise the descriptor limit ($(ulimit -n))"
fi

expect_200() {  # expect_200 URL: a completion through it must answer 200 before anything is timed
  local code
  code=$(curl -sk -o /dev/null -w '%{http_code}' "$1/v1/completions" \
    -H "authorization: Bearer $(head -1 "$BENCH_TOKENS")" -H 'content-type: application/json' \
    -d '{"model":"bench","prompt":"hi","max_tokens":4}')
  [ "$code" = 200 ] || { log "$1 answered $code"; exit 1; }
}

start_upstreams_and_proxies() {
  start_sim sim-0 "$SIM_PORT"
  start_sim chat-small-0 "$SMALL_PORT"
  start_sim chat-small-canary-0 "$CANARY_PORT"
  start_sim chat-large-0 "$LARGE_PORT"
  start_stamp
  start_source main
  start_duet duet main "$DUET_PORT" "$DUET_TLS_PORT" "$DUET_ADMIN_PORT"
  start_nginx
  start_haproxy
  start_floor
  if [ -n "${DUET_BASELINE:-}" ]; then
    start_source main base
    DUET_ROUTER="$DUET_BASELINE/duet-router" start_duet base base "${PORTS[base-plain]}" "${PORTS[base-tls]}" "$BASE_ADMIN_PORT"
  fi
  local proxy
  for proxy in duet nginx haproxy $BASELINE; do expect_200 "$(url $proxy plain)"; expect_200 "$(url $proxy tls)"; done
  expect_200 "http://127.0.0.1:$FLOOR_PORT"
}

# The 2-worker instances (w2-duet, w2-nginx, w2-haproxy): WORKERS2 workers each, on every
# CPU, so on 2 cores they share a core with wrk and the upstreams; WORKERS2_CPU_QUOTA % of
# one CPU at most per proxy (all its workers together): low enough, it makes the proxy the
# limit, which its CPU reaching the quota shows.
start_workers2() {
  local THREADS=$WORKERS2 PROXY_PIN=() proxy
  start_source main w2-duet
  for proxy in duet nginx haproxy; do
    start_proxy "$proxy" "w2-$proxy" "${PORTS[w2-$proxy-plain]}" "${PORTS[w2-$proxy-tls]}" "$W2_ADMIN_PORT"
    if [ -n "$WORKERS2_CPU_QUOTA" ]; then cap_cpu "w2-$proxy" "$WORKERS2_CPU_QUOTA" ${PROXY_PIDS[w2-$proxy]}; fi
    expect_200 "$(url "w2-$proxy" plain)"
    expect_200 "$(url "w2-$proxy" tls)"
  done
}

# The 2-worker variant of scenarios 2 and 3, one round.
workers2_round() {
  local r=$1 variant proxy PIDS_PREFIX=w2-
  for variant in plain tls; do
    for proxy in duet nginx haproxy; do
      wrk_run workers2 "$variant" "$proxy" "$r" "$(url "w2-$proxy" "$variant")" "$CONNECTIONS"
    done
  done
}

# Scenarios 1-4, one round: every proxy once, in the same order each round.
proxy_round() {
  local r=$1 variant proxy
  # (1) The upstream alone; it gets the proxy's cores, as a proxy would have them.
  pin "$PROXY_CPUS" "${SIM_PIDS[sim-0]}"
  wrk_run throughput plain direct "$r" "http://127.0.0.1:$SIM_PORT" "$CONNECTIONS"
  wrk_run latency plain direct "$r" "http://127.0.0.1:$SIM_PORT" 1
  pin "$LOAD_CPUS" "${SIM_PIDS[sim-0]}"
  for variant in plain tls; do  # (2) and (3)
    for proxy in duet nginx haproxy $BASELINE; do
      wrk_run throughput "$variant" "$proxy" "$r" "$(url "$proxy" "$variant")" "$CONNECTIONS"
    done
    # The floor (duet-bench-floor: four syscalls a request and nothing else), plain only.
    [ "$variant" = plain ] && wrk_run throughput plain floor "$r" "http://127.0.0.1:$FLOOR_PORT" "$CONNECTIONS"
    for proxy in duet nginx haproxy; do
      wrk_run latency "$variant" "$proxy" "$r" "$(url "$proxy" "$variant")" 1
    done
    # (4) JWT + size routing + canary at 50 %, sticky by sub.
    wrk_run full "$variant" duet "$r" "$(url duet "$variant")" "$CONNECTIONS" BENCH_BODY=chat
  done
}

# Scenario 5, one round.
stream_round() {
  local r=$1 variant proxy tls
  stream_run plain direct "$r" "127.0.0.1:$STAMP_PORT"
  for variant in plain tls; do
    tls=()
    [ "$variant" = tls ] && tls=(--tls)
    for proxy in duet nginx haproxy; do
      stream_run "$variant" "$proxy" "$r" "127.0.0.1:${PORTS[$proxy-$variant]}" "${tls[@]}"
    done
  done
}

# Scenario 6: Google Benchmark repetitions, one per round.
decision() {
  "${PROXY_PIN[@]}" duet-bench-decision --benchmark_repetitions="$ROUNDS" \
    --benchmark_min_time="$DECISION_MIN_TIME" --benchmark_format=csv 2>/dev/null |
    awk -F, '$1 ~ /^"/ && $1 !~ /_(mean|median|stddev|cv)"$/ {
      gsub(/"/, "", $1); sub(/\/.*/, "", $1); n[$1]++
      printf "decision\t-\t%s\t%d\tns\t%.1f\n", $1, n[$1], $3 }' >>"$WORK/results.tsv"
}

# Scenario 8: bench/duetd_bench.sh, its lines turned into records.
duetd_scenario() {
  "$HERE/duetd_bench.sh" "$BIN" "$DUETD_REPLICAS" "$ROUNDS" | tee "$WORK/duetd.txt" >&2
  awk '/apply -> Ready/ {sub(":", "", $2); printf "duetd\tapply\tduetd\t%s\tready_ms\t%s\n", $2, $6}
       /SIGKILL \+ restart/ {sub(":", "", $2); printf "duetd\tadopt\tduetd\t%s\tready_ms\t%s\n", $2, $12}' \
    "$WORK/duetd.txt" >>"$WORK/results.tsv"
}

if has proxy || has keepalive || has workers2 || has stream || has scale || has hold || has profile; then
  start_upstreams_and_proxies
fi
# PROXY_CPU_QUOTA=P: each proxy gets at most P % of one CPU, so that it is saturated and its
# req/s is what P % of a core serves (issue 21: with the whole core, wrk is the limit).
if [ -n "${PROXY_CPU_QUOTA:-}" ]; then
  for proxy in duet nginx haproxy floor $BASELINE; do cap_cpu "$proxy" "$PROXY_CPU_QUOTA" ${PROXY_PIDS[$proxy]}; done
fi
if has hold; then  # for profiling: everything runs until this script is interrupted
  log "holding: duet $(url duet plain) $(url duet tls), nginx $(url nginx plain)," \
    "HAProxy $(url haproxy plain); tokens $BENCH_TOKENS; duet-router pid ${PROXY_PIDS[duet]}"
  log "load: ${LOAD_PIN[*]} wrk -c $CONNECTIONS -d 10s -s $HERE/wrk/post.lua URL"
  while :; do sleep 3600; done
fi
if has workers2; then start_workers2; fi
if has scale; then
  MAX_CONNS=$SCALE_MAX_CONNS start_stamp "$SCALE_STAMP_PORT" "$SCALE_CHUNKS" "$SCALE_GAP_US"
  SCALE_STAMP_PID=${STARTED[-1]}
fi
for r in $(seq 1 "$ROUNDS"); do
  if has proxy; then proxy_round "$r"; fi
  if has keepalive; then for proxy in duet nginx haproxy; do keepalive_run "$proxy" "$r"; done; fi
  if has workers2; then workers2_round "$r"; fi
  if has stream; then stream_round "$r"; fi
  if has scale; then
    scale_direct "$r"
    for proxy in duet nginx haproxy; do scale_run "$proxy" "$r"; done
  fi
done
for proxy in duet haproxy; do
  if [ -n "${PROXY_PIDS[$proxy]:-}" ]; then
    record rss - "$proxy" 1 peak_kb "$(peak_rss_kb "${PROXY_PIDS[$proxy]}")"
  fi
done
if [ -n "${PROXY_PIDS[nginx]:-}" ]; then
  set -- ${PROXY_PIDS[nginx]}
  record rss - "nginx master" 1 peak_kb "$(peak_rss_kb "$1")"
  shift
  for pid in "$@"; do record rss - "nginx worker" 1 peak_kb "$(peak_rss_kb "$pid")"; done
fi
if has profile; then
  for variant in $PROFILE_VARIANTS; do
    for proxy in $PROFILE_PROXIES; do profile_syscalls "$proxy" "$variant"; done
  done
  # Under callgrind last: each proxy is restarted under it and then left stopped.
  for proxy in $PROFILE_PROXIES; do
    for variant in $PROFILE_VARIANTS; do profile_instructions "$proxy" "$variant"; done
  done
  cp "$WORK/callgrind-top-duet-plain.tsv" "$WORK/profile-top.tsv" 2>/dev/null || true
  cp "$WORK/callgrind-top-duet-tls.tsv" "$WORK/profile-top-tls.tsv" 2>/dev/null || true
fi
if has decision; then decision; fi
if has failover; then
  start_source failover
  for r in $(seq 1 "$ROUNDS"); do failover_run "$r"; done
fi
stop_all
if has duetd; then duetd_scenario; fi
# Scenario 11: planned changes under 200 long streams (bench/drain); its own section.
if has drain; then
  { echo "<!-- drain:begin -->"; echo "## 11. Planned changes under load: streams cut, requests failed (bench/drain)"
    echo; echo "\`bench/drain/drain_rig.sh $BIN\` on $(date -u +%FT%TZ)."; echo
    "$HERE/drain/drain_rig.sh" "$BIN"; echo "<!-- drain:end -->"; } >"$WORK/drain.md"
fi
# Scenario 12: engines SIGKILLed under 1,000 streams, with migration on (bench/migration).
if has migration; then
  { echo "<!-- migration:begin -->"; echo "## 12. Engines killed under load, with mid-stream migration (bench/migration)"
    echo; echo "\`bench/migration/soak.sh $BIN\` on $(date -u +%FT%TZ)."; echo
    "$HERE/migration/soak.sh" "$BIN"; echo "<!-- migration:end -->"; } >"$WORK/migration.md"
fi
# Scenario 10: the scheduling policies on duet-sim engine models (bench/scheduling).
if has scheduling; then
  ROUNDS=${SCHED_ROUNDS:-3} SCHED_WORK="$WORK/scheduling" SCHED_NO_RESULTS=1 "$HERE/scheduling/run.sh" "$BIN"
fi

# report.sh carries the previous scheduling section over when this run has none.
cp "$RESULTS" "$WORK/previous-RESULTS.md" 2>/dev/null || true
RESULTS_DIR=$(dirname "$RESULTS") "$HERE/report.sh" "$WORK" >"$RESULTS"
log "wrote $RESULTS"
