# Starting what bench/run.sh measures: upstreams, the fixed watch sources, and the three
# proxies. Every process is recorded in STARTED so that cleanup ends exactly those.

STARTED=()
declare -A PROXY_PIDS  # proxy → the pids whose CPU time and peak RSS count for it
declare -A SIM_PIDS    # upstream name → pid

started() { STARTED+=("$1"); }
stop_all() {
  local pid
  for pid in "${STARTED[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${STARTED[@]}"; do wait "$pid" 2>/dev/null || true; done
  STARTED=()
}
# stop PID...: ends processes started here before the rest (a proxy started for one run).
stop() {
  local pid kept=() left
  for pid in "$@"; do kill "$pid" 2>/dev/null || true; done
  for pid in "$@"; do wait "$pid" 2>/dev/null || true; done
  for left in "${STARTED[@]}"; do [[ " $* " == *" $left "* ]] || kept+=("$left"); done
  STARTED=("${kept[@]}")
}

start_sim() {  # start_sim NAME PORT: a duet-sim with no latency and a fixed 16-token reply
  "${LOAD_PIN[@]}" duet-sim --port "$2" --name "$1" --model bench --ttft-ms 0 --tpot-ms 0 \
    --log-level warn 2>>"$WORK/$1.log" &
  started $!
  SIM_PIDS[$1]=$!
  wait_port "$2"
}

# start_stamp [PORT CHUNKS GAP_US]: duet-bench-stamp, by default scenario 5's. It accepts
# MAX_CONNS connections (the streaming-scale scenario holds thousands).
start_stamp() {
  local port=${1:-$STAMP_PORT}
  "${LOAD_PIN[@]}" duet-bench-stamp --port "$port" --chunks "${2:-$STREAM_CHUNKS}" \
    --gap-us "${3:-$STREAM_GAP_US}" --max-connections "$MAX_CONNS" 2>>"$WORK/stamp-$port.log" &
  started $!
  wait_port "$port"
}

# start_source NAME [KEY]: serves bench/peers/source-NAME.json.in, rendered with the ports of
# now, on KEY.sock (KEY: NAME when not given).
start_source() {
  local key=${2:-$1}
  render "$HERE/peers/source-$1.json.in" "$WORK/source-$key.json"
  duet-bench-source "$WORK/$key.sock" "$WORK/source-$key.json" 2>>"$WORK/source-$key.log" &
  started $!
  until [ -S "$WORK/$key.sock" ]; do sleep 0.01; done
}

# start_duet KEY SOURCE PLAIN_PORT TLS_PORT ADMIN_PORT (DUET_ROUTER: another binary)
start_duet() {
  local SOURCE=$2 PLAIN_PORT=$3 TLS_PORT=$4 ADMIN_PORT=$5 i
  render "$HERE/peers/duet-router.yaml.in" "$WORK/$1.yaml"
  "${PROXY_PIN[@]}" "${DUET_ROUTER:-duet-router}" --config "$WORK/$1.yaml" --log-level warn \
    2>>"$WORK/$1.log" &
  started $!
  PROXY_PIDS[$1]=$!
  for i in $(seq 1 500); do
    curl -sf -o /dev/null "http://127.0.0.1:$ADMIN_PORT/readyz" && return 0
    sleep 0.02
  done
  log "$1 did not become ready: $(tail -5 "$WORK/$1.log")"
  return 1
}

# start_nginx [KEY PLAIN_PORT TLS_PORT]: by default the nginx of scenarios 2-5.
start_nginx() {
  local KEY=${1:-nginx} PLAIN_PORT=${2:-$NGINX_PORT} TLS_PORT=${3:-$NGINX_TLS_PORT} master
  mkdir -p "$WORK/nginx-tmp"
  render "$HERE/peers/nginx.conf.in" "$WORK/$KEY.conf"
  "${PROXY_PIN[@]}" nginx -c "$WORK/$KEY.conf" -e "$WORK/$KEY-error.log" &
  master=$!
  started "$master"
  wait_port "$PLAIN_PORT"
  # Every worker, not just the first, before their pids are taken.
  until [ "$(pgrep -c -P "$master")" -ge "$THREADS" ]; do sleep 0.01; done
  PROXY_PIDS[$KEY]="$master $(pgrep -P "$master" | tr '\n' ' ')"
}

# start_haproxy [KEY PLAIN_PORT TLS_PORT]: by default the HAProxy of scenarios 2-5.
start_haproxy() {
  local KEY=${1:-haproxy} PLAIN_PORT=${2:-$HAPROXY_PORT} TLS_PORT=${3:-$HAPROXY_TLS_PORT}
  cat "$WORK/cert.pem" "$WORK/key.pem" >"$WORK/haproxy.pem"
  render "$HERE/peers/haproxy.cfg.in" "$WORK/$KEY.cfg"
  "${PROXY_PIN[@]}" haproxy -db -f "$WORK/$KEY.cfg" 2>>"$WORK/$KEY.log" &
  started $!
  PROXY_PIDS[$KEY]=$!
  wait_port "$PLAIN_PORT"
}

# start_floor: duet-bench-floor, issue 21's yardstick (plain, in front of sim-0).
start_floor() {
  "${PROXY_PIN[@]}" duet-bench-floor --port "$FLOOR_PORT" --upstream-port "$SIM_PORT" 2>>"$WORK/floor.log" &
  started $!
  PROXY_PIDS[floor]=$!
  wait_port "$FLOOR_PORT"
}

# start_proxy PROXY KEY PLAIN_PORT TLS_PORT ADMIN_PORT: one of the three under its own key,
# with the THREADS, PROXY_PIN and MAX_CONNS of the caller (duet-router reads the source
# KEY.sock, which must run).
start_proxy() {
  case $1 in
    duet) start_duet "$2" "$2" "$3" "$4" "$5" ;;
    nginx) start_nginx "$2" "$3" "$4" ;;
    haproxy) start_haproxy "$2" "$3" "$4" ;;
  esac
}

# The same ECDSA P-256 certificate for every proxy; the ES256 key, JWKS and tokens.
make_credentials() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=duet-bench -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
  duet-bench-token "$WORK" 16
}
