#include "deviceplugin/inventory.h"


#include "deviceplugin/topology_picker.h"

namespace duet::deviceplugin {

Inventory::Inventory(std::string kind, std::vector<Device> devices)
    : kind_(std::move(kind)), devices_(std::move(devices)) {}

std::vector<const Device*> Inventory::free_healthy(const std::set<std::string>& free_ids) const {
  std::vector<const Device*> out;
  for (const auto& d : devices_)
    if (d.health.ok() && free_ids.count(d.id)) out.push_back(&d);
  return out;
}

std::vector<const Device*> Inventory::pick_by_numa(const std::vector<const Device*>& free,
                                                   std::size_t count) const {
  PickInput in;
  for (const auto* d : free) in.group.push_back(d->numa_node);
  in.affinity = [&](std::size_t a, std::size_t b) {
    return free[a]->numa_node >= 0 && free[a]->numa_node == free[b]->numa_node ? 10 : 0;
  };
  std::vector<const Device*> chosen;
  for (auto i : pick_closest(in, count)) chosen.push_back(free[i]);
  return chosen;
}

std::string Inventory::insufficient(std::size_t need, std::size_t free) const {
  return "insufficient " + kind_ + " devices: need " + std::to_string(need) + ", free " +
         std::to_string(free);
}

Allocation Inventory::accelerator_allocation(const std::vector<const Device*>& chosen,
                                             const std::vector<std::string>& shared_nodes) const {
  Allocation a;
  std::set<std::string> nodes(shared_nodes.begin(), shared_nodes.end());
  std::set<int> numa;
  for (const auto* d : chosen) {
    a.device_ids.push_back(d->id);
    nodes.insert(d->device_nodes.begin(), d->device_nodes.end());
    numa.insert(d->numa_node);
  }
  a.device_nodes.assign(nodes.begin(), nodes.end());
  if (numa.size() == 1) a.numa_node = *numa.begin();
  return a;
}

Allocation Inventory::describe(const std::vector<const Device*>& chosen) const {
  return accelerator_allocation(chosen, {});
}

AllocateResult Inventory::allocation_of(const std::vector<std::string>& ids) const {
  std::set<std::string> wanted(ids.begin(), ids.end());
  std::vector<const Device*> chosen;
  for (const auto& d : devices_)
    if (wanted.erase(d.id)) chosen.push_back(&d);
  if (!wanted.empty())
    return AllocateResult::fail("unknown " + kind_ + " device " + *wanted.begin());
  return AllocateResult::ok(describe(chosen));
}

}  // namespace duet::deviceplugin
