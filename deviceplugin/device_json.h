#pragma once
// JSON forms of devices, allocations and discovery sources, one shape for duet-devices --json
// and for duetd's node API (`GET /apis/v1/devices`).

#include <nlohmann/json.hpp>

#include "deviceplugin/device.h"

namespace duet::deviceplugin {

nlohmann::json to_json(const Device& device);
nlohmann::json to_json(const Allocation& allocation);
nlohmann::json to_json(const DiscoverySource& source);

}  // namespace duet::deviceplugin
