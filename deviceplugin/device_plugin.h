#pragma once
// The device plugin interface (SPEC §3), the shape of a Kubernetes device plugin: list devices
// with health, watch for changes, choose N devices with a good topology.

#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "deviceplugin/device.h"

namespace duet::deviceplugin {

// One plugin per handler. All methods are called from one thread (duetd's device loop); a
// plugin is not thread-safe. Which devices are taken is duetd's state, not the plugin's: the
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

  // The devices as of the last discover() / check_health(), without touching the host.
  virtual std::vector<Device> devices() const = 0;

  // Chooses `count` healthy devices among `free_ids` (the ids no engine holds), preferring a
  // good topology, and says how an engine uses them (env, device nodes, cpus). count 0 is an
  // empty allocation (cpu: share every core, no pinning). Does not touch the host.
  virtual AllocateResult allocate(std::size_t count,
                                  const std::set<std::string>& free_ids) const = 0;
};

}  // namespace duet::deviceplugin
