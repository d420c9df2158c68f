# Helpers of bench/run.sh: templates, cores, waiting, and what /proc tells about a process.

log() { echo "bench: $*" >&2; }

# The head of a duet-sim deployment: a RuntimeClass named after its handler $3 (cpu when
# not given), then an EngineDeployment named $1 with $2 replicas of that class, up to
# `spec.replicas`; the caller writes the rest of its spec.
deployment_head() {
  local handler="${3:-cpu}"
  cat <<YAML
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: $handler}
handler: $handler
---
apiVersion: duet/v1alpha1
kind: EngineDeployment
metadata: {name: $1}
spec:
  runtimeClassName: $handler
  replicas: $2
YAML
}

# The head of a Route named $1 for /v1/ (after a `---`); the caller writes the rest of its spec.
route_head() {
  cat <<YAML
---
apiVersion: duet/v1alpha1
kind: Route
metadata: {name: $1}
spec:
  match: {pathPrefix: /v1/}
YAML
}

# render TEMPLATE OUT: every @NAME@ becomes the value of the shell variable NAME.
render() {
  local text name
  text=$(<"$1")
  for name in $(grep -o '@[A-Z0-9_]*@' "$1" | sort -u | tr -d @); do
    text=${text//@$name@/${!name}}
  done
  printf '%s\n' "$text" >"$2"
}

# Cores: the proxy under test gets the first half, the load generator and the upstreams the
# rest, so a proxy never competes with the load for a core. One core: nothing is pinned.
# PROXY_PIN and LOAD_PIN prefix a command (an array, not a function, so that `$!` of a
# command started with `&` is the command's own pid, which cleanup must kill).
split_cores() {
  local n
  n=$(nproc)
  PROXY_PIN=() LOAD_PIN=() PROXY_CPUS="" LOAD_CPUS="" THREADS=1
  if [ "$n" -ge 2 ]; then
    PROXY_CPUS="0-$((n / 2 - 1))"
    LOAD_CPUS="$((n / 2))-$((n - 1))"
    THREADS=$((n / 2))
    PROXY_PIN=(taskset -c "$PROXY_CPUS")
    LOAD_PIN=(taskset -c "$LOAD_CPUS")
  fi
}
# cap_cpu NAME PERCENT PID...: the processes (every thread) get at most PERCENT % of one CPU,
# through a cgroup-v1 cpu quota of their own (duet-bench-$$/NAME), so that the proxy under
# test, not the load generator beside it, is the bottleneck (issue 21). uncap_all undoes it.
cap_cpu() {
  local name=$1 percent=$2 dir=/sys/fs/cgroup/cpu/duet-bench-$$/$1 pid
  shift 2
  mkdir -p "$dir" || { log "no cgroup-v1 cpu controller: $name not capped"; return 1; }
  echo 100000 >"$dir/cpu.cfs_period_us"
  echo $((percent * 1000)) >"$dir/cpu.cfs_quota_us"
  for pid in "$@"; do echo "$pid" >"$dir/cgroup.procs" 2>/dev/null || true; done
}
uncap_all() {
  local root=/sys/fs/cgroup/cpu/duet-bench-$$ dir pid
  [ -d "$root" ] || return 0
  for dir in "$root"/*/; do
    [ -d "$dir" ] || continue
    while read -r pid; do echo "$pid" >/sys/fs/cgroup/cpu/cgroup.procs 2>/dev/null || true; done <"$dir/cgroup.procs"
    rmdir "$dir" 2>/dev/null || true
  done
  rmdir "$root" 2>/dev/null || true
}

pin() {  # pin CPUS PID: move every thread of a running process
  [ -n "$1" ] && taskset -a -p -c "$1" "$2" >/dev/null
  return 0
}

wait_port() {  # wait_port PORT: until something accepts on 127.0.0.1:PORT (10 s at most)
  local i
  for i in $(seq 1 1000); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.01
  done
  log "nothing listens on port $1"
  return 1
}
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

now_ms() { date +%s%3N; }
wait_for() {  # $1: seconds, $2: a shell condition, evaluated again each time
  local until=$(( $(now_ms) + $1 * 1000 ))
  until eval "$2"; do
    [ "$(now_ms)" -lt "$until" ] || { log "timed out waiting for: $2"; return 1; }
    sleep 0.1
  done
}

# CPU time of processes, in clock ticks (utime + stime of /proc/PID/stat).
cpu_ticks() {
  local pid total=0
  for pid in "$@"; do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
# CPU time the whole machine spent busy (every process, ours and others'), in clock ticks.
machine_busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9; exit}' /proc/stat; }
peak_rss_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
rss_kb() {  # rss_kb PID...: resident memory now (VmRSS), summed over the processes
  local pid total=0
  for pid in "$@"; do
    total=$((total + $(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

# The median of numbers on stdin (the lower one of an even count).
median() { sort -g | awk '{a[NR] = $1} END {if (NR) print a[int((NR + 1) / 2)]}'; }
