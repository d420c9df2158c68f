#include "deviceplugin/device_table.h"

#include <algorithm>
#include <map>

namespace duet::deviceplugin {

std::vector<Device> DeviceTable::merge(std::vector<Device> seen,
                                       const MissingReason& missing_reason) {
  std::map<std::string, Device*> known;
  for (auto& d : devices_) known[d.id] = &d;

  std::vector<Device> changed;
  std::vector<Device> next;
  next.reserve(std::max(seen.size(), devices_.size()));
  for (auto& fresh : seen) {
    auto it = known.find(fresh.id);
    if (it == known.end()) {
      changed.push_back(fresh);
    } else {
      if (it->second->health != fresh.health) changed.push_back(fresh);
      known.erase(it);
    }
    next.push_back(std::move(fresh));
  }
  for (auto& [id, old] : known) {
    Device gone = *old;
    gone.health = DeviceHealth::unhealthy(missing_reason(gone));
    if (gone.health != old->health) changed.push_back(gone);
    next.push_back(std::move(gone));
  }
  auto by_index = [](const Device& a, const Device& b) {
    return a.index != b.index ? a.index < b.index : a.id < b.id;
  };
  std::sort(next.begin(), next.end(), by_index);
  std::sort(changed.begin(), changed.end(), by_index);
  devices_ = std::move(next);
  return changed;
}

}  // namespace duet::deviceplugin
