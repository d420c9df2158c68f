#pragma once
// One resource's gRPC server on its socket in kubelet's device-plugin directory and its
// registration with kubelet, in the modern order: serve first, then Register, so a kubelet
// that dials back before it answers (1.26+) finds the plugin there.

#include <grpcpp/server.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>

#include "deviceplugin/kubelet/resource_service.h"
#include "duet/common/log.h"

namespace duet::deviceplugin::kubelet {

class ResourceEndpoint {
 public:
  ResourceEndpoint(Resource resource, ResourceService& service, std::filesystem::path plugin_dir,
                   std::filesystem::path kubelet_socket);
  ~ResourceEndpoint();
  ResourceEndpoint(const ResourceEndpoint&) = delete;
  ResourceEndpoint& operator=(const ResourceEndpoint&) = delete;

  // Serves when not serving, and registers when not registered with the kubelet that runs now:
  // called every tick. kubelet deletes every socket in the directory when it starts, so a
  // missing socket or a new kubelet.sock means a restarted kubelet: serve again, register again.
  void keep_registered(std::chrono::steady_clock::time_point now);
  // Stops serving and removes the socket (clean shutdown).
  void stop();

  bool registered() const { return registered_to_.has_value(); }
  std::filesystem::path socket_path() const { return plugin_dir_ / resource_.socket_name(); }

 private:
  bool serve();
  bool register_with_kubelet();

  Resource resource_;
  ResourceService& service_;
  std::filesystem::path plugin_dir_;
  std::filesystem::path kubelet_socket_;
  Logger log_{"kubelet-plugin"};
  std::unique_ptr<grpc::Server> server_;
  ino_t socket_inode_ = 0;               // of our socket when we bound it
  std::optional<ino_t> registered_to_;   // kubelet.sock's inode when Register succeeded
  std::chrono::steady_clock::time_point next_try_{};
  std::chrono::milliseconds backoff_{0};
};

}  // namespace duet::deviceplugin::kubelet
