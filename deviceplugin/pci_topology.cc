#include "deviceplugin/pci_topology.h"

#include <filesystem>
#include <system_error>

#include "deviceplugin/host_files.h"

namespace duet::deviceplugin {

namespace fs = std::filesystem;

int pci_numa_node(const HostPaths& paths, const std::string& bus_id) {
  if (bus_id.empty()) return -1;
  auto node = read_integer(paths.sys("bus/pci/devices/" + bus_id + "/numa_node"));
  return node && *node >= 0 ? static_cast<int>(*node) : -1;
}

std::vector<std::string> pci_ancestors(const HostPaths& paths, const std::string& bus_id) {
  if (bus_id.empty()) return {};
  std::error_code ec;
  fs::path link = paths.sys("bus/pci/devices/" + bus_id);
  fs::path target = fs::read_symlink(link, ec);
  if (ec) return {};
  // The link is relative ("../../../devices/pci0000:00/0000:00:01.0/0000:02:00.0"); only its
  // components matter, so it need not be resolved against the (possibly fake) root.
  std::vector<std::string> chain;
  bool in_devices = false;
  for (const auto& part : target) {
    std::string name = part.string();
    if (name == "devices") {
      in_devices = true;
      continue;
    }
    if (in_devices) chain.push_back(name);
  }
  if (!chain.empty() && chain.back() == bus_id) chain.pop_back();
  return chain;
}

int pci_affinity(const std::vector<std::string>& a, int numa_a, const std::vector<std::string>& b,
                 int numa_b) {
  std::size_t common = 0;
  while (common < a.size() && common < b.size() && a[common] == b[common]) ++common;
  if (common >= 2) return 30;  // host bridge plus at least one shared bridge or switch port
  if (common == 1) return 20;
  if (numa_a >= 0 && numa_a == numa_b) return 10;
  return 0;
}

}  // namespace duet::deviceplugin
