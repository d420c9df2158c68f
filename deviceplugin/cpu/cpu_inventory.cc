#include "deviceplugin/cpu/cpu_inventory.h"

namespace duet::deviceplugin {

CpuInventory::CpuInventory(std::vector<Device> devices, std::map<int, CpuSlot> slots)
    : Inventory("cpu", std::move(devices)), slots_(std::move(slots)) {}

AllocateResult CpuInventory::allocate(std::size_t count,
                                      const std::set<std::string>& free_ids) const {
  // 0 means share every core: no pinning, no thread count imposed.
  if (count == 0) return AllocateResult::ok({});
  std::vector<CpuSlot> free;
  for (const auto* d : free_healthy(free_ids))
    if (auto it = slots_.find(d->index); it != slots_.end()) free.push_back(it->second);
  auto packed = pack_cores(count, free);
  if (packed.cpus.empty()) return AllocateResult::fail(packed.reason);
  Allocation a;
  for (int cpu : packed.cpus) a.device_ids.push_back(std::to_string(cpu));
  a.cpus = packed.cpus;
  a.numa_node = packed.numa_node;
  // OpenMP (and the BLAS libraries under llama.cpp and PyTorch) would otherwise start one
  // thread per cpu of the machine, not per pinned cpu.
  a.env["OMP_NUM_THREADS"] = std::to_string(packed.cpus.size());
  return AllocateResult::ok(std::move(a));
}

}  // namespace duet::deviceplugin
