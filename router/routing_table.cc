#include "router/routing_table.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "duet/common/address.h"
#include "router/router_logger.h"

namespace duet::router {

uint64_t next_endpoint_id() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

namespace {

// Engines report HOST:PORT with a numeric host (or localhost); anything else is skipped.
bool parse_endpoint(const std::string& text, boost::asio::ip::tcp::endpoint& out) {
  try {
    Address a = Address::parse(text);
    if (a.kind != Address::Kind::tcp || a.port == 0) return false;
    out = boost::asio::ip::tcp::endpoint(
        boost::asio::ip::make_address(a.host == "localhost" ? "127.0.0.1" : a.host), a.port);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

nlohmann::json pool_json(const Pool& pool) {
  auto out = nlohmann::json::array();
  auto now = std::chrono::steady_clock::now();
  for (const auto& e : pool)
    out.push_back({{"name", e.name},
                   {"endpoint", e.address_text},
                   {"inFlight", e.load->in_flight.load(std::memory_order_relaxed)},
                   {"ejected", e.load->ejected(now)},
                   // What duet schedules on (docs/scheduling.md): the engine's own figures
                   // (metricsFresh: read within the last second), the cache the prefix index
                   // models, and the TTFT model's pending tokens and observations.
                   {"scheduling",
                    {{"metricsFresh", e.load->metrics_fresh(now, std::chrono::seconds(1))},
                     {"engineQueue", e.load->engine_queue.load(std::memory_order_relaxed)},
                     {"kvUsagePermille", e.load->engine_kv_permille.load(std::memory_order_relaxed)},
                     {"cacheChunks", e.load->cache_chunks.load(std::memory_order_relaxed)},
                     {"cacheWritten", e.load->cache_written.load(std::memory_order_relaxed)},
                     {"cacheWriteRate", e.load->cache_write_rate.load(std::memory_order_relaxed)},
                     {"cacheSendRate", e.load->cache_send_rate.load(std::memory_order_relaxed)},
                     {"pendingPrefillTokens", e.load->ttft.pending.load(std::memory_order_relaxed)},
                     {"ttftObservations", e.load->ttft.observations()}}}});
  return out;
}

}  // namespace

std::shared_ptr<EndpointLoad> EndpointLoads::get(std::size_t source, const std::string& name,
                                                 const std::string& address) {
  auto& slot = loads_[Key{source, name, address}];
  auto load = slot.lock();
  if (!load) {
    load = std::make_shared<EndpointLoad>();
    slot = load;
  }
  return load;
}

void EndpointLoads::prune() {
  std::erase_if(loads_, [](const auto& entry) { return entry.second.expired(); });
}

std::map<std::string, uint64_t> EndpointLoads::in_flight(std::size_t source) const {
  std::map<std::string, uint64_t> out;
  for (const auto& [key, weak] : loads_) {
    auto load = weak.lock();
    if (std::get<0>(key) != source || !load) continue;
    if (auto n = load->in_flight.load(std::memory_order_relaxed)) out[std::get<1>(key)] += n;
  }
  return out;
}

bool more_specific(const api::Route& a, const api::Route& b) {
  if (a.model.empty() != b.model.empty()) return !a.model.empty();
  if (a.path_prefix.size() != b.path_prefix.size())
    return a.path_prefix.size() > b.path_prefix.size();
  return a.name() < b.name();
}

std::shared_ptr<const RoutingTable> RoutingTable::build(
    const std::vector<const SourceState*>& sources, EndpointLoads& loads) {
  auto table = std::make_shared<RoutingTable>();
  std::map<std::string, api::Route> specs;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    const SourceState& source = *sources[i];
    table->synced_ = table->synced_ || source.synced();
    for (const auto& [name, spec] : source.routes()) specs.try_emplace(name, spec);
    for (const auto& [name, info] : source.deployments())
      table->deployments_.try_emplace(name, Deployment{name, info.canary_weight, {}, {}});
    for (const auto& [name, engine] : source.engines()) {
      if (!engine.ready || engine.deployment.empty()) continue;
      // Over several nodes one replica name can be on each: the node tells them apart.
      std::string backend = engine.deployment + "/" + engine.name;
      if (sources.size() > 1 && !source.node().empty()) backend += "@" + source.node();
      Endpoint ep{engine.name,  engine.deployment,
                  engine.track, engine.endpoint,
                  {},           std::move(backend),
                  nullptr,      engine.version};
      if (!parse_endpoint(engine.endpoint, ep.address)) {
        router_logger().warn("endpoint_skipped", {{"engine", name}, {"endpoint", engine.endpoint}});
        continue;
      }
      ep.load = loads.get(i, name, engine.endpoint);
      auto& d = table->deployments_.try_emplace(engine.deployment).first->second;
      d.name = engine.deployment;
      (engine.track == Track::canary ? d.canary : d.stable).push_back(std::move(ep));
    }
  }
  auto find = [&](const std::string& name) { return table->deployment(name); };
  for (auto& [name, spec] : specs) {
    Route route{spec};
    if (spec.size_routing) {
      route.small = find(spec.size_routing->small);
      route.large = find(spec.size_routing->large);
    } else {
      route.backend = find(spec.backend);
    }
    if (!spec.model.empty()) table->models_.push_back(spec.model);
    auto policy = spec.scheduling.policy;
    table->prefix_policies_ = table->prefix_policies_ || api::uses_prefix_index(policy);
    table->routes_.push_back(std::move(route));
  }
  std::sort(table->routes_.begin(), table->routes_.end(),
            [](const Route& a, const Route& b) { return more_specific(a.spec, b.spec); });
  std::sort(table->models_.begin(), table->models_.end());
  table->models_.erase(std::unique(table->models_.begin(), table->models_.end()),
                       table->models_.end());
  loads.prune();
  return table;
}

const Deployment* RoutingTable::deployment(std::string_view name) const {
  auto it = deployments_.find(name);
  return it == deployments_.end() ? nullptr : &it->second;
}

nlohmann::json RoutingTable::to_json() const {
  nlohmann::json routes = nlohmann::json::array();
  for (const auto& r : routes_) routes.push_back(api::to_json(r.spec));
  nlohmann::json deployments = nlohmann::json::object();
  for (const auto& [name, d] : deployments_)
    deployments[name] = {{"canaryWeight", d.canary_weight},
                         {"stable", pool_json(d.stable)},
                         {"canary", pool_json(d.canary)}};
  return {
      {"synced", synced_}, {"routes", routes}, {"deployments", deployments}, {"models", models_}};
}

}  // namespace duet::router
