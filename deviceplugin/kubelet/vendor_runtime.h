#pragma once
// What each vendor's container runtime expects besides the device nodes and env of an
// Allocation: driver folders bind-mounted read-only, and CDI device names where the vendor
// defines them.

#include <filesystem>
#include <string>
#include <vector>

namespace duet::deviceplugin::kubelet {

struct DriverMount {
  std::string host_path;       // where it is on the host (kubelet's runtime mounts from there)
  std::string container_path;  // where the container sees it
};

struct VendorRuntime {
  std::vector<DriverMount> mounts;  // only those present on the host
  std::string cdi_kind;             // "nvidia.com/gpu"; empty: no CDI names
};

struct VendorRuntimeOptions {
  // Where the plugin sees the host's / (a DaemonSet mounts it at /host): driver folders are
  // looked for under it, and reported to kubelet by their path on the host.
  std::filesystem::path driver_root = "/";
  bool driver_mounts = true;
  bool cdi = false;
};

// The runtime needs of `handler` ("ascend", "nvidia", "mlu") on this host.
VendorRuntime vendor_runtime(const std::string& handler, const VendorRuntimeOptions& options);

}  // namespace duet::deviceplugin::kubelet
