#pragma once
// The cpu handler's snapshot: online cpus with the core and NUMA node of each, as one scan saw
// them; packs a replica onto whole cores of one node where possible.

#include <map>
#include <vector>

#include "deviceplugin/cpu/core_packer.h"
#include "deviceplugin/inventory.h"

namespace duet::deviceplugin {

class CpuInventory : public Inventory {
 public:
  CpuInventory(std::vector<Device> devices, std::map<int, CpuSlot> slots);

  // Inventory
  AllocateResult allocate(std::size_t count, const std::set<std::string>& free_ids) const override;

 private:
  std::map<int, CpuSlot> slots_;  // by cpu
};

}  // namespace duet::deviceplugin
