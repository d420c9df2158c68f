#include "deviceplugin/nvidia/nvidia_plugin.h"

#include <algorithm>

#include "deviceplugin/host_files.h"
#include "deviceplugin/nvidia/procfs_gpus.h"
#include "deviceplugin/pci_topology.h"

namespace duet::deviceplugin {

namespace {

// Pair scores: NVLink beats any PCIe path; PCIe levels follow nvmlGpuTopologyLevel_t.
constexpr int kNvLinkAffinity = 100;

// The link between two GPUs in `nvidia-smi topo -m` words: NV (NVLink), PIX (one PCIe
// switch), PXB (several), PHB (a host bridge), NODE (one NUMA node), SYS (across sockets).
std::string nvml_link_name(bool nvlink, int level) {
  if (nvlink) return "NV";
  if (level < 0) return "";
  if (level <= nvml::kTopologySingle) return "PIX";
  if (level <= nvml::kTopologyMultiple) return "PXB";
  if (level <= nvml::kTopologyHostBridge) return "PHB";
  if (level <= nvml::kTopologyNode) return "NODE";
  return "SYS";
}

// The same from sysfs alone (pci_affinity's scores), when NVML is not there.
std::string pci_link_name(int score) {
  if (score >= 30) return "PXB";
  if (score >= 20) return "PHB";
  if (score >= 10) return "NODE";
  return "SYS";
}

int level_affinity(int level) {
  if (level < 0) return -1;
  if (level <= nvml::kTopologySingle) return 40;  // same board or one PCIe switch
  if (level <= nvml::kTopologyMultiple) return 30;
  if (level <= nvml::kTopologyHostBridge) return 20;
  if (level <= nvml::kTopologyNode) return 10;
  return 0;
}

}  // namespace

NvidiaPlugin::NvidiaPlugin(HostPaths paths, NvidiaOptions options)
    : ScanningPlugin("nvidia"), paths_(std::move(paths)), options_(std::move(options)) {}

DiscoverySource NvidiaPlugin::source() const {
  if (nvml_) {
    std::string detail = nvml_->library();
    if (!nvml_->events_problem().empty())
      detail += " (XID health not watched: " + nvml_->events_problem() + ")";
    return {"nvml", detail};
  }
  if (!nvml_tried_) return {"nvml", "not loaded yet"};
  return {"procfs", "NVML unavailable: " + nvml_error_};
}

void NvidiaPlugin::load_nvml(bool have_nodes) {
  nvml_tried_ = true;
  nvml_ = Nvml::load(options_.nvml_libraries, nvml_error_);
  if (!nvml_)
    report_library_unavailable(options_.nvml_libraries, nvml_error_,
                               paths_.proc("driver/nvidia").string(), have_nodes);
}

std::vector<Device> NvidiaPlugin::scan() {
  if (!nvml_tried_) load_nvml(!numbered_entries(paths_.dev_root, "nvidia").empty());
  shared_nodes_.clear();
  for (const char* node : {"nvidiactl", "nvidia-uvm", "nvidia-uvm-tools"})
    if (path_exists(paths_.dev(node))) shared_nodes_.push_back(paths_.dev(node).string());
  auto devices = nvml_ ? scan_nvml() : scan_procfs();
  add_node_health(devices);
  return devices;
}

Device NvidiaPlugin::gpu_device(const std::string& uuid, int minor, const std::string& model,
                                const std::string& bus_id) const {
  Device d;
  d.kind = "nvidia";
  // UUIDs survive reboots and re-ordering; the minor number alone is the last resort.
  d.id = uuid.empty() ? "nvidia" + std::to_string(minor) : uuid;
  d.uuid = uuid;
  d.index = minor;
  d.model = model.empty() ? "NVIDIA GPU" : model;
  d.pci_bus_id = bus_id;
  d.numa_node = pci_numa_node(paths_, bus_id);
  if (minor >= 0) d.device_nodes.push_back(paths_.dev("nvidia" + std::to_string(minor)).string());
  return d;
}

std::vector<Device> NvidiaPlugin::scan_nvml() {
  auto gpus = nvml_->gpus();
  note_xids();
  std::vector<Device> out;
  std::map<std::string, nvml::Device> handles;
  for (const auto& g : gpus) {
    Device d = gpu_device(g.uuid, g.minor, g.name, g.pci_bus_id);
    d.memory_bytes = g.memory_bytes;
    if (g.utilization_gpu >= 0)
      d.attributes["utilization"] = std::to_string(g.utilization_gpu) + "%";
    if (g.active_nvlinks >= 0) d.attributes["nvlinks"] = std::to_string(g.active_nvlinks);
    // A lost GPU comes back only after a reset, which also clears what its XIDs meant.
    if (g.lost) xid_marks_.erase(g.uuid);
    if (!g.error.empty()) d.health.fail("NVML: " + g.error);
    if (auto it = xid_marks_.find(g.uuid); it != xid_marks_.end()) d.health.fail(it->second);
    if (!all_xid_mark_.empty()) d.health.fail(all_xid_mark_);
    handles[d.id] = g.handle;
    out.push_back(std::move(d));
  }
  update_affinity(out, handles);
  describe_peers(out);
  return out;
}

void NvidiaPlugin::note_xids() {
  for (const auto& e : nvml_->drain_xid_events()) {
    bool ignored = options_.ignored_xids.count(e.xid) > 0;
    log().warn(
        "gpu_xid",
        {{"uuid", e.uuid.empty() ? "unknown" : e.uuid}, {"xid", e.xid}, {"ignored", ignored}});
    if (ignored) continue;
    std::string reason = "XID " + std::to_string(e.xid) + " (critical error)";
    if (e.uuid.empty())
      all_xid_mark_ = reason + " on an unidentified GPU";
    else
      xid_marks_[e.uuid] = reason;
  }
}

std::vector<Device> NvidiaPlugin::scan_procfs() {
  auto gpus = read_procfs_gpus(paths_);
  std::vector<Device> out;
  std::set<int> minors;
  for (const auto& g : gpus) {
    out.push_back(gpu_device(g.uuid, g.minor, g.model, g.pci_bus_id));
    minors.insert(g.minor);
  }
  // A GPU known by UUID whose listing vanished stays that GPU (reported missing), not a new
  // one named after its node.
  for (const auto& gpu : known())
    if (!gpu.uuid.empty()) minors.insert(gpu.index);
  // A node the driver describes nowhere: still a GPU, known by its minor number only.
  for (int minor : numbered_entries(paths_.dev_root, "nvidia"))
    if (!minors.count(minor)) out.push_back(gpu_device("", minor, "", ""));
  update_affinity(out, {});
  describe_peers(out);
  return out;
}

void NvidiaPlugin::add_node_health(std::vector<Device>& devices) const {
  bool ctl = path_exists(paths_.dev("nvidiactl"));
  for (auto& d : devices) {
    for (const auto& node : d.device_nodes)
      if (!path_exists(node)) d.health.fail("device node " + node + " is missing");
    if (!ctl) d.health.fail("control node " + paths_.dev("nvidiactl").string() + " is missing");
  }
}

std::string NvidiaPlugin::missing_reason(const Device& device) const {
  if (nvml_) return "GPU " + device.id + " is no longer reported by NVML";
  return "GPU " + device.id + " is no longer listed in " +
         paths_.proc("driver/nvidia/gpus").string();
}

void NvidiaPlugin::update_affinity(const std::vector<Device>& devices,
                                   const std::map<std::string, nvml::Device>& handles) {
  std::set<std::string> ids;
  for (const auto& d : devices) ids.insert(d.id);
  if (ids == affinity_ids_) return;  // topology does not change while the set stays the same
  affinity_ids_ = ids;
  affinity_.clear();
  peers_.clear();
  for (std::size_t i = 0; i < devices.size(); ++i) {
    for (std::size_t j = i + 1; j < devices.size(); ++j) {
      const auto& a = devices[i];
      const auto& b = devices[j];
      int score = -1;
      std::string link;
      if (nvml_) {
        auto ha = handles.at(a.id), hb = handles.at(b.id);
        bool nvlink = nvml_->nvlink(ha, hb);
        int level = nvml_->topology_level(ha, hb);
        score = nvlink ? kNvLinkAffinity : level_affinity(level);
        link = nvml_link_name(nvlink, level);
      }
      if (score < 0) {
        score = pci_affinity(pci_ancestors(paths_, a.pci_bus_id), a.numa_node,
                             pci_ancestors(paths_, b.pci_bus_id), b.numa_node);
        link = pci_link_name(score);
      }
      affinity_[{a.id, b.id}] = affinity_[{b.id, a.id}] = score;
      auto add_peer = [&](const Device& from, const Device& to) {
        auto& text = peers_[from.id];
        text += (text.empty() ? "" : " ") + std::to_string(to.index) + ":" + link;
      };
      add_peer(a, b);
      add_peer(b, a);
    }
  }
}

void NvidiaPlugin::describe_peers(std::vector<Device>& devices) const {
  for (auto& d : devices)
    if (auto it = peers_.find(d.id); it != peers_.end()) d.attributes["peers"] = it->second;
}

std::shared_ptr<const Inventory> NvidiaPlugin::make_inventory(std::vector<Device> devices) const {
  return std::make_shared<NvidiaInventory>(std::move(devices), shared_nodes_, affinity_);
}

}  // namespace duet::deviceplugin
