#include "deviceplugin/registry.h"

#include "deviceplugin/cpu/cpu_plugin.h"

namespace duet::deviceplugin {

Registry::Registry(RegistryOptions options) {
  plugins_.push_back(std::make_unique<AscendPlugin>(options.paths, std::move(options.ascend)));
  plugins_.push_back(std::make_unique<NvidiaPlugin>(options.paths, std::move(options.nvidia)));
  plugins_.push_back(std::make_unique<MluPlugin>(options.paths, std::move(options.mlu)));
  plugins_.push_back(std::make_unique<CpuPlugin>(options.paths));
}

Registry::Registry(std::vector<std::unique_ptr<DevicePlugin>> plugins)
    : plugins_(std::move(plugins)) {}

DevicePlugin* Registry::plugin(std::string_view handler) const {
  for (const auto& p : plugins_)
    if (p->handler() == handler) return p.get();
  return nullptr;
}

const std::vector<std::string>& Registry::handlers() {
  static const std::vector<std::string> names = {"ascend", "nvidia", "mlu", "cpu"};
  return names;
}

}  // namespace duet::deviceplugin
