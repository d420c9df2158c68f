#pragma once
// duet-kubelet-plugin's loop: one thread owns the device plugins (discover, then check_health
// every tick, as duetd's device thread does), posts each resource's new view to its gRPC
// service, and keeps each resource served and registered across kubelet restarts.

#include <chrono>
#include <filesystem>
#include <memory>
#include <vector>

#include "deviceplugin/kubelet/resource.h"
#include "deviceplugin/kubelet/resource_endpoint.h"
#include "deviceplugin/kubelet/resource_service.h"
#include "deviceplugin/kubelet/vendor_runtime.h"
#include "deviceplugin/registry.h"
#include "duet/common/log.h"

namespace duet::deviceplugin::kubelet {

struct PluginServerOptions {
  RegistryOptions registry;
  std::vector<Resource> resources = default_resources();
  std::filesystem::path plugin_dir = "/var/lib/kubelet/device-plugins/";
  std::filesystem::path kubelet_socket;  // empty: plugin_dir/kubelet.sock
  std::chrono::milliseconds health_interval{500};
  VendorRuntimeOptions runtime;
};

class PluginServer {
 public:
  explicit PluginServer(PluginServerOptions options);
  ~PluginServer();

  // Serves until SIGTERM or SIGINT, which the caller has blocked in every thread (so that
  // this thread takes them with sigtimedwait, its tick); then stops every server and removes
  // the sockets. Returns the exit status.
  int run();

 private:
  struct Served {
    Resource resource;
    DevicePlugin* plugin;
    std::unique_ptr<ResourceService> service;
    std::unique_ptr<ResourceEndpoint> endpoint;  // made once the resource has a device
    bool waiting_logged = false;
  };

  void start();
  void check_health();
  void keep_registered();
  bool wait_tick();  // false when a stop signal came

  PluginServerOptions options_;
  Registry registry_;
  std::vector<Served> served_;
  Logger log_{"kubelet-plugin"};
};

}  // namespace duet::deviceplugin::kubelet
