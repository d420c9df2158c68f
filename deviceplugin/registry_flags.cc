#include "deviceplugin/registry_flags.h"

#include <filesystem>
#include <string>
#include <vector>

namespace duet::deviceplugin {

namespace po = boost::program_options;

void add_registry_flags(po::options_description& description, RegistryOptions& o) {
  auto path = [](std::filesystem::path& to) {
    return po::value<std::string>()->notifier([&to](const std::string& v) { to = v; });
  };
  // One library path replaces the default search list.
  auto library = [](std::vector<std::string>& to) {
    return po::value<std::string>()->notifier([&to](const std::string& v) { to = {v}; });
  };
  // clang-format off
  description.add_options()
      ("dev-root", path(o.paths.dev_root))
      ("sys-root", path(o.paths.sys_root))
      ("proc-root", path(o.paths.proc_root))
      ("ascend-chip", po::value(&o.ascend.chip_hint))
      ("dcmi-library", library(o.ascend.dcmi_libraries))
      ("nvml-library", library(o.nvidia.nvml_libraries))
      ("cndev-library", library(o.mlu.cndev_libraries));
  // clang-format on
}

}  // namespace duet::deviceplugin
