#!/usr/bin/env bash
# bench/RESULTS.md from a run's work folder: env.txt (machine, versions, settings) and
# results.tsv (`scenario variant proxy round metric value`, one line per measurement); the
# scheduling section from scheduling/ (bench/scheduling/report.sh, plots into RESULTS_DIR),
# else the one of previous-RESULTS.md.
# Usage: [RESULTS_DIR=DIR] bench/report.sh WORK_DIR > bench/RESULTS.md
set -euo pipefail
work=${1:?usage: report.sh WORK_DIR}
tsv="$work/results.tsv"
env_of() { awk -v k="$1" '$1 == k {sub(/^[^ ]+ /, ""); print}' "$work/env.txt"; }

vals() {  # vals SCENARIO VARIANT PROXY METRIC: one value per round
  awk -F'\t' -v s="$1" -v v="$2" -v p="$3" -v m="$4" \
    '$1 == s && $2 == v && $3 == p && $5 == m {print $6}' "$tsv"
}
# Per round, A's metric against B's: `ratio` divides, `minus` subtracts.
per_round() {  # per_round ratio|minus SCENARIO_A VARIANT_A PROXY_A SCENARIO_B VARIANT_B PROXY_B METRIC
  awk -F'\t' -v op="$1" -v sa="$2" -v va="$3" -v pa="$4" -v sb="$5" -v vb="$6" -v pb="$7" \
    -v m="$8" '$5 != m {next}
      $1 == sa && $2 == va && $3 == pa {a[$4] = $6}
      $1 == sb && $2 == vb && $3 == pb {b[$4] = $6}
      END {for (r in a) if (r in b) {
        if (op == "minus") print a[r] - b[r]; else if (b[r] > 0) print a[r] / b[r]}}' "$tsv"
}
# Median (min–max) of numbers on stdin, printed with FORMAT; "–" when there are none.
stats() {  # stats FORMAT
  sort -g | awk -v f="$1" '{a[NR] = $1}
    END {if (!NR) {print "–"; exit}
         m = sprintf(f, a[int((NR + 1) / 2)]); lo = sprintf(f, a[1]); hi = sprintf(f, a[NR])
         print (lo == hi ? m : m " (" lo "–" hi ")")}'
}
s() { vals "$1" "$2" "$3" "$4" | stats "${5:-%.0f}"; }

proxies="duet nginx haproxy"
label() {
  case $1 in duet) echo "duet-router";; nginx) echo nginx;; haproxy) echo HAProxy;;
    base) echo "duet-router, baseline (DUET_BASELINE)";;
    floor) echo "floor (duet-bench-floor: forwarding alone)";; *) echo "$1";; esac
}

baseline_row() {  # a line for DUET_BASELINE's build, when the run had one
  local baseline
  baseline=$(env_of baseline)
  [ -z "$baseline" ] || printf '\n| baseline | %s |' "$baseline"
}

carry_section() {  # carry_section NAME: between <!-- NAME:begin --> and <!-- NAME:end -->
  if [ -f "$work/$1.md" ]; then
    echo; cat "$work/$1.md"
  elif [ -f "$work/previous-RESULTS.md" ] && grep -q "^<!-- $1:begin" "$work/previous-RESULTS.md"; then
    echo
    awk -v name="$1" '$0 ~ "^<!-- " name ":begin" {on = 1} on {print} $0 ~ "^<!-- " name ":end" {on = 0}' \
      "$work/previous-RESULTS.md"
  fi
}

cat <<EOF
# Benchmark results

