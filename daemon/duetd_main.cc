// duetd: the node daemon. Wires the store, the reconcile loop and the node API onto one
// io_context; the logic lives in the daemon library.

#include <sys/wait.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <filesystem>
#include <iostream>

#include "daemon/api/node_api.h"
#include "daemon/daemon_metrics.h"
#include "daemon/daemon_options.h"
#include "daemon/device_manager.h"
#include "daemon/port_allocator.h"
#include "daemon/reconciler.h"
#include "daemon/store.h"
#include "daemon/watch_hub.h"
#include "duet/common/log.h"

using namespace duet;
using namespace duet::daemon;

namespace {

void reap_children(Reconciler& reconciler) {
  int status = 0;
  pid_t pid;
  while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) reconciler.on_child_exit(pid, status);
}

void wait_for_children(boost::asio::signal_set& sigchld, Reconciler& reconciler) {
  sigchld.async_wait([&](boost::system::error_code ec, int) {
    if (ec) return;
    reap_children(reconciler);
    wait_for_children(sigchld, reconciler);
  });
}

int run(const DaemonOptions& options) {
  Logger log("duetd");
  Logger::set_min_level(Logger::parse_level(options.log_level));
  auto ports = PortAllocator::parse(options.port_range);
  std::filesystem::create_directories(options.state_dir + "/logs");

  boost::asio::io_context io(1);
  WatchHub hub(io);
  Store store(hub);
  deviceplugin::RegistryOptions device_options;
  device_options.paths = {options.dev_root, options.sys_root, options.proc_root};
  DeviceManager devices(io, device_options, hub);
  Reconciler reconciler(io, store, hub, ports, devices, {options.state_dir + "/logs", "127.0.0.1"});
  devices.start([&](const std::set<std::string>& engines) {
    reconciler.evict(engines);
    reconciler.trigger();  // a device that came back may let a Pending replica start
  });
  store.on_change([&] { reconciler.trigger(); });
  store.set_status_source([&](const std::string& name) { return reconciler.deployment_status(name); });
  hub.set_snapshot_source([&](nlohmann::json& snapshot) {
    snapshot["runtimeclasses"] = store.list_json("RuntimeClass");
    snapshot["deployments"] = store.list_json("EngineDeployment");
    snapshot["routes"] = store.list_json("Route");
    snapshot["engines"] = reconciler.engines_json();
    snapshot["devices"] = devices.devices_json();
  });

  boost::asio::signal_set sigchld(io, SIGCHLD);
  wait_for_children(sigchld, reconciler);

  DaemonMetrics metrics(devices, reconciler);
  NodeApi api(store, reconciler, hub, devices, metrics);
  http::Server server(io, [&](std::shared_ptr<http::Exchange> e) { api.handle(e); },
                      {.server_name = "duetd"});
  for (const auto& a : options.api) {
    auto address = Address::parse(a);
    if (address.kind == Address::Kind::unix_socket)
      std::filesystem::create_directories(std::filesystem::path(address.path).parent_path());
    server.listen(address);
  }
  auto ports_bound = server.ports();
  for (std::size_t i = 0; i < options.api.size(); ++i)
    log.info("listening", {{"api", options.api[i]}, {"port", ports_bound[i]}});

  // Like kubelet, stopping duetd leaves the engines running (SPEC §1).
  boost::asio::signal_set stop(io, SIGTERM, SIGINT);
  stop.async_wait([&](boost::system::error_code, int signal) {
    log.info("stopping", {{"signal", signal}});
    hub.close_all();
    devices.stop();
    server.stop();
    io.stop();
  });
  io.run();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  DaemonOptions options;
  try {
    options = parse_daemon_options(argc, argv);
  } catch (const std::invalid_argument& e) {
    std::cerr << "duetd: " << e.what() << "\n" << daemon_usage();
    return 2;
  }
  try {
    return run(options);
  } catch (const std::exception& e) {
    std::cerr << "duetd: " << e.what() << "\n";
    return 1;
  }
}
