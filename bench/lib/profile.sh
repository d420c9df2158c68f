# Scenario "profile": where a proxied request's time goes, in figures that do not depend on
# how busy the machine is. Syscalls per request of each proxy (strace -c over a wrk run) and
# each proxy's user-space instructions per request (valgrind --tool=callgrind), with the
# functions that take duet-router's, plain and TLS (PROFILE_VARIANTS). Run after the timed
# scenarios: tracing slows the proxies.

PROFILE_SECONDS=${PROFILE_SECONDS:-3}
PROFILE_VARIANTS=${PROFILE_VARIANTS:-plain tls}
PROFILE_PROXIES=${PROFILE_PROXIES:-duet nginx haproxy}  # fewer: a quicker look at one

# profile_syscalls PROXY VARIANT: records syscall_NAME (calls per request) for the proxy.
profile_syscalls() {
  local proxy=$1 variant=$2 pid args=() tracer line requests
  for pid in ${PROXY_PIDS[$proxy]}; do args+=(-p "$pid"); done
  strace -c -f -o "$WORK/strace-$proxy-$variant.txt" "${args[@]}" 2>/dev/null &
  tracer=$!
  sleep 1  # attaching takes a moment; requests before it are not counted either way
  line=$("${LOAD_PIN[@]}" wrk -t "$WRK_THREADS" -c "$CONNECTIONS" -d "${PROFILE_SECONDS}s" \
    -s "$HERE/wrk/post.lua" "$(url "$proxy" "$variant")" | grep '^RESULT' || true)
  kill -INT "$tracer" 2>/dev/null || true
  wait "$tracer" 2>/dev/null || true
  requests=$(awk '{print $9}' <<<"$line")
  [ -n "$requests" ] && [ "$requests" -gt 0 ] || { log "profile: no requests for $proxy"; return 0; }
  # strace's table: % time, seconds, usecs/call, calls, [errors], syscall
  awk -v n="$requests" '$1 ~ /^[0-9.]+$/ && NF >= 5 {
      calls = $4; name = $NF; if (name == "total") next
      printf "%s\t%.2f\n", name, calls / n }' "$WORK/strace-$proxy-$variant.txt" |
    while IFS=$'\t' read -r name per; do
      record profile "$variant" "$proxy" 1 "syscall_$name" "$per"
    done
  log "profile: syscalls of $proxy $variant over $requests requests"
}

# callgrind_command PROXY: sets CALLGRIND_COMMAND to the proxy's command line for a run under
# callgrind, one process (nginx without its master, so that the worker is the one counted).
callgrind_command() {
  case $1 in
    duet) CALLGRIND_COMMAND=(duet-router --config "$WORK/duet.yaml" --log-level warn) ;;
    nginx)
      CALLGRIND_COMMAND=(nginx -c "$WORK/nginx.conf" -e "$WORK/nginx-error.log"
        -g "master_process off;") ;;
    haproxy) CALLGRIND_COMMAND=(haproxy -db -f "$WORK/haproxy.cfg") ;;
  esac
}

# callgrind_totals FILE...: the instructions counted in each file (one per thread), summed,
# less those of TLS handshakes: wrk opens its 8 connections anew for the counted run, and
# 8 handshakes spread over however many requests a proxy served under callgrind would make
# the faster proxy look cheaper per request.
callgrind_totals() {
  local f handshakes total=0
  for f in "$@"; do
    handshakes=$(callgrind_annotate --inclusive=yes --threshold=100 "$f" 2>/dev/null |
      awk '/:SSL_do_handshake / {gsub(",", "", $1); print $1; exit}')
    total=$((total + $(awk '/^totals:/ {print $2}' "$f") - ${handshakes:-0}))
  done
  echo "$total"
}

