#pragma once
// duet-router as a whole: the worker threads that proxy, the source watchers that follow
// each duetd, the admin listener, and the control thread that turns watch events into a
// new routing table and hands it to every worker.

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <memory>
#include <vector>

#include "duet/systemd_notify.h"
#include "router/admin_server.h"
#include "router/auth_failure_limiter.h"
#include "router/config.h"
#include "router/credentials.h"
#include "router/engine_scraper.h"
#include "router/rate_limiter.h"
#include "router/request_budget.h"
#include "router/request_log.h"
#include "router/router_stats.h"
#include "router/routing_table.h"
#include "router/source_watcher.h"
#include "router/traffic_reporter.h"
#include "router/worker.h"

namespace duet::router {

class Router : public AdminView {
 public:
  // `config` must have passed check_startable().
  explicit Router(RouterConfig config);
  ~Router() override;

  // Binds every listener (throws std::system_error naming the address), starts the
  // workers and watchers, then runs the control loop on the calling thread until SIGINT or
  // SIGTERM, drains, and returns the exit status.
  int run();

  // AdminView
  nlohmann::json routing_table() const override;
  nlohmann::json sources() const override;
  bool ready() const override;
  std::string metrics() const override;

 private:
  void bind_listeners();
  void start_admin();
  void start_sources();
  void start_credentials();
  void do_wait_hangup();
  void publish_credentials(std::shared_ptr<const Credentials> credentials);
  void schedule_rebuild();
  void rebuild();
  void shutdown();

  RouterConfig config_;
  boost::asio::io_context control_{1};
  SystemdNotify systemd_;  // Type=notify: READY=1 once listening, WATCHDOG=1 from control_
  boost::asio::signal_set signals_;
  boost::asio::signal_set hangup_;
  AccessLog access_log_;
  RouterStats stats_;
  RequestObservers observers_;
  RequestBudget budget_;
  std::unique_ptr<RateLimiter> rate_limiter_;
  std::unique_ptr<CredentialWatcher> credential_watcher_;
  std::atomic<std::size_t> open_connections_{0};
  AuthFailureLimiter auth_failures_;
  PrefixIndex prefix_index_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::shared_ptr<SourceWatcher>> watchers_;
  std::vector<std::shared_ptr<TrafficReporter>> reporters_;
  // Engines' own load for the duet policy; reads table_ on the control thread.
  EngineScraper scraper_{control_, [this] { return table_; }, config_.scheduling.scrape_interval};
  std::unique_ptr<AdminServer> admin_;
  EndpointLoads loads_;
  std::shared_ptr<const RoutingTable> table_;
  std::vector<uint64_t> table_versions_;  // each source's resourceVersion that table_ holds
  bool rebuild_pending_ = false;
};

}  // namespace duet::router
