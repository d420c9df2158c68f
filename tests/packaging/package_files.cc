#include "packaging/package_files.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>

namespace duet::test {

std::filesystem::path source_path(const std::string& rel) {
  return std::filesystem::path(DUET_SOURCE_DIR) / rel;
}

std::vector<std::string> example_manifests() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(source_path("manifests/examples")))
    if (entry.path().extension() == ".yaml") names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

const std::vector<std::string>& packaged_programs() {
  static const std::vector<std::string> programs = {"duetd", "duet-router", "duetctl",
                                                    "duet-devices", "duet-kubelet-plugin",
                                                    "duet-sim"};
  return programs;
}

std::vector<std::string> UnitFile::values(const std::string& section, const std::string& key) const {
  std::vector<std::string> out;
  auto it = sections.find(section);
  if (it == sections.end()) return out;
  for (const auto& [k, v] : it->second)
    if (k == key) out.push_back(v);
  return out;
}

UnitFile parse_unit(const std::string& text) {
  UnitFile unit;
  std::istringstream in(text);
  std::string line, section;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = line.substr(1, line.size() - 2);
      continue;
    }
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    unit.sections[section].emplace_back(line.substr(0, eq), line.substr(eq + 1));
  }
  return unit;
}

std::string program_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(std::string(path ? path : "") + ":/usr/sbin:/sbin:/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty()) continue;
    auto candidate = std::filesystem::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return {};
}

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

}  // namespace duet::test
