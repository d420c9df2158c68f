#include "deviceplugin/kubelet/vendor_runtime.h"

#include <system_error>

namespace duet::deviceplugin::kubelet {

namespace {

// Ascend: what Huawei's device plugin mounts where Ascend's own container runtime does not,
// so that CANN in the image finds the driver's libraries and npu-smi works. NVIDIA: nothing;
// the NVIDIA container toolkit mounts the driver from NVIDIA_VISIBLE_DEVICES (or CDI), and a
// plugin mount would fight it. Cambricon: cnmon, as Cambricon's plugin mounts it.
std::vector<std::string> driver_paths(const std::string& handler) {
  if (handler == "ascend")
    return {"/usr/local/Ascend/driver", "/usr/local/dcmi", "/usr/local/bin/npu-smi",
            "/etc/ascend_install.info"};
  if (handler == "mlu") return {"/usr/bin/cnmon"};
  return {};
}

}  // namespace

VendorRuntime vendor_runtime(const std::string& handler, const VendorRuntimeOptions& options) {
  VendorRuntime runtime;
  if (options.driver_mounts) {
    for (const auto& path : driver_paths(handler)) {
      // Looked for where the plugin sees the host's root; kubelet gets the host's own path.
      auto seen = options.driver_root / std::filesystem::path(path).relative_path();
      std::error_code ec;
      if (std::filesystem::exists(seen, ec)) runtime.mounts.push_back({path, path});
    }
  }
  // Only NVIDIA defines CDI names (nvidia-ctk cdi generate); off by default, since a CDI name
  // without a generated spec on the node fails the container.
  if (options.cdi && handler == "nvidia") runtime.cdi_kind = "nvidia.com/gpu";
  return runtime;
}

}  // namespace duet::deviceplugin::kubelet
