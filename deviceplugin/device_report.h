#pragma once
// What duet-devices prints: every plugin's devices as a kubectl-like table or as JSON, with
// the source each plugin used and why.

#include <string>
#include <vector>

#include "deviceplugin/device.h"

namespace duet::deviceplugin {

struct PluginReport {
  std::string handler;
  DiscoverySource source;
  std::vector<Device> devices;
};

std::string render_table(const std::vector<PluginReport>& reports);
std::string render_json(const std::vector<PluginReport>& reports);

// "80Gi", "512Mi", "-" for unknown.
std::string format_memory(std::uint64_t bytes);

}  // namespace duet::deviceplugin
