#include "deviceplugin/nvidia/nvidia_inventory.h"

#include "deviceplugin/scanning_plugin.h"
#include "deviceplugin/topology_picker.h"

namespace duet::deviceplugin {

NvidiaInventory::NvidiaInventory(std::vector<Device> devices, std::vector<std::string> shared_nodes,
                                 GpuAffinity affinity)
    : Inventory("nvidia", std::move(devices)),
      shared_nodes_(std::move(shared_nodes)),
      affinity_(std::move(affinity)) {}

int NvidiaInventory::affinity(const std::string& a, const std::string& b) const {
  auto it = affinity_.find({a, b});
  return it == affinity_.end() ? 0 : it->second;
}

AllocateResult NvidiaInventory::allocate(std::size_t count,
                                         const std::set<std::string>& free_ids) const {
  if (count == 0) return AllocateResult::ok({});
  auto free = free_healthy(free_ids);
  if (free.size() < count) return AllocateResult::fail(insufficient(count, free.size()));
  PickInput in;
  for (const auto* d : free) in.group.push_back(d->numa_node);
  in.affinity = [&](std::size_t a, std::size_t b) { return affinity(free[a]->id, free[b]->id); };
  std::vector<const Device*> chosen;
  for (auto i : pick_closest(in, count)) chosen.push_back(free[i]);
  return AllocateResult::ok(describe(chosen));
}

Allocation NvidiaInventory::describe(const std::vector<const Device*>& chosen) const {
  Allocation a = accelerator_allocation(chosen, shared_nodes_);
  // UUIDs in both: CUDA numbers GPUs fastest-first unless CUDA_DEVICE_ORDER=PCI_BUS_ID, so an
  // index could name another GPU than the one chosen; a UUID names exactly one, whatever the
  // order, and the container toolkit (NVIDIA_VISIBLE_DEVICES) takes the same form.
  std::vector<std::string> names;
  for (const auto* d : chosen)
    names.push_back(d->uuid.empty() ? std::to_string(d->index) : d->uuid);
  a.env["CUDA_VISIBLE_DEVICES"] = join(names);
  a.env["NVIDIA_VISIBLE_DEVICES"] = join(names);
  return a;
}

}  // namespace duet::deviceplugin
