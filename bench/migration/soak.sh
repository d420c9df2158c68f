#!/usr/bin/env bash
# The migration soak (issue 20): STREAMS SSE completions kept running through duet-router
# (duet-bench-streamload) for SECONDS while a random Ready engine replica is SIGKILLed every
# KILL_EVERY seconds, as long as more than MIN_READY are Ready (duetd restarts each, after
# its restart back-off of 1 s doubling: killing faster than that empties the pool, and a
# stream with no engine left to go to ends with the error event, which is not what this
# measures). The replicas are duet-sim engine models (their
# answers are functions of the token ids, and they return them) of one deployment whose Route
# has `migration.enabled`. Counts streams whole, cut and failed (cut must be 0), and reads the
# router's log for each migration's seam gap (the last token before the failure to the next
# one, as the client sees it) and the tokens each continuation sent again.
# Usage: bench/migration/soak.sh BIN_DIR [STREAMS] [SECONDS]   (BIN_DIR holds duetd,
# duet-router, duet-sim, duetctl and duet-bench-streamload); writes Markdown on stdout.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

bin="$(cd "${1:?usage: soak.sh BIN_DIR [STREAMS] [SECONDS]}" && pwd)"
streams="${2:-1000}"
seconds="${3:-300}"
kill_every="${KILL_EVERY:-3}"
replicas="${REPLICAS:-6}"
min_ready="${MIN_READY:-$((replicas / 2))}"
max_migrations="${MAX_MIGRATIONS:-3}"  # the Route's migration.maxMigrations
work="$(mktemp -d /tmp/duet-soak.XXXXXX)"
export PATH="$bin:$PATH" DUET_SERVER="unix:$work/duetd.sock"
proxy_port=$((32000 + RANDOM % 2000))
admin_port=$((proxy_port + 2000))

cleanup() {
  [ -n "${load_pid:-}" ] && kill -9 "$load_pid" 2>/dev/null || true
  [ -f "$work/duetd.pid" ] && kill -9 "$(cat "$work/duetd.pid")" 2>/dev/null || true
  pkill -9 -f "duet-router --config $work" 2>/dev/null || true
  pkill -9 -f "duet-sim --port 44[0-9][0-9][0-9] " 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

setsid duetd --api "$DUET_SERVER" --state-dir "$work/state" --port-range 44000-44999 \
  --log-level warn 2>>"$work/duetd.log" &
echo $! >"$work/duetd.pid"
wait_for 20 '[ -S "$work/duetd.sock" ] && duetctl get engines >/dev/null 2>&1'

# Answers of 150-300 tokens at about 20 ms a token (the H100 model's step at this batch,
# slowed 4x so that streams last seconds), 1,000 streams over the replicas.
{ deployment_head chat "$replicas"; cat <<YAML
  template:
    command: [duet-sim, --port, "\${PORT}", --model, m, --name, "\${NAME}", --profile, nvidia-h100,
              --time-scale, "0.25", --max-connections, "4096"]
    readinessProbe: {httpGet: {path: /health}, periodSeconds: 1}
    terminationGracePeriodSeconds: 5
YAML
route_head chat; cat <<YAML
  backend: chat
  scheduling: {policy: leastRequest}
  migration: {enabled: true, maxMigrations: $max_migrations}
YAML
} >"$work/chat.yaml"
duetctl apply -f "$work/chat.yaml" >/dev/null
ready() { duetctl get engines -o json | jq '[.items[] | select(.state == "Ready")] | length'; }
wait_for 60 '[ "$(ready)" -eq '"$replicas"' ]'

cat >"$work/router.yaml" <<YAML
listen: [{address: "127.0.0.1:$proxy_port"}]
admin: "127.0.0.1:$admin_port"
threads: 1
limits: {maxConnections: 20000}
sources: ["$DUET_SERVER"]
YAML
setsid duet-router --config "$work/router.yaml" >>"$work/router.log" 2>&1 &
wait_for 20 'curl -fs "127.0.0.1:$admin_port/readyz" -o /dev/null'

duet-bench-streamload --to "127.0.0.1:$proxy_port" --streams "$streams" >"$work/load.out" 2>&1 &
load_pid=$!
log "load: $streams streams; a replica SIGKILLed every $kill_every s for $seconds s"
sleep 10  # every stream open
t_end=$(( $(now_ms) + seconds * 1000 ))
kills=0 skipped=0
while [ "$(now_ms)" -lt "$t_end" ]; do
  pids=$(duetctl get engines -o json | jq -r '[.items[] | select(.state == "Ready" and .pid > 0) | .pid] | .[]')
  if [ "$(echo "$pids" | grep -c .)" -gt "$min_ready" ]; then
    kill -9 "$(echo "$pids" | shuf -n 1)" 2>/dev/null && kills=$((kills + 1))
  else
    skipped=$((skipped + 1))
  fi
  sleep "$kill_every"
done
kill -INT "$load_pid"  # no new streams: the ones open run to their end
wait "$load_pid" || true
load_pid=

total=$(tail -1 "$work/load.out")
gaps=$(grep -o 'event=stream_resumed.*' "$work/router.log" | grep -o 'gap_ms=[0-9]*' | cut -d= -f2 | sort -n)
resent=$(grep -o 'event=stream_migrating.*' "$work/router.log" | grep -o 'resent_tokens=[0-9]*' | cut -d= -f2 | sort -n)
pct() { [ -z "$1" ] && { echo -; return; }; echo "$1" | awk -v p="$2" '{v[NR]=$1} END {i=int((NR-1)*p)+1; print v[i]}'; }
migrations=$(curl -fs "127.0.0.1:$admin_port/metrics" |
  awk '$1 ~ /^duet_router_stream_migrations_total([{]|$)/ {n += $2} END {print n + 0}')
gave_up=$(grep -c 'migration: ' "$work/router.log" || true)

echo "| maxMigrations | replicas SIGKILLed (ticks skipped: $min_ready or fewer Ready) | streams (whole / cut / failed) | migrations | gave up | seam gap p50 / p99 ms | tokens sent again p50 / p99 |"
echo "| ---: | --- | --- | ---: | ---: | --- | --- |"
echo "| $max_migrations | $kills ($skipped) | ${total#total } | ${migrations:-0} | $gave_up | $(pct "$gaps" 0.5) / $(pct "$gaps" 0.99) | $(pct "$resent" 0.5) / $(pct "$resent" 0.99) |"
grep ' cut ' "$work/load.out" | head -5 >&2 || true
