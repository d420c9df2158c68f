// A stand-in for libnvidia-ml.so.1, loaded by the nvidia plugin through dlopen like the real
// one. GPUs, NVLink groups, lost GPUs and XID events are set by tests through fake_nvml_*.

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include "deviceplugin/nvidia/nvml_api.h"

namespace nvml = duet::deviceplugin::nvml;

namespace {

struct Gpu {
  std::string uuid;
  int nvlink_group = -1;
  bool lost = false;
};

struct State {
  std::vector<Gpu> gpus;
  int init_result = nvml::kSuccess;
  std::deque<nvml::EventData> events;
  int registered = 0;
} state;

nvml::Device handle_of(std::size_t i) {
  return reinterpret_cast<nvml::Device>(static_cast<std::uintptr_t>(i + 1));
}

Gpu* gpu_of(nvml::Device d) {
  auto i = reinterpret_cast<std::uintptr_t>(d);
  return i >= 1 && i <= state.gpus.size() ? &state.gpus[i - 1] : nullptr;
}

std::size_t index_of(nvml::Device d) { return reinterpret_cast<std::uintptr_t>(d) - 1; }

int copy(char* out, unsigned size, const std::string& text) {
  std::snprintf(out, size, "%s", text.c_str());
  return nvml::kSuccess;
}

}  // namespace

extern "C" {

// Test controls.
void fake_nvml_configure(int count) {
  state = State{};
  for (int i = 0; i < count; ++i) state.gpus.push_back({"GPU-fake-" + std::to_string(i)});
}
void fake_nvml_set_nvlink_group(int gpu, int group) { state.gpus.at(gpu).nvlink_group = group; }
void fake_nvml_set_lost(int gpu, int lost) { state.gpus.at(gpu).lost = lost != 0; }
void fake_nvml_set_init_result(int rc) { state.init_result = rc; }
int fake_nvml_registered() { return state.registered; }
// gpu -1: an event NVML cannot pin on a device.
void fake_nvml_push_xid(int gpu, unsigned long long xid) {
  nvml::EventData e{};
  e.device = gpu < 0 ? nullptr : handle_of(static_cast<std::size_t>(gpu));
  e.event_type = nvml::kEventTypeXidCriticalError;
  e.event_data = xid;
  state.events.push_back(e);
}

// The NVML API.
nvml::Return nvmlInit_v2() { return state.init_result; }
nvml::Return nvmlShutdown() { return nvml::kSuccess; }
const char* nvmlErrorString(nvml::Return rc) {
  if (rc == nvml::kErrorGpuIsLost) return "GPU is lost";
  if (rc == 9) return "Driver Not Loaded";
  return "Unknown Error";
}
nvml::Return nvmlDeviceGetCount_v2(unsigned int* count) {
  *count = static_cast<unsigned>(state.gpus.size());
  return nvml::kSuccess;
}
nvml::Return nvmlDeviceGetHandleByIndex_v2(unsigned int i, nvml::Device* d) {
  if (i >= state.gpus.size()) return 2;
  *d = handle_of(i);
  return nvml::kSuccess;
}
nvml::Return nvmlDeviceGetUUID(nvml::Device d, char* out, unsigned int size) {
  return copy(out, size, gpu_of(d)->uuid);
}
nvml::Return nvmlDeviceGetName(nvml::Device, char* out, unsigned int size) {
  return copy(out, size, "NVIDIA H100 80GB HBM3");
}
nvml::Return nvmlDeviceGetMemoryInfo(nvml::Device d, nvml::Memory* m) {
  if (gpu_of(d)->lost) return nvml::kErrorGpuIsLost;
  *m = {80ULL << 30, 79ULL << 30, 1ULL << 30};
  return nvml::kSuccess;
}
nvml::Return nvmlDeviceGetPciInfo_v3(nvml::Device d, nvml::PciInfo* p) {
  std::memset(p, 0, sizeof *p);
  std::snprintf(p->bus_id, sizeof p->bus_id, "00000000:%02zX:00.0", index_of(d) + 0x18);
  return nvml::kSuccess;
}
nvml::Return nvmlDeviceGetMinorNumber(nvml::Device d, unsigned int* minor) {
  *minor = static_cast<unsigned>(index_of(d));
  return nvml::kSuccess;
}
nvml::Return nvmlDeviceGetUtilizationRates(nvml::Device, nvml::Utilization* u) {
  *u = {42, 7};
  return nvml::kSuccess;
}
// PCIe: GPUs 2k and 2k+1 share a switch; everything else meets at the system level.
nvml::Return nvmlDeviceGetTopologyCommonAncestor(nvml::Device a, nvml::Device b, int* level) {
  *level = index_of(a) / 2 == index_of(b) / 2 ? nvml::kTopologySingle : nvml::kTopologySystem;
  return nvml::kSuccess;
}
nvml::Return nvmlDeviceGetP2PStatus(nvml::Device a, nvml::Device b, int caps, int* status) {
  if (caps != nvml::kP2PCapsIndexNvLink) return nvml::kErrorNotSupported;
  int ga = gpu_of(a)->nvlink_group, gb = gpu_of(b)->nvlink_group;
  *status = ga >= 0 && ga == gb ? nvml::kP2PStatusOk : 5;
  return nvml::kSuccess;
}
nvml::Return nvmlDeviceGetNvLinkState(nvml::Device d, unsigned int link, int* active) {
  if (gpu_of(d)->nvlink_group < 0 || link >= 4) return nvml::kErrorNotSupported;
  *active = nvml::kFeatureEnabled;
  return nvml::kSuccess;
}
nvml::Return nvmlEventSetCreate(nvml::EventSet* set) {
  *set = reinterpret_cast<nvml::EventSet>(&state);
  return nvml::kSuccess;
}
nvml::Return nvmlDeviceRegisterEvents(nvml::Device, unsigned long long types, nvml::EventSet) {
  if (types & nvml::kEventTypeXidCriticalError) ++state.registered;
  return nvml::kSuccess;
}
nvml::Return nvmlEventSetWait_v2(nvml::EventSet, nvml::EventData* data, unsigned int) {
  if (state.events.empty()) return nvml::kErrorTimeout;
  *data = state.events.front();
  state.events.pop_front();
  return nvml::kSuccess;
}
nvml::Return nvmlEventSetFree(nvml::EventSet) { return nvml::kSuccess; }

}  // extern "C"
