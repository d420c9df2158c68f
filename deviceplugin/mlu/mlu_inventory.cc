#include "deviceplugin/mlu/mlu_inventory.h"

#include "deviceplugin/scanning_plugin.h"

namespace duet::deviceplugin {

MluInventory::MluInventory(std::vector<Device> devices, std::string control_node)
    : Inventory("mlu", std::move(devices)), control_node_(std::move(control_node)) {}

AllocateResult MluInventory::allocate(std::size_t count,
                                      const std::set<std::string>& free_ids) const {
  if (count == 0) return AllocateResult::ok({});
  auto free = free_healthy(free_ids);
  if (free.size() < count) return AllocateResult::fail(insufficient(count, free.size()));
  return AllocateResult::ok(describe(pick_by_numa(free, count)));
}

Allocation MluInventory::describe(const std::vector<const Device*>& chosen) const {
  Allocation a = accelerator_allocation(chosen, {control_node_});
  // Both variables take the driver's card numbers: MLU_VISIBLE_DEVICES is what CNRT reads in
  // the process, CAMBRICON_VISIBLE_DEVICES what Cambricon's container runtime reads.
  std::vector<std::string> ids;
  for (const auto* d : chosen) ids.push_back(d->id);
  a.env["MLU_VISIBLE_DEVICES"] = join(ids);
  a.env["CAMBRICON_VISIBLE_DEVICES"] = join(ids);
  return a;
}

}  // namespace duet::deviceplugin
