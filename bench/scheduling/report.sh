#!/usr/bin/env bash
# The scheduling section of bench/RESULTS.md, and its plots, from a bench/scheduling work
# folder: results.tsv (`scheduling workload policy round metric value`), requests.tsv (one
# line per request), env.txt and plans.txt.
# Usage: bench/scheduling/report.sh WORK_DIR PLOT_DIR > section.md   (PLOT_DIR: beside RESULTS.md)
set -euo pipefail
work=${1:?usage: report.sh WORK_DIR PLOT_DIR}
plots=${2:?usage: report.sh WORK_DIR PLOT_DIR}
tsv="$work/results.tsv"
HERE=$(cd "$(dirname "$0")" && pwd)
env_of() { awk -v k="$1" '$1 == k {sub(/^[^ ]+ /, ""); print}' "$work/env.txt"; }
plan_of() {  # plan_of WORKLOAD KEY
  awk -v w="$1" -v k="$2" '$1 == w {for (i = 2; i < NF; i += 2) if ($i == k) print $(i + 1)}' "$work/plans.txt"
}
scale=$(env_of settings | grep -o 'TIME_SCALE=[0-9.]*' | cut -d= -f2)

vals() {  # vals WORKLOAD POLICY METRIC: one value per round
  awk -F'\t' -v w="$1" -v p="$2" -v m="$3" '$2 == w && $3 == p && $5 == m {print $6}' "$tsv"
}
# Median (min–max) of numbers on stdin with FORMAT; "–" when there are none.
stats() {
  sort -g | awk -v f="$1" '{a[NR] = $1}
    END {if (!NR) {print "–"; exit}
         m = sprintf(f, a[int((NR + 1) / 2)]); lo = sprintf(f, a[1]); hi = sprintf(f, a[NR])
         print (lo == hi ? m : m " (" lo "–" hi ")")}'
}
s() { vals "$1" "$2" "$3" | stats "${4:-%.0f}"; }
# Milliseconds to seconds.
sec() { vals "$1" "$2" "$3" | awk '{print $1 / 1000}' | stats %.2f; }
# Per round, POLICY_A's metric over POLICY_B's; the median of the rounds' ratios.
ratio() {  # ratio WORKLOAD POLICY_A POLICY_B METRIC
  awk -F'\t' -v w="$1" -v a="$2" -v b="$3" -v m="$4" '$2 != w || $5 != m {next}
    $3 == a {x[$4] = $6} $3 == b {y[$4] = $6}
    END {for (r in x) if (r in y && y[r] > 0) print x[r] / y[r]}' "$tsv" | sort -g |
    awk '{a[NR] = $1} END {if (NR) print a[int((NR + 1) / 2)]}'
}
ran() { [ -n "$(vals "$1" "$2" ttft_p90_ms)" ]; }
# The router's estimate applies to the prefix policies only.
est() { case $2 in prefix | duet*) s "$1" "$2" router_est_hit_rate %.2f ;; *) echo "–" ;; esac; }
not_run() { [ -n "$(vals "$1" "$2" not_run)" ]; }

# A target row: NAME, the ratio, the bound and its sense (le|ge).
target() {  # target TEXT RATIO BOUND le|ge
  local verdict
  if [ -z "$2" ]; then
    verdict="not run"
  elif awk -v r="$2" -v b="$3" -v s="$4" 'BEGIN {exit !(s == "le" ? r <= b : r >= b)}'; then
    verdict="**met**"
  else
    verdict="**missed**"
  fi
  printf '| %s | %s | %s |\n' "$1" "${2:+$(printf '%.2f' "$2")}" "$verdict"
}

label() {  # label POLICY [WORKLOAD]
  case $1 in
    duet-spill-off) echo "duet, spill off (static size routing)" ;;
    duet-spill-on) echo "duet, spill on (marginMs $(env_of spill_margin_ms) = $(awk -v m="$(env_of spill_margin_ms)" -v f="$scale" 'BEGIN {print m * f}') ms device)" ;;
    duet) [ "${2:-}" = mixed-pools ] && echo "duet (defaults: spill on, marginMs 100 = $(awk -v f="$scale" 'BEGIN {print 0.1 * f}') s device)" || echo duet ;;
    duet-kv0) echo "duet, weights.kvUtilization 0" ;;
    duet-cp0) echo "duet, weights.cachePressure 0" ;;
    *) echo "$1" ;;
  esac
}

flag_of() {  # flag_of WORKLOAD FLAG: its value in the run's flags
  env_of flags | awk -v w="$1" -v f="$2" '$1 == w {for (i = 2; i < NF; i++) if ($i == f) print $(i + 1)}'
}
kind_of() { echo "${1%-[0-9]*}"; }  # a row's workload: shared-context-30 → shared-context

