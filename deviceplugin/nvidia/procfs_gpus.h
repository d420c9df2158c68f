#pragma once
// NVIDIA GPUs as the driver describes them without NVML: one folder per GPU under
// /proc/driver/nvidia/gpus/<bus>/ whose `information` file names model, UUID, bus and minor.

#include <string>
#include <vector>

#include "deviceplugin/paths.h"

namespace duet::deviceplugin {

struct ProcfsGpu {
  std::string model;       // "NVIDIA H100 80GB HBM3"
  std::string uuid;        // "GPU-e707..."; empty when the file lacks it
  std::string pci_bus_id;  // normalized "0000:00:06.0"
  int minor = -1;          // "Device Minor"
};

// Parses one `information` file; `folder_bus_id` (the folder's name) stands in when the
// file has no "Bus Location" line.
ProcfsGpu parse_gpu_information(const std::string& text, const std::string& folder_bus_id);

// Every <proc_root>/driver/nvidia/gpus/*/information, sorted by minor.
std::vector<ProcfsGpu> read_procfs_gpus(const HostPaths& paths);

}  // namespace duet::deviceplugin
