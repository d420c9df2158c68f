#pragma once
// The v1beta1 DevicePlugin service of one resource: answers kubelet from the resource's view
// of the last scan, and streams that view to ListAndWatch whenever the device thread posts a
// new one. Handlers run on gRPC's threads; update() on the device thread.

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>

#include "deviceplugin/kubelet/api.grpc.pb.h"
#include "deviceplugin/kubelet/resource.h"
#include "deviceplugin/kubelet/vendor_runtime.h"
#include "duet/common/log.h"

namespace duet::deviceplugin::kubelet {

// The options duet reports, alike in Register and GetDevicePluginOptions (modern kubelet reads
// the second, 1.20 the first): preferred allocation yes, PreStartContainer not needed.
v1beta1::DevicePluginOptions plugin_options();

// The ListAndWatch answer for `view`: each device with its health and NUMA node.
v1beta1::ListAndWatchResponse device_list(const ResourceView& view);

class ResourceService final : public v1beta1::DevicePlugin::Service {
 public:
  ResourceService(Resource resource, VendorRuntime runtime, std::filesystem::path dev_root,
                  ResourceView view);

  // Posts a newer view (device thread); open ListAndWatch streams send it at once.
  void update(ResourceView view);
  // Ends open ListAndWatch streams, so the server can shut down; resume() before serving again.
  void end_streams();
  void resume();

  // v1beta1::DevicePlugin::Service
  grpc::Status GetDevicePluginOptions(grpc::ServerContext* context, const v1beta1::Empty* request,
                                      v1beta1::DevicePluginOptions* response) override;
  grpc::Status ListAndWatch(grpc::ServerContext* context, const v1beta1::Empty* request,
                            grpc::ServerWriter<v1beta1::ListAndWatchResponse>* writer) override;
  grpc::Status GetPreferredAllocation(grpc::ServerContext* context,
                                      const v1beta1::PreferredAllocationRequest* request,
                                      v1beta1::PreferredAllocationResponse* response) override;
  grpc::Status Allocate(grpc::ServerContext* context, const v1beta1::AllocateRequest* request,
                        v1beta1::AllocateResponse* response) override;
  grpc::Status PreStartContainer(grpc::ServerContext* context,
                                 const v1beta1::PreStartContainerRequest* request,
                                 v1beta1::PreStartContainerResponse* response) override;

 private:
  ResourceView current() const;
  // Logs a refused request once, at warn: the peer's mistake, not ours.
  grpc::Status refused(const char* rpc, grpc::Status status) const;

  const Resource resource_;
  const VendorRuntime runtime_;
  const std::filesystem::path dev_root_;
  Logger log_{"kubelet-plugin"};

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  ResourceView view_;
  std::uint64_t version_ = 1;
  bool streams_ended_ = false;
};

}  // namespace duet::deviceplugin::kubelet
