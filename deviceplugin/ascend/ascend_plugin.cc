#include "deviceplugin/ascend/ascend_plugin.h"

#include <algorithm>
#include <map>

#include "deviceplugin/host_files.h"
#include "deviceplugin/pci_topology.h"

namespace duet::deviceplugin {

AscendPlugin::AscendPlugin(HostPaths paths, AscendOptions options)
    : ScanningPlugin("ascend"), paths_(std::move(paths)), options_(std::move(options)) {}

const std::vector<std::string>& AscendPlugin::control_nodes() {
  static const std::vector<std::string> nodes = {"davinci_manager", "devmm_svm", "hisi_hdc"};
  return nodes;
}

DiscoverySource AscendPlugin::source() const {
  if (dcmi_) return {"dcmi", dcmi_->library()};
  if (!dcmi_tried_) return {"dcmi", "not loaded yet"};
  return {"devfs", "DCMI unavailable: " + dcmi_error_};
}

void AscendPlugin::load_dcmi(bool have_nodes) {
  dcmi_tried_ = true;
  dcmi_ = Dcmi::load(options_.dcmi_libraries, dcmi_error_);
  if (!dcmi_)
    report_library_unavailable(options_.dcmi_libraries, dcmi_error_, paths_.dev_root.string(),
                               have_nodes);
}

std::string AscendPlugin::chip_name() const {
  return last_chip_name_.empty() ? options_.chip_hint : last_chip_name_;
}

std::string AscendPlugin::control_problem() const {
  std::vector<std::string> missing;
  for (const auto& node : control_nodes())
    if (!path_exists(paths_.dev(node))) missing.push_back(paths_.dev(node).string());
  if (missing.empty()) return "";
  if (missing.size() == 1) return "control node " + missing[0] + " is missing";
  return "control nodes " + join(missing, ", ") + " are missing";
}

Device AscendPlugin::device_for(int phys_id, int logical_id, const DcmiChip* chip) const {
  Device d;
  d.kind = "ascend";
  d.id = std::to_string(phys_id);
  d.index = phys_id;
  d.logical_id = logical_id;
  d.device_nodes.push_back(paths_.dev("davinci" + d.id).string());
  std::string name = chip && !chip->chip_name.empty() ? chip->chip_name : options_.chip_hint;
  d.model = name.empty() ? "Ascend NPU" : "Ascend" + name;
  if (chip) {
    d.pci_bus_id = chip->pci_bus_id;
    d.memory_bytes = chip->memory_bytes;
    d.numa_node = pci_numa_node(paths_, d.pci_bus_id);
    d.attributes["card"] = std::to_string(chip->card);
  }
  return d;
}

std::vector<Device> AscendPlugin::scan() {
  auto nodes = numbered_entries(paths_.dev_root, "davinci");
  if (!dcmi_tried_) load_dcmi(!nodes.empty());
  std::map<int, const DcmiChip*> by_phys;
  std::vector<DcmiChip> chips;
  if (dcmi_) {
    chips = dcmi_->chips();
    for (const auto& c : chips) {
      if (c.physical_id >= 0) by_phys[c.physical_id] = &c;
      if (!c.chip_name.empty()) last_chip_name_ = c.chip_name;
    }
  }
  std::vector<int> ids = nodes;
  for (const auto& [phys, chip] : by_phys) ids.push_back(phys);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());

  std::string control = control_problem();
  std::vector<Device> out;
  for (int phys : ids) {
    auto it = by_phys.find(phys);
    const DcmiChip* chip = it == by_phys.end() ? nullptr : it->second;
    // Without DCMI the runtime numbers the visible devices 0..n-1 in physical order.
    auto pos = std::lower_bound(nodes.begin(), nodes.end(), phys) - nodes.begin();
    Device d = device_for(phys, chip ? chip->logical_id : static_cast<int>(pos), chip);
    if (!std::binary_search(nodes.begin(), nodes.end(), phys))
      d.health.fail("device node " + d.device_nodes.front() + " is missing");
    if (!control.empty()) d.health.fail(control);
    if (dcmi_ && !chip) d.health.fail("not reported by DCMI");
    if (chip && !chip->error.empty()) d.health.fail("DCMI: " + chip->error);
    // A minor alarm is worth showing but leaves the NPU usable; major and critical do not.
    if (chip && chip->health >= 2)
      d.health.fail(dcmi_health_text(chip->health));
    else if (chip)
      d.health.note(dcmi_health_text(chip->health));
    out.push_back(std::move(d));
  }
  return out;
}

std::string AscendPlugin::missing_reason(const Device& device) const {
  return "device node " + paths_.dev("davinci" + device.id).string() + " is missing";
}

std::shared_ptr<const Inventory> AscendPlugin::make_inventory(std::vector<Device> devices) const {
  std::vector<std::string> control;
  for (const auto& node : control_nodes()) control.push_back(paths_.dev(node).string());
  return std::make_shared<AscendInventory>(std::move(devices), chip_name(), std::move(control));
}

}  // namespace duet::deviceplugin