policies_in() {  # the rows of a workload, in the order they ran
  awk -F'\t' -v w="$1" '$2 == w {print $3}' "$tsv" | awk '!seen[$0]++'
}

# ---- plots (gnuplot, pngcairo) ----
mkdir -p "$work/plot"
# series_plot WORKLOAD NAME STYLE: one line per policy, each from `NAME_series WORKLOAD POLICY`
# (x y lines on stdout); prints gnuplot's plot list, empty when no policy has a point.
series_plot() {
  local w=$1 name=$2 style=$3 p cmd="" sep="" file
  for p in $(policies_in "$w"); do
    file="$work/plot/$w-$p.$name"
    "${name}_series" "$w" "$p" >"$file"
    [ -s "$file" ] || continue
    cmd+="$sep'$file' using 1:2 with $style title '$(label "$p" "$w")'"
    sep=", "
  done
  echo "$cmd"
}
cdf_series() {  # TTFT in s against the share of requests, every round's requests together
  awk -F'\t' -v w="$1" -v p="$2" '$1 == w && $2 == p && $13 >= 0 {print $13 / 1000}' "$work/requests.tsv" |
    sort -g | awk '{v[NR] = $1} END {for (i = 1; i <= NR; i++) print v[i], i / NR}'
}
timeline_series() {  # P90 TTFT of the small prompts sent in each 2 s of the run
  awk -F'\t' -v w="$1" -v p="$2" '$1 == w && $2 == p && $8 == "small" && $13 >= 0 {print int($10 / 2) * 2 + 1, $13 / 1000}' \
    "$work/requests.tsv" | sort -k1,1g -k2,2g |
    awk '{n[$1]++; v[$1, n[$1]] = $2} END {for (b in n) print b, v[b, int(0.9 * (n[b] - 1)) + 1]}' | sort -g
}
# plot_png FILE TITLE XLABEL YLABEL SETTINGS PLOT_LIST
plot_png() {
  gnuplot <<EOF
set terminal pngcairo size 900,520 font ',10'
set output '$1'
set title '$2'
set xlabel '$3'
set ylabel '$4'
set grid
$5
plot $6
EOF
}
plot_cdf() {  # plot_cdf WORKLOAD: TTFT CDF per policy
  local w=$1 cmd
  cmd=$(series_plot "$w" cdf "lines lw 2")
  [ -n "$cmd" ] || return 0
  plot_png "$plots/scheduling-$w-ttft.png" \
    "bench/scheduling, $w: TTFT CDF per policy (device time, --time-scale $scale)" \
    'time to first token, s (log scale)' 'share of requests' \
    $'set logscale x\nset key bottom right\nset yrange [0:1]' "$cmd"
}
# mixed-pools: TTFT P90 of the small prompts sent in each 2 s of the run, to see the burst.
plot_timeline() {
  local w=mixed-pools cmd burst_at burst_for
  cmd=$(series_plot "$w" timeline "linespoints lw 2 pt 7 ps 0.5")
  [ -n "$cmd" ] || return 0
  burst_at=$(env_of "flags" | grep -o -- '--burst-at [0-9.]*' | cut -d' ' -f2)
  burst_for=$(env_of "flags" | grep -o -- '--burst-for [0-9.]*' | cut -d' ' -f2)
  plot_png "$plots/scheduling-mixed-pools-timeline.png" \
    'bench/scheduling, mixed-pools: P90 TTFT of small prompts per 2 s sent (device time)' \
    "sent at, s of the run (the burst: $burst_at s for $burst_for s)" 'P90 TTFT, s' \
    'set key top left' "$cmd"
}
workloads=$(awk -F'\t' '{print $2}' "$tsv" | awk '!seen[$0]++')
if command -v gnuplot >/dev/null; then
  for w in $workloads; do plot_cdf "$w"; done
  if grep -q "^mixed-pools	" "$work/requests.tsv" 2>/dev/null; then plot_timeline; fi
fi

# ---- the section ----
rounds=$(env_of settings | grep -o 'ROUNDS=[0-9]*' | cut -d= -f2)
cat <<EOF
<!-- scheduling:begin (bench/scheduling/run.sh writes this section; bench/run.sh keeps it when it does not run the scheduling scenario) -->
## 10. Scheduling policies (bench/scheduling)

