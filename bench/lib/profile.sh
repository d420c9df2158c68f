# Scenario "profile": where a proxied request's time goes, in figures that do not depend on
# how busy the machine is. Syscalls per request of each proxy (strace -c over a wrk run) and
# duet-router's user-space instructions per request (valgrind --tool=callgrind), with the
# functions that take them. Run after the timed scenarios: tracing slows the proxies.

PROFILE_SECONDS=${PROFILE_SECONDS:-3}

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

# profile_instructions VARIANT: restarts duet-router under callgrind, warms it up, counts
# one wrk run's instructions, and records ir_per_request and the top functions.
profile_instructions() {
  local variant=$1 valgrind_pid line requests total i
  kill "${PROXY_PIDS[duet]}" 2>/dev/null || true
  wait "${PROXY_PIDS[duet]}" 2>/dev/null || true
  rm -f "$WORK"/callgrind.out*
  valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out" \
    duet-router --config "$WORK/duet.yaml" --log-level warn 2>>"$WORK/callgrind.log" &
  valgrind_pid=$!
  started "$valgrind_pid"
  for i in $(seq 1 300); do
    curl -sf -o /dev/null "http://127.0.0.1:$DUET_ADMIN_PORT/readyz" && break
    sleep 0.1
  done
  "${LOAD_PIN[@]}" wrk -t 1 -c 8 -d 2s -s "$HERE/wrk/post.lua" "$(url duet "$variant")" >/dev/null
  callgrind_control -z "$valgrind_pid" >/dev/null
  line=$("${LOAD_PIN[@]}" wrk -t 1 -c 8 -d "$((PROFILE_SECONDS * 2))s" -s "$HERE/wrk/post.lua" \
    "$(url duet "$variant")" | grep '^RESULT' || true)
  callgrind_control -d "$valgrind_pid" >/dev/null
  kill "$valgrind_pid" 2>/dev/null || true
  wait "$valgrind_pid" 2>/dev/null || true
  requests=$(awk '{print $9}' <<<"$line")
  [ -n "$requests" ] && [ "$requests" -gt 0 ] || { log "profile: callgrind saw no requests"; return 0; }
  callgrind_annotate --threshold=100 "$WORK/callgrind.out.1" >"$WORK/callgrind-$variant.txt" 2>/dev/null
  total=$(awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}' "$WORK/callgrind-$variant.txt")
  record profile "$variant" duet 1 ir_per_request $((total / requests))
  # Self cost per function, largest first, as "share<TAB>name" lines for the report.
  callgrind_annotate --inclusive=no --threshold=100 "$WORK/callgrind.out.1" 2>/dev/null |
    awk -v total="$total" '/^ *[0-9,]+ +\(/ && !/PROGRAM TOTALS/ && shown < 15 {
        ir = $1; gsub(",", "", ir); $1 = ""; $2 = ""
        if (ir + 0 > total / 2) next  # the thread entry and the event loop: all of it, not self
        name = $0; sub(/^ +/, "", name); sub(/\(.*/, "", name); sub(/^[^:]*:/, "", name)
        printf "%.1f\t%s\n", 100 * ir / total, substr(name, 1, 90); shown++ }' \
    >"$WORK/callgrind-top-$variant.tsv"
  log "profile: $((total / requests)) instructions per $variant request over $requests requests"
}
