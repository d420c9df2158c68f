#pragma once
// One duetd: the store, the device manager, the rollout controller, the reconcile loop, the
// checkpoint and the node API, wired onto one io_context. The device manager, the rollout
// controller and the reconciler are peers: each sees the others only through what Node wires
// (DevicePool, ReplicaPlanner, triggers). duetd_main adds signals and systemd around it.

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/api/node_api.h"
#include "daemon/daemon_metrics.h"
#include "daemon/daemon_options.h"
#include "daemon/device_manager.h"
#include "daemon/drain_tracker.h"
#include "daemon/engine_log_rotator.h"
#include "daemon/event_log.h"
#include "daemon/node_checkpoint.h"
#include "daemon/port_allocator.h"
#include "daemon/reconciler.h"
#include "daemon/rollout/rollout_controller.h"
#include "daemon/store.h"
#include "daemon/watch_hub.h"
#include "duet/common/http_server.h"
#include "duet/jwt.h"

namespace duet::daemon {

class Node {
 public:
  // Throws std::invalid_argument on a bad option (a port range, an address).
  Node(boost::asio::io_context& io, const DaemonOptions& options);

  // Loads the checkpoint, discovers devices, adopts the engines that still run, starts
  // reconciling and listens on every --api address. Throws when an address cannot be bound.
  void start();
  // Stops serving; engines keep running (SPEC §1), the next duetd adopts them.
  void stop();
  // A child process ended (SIGCHLD).
  void on_child_exit(pid_t pid, int status);

  // SIGHUP: takes the new log level and re-reads the API's JWT keys and TLS files (for new
  // connections). Other settings need a restart, which the log says. Throws
  // std::runtime_error (a bad key or certificate file): nothing changes.
  void reload(const DaemonOptions& options);

  // For systemd's STATUS=: "2 deployments, 3/4 replicas ready, 8 devices (0 unhealthy)".
  std::string status_line() const;

  // A deployment's status: its replicas (the reconciler's) and its rollout (the controller's).
  api::DeploymentStatus deployment_status(const std::string& deployment) const;

 private:
  nlohmann::json checkpoint_state() const;
  void restore(const nlohmann::json& checkpoint);
  void listen();
  // tcp:// listeners: a valid bearer JWT (SPEC §7) whose scope allows the request
  // (api_scope.h); /healthz and /readyz are open. Checked on the header, so a refused
  // request's body is never read. nullopt: let through, `caller` set to `sub:SUBJECT`.
  std::optional<http::Response> check_token(const http::RequestHeader& header,
                                            const std::string& remote, std::string& caller) const;

  DaemonOptions options_;
  // Loaded before anything is created on the host (cgroups), so that bad files cost nothing.
  std::shared_ptr<boost::asio::ssl::context> api_tls_;
  PortAllocator ports_;
  WatchHub hub_;
  Store store_;
  EventLog events_;
  DeviceManager devices_;
  RolloutController rollouts_;
  DrainTracker drains_;  // what the routers have in flight: when a Draining replica may stop
  Reconciler reconciler_;
  EngineLogRotator log_rotator_;
  NodeCheckpoint checkpoint_;
  DaemonMetrics metrics_;
  TrafficHistory traffic_history_;  // the dashboard's traffic charts
  NodeApi api_;
  std::shared_ptr<const jwt::Verifier> verifier_;  // null without tcp:// listeners
  http::Server local_server_;  // unix sockets: guarded by file mode 0660
  http::Server tcp_server_;
};

}  // namespace duet::daemon
