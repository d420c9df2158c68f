#pragma once
// The device plugin interface (SPEC §3), the shape of a Kubernetes device plugin: list devices
// with health, watch for changes, choose N devices with a good topology.

#include <cstddef>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "deviceplugin/device.h"
#include "deviceplugin/inventory.h"

namespace duet::deviceplugin {

// One plugin per handler. All methods are called from one thread (duetd's device thread); a
// plugin is not thread-safe. What other threads read is the Inventory it hands out after each
// scan, which never changes. Which devices are taken is duetd's state, not the plugin's: the
// plugin only chooses among the free ids it is given, so allocation is a pure function.
class DevicePlugin {
 public:
  virtual ~DevicePlugin() = default;

  // The handler name a RuntimeClass names: "ascend", "nvidia", "mlu" or "cpu".
  virtual std::string_view handler() const = 0;

  // Where the last scan got its devices from (vendor library or files) and why; before the
  // first scan, what will be tried.
  virtual DiscoverySource source() const = 0;

  // Scans the host and returns every known device, sorted by index. A device seen before and
  // gone now stays listed, unhealthy, with the reason: an engine may still hold it. The first
  // call loads the vendor library (or logs once why it cannot) and may take a little longer.
  virtual std::vector<Device> discover() = 0;

  // Scans again and returns only the devices whose health changed (or that appeared) since
  // the previous scan. duetd polls it every 2 s or faster so a change is seen within 5 s; a
  // device that recovers comes back healthy through the same path.
  virtual std::vector<Device> check_health() = 0;

  // The devices as of the last discover() / check_health() and the allocation rules over
  // them, without touching the host: a snapshot the caller may hand to another thread and
  // keep while the plugin scans again. Before the first scan, no devices.
  virtual std::shared_ptr<const Inventory> inventory() const = 0;

  // inventory()'s devices and allocate(), for callers on the plugin's own thread.
  std::vector<Device> devices() const { return inventory()->devices(); }
  AllocateResult allocate(std::size_t count, const std::set<std::string>& free_ids) const {
    return inventory()->allocate(count, free_ids);
  }
};

}  // namespace duet::deviceplugin
