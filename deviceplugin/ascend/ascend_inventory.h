#pragma once
// The ascend handler's snapshot: NPUs with their logical ids and the chip name of one scan;
// places 910 boards by HCCS ring, other chips by NUMA node.

#include <string>
#include <vector>

#include "deviceplugin/inventory.h"

namespace duet::deviceplugin {

class AscendInventory : public Inventory {
 public:
  // `chip_name`: DCMI's at the scan, else the configured hint ("910B"), else empty.
  // `control_nodes`: the paths every Ascend process opens besides its davinciN.
  AscendInventory(std::vector<Device> devices, std::string chip_name,
                  std::vector<std::string> control_nodes);

  // Inventory
  AllocateResult allocate(std::size_t count, const std::set<std::string>& free_ids) const override;

 protected:
  Allocation describe(const std::vector<const Device*>& chosen) const override;

 private:
  // 910 boards of up to 8: HCCS ring rules apply.
  bool ring_rules() const;

  std::string chip_name_;
  std::vector<std::string> control_nodes_;
};

}  // namespace duet::deviceplugin
