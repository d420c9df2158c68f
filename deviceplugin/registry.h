#pragma once
// The four device plugins of a node, built from one set of host paths and options; duetd asks
// it for the plugin a RuntimeClass's handler names.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "deviceplugin/ascend/ascend_plugin.h"
#include "deviceplugin/device_plugin.h"
#include "deviceplugin/mlu/mlu_plugin.h"
#include "deviceplugin/nvidia/nvidia_plugin.h"
#include "deviceplugin/paths.h"

namespace duet::deviceplugin {

struct RegistryOptions {
  HostPaths paths;
  AscendOptions ascend;
  NvidiaOptions nvidia;  // nvidia.ignored_xids: the XIDs that do not mark a GPU unhealthy
  MluOptions mlu;
};

class Registry {
 public:
  // Builds the plugins; touches nothing on the host until a plugin's first discover().
  explicit Registry(RegistryOptions options = {});
  // Exactly these plugins (tests: plugins whose scans the test controls).
  explicit Registry(std::vector<std::unique_ptr<DevicePlugin>> plugins);

  // The plugin for `handler` ("ascend", "nvidia", "mlu", "cpu"), or nullptr when unknown.
  DevicePlugin* plugin(std::string_view handler) const;

  // Every plugin, in the order of handlers().
  const std::vector<std::unique_ptr<DevicePlugin>>& plugins() const { return plugins_; }

  // The handler names a RuntimeClass may use, for manifest validation.
  static const std::vector<std::string>& handlers();

 private:
  std::vector<std::unique_ptr<DevicePlugin>> plugins_;
};

}  // namespace duet::deviceplugin
