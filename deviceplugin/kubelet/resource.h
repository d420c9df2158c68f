#pragma once
// A kubelet extended resource that duet serves ("huawei.com/Ascend910"): which plugin's
// devices it is, narrowed by model, and the view of them one scan gives.

#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "deviceplugin/inventory.h"

namespace duet::deviceplugin::kubelet {

struct Resource {
  std::string name;          // kubelet's resource name, "vendor.com/thing"
  std::string handler;       // duet's plugin: ascend, nvidia, mlu
  std::string model_prefix;  // only devices whose model starts with it; empty: all

  bool serves(const Device& device) const { return device.model.starts_with(model_prefix); }
  // The socket file in the plugin directory: "duet-huawei.com_Ascend910.sock".
  std::string socket_name() const;
};

// The vendors' own names: huawei.com/Ascend910 and huawei.com/Ascend310P (ascend, by model),
// nvidia.com/gpu, cambricon.com/mlu. CPUs stay with kubelet's CPU manager.
std::vector<Resource> default_resources();

// "NAME=HANDLER[:MODEL_PREFIX]" from --resource. Throws std::invalid_argument naming what is
// wrong: a name kubelet would refuse (not "domain/name", kubernetes.io's own domains), or a
// handler other than ascend, nvidia, mlu.
Resource parse_resource(std::string_view text);

// One scan's devices of one resource: the plugin's snapshot and the ids in it this resource
// serves. Immutable once built, so gRPC handler threads read it while the plugin scans again.
struct ResourceView {
  std::shared_ptr<const Inventory> inventory;
  std::set<std::string> ids;

  static ResourceView of(const Resource& resource, std::shared_ptr<const Inventory> inventory);
  // The device `id` names when this resource serves it, else nullptr.
  const Device* find(const std::string& id) const;
};

}  // namespace duet::deviceplugin::kubelet
