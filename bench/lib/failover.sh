# Scenario 7: two duet-sim replicas behind duet-router, load on, one replica SIGKILLed half
# way. Its source keeps listing it as Ready (no duetd to notice the death), so what is
# measured is the router alone: passive ejection at the first refused connect, and retries.

router_counter() {  # router_counter ADMIN_PORT SERIES: the sum of a counter's samples
  curl -sf "http://127.0.0.1:$1/metrics" | awk -v s="$2" '$1 ~ "^" s {n += $NF} END {print n + 0}'
}
ejected() {  # ejected ADMIN_PORT REPLICA
  curl -sf "http://127.0.0.1:$1/config" |
    jq -e --arg r "$2" '[.deployments[][][]? | objects | select(.name == $r and .ejected)] | length > 0' \
      >/dev/null 2>&1
}

failover_run() {  # failover_run ROUND (the failover source runs already)
  local round=$1 t0 eject_ms=-1 retries0 load_pid
  start_sim fo-0 "$FO0_PORT"
  start_sim fo-1 "$FO1_PORT"
  start_duet duet-fo failover "$FO_PORT" "$FO_TLS_PORT" "$FO_ADMIN_PORT"
  retries0=$(router_counter "$FO_ADMIN_PORT" duet_router_retries_total)
  wrk_run failover kill duet-fo "$round" "http://127.0.0.1:$FO_PORT" "$CONNECTIONS" &
  load_pid=$!
  sleep "$(awk -v d="$DURATION" 'BEGIN {print d / 2}')"
  t0=$(now_ms)
  kill -9 "${SIM_PIDS[fo-1]}"
  while [ $(($(now_ms) - t0)) -lt 3000 ]; do
    if ejected "$FO_ADMIN_PORT" fo-1; then eject_ms=$(($(now_ms) - t0)); break; fi
  done
  wait "$load_pid"
  record failover kill duet-fo "$round" ejected_ms "$eject_ms"
  record failover kill duet-fo "$round" retries \
    $(($(router_counter "$FO_ADMIN_PORT" duet_router_retries_total) - retries0))
  kill "${PROXY_PIDS[duet-fo]}" "${SIM_PIDS[fo-0]}" 2>/dev/null || true
  wait "${PROXY_PIDS[duet-fo]}" "${SIM_PIDS[fo-0]}" "${SIM_PIDS[fo-1]}" 2>/dev/null || true
}
