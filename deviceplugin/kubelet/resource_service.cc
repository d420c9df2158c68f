#include "deviceplugin/kubelet/resource_service.h"

#include <chrono>

#include "deviceplugin/kubelet/container_requests.h"

namespace duet::deviceplugin::kubelet {

namespace {

// How often an idle ListAndWatch looks whether kubelet hung up.
constexpr auto kStreamCheck = std::chrono::milliseconds(500);

std::string ids_text(const google::protobuf::RepeatedPtrField<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : ",") + quote_peer(id);
  return out;
}

}  // namespace

v1beta1::DevicePluginOptions plugin_options() {
  v1beta1::DevicePluginOptions options;
  options.set_pre_start_required(false);
  options.set_get_preferred_allocation_available(true);
  return options;
}

v1beta1::ListAndWatchResponse device_list(const ResourceView& view) {
  v1beta1::ListAndWatchResponse list;
  for (const auto& d : view.inventory->devices()) {
    if (!view.ids.count(d.id)) continue;
    auto* device = list.add_devices();
    device->set_id(d.id);
    device->set_health(std::string(to_string(d.health.state)));
    if (d.numa_node >= 0) device->mutable_topology()->add_nodes()->set_id(d.numa_node);
  }
  return list;
}

ResourceService::ResourceService(Resource resource, VendorRuntime runtime,
                                 std::filesystem::path dev_root, ResourceView view)
    : resource_(std::move(resource)),
      runtime_(std::move(runtime)),
      dev_root_(std::move(dev_root)),
      view_(std::move(view)) {}

void ResourceService::update(ResourceView view) {
  {
    std::lock_guard lock(mutex_);
    view_ = std::move(view);
    ++version_;
  }
  changed_.notify_all();
}

void ResourceService::end_streams() {
  {
    std::lock_guard lock(mutex_);
    streams_ended_ = true;
  }
  changed_.notify_all();
}

void ResourceService::resume() {
  std::lock_guard lock(mutex_);
  streams_ended_ = false;
}

ResourceView ResourceService::current() const {
  std::lock_guard lock(mutex_);
  return view_;
}

grpc::Status ResourceService::refused(const char* rpc, grpc::Status status) const {
  log_.warn("request_refused", {{"resource", resource_.name},
                                {"rpc", rpc},
                                {"code", static_cast<int>(status.error_code())},
                                {"error", status.error_message()}});
  return status;
}

grpc::Status ResourceService::GetDevicePluginOptions(grpc::ServerContext*, const v1beta1::Empty*,
                                                     v1beta1::DevicePluginOptions* response) {
  *response = plugin_options();
  return grpc::Status::OK;
}

grpc::Status ResourceService::ListAndWatch(
    grpc::ServerContext* context, const v1beta1::Empty*,
    grpc::ServerWriter<v1beta1::ListAndWatchResponse>* writer) {
  std::uint64_t sent = 0;
  while (true) {
    v1beta1::ListAndWatchResponse list;
    {
      std::unique_lock lock(mutex_);
      changed_.wait_for(lock, kStreamCheck,
                        [&] { return streams_ended_ || version_ != sent; });
      if (streams_ended_) return grpc::Status::OK;
      if (context->IsCancelled()) return grpc::Status::CANCELLED;
      if (version_ == sent) continue;
      sent = version_;
      list = device_list(view_);
    }
    if (!writer->Write(list)) return grpc::Status::OK;  // kubelet went away
  }
}

grpc::Status ResourceService::GetPreferredAllocation(
    grpc::ServerContext*, const v1beta1::PreferredAllocationRequest* request,
    v1beta1::PreferredAllocationResponse* response) {
  auto status = check_container_count("GetPreferredAllocation", request->container_requests_size());
  if (!status.ok()) return refused("GetPreferredAllocation", status);
  auto view = current();
  AnswerContext context{resource_, view, runtime_, dev_root_};
  for (int i = 0; i < request->container_requests_size(); ++i) {
    status = preferred_allocation(request->container_requests(i),
                                  "container_requests[" + std::to_string(i) + "]", context,
                                  response->add_container_responses());
    if (!status.ok()) return refused("GetPreferredAllocation", status);
  }
  return grpc::Status::OK;
}

grpc::Status ResourceService::Allocate(grpc::ServerContext*,
                                       const v1beta1::AllocateRequest* request,
                                       v1beta1::AllocateResponse* response) {
  auto status = check_container_count("Allocate", request->container_requests_size());
  if (!status.ok()) return refused("Allocate", status);
  auto view = current();
  AnswerContext context{resource_, view, runtime_, dev_root_};
  for (int i = 0; i < request->container_requests_size(); ++i) {
    const auto& container = request->container_requests(i);
    status = container_allocation(container, "container_requests[" + std::to_string(i) + "]",
                                  context, response->add_container_responses());
    if (!status.ok()) return refused("Allocate", status);
    log_.info("allocated",
              {{"resource", resource_.name}, {"devices", ids_text(container.devices_ids())}});
  }
  return grpc::Status::OK;
}

grpc::Status ResourceService::PreStartContainer(grpc::ServerContext*,
                                                const v1beta1::PreStartContainerRequest* request,
                                                v1beta1::PreStartContainerResponse*) {
  // Not asked for (pre_start_required is false); when a kubelet calls it anyway, the ids are
  // checked like Allocate's and nothing else is done.
  auto view = current();
  AnswerContext context{resource_, view, runtime_, dev_root_};
  auto status = check_device_ids("devices_ids", request->devices_ids(), context);
  if (!status.ok()) return refused("PreStartContainer", status);
  return grpc::Status::OK;
}

}  // namespace duet::deviceplugin::kubelet
