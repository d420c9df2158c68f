# Scenarios of bench/run.sh with many connections held at once (issue 21), both through
# duet-bench-conns, which opens them and moves to its next phase when told on its stdin:
#   keepalive: wrk through each proxy while it holds IDLE_CONNS idle keep-alive connections;
#   scale: SCALE_CONNS connections through a fresh instance of each proxy, SCALE_STREAMS of
#          them streaming SSE, the rest idle: memory per connection and chunk latency.

# conns_start HOST:PORT IDLE STREAMS: duet-bench-conns on the load's CPUs, its stdin a FIFO
# that this shell holds open on fd CONNS_CTL (a line: next phase; closing it: the end).
conns_start() {
  local fifo="$WORK/conns.in"
  rm -f "$fifo" "$WORK/conns.out"
  mkfifo "$fifo"
  "${LOAD_PIN[@]}" duet-bench-conns --to "$1" --idle "$2" --streams "$3" \
    --token "$(head -1 "$BENCH_TOKENS")" --seconds "$SCALE_SECONDS" \
    <"$fifo" >"$WORK/conns.out" 2>>"$WORK/conns.log" &
  CONNS_PID=$!
  started "$CONNS_PID"
  exec {CONNS_CTL}>"$fifo"
}
conns_wait() {  # conns_wait PHASE SECONDS: until duet-bench-conns prints PHASE's line; prints it
  wait_for "$2" "grep -q '^$1 ' '$WORK/conns.out'" || return 1
  grep "^$1 " "$WORK/conns.out"
}
conns_go() { echo go >&"$CONNS_CTL"; }
conns_end() {  # it resets every connection and exits when its stdin ends
  exec {CONNS_CTL}>&-
  wait "$CONNS_PID" 2>/dev/null || true
  stop "$CONNS_PID"
}
# Connections to 127.0.0.1:PORT still established (the client's side of each).
established_to() { ss -Htn state established "( dport = :$1 )" | wc -l; }

# keepalive_run PROXY ROUND: the proxy's plain throughput (wrk, CONNECTIONS) while it holds
# IDLE_CONNS connections that each made one request; its RSS with them, before wrk.
keepalive_run() {
  local proxy=$1 round=$2 port=${PORTS[$1-plain]} pids=${PROXY_PIDS[$1]} before line rss
  before=$(rss_kb $pids)
  conns_start "127.0.0.1:$port" "$IDLE_CONNS" 0
  if ! line=$(conns_wait idle 60); then
    log "keepalive $proxy round $round: the idle connections did not open"
    conns_end
    return 0
  fi
  rss=$(rss_kb $pids)
  set -- $line
  record keepalive plain "$proxy" "$round" idle_failed "$6"
  record keepalive plain "$proxy" "$round" rss_idle_kb "$rss"
  record keepalive plain "$proxy" "$round" idle_kib_per_conn \
    "$(awk -v a="$rss" -v b="$before" -v n="$IDLE_CONNS" 'BEGIN {printf "%.2f", (a - b) / n}')"
  wrk_run keepalive plain "$proxy" "$round" "$(url "$proxy" plain)" "$CONNECTIONS"
  record keepalive plain "$proxy" "$round" idle_held "$(established_to "$port")"
  conns_end
  log "keepalive $proxy round $round: $line, RSS $before -> $rss KiB"
}

# scale_direct ROUND: the streams straight to the scale upstream, the base of "added". The
# upstream gets the proxy's CPU meanwhile (as in scenario 1), so that each event crosses from
# one CPU to the other as it does through a proxy, not queued behind the client on one CPU.
scale_direct() {
  local line=""
  pin "$PROXY_CPUS" "$SCALE_STAMP_PID"
  conns_start "127.0.0.1:$SCALE_STAMP_PORT" 0 "$SCALE_STREAMS"
  conns_wait idle 10 >/dev/null && conns_go
  if ! line=$(cpu_while -- conns_wait streams $((SCALE_SECONDS + 60))); then
    log "scale direct round $1: no figures"
    line=""
  fi
  conns_end
  pin "$LOAD_CPUS" "$SCALE_STAMP_PID"
  if [ -n "$line" ]; then record_streams direct "$1" "$line"; fi
}