# profile_instructions PROXY VARIANT: restarts the proxy under callgrind, warms it up, counts
# one wrk run's instructions, and records ir_per_request (and, for duet-router, the top
# functions). The proxy stays stopped: this runs after every timed scenario.
profile_instructions() {
  local proxy=$1 variant=$2 valgrind_pid line requests total per_request i pid port
  for pid in ${PROXY_PIDS[$proxy]}; do kill "$pid" 2>/dev/null || true; done
  for pid in ${PROXY_PIDS[$proxy]}; do wait "$pid" 2>/dev/null || true; done
  PROXY_PIDS[$proxy]=""
  port=${PORTS[$proxy-$variant]}
  for i in $(seq 1 100); do port_free "$port" && break; sleep 0.1; done
  rm -f "$WORK"/callgrind.out*
  callgrind_command "$proxy"
  valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$WORK/callgrind.out" \
    "${CALLGRIND_COMMAND[@]}" 2>>"$WORK/callgrind.log" &
  valgrind_pid=$!
  started "$valgrind_pid"
  if [ "$proxy" = duet ]; then  # ready once it has its endpoints, not when it listens
    for i in $(seq 1 300); do
      curl -sf -o /dev/null "http://127.0.0.1:$DUET_ADMIN_PORT/readyz" && break
      sleep 0.1
    done
  else
    wait_port "$port"
  fi
  # Warm-up long enough for every token to be verified and cached (under callgrind a TLS
  # proxy serves a few hundred requests a second): the counted run is the steady state.
  "${LOAD_PIN[@]}" wrk -t 1 -c 8 -d 5s -s "$HERE/wrk/post.lua" "$(url "$proxy" "$variant")" >/dev/null
  callgrind_control -z "$valgrind_pid" >/dev/null
  line=$("${LOAD_PIN[@]}" wrk -t 1 -c 8 -d "$((PROFILE_SECONDS * 2))s" -s "$HERE/wrk/post.lua" \
    "$(url "$proxy" "$variant")" | grep '^RESULT' || true)
  callgrind_control -d "$valgrind_pid" >/dev/null
  kill "$valgrind_pid" 2>/dev/null || true
  wait "$valgrind_pid" 2>/dev/null || true
  requests=$(awk '{print $9}' <<<"$line")
  [ -n "$requests" ] && [ "$requests" -gt 0 ] ||
    { log "profile: callgrind saw no requests ($proxy $variant)"; return 0; }
  # One file per thread (callgrind.out.1-NN). duet-router's first thread is its control loop
  # (the watch, the engines' /metrics every 50 ms, the admin port): work per second, not per
  # request, so its worker threads' count is recorded apart as the request path's.
  total=$(callgrind_totals "$WORK"/callgrind.out.1-*)
  per_request=$((total / requests))
  record profile "$variant" "$proxy" 1 ir_per_request "$per_request"
  local request_path=("$WORK"/callgrind.out.1-*) top
  if [ "$proxy" = duet ] && [ ${#request_path[@]} -gt 1 ]; then
    request_path=("${request_path[@]:1}")
    record profile "$variant" "$proxy" 1 ir_per_request_workers \
      $(($(callgrind_totals "${request_path[@]}") / requests))
  fi
  # Self cost per function in the busiest request-path thread, largest first, as
  # "share<TAB>name" lines for the report.
  top=$(for f in "${request_path[@]}"; do echo "$(callgrind_totals "$f") $f"; done |
    sort -n | tail -1 | cut -d' ' -f2)
  total=$(callgrind_totals "$top")
  callgrind_annotate --inclusive=no --threshold=100 "$top" >"$WORK/callgrind-$proxy-$variant.txt" 2>/dev/null
  awk -v total="$total" '/^ *[0-9,]+ +\(/ && !/PROGRAM TOTALS/ && shown < 15 {
      ir = $1; gsub(",", "", ir); $1 = ""; $2 = ""
      if (ir + 0 > total / 2) next  # the thread entry and the event loop: all of it, not self
      name = $0; sub(/^ +/, "", name); sub(/\(.*/, "", name); sub(/^[^:]*:/, "", name)
      printf "%.1f\t%s\n", 100 * ir / total, substr(name, 1, 90); shown++ }' \
    "$WORK/callgrind-$proxy-$variant.txt" >"$WORK/callgrind-top-$proxy-$variant.tsv"
  for top in "$WORK"/callgrind.out.1-*; do mv "$top" "$WORK/callgrind-$proxy-$variant.out${top##*.1}"; done
  log "profile: $proxy: $per_request instructions per $variant request over $requests requests"
}
