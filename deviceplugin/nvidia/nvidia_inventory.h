#pragma once
// The nvidia handler's snapshot: GPUs with their pairwise link scores (NVLink, PCIe, NUMA) and
// the shared control nodes of one scan; chooses the set of GPUs with the closest pairs.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "deviceplugin/inventory.h"

namespace duet::deviceplugin {

// Pair score by ids, both orders: NVLink 100 > one PCIe switch 40 > ... > across sockets 0.
using GpuAffinity = std::map<std::pair<std::string, std::string>, int>;

class NvidiaInventory : public Inventory {
 public:
  NvidiaInventory(std::vector<Device> devices, std::vector<std::string> shared_nodes,
                  GpuAffinity affinity);

  // Inventory
  AllocateResult allocate(std::size_t count, const std::set<std::string>& free_ids) const override;

 protected:
  Allocation describe(const std::vector<const Device*>& chosen) const override;

 private:
  int affinity(const std::string& a, const std::string& b) const;

  std::vector<std::string> shared_nodes_;  // nvidiactl, nvidia-uvm... present at the scan
  GpuAffinity affinity_;
};

}  // namespace duet::deviceplugin
