#include "router/route_decision.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <vector>

#include "duet/common/hash.h"
#include "duet/common/token_estimate.h"
#include "router/scheduler.h"

namespace duet::router {

const Route* match_route(const RoutingTable& table, std::string_view target, RequestBody& body) {
  std::string_view path = target.substr(0, target.find('?'));
  for (const auto& route : table.routes()) {
    if (!path.starts_with(route.spec.path_prefix)) continue;
    if (!route.spec.model.empty() && body.model() != route.spec.model) continue;
    return &route;
  }
  return nullptr;
}

const char* to_string(SizePool pool) {
  switch (pool) {
    case SizePool::small:
      return "small";
    case SizePool::large:
      return "large";
    case SizePool::backend:
      return "backend";
  }
  return "backend";
}

SizePool choose_size_pool(const api::SizeRouting& routing, uint64_t tokens) {
  return tokens < routing.threshold_tokens ? SizePool::small : SizePool::large;
}

namespace {

void add_targets(Decision& d, const Deployment* deployment, SizePool pool, Track first,
                 bool forced) {
  d.targets[d.target_count++] = {deployment, pool, first};
  // No canary left → stable; no stable left → canary, unless a header asked for stable.
  Track second = first == Track::canary ? Track::stable : Track::canary;
  if (first == Track::canary || !forced) d.targets[d.target_count++] = {deployment, pool, second};
}

}  // namespace

uint32_t sticky_bucket(std::string_view key) {
  return static_cast<uint32_t>(spread(fnv1a(key)) % 10000);
}

Track choose_track(const api::Route& route, const Deployment* deployment, const VersionHint& hint,
                   bool& forced) {
  forced = !hint.canary_header.empty() &&
           (hint.canary_header == route.canary_header_value || hint.canary_header == "false");
  if (forced) return hint.canary_header == "false" ? Track::stable : Track::canary;
  uint32_t weight = deployment ? deployment->canary_weight : 0;
  if (weight == 0) return Track::stable;
  return sticky_bucket(hint.sticky_key) < weight * 100 ? Track::canary : Track::stable;
}

namespace {
// What the route's scheduling policy needs of the request, read before the decision.
void read_scheduling_keys(const Route& route, RequestBody& body, const VersionHint& hint, Decision& d) {
  using api::SchedulingPolicy;
  auto policy = route.spec.scheduling.policy;
  if (api::uses_prefix_index(policy)) d.prefix_chunks = body.prefix_chunks();
  if (policy == SchedulingPolicy::duet)
    d.prompt_tokens = static_cast<uint32_t>(std::min<uint64_t>(body.prompt_tokens(), UINT32_MAX));
  if (policy == SchedulingPolicy::session_affinity)
    d.session_key = !hint.session_header.empty() ? hint.session_header : hint.sticky_key;
}
}  // namespace

Decision decide(const Route& route, RequestBody& body, const VersionHint& hint) {
  Decision d;
  d.route = &route;
  read_scheduling_keys(route, body, hint, d);
  bool forced = false;
  if (!route.spec.size_routing) {
    Track track = choose_track(route.spec, route.backend, hint, forced);
    add_targets(d, route.backend, SizePool::backend, track, forced);
    return d;
  }
  d.tokens = body.tokens();
  SizePool pool = choose_size_pool(*route.spec.size_routing, d.tokens);
  const Deployment* chosen = pool == SizePool::small ? route.small : route.large;
  const Deployment* fallback = pool == SizePool::small ? route.large : route.small;
  SizePool fallback_pool = pool == SizePool::small ? SizePool::large : SizePool::small;
  Track track = choose_track(route.spec, chosen, hint, forced);
  add_targets(d, chosen, pool, track, forced);
  // The other pool's own weight decides there; the header still holds.
  bool fallback_forced = false;
  Track fallback_track = choose_track(route.spec, fallback, hint, fallback_forced);
  add_targets(d, fallback, fallback_pool, fallback_track, fallback_forced);
  return d;
}

uint64_t Rng::next() {  // splitmix64
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

namespace {

// Two different indexes below n (n >= 2), uniformly.
std::pair<uint32_t, uint32_t> two_indexes(std::size_t n, Rng& rng) {
  uint32_t i = rng.below(static_cast<uint32_t>(n));
  uint32_t j = rng.below(static_cast<uint32_t>(n - 1));
  return {i, j >= i ? j + 1 : j};
}

const Endpoint* less_loaded(const Endpoint* a, const Endpoint* b) {
  auto load = [](const Endpoint* e) { return e->load->in_flight.load(std::memory_order_relaxed); };
  return load(b) < load(a) ? b : a;
}

}  // namespace

const Endpoint* pick_endpoint(const Pool& pool, Rng& rng, std::span<const Endpoint* const> tried,
                              std::chrono::steady_clock::time_point now) {
  auto usable = [&](const Endpoint& e) {
    return !e.load->ejected(now) && std::find(tried.begin(), tried.end(), &e) == tried.end();
  };
  if (pool.size() == 1) return usable(pool[0]) ? &pool[0] : nullptr;
  // The common case: two random endpoints, both usable. Given that they are, this is
  // exactly p2c over the usable ones; otherwise choose among what is left, by position
  // (two passes over the pool, no allocation).
  if (pool.size() >= 2) {
    auto [i, j] = two_indexes(pool.size(), rng);
    if (usable(pool[i]) && usable(pool[j])) return less_loaded(&pool[i], &pool[j]);
  }
  std::size_t n = std::count_if(pool.begin(), pool.end(), usable);
  if (n == 0) return nullptr;
  auto nth_usable = [&](std::size_t k) {
    for (const auto& e : pool)
      if (usable(e) && k-- == 0) return &e;
    return static_cast<const Endpoint*>(nullptr);
  };
  if (n == 1) return nth_usable(0);
  auto [i, j] = two_indexes(n, rng);
  return less_loaded(nth_usable(i), nth_usable(j));
}

namespace {

// The first target of `decision`, in pool `only` unless that is `backend` (any), with an
// endpoint the policy picks (not yet recorded in the index: pick() records the final one).
Pick first_pick(const Decision& decision, SizePool only, Rng& rng, std::span<const Endpoint* const> tried,
                std::chrono::steady_clock::time_point now, const PrefixIndex* index) {
  Pick p;
  for (std::size_t i = 0; i < decision.target_count; ++i) {
    const Target& t = decision.targets[i];
    if (!t.deployment || (only != SizePool::backend && t.pool != only)) continue;
    if ((p.endpoint = schedule(t.deployment->pool(t.track), decision, rng, tried, now, index, p.why))) {
      p.target = &t;
      return p;
    }
  }
  return {};
}

// A spill takes a request off the pool its size is routed to: both predictions must rest on
// a few first bytes each, not on one that a busy host or a new connection made slow.
constexpr uint64_t kFirstBytesBeforeSpill = 5;

bool learned_enough_to_spill(const Pick& p) {
  return p.why.predicted_ttft_ms >= 0 && p.endpoint->load->ttft.observations() >= kFirstBytesBeforeSpill;
}

bool may_spill(const Decision& decision, const Pick& first) {
  const auto& s = decision.route->spec.scheduling;
  return s.policy == api::SchedulingPolicy::duet && s.spill && decision.route->spec.size_routing &&
         first.target == &decision.targets[0] && first.target->pool == SizePool::small && learned_enough_to_spill(first);
}

}  // namespace

Pick pick(const Decision& decision, Rng& rng, std::span<const Endpoint* const> tried,
          std::chrono::steady_clock::time_point now, PrefixIndex* index) {
  Pick p = first_pick(decision, SizePool::backend, rng, tried, now, index);
  if (p.endpoint && may_spill(decision, p)) {
    Pick other = first_pick(decision, SizePool::large, rng, tried, now, index);
    auto margin = static_cast<float>(decision.route->spec.scheduling.spill_margin.count());
    // Only onto an engine with at most this request's worth of prompt tokens waiting for a
    // first token: spilled work must not queue far ahead of the large prompts that pool is for.
    if (other.endpoint &&
        other.endpoint->load->ttft.pending.load(std::memory_order_relaxed) <= decision.prompt_tokens &&
        learned_enough_to_spill(other) && p.why.predicted_ttft_ms - other.why.predicted_ttft_ms > margin) {
      p = other;
      p.why.spilled = true;
    }
  }
  if (p.endpoint && index && !decision.prefix_chunks.empty() &&
      api::uses_prefix_index(decision.route->spec.scheduling.policy)) {
    uint32_t added = index->record(decision.prefix_chunks, cache_view(*p.endpoint, decision.route->spec.scheduling.policy));
    p.endpoint->load->cache_written.fetch_add(added, std::memory_order_relaxed);
    p.endpoint->load->cache_sent.fetch_add(static_cast<uint32_t>(decision.prefix_chunks.size()), std::memory_order_relaxed);
  }
  return p;
}

Decision continuation(const Decision& original, const Target& answered_from, const RoutingTable& newest) {
  Decision next = original;
  next.targets = {};
  next.targets[0] = answered_from;
  if (answered_from.deployment) next.targets[0].deployment = newest.deployment(answered_from.deployment->name);
  next.target_count = 1;
  return next;
}

std::size_t same_endpoints(const Decision& decision, std::span<const Endpoint* const> tried,
                           std::span<const Endpoint*> out) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < decision.target_count; ++i) {
    const Target& t = decision.targets[i];
    if (!t.deployment) continue;
    for (const Endpoint& e : t.deployment->pool(t.track)) {
      bool failed = std::any_of(tried.begin(), tried.end(), [&](const Endpoint* old) { return old->address == e.address; });
      if (failed && n < out.size()) out[n++] = &e;
    }
  }
  return n;
}

