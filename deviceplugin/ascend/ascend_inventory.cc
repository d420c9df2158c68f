#include "deviceplugin/ascend/ascend_inventory.h"

#include <algorithm>

#include "deviceplugin/ascend/hccs_allocator.h"
#include "deviceplugin/scanning_plugin.h"

namespace duet::deviceplugin {

AscendInventory::AscendInventory(std::vector<Device> devices, std::string chip_name,
                                 std::vector<std::string> control_nodes)
    : Inventory("ascend", std::move(devices)),
      chip_name_(std::move(chip_name)),
      control_nodes_(std::move(control_nodes)) {}

bool AscendInventory::ring_rules() const {
  return chip_name_.starts_with("910") && devices().size() <= kHccsBoardSize;
}

AllocateResult AscendInventory::allocate(std::size_t count,
                                         const std::set<std::string>& free_ids) const {
  if (count == 0) return AllocateResult::ok({});
  auto free = free_healthy(free_ids);
  std::vector<const Device*> chosen;
  if (ring_rules()) {
    std::vector<int> phys;
    for (const auto* d : free) phys.push_back(d->index);
    auto choice = choose_hccs(count, phys);
    if (choice.ids.empty()) return AllocateResult::fail(choice.reason);
    for (const auto* d : free)
      if (std::binary_search(choice.ids.begin(), choice.ids.end(), d->index)) chosen.push_back(d);
  } else {
    if (free.size() < count) return AllocateResult::fail(insufficient(count, free.size()));
    chosen = pick_by_numa(free, count);
  }
  return AllocateResult::ok(describe(chosen));
}

Allocation AscendInventory::describe(const std::vector<const Device*>& chosen) const {
  Allocation a = accelerator_allocation(chosen, control_nodes_);
  std::vector<std::string> logical, physical;
  for (const auto* d : chosen) {
    logical.push_back(std::to_string(d->logical_id));
    physical.push_back(d->id);
  }
  a.env["ASCEND_RT_VISIBLE_DEVICES"] = join(logical);
  a.env["ASCEND_VISIBLE_DEVICES"] = join(physical);
  return a;
}

}  // namespace duet::deviceplugin
