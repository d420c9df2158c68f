#include "deviceplugin/kubelet/container_requests.h"

#include <algorithm>
#include <set>
#include <vector>

namespace duet::deviceplugin::kubelet {

namespace {

using grpc::Status;
using grpc::StatusCode;

Status fail(StatusCode code, const std::string& message) { return Status(code, message); }

std::set<std::string> id_set(const google::protobuf::RepeatedPtrField<std::string>& ids) {
  return {ids.begin(), ids.end()};
}

// The container path of a device node found under --dev-root: the same name under /dev.
std::string container_path(const std::string& host_node, const std::filesystem::path& dev_root) {
  auto rel = std::filesystem::path(host_node).lexically_relative(dev_root);
  if (rel.empty() || rel.native().starts_with("..")) return host_node;
  return (std::filesystem::path("/dev") / rel).string();
}

// kubelet's must-include ids first, then the rest of duet's choice for the remaining count.
std::vector<std::string> keep_must_include(const std::vector<std::string>& chosen,
                                           const std::set<std::string>& must,
                                           const std::set<std::string>& available,
                                           std::size_t size, const Inventory& inventory) {
  std::vector<std::string> out(must.begin(), must.end());
  std::set<std::string> rest;
  std::set_difference(available.begin(), available.end(), must.begin(), must.end(),
                      std::inserter(rest, rest.end()));
  auto more = inventory.allocate(size - out.size(), rest);
  std::vector<std::string> extra = more ? more.allocation->device_ids : chosen;
  for (const auto& id : extra)
    if (out.size() < size && rest.count(id) && !std::count(out.begin(), out.end(), id))
      out.push_back(id);
  for (const auto& id : rest)  // still short: any available device
    if (out.size() < size && !std::count(out.begin(), out.end(), id)) out.push_back(id);
  return out;
}

}  // namespace

std::string quote_peer(std::string_view peer_text) {
  constexpr std::size_t kShown = 64;
  std::string out = "\"";
  for (char c : peer_text.substr(0, kShown)) out += (c >= 0x20 && c < 0x7f && c != '"') ? c : '?';
  if (peer_text.size() > kShown) out += "...";
  return out + "\"";
}

Status check_container_count(std::string_view rpc, int count) {
  if (count < 1 || count > kMaxContainers)
    return fail(StatusCode::INVALID_ARGUMENT,
                std::string(rpc) + ": container_requests has " + std::to_string(count) +
                    " entries, expected 1 to " + std::to_string(kMaxContainers));
  return Status::OK;
}

Status check_device_ids(const std::string& field,
                        const google::protobuf::RepeatedPtrField<std::string>& ids,
                        const AnswerContext& context) {
  const auto& name = context.resource.name;
  if (static_cast<std::size_t>(ids.size()) > context.view.ids.size())
    return fail(StatusCode::RESOURCE_EXHAUSTED,
                field + ": " + std::to_string(ids.size()) + " devices asked, " + name + " has " +
                    std::to_string(context.view.ids.size()));
  std::set<std::string> seen;
  for (int i = 0; i < ids.size(); ++i) {
    const auto& id = ids[i];
    auto at = field + "[" + std::to_string(i) + "]";
    if (!context.view.ids.count(id))
      return fail(StatusCode::NOT_FOUND, at + ": unknown " + name + " device " + quote_peer(id));
    if (!seen.insert(id).second)
      return fail(StatusCode::INVALID_ARGUMENT, at + ": device " + quote_peer(id) + " given twice");
  }
  return Status::OK;
}

Status preferred_allocation(const v1beta1::ContainerPreferredAllocationRequest& request,
                            const std::string& field, const AnswerContext& context,
                            v1beta1::ContainerPreferredAllocationResponse* response) {
  auto status = check_device_ids(field + ".available_deviceIDs", request.available_deviceids(),
                                 context);
  if (!status.ok()) return status;
  status = check_device_ids(field + ".must_include_deviceIDs", request.must_include_deviceids(),
                            context);
  if (!status.ok()) return status;
  auto available = id_set(request.available_deviceids());
  auto must = id_set(request.must_include_deviceids());
  for (const auto& id : must)
    if (!available.count(id))
      return fail(StatusCode::INVALID_ARGUMENT, field + ".must_include_deviceIDs: device " +
                                                    quote_peer(id) + " is not available");
  auto size = request.allocation_size();
  if (size < 1 || static_cast<std::size_t>(size) > available.size() ||
      static_cast<std::size_t>(size) < must.size())
    return fail(StatusCode::INVALID_ARGUMENT,
                field + ".allocation_size " + std::to_string(size) + " is outside " +
                    std::to_string(std::max<std::size_t>(must.size(), 1)) + ".." +
                    std::to_string(available.size()) + " (must-include..available)");
  const auto& inventory = *context.view.inventory;
  auto result = inventory.allocate(static_cast<std::size_t>(size), available);
  if (!result)
    return fail(StatusCode::RESOURCE_EXHAUSTED, field + ": " + context.resource.name + ": " +
                                                    result.reason);
  auto chosen = result.allocation->device_ids;
  std::set<std::string> chosen_set(chosen.begin(), chosen.end());
  if (!std::includes(chosen_set.begin(), chosen_set.end(), must.begin(), must.end()))
    chosen = keep_must_include(chosen, must, available, static_cast<std::size_t>(size), inventory);
  for (const auto& id : chosen) response->add_deviceids(id);
  return Status::OK;
}

Status container_allocation(const v1beta1::ContainerAllocateRequest& request,
                            const std::string& field, const AnswerContext& context,
                            v1beta1::ContainerAllocateResponse* response) {
  auto ids_field = field + ".devices_ids";
  auto status = check_device_ids(ids_field, request.devices_ids(), context);
  if (!status.ok()) return status;
  if (request.devices_ids().empty())
    return fail(StatusCode::INVALID_ARGUMENT, ids_field + " is empty");
  for (const auto& id : request.devices_ids()) {
    const Device* device = context.view.find(id);
    if (device && !device->health.ok())
      return fail(StatusCode::FAILED_PRECONDITION, ids_field + ": device " + quote_peer(id) +
                                                       " is Unhealthy: " + device->health.reason);
  }
  auto result = context.view.inventory->allocation_of(
      std::vector<std::string>(request.devices_ids().begin(), request.devices_ids().end()));
  if (!result) return fail(StatusCode::NOT_FOUND, ids_field + ": " + result.reason);
  const Allocation& a = *result.allocation;
  for (const auto& [key, value] : a.env) (*response->mutable_envs())[key] = value;
  for (const auto& node : a.device_nodes) {
    auto* spec = response->add_devices();
    spec->set_host_path(node);
    spec->set_container_path(container_path(node, context.dev_root));
    spec->set_permissions("rw");
  }
  for (const auto& m : context.runtime.mounts) {
    auto* mount = response->add_mounts();
    mount->set_host_path(m.host_path);
    mount->set_container_path(m.container_path);
    mount->set_read_only(true);
  }
  if (!context.runtime.cdi_kind.empty())
    for (const auto& id : a.device_ids)
      response->add_cdi_devices()->set_name(context.runtime.cdi_kind + "=" + id);
  return Status::OK;
}

}  // namespace duet::deviceplugin::kubelet
