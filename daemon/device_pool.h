#pragma once
// The devices the reconcile loop hands to replicas, as a small interface: DeviceManager is
// the real one (plugins, health); reconcile tests give a fixed set.

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "deviceplugin/device.h"

namespace duet::daemon {

// Replicas that must leave their devices, each with why (the device and its health reason).
using Evictions = std::map<std::string, std::string>;

class DevicePool {
 public:
  virtual ~DevicePool() = default;
  // Chooses `count` free healthy devices of `handler` for `engine` and marks them held.
  virtual deviceplugin::AllocateResult allocate(const std::string& handler, std::size_t count,
                                                const std::string& engine) = 0;
  // Marks `ids` of `handler` as held by `engine` (an adopted replica's, from the checkpoint);
  // false when one of them is unknown now or unhealthy, so the replica must move.
  virtual bool hold(const std::string& handler, const std::vector<std::string>& ids,
                    const std::string& engine) = 0;
  // Marks `engine`'s devices free again.
  virtual void release(const std::string& engine) = 0;
};

}  // namespace duet::daemon