Written by \`make bench\` (bench/run.sh, method in [README.md](README.md)) on $(env_of date).
Each cell: median over rounds (min–max). Ratios are taken per round, then the median.
$( [ -s "$work/note.txt" ] && printf '\n> **Note.** %s\n' "$(cat "$work/note.txt")")
EOF
# The targets at a glance (by hand, from the sections they cite): kept from the previous run.
carry_section targets
cat <<EOF

## Machine and versions

| | |
| --- | --- |
| cores | $(env_of cores) × $(env_of cpu), $(env_of memory) |
| kernel | $(env_of kernel) |
| pinning | $(env_of pinning) |
| settings | \`$(env_of settings)\` |
| duet | $(env_of duet) |$(baseline_row)
| nginx | $(env_of nginx) |
| HAProxy | $(env_of haproxy) |
| wrk | $(env_of wrk) |
| OpenSSL | $(env_of openssl) |
| Google Benchmark | $(env_of benchmark) |

EOF

if grep -q '^throughput' "$tsv"; then
  cat <<EOF
## 1–3. Throughput: direct, and each proxy plain and TLS

wrk, $(env_of settings | grep -o 'CONNECTIONS=[0-9]*' | cut -d= -f2) connections, POST /v1/completions (184 B JSON, ES256 JWT). duet-router verifies the
JWT on every request; nginx and HAProxy forward it unchecked. "proxy CPU" is the proxy's CPU
time over the run's length; "req per CPU-s" is requests per second of proxy CPU, which
still compares the proxies when something else (upstream, load generator) is the limit.
"floor" is duet-bench-floor (bench/floor_proxy.cc), not a proxy to use: bytes forwarded
unchanged over one kept upstream connection, four syscalls a request, no routing, auth,
limits or log; the most any proxy could serve here, as a yardstick for the others.

| variant | proxy | req/s | ÷ nginx | ÷ HAProxy | p50 µs | p99 µs | proxy CPU % | req per CPU-s | failed |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
| plain | direct (no proxy) | $(s throughput plain direct rps) | | | $(s throughput plain direct p50_us) | $(s throughput plain direct p99_us) | | | $(s throughput plain direct failed) |
EOF
  throughput_row() {  # throughput_row VARIANT PROXY
    echo "| $1 | $(label $2) | $(s throughput $1 $2 rps)" \
      "| $(per_round ratio throughput $1 $2 throughput $1 nginx rps | stats %.2f)" \
      "| $(per_round ratio throughput $1 $2 throughput $1 haproxy rps | stats %.2f)" \
      "| $(s throughput $1 $2 p50_us) | $(s throughput $1 $2 p99_us)" \
      "| $(s throughput $1 $2 cpu_pct) | $(s throughput $1 $2 req_per_cpu_s)" \
      "| $(s throughput $1 $2 failed) |"
  }
  for variant in plain tls; do
    for p in $proxies; do throughput_row $variant $p; done
    if grep -qP "^throughput\t$variant\tbase\t" "$tsv"; then throughput_row $variant base; fi
    if [ "$variant" = plain ] && grep -qP '^throughput\tplain\tfloor\t' "$tsv"; then throughput_row plain floor; fi
  done
  cat <<EOF

## Added latency (one connection, one request at a time)

The same requests on a single connection, so no request waits behind another: the latency
a proxy adds is its figure minus the direct one of the same round (SPEC §9: p50 ≤ 50 µs,
p99 ≤ 500 µs, for duet with TLS and JWT).

| variant | proxy | p50 µs | p99 µs | added p50 µs | added p99 µs |
| --- | --- | --- | --- | --- | --- |
| plain | direct (no proxy) | $(s latency plain direct p50_us) | $(s latency plain direct p99_us) | | |
EOF
  for variant in plain tls; do
    for p in $proxies; do
      echo "| $variant | $(label $p) | $(s latency $variant $p p50_us) | $(s latency $variant $p p99_us)" \
        "| $(per_round minus latency $variant $p latency plain direct p50_us | stats %.0f)" \
        "| $(per_round minus latency $variant $p latency plain direct p99_us | stats %.0f) |"
    done
  done
  cat <<EOF

## 4. duet-router with JWT + size routing + canary

POST /v1/chat/completions through a sizeRouting route (threshold 256 tokens; one user in four
sends a ~1.6 KB prompt that goes to the large pool), a canary at 50 % sticky by the JWT
\`sub\` (16 users), so each request is parsed, estimated, split and picked. Compared with
duet-router's plain backend route (scenario 2/3) in the same round.

| variant | req/s | ÷ duet backend route | ÷ nginx | p50 µs | p99 µs | proxy CPU % | failed |
| --- | --- | --- | --- | --- | --- | --- | --- |
EOF
  for variant in plain tls; do
    echo "| $variant | $(s full $variant duet rps)" \
      "| $(per_round ratio full $variant duet throughput $variant duet rps | stats %.2f)" \
      "| $(per_round ratio full $variant duet throughput $variant nginx rps | stats %.2f)" \
      "| $(s full $variant duet p50_us) | $(s full $variant duet p99_us)" \
      "| $(s full $variant duet cpu_pct) | $(s full $variant duet failed) |"
  done
  echo
fi

if grep -q '^stream' "$tsv"; then
  cat <<EOF
## 5. Streaming

duet-bench-stamp (upstream) sends $(env_of settings | grep -o 'STREAM_CHUNKS=[0-9]*' | cut -d= -f2) SSE events per request, each stamped with CLOCK_MONOTONIC when
written; duet-bench-stream reads them through each proxy on one keep-alive connection and
takes arrival − stamp per event ("chunk") and, for the first event, arrival − request
written ("TTFB"). "added" is the proxy's figure minus the direct one of the same round:
the time the proxy takes to pass a chunk on (SPEC §9: ≤ 100 µs).

| variant | proxy | chunk p50 µs | chunk p99 µs | added chunk p50 µs | TTFB p50 µs | added TTFB p50 µs | failed |
| --- | --- | --- | --- | --- | --- | --- | --- |
| plain | direct (no proxy) | $(s stream plain direct chunk_p50_us %.1f) | $(s stream plain direct chunk_p99_us %.1f) | | $(s stream plain direct ttfb_p50_us %.1f) | | $(s stream plain direct failed) |
EOF
  for variant in plain tls; do
    for p in $proxies; do
      echo "| $variant | $(label $p) | $(s stream $variant $p chunk_p50_us %.1f)" \
        "| $(s stream $variant $p chunk_p99_us %.1f)" \
        "| $(per_round minus stream $variant $p stream plain direct chunk_p50_us | stats %.1f)" \
        "| $(s stream $variant $p ttfb_p50_us %.1f)" \
        "| $(per_round minus stream $variant $p stream plain direct ttfb_p50_us | stats %.1f)" \
        "| $(s stream $variant $p failed) |"
    done
  done
  echo
fi

if grep -q '^decision' "$tsv"; then
  cat <<EOF
## 6. Routing decision (Google Benchmark, one repetition per round)

SPEC §9: size estimate + version + pick ≤ 2 µs for a 4 KB body (\`decide_and_pick_4k\`).

| benchmark | ns per call |
| --- | --- |
EOF
  for b in $(awk -F'\t' '$1 == "decision" {print $3}' "$tsv" | awk '!seen[$0]++'); do
    echo "| \`$b\` | $(s decision - "$b" ns %.1f) |"
  done
  echo
fi

if grep -q '^failover' "$tsv"; then
  cat <<EOF
## 7. Failover: SIGKILL of one of two replicas under load

wrk through duet-router to two duet-sim replicas; half way, one is SIGKILLed while the
watch source keeps listing it as Ready, so only the router's own ejection takes it out.
"failed" counts every request wrk saw fail (non-2xx or socket error); "retries" the
requests that tried the dead replica first and were sent to the other; "out of rotation"
the time from the kill until the router's /config shows it ejected (polled with curl, a few
ms a poll: an upper bound).

| round | req/s | failed | retries | out of rotation ms |
| --- | --- | --- | --- | --- |
EOF
  for r in $(awk -F'\t' '$1 == "failover" && $5 == "rps" {print $4}' "$tsv"); do
    v() { awk -F'\t' -v r="$r" -v m="$1" '$1 == "failover" && $4 == r && $5 == m {print $6}' "$tsv"; }
    echo "| $r | $(v rps) | $(v failed) | $(v retries) | $(v ejected_ms) |"
  done
  echo
fi

if grep -q '^duetd' "$tsv"; then
  cat <<EOF
## 8. duetd (bench/duetd_bench.sh)

| measure | ms | target |
| --- | --- | --- |
| apply → Ready, one duet-sim replica | $(s duetd apply duetd ready_ms) | ≤ 1000 |
| SIGKILL + restart of duetd with $(env_of settings | grep -o 'DUETD_REPLICAS=[0-9]*' | cut -d= -f2) replicas → all adopted and Ready, no pid changed | $(s duetd adopt duetd ready_ms) | ≤ 1000 |

EOF
fi

if grep -q '^rss' "$tsv"; then
  cat <<EOF
## Peak RSS of each proxy (VmHWM after all runs of scenarios 2–5 and 14)

| process | peak RSS MiB |
| --- | --- |
EOF
  awk -F'\t' '$1 == "rss" {printf "| %s | %.1f |\n", $3, $6 / 1024}' "$tsv"
fi

if grep -q '^profile' "$tsv"; then
  variants=$(awk -F'\t' '$1 == "profile" {print $2}' "$tsv" | sort -u)  # plain, tls
  cat <<EOF

## Profile: syscalls and instructions per request

\`strace -c -f\` on each proxy's processes during a run with $(env_of settings | grep -o 'CONNECTIONS=[0-9]*' | cut -d= -f2) connections
(calls per request; failed calls such as EAGAIN count too), and each proxy's user-space
instructions per request under \`valgrind --tool=callgrind\` (8 connections, TLS handshakes not counted; duet-router
verifies the JWT, nginx and HAProxy do not; nginx runs without its master process there).
Kernel time is not in the instruction count: on this loopback setup it is most of every
proxy's CPU (bench/README.md, "Where the time goes").

EOF
  header="| syscall" line="| ---"
  for variant in $variants; do
    for proxy in $proxies; do header="$header | $proxy $variant"; line="$line | ---"; done
  done
  echo "$header |"
  echo "$line |"
  for name in $(awk -F'\t' '$1 == "profile" && $5 ~ /^syscall_/ {sub(/^syscall_/, "", $5); print $5}' "$tsv" | sort -u); do
    row="| \`$name\`"
    for variant in $variants; do
      for proxy in $proxies; do
        v=$(vals profile "$variant" "$proxy" "syscall_$name" | head -1)
        row="$row | ${v:-–}"
      done
    done
    echo "$row |"
  done
  for metric in all ir_per_request ir_per_request_workers; do
    case $metric in
      all) row="| **all**" ;;
      ir_per_request) row="| **instructions (user space)**" ;;
      *) row="| of which worker threads (duet-router's request path)" ;;
    esac
    for variant in $variants; do
      for proxy in $proxies; do
        if [ $metric = all ]; then
          v=$(awk -F'\t' -v p="$proxy" -v r="$variant" '$1 == "profile" && $2 == r && $3 == p &&
            $5 ~ /^syscall_/ {t += $6} END {if (t) printf "%.2f", t}' "$tsv")
        else
          v=$(vals profile "$variant" "$proxy" "$metric" | head -1)
        fi
        [ $metric = ir_per_request_workers ] && row="$row | ${v:-–}" || row="$row | **${v:-–}**"
      done
    done
    echo "$row |"
  done
  for variant in $variants; do
    top="$work/profile-top.tsv"
    [ "$variant" = tls ] && top="$work/profile-top-tls.tsv"
    [ -f "$top" ] || continue
    cat <<EOF

duet-router, $variant: the functions that take the most of its user-space instructions (self cost):

| share % | function |
| --- | --- |
EOF
    awk -F'\t' '{gsub(/\|/, "\\|", $2); printf "| %s | `%s` |\n", $1, $2}' "$top"
  done
fi

# A rig's own section (scenario 11 drain, 12 migration, 13 saturated: a run with
# PROXY_CPU_QUOTA, pasted in by hand): this run's, else the previous one's. Sections 14–16
# (report_connections.sh) are carried the same way when their scenarios do not run.
carry_section drain
carry_section migration
carry_section saturated
source "$(dirname "$0")/report_connections.sh"
section_or_carry keepalive keepalive keepalive_section
section_or_carry workers2 workers2 workers2_section
section_or_carry scale scale scale_section

if [ -f "$work/scheduling/results.tsv" ]; then
  echo
  "$(dirname "$0")/scheduling/report.sh" "$work/scheduling" "${RESULTS_DIR:-$(dirname "$0")}"
else
  carry_section scheduling
fi
