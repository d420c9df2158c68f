#include "daemon/device_manager.h"

#include <algorithm>

#include "daemon/daemon_logger.h"
#include "deviceplugin/device_json.h"

namespace duet::daemon {

namespace dp = deviceplugin;
using nlohmann::json;

DeviceManager::DeviceManager(boost::asio::io_context& io, dp::RegistryOptions options, WatchHub& hub)
    : DeviceManager(io, dp::Registry(std::move(options)), hub) {}

DeviceManager::DeviceManager(boost::asio::io_context& io, dp::Registry registry, WatchHub& hub,
                             std::chrono::milliseconds health_poll)
    : hub_(hub), poller_(io, std::move(registry), health_poll) {}

void DeviceManager::start(OnChange on_change) {
  on_change_ = std::move(on_change);
  latest_ = poller_.start([this](std::vector<PluginScan> scans) { on_scan(std::move(scans)); });
  for (const auto& scan : latest_) {
    const auto& devices = scan.inventory->devices();
    auto healthy =
        std::count_if(devices.begin(), devices.end(), [](auto& d) { return d.health.ok(); });
    devices_logger().info("devices_found", {{"handler", scan.handler},
                                            {"source", scan.source.name},
                                            {"devices", devices.size()},
                                            {"healthy", static_cast<std::size_t>(healthy)}});
  }
}

void DeviceManager::stop() { poller_.stop(); }

void DeviceManager::on_scan(std::vector<PluginScan> scans) {
  latest_ = std::move(scans);
  Evictions affected;
  bool changed = false;
  for (const auto& scan : latest_) {
    for (const auto& device : scan.changed) {
      changed = true;
      hub_.publish(api::WatchEventType::modified, "Device", device_json(device));
      if (device.health.ok()) continue;
      auto& held = holders_[device.kind];
      auto it = held.find(device.id);
      if (it == held.end()) continue;
      auto& why = affected[it->second];
      why += (why.empty() ? "device " : "; device ") + device.kind + "/" + device.id +
             " is Unhealthy: " + device.health.reason;
    }
  }
  if (changed && on_change_) on_change_(affected);
}

const dp::Inventory* DeviceManager::inventory(const std::string& handler) const {
  for (const auto& scan : latest_)
    if (scan.handler == handler) return scan.inventory.get();
  return nullptr;
}

dp::AllocateResult DeviceManager::allocate(const std::string& handler, std::size_t count,
                                           const std::string& engine) {
  const auto* devices = inventory(handler);
  if (!devices) return dp::AllocateResult::fail("no device plugin for handler \"" + handler + "\"");
  auto& held = holders_[handler];
  std::set<std::string> free;
  for (const auto& d : devices->devices())
    if (!held.count(d.id)) free.insert(d.id);
  auto result = devices->allocate(count, free);
  if (result)
    for (const auto& id : result.allocation->device_ids) held[id] = engine;
  return result;
}

bool DeviceManager::hold(const std::string& handler, const std::vector<std::string>& ids,
                         const std::string& engine) {
  const auto* known = inventory(handler);
  if (!known) return ids.empty();
  bool all_good = true;
  const auto& devices = known->devices();
  for (const auto& id : ids) {
    auto it = std::find_if(devices.begin(), devices.end(), [&](const auto& d) { return d.id == id; });
    if (it == devices.end() || !it->health.ok()) all_good = false;
    if (it != devices.end()) holders_[handler][id] = engine;
  }
  return all_good;
}

void DeviceManager::release(const std::string& engine) {
  for (auto& [kind, held] : holders_) std::erase_if(held, [&](const auto& h) { return h.second == engine; });
}

json DeviceManager::device_json(const dp::Device& device) const {
  auto j = dp::to_json(device);
  auto kind = holders_.find(device.kind);
  std::string engine;
  if (kind != holders_.end())
    if (auto it = kind->second.find(device.id); it != kind->second.end()) engine = it->second;
  j["engine"] = engine;
  return j;
}

json DeviceManager::devices_json() const {
  json items = json::array();
  for (const auto& scan : latest_)
    for (const auto& d : scan.inventory->devices()) items.push_back(device_json(d));
  return items;
}

std::map<std::pair<std::string, std::string>, int> DeviceManager::counts() const {
  std::map<std::pair<std::string, std::string>, int> out;
  for (const auto& scan : latest_)
    for (const auto& d : scan.inventory->devices())
      ++out[{d.kind, std::string(dp::to_string(d.health.state))}];
  return out;
}

}  // namespace duet::daemon
