#pragma once
// What a device plugin reports and hands out: a device with its health, and the result of an
// allocation (ids, environment, device nodes, cpus) that duetd gives an engine process.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace duet::deviceplugin {

enum class Health { healthy, unhealthy };

// "Healthy" / "Unhealthy", the words kubelet and `duetctl get devices` use.
std::string_view to_string(Health health);

struct DeviceHealth {
  Health state = Health::healthy;
  std::string reason;  // why it is unhealthy (or a warning while healthy); empty when fine

  bool ok() const { return state == Health::healthy; }
  bool operator==(const DeviceHealth&) const = default;

  static DeviceHealth healthy() { return {}; }
  static DeviceHealth unhealthy(std::string why) { return {Health::unhealthy, std::move(why)}; }

  // Appends a remark to the reason ("; "-separated) without changing the state.
  void note(std::string_view why) {
    if (why.empty()) return;
    if (!reason.empty()) reason += "; ";
    reason += why;
  }
  // Marks the device unhealthy and says why; several problems add up in the reason.
  void fail(std::string_view why) {
    state = Health::unhealthy;
    note(why);
  }
};

struct Device {
  std::string kind;   // the handler: ascend, nvidia, mlu, cpu
  std::string id;     // stable within kind: physical id, GPU UUID, cpu number
  int index = -1;     // davinciN, nvidia minor, cambricon_devN, cpu number
  std::string model;  // "Ascend910B3", "NVIDIA H100 80GB HBM3", "HiSilicon Kunpeng 920"
  std::uint64_t memory_bytes = 0;  // 0 when unknown (and for cpu cores)
  int numa_node = -1;              // -1 when unknown
  std::string pci_bus_id;          // "0000:06:00.0" (4-digit domain, lower case); empty if unknown
  std::string uuid;                // vendor UUID when the vendor has one
  DeviceHealth health;
  int logical_id = -1;  // ascend: the runtime's logical id (ASCEND_RT_VISIBLE_DEVICES)
  std::vector<std::string> device_nodes;          // nodes an engine on this device opens
  std::map<std::string, std::string> attributes;  // extra facts for display (utilization, ...)
};

struct Allocation {
  std::vector<std::string> device_ids;     // chosen ids, in the order the env lists them
  std::map<std::string, std::string> env;  // e.g. CUDA_VISIBLE_DEVICES
  std::vector<std::string> device_nodes;   // per-device plus shared control nodes, sorted
  std::vector<int> cpus;                   // cpu handler: cores to pin; empty = no pinning
  int numa_node = -1;                      // the one node every device sits on, else -1
};

// allocate()'s answer: an Allocation, or the reason there is none, in words duetd shows as a
// Pending replica's reason ("insufficient ascend devices: need 2, free 0").
struct AllocateResult {
  std::optional<Allocation> allocation;
  std::string reason;

  explicit operator bool() const { return allocation.has_value(); }
  static AllocateResult ok(Allocation a) { return {std::move(a), {}}; }
  static AllocateResult fail(std::string why) { return {std::nullopt, std::move(why)}; }
};

// Where a plugin's devices came from on its last scan, and why that source was used.
struct DiscoverySource {
  std::string name;    // dcmi, devfs, nvml, procfs, cndev, sysfs
  std::string detail;  // e.g. the dlerror text of the vendor library that did not load
};

}  // namespace duet::deviceplugin