# scale_run PROXY ROUND: a fresh instance (so that its RSS before holds nothing of earlier
# runs) with room for SCALE_CONNS; SCALE_CONNS − SCALE_STREAMS idle connections, RSS; then
# SCALE_STREAMS streams on top, chunk latency and RSS; then the instance is stopped.
scale_run() {
  local proxy=$1 round=$2 key=scale-$1 MAX_CONNS=$SCALE_MAX_CONNS STAMP_PORT=$SCALE_STAMP_PORT
  local idle=$((SCALE_CONNS - SCALE_STREAMS)) source_pid="" pids base idle_rss all_rss line=""
  if [ "$proxy" = duet ]; then start_source main "$key"; source_pid=${STARTED[-1]}; fi
  start_proxy "$proxy" "$key" "${PORTS[$key-plain]}" "${PORTS[$key-tls]}" "$SCALE_ADMIN_PORT"
  pids=${PROXY_PIDS[$key]}
  if [ -n "${PROXY_CPU_QUOTA:-}" ]; then cap_cpu "$key" "$PROXY_CPU_QUOTA" $pids; fi
  expect_200 "$(url "$key" plain)"  # its first request's allocations come before the base
  base=$(rss_kb $pids)
  conns_start "127.0.0.1:${PORTS[$key-plain]}" "$idle" "$SCALE_STREAMS"
  if line=$(conns_wait idle 120); then
    idle_rss=$(rss_kb $pids)
    conns_go
    set -- $line
    record scale plain "$proxy" "$round" idle_failed "$6"
    if line=$(cpu_while $pids -- conns_wait streams $((SCALE_SECONDS + 120))); then
      all_rss=$(rss_kb $pids)  # streams still running, every connection open
      record_streams "$proxy" "$round" "$line"
      record_rss_per_conn "$proxy" "$round" "$base" "$idle_rss" "$all_rss" "$idle"
    else
      line=""
    fi
  fi
  [ -n "$line" ] || log "scale $proxy round $round: no figures"
  conns_end
  stop "${pids%% *}" $source_pid  # nginx: its master, which ends the workers
}

# cpu_while PID... -- COMMAND...: runs the command (a wait for the streams' figures) and
# appends to its output the share of one CPU that the processes, the load (the client and
# the upstream) and the whole machine (with other users' work) used meanwhile:
# `proxy_cpu_pct N load_cpu_pct N machine_cpu_pct N`.
cpu_while() {
  local pids=() start wall proxy load machine status=0
  while [ "$1" != -- ]; do pids+=("$1"); shift; done
  shift
  start=$(now_ms)
  proxy=$(cpu_ticks "${pids[@]}") load=$(cpu_ticks "$CONNS_PID" "$SCALE_STAMP_PID")
  machine=$(machine_busy_ticks)
  "$@" || status=$?
  wall=$(($(now_ms) - start))
  proxy=$(($(cpu_ticks "${pids[@]}") - proxy)) load=$(($(cpu_ticks "$CONNS_PID" "$SCALE_STAMP_PID") - load))
  machine=$(($(machine_busy_ticks) - machine))
  awk -v p="$proxy" -v l="$load" -v m="$machine" -v w="$wall" -v hz="$(getconf CLK_TCK)" \
    'BEGIN {f = 100000 / hz / w
      printf "proxy_cpu_pct %.0f load_cpu_pct %.0f machine_cpu_pct %.0f\n", p * f, l * f, m * f}'
  return "$status"
}

record_streams() {  # record_streams PROXY ROUND LINE (duet-bench-conns' streams line + cpu_while's)
  # streams N started N chunk_p50_us X chunk_p99_us X events N errors N idle_open N
  # proxy_cpu_pct N load_cpu_pct N machine_cpu_pct N
  set -- "$1" "$2" $3
  record scale plain "$1" "$2" chunk_p50_us "$8"
  record scale plain "$1" "$2" chunk_p99_us "${10}"
  record scale plain "$1" "$2" events "${12}"
  record scale plain "$1" "$2" errors "${14}"
  record scale plain "$1" "$2" idle_open "${16}"
  record scale plain "$1" "$2" cpu_pct "${18}"
  record scale plain "$1" "$2" load_cpu_pct "${20}"
  record scale plain "$1" "$2" machine_cpu_pct "${22}"
  log "scale $1 round $2: ${*:3}"
}

# record_rss_per_conn PROXY ROUND BASE_KB IDLE_KB ALL_KB IDLE_CONNS
record_rss_per_conn() {
  record scale plain "$1" "$2" rss_base_kb "$3"
  record scale plain "$1" "$2" rss_idle_kb "$4"
  record scale plain "$1" "$2" rss_all_kb "$5"
  record scale plain "$1" "$2" idle_kib_per_conn \
    "$(awk -v a="$4" -v b="$3" -v n="$6" 'BEGIN {printf "%.2f", (a - b) / n}')"
  record scale plain "$1" "$2" kib_per_conn \
    "$(awk -v a="$5" -v b="$3" -v n="$SCALE_CONNS" 'BEGIN {printf "%.2f", (a - b) / n}')"
}
