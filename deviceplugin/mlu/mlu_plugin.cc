#include "deviceplugin/mlu/mlu_plugin.h"

#include <map>

#include "deviceplugin/host_files.h"

namespace duet::deviceplugin {

MluPlugin::MluPlugin(HostPaths paths, MluOptions options)
    : ScanningPlugin("mlu"), paths_(std::move(paths)), options_(std::move(options)) {}

DiscoverySource MluPlugin::source() const {
  if (cndev_) return {"cndev", cndev_->library()};
  if (!cndev_tried_) return {"cndev", "not loaded yet"};
  return {"devfs", "CNDEV unavailable: " + cndev_error_};
}

void MluPlugin::load_cndev(bool have_nodes) {
  cndev_tried_ = true;
  cndev_ = Cndev::load(options_.cndev_libraries, cndev_error_);
  if (!cndev_)
    report_library_unavailable(options_.cndev_libraries, cndev_error_, paths_.dev_root.string(),
                               have_nodes);
}

std::vector<Device> MluPlugin::scan() {
  auto nodes = numbered_entries(paths_.dev_root, "cambricon_dev");
  if (!cndev_tried_) load_cndev(!nodes.empty());
  std::map<int, CndevCard> cards;
  if (cndev_)
    for (auto& c : cndev_->cards()) cards[c.index] = std::move(c);
  auto ctl = paths_.dev("cambricon_ctl");
  bool have_ctl = path_exists(ctl);
  std::vector<Device> out;
  for (int n : nodes) {
    Device d;
    d.kind = "mlu";
    d.id = std::to_string(n);
    d.index = n;
    d.model = "Cambricon MLU";
    d.device_nodes.push_back(paths_.dev("cambricon_dev" + d.id).string());
    // cndev numbers cards like the driver numbers its nodes: card N is cambricon_devN.
    if (auto it = cards.find(n); it != cards.end()) {
      const auto& card = it->second;
      if (!card.name.empty()) d.model = "Cambricon " + card.name;
      if (!card.error.empty()) d.health.fail("CNDEV: " + card.error);
      if (card.health_known && !card.healthy) d.health.fail("CNDEV reports the card unhealthy");
    } else if (cndev_) {
      d.health.fail("not reported by CNDEV");
    }
    if (!have_ctl) d.health.fail("control node " + ctl.string() + " is missing");
    out.push_back(std::move(d));
  }
  return out;
}

std::string MluPlugin::missing_reason(const Device& device) const {
  return "device node " + paths_.dev("cambricon_dev" + device.id).string() + " is missing";
}

std::shared_ptr<const Inventory> MluPlugin::make_inventory(std::vector<Device> devices) const {
  return std::make_shared<MluInventory>(std::move(devices), paths_.dev("cambricon_ctl").string());
}

}  // namespace duet::deviceplugin
