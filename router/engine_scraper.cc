#include "router/engine_scraper.h"

#include <cmath>
#include <set>
#include <string_view>

#include "router/engine_metrics.h"
#include "router/prefix_index.h"

namespace duet::router {

namespace asio = boost::asio;

namespace {
// Calls `f` once for every engine a route of `table` sends to.
template <typename F>
void for_each_routed(const RoutingTable& table, F f) {
  std::set<uint64_t> seen;
  for (const auto& route : table.routes())
    for (const auto* d : {route.backend, route.small, route.large}) {
      if (!d) continue;
      for (const auto* pool : {&d->stable, &d->canary})
        for (const auto& e : *pool)
          if (seen.insert(e.load->id).second) f(e);
    }
}

// What an engine's /metrics text says, into the load its scheduling reads.
void record(EndpointLoad& load, std::string_view text) {
  auto m = parse_engine_metrics(text);
  if (!m.any()) return;
  load.engine_queue.store(static_cast<uint32_t>(std::min(m.running.value_or(0) + m.waiting.value_or(0), 1e9)),
                          std::memory_order_relaxed);
  load.engine_kv_permille.store(static_cast<uint32_t>(std::lround(m.kv_usage.value_or(0) * 1000)),
                                std::memory_order_relaxed);
  if (m.kv_capacity_tokens)
    load.cache_chunks.store(static_cast<uint32_t>(std::min(*m.kv_capacity_tokens / kTokensPerPrefixChunk, 1e9)),
                            std::memory_order_relaxed);
  load.metrics_at.store(std::chrono::steady_clock::now().time_since_epoch().count(), std::memory_order_relaxed);
}
}  // namespace

EngineScraper::EngineScraper(asio::io_context& control, TableSource table, std::chrono::milliseconds interval)
    : control_(control), table_(std::move(table)), interval_(interval), timer_(control) {}

void EngineScraper::start() { tick(); }

void EngineScraper::stop() {
  stopped_ = true;
  timer_.cancel();
  // A connection's pending handlers hold it and its `done`, which holds the load: closed
  // here, since they may never run once the control loop has stopped (a leak at exit).
  for (auto& [id, connection] : connections_) connection->close();
  connections_.clear();
}

void EngineScraper::table_changed() {
  if (!stopped_) scan();
}

void EngineScraper::tick() {
  if (stopped_) return;
  scan();
  std::vector<EndpointLoad*> loads;
  if (auto table = table_()) for_each_routed(*table, [&](const Endpoint& e) { loads.push_back(e.load.get()); });
  cache_rates_.sample(loads, std::chrono::steady_clock::now());
  timer_.expires_after(interval_);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) tick();
  });
}

void EngineScraper::scan() {
  auto table = table_();
  if (!table) return;
  std::set<uint64_t> routed;
  for_each_routed(*table, [&](const Endpoint& e) {
    routed.insert(e.load->id);
    auto& connection = connections_[e.load->id];
    if (connection && connection->engine() != e.address) {
      connection->close();
      connection.reset();
    }
    if (!connection) connection = std::make_shared<MetricsConnection>(control_.get_executor(), e.address);
    if (!connection->busy()) scrape(e, *connection);
  });
  for (auto it = connections_.begin(); it != connections_.end();) {
    if (routed.count(it->first)) {
      ++it;
      continue;
    }
    it->second->close();
    it = connections_.erase(it);
  }
}

void EngineScraper::scrape(const Endpoint& endpoint, MetricsConnection& connection) {
  connection.fetch(kScrapeTimeout, [load = endpoint.load](std::optional<std::string> body) {
    if (body) record(*load, *body);
  });
}

}  // namespace duet::router
