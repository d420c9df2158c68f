#include "deviceplugin/scanning_plugin.h"

#include <algorithm>

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

std::shared_ptr<const Inventory> ScanningPlugin::inventory() const {
  return inventory_ ? inventory_ : make_inventory({});
}

std::vector<Device> ScanningPlugin::rescan() {
  bool first = !scanned_;
  scanned_ = true;
  auto changed = table_.merge(scan(), [this](const Device& d) { return missing_reason(d); });
  inventory_ = make_inventory(table_.devices());
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

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

}  // namespace duet::deviceplugin
