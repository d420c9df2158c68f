#pragma once
// Reports this router's counts per deployment, track and version to one duetd, once a
// second (POST /apis/v1/traffic, docs/node-api.md "Traffic reports"): duetd's canary
// analysis judges the canary on them. Each report carries what changed since the last report
// that duetd accepted, so a failed post loses nothing; the next one carries it too. It also
// says what the router routes with (RoutingView), for duetd's drains: so a report goes out
// every second, changed counts or not.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>

#include "duet/common/http_client.h"
#include "router/router_stats.h"
#include "router/source_watcher.h"

namespace duet::router {

// What this router routes with for one duetd: the resourceVersion of that duetd's stream its
// routing table was built from, and its requests in flight on that duetd's engines.
struct RoutingView {
  uint64_t seen_version = 0;
  std::map<std::string, uint64_t> in_flight;
};

// Control thread only. Owned by a shared_ptr: pending operations hold it weakly.
class TrafficReporter : public std::enable_shared_from_this<TrafficReporter> {
 public:
  TrafficReporter(boost::asio::io_context& io, std::shared_ptr<const SourceWatcher> watcher,
                  const RouterStats& stats, std::string router_id,
                  std::function<RoutingView()> routing_view,
                  std::chrono::milliseconds period = std::chrono::seconds(1));

  void start();
  void stop();

 private:
  using Key = std::tuple<std::string, std::string, std::string>;  // deployment, track, version

  void schedule();
  void report();
  void on_reply(duet::http::error_code ec, const duet::http::ClientResponse& response,
                std::map<Key, TrafficTotals> sent);

  boost::asio::io_context& io_;
  std::shared_ptr<const SourceWatcher> watcher_;
  const RouterStats& stats_;
  std::string router_id_;
  std::function<RoutingView()> routing_view_;
  std::chrono::milliseconds period_;
  boost::asio::steady_timer timer_;
  std::shared_ptr<duet::http::ClientCall> call_;  // the report in flight, if any
  std::map<Key, TrafficTotals> accepted_;   // totals as of the last accepted report
  bool failing_ = false;                    // the last report failed (logged once)
  bool stopped_ = false;
};

}  // namespace duet::router