// Appended piece by piece: two snprintf calls here took 2,400 instructions a request, 6 % of
// a plain proxied request (callgrind).
void append_decision_text(const Decision& decision, const Pick& pick, std::string& out) {
  if (!decision.route || !pick.target) return;
  auto number = [&out](auto value, auto... format) {
    char digits[64];
    auto end = std::to_chars(digits, digits + sizeof digits, value, format...).ptr;
    out.append(digits, end);
  };
  out += "policy=";
  out += api::to_string(decision.route->spec.scheduling.policy);
  out += " pool=";
  out += to_string(pick.target->pool);
  if (pick.why.prompt_chunks) {
    out += " prefix=";
    number(unsigned{pick.why.matched_chunks});
    out += '/';
    number(unsigned{pick.why.prompt_chunks});
  }
  if (float ms = pick.why.predicted_ttft_ms; ms >= 0) {
    out += " ttft_ms=";
    // As %.0f writes it: to the nearest, ties to even. Through an integer where it fits, as
    // to_chars of a double takes a thousand instructions.
    if (ms < 1e15f)
      number(static_cast<uint64_t>(std::nearbyint(ms)));
    else
      number(static_cast<double>(ms), std::chars_format::fixed, 0);
  }
  if (decision.route->spec.size_routing && decision.route->spec.scheduling.policy == api::SchedulingPolicy::duet)
    out += pick.why.spilled ? " spill=yes" : " spill=no";
}

}  // namespace duet::router
