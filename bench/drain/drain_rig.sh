#!/usr/bin/env bash
# The drain rig (issue 19): 200 SSE streams of 15–30 s each kept running through duet-router
# (duet-bench-streamload) while duetd and the router go through every planned change, one
# at a time. The engines are duet-sim replicas on one of 8 Ascend NPUs each, of a fake
# device tree (--dev-root), so that a device can be made Unhealthy by deleting its node;
# they cut every stream they still have at SIGTERM (--shutdown-timeout-ms 0), so a stream
# that ends whole is one that SIGTERM came after. For each scenario: streams cut and requests failed while it ran (both must be
# 0), and how long it took (scale-down until the last leaving engine exited; reload until
# the new router served and until the old one exited).
# Usage: bench/drain/drain_rig.sh BIN_DIR [STREAMS]   (BIN_DIR holds duetd, duet-router,
# duet-sim, duetctl and duet-bench-streamload); writes a Markdown table on stdout.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

bin="$(cd "${1:?usage: drain_rig.sh BIN_DIR [STREAMS]}" && pwd)"
streams="${2:-200}"
work="$(mktemp -d /tmp/duet-drain.XXXXXX)"
export PATH="$bin:$PATH" DUET_SERVER="unix:$work/duetd.sock"
proxy_port=$((30000 + RANDOM % 2000))
admin_port=$((proxy_port + 2000))
pids=()

cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  [ -f "$work/duetd.pid" ] && kill -9 "$(cat "$work/duetd.pid")" 2>/dev/null || true
  pkill -9 -f "duet-router --config $work" 2>/dev/null || true
  pkill -9 -f "duet-sim --port 43[0-9][0-9][0-9] " 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

log() { echo "$(date +%T) $*" >&2; }

mkdir -p "$work/sys"
for node in davinci0 davinci1 davinci2 davinci3 davinci4 davinci5 davinci6 davinci7 \
            davinci_manager devmm_svm hisi_hdc; do
  mkdir -p "$work/dev"; : >"$work/dev/$node"
done

start_duetd() {
  setsid duetd --api "$DUET_SERVER" --state-dir "$work/state" --port-range 43000-43999 \
    --dev-root "$work/dev" --sys-root "$work/sys" --log-level warn 2>>"$work/duetd.log" &
  echo $! >"$work/duetd.pid"
  until [ -S "$work/duetd.sock" ] && duetctl get engines >/dev/null 2>&1; do sleep 0.05; done
}

# One NPU a replica, 100 ms a token, every stream still open cut at SIGTERM.
sim_template() {
  cat <<YAML
  resources: {devices: 1}
  template:
    command: [duet-sim, --port, "\${PORT}", --model, m, --name, "\${NAME}", --tpot-ms, "100",
              --shutdown-timeout-ms, "0"]
    readinessProbe: {httpGet: {path: /health}, periodSeconds: 1}
    terminationGracePeriodSeconds: 60
YAML
}

manifest() {  # $1: replicas, $2: version, $3: strategy (none|canary)
  # `big`, the large pool: where small requests spill when chat has no replica
  deployment_head big 2 ascend
  sim_template
  echo ---
  deployment_head chat "$1" ascend | sed '1,5d'  # its RuntimeClass is above
  echo "  version: $2"
  sim_template
  if [ "$3" = canary ]; then cat <<YAML
  strategy:
    type: Canary
    canary:
      replicas: 1
      capacity: surge
      steps: [{setWeight: 25}, {pause: {}}]
YAML
  fi
  route_head chat
  cat <<YAML
  sizeRouting: {thresholdTokens: 4096, small: chat, large: big}
  scheduling: {policy: leastRequest}
YAML
}

apply() { manifest "$@" >"$work/chat.yaml"; duetctl apply -f "$work/chat.yaml" >/dev/null; }
engines() { duetctl get engines -o json | jq -c '[.items[] | {name, state, pid}]'; }
# chat's replicas only (big's two run throughout)
running() { duetctl get engines -o json | jq '[.items[] | select(.deployment == "chat" and .pid != 0 and .pid != null)] | length'; }
ready() { duetctl get engines -o json | jq '[.items[] | select(.deployment == "chat" and .state == "Ready")] | length'; }
router_pid() { pgrep -f "duet-router --config $work/router.yaml" | head -1; }

start_router() {
  cat >"$work/router.yaml" <<YAML
listen: [{address: "127.0.0.1:$proxy_port"}]
admin: "127.0.0.1:$admin_port"
threads: 1
sources: ["$DUET_SERVER"]
drainTimeoutSeconds: 60
YAML
  setsid duet-router --config "$work/router.yaml" >>"$work/router.log" 2>&1 &
  wait_for 20 'curl -fs "127.0.0.1:$admin_port/readyz" -o /dev/null'
}

# Counts stream outcomes that ended between two marks of the load's output.
outcomes_since() {  # $1: a line count of load.out at the scenario's start
  tail -n +"$(( $1 + 1 ))" "$work/load.out" | awk '$2 == "cut" {c++} $2 == "failed" {f++}
    END {printf "%d %d\n", c + 0, f + 0}'
}
mark() { wc -l <"$work/load.out"; }
rows=()
record() {  # $1 scenario, $2 start mark, $3 figures
  local cf; cf=$(outcomes_since "$2")
  rows+=("| $1 | ${cf% *} | ${cf#* } | $3 |")
  log "$1: cut/failed $cf; $3"
}
settle() { wait_for 120 "[ \"\$(ready)\" -ge $1 ]"; sleep 2; }

