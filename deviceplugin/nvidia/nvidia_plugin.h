#pragma once
// The nvidia handler: GPUs from NVML when libnvidia-ml.so.1 loads (health from XID events),
// else from /dev/nvidiaN and /proc/driver/nvidia; NVLink and PCIe locality used to place.

#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "deviceplugin/nvidia/nvidia_inventory.h"
#include "deviceplugin/nvidia/nvml.h"
#include "deviceplugin/paths.h"
#include "deviceplugin/scanning_plugin.h"

namespace duet::deviceplugin {

struct NvidiaOptions {
  std::vector<std::string> nvml_libraries = {"libnvidia-ml.so.1"};
  // XIDs caused by the application, not the GPU (NVIDIA's device plugin skips the same ones):
  // 13 graphics engine exception, 31 GPU memory page fault, 43 GPU stopped processing,
  // 45 preemptive cleanup, 68 video processor exception, 109 context switch timeout.
  std::set<unsigned long long> ignored_xids = {13, 31, 43, 45, 68, 109};
};

class NvidiaPlugin : public ScanningPlugin {
 public:
  NvidiaPlugin(HostPaths paths, NvidiaOptions options);

  // DevicePlugin
  DiscoverySource source() const override;

 protected:
  // ScanningPlugin
  std::vector<Device> scan() override;
  std::string missing_reason(const Device& device) const override;
  std::shared_ptr<const Inventory> make_inventory(std::vector<Device> devices) const override;

 private:
  void load_nvml(bool have_nodes);
  std::vector<Device> scan_nvml();
  std::vector<Device> scan_procfs();
  Device gpu_device(const std::string& uuid, int minor, const std::string& model,
                    const std::string& bus_id) const;
  void note_xids();
  void add_node_health(std::vector<Device>& devices) const;
  void update_affinity(const std::vector<Device>& devices,
                       const std::map<std::string, nvml::Device>& handles);
  // Sets each GPU's `peers` attribute: "1:NV 2:SYS", its link to every other GPU by index.
  void describe_peers(std::vector<Device>& devices) const;

  HostPaths paths_;
  NvidiaOptions options_;
  std::unique_ptr<Nvml> nvml_;
  bool nvml_tried_ = false;
  std::string nvml_error_;
  std::map<std::string, std::string> xid_marks_;  // uuid -> reason; sticky until the GPU is lost
  std::string all_xid_mark_;                      // an XID NVML could not pin on one GPU
  std::vector<std::string> shared_nodes_;         // nvidiactl, nvidia-uvm... present last scan
  std::set<std::string> affinity_ids_;            // the device set affinity_ was computed for
  GpuAffinity affinity_;
  std::map<std::string, std::string> peers_;  // id -> "1:NV 2:SYS", with affinity_
};

}  // namespace duet::deviceplugin
