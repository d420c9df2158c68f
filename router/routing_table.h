#pragma once
// The routing table: an immutable snapshot of every source's routes, deployments and Ready
// endpoints, built on the control thread and handed to the worker threads, which only read.

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "router/ttft_model.h"
#include "router/watch_state.h"

namespace duet::router {

// Load and health of one endpoint, shared by all worker threads and by every table that
// lists it, so a rebuilt table keeps the counts of requests in flight and the ejections.
// A process-wide id, never 0 and never reused (the prefix index names endpoints by it).
uint64_t next_endpoint_id();

struct EndpointLoad {
  const uint64_t id = next_endpoint_id();
  std::atomic<uint32_t> in_flight{0};
  std::atomic<int64_t> ejected_until{0};  // steady_clock ticks; past: in rotation
  std::atomic<uint32_t> failures{0};      // in a row, reset by a good response
  std::atomic<uint32_t> ejections{0};     // in a row: the next ejection lasts 2^n base times
  // From the engine's own /metrics (engine_scraper.h); metrics_at 0: no good scrape yet.
  std::atomic<uint32_t> engine_queue{0};        // running + waiting
  std::atomic<uint32_t> engine_kv_permille{0};  // KV cache in use, 0..1000
  std::atomic<int64_t> metrics_at{0};           // steady_clock ticks of the last good scrape
  // The prefix index's view of its cache (prefix_index.h): prefix chunks recorded on it so
  // far, and how many its KV cache holds (from its /metrics; 0: unknown, none taken as evicted).
  std::atomic<uint32_t> cache_written{0};
  std::atomic<uint32_t> cache_chunks{0};
  std::atomic<uint32_t> cache_sent{0};  // prefix chunks of the prompts sent to it, held or not
  // Chunks written and sent a second, lately (cache_pressure.h).
  std::atomic<float> cache_write_rate{0};
  std::atomic<float> cache_send_rate{0};
  TtftModel ttft;  // its predicted time to first token

  // The engine's figures when its last good scrape is younger than `fresh`.
  bool metrics_fresh(std::chrono::steady_clock::time_point now, std::chrono::milliseconds fresh) const {
    int64_t at = metrics_at.load(std::memory_order_relaxed);
    return at != 0 && now.time_since_epoch().count() - at <
                          std::chrono::duration_cast<std::chrono::steady_clock::duration>(fresh).count();
  }

  bool ejected(std::chrono::steady_clock::time_point now) const {
    return now.time_since_epoch().count() < ejected_until.load(std::memory_order_relaxed);
  }
};

struct Endpoint {
  std::string name;  // replica name
  std::string deployment;
  Track track = Track::stable;
  std::string address_text;
  boost::asio::ip::tcp::endpoint address;
  // `deployment/replica` (`deployment/replica@node` over several sources): x-duet-backend
  std::string backend;
  std::shared_ptr<EndpointLoad> load;
  std::string version;  // the deployment's spec.version this replica runs
};

using Pool = std::vector<Endpoint>;

struct Deployment {
  std::string name;
  uint32_t canary_weight = 0;  // percent of requests for the canary (status.canaryWeight)
  Pool stable;                 // Ready endpoints only
  Pool canary;

  const Pool& pool(Track track) const { return track == Track::canary ? canary : stable; }
};

struct Route {
  api::Route spec;
  // Resolved deployments; null when the source does not (yet) know the name.
  const Deployment* backend = nullptr;  // a backend route
  const Deployment* small = nullptr;    // a sizeRouting route
  const Deployment* large = nullptr;
};

// Keeps one EndpointLoad per endpoint across rebuilds. Control thread only.
class EndpointLoads {
 public:
  // Engine `name` at `address` of source `source` (the index of its duetd in the config).
  std::shared_ptr<EndpointLoad> get(std::size_t source, const std::string& name,
                                    const std::string& address);
  // Forgets endpoints no table holds any more.
  void prune();
  // Requests in flight on the engines of `source` that have any, by engine name: also on
  // those a newer table left out (a request holds the table it was routed with).
  std::map<std::string, uint64_t> in_flight(std::size_t source) const;

 private:
  using Key = std::tuple<std::size_t, std::string, std::string>;  // source, name, address
  std::map<Key, std::weak_ptr<EndpointLoad>> loads_;
};

class RoutingTable {
 public:
  // Merges the sources in order: a route or deployment status comes from the first source
  // that has it; endpoints of a deployment are the union over all sources. Control thread.
  static std::shared_ptr<const RoutingTable> build(const std::vector<const SourceState*>& sources,
                                                   EndpointLoads& loads);

  // Most specific first: routes with a model before routes without, then longer prefixes.
  const std::vector<Route>& routes() const { return routes_; }
  const Deployment* deployment(std::string_view name) const;
  // Models that routes name, sorted, for GET /v1/models.
  const std::vector<std::string>& models() const { return models_; }
  // Whether at least one source had delivered its snapshot when this table was built.
  bool synced() const { return synced_; }
  // Whether a route schedules by prefix (duet, prefix): a request's one body scan then
  // collects its prefix chunks whatever route it matches.
  bool prefix_policies() const { return prefix_policies_; }
  // The table for the admin /config page.
  nlohmann::json to_json() const;

  RoutingTable(const RoutingTable&) = delete;
  RoutingTable& operator=(const RoutingTable&) = delete;
  RoutingTable() = default;

 private:
  std::vector<Route> routes_;
  std::map<std::string, Deployment, std::less<>> deployments_;
  std::vector<std::string> models_;
  bool synced_ = false;
  bool prefix_policies_ = false;
};

// The order of routes(): true when `a` is tried before `b`.
bool more_specific(const api::Route& a, const api::Route& b);

}  // namespace duet::router
