#pragma once
// kubelet's per-container requests checked and answered, as pure functions of one resource's
// view: every id, count and size from the peer is validated before it is used, and a bad one
// is a gRPC status naming the field and the device (INVALID_ARGUMENT, NOT_FOUND,
// RESOURCE_EXHAUSTED, FAILED_PRECONDITION), never an exception.

#include <grpcpp/support/status.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "deviceplugin/kubelet/api.pb.h"
#include "deviceplugin/kubelet/resource.h"
#include "deviceplugin/kubelet/vendor_runtime.h"

namespace duet::deviceplugin::kubelet {

// Requests carry a handful of containers; more is not a kubelet.
inline constexpr int kMaxContainers = 64;

// What answering needs besides the request: the resource, its devices as of the last scan,
// the vendor runtime's mounts and CDI kind, and the host's /dev (device nodes are shown to the
// container under /dev whatever --dev-root says).
struct AnswerContext {
  const Resource& resource;
  const ResourceView& view;
  const VendorRuntime& runtime;
  std::filesystem::path dev_root;
};

// `container_requests` holds 1..kMaxContainers entries.
grpc::Status check_container_count(std::string_view rpc, int count);

// Each of `ids` (at `field`) names a device of the resource, once; no more ids than devices.
grpc::Status check_device_ids(const std::string& field,
                              const google::protobuf::RepeatedPtrField<std::string>& ids,
                              const AnswerContext& context);

// GetPreferredAllocation for one container: duet's placement rules (HCCS rings, NVLink, NUMA)
// over the available ids, keeping every must-include id. When the rules find no placement
// (three 910s, no whole ring free for four) the answer is RESOURCE_EXHAUSTED with their
// reason, so the pod is refused with words instead of started on a broken ring.
grpc::Status preferred_allocation(const v1beta1::ContainerPreferredAllocationRequest& request,
                                  const std::string& field, const AnswerContext& context,
                                  v1beta1::ContainerPreferredAllocationResponse* response);

// Allocate for one container: exactly the devices kubelet chose (all healthy), with the env,
// device nodes, driver mounts and CDI names the vendor's container runtime reads.
grpc::Status container_allocation(const v1beta1::ContainerAllocateRequest& request,
                                  const std::string& field, const AnswerContext& context,
                                  v1beta1::ContainerAllocateResponse* response);

// A peer's string made safe to show: at most 64 bytes, printable ASCII, in quotes.
std::string quote_peer(std::string_view peer_text);

}  // namespace duet::deviceplugin::kubelet
