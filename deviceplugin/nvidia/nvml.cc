#include "deviceplugin/nvidia/nvml.h"

#include <algorithm>
#include <cstring>

#include "deviceplugin/host_files.h"

namespace duet::deviceplugin {

struct Nvml::Api {
  nvml::InitFn* init = nullptr;
  nvml::ShutdownFn* shutdown = nullptr;
  nvml::ErrorStringFn* error_string = nullptr;
  nvml::DeviceGetCountFn* count = nullptr;
  nvml::DeviceGetHandleByIndexFn* handle = nullptr;
  nvml::DeviceGetStringFn* uuid = nullptr;
  nvml::DeviceGetStringFn* name = nullptr;
  nvml::DeviceGetMemoryInfoFn* memory = nullptr;
  nvml::DeviceGetPciInfoFn* pci = nullptr;
  nvml::DeviceGetMinorNumberFn* minor = nullptr;
  // Optional: older drivers or GPUs lack them, and duet works without them.
  nvml::DeviceGetUtilizationRatesFn* utilization = nullptr;
  nvml::DeviceGetTopologyCommonAncestorFn* topology = nullptr;
  nvml::DeviceGetP2PStatusFn* p2p = nullptr;
  nvml::DeviceGetNvLinkStateFn* nvlink_state = nullptr;
  nvml::EventSetCreateFn* event_set_create = nullptr;
  nvml::DeviceRegisterEventsFn* register_events = nullptr;
  nvml::EventSetWaitFn* event_set_wait = nullptr;
  nvml::EventSetFreeFn* event_set_free = nullptr;
};

Nvml::Nvml(DynamicLibrary lib, std::unique_ptr<Api> api)
    : lib_(std::move(lib)), api_(std::move(api)) {
  if (!api_->event_set_create || !api_->register_events || !api_->event_set_wait) {
    events_problem_ = "NVML lacks the event API";
  } else if (auto rc = api_->event_set_create(&events_); rc != nvml::kSuccess) {
    events_problem_ = "nvmlEventSetCreate: " + error_text(rc);
    events_ = nullptr;
  }
}

Nvml::~Nvml() {
  if (events_ && api_->event_set_free) api_->event_set_free(events_);
  api_->shutdown();
}

std::unique_ptr<Nvml> Nvml::load(const std::vector<std::string>& names, std::string& why) {
  auto lib = DynamicLibrary::open(names);
  if (!lib.loaded()) {
    why = lib.error();
    return nullptr;
  }
  auto api = std::make_unique<Api>();
  lib.require(api->init, "nvmlInit_v2");
  lib.require(api->shutdown, "nvmlShutdown");
  lib.require(api->error_string, "nvmlErrorString");
  lib.require(api->count, "nvmlDeviceGetCount_v2");
  lib.require(api->handle, "nvmlDeviceGetHandleByIndex_v2");
  lib.require(api->uuid, "nvmlDeviceGetUUID");
  lib.require(api->name, "nvmlDeviceGetName");
  lib.require(api->memory, "nvmlDeviceGetMemoryInfo");
  lib.require(api->pci, "nvmlDeviceGetPciInfo_v3");
  lib.require(api->minor, "nvmlDeviceGetMinorNumber");
  if (auto missing = lib.missing_symbols(); !missing.empty()) {
    why = missing;
    return nullptr;
  }
  lib.bind(api->utilization, "nvmlDeviceGetUtilizationRates");
  lib.bind(api->topology, "nvmlDeviceGetTopologyCommonAncestor");
  lib.bind(api->p2p, "nvmlDeviceGetP2PStatus");
  lib.bind(api->nvlink_state, "nvmlDeviceGetNvLinkState");
  lib.bind(api->event_set_create, "nvmlEventSetCreate");
  lib.bind(api->register_events, "nvmlDeviceRegisterEvents");
  lib.bind(api->event_set_wait, "nvmlEventSetWait_v2");
  lib.bind(api->event_set_free, "nvmlEventSetFree");
  if (auto rc = api->init(); rc != nvml::kSuccess) {
    const char* text = api->error_string(rc);
    why = lib.name() + ": nvmlInit_v2: " + (text ? text : "error " + std::to_string(rc));
    return nullptr;
  }
  return std::unique_ptr<Nvml>(new Nvml(std::move(lib), std::move(api)));
}

std::string Nvml::error_text(nvml::Return rc) const {
  const char* text = api_->error_string(rc);
  return text ? text : "error " + std::to_string(rc);
}

std::vector<NvmlGpu> Nvml::gpus() {
  unsigned count = 0;
  if (api_->count(&count) != nvml::kSuccess) return {};
  std::vector<NvmlGpu> out;
  for (unsigned i = 0; i < count && i < 256; ++i) {
    NvmlGpu gpu = read_gpu(i);
    if (gpu.uuid.empty()) continue;  // never answered: nothing stable to call it by
    if (gpu.handle && !gpu.lost) register_events(gpu);
    out.push_back(std::move(gpu));
  }
  return out;
}

NvmlGpu Nvml::read_gpu(unsigned index) {
  NvmlGpu gpu;
  gpu.index = index;
  auto fail = [&](const char* call, nvml::Return rc) {
    if (gpu.error.empty()) gpu.error = std::string(call) + ": " + error_text(rc);
    if (rc == nvml::kErrorGpuIsLost) gpu.lost = true;
  };
  if (auto rc = api_->handle(index, &gpu.handle); rc != nvml::kSuccess) {
    fail("nvmlDeviceGetHandleByIndex_v2", rc);
    gpu.handle = nullptr;
    gpu.uuid = uuid_at_index_[index];
    return gpu;
  }
  char text[nvml::kUuidBufferSize] = {};
  if (auto rc = api_->uuid(gpu.handle, text, sizeof text); rc == nvml::kSuccess) {
    gpu.uuid = std::string(text, ::strnlen(text, sizeof text));
    uuid_at_index_[index] = gpu.uuid;
    uuid_of_[gpu.handle] = gpu.uuid;
  } else {
    fail("nvmlDeviceGetUUID", rc);
    gpu.uuid = uuid_at_index_[index];
  }
  char name[nvml::kNameBufferSize] = {};
  if (api_->name(gpu.handle, name, sizeof name) == nvml::kSuccess)
    gpu.name = std::string(name, ::strnlen(name, sizeof name));
  nvml::Memory memory{};
  if (auto rc = api_->memory(gpu.handle, &memory); rc == nvml::kSuccess)
    gpu.memory_bytes = memory.total;
  else
    fail("nvmlDeviceGetMemoryInfo", rc);
  nvml::PciInfo pci{};
  if (api_->pci(gpu.handle, &pci) == nvml::kSuccess)
    gpu.pci_bus_id =
        normalize_pci_bus_id(std::string(pci.bus_id, ::strnlen(pci.bus_id, sizeof pci.bus_id)));
  unsigned minor = 0;
  if (auto rc = api_->minor(gpu.handle, &minor); rc == nvml::kSuccess)
    gpu.minor = static_cast<int>(minor);
  else
    fail("nvmlDeviceGetMinorNumber", rc);
  nvml::Utilization util{};
  if (api_->utilization && api_->utilization(gpu.handle, &util) == nvml::kSuccess)
    gpu.utilization_gpu = static_cast<int>(util.gpu);
  if (api_->nvlink_state) {
    // Links are numbered from 0; the first one NVML refuses ends the list (PCIe-only GPUs
    // refuse link 0, which leaves "unknown").
    for (unsigned link = 0; link < nvml::kMaxNvLinks; ++link) {
      int state = 0;
      if (api_->nvlink_state(gpu.handle, link, &state) != nvml::kSuccess) break;
      gpu.active_nvlinks = std::max(gpu.active_nvlinks, 0) + (state == nvml::kFeatureEnabled);
    }
  }
  return gpu;
}

void Nvml::register_events(const NvmlGpu& gpu) {
  if (!events_ || registered_.count(gpu.handle)) return;
  registered_.insert(gpu.handle);
  auto rc = api_->register_events(gpu.handle, nvml::kEventTypeXidCriticalError, events_);
  // Some GPUs (older or virtual) refuse XID events; note it once, health still follows the
  // device node and NVML queries.
  if (rc != nvml::kSuccess && events_problem_.empty())
    events_problem_ = "nvmlDeviceRegisterEvents(" + gpu.uuid + "): " + error_text(rc);
}

std::vector<XidEvent> Nvml::drain_xid_events() {
  std::vector<XidEvent> out;
  if (!events_) return out;
  // Bounded: a storm of events must not hold up the health loop.
  for (int i = 0; i < 256; ++i) {
    nvml::EventData data{};
    if (api_->event_set_wait(events_, &data, 0) != nvml::kSuccess) break;
    if (data.event_type != nvml::kEventTypeXidCriticalError) continue;
    XidEvent e;
    e.xid = data.event_data;
    if (auto it = uuid_of_.find(data.device); data.device && it != uuid_of_.end())
      e.uuid = it->second;
    out.push_back(std::move(e));
  }
  return out;
}

bool Nvml::nvlink(nvml::Device a, nvml::Device b) const {
  if (!api_->p2p || !a || !b) return false;
  int status = -1;
  return api_->p2p(a, b, nvml::kP2PCapsIndexNvLink, &status) == nvml::kSuccess &&
         status == nvml::kP2PStatusOk;
}

int Nvml::topology_level(nvml::Device a, nvml::Device b) const {
  if (!api_->topology || !a || !b) return -1;
  int level = -1;
  if (api_->topology(a, b, &level) != nvml::kSuccess) return -1;
  return level;
}

}  // namespace duet::deviceplugin
