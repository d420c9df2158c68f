#include "deviceplugin/kubelet/plugin_server.h"

#include <csignal>
#include <ctime>
#include <set>

namespace duet::deviceplugin::kubelet {

PluginServer::PluginServer(PluginServerOptions options)
    : options_(std::move(options)), registry_(options_.registry) {
  if (options_.kubelet_socket.empty()) options_.kubelet_socket = options_.plugin_dir / "kubelet.sock";
}

PluginServer::~PluginServer() = default;

void PluginServer::start() {
  std::set<DevicePlugin*> discovered;
  for (const auto& resource : options_.resources) {
    DevicePlugin* plugin = registry_.plugin(resource.handler);
    if (discovered.insert(plugin).second) plugin->discover();
    auto runtime = vendor_runtime(resource.handler, options_.runtime);
    served_.push_back({resource, plugin,
                       std::make_unique<ResourceService>(
                           resource, std::move(runtime), options_.registry.paths.dev_root,
                           ResourceView::of(resource, plugin->inventory())),
                       nullptr});
  }
}

void PluginServer::check_health() {
  std::set<DevicePlugin*> changed;
  std::set<DevicePlugin*> scanned;
  for (auto& s : served_)
    if (scanned.insert(s.plugin).second && !s.plugin->check_health().empty())
      changed.insert(s.plugin);
  for (auto& s : served_)
    if (changed.count(s.plugin))
      s.service->update(ResourceView::of(s.resource, s.plugin->inventory()));
}

void PluginServer::keep_registered() {
  auto now = std::chrono::steady_clock::now();
  for (auto& s : served_) {
    if (!s.endpoint) {
      if (ResourceView::of(s.resource, s.plugin->inventory()).ids.empty()) {
        // A DaemonSet runs on every node; one without this kind of device waits, quietly.
        if (!s.waiting_logged)
          log_.info("resource_waiting", {{"resource", s.resource.name},
                                         {"handler", s.resource.handler},
                                         {"model_prefix", s.resource.model_prefix},
                                         {"reason", "no device of this resource yet"}});
        s.waiting_logged = true;
        continue;
      }
      s.endpoint = std::make_unique<ResourceEndpoint>(s.resource, *s.service,
                                                      options_.plugin_dir,
                                                      options_.kubelet_socket);
    }
    s.endpoint->keep_registered(now);
  }
}

bool PluginServer::wait_tick() {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  auto ms = options_.health_interval.count();
  timespec tick{static_cast<time_t>(ms / 1000), static_cast<long>(ms % 1000) * 1000000L};
  siginfo_t info{};
  int got = sigtimedwait(&stop, &info, &tick);
  if (got == SIGTERM || got == SIGINT) {
    log_.info("stopping", {{"signal", got == SIGTERM ? "SIGTERM" : "SIGINT"}});
    return false;
  }
  return true;
}

int PluginServer::run() {
  start();
  log_.info("started", {{"plugin_dir", options_.plugin_dir.string()},
                        {"kubelet_socket", options_.kubelet_socket.string()},
                        {"resources", static_cast<int>(served_.size())}});
  do {
    keep_registered();
    if (!wait_tick()) break;
    check_health();
  } while (true);
  for (auto& s : served_)
    if (s.endpoint) s.endpoint->stop();
  log_.info("stopped", {});
  return 0;
}

}  // namespace duet::deviceplugin::kubelet
