#pragma once
// duet-router as a whole: the worker threads that proxy, the source watchers that follow
// each duetd, the admin listener, and the control thread that turns watch events into a
// new routing table and hands it to every worker.

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <vector>

#include "duet/systemd_notify.h"
#include "router/admin_server.h"
#include "router/auth_failure_limiter.h"
#include "router/config.h"
#include "router/credentials.h"
#include "router/engine_scraper.h"
#include "router/handover.h"
#include "router/rate_limiter.h"
#include "router/request_budget.h"
#include "router/request_log.h"
#include "router/router_stats.h"
#include "router/routing_table.h"
#include "router/source_watcher.h"
#include "router/traffic_reporter.h"
#include "router/worker.h"

namespace duet::router {

// How this process came to be, for a reload that replaces it (handover.h).
struct RouterLaunch {
  std::string program;             // own_program_path()
  std::vector<std::string> args;   // argv without the program name
  Inheritance inherited;           // from a predecessor; empty when started normally
};

class Router : public AdminView {
 public:
  // `config` must have passed check_startable().
  explicit Router(RouterConfig config, RouterLaunch launch = {});
  ~Router() override;

  // Binds every listener (or takes over a predecessor's; throws std::system_error naming
  // the address), starts the workers and watchers, then runs the control loop on the
  // calling thread until SIGINT or SIGTERM, or until SIGUSR2 has a successor serving;
  // drains, and returns the exit status.
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
  void do_wait_replace();
  // SIGUSR2: starts a successor on the listening sockets; hands over once it serves.
  void replace();
  void replace_failed(const std::string& reason);
  void hand_over();
  // A successor tells its predecessor, and systemd, that it serves now.
  void announce_if_ready();
  void publish_credentials(std::shared_ptr<const Credentials> credentials);
  void schedule_rebuild();
  void rebuild();
  // Stops taking requests and lets those in flight finish (drainTimeoutSeconds); watchers
  // and traffic reports go on until then, so duetd still sees what is in flight.
  void drain(bool handed_over);
  void wait_workers_finished();
  void stop_control();
  std::string status_line() const;  // systemd's STATUS=

  RouterConfig config_;
  boost::asio::io_context control_{1};
  SystemdNotify systemd_;  // Type=notify: READY=1 once listening, WATCHDOG=1 from control_
  boost::asio::signal_set signals_;
  boost::asio::signal_set hangup_;
  boost::asio::signal_set replace_signal_;
  RouterLaunch launch_;
  pid_t successor_ = 0;  // started, not yet serving
  std::unique_ptr<boost::asio::posix::stream_descriptor> successor_ready_;
  boost::asio::steady_timer replace_timer_;  // the successor's time to serve; then drain polling
  boost::asio::steady_timer watchdog_delay_;  // a successor's pings start once it is main
  bool draining_ = false;
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
