// duet-devices: shows what duet's device plugins see on this host (or under fake roots), and
// which source each plugin used and why. A diagnostic: exits 0 even when there are no devices.

#include <iostream>
#include <optional>
#include <string>

#include "deviceplugin/device_report.h"
#include "deviceplugin/registry.h"
#include "deviceplugin/registry_flags.h"
#include "duet/common/log.h"
#include "duet/common/standard_flags.h"

namespace {

using namespace duet::deviceplugin;

constexpr const char* kUsage =
    "usage: duet-devices [--json] [--handler ascend|nvidia|mlu|cpu]\n"
    "                    [--dev-root DIR] [--sys-root DIR] [--proc-root DIR]\n"
    "                    [--ascend-chip NAME] [--dcmi-library PATH] [--nvml-library PATH]\n"
    "                    [--cndev-library PATH] [--log-level debug|info|warn|error]\n";

namespace po = boost::program_options;

struct Flags {
  RegistryOptions options;
  bool json = false;
  bool help = false;
  std::string handler;
  std::optional<std::string> log_level;
};

Flags parse(const std::vector<std::string>& args) {
  Flags flags;
  po::options_description description;
  add_registry_flags(description, flags.options);
  // clang-format off
  description.add_options()
      ("json", po::bool_switch(&flags.json))
      ("help,h", po::bool_switch(&flags.help))
      ("handler", po::value(&flags.handler))
      ("log-level", po::value<std::string>()->notifier([&](const std::string& v) {
         flags.log_level = v;
       }));
  // clang-format on
  auto given = duet::parse_flags(args, description);
  po::notify(given.values);
  return flags;
}

}  // namespace

int main(int argc, char** argv) {
  if (auto done = duet::answer_standard_flags(argc, argv, "duet-devices", kUsage)) return *done;
  Flags flags;
  try {
    flags = parse(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const duet::UsageError& e) {
    std::cerr << "duet-devices: " << e.what() << "\n" << kUsage;
    return 2;
  }
  if (flags.help) {
    std::cout << kUsage;
    return 0;
  }
  try {
    // With --json the same facts (source and why) are in the output; keep stderr for errors.
    duet::Logger::set_min_level(
        duet::Logger::parse_level(flags.log_level.value_or(flags.json ? "error" : "info")));
  } catch (const std::exception& e) {
    std::cerr << "duet-devices: " << e.what() << "\n";
    return 2;
  }
  Registry registry(std::move(flags.options));
  if (!flags.handler.empty() && !registry.plugin(flags.handler)) {
    std::cerr << "duet-devices: unknown handler \"" << flags.handler << "\"\n" << kUsage;
    return 2;
  }
  std::vector<PluginReport> reports;
  for (const auto& plugin : registry.plugins()) {
    if (!flags.handler.empty() && plugin->handler() != flags.handler) continue;
    auto devices = plugin->discover();
    reports.push_back({std::string(plugin->handler()), plugin->source(), std::move(devices)});
  }
  std::cout << (flags.json ? render_json(reports) : render_table(reports)) << std::flush;
  return 0;
}
