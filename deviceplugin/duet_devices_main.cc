// duet-devices: shows what duet's device plugins see on this host (or under fake roots), and
// which source each plugin used and why. A diagnostic: exits 0 even when there are no devices.

#include <cstdio>
#include <cstring>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <string>

#include "deviceplugin/device_report.h"
#include "deviceplugin/registry.h"
#include "duet/common/log.h"
#include "duet/common/standard_flags.h"

namespace {

using namespace duet::deviceplugin;

constexpr const char* kUsage =
    "usage: duet-devices [--json] [--handler ascend|nvidia|mlu|cpu]\n"
    "                    [--dev-root DIR] [--sys-root DIR] [--proc-root DIR]\n"
    "                    [--ascend-chip NAME] [--dcmi-library PATH] [--nvml-library PATH]\n"
    "                    [--cndev-library PATH] [--log-level debug|info|warn|error]\n";

struct Flags {
  RegistryOptions options;
  bool json = false;
  std::string handler;
  std::optional<std::string> log_level;
};

// Accepts "--flag value" and "--flag=value". Returns false (after a message) on bad input.
bool parse(int argc, char** argv, Flags& flags) {
  auto& o = flags.options;
  const std::map<std::string, std::function<void(const std::string&)>> setters = {
      {"--dev-root", [&](const std::string& v) { o.paths.dev_root = v; }},
      {"--sys-root", [&](const std::string& v) { o.paths.sys_root = v; }},
      {"--proc-root", [&](const std::string& v) { o.paths.proc_root = v; }},
      {"--handler", [&](const std::string& v) { flags.handler = v; }},
      {"--ascend-chip", [&](const std::string& v) { o.ascend.chip_hint = v; }},
      {"--dcmi-library", [&](const std::string& v) { o.ascend.dcmi_libraries = {v}; }},
      {"--nvml-library", [&](const std::string& v) { o.nvidia.nvml_libraries = {v}; }},
      {"--cndev-library", [&](const std::string& v) { o.mlu.cndev_libraries = {v}; }},
      {"--log-level", [&](const std::string& v) { flags.log_level = v; }},
  };
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::optional<std::string> value;
    if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg.resize(eq);
    }
    if (arg == "--json" && !value) {
      flags.json = true;
      continue;
    }
    auto setter = setters.find(arg);
    if (setter == setters.end()) {
      std::cerr << "duet-devices: unknown flag " << arg << "\n" << kUsage;
      return false;
    }
    if (!value && i + 1 < argc) value = argv[++i];
    if (!value) {
      std::cerr << "duet-devices: " << arg << " needs a value\n" << kUsage;
      return false;
    }
    setter->second(*value);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (auto done = duet::answer_standard_flags(argc, argv, "duet-devices", kUsage)) return *done;
  for (int i = 1; i < argc; ++i)
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      std::cout << kUsage;
      return 0;
    }
  Flags flags;
  if (!parse(argc, argv, flags)) return 2;
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
