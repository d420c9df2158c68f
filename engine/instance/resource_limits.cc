#include "engine/instance/resource_limits.h"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "duet/common/file_text.h"
#include "engine/instance/replica_cgroup.h"

namespace duet::engine {

namespace {

bool exists(const std::string& path) { return std::ifstream(path).good(); }

void write_limit(const std::string& what, const std::string& path, const std::string& value) {
  if (!write_knob(path, value))
    throw std::runtime_error("resources.limits." + what + ": cannot write " + path +
                             " (no " + what + " controller duetd can use there)");
}

}  // namespace

uint64_t parse_byte_quantity(std::string_view text) {
  uint64_t number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || end == text.data())
    throw std::invalid_argument("expected a number of bytes with an optional unit (512Mi, 64Gi, 1G), got \"" +
                                std::string(text) + "\"");
  std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  static const std::pair<std::string_view, uint64_t> kUnits[] = {
      {"", 1},
      {"k", 1000ull},           {"K", 1000ull},
      {"M", 1000ull * 1000},    {"G", 1000ull * 1000 * 1000},
      {"T", 1000ull * 1000 * 1000 * 1000},
      {"Ki", 1ull << 10},       {"Mi", 1ull << 20},
      {"Gi", 1ull << 30},       {"Ti", 1ull << 40}};
  for (const auto& [name, factor] : kUnits) {
    if (unit != name) continue;
    if (number > UINT64_MAX / factor)
      throw std::invalid_argument("\"" + std::string(text) + "\" is too large");
    return number * factor;
  }
  throw std::invalid_argument("unknown unit \"" + std::string(unit) + "\" in \"" + std::string(text) +
                              "\": expected Ki, Mi, Gi, Ti, k, M, G or T");
}

void apply_limits(const LimitFolders& folders, const ResourceLimits& limits) {
  for (const auto& [controller, folder] : folders.v1) {
    create_cgroup(std::filesystem::path(folder).parent_path().string());  // the v1 root
    create_cgroup(folder);
  }
  if (limits.memory_bytes) {
    auto folder = folders.of("memory");
    if (folder.empty()) throw std::runtime_error("resources.limits.memory: the replica has no cgroup");
    auto bytes = std::to_string(*limits.memory_bytes);
    if (folders.v1.count("memory")) {
      // memsw (memory + swap) must stay >= the memory limit: raise it last, lower it first.
      std::string memsw = folder + "/memory.memsw.limit_in_bytes";
      bool has_memsw = exists(memsw);
      if (has_memsw) write_knob(memsw, bytes);
      write_limit("memory", folder + "/memory.limit_in_bytes", bytes);
      if (has_memsw) write_limit("memory", memsw, bytes);
    } else {
      write_limit("memory", folder + "/memory.max", bytes);
      if (exists(folder + "/memory.swap.max")) write_limit("memory", folder + "/memory.swap.max", "0");
    }
  }
  if (limits.pids) {
    auto folder = folders.of("pids");
    if (folder.empty()) throw std::runtime_error("resources.limits.pids: the replica has no cgroup");
    write_limit("pids", folder + "/pids.max", std::to_string(*limits.pids));
  }
}

uint64_t oom_kills(const LimitFolders& folders) {
  auto folder = folders.of("memory");
  if (folder.empty()) return 0;
  auto file = folder + (folders.v1.count("memory") ? "/memory.oom_control" : "/memory.events");
  std::istringstream in(read_text_file(file).value_or(""));
  std::string key;
  for (uint64_t value; in >> key >> value;)
    if (key == "oom_kill") return value;
  return 0;
}

}  // namespace duet::engine
