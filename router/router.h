#pragma once
// duet-router as a whole: the worker threads that proxy, the source watchers that follow
// each duetd, the admin listener, and the control thread that turns watch events into a
// new routing table and hands it to every worker.

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <memory>
#include <vector>

#include "router/admin_server.h"
#include "router/config.h"
#include "router/request_log.h"
#include "router/routing_table.h"
#include "router/source_watcher.h"
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

 private:
  void bind_listeners();
  void start_admin();
  void start_sources();
  void schedule_rebuild();
  void rebuild();
  void shutdown();

  RouterConfig config_;
  boost::asio::io_context control_{1};
  boost::asio::signal_set signals_;
  AccessLog access_log_;
  std::atomic<std::size_t> open_connections_{0};
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::shared_ptr<SourceWatcher>> watchers_;
  std::unique_ptr<AdminServer> admin_;
  EndpointLoads loads_;
  std::shared_ptr<const RoutingTable> table_;
  bool rebuild_pending_ = false;
};

}  // namespace duet::router
