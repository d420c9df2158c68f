#pragma once
// What the packaging tests share: the files the package ships, read from the source tree or
// an extracted package, and small parsers for systemd units.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace duet::test {

// A path in the source tree (DUET_SOURCE_DIR).
std::filesystem::path source_path(const std::string& rel);

// The example manifests, file names only, sorted (manifests/examples/*.yaml).
std::vector<std::string> example_manifests();

// The programs the package installs in /usr/bin.
const std::vector<std::string>& packaged_programs();

// A systemd unit's `Key=Value` lines by section, in file order; a key may repeat.
struct UnitFile {
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> sections;

  // Every value of `key` in `section`, in order.
  std::vector<std::string> values(const std::string& section, const std::string& key) const;
  bool has(const std::string& section, const std::string& key) const {
    return !values(section, key).empty();
  }
};
UnitFile parse_unit(const std::string& text);

// The full path of a program found on PATH (ChildProcess runs paths, it does not search);
// empty when it is not installed.
std::string program_path(const std::string& name);

// Whitespace-separated words of `text`.
std::vector<std::string> words(const std::string& text);

}  // namespace duet::test
