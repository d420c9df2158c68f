#include "sim/model/device_profile.h"

#include <algorithm>

namespace duet::sim::model {

namespace {

// Spec-sheet figures; engine/README.md cites where each comes from.
const std::vector<DeviceProfile>& profiles() {
  static const std::vector<DeviceProfile> all = {
      {"ascend-910b", 320, 1600, 64},
      {"nvidia-h20", 148, 4000, 96},
      {"nvidia-h100", 989, 3350, 80},
      {"mlu370", 96, 614, 48},
      {"cpu", 4, 200, 256, 0.3, 0.5, 1000},
  };
  return all;
}

}  // namespace

std::optional<DeviceProfile> find_profile(std::string_view name) {
  for (const auto& p : profiles())
    if (p.name == name) return p;
  return std::nullopt;
}

std::vector<std::string> profile_names() {
  std::vector<std::string> names;
  for (const auto& p : profiles()) names.push_back(p.name);
  return names;
}

std::chrono::nanoseconds step_time(const DeviceProfile& device, const ModelShape& model,
                                   std::size_t compute_tokens, std::size_t context_tokens) {
  double compute_s = 2.0 * model.parameters * static_cast<double>(compute_tokens) /
                     (device.peak_tflops * 1e12 * device.compute_efficiency);
  double bytes = model.parameters * model.bytes_per_parameter +
                 static_cast<double>(context_tokens) * model.kv_bytes_per_token;
  double memory_s = bytes / (device.memory_gbps * 1e9 * device.memory_efficiency);
  double seconds = std::max(compute_s, memory_s) + device.step_overhead_us * 1e-6;
  return std::chrono::nanoseconds(static_cast<int64_t>(seconds * 1e9));
}

std::size_t kv_capacity_tokens(const DeviceProfile& device, const ModelShape& model) {
  double usable = device.memory_gib * 1073741824.0 * 0.9 - model.parameters * model.bytes_per_parameter;
  return usable <= 0 ? 0 : static_cast<std::size_t>(usable / model.kv_bytes_per_token);
}

}  // namespace duet::sim::model
