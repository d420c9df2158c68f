#pragma once
// The mlu handler's snapshot: MLUs of one scan, placed by NUMA node (duet sees no MLU links).

#include <string>
#include <vector>

#include "deviceplugin/inventory.h"

namespace duet::deviceplugin {

class MluInventory : public Inventory {
 public:
  // `control_node`: cambricon_ctl, which every MLU process opens besides its cambricon_devN.
  MluInventory(std::vector<Device> devices, std::string control_node);

  // Inventory
  AllocateResult allocate(std::size_t count, const std::set<std::string>& free_ids) const override;

 protected:
  Allocation describe(const std::vector<const Device*>& chosen) const override;

 private:
  std::string control_node_;
};

}  // namespace duet::deviceplugin
