#pragma once
// What sysfs says about a PCI device's place in the machine: its NUMA node and the bridges
// above it, so devices behind one PCIe switch can be placed together without a vendor library.

#include <string>
#include <vector>

#include "deviceplugin/paths.h"

namespace duet::deviceplugin {

// <sys_root>/bus/pci/devices/<bus_id>/numa_node, or -1 (unknown, or the kernel's -1).
int pci_numa_node(const HostPaths& paths, const std::string& bus_id);

// The chain from the host bridge down to (not including) the device, read from where the
// sysfs link <sys_root>/bus/pci/devices/<bus_id> points: {"pci0000:00", "0000:00:01.0",
// "0000:02:00.0", ...}. Empty when unknown.
std::vector<std::string> pci_ancestors(const HostPaths& paths, const std::string& bus_id);

// How close two devices are by PCIe and NUMA alone: 30 behind a common bridge or switch,
// 20 under the same host bridge, 10 on the same NUMA node, 0 otherwise.
int pci_affinity(const std::vector<std::string>& ancestors_a, int numa_a,
                 const std::vector<std::string>& ancestors_b, int numa_b);

}  // namespace duet::deviceplugin
