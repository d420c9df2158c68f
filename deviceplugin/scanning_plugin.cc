#include "deviceplugin/scanning_plugin.h"

#include <algorithm>

#include "deviceplugin/topology_picker.h"

namespace duet::deviceplugin {

std::string_view to_string(Health health) {
  return health == Health::healthy ? "Healthy" : "Unhealthy";
}

ScanningPlugin::ScanningPlugin(std::string kind) : kind_(std::move(kind)) {}

std::vector<Device> ScanningPlugin::discover() {
  bool first = !scanned_;
  rescan();
  const auto& all = table_.devices();
  if (first) {
    auto healthy = std::count_if(all.begin(), all.end(), [](auto& d) { return d.health.ok(); });
    auto src = source();
    log_.info("devices_discovered", {{"kind", kind_},
                                     {"count", all.size()},
                                     {"healthy", static_cast<std::size_t>(healthy)},
                                     {"source", src.name}});
  }
  return all;
}

std::vector<Device> ScanningPlugin::check_health() { return rescan(); }

std::vector<Device> ScanningPlugin::rescan() {
  bool first = !scanned_;
  scanned_ = true;
  auto changed = table_.merge(scan(), [this](const Device& d) { return missing_reason(d); });
  // The first scan finds everything "new"; discover() sums it up in one line instead.
  if (first) return changed;
  for (const auto& d : changed) {
    // A device turning bad is a warning; recovering (or appearing) is news.
    auto write = d.health.ok() ? &Logger::info : &Logger::warn;
    (log_.*write)("device_health_changed", {{"kind", kind_},
                                            {"id", d.id},
                                            {"health", to_string(d.health.state)},
                                            {"reason", d.health.reason}});
  }
  return changed;
}

std::string ScanningPlugin::missing_reason(const Device& device) const {
  return kind_ + " device " + device.id + " is no longer present";
}

void ScanningPlugin::report_library_unavailable(const std::vector<std::string>& libraries,
                                                const std::string& error,
                                                const std::string& fallback,
                                                bool devices_present) const {
  auto write = devices_present ? &Logger::warn : &Logger::info;
  (log_.*write)("vendor_library_unavailable", {{"library", libraries.empty() ? "" : libraries[0]},
                                               {"error", error},
                                               {"fallback", fallback}});
}

std::vector<const Device*> ScanningPlugin::free_healthy(
    const std::set<std::string>& free_ids) const {
  std::vector<const Device*> out;
  for (const auto& d : table_.devices())
    if (d.health.ok() && free_ids.count(d.id)) out.push_back(&d);
  return out;
}

std::vector<const Device*> ScanningPlugin::pick_by_numa(const std::vector<const Device*>& free,
                                                        std::size_t count) const {
  PickInput in;
  for (const auto* d : free) in.group.push_back(d->numa_node);
  in.affinity = [&](std::size_t a, std::size_t b) {
    return free[a]->numa_node >= 0 && free[a]->numa_node == free[b]->numa_node ? 10 : 0;
  };
  std::vector<const Device*> chosen;
  for (auto i : pick_closest(in, count)) chosen.push_back(free[i]);
  return chosen;
}

std::string ScanningPlugin::insufficient(std::size_t need, std::size_t free) const {
  return "insufficient " + kind_ + " devices: need " + std::to_string(need) + ", free " +
         std::to_string(free);
}

Allocation ScanningPlugin::accelerator_allocation(
    const std::vector<const Device*>& chosen, const std::vector<std::string>& shared_nodes) const {
  Allocation a;
  std::set<std::string> nodes(shared_nodes.begin(), shared_nodes.end());
  std::set<int> numa;
  for (const auto* d : chosen) {
    a.device_ids.push_back(d->id);
    nodes.insert(d->device_nodes.begin(), d->device_nodes.end());
    numa.insert(d->numa_node);
  }
  a.device_nodes.assign(nodes.begin(), nodes.end());
  if (numa.size() == 1) a.numa_node = *numa.begin();
  return a;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

}  // namespace duet::deviceplugin
