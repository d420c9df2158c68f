#pragma once
// Reads every routed engine's /metrics every 50 ms on the router's control thread and keeps
// the load it reports (requests running and waiting, KV cache in use) in the endpoint's
// EndpointLoad, where the `duet` scheduling policy reads it (scheduler.h). One scrape per
// engine at a time, over a connection kept open between scrapes (metrics_connection.h), each
// bounded in time (1 s) and size (1 MiB, engine_metrics.h). A scrape that fails, times out or
// holds no known name changes nothing: the figures age out after a second, and scheduling
// falls back to the router's own counts of requests in flight.
// Every interval it also samples how fast the router writes into each engine's prefix cache
// (cache_pressure.h), whether the engine answers or not.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "router/cache_pressure.h"
#include "router/metrics_connection.h"
#include "router/routing_table.h"

namespace duet::router {

inline constexpr std::chrono::milliseconds kScrapeInterval{50};
inline constexpr std::chrono::milliseconds kScrapeTimeout{1000};
// Engine figures older than this are not used.
inline constexpr std::chrono::milliseconds kEngineMetricsFresh{1000};

class EngineScraper {
 public:
  using TableSource = std::function<std::shared_ptr<const RoutingTable>()>;

  EngineScraper(boost::asio::io_context& control, TableSource table,
                std::chrono::milliseconds interval = kScrapeInterval);

  void start();
  // The routing table changed: engines it routes to and this has not read yet are read now,
  // not one interval later (a new engine's cache size and load count from its first request).
  void table_changed();
  // No scrape starts after stop(); those running are cancelled.
  void stop();

 private:
  void tick();
  // Starts a scrape of every routed engine that has none running; closes the connections
  // of engines no longer routed.
  void scan();
  void scrape(const Endpoint& endpoint, MetricsConnection& connection);

  boost::asio::io_context& control_;
  TableSource table_;
  std::chrono::milliseconds interval_;
  boost::asio::steady_timer timer_;
  std::map<uint64_t, std::shared_ptr<MetricsConnection>> connections_;  // by endpoint id
  CacheRates cache_rates_;
  bool stopped_ = false;
};

}  // namespace duet::router
