#pragma once
// duetd's side of the device plugins: discovery at start, a health poll every 2 s on the device
// thread, and which engine holds which device (the plugins only choose among free ids).

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "daemon/device_poller.h"
#include "daemon/device_pool.h"
#include "daemon/watch_hub.h"
#include "deviceplugin/registry.h"

namespace duet::daemon {

// Every method runs on duetd's loop, and none calls into a plugin: they read the inventories
// the device thread posted last (device_poller.h), so a wedged driver never stalls them.
class DeviceManager : public DevicePool {
 public:
  // Runs after a health poll that saw a change, with the engines that hold a device that
  // just turned unhealthy, and why (often none: a device appeared or recovered).
  using OnChange = std::function<void(const Evictions& engines_on_unhealthy)>;

  // SPEC §3: a device that turns unhealthy is reported within 5 s.
  static constexpr std::chrono::milliseconds kHealthPoll{2000};

  DeviceManager(boost::asio::io_context& io, deviceplugin::RegistryOptions options, WatchHub& hub);
  // The plugins of `registry`, polled every `health_poll` (tests: plugins they control).
  DeviceManager(boost::asio::io_context& io, deviceplugin::Registry registry, WatchHub& hub,
                std::chrono::milliseconds health_poll = kHealthPoll);

  // Discovers every handler's devices (on the device thread; waits for it), then has their
  // health polled there every 2 s; a change reaches the loop as one posted pass.
  void start(OnChange on_change);
  // Ends the polling: joins the device thread (or, when a scan is stuck in a driver, leaves it
  // after DevicePoller::kStopGrace); no OnChange runs after.
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
  void on_scan(std::vector<PluginScan> scans);
  const deviceplugin::Inventory* inventory(const std::string& handler) const;
  nlohmann::json device_json(const deviceplugin::Device& device) const;

  WatchHub& hub_;
  OnChange on_change_;
  // The latest pass, in the registry's order: the loop's only view of the devices.
  std::vector<PluginScan> latest_;
  std::map<std::string, std::map<std::string, std::string>> holders_;  // kind → id → engine
  DevicePoller poller_;  // last: stopped before the members its callbacks use are destroyed
};

}  // namespace duet::daemon
