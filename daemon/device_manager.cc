#include "daemon/device_manager.h"

#include "deviceplugin/device_json.h"
#include "duet/common/log.h"

namespace duet::daemon {

namespace dp = deviceplugin;
using nlohmann::json;

namespace {
const Logger& logger() {
  static const Logger log("devices");
  return log;
}
// SPEC §3: a device that turns unhealthy is reported within 5 s.
constexpr std::chrono::seconds kHealthPoll{2};
}  // namespace

DeviceManager::DeviceManager(boost::asio::io_context& io, dp::RegistryOptions options, WatchHub& hub)
    : timer_(io), registry_(std::move(options)), hub_(hub) {}

void DeviceManager::start(OnChange on_change) {
  on_change_ = std::move(on_change);
  for (const auto& plugin : registry_.plugins()) {
    auto devices = plugin->discover();
    int healthy = 0;
    for (const auto& d : devices) healthy += d.health.ok() ? 1 : 0;
    logger().info("devices_found", {{"handler", plugin->handler()},
                                    {"source", plugin->source().name},
                                    {"devices", devices.size()},
                                    {"healthy", healthy}});
  }
  schedule_poll();
}

void DeviceManager::stop() { timer_.cancel(); }

void DeviceManager::schedule_poll() {
  timer_.expires_after(kHealthPoll);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    poll();
    schedule_poll();
  });
}

void DeviceManager::poll() {
  std::set<std::string> affected;
  bool changed = false;
  for (const auto& plugin : registry_.plugins()) {
    for (const auto& device : plugin->check_health()) {
      changed = true;
      hub_.publish(api::WatchEventType::modified, "Device", device_json(device));
      if (device.health.ok()) continue;
      auto& held = holders_[device.kind];
      if (auto it = held.find(device.id); it != held.end()) affected.insert(it->second);
    }
  }
  if (changed && on_change_) on_change_(affected);
}

dp::AllocateResult DeviceManager::allocate(const std::string& handler, std::size_t count,
                                           const std::string& engine) {
  auto* plugin = registry_.plugin(handler);
  if (!plugin) return dp::AllocateResult::fail("no device plugin for handler \"" + handler + "\"");
  auto& held = holders_[handler];
  std::set<std::string> free;
  for (const auto& d : plugin->devices())
    if (!held.count(d.id)) free.insert(d.id);
  auto result = plugin->allocate(count, free);
  if (result)
    for (const auto& id : result.allocation->device_ids) held[id] = engine;
  return result;
}

bool DeviceManager::hold(const std::string& handler, const std::vector<std::string>& ids,
                         const std::string& engine) {
  auto* plugin = registry_.plugin(handler);
  if (!plugin) return ids.empty();
  bool all_good = true;
  auto devices = plugin->devices();
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
  for (const auto& plugin : registry_.plugins())
    for (const auto& d : plugin->devices()) items.push_back(device_json(d));
  return items;
}

std::map<std::pair<std::string, std::string>, int> DeviceManager::counts() const {
  std::map<std::pair<std::string, std::string>, int> out;
  for (const auto& plugin : registry_.plugins())
    for (const auto& d : plugin->devices())
      ++out[{d.kind, std::string(dp::to_string(d.health.state))}];
  return out;
}

}  // namespace duet::daemon
