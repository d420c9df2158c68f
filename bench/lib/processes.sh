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

start_sim() {  # start_sim NAME PORT: a duet-sim with no latency and a fixed 16-token reply
  "${LOAD_PIN[@]}" duet-sim --port "$2" --name "$1" --model bench --ttft-ms 0 --tpot-ms 0 \
    --log-level warn 2>>"$WORK/$1.log" &
  started $!
  SIM_PIDS[$1]=$!
  wait_port "$2"
}

start_stamp() {
  "${LOAD_PIN[@]}" duet-bench-stamp --port "$STAMP_PORT" --chunks "$STREAM_CHUNKS" \
    --gap-us "$STREAM_GAP_US" 2>>"$WORK/stamp.log" &
  started $!
  wait_port "$STAMP_PORT"
}

start_source() {  # start_source NAME: serves bench/peers/source-NAME.json.in on NAME.sock
  render "$HERE/peers/source-$1.json.in" "$WORK/source-$1.json"
  duet-bench-source "$WORK/$1.sock" "$WORK/source-$1.json" 2>>"$WORK/source-$1.log" &
  started $!
  until [ -S "$WORK/$1.sock" ]; do sleep 0.01; done
}

# start_duet KEY SOURCE PLAIN_PORT TLS_PORT ADMIN_PORT
start_duet() {
  local SOURCE=$2 PLAIN_PORT=$3 TLS_PORT=$4 ADMIN_PORT=$5 i
  render "$HERE/peers/duet-router.yaml.in" "$WORK/$1.yaml"
  "${PROXY_PIN[@]}" duet-router --config "$WORK/$1.yaml" --log-level warn \
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

start_nginx() {
  local PLAIN_PORT=$NGINX_PORT TLS_PORT=$NGINX_TLS_PORT master
  mkdir -p "$WORK/nginx-tmp"
  render "$HERE/peers/nginx.conf.in" "$WORK/nginx.conf"
  "${PROXY_PIN[@]}" nginx -c "$WORK/nginx.conf" -e "$WORK/nginx-error.log" &
  master=$!
  started "$master"
  wait_port "$NGINX_PORT"
  until pgrep -P "$master" >/dev/null; do sleep 0.01; done  # the workers
  PROXY_PIDS[nginx]="$master $(pgrep -P "$master" | tr '\n' ' ')"
}

start_haproxy() {
  local PLAIN_PORT=$HAPROXY_PORT TLS_PORT=$HAPROXY_TLS_PORT
  cat "$WORK/cert.pem" "$WORK/key.pem" >"$WORK/haproxy.pem"
  render "$HERE/peers/haproxy.cfg.in" "$WORK/haproxy.cfg"
  "${PROXY_PIN[@]}" haproxy -db -f "$WORK/haproxy.cfg" 2>>"$WORK/haproxy.log" &
  started $!
  PROXY_PIDS[haproxy]=$!
  wait_port "$HAPROXY_PORT"
}

# The same ECDSA P-256 certificate for every proxy; the ES256 key, JWKS and tokens.
make_credentials() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=duet-bench -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
  duet-bench-token "$WORK" 16
}