start_duetd
apply 4 v1 none
wait_for 60 '[ "$(ready)" -eq 4 ]'
start_router
# a quarter with `x-canary: true`: they all come from one address, which stickiness would
# put on one side of a canary
duet-bench-streamload --to "127.0.0.1:$proxy_port" --streams "$streams" --canary-share 0.25 \
  >"$work/load.out" 2>&1 &
load_pid=$!; pids+=("$load_pid")
log "load: $streams streams of 150-300 tokens at 100 ms a token"
sleep 20  # every stream running, most half way

# 1. scale 4 -> 1: the time until the last of the three leaving engines has exited
m=$(mark); t0=$(now_ms); apply 1 v1 none
wait_for 120 '[ "$(running)" -eq 1 ]'
record "scale 4 → 1" "$m" "last leaving engine exited after $(( $(now_ms) - t0 )) ms"
apply 4 v1 none; settle 4

# 2. canary rollout, promoted; 3. one aborted
m=$(mark); t0=$(now_ms); apply 4 v2 canary
wait_for 120 'duetctl rollout status chat | grep -q Paused'
sleep 15  # the canary takes its share of new streams before the promotion
duetctl rollout promote chat >/dev/null
wait_for 300 'duetctl rollout status chat | grep -q Healthy'
wait_for 120 '[ "$(running)" -eq 4 ]'
record "canary rollout, promoted" "$m" "healthy, old replicas gone after $(( $(now_ms) - t0 )) ms"
settle 4
m=$(mark); t0=$(now_ms); apply 4 v3 canary
wait_for 120 'duetctl rollout status chat | grep -q Paused'
sleep 15  # streams on the canary when it is aborted
duetctl rollout abort chat >/dev/null
wait_for 120 '[ "$(running)" -eq 4 ]'
record "canary rollout, aborted" "$m" "canary gone after $(( $(now_ms) - t0 )) ms"
settle 4

# 4. the router replaced (systemctl reload): time until the new one serves, and until the
#    old one has finished its streams and exited
m=$(mark); old=$(router_pid); t0=$(now_ms); kill -USR2 "$old"
wait_for 60 'grep -q "event=replaced" "$work/router.log"'; served=$(( $(now_ms) - t0 ))
wait_for 120 '! kill -0 $old 2>/dev/null'
record "router reload (SIGUSR2)" "$m" "new router serving after $served ms; old exited after $(( $(now_ms) - t0 )) ms"

# 5. duetd SIGKILLed in the middle of a drain, started again (v2 is stable since 2.)
m=$(mark); t0=$(now_ms); apply 2 v2 canary
wait_for 30 'duetctl get engines | grep -q Draining'
kill -9 "$(cat "$work/duetd.pid")"; sleep 1; start_duetd
wait_for 120 '[ "$(running)" -eq 2 ]'
record "duetd SIGKILL mid-drain" "$m" "drain resumed; leaving engines exited after $(( $(now_ms) - t0 )) ms"
apply 4 v2 canary; settle 4

# 6. a device turned Unhealthy (its node gone): the replica on it drains, then runs again on
#    a free NPU
m=$(mark); t0=$(now_ms)
device=$(duetctl get engines -o json | jq -r '.items[] | select(.name == "chat-0") | .devices[0]')
old_pid=$(duetctl get engines -o json | jq -r '.items[] | select(.name == "chat-0") | .pid')
rm "$work/dev/davinci$device"
wait_for 120 "duetctl get engines -o json | jq -e '.items[] | select(.name == \"chat-0\" and .state == \"Ready\" and .pid != $old_pid)' >/dev/null"
record "NPU $device Unhealthy" "$m" "chat-0 drained and Ready on another NPU after $(( $(now_ms) - t0 )) ms"
: >"$work/dev/davinci$device"
settle 4

# 7. duetctl drain, then uncordon. One node: while it is drained nothing can serve, so the
#    load opens no new stream meanwhile (SIGUSR1); the streams in flight must end whole.
m=$(mark); t0=$(now_ms)
kill -USR1 "$load_pid"
duetctl drain --timeout 300 >/dev/null
drained=$(( $(now_ms) - t0 ))
duetctl uncordon >/dev/null; settle 4
kill -USR1 "$load_pid"
sleep 20  # the streams held back start (and get their answer's header) before the Route goes
record "duetctl drain + uncordon (no new streams while drained)" "$m" "node drained after $drained ms"

# 8. chat scaled to 0: its Route's small pool is empty, so new streams spill to the large
#    pool (big) while chat's replicas drain
m=$(mark); t0=$(now_ms); apply 0 v2 canary
wait_for 120 '[ "$(running)" -eq 0 ]'
record "small pool scaled to 0 (spill to the large pool)" "$m" "chat's engines exited after $(( $(now_ms) - t0 )) ms"
apply 4 v2 canary; settle 4

# 9. the deployments deleted, their Route first (no new stream could be served after it):
#    the streams in flight must still end whole
m=$(mark); t0=$(now_ms)
kill -INT "$load_pid"  # no new streams: what is left runs to its end
duetctl delete -f "$work/chat.yaml" >/dev/null
wait_for 120 '[ "$(duetctl get engines -o json | jq ".items | length")" -eq 0 ]'
record "Route and deployments deleted (no new streams)" "$m" "every engine exited after $(( $(now_ms) - t0 )) ms"
wait "$load_pid" || true

echo "| scenario | streams cut | requests failed | figures |"
echo "| --- | ---: | ---: | --- |"
printf '%s\n' "${rows[@]}"
echo
echo "load: $(tail -1 "$work/load.out")"
