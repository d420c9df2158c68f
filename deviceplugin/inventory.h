#pragma once
// A plugin's devices as of one scan, with what its allocation rules need. Immutable, so duetd's
// loop allocates from it while the device thread scans the host again.

#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include "deviceplugin/device.h"

namespace duet::deviceplugin {

// Made by the plugin after each scan (DevicePlugin::inventory()) and never changed after: any
// thread may keep one and read it, without asking the plugin, which may be scanning meanwhile.
class Inventory {
 public:
  Inventory(std::string kind, std::vector<Device> devices);
  virtual ~Inventory() = default;

  // The handler: ascend, nvidia, mlu, cpu.
  const std::string& kind() const { return kind_; }

  // Every known device, sorted by index. A device seen before and gone since stays listed,
  // unhealthy, with the reason: an engine may still hold it.
  const std::vector<Device>& devices() const { return devices_; }

  // Chooses `count` healthy devices among `free_ids` (the ids no engine holds), preferring a
  // good topology, and says how an engine uses them (env, device nodes, cpus). count 0 is an
  // empty allocation (cpu: share every core, no pinning). A pure function of this snapshot.
  virtual AllocateResult allocate(std::size_t count,
                                  const std::set<std::string>& free_ids) const = 0;

  // Exactly the devices `ids` names, in index order, described as allocate() would (env,
  // device nodes), with no placement rule applied: kubelet's Allocate, where the kubelet has
  // chosen. An id this snapshot does not know fails, naming it; health is the caller's call.
  AllocateResult allocation_of(const std::vector<std::string>& ids) const;

 protected:
  // Healthy devices whose id is in `free_ids`, sorted by index.
  std::vector<const Device*> free_healthy(const std::set<std::string>& free_ids) const;
  // `count` of `free` (enough of them) that share a NUMA node where possible, best fit: the
  // placement for devices whose links duet cannot see.
  std::vector<const Device*> pick_by_numa(const std::vector<const Device*>& free,
                                          std::size_t count) const;
  // "insufficient ascend devices: need 2, free 0": the words duetd shows for a Pending replica.
  std::string insufficient(std::size_t need, std::size_t free) const;
  // The allocation common to accelerators: ids, the devices' nodes plus `shared_nodes`, and
  // the NUMA node when every device sits on the same one. The caller adds the env.
  Allocation accelerator_allocation(const std::vector<const Device*>& chosen,
                                    const std::vector<std::string>& shared_nodes) const;
  // How an engine uses `chosen`: ids, env, nodes. Each accelerator's allocate() ends here;
  // the default is accelerator_allocation() with no shared nodes and no env.
  virtual Allocation describe(const std::vector<const Device*>& chosen) const;

 private:
  std::string kind_;
  std::vector<Device> devices_;
};

}  // namespace duet::deviceplugin
