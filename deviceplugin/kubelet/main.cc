// duet-kubelet-plugin: duet's device plugins served to kubelet over the v1beta1 device-plugin
// API, one gRPC server per resource in kubelet's device-plugin directory.

#include <csignal>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "deviceplugin/kubelet/plugin_server.h"
#include "deviceplugin/registry_flags.h"
#include "duet/common/log.h"
#include "duet/common/standard_flags.h"

namespace {

using namespace duet::deviceplugin;
namespace po = boost::program_options;

constexpr const char* kUsage =
    "usage: duet-kubelet-plugin [--plugin-dir DIR] [--kubelet-socket PATH]\n"
    "                           [--resource NAME=HANDLER[:MODEL_PREFIX]]...\n"
    "                           [--health-interval-ms N] [--cdi] [--driver-root DIR]\n"
    "                           [--driver-mounts true|false] [--log-level LEVEL]\n"
    "                           [--dev-root DIR] [--sys-root DIR] [--proc-root DIR]\n"
    "                           [--ascend-chip NAME] [--dcmi-library PATH]\n"
    "                           [--nvml-library PATH] [--cndev-library PATH]\n"
    "resources by default: huawei.com/Ascend910=ascend:Ascend910\n"
    "  huawei.com/Ascend310P=ascend:Ascend310P nvidia.com/gpu=nvidia cambricon.com/mlu=mlu\n";

struct Flags {
  kubelet::PluginServerOptions options;
  std::vector<std::string> resources;
  long health_interval_ms = 500;
  bool help = false;
  std::string log_level = "info";
};

Flags parse(const std::vector<std::string>& args) {
  Flags flags;
  auto& o = flags.options;
  auto path = [](std::filesystem::path& to) {
    return po::value<std::string>()->notifier([&to](const std::string& v) { to = v; });
  };
  po::options_description description;
  add_registry_flags(description, o.registry);
  // clang-format off
  description.add_options()
      ("help,h", po::bool_switch(&flags.help))
      ("plugin-dir", path(o.plugin_dir))
      ("kubelet-socket", path(o.kubelet_socket))
      ("resource", po::value(&flags.resources)->composing())
      ("health-interval-ms", po::value(&flags.health_interval_ms))
      ("cdi", po::bool_switch(&o.runtime.cdi))
      ("driver-root", path(o.runtime.driver_root))
      ("driver-mounts", po::value(&o.runtime.driver_mounts))
      ("log-level", po::value(&flags.log_level));
  // clang-format on
  auto given = duet::parse_flags(args, description);
  po::notify(given.values);
  if (flags.health_interval_ms < 10 || flags.health_interval_ms > 60000)
    throw duet::UsageError("--health-interval-ms: expected 10 to 60000");
  o.health_interval = std::chrono::milliseconds(flags.health_interval_ms);
  if (!flags.resources.empty()) {
    o.resources.clear();
    try {
      for (const auto& text : flags.resources) o.resources.push_back(kubelet::parse_resource(text));
    } catch (const std::invalid_argument& e) {
      throw duet::UsageError(e.what());
    }
  }
  return flags;
}

}  // namespace

int main(int argc, char** argv) {
  if (auto done = duet::answer_standard_flags(argc, argv, "duet-kubelet-plugin", kUsage))
    return *done;
  Flags flags;
  try {
    flags = parse(std::vector<std::string>(argv + 1, argv + argc));
    duet::Logger::set_min_level(duet::Logger::parse_level(flags.log_level));
  } catch (const std::exception& e) {
    std::cerr << "duet-kubelet-plugin: " << e.what() << "\n" << kUsage;
    return 2;
  }
  if (flags.help) {
    std::cout << kUsage;
    return 0;
  }
  // Before any thread starts (gRPC's inherit the mask): the loop takes these with sigtimedwait.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return kubelet::PluginServer(std::move(flags.options)).run();
}
