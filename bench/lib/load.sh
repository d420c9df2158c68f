# The runs of bench/run.sh. Each appends `scenario variant proxy round metric value` lines
# to $WORK/results.tsv, which bench/report.sh turns into RESULTS.md.

record() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$WORK/results.tsv"; }

# wrk_run SCENARIO VARIANT PROXY ROUND URL CONNECTIONS [NAME=VALUE...]: one wrk run of
# $DURATION seconds; records req/s, latency, errors and the proxy's CPU use. The CPU time is
# of the processes PROXY_PIDS[PIDS_PREFIX PROXY] (PIDS_PREFIX: the instance, w2- for 2 workers).
wrk_run() {
  local scenario=$1 variant=$2 proxy=$3 round=$4 url=$5 conns=$6 threads=$WRK_THREADS
  local before after line pids=${PROXY_PIDS[${PIDS_PREFIX:-}$3]:-}
  shift 6
  [ "$conns" -lt "$threads" ] && threads=$conns
  before=$(cpu_ticks $pids)
  line=$(
    if [ $# -gt 0 ]; then export "$@"; fi
    "${LOAD_PIN[@]}" wrk -t "$threads" -c "$conns" -d "${DURATION}s" \
      -s "$HERE/wrk/post.lua" "$url" | grep '^RESULT' || true
  )
  after=$(cpu_ticks $pids)
  # A proxy that died shows as missing figures, and the other proxies' runs go on.
  [ -n "$line" ] || { log "wrk gave no result for $proxy $url"; return 0; }
  set -- $line
  record "$scenario" "$variant" "$proxy" "$round" rps "$3"
  record "$scenario" "$variant" "$proxy" "$round" p50_us "$5"
  record "$scenario" "$variant" "$proxy" "$round" p99_us "$7"
  record "$scenario" "$variant" "$proxy" "$round" failed $((${11} + ${13}))
  if [ -n "$pids" ] && [ "$after" -ge "$before" ]; then  # not when it died
    local cpu_s
    cpu_s=$(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" 'BEGIN {print t / hz}')
    record "$scenario" "$variant" "$proxy" "$round" cpu_pct \
      "$(awk -v c="$cpu_s" -v d="$DURATION" 'BEGIN {printf "%.0f", 100 * c / d}')"
    record "$scenario" "$variant" "$proxy" "$round" req_per_cpu_s \
      "$(awk -v c="$cpu_s" -v r="$3" -v d="$DURATION" 'BEGIN {printf "%.0f", (c > 0 ? r * d / c : 0)}')"
  fi
  log "$scenario $variant $proxy round $round: $line"
}

# stream_run VARIANT PROXY ROUND HOST:PORT [--tls]: scenario 5 through one proxy.
stream_run() {
  local variant=$1 proxy=$2 round=$3 to=$4 line
  shift 4
  line=$("${LOAD_PIN[@]}" duet-bench-stream --to "$to" --path /stamp/v1/completions \
    --token "$(head -1 "$WORK/tokens.txt")" --requests "$STREAM_REQUESTS" "$@") ||
    { log "stream $variant $proxy round $round failed"; return 0; }
  set -- $line
  record stream "$variant" "$proxy" "$round" ttfb_p50_us "$2"
  record stream "$variant" "$proxy" "$round" ttfb_p99_us "$4"
  record stream "$variant" "$proxy" "$round" chunk_p50_us "$6"
  record stream "$variant" "$proxy" "$round" chunk_p99_us "$8"
  record stream "$variant" "$proxy" "$round" failed "${12}"
  log "stream $variant $proxy round $round: $line"
}
