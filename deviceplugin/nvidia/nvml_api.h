#pragma once
// The NVML entry points and structures duet uses, declared from NVIDIA's nvml.h (CUDA 12) so
// no vendor header is needed at build time; sizes are checked below. Shared with the fake
// libnvidia-ml of the tests.

#include <cstddef>

namespace duet::deviceplugin::nvml {

using Return = int;  // nvmlReturn_t: a C enum, int-sized
constexpr Return kSuccess = 0;
constexpr Return kErrorNotSupported = 3;
constexpr Return kErrorTimeout = 10;
constexpr Return kErrorGpuIsLost = 15;

struct DeviceSt;
using Device = DeviceSt*;  // nvmlDevice_t
struct EventSetSt;
using EventSet = EventSetSt*;  // nvmlEventSet_t

constexpr unsigned kUuidBufferSize = 96;  // NVML_DEVICE_UUID_V2_BUFFER_SIZE
constexpr unsigned kNameBufferSize = 96;  // NVML_DEVICE_NAME_V2_BUFFER_SIZE
constexpr unsigned kMaxNvLinks = 18;      // NVML_NVLINK_MAX_LINKS
constexpr unsigned long long kEventTypeXidCriticalError = 0x8ULL;
constexpr int kP2PCapsIndexNvLink = 2;  // NVML_P2P_CAPS_INDEX_NVLINK
constexpr int kP2PStatusOk = 0;
constexpr int kFeatureEnabled = 1;  // NVML_FEATURE_ENABLED

// nvmlGpuTopologyLevel_t
constexpr int kTopologyInternal = 0;
constexpr int kTopologySingle = 10;
constexpr int kTopologyMultiple = 20;
constexpr int kTopologyHostBridge = 30;
constexpr int kTopologyNode = 40;
constexpr int kTopologySystem = 50;

struct Memory {  // nvmlMemory_t (v1), bytes
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};

struct PciInfo {  // nvmlPciInfo_t, as filled by nvmlDeviceGetPciInfo_v3
  char bus_id_legacy[16];
  unsigned int domain;
  unsigned int bus;
  unsigned int device;
  unsigned int pci_device_id;
  unsigned int pci_sub_system_id;
  char bus_id[32];  // "00000000:06:00.0"
};

struct Utilization {  // nvmlUtilization_t, percent
  unsigned int gpu;
  unsigned int memory;
};

struct EventData {  // nvmlEventData_t, as filled by nvmlEventSetWait_v2
  Device device;
  unsigned long long event_type;
  unsigned long long event_data;  // the XID for kEventTypeXidCriticalError
  unsigned int gpu_instance_id;
  unsigned int compute_instance_id;
};

static_assert(sizeof(Memory) == 24);
static_assert(sizeof(PciInfo) == 68);
static_assert(offsetof(PciInfo, bus_id) == 36);
static_assert(sizeof(EventData) == 32);

using InitFn = Return();
using ShutdownFn = Return();
using ErrorStringFn = const char*(Return);
using DeviceGetCountFn = Return(unsigned int*);
using DeviceGetHandleByIndexFn = Return(unsigned int, Device*);
using DeviceGetStringFn = Return(Device, char*, unsigned int);  // UUID, name
using DeviceGetMemoryInfoFn = Return(Device, Memory*);
using DeviceGetPciInfoFn = Return(Device, PciInfo*);
using DeviceGetMinorNumberFn = Return(Device, unsigned int*);
using DeviceGetUtilizationRatesFn = Return(Device, Utilization*);
using DeviceGetTopologyCommonAncestorFn = Return(Device, Device, int*);
using DeviceGetP2PStatusFn = Return(Device, Device, int, int*);
using DeviceGetNvLinkStateFn = Return(Device, unsigned int, int*);
using EventSetCreateFn = Return(EventSet*);
using DeviceRegisterEventsFn = Return(Device, unsigned long long, EventSet);
using EventSetWaitFn = Return(EventSet, EventData*, unsigned int);
using EventSetFreeFn = Return(EventSet);

}  // namespace duet::deviceplugin::nvml
