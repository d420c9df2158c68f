#include "router/route_decision.h"

#include <algorithm>
#include <vector>

#include "duet/common/token_estimate.h"

namespace duet::router {

const nlohmann::json& RequestBody::json() {
  // allow_exceptions=false: a body that is not JSON becomes a discarded value, never a throw.
  if (!json_) json_ = nlohmann::json::parse(text_, nullptr, false);
  return *json_;
}

std::string_view RequestBody::model() {
  const auto& j = json();
  if (!j.is_object()) return {};
  auto it = j.find("model");
  if (it == j.end() || !it->is_string()) return {};
  return it->get_ref<const std::string&>();
}

uint64_t RequestBody::tokens() {
  const auto& j = json();
  uint64_t tokens = estimate_prompt_tokens(j);
  if (!j.is_object()) return tokens;
  for (const char* key : {"max_tokens", "max_completion_tokens"}) {
    auto it = j.find(key);
    if (it != j.end() && it->is_number_unsigned()) return tokens + it->get<uint64_t>();
  }
  return tokens;
}

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

SizePool choose_size_pool(const SizeRouting& routing, uint64_t tokens) {
  return tokens < routing.threshold_tokens ? SizePool::small : SizePool::large;
}

namespace {

Track other(Track t) { return t == Track::stable ? Track::canary : Track::stable; }

// The version for a request. Issue 5 decides it from the canary header, the stickiness
// hash and the deployment's canary weight; until then every request prefers stable.
Track choose_track(const Route&, const Deployment*) { return Track::stable; }

void add_targets(Decision& d, const Deployment* deployment, SizePool pool, Track first) {
  d.targets[d.target_count++] = {deployment, pool, first};
  d.targets[d.target_count++] = {deployment, pool, other(first)};
}

}  // namespace

Decision decide(const Route& route, RequestBody& body) {
  Decision d;
  d.route = &route;
  if (!route.spec.size_routing) {
    add_targets(d, route.backend, SizePool::backend, choose_track(route, route.backend));
    return d;
  }
  d.tokens = body.tokens();
  SizePool pool = choose_size_pool(*route.spec.size_routing, d.tokens);
  const Deployment* chosen = pool == SizePool::small ? route.small : route.large;
  const Deployment* fallback = pool == SizePool::small ? route.large : route.small;
  SizePool fallback_pool = pool == SizePool::small ? SizePool::large : SizePool::small;
  add_targets(d, chosen, pool, choose_track(route, chosen));
  add_targets(d, fallback, fallback_pool, Track::stable);
  return d;
}

uint64_t Rng::next() {  // splitmix64
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

namespace {

template <class Candidates>
const Endpoint* two_choices(const Candidates& c, std::size_t n, Rng& rng) {
  if (n == 0) return nullptr;
  if (n == 1) return &*c(0);
  uint32_t i = rng.below(static_cast<uint32_t>(n));
  uint32_t j = rng.below(static_cast<uint32_t>(n - 1));
  if (j >= i) ++j;
  const Endpoint& a = *c(i);
  const Endpoint& b = *c(j);
  auto load = [](const Endpoint& e) { return e.load->in_flight.load(std::memory_order_relaxed); };
  return load(b) < load(a) ? &b : &a;
}

}  // namespace

const Endpoint* pick_endpoint(const Pool& pool, Rng& rng, std::span<const Endpoint* const> tried) {
  if (tried.empty()) return two_choices([&](std::size_t k) { return &pool[k]; }, pool.size(), rng);
  // A retry: rare, so a small copy of what is left is fine.
  std::vector<const Endpoint*> left;
  for (const auto& e : pool)
    if (std::find(tried.begin(), tried.end(), &e) == tried.end()) left.push_back(&e);
  return two_choices([&](std::size_t k) { return left[k]; }, left.size(), rng);
}

Pick pick(const Decision& decision, Rng& rng, std::span<const Endpoint* const> tried) {
  for (std::size_t i = 0; i < decision.target_count; ++i) {
    const Target& t = decision.targets[i];
    if (!t.deployment) continue;
    if (const Endpoint* e = pick_endpoint(t.deployment->pool(t.track), rng, tried)) return {&t, e};
  }
  return {};
}

}  // namespace duet::router
