#pragma once
// The cpu handler: every online cpu is a device; a replica is pinned to whole cores packed in
// one NUMA node where possible, and told its thread count through OMP_NUM_THREADS.

#include <map>
#include <string>
#include <vector>

#include "deviceplugin/cpu/core_packer.h"
#include "deviceplugin/cpu/cpu_inventory.h"
#include "deviceplugin/paths.h"
#include "deviceplugin/scanning_plugin.h"

namespace duet::deviceplugin {

class CpuPlugin : public ScanningPlugin {
 public:
  explicit CpuPlugin(HostPaths paths);

  // DevicePlugin
  DiscoverySource source() const override;

 protected:
  // ScanningPlugin
  std::vector<Device> scan() override;
  std::string missing_reason(const Device& device) const override;
  std::shared_ptr<const Inventory> make_inventory(std::vector<Device> devices) const override;

 private:
  std::map<int, int> numa_nodes() const;
  CpuSlot slot_for(int cpu, int node) const;

  HostPaths paths_;
  DiscoverySource source_{"sysfs", "not scanned yet"};
  std::map<int, CpuSlot> slots_;  // by cpu, from the last scan: what the inventory packs
};

}  // namespace duet::deviceplugin
