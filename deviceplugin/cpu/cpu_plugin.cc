#include "deviceplugin/cpu/cpu_plugin.h"

#include "deviceplugin/cpu/cpu_model.h"
#include "deviceplugin/host_files.h"

namespace duet::deviceplugin {

CpuPlugin::CpuPlugin(HostPaths paths) : ScanningPlugin("cpu"), paths_(std::move(paths)) {}

DiscoverySource CpuPlugin::source() const { return source_; }

std::map<int, int> CpuPlugin::numa_nodes() const {
  std::map<int, int> node_of;
  auto dir = paths_.sys("devices/system/node");
  for (int node : numbered_entries(dir, "node")) {
    auto text = read_text(dir / ("node" + std::to_string(node)) / "cpulist");
    if (!text) continue;
    for (int cpu : parse_cpu_list(*text).value_or(std::vector<int>{})) node_of[cpu] = node;
  }
  return node_of;
}

CpuSlot CpuPlugin::slot_for(int cpu, int node) const {
  CpuSlot slot{cpu, node, cpu, 1};
  auto topology = paths_.sys("devices/system/cpu/cpu" + std::to_string(cpu) + "/topology");
  // SMT siblings share a core: a replica takes them together so two engines do not fight over
  // one core's execution units.
  if (auto text = read_text(topology / "thread_siblings_list")) {
    auto siblings = parse_cpu_list(*text).value_or(std::vector<int>{});
    if (!siblings.empty()) {
      slot.core = siblings.front();
      slot.core_threads = siblings.size();
    }
  }
  return slot;
}

std::vector<Device> CpuPlugin::scan() {
  auto cpuinfo = read_text(paths_.proc("cpuinfo"));
  auto models = parse_cpuinfo(cpuinfo.value_or(""));
  auto online_path = paths_.sys("devices/system/cpu/online");
  std::vector<int> online;
  if (auto text = read_text(online_path); text && parse_cpu_list(*text)) {
    online = *parse_cpu_list(*text);
    source_ = {"sysfs", online_path.string()};
  } else {
    for (const auto& [cpu, model] : models) online.push_back(cpu);
    source_ = {"procfs",
               online_path.string() + " unreadable; cpus from " + paths_.proc("cpuinfo").string()};
  }
  auto node_of = numa_nodes();
  slots_.clear();
  std::vector<Device> out;
  for (int cpu : online) {
    auto node = node_of.find(cpu);
    CpuSlot slot = slot_for(cpu, node == node_of.end() ? -1 : node->second);
    slots_[cpu] = slot;
    Device d;
    d.kind = "cpu";
    d.id = std::to_string(cpu);
    d.index = cpu;
    d.numa_node = slot.node;
    auto model = models.find(cpu);
    d.model = model != models.end() && !model->second.name.empty() ? model->second.name : "CPU";
    if (model != models.end() && !model->second.vendor.empty())
      d.attributes["vendor"] = model->second.vendor;
    d.attributes["core"] = std::to_string(slot.core);
    out.push_back(std::move(d));
  }
  return out;
}

std::string CpuPlugin::missing_reason(const Device& device) const {
  return "cpu " + device.id + " is offline";
}

std::shared_ptr<const Inventory> CpuPlugin::make_inventory(std::vector<Device> devices) const {
  return std::make_shared<CpuInventory>(std::move(devices), slots_);
}

}  // namespace duet::deviceplugin
