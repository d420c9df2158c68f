#pragma once
// Where the device plugins look at the host: every file they read sits under one of these
// roots, so tests (and `duet-devices --dev-root ...`) can point them at a fake tree.

#include <filesystem>
#include <string>

namespace duet::deviceplugin {

struct HostPaths {
  std::filesystem::path dev_root = "/dev";
  std::filesystem::path sys_root = "/sys";
  std::filesystem::path proc_root = "/proc";

  std::filesystem::path dev(const std::string& name) const { return dev_root / name; }
  std::filesystem::path sys(const std::string& rel) const { return sys_root / rel; }
  std::filesystem::path proc(const std::string& rel) const { return proc_root / rel; }
};

}  // namespace duet::deviceplugin
