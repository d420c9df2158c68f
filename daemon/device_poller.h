#pragma once
// duetd's device thread: every call into the device plugins, and so into NVML, DCMI, CNDEV and
// the host's files, happens on it; a driver that blocks stalls this thread, never the loop.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <stop_token>
#include <thread>
#include <vector>

#include "deviceplugin/registry.h"

namespace duet::daemon {

// One plugin's state after a scan, as the loop receives it.
struct PluginScan {
  std::string handler;
  deviceplugin::DiscoverySource source;
  std::shared_ptr<const deviceplugin::Inventory> inventory;  // every device, and allocate()
  std::vector<deviceplugin::Device> changed;  // appeared or changed health since the last scan
};

class DevicePoller {
 public:
  // Runs on the loop with one pass over every plugin, in the registry's order.
  using OnScan = std::function<void(std::vector<PluginScan>)>;

  // How long stop() waits for a scan in progress.
  static constexpr std::chrono::seconds kStopGrace{2};

  DevicePoller(boost::asio::io_context& loop, deviceplugin::Registry registry,
               std::chrono::milliseconds period);
  ~DevicePoller();
  DevicePoller(const DevicePoller&) = delete;
  DevicePoller& operator=(const DevicePoller&) = delete;

  // Starts the thread and waits for its first pass, discover() on every plugin, which it
  // returns. Later passes (check_health(), `period` apart) go to `on_scan`, posted to the loop.
  std::vector<PluginScan> start(OnScan on_scan);

  // Ends the thread; no on_scan runs once this returns. A scan still stuck in a driver after
  // kStopGrace is left to finish on its own (detached, keeping the plugins alive) rather than
  // hold up shutdown; it posts nothing when it returns.
  void stop();

 private:
  struct Shared;
  static void run(std::stop_token stop, std::shared_ptr<Shared> shared);

  std::shared_ptr<Shared> shared_;
  std::jthread thread_;
};

}  // namespace duet::daemon
