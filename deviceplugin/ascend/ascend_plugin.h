#pragma once
// The ascend handler: Huawei Ascend NPUs (/dev/davinciN), described by DCMI when libdcmi.so
// loads and by the device nodes alone otherwise; 910 boards placed by HCCS ring.

#include <memory>
#include <string>
#include <vector>

#include "deviceplugin/ascend/ascend_inventory.h"
#include "deviceplugin/ascend/dcmi.h"
#include "deviceplugin/paths.h"
#include "deviceplugin/scanning_plugin.h"

namespace duet::deviceplugin {

struct AscendOptions {
  // Tried in order: the loader path first (as Huawei's own tools do), then where the driver
  // package installs it, since that folder is rarely on the loader path of a system service.
  std::vector<std::string> dcmi_libraries = {"libdcmi.so",
                                             "/usr/local/Ascend/driver/lib64/driver/libdcmi.so",
                                             "/usr/local/dcmi/libdcmi.so"};
  // The chip to assume when DCMI is unavailable ("910B"); empty: unknown, no 910 rules.
  std::string chip_hint;
};

class AscendPlugin : public ScanningPlugin {
 public:
  AscendPlugin(HostPaths paths, AscendOptions options);

  // DevicePlugin
  DiscoverySource source() const override;

  // The control nodes every Ascend process opens besides its davinciN.
  static const std::vector<std::string>& control_nodes();

 protected:
  // ScanningPlugin
  std::vector<Device> scan() override;
  std::string missing_reason(const Device& device) const override;
  std::shared_ptr<const Inventory> make_inventory(std::vector<Device> devices) const override;

 private:
  void load_dcmi(bool have_nodes);
  std::string chip_name() const;
  std::string control_problem() const;
  Device device_for(int phys_id, int logical_id, const DcmiChip* chip) const;

  HostPaths paths_;
  AscendOptions options_;
  std::unique_ptr<Dcmi> dcmi_;
  bool dcmi_tried_ = false;
  std::string dcmi_error_;
  std::string last_chip_name_;  // from DCMI's last scan
};

}  // namespace duet::deviceplugin
