#include "router/scheduler.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "duet/common/hash.h"
#include "router/cache_pressure.h"
#include "router/engine_scraper.h"

namespace duet::router {

namespace {

// Pools are small (a deployment's replicas); beyond this many, prefix scores use the first.
constexpr std::size_t kMaxScored = 64;
// Predictions under this count as this: no ratio of two near-zero guesses decides.
constexpr float kShortestTtftMs = 1;

uint32_t in_flight(const Endpoint& e) { return e.load->in_flight.load(std::memory_order_relaxed); }

// What `duet` knows of an endpoint's load: the router's own requests in flight, or the
// engine's own queue when its /metrics said more a moment ago (other routers, other clients),
// and the share of its KV cache in use (0 without fresh figures).
struct Load {  // no default values: prefix_scored keeps an array of them, set as used
  uint32_t queue;
  double kv;
};

Load load_of(const Endpoint& e, bool engine_signals, std::chrono::steady_clock::time_point now) {
  Load l{in_flight(e), 0};
  if (engine_signals && e.load->metrics_fresh(now, kEngineMetricsFresh)) {
    l.queue = std::max(l.queue, e.load->engine_queue.load(std::memory_order_relaxed));
    l.kv = e.load->engine_kv_permille.load(std::memory_order_relaxed) / 1000.0;
  }
  return l;
}

struct Usable {
  std::array<const Endpoint*, kMaxScored> endpoints{};
  std::size_t count = 0;
};

Usable usable_endpoints(const Pool& pool, std::span<const Endpoint* const> tried,
                        std::chrono::steady_clock::time_point now) {
  Usable u;
  for (const auto& e : pool) {
    if (u.count == kMaxScored) break;
    if (e.load->ejected(now) || std::find(tried.begin(), tried.end(), &e) != tried.end()) continue;
    u.endpoints[u.count++] = &e;
  }
  return u;
}

const Endpoint* round_robin(const Usable& u) {
  thread_local uint32_t next = 0;  // one turn per worker thread
  return u.endpoints[next++ % u.count];
}

// Bounded load for affinity: an endpoint with `load` gets no affinity traffic when it has
// maxAffinityInFlight or more *and* more than twice the pool's mean. The limit alone was a
// cliff: once the hot engine reached it, its traffic went cold to the others, they passed it
// too, and with affinity off everywhere the hit rate fell for good (bench/scheduling). And an
// engine's own queue (running + waiting under duet) is often far above any fixed limit.
bool over_affinity_bound(uint32_t load, unsigned limit, double mean_load) {
  return load >= limit && load > 2 * mean_load;
}

const Endpoint* session_affinity(const Usable& u, const Decision& d) {
  uint64_t key = fnv1a(d.session_key);
  unsigned limit = d.route->spec.scheduling.max_affinity_in_flight;
  double mean = 0;
  for (std::size_t i = 0; i < u.count; ++i) mean += in_flight(*u.endpoints[i]);
  mean /= static_cast<double>(u.count);
  const Endpoint* best = nullptr;
  uint64_t best_score = 0;
  for (std::size_t i = 0; i < u.count; ++i) {
    const Endpoint* e = u.endpoints[i];
    if (over_affinity_bound(in_flight(*e), limit, mean)) continue;
    uint64_t score = spread(key ^ fnv1a(e->name));
    if (!best || score > best_score) {
      best = e;
      best_score = score;
    }
  }
  return best;  // null when all are over the limit: the caller balances by load
}

// Doublings of `predicted` over `soonest`, in steps of a quarter (19 %). Differences within
// the predictions' noise (a few ms, under a fifth) are none, so that equal engines stay
// exact ties and share the cold requests instead of all going to the one that happened to
// answer a little faster.
double doublings_over(float predicted, float soonest) {
  constexpr double kNoiseMs = 25;
  return std::floor(std::log2((predicted + kNoiseMs) / (soonest + kNoiseMs)) * 4) / 4;
}

// A predicted start (ms) with what is pending on the endpoint (`with_queue`) and without it
// (`alone`: what its device and its cache make of the prompt).
struct Start {
  float with_queue;
  float alone;
};

// How many weights.ttft a predicted start costs: its doublings over the pool's soonest start.
// The part that would be there with nothing pending (a slower device, a colder cache; cached
// tokens cost nothing) costs the whole weight each, so a slow engine loses affinity. The
// part its queue adds costs a quarter for each of the first three doublings (up to 8×) and
// the whole weight beyond: near the pool's prefill capacity every busy holder predicts a few
// times the cold engines' start, and moving its requests cold to them tipped the pool over
// (docs/scheduling.md); a queue is for the queue term and the affinity bound to weigh. That
// holds only for an endpoint that holds part of the prompt (`holds`): between engines that
// hold none, the prediction is what balances the queues, and a queue costs the whole weight.
double ttft_penalty(Start start, float soonest, bool holds) {
  constexpr double kMildDoublings = 3;
  double total = doublings_over(start.with_queue, soonest);
  if (!holds) return total;
  double own = std::clamp(doublings_over(start.alone, soonest), 0.0, std::max(total, 0.0));
  double queued = total - own;
  return own + 0.25 * std::min(queued, kMildDoublings) + std::max(queued - kMildDoublings, 0.0);
}

// The prompt tokens `matched` of `chunks` chunks leave to compute.
uint32_t uncached_tokens(uint32_t prompt_tokens, uint32_t matched, std::size_t chunks) {
  if (chunks == 0) return prompt_tokens;
  return static_cast<uint32_t>(prompt_tokens - static_cast<uint64_t>(prompt_tokens) * matched / chunks);
}

// duet: what placing a prompt that no endpoint holds half of costs each endpoint, in
// weights.cachePressure: the doublings of its cache's turnover over the pool's, times the
// pool's reuse (cache_pressure.h). 0 everywhere for a prompt held, short (no chunks) or of
// unknown caches.
void cache_pressure_of(const Usable& u, std::span<const CacheView> views, std::span<const uint32_t> matched,
                        std::size_t chunks, std::span<double> cost) {
  if (chunks == 0) return;  // most short requests: nothing to read
  std::array<double, kMaxScored> rate;  // each endpoint's, read once
  double pool_rate = 0, pool_sent = 0, pool_capacity = 0;
  uint32_t most_matched = 0;
  for (std::size_t i = 0; i < u.count; ++i) {
    if (views[i].capacity == 0) return;
    rate[i] = u.endpoints[i]->load->cache_write_rate.load(std::memory_order_relaxed);
    pool_rate += rate[i];
    pool_sent += u.endpoints[i]->load->cache_send_rate.load(std::memory_order_relaxed);
    pool_capacity += views[i].capacity;
    most_matched = std::max(most_matched, matched[i]);
  }
  double reuse = cache_reuse(pool_rate, pool_sent);
  if (2 * most_matched >= chunks || reuse == 0) return;
  for (std::size_t i = 0; i < u.count; ++i)
    cost[i] = reuse * cache_pressure_doublings(rate[i], views[i].capacity, pool_rate, pool_capacity);
}

const Endpoint* prefix_scored(const Usable& u, const Decision& d, Rng& rng, const PrefixIndex& index,
                              std::chrono::steady_clock::time_point now, PickReason& why) {
  const auto& s = d.route->spec.scheduling;
  bool engine_signals = s.policy == api::SchedulingPolicy::duet;
  // Not value-initialized: zeroing all kMaxScored entries of the four took 200 of the 700
  // instructions a request that schedule() cost (callgrind) for pools of a few endpoints; each
  // entry below u.count is set here.
  std::array<CacheView, kMaxScored> views;
  std::array<uint32_t, kMaxScored> matched;
  std::array<Load, kMaxScored> loads;
  std::array<Start, kMaxScored> ttft;  // predicted, ms; < 0: none yet
  std::fill_n(matched.begin(), u.count, 0u);  // what match() leaves when there are no chunks
  uint32_t most_load = 0;
  double mean_load = 0;
  for (std::size_t i = 0; i < u.count; ++i) {
    views[i] = cache_view(*u.endpoints[i], s.policy);
    loads[i] = load_of(*u.endpoints[i], engine_signals, now);
    most_load = std::max(most_load, loads[i].queue);
    mean_load += loads[i].queue;
  }
  mean_load /= static_cast<double>(u.count);
  std::span<const uint64_t> chunks(d.prefix_chunks);
  if (!chunks.empty()) index.match(chunks, {views.data(), u.count}, {matched.data(), u.count});
  float soonest = std::numeric_limits<float>::max();
  for (std::size_t i = 0; i < u.count; ++i) {
    ttft[i] = {-1.0f, -1.0f};
    if (!engine_signals) continue;
    const auto& model = u.endpoints[i]->load->ttft;
    uint32_t own = uncached_tokens(d.prompt_tokens, matched[i], chunks.size());
    auto predicted = model.predict_ms(own);
    if (!predicted) continue;
    ttft[i] = {std::max(static_cast<float>(*predicted), kShortestTtftMs),
               std::max(static_cast<float>(model.predict_alone_ms(own).value_or(0)), kShortestTtftMs)};
    soonest = std::min(soonest, ttft[i].with_queue);
  }
  std::array<double, kMaxScored> pressure;  // doublings
  std::fill_n(pressure.begin(), u.count, 0.0);
  if (engine_signals && s.cache_weight > 0)
    cache_pressure_of(u, {views.data(), u.count}, {matched.data(), u.count}, chunks.size(), {pressure.data(), u.count});
  std::size_t best = kMaxScored;
  double best_score = 0;
  uint32_t best_load = 0;
  uint32_t ties = 0;
  std::size_t holder = kMaxScored;  // the one holding most of the prompt, within its bound
  for (std::size_t i = 0; i < u.count; ++i) {
    uint32_t load = loads[i].queue;
    double affinity = chunks.empty() || over_affinity_bound(load, s.max_affinity_in_flight, mean_load)
                          ? 0
                          : static_cast<double>(matched[i]) / static_cast<double>(chunks.size());
    if (affinity > 0 && (holder == kMaxScored || matched[i] > matched[holder])) holder = i;
    double score = s.prefix_weight * affinity - s.queue_weight * load / (most_load + 1.0) - s.kv_weight * loads[i].kv;
    if (ttft[i].with_queue > 0) score -= s.ttft_weight * ttft_penalty(ttft[i], soonest, affinity > 0);
    score -= s.cache_weight * pressure[i];
    bool found = best != kMaxScored;
    bool better = !found || score > best_score || (score == best_score && load < best_load);
    bool tie = found && score == best_score && load == best_load;
    // Reservoir choice among exact ties, so that equal endpoints share the cold requests.
    if (tie && rng.below(++ties + 1) == 0) better = true;
    if (better) {
      if (!tie) ties = 0;
      best = i;
      best_score = score;
      best_load = load;
    }
  }
  if (best == kMaxScored) return nullptr;
  // duet: a request leaves the engine that holds its prefix only for one predicted to start
  // it sooner. The queue and KV terms alone moved requests off a busy holder onto engines as
  // busy, each move one cold prefill more in a saturated pool, until the pool tipped over
  // (bench/scheduling, shared-context at 40/s).
  if (holder != kMaxScored && holder != best && matched[holder] > matched[best] &&
      ttft[holder].with_queue > 0 && ttft[best].with_queue >= ttft[holder].with_queue)
    best = holder;
  why.matched_chunks = static_cast<uint16_t>(matched[best]);
  why.prompt_chunks = static_cast<uint16_t>(chunks.size());
  why.uncached_tokens = uncached_tokens(d.prompt_tokens, matched[best], chunks.size());
  why.predicted_ttft_ms = ttft[best].with_queue;
  return u.endpoints[best];
}

}  // namespace

CacheView cache_view(const Endpoint& e, api::SchedulingPolicy policy) {
  uint32_t capacity = policy == api::SchedulingPolicy::duet ? e.load->cache_chunks.load(std::memory_order_relaxed)
                                                            : kApproximateCapacityChunks;
  return {e.load->id, e.load->cache_written.load(std::memory_order_relaxed), capacity};
}

const Endpoint* schedule(const Pool& pool, const Decision& decision, Rng& rng,
                         std::span<const Endpoint* const> tried, std::chrono::steady_clock::time_point now,
                         const PrefixIndex* index, PickReason& why) {
  why = {};
  why.uncached_tokens = decision.prompt_tokens;
  using api::SchedulingPolicy;
  auto policy = decision.route ? decision.route->spec.scheduling.policy : SchedulingPolicy::least_request;
  if (policy == SchedulingPolicy::least_request || (api::uses_prefix_index(policy) && !index))
    return pick_endpoint(pool, rng, tried, now);
  Usable u = usable_endpoints(pool, tried, now);
  if (u.count == 0) return nullptr;
  if (policy == SchedulingPolicy::round_robin) return round_robin(u);
  if (policy == SchedulingPolicy::session_affinity) {
    if (const Endpoint* e = session_affinity(u, decision)) return e;
    return pick_endpoint(pool, rng, tried, now);
  }
  return prefix_scored(u, decision, rng, *index, now, why);
}

}  // namespace duet::router
