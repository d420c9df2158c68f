#pragma once
// duetd's side of the device plugins: discovery at start, a health poll every 2 s, and which
// engine holds which device (the plugins only choose among the free ids they are given).

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "daemon/device_pool.h"
#include "daemon/watch_hub.h"
#include "deviceplugin/registry.h"

namespace duet::daemon {

class DeviceManager : public DevicePool {
 public:
  // Runs after a health poll that saw a change, with the engines that hold a device that
  // just turned unhealthy (often none: a device appeared or recovered).
  using OnChange = std::function<void(const std::set<std::string>& engines_on_unhealthy)>;

  DeviceManager(boost::asio::io_context& io, deviceplugin::RegistryOptions options, WatchHub& hub);

  // Discovers every handler's devices, then polls their health every 2 s.
  void start(OnChange on_change);
  void stop();

  // DevicePool
  deviceplugin::AllocateResult allocate(const std::string& handler, std::size_t count,
                                        const std::string& engine) override;
  bool hold(const std::string& handler, const std::vector<std::string>& ids,
            const std::string& engine) override;
  void release(const std::string& engine) override;

  // Every device, with `engine` naming its holder ("" when free): the node API's shape.
  nlohmann::json devices_json() const;
  // Device count by (kind, health), for the duet_devices metric.
  std::map<std::pair<std::string, std::string>, int> counts() const;

 private:
  void poll();
  void schedule_poll();
  nlohmann::json device_json(const deviceplugin::Device& device) const;

  boost::asio::steady_timer timer_;
  deviceplugin::Registry registry_;
  WatchHub& hub_;
  OnChange on_change_;
  std::map<std::string, std::map<std::string, std::string>> holders_;  // kind → id → engine
};

}  // namespace duet::daemon
