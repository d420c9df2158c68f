#pragma once
// The mlu handler: Cambricon MLUs (/dev/cambricon_devN with /dev/cambricon_ctl), with model
// and health from libcndev.so when it loads, from the device nodes alone otherwise.

#include <memory>
#include <string>
#include <vector>

#include "deviceplugin/mlu/cndev.h"
#include "deviceplugin/mlu/mlu_inventory.h"
#include "deviceplugin/paths.h"
#include "deviceplugin/scanning_plugin.h"

namespace duet::deviceplugin {

struct MluOptions {
  std::vector<std::string> cndev_libraries = {"libcndev.so",
                                              "/usr/local/neuware/lib64/libcndev.so"};
};

class MluPlugin : public ScanningPlugin {
 public:
  MluPlugin(HostPaths paths, MluOptions options);

  // DevicePlugin
  DiscoverySource source() const override;

 protected:
  // ScanningPlugin
  std::vector<Device> scan() override;
  std::string missing_reason(const Device& device) const override;
  std::shared_ptr<const Inventory> make_inventory(std::vector<Device> devices) const override;

 private:
  void load_cndev(bool have_nodes);

  HostPaths paths_;
  MluOptions options_;
  std::unique_ptr<Cndev> cndev_;
  bool cndev_tried_ = false;
  std::string cndev_error_;
};

}  // namespace duet::deviceplugin