Written by \`bench/scheduling/run.sh\` on $(env_of date) (duet $(env_of duet); method and workloads in
[README.md](README.md#benchscheduling)). $rounds round(s), interleaved; each cell: median over
rounds (min–max); ratios are taken per round, then the median. Pool: 4 duet-sim engine models
\`--profile ascend-910b --block-size 128\` and 2 \`--profile nvidia-h20 --block-size 16\`, started
afresh for every run (no policy inherits another's cache), behind one duet-router (1 worker)
fed a fixed watch snapshot whose Route names the policy. **Times are device time**: the engines
ran with \`--time-scale $scale\` (their clock $scale× faster than the wall clock), and every time
below is the measured wall time × $scale. The router's own times are wall time, so the bench
divides them by $scale: \`scheduling.scrapeIntervalMs: $(env_of scrape_interval_ms)\` ($(awk -v m="$(env_of scrape_interval_ms)" -v f="$scale" 'BEGIN {print m * f}') ms device; the
router's floor is 10) and, in the spill row, \`spill.marginMs: $(env_of spill_margin_ms)\`; its TTFT model's
fixed 25 ms noise floor and 1 ms minimum are not scaled. The whole scheduling run took $(env_of elapsed_s) s.

EOF

echo "### Targets (issue 18)"
echo
echo "| target | ratio | |"
echo "| --- | --- | --- |"
for w in $workloads; do
  [ "$(kind_of "$w")" = shared-context ] || continue
  at="shared-context at $(flag_of "$w" --rate)/s"
  target "$at: duet P90 TTFT ≤ 0.2 × leastRequest's" "$(ratio "$w" duet leastRequest ttft_p90_ms)" 0.2 le
  target "$at: duet P90 TTFT ≤ 0.8 × prefix's" "$(ratio "$w" duet prefix ttft_p90_ms)" 0.8 le
  target "$at: duet output tok/s ≥ 1.3 × leastRequest's" "$(ratio "$w" duet leastRequest output_tok_s)" 1.3 ge
done
if ran mixed-pools duet-spill-on && ran mixed-pools duet-spill-off; then
  target "mixed-pools: P90 TTFT with spill ≤ 0.5 × static size routing" "$(ratio mixed-pools duet-spill-on duet-spill-off ttft_p90_ms)" 0.5 le
  target "mixed-pools: large prompts' P90 TTFT with spill no worse (≤ 1.1 × static: 10 % for noise)" "$(ratio mixed-pools duet-spill-on duet-spill-off large_ttft_p90_ms)" 1.1 le
else
  echo "| mixed-pools: P90 TTFT with spill ≤ 0.5 × static size routing | | not run: spill not on main yet |"
  echo "| mixed-pools: large prompts' P90 TTFT with spill no worse | | not run: spill not on main yet |"
fi
echo

table() {  # table WORKLOAD
  local w=$1 p extra_head="" extra_sep=""
  if [ "$w" = mixed-pools ]; then
    extra_head=" small P90 s | large P90 s | burst P90 s | spills |"
    extra_sep=" --- | --- | --- | --- |"
  fi
  echo "| policy | TTFT p50 s | TTFT p90 s | TTFT p99 s | ITL p50 ms | ITL p99 ms | output tok/s | hit rate (usage) | hit rate (/metrics) | hit rate (router's estimate) | preemptions | unfinished | users joined |$extra_head router CPU % | engine CPU % (max) |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |$extra_sep --- | --- |"
  for p in $(policies_in "$w"); do
    if ! ran "$w" "$p"; then
      not_run "$w" "$p" && echo "| $(label "$p" "$w") | not run: spill not on main yet |"
      continue
    fi
    local extra=""
    [ "$w" = mixed-pools ] && extra=" $(sec "$w" "$p" small_ttft_p90_ms) | $(sec "$w" "$p" large_ttft_p90_ms) | $(sec "$w" "$p" burst_ttft_p90_ms) | $(s "$w" "$p" spills) |"
    echo "| $(label "$p" "$w") | $(sec "$w" "$p" ttft_p50_ms) | $(sec "$w" "$p" ttft_p90_ms) | $(sec "$w" "$p" ttft_p99_ms)" \
      "| $(s "$w" "$p" itl_p50_ms %.1f) | $(s "$w" "$p" itl_p99_ms %.0f) | $(s "$w" "$p" output_tok_s %.0f)" \
      "| $(s "$w" "$p" hit_rate %.2f) | $(s "$w" "$p" metrics_hit_rate %.2f) | $(est "$w" "$p") | $(s "$w" "$p" preemptions)" \
      "| $(s "$w" "$p" unfinished) | $(s "$w" "$p" new_users) |$extra $(s "$w" "$p" router_cpu_pct) | $(s "$w" "$p" engine_cpu_max_pct) |"
  done
}

describe() {  # the workload in one paragraph, from its flags and plan
  local w=$1 flags kind
  kind=$(kind_of "$w")
  flags=$(env_of flags | awk -v w="$w" '$1 == w {sub(/^[^ ]+ /, ""); print}')
  echo "\`duet-bench-sched --workload $kind $flags\`: $(plan_of "$w" requests) requests," \
    "prompts $(plan_of "$w" mean_prompt_tokens) tokens on average, answers $(plan_of "$w" mean_answer_tokens)."
  if [ "$w" != mixed-pools ]; then
    echo "$(plan_of "$w" mean_new_tokens) tokens of a prompt on average are not in the prefix of the user's previous" \
      "turn$([ "$kind" = shared-context ] && echo " or its group's context"). Offered prefill:" \
      "$(plan_of "$w" offered_prefill_tok_s_uncached) tok/s with no cache hit, $(plan_of "$w" offered_prefill_tok_s_ideal_cache)" \
      "with every prefix hit, against the pool's $(plan_of "$w" pool_prefill_tok_s) (8192-token steps)." \
      "KV: \`--kv-blocks $(plan_of "$w" kv_blocks_ascend-910b)\` per 910B and \`$(plan_of "$w" kv_blocks_nvidia-h20)\` per H20" \
      "($(plan_of "$w" pool_kv_tokens) tokens in the pool) for a demand of $(plan_of "$w" demand_tokens) tokens" \
      "(every user's conversation so far$([ "$kind" = shared-context ] && echo " beyond its group's context, and every context once"), at its peak):" \
      "$(awk -v s="$(plan_of "$w" kv_demand_share)" 'BEGIN {printf "%.0f", 100 * s}') % of the pool."
  else
    echo "Small prompts (duet's estimate under 2048 tokens: size routing to the 910Bs) arrive at $(flag_of "$w" --rate)/s," \
      "$(flag_of "$w" --burst-rate)/s during the burst (from $(flag_of "$w" --burst-at) s for $(flag_of "$w" --burst-for) s);" \
      "large ones (to the H20s) at $(flag_of "$w" --large-rate)/s. Offered prefill on the 910B pool:" \
      "$(plan_of "$w" offered_small_prefill_tok_s) tok/s, $(plan_of "$w" burst_small_prefill_tok_s) in the burst, against" \
      "4 × $(plan_of "$w" prefill_tok_s_ascend-910b); on the H20 pool: $(plan_of "$w" offered_large_prefill_tok_s) against" \
      "2 × $(plan_of "$w" prefill_tok_s_nvidia-h20). KV: what each device holds (the prompts share nothing)."
  fi
}

for w in $workloads; do
  if [ "$(kind_of "$w")" = shared-context ]; then echo "### shared-context, $(flag_of "$w" --rate) requests/s"; else echo "### $w"; fi
  echo
  describe "$w"
  echo
  table "$w"
  echo
  [ -f "$plots/scheduling-$w-ttft.png" ] && echo "![TTFT CDF, $w](scheduling-$w-ttft.png)" && echo
  [ "$w" = mixed-pools ] && [ -f "$plots/scheduling-mixed-pools-timeline.png" ] &&
    echo "![P90 TTFT of small prompts over time, mixed-pools](scheduling-mixed-pools-timeline.png)" && echo
done

cat <<EOF
**Reading it.** "hit rate (usage)" is Σ usage.prompt_tokens_details.cached_tokens ÷ Σ
usage.prompt_tokens over the answered requests; "hit rate (/metrics)" is
\`vllm:prefix_cache_hits_total\` ÷ \`vllm:prefix_cache_queries_total\` summed over the engines
(each request counted once, when admitted, as vLLM does); "router's estimate" is
\`duet_router_prefix_chunks_matched_total\` ÷ \`duet_router_prefix_chunks_total\` (prompt
chunks the picked engine held by the router's index), prefix policies only. "spills":
\`duet_router_spills_total\`, small requests sent to the large pool. "unfinished": requests still
unanswered when the drain (as long as the arrivals) ran out; their TTFT counts as the time
they had waited, a lower bound. "users joined": arrivals that found every user of the
workload waiting for an answer, so a new user sent them (an overloaded pool has more users
waiting at once). Output tok/s: output tokens ÷ (last token − first request), device time.
CPU: the router's and the busiest engine's share of one core over the run's wall time; the
load generator's own is in results.tsv (\`client_cpu_pct\`: $(awk -F'\t' '$5 == "client_cpu_pct" {print $6}' "$tsv" | stats %.0f) %); the whole machine, shared
with other work, was $(awk -F'\t' '$5 == "machine_busy_pct" {print $6}' "$tsv" | stats %.0f) % busy during the runs.
<!-- scheduling:end -->
EOF
