#pragma once
// The devices a plugin knows and their last health: merges each fresh scan into the known set
// so a device that vanishes stays listed (unhealthy) and a change is reported exactly once.

#include <functional>
#include <string>
#include <vector>

#include "deviceplugin/device.h"

namespace duet::deviceplugin {

class DeviceTable {
 public:
  // Why a known device is missing from a scan ("device node /dev/davinci3 is missing").
  using MissingReason = std::function<std::string(const Device&)>;

  // Takes the devices seen by a scan. Known devices absent from it stay, unhealthy with
  // `missing_reason`. Returns the devices that are new or whose health changed.
  std::vector<Device> merge(std::vector<Device> seen, const MissingReason& missing_reason);

  // Every known device, sorted by index then id.
  const std::vector<Device>& devices() const { return devices_; }

 private:
  std::vector<Device> devices_;
};

}  // namespace duet::deviceplugin
