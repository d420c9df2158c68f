#pragma once
// NVIDIA's management library (libnvidia-ml.so.1), opened at run time: the GPUs with UUID,
// name, memory, PCI address, minor number, utilization, their links, and XID error events.

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "deviceplugin/dynamic_library.h"
#include "deviceplugin/nvidia/nvml_api.h"

namespace duet::deviceplugin {

struct NvmlGpu {
  unsigned index = 0;  // NVML's enumeration index (PCI order)
  nvml::Device handle = nullptr;
  std::string uuid;  // "GPU-e707..."
  std::string name;
  std::string pci_bus_id;  // normalized: "0000:06:00.0"
  int minor = -1;          // the N of /dev/nvidiaN
  std::uint64_t memory_bytes = 0;
  int utilization_gpu = -1;  // percent, -1 unknown
  int active_nvlinks = -1;   // -1 unknown or not supported
  std::string error;         // a query that failed ("nvmlDeviceGetMemoryInfo: GPU is lost")
  bool lost = false;         // NVML says the GPU fell off the bus
};

struct XidEvent {
  std::string uuid;  // empty: NVML could not say which GPU, so treat it as all
  unsigned long long xid = 0;
};

class Nvml {
 public:
  // Opens the first of `names` that loads and calls nvmlInit_v2. On failure returns null and
  // sets `why` (dlerror text, a missing symbol, or nvmlInit's error string).
  static std::unique_ptr<Nvml> load(const std::vector<std::string>& names, std::string& why);
  ~Nvml();

  // Enumerates the GPUs now; registers new ones for XID events.
  std::vector<NvmlGpu> gpus();
  // XID events since the last call, without waiting.
  std::vector<XidEvent> drain_xid_events();
  // Whether the two GPUs talk over NVLink (directly or through NVSwitch).
  bool nvlink(nvml::Device a, nvml::Device b) const;
  // nvmlGpuTopologyLevel_t of the pair's closest common ancestor, -1 unknown.
  int topology_level(nvml::Device a, nvml::Device b) const;

  const std::string& library() const { return lib_.name(); }
  // Why XID health is not watched (event set or registration refused), empty when it is.
  const std::string& events_problem() const { return events_problem_; }

 private:
  struct Api;
  Nvml(DynamicLibrary lib, std::unique_ptr<Api> api);

  std::string error_text(nvml::Return rc) const;
  NvmlGpu read_gpu(unsigned index);
  void register_events(const NvmlGpu& gpu);

  DynamicLibrary lib_;
  std::unique_ptr<Api> api_;
  nvml::EventSet events_ = nullptr;
  std::string events_problem_;
  std::set<nvml::Device> registered_;
  std::map<nvml::Device, std::string> uuid_of_;
  std::map<unsigned, std::string> uuid_at_index_;  // for GPUs that stop answering
};

}  // namespace duet::deviceplugin
