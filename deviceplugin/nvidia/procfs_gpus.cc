#include "deviceplugin/nvidia/procfs_gpus.h"

#include <algorithm>
#include <sstream>

#include "deviceplugin/host_files.h"

namespace duet::deviceplugin {

ProcfsGpu parse_gpu_information(const std::string& text, const std::string& folder_bus_id) {
  ProcfsGpu gpu;
  gpu.pci_bus_id = normalize_pci_bus_id(folder_bus_id);
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (auto v = field_value(line, "Model"))
      gpu.model = *v;
    else if (auto v = field_value(line, "GPU UUID"))
      gpu.uuid = *v;
    else if (auto v = field_value(line, "Bus Location"))
      gpu.pci_bus_id = normalize_pci_bus_id(*v);
    else if (auto v = field_value(line, "Device Minor")) {
      if (auto n = parse_integer(*v)) gpu.minor = static_cast<int>(*n);
    }
  }
  return gpu;
}

std::vector<ProcfsGpu> read_procfs_gpus(const HostPaths& paths) {
  std::vector<ProcfsGpu> gpus;
  auto dir = paths.proc("driver/nvidia/gpus");
  for (const auto& bus : entry_names(dir)) {
    auto text = read_text(dir / bus / "information");
    if (!text) continue;
    auto gpu = parse_gpu_information(*text, bus);
    if (gpu.minor >= 0) gpus.push_back(std::move(gpu));
  }
  std::sort(gpus.begin(), gpus.end(),
            [](const ProcfsGpu& a, const ProcfsGpu& b) { return a.minor < b.minor; });
  return gpus;
}

}  // namespace duet::deviceplugin
