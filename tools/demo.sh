#!/usr/bin/env bash
# `make demo`: duetd with manifests/examples/demo.yaml on duet-sim engines, duet-router in
# front, and a curl that goes through both. Runs until Ctrl-C (or exits after the first
# curl when DEMO_ONCE=1). Everything it starts lives in one session and goes with it.
set -euo pipefail

bin=$(cd "${1:?usage: demo.sh BIN_DIR}" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
work="$top/.demo"
rm -rf "$work"
mkdir -p "$work"
export PATH="$bin:$PATH"  # engines run `duet-sim` from the manifest's command
export DUET_SERVER="unix:$work/duetd.sock"

pids=()
duetd_pid=""
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  # Engines have process groups of their own (they outlive a duetd restart) but stay in
  # duetd's session, which setsid gave it: that session is exactly what the demo started.
  [ -n "$duetd_pid" ] && pkill -KILL -s "$duetd_pid" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 0' INT TERM

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then echo "demo: timed out waiting for $what" >&2; exit 1; fi
    sleep 0.1
  done
}

free_port() {
  python3 - <<'PY' 2>/dev/null || echo 8080
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])
PY
}

echo "demo: starting duetd (state and engine logs in .demo/)"
setsid "$bin/duetd" --api "$DUET_SERVER" --state-dir "$work/state" --port-range 21000-21999 \
  2>"$work/duetd.log" &
duetd_pid=$!
disown "$duetd_pid"  # cleanup kills it; bash need not report that
wait_for 10 "duetd" test -S "$work/duetd.sock"

"$bin/duetctl" apply -f "$top/manifests/examples/demo.yaml"
all_ready() { "$bin/duetctl" get engines -o json | grep -c '"ready": true' | grep -qx 3; }
wait_for 30 "3 Ready engines" all_ready
"$bin/duetctl" get engines

port=8080
(exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && port=$(free_port)
echo "demo: starting duet-router on 127.0.0.1:$port"
"$bin/duet-router" --listen "127.0.0.1:$port" --source "$DUET_SERVER" \
  --admin 127.0.0.1:0 2>"$work/router.log" &
pids+=($!)
disown $!
routed() { curl -sf -o /dev/null "http://127.0.0.1:$port/v1/models"; }
wait_for 10 "duet-router" routed

cmd="curl -si http://127.0.0.1:$port/v1/completions -H 'content-type: application/json' -d '{\"model\": \"deepseek-r1\", \"prompt\": \"Hello duet\", \"max_tokens\": 8}'"
echo
echo "Try it (x-duet-replica names the duet-sim replica that answered):"
echo "  $cmd"
echo "Streaming:  add \"stream\": true to the body.   Engines:  DUET_SERVER=$DUET_SERVER $bin/duetctl get engines"
echo
eval "$cmd" | sed 's/^/  | /'
echo
# The dashboard: `duetctl dashboard` serves it and the node API on loopback with the
# socket's access, so the browser needs no token (docs/dashboard.md).
ui_port=8001
(exec 3<>/dev/tcp/127.0.0.1/$ui_port) 2>/dev/null && ui_port=$(free_port)
"$bin/duetctl" --server "$DUET_SERVER" dashboard --port "$ui_port" >"$work/dashboard.log" 2>&1 &
pids+=($!)
disown $!
dashboard_up() { curl -sf -o /dev/null "http://127.0.0.1:$ui_port/ui/"; }
wait_for 10 "duetctl dashboard" dashboard_up
echo "Dashboard (devices, replicas, rollouts, traffic, live): http://127.0.0.1:$ui_port/ui/"
echo "  (over ssh: ssh -L $ui_port:127.0.0.1:$ui_port this-host, then open it on your laptop)"
echo
[ "${DEMO_ONCE:-0}" = 1 ] && exit 0
echo "demo: running; Ctrl-C stops duetd, duet-router and the engines."
sleep infinity &
pids+=($!)
wait $!  # until Ctrl-C; the EXIT trap cleans up
