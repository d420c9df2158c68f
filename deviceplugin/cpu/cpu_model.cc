#include "deviceplugin/cpu/cpu_model.h"

#include <cstdio>
#include <sstream>

#include "deviceplugin/host_files.h"

namespace duet::deviceplugin {

namespace {

std::string hex(long long value) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", value);
  return buf;
}

std::string arm_core_name(long long part) {
  static const std::map<long long, const char*> cores = {
      {0xd03, "Cortex-A53"},  {0xd05, "Cortex-A55"},  {0xd07, "Cortex-A57"},
      {0xd08, "Cortex-A72"},  {0xd09, "Cortex-A73"},  {0xd0a, "Cortex-A75"},
      {0xd0b, "Cortex-A76"},  {0xd0c, "Neoverse-N1"}, {0xd0d, "Cortex-A77"},
      {0xd40, "Neoverse-V1"}, {0xd41, "Cortex-A78"},  {0xd44, "Cortex-X1"},
      {0xd46, "Cortex-A510"}, {0xd47, "Cortex-A710"}, {0xd48, "Cortex-X2"},
      {0xd49, "Neoverse-N2"}, {0xd4a, "Neoverse-E1"}, {0xd4f, "Neoverse-V2"},
      {0xd84, "Neoverse-V3"}, {0xd8e, "Neoverse-N3"}};
  auto it = cores.find(part);
  return it == cores.end() ? "core " + hex(part) : it->second;
}

// One processor block of /proc/cpuinfo, as far as naming goes.
struct Block {
  int processor = -1;
  std::string vendor_id, model_name;
  long long implementer = -1, part = -1;

  bool empty() const { return vendor_id.empty() && model_name.empty() && implementer < 0; }

  CpuModel model() const {
    if (implementer >= 0 && part >= 0) return arm_cpu_model(implementer, part);
    return {vendor_id, model_name.empty() ? vendor_id : model_name};
  }
};

void read_line(Block& b, const std::string& line) {
  if (auto v = field_value(line, "processor")) {
    if (auto n = parse_integer(*v)) b.processor = static_cast<int>(*n);
  } else if (auto v = field_value(line, "vendor_id")) {
    b.vendor_id = *v;
  } else if (auto v = field_value(line, "model name")) {
    b.model_name = *v;
  } else if (auto v = field_value(line, "CPU implementer")) {
    b.implementer = parse_integer(*v).value_or(-1);
  } else if (auto v = field_value(line, "CPU part")) {
    b.part = parse_integer(*v).value_or(-1);
  }
}

}  // namespace

CpuModel arm_cpu_model(long long implementer, long long part) {
  switch (implementer) {
    case 0x48:
      if (part == 0xd01) return {"HiSilicon", "HiSilicon Kunpeng 920"};
      return {"HiSilicon", "HiSilicon CPU part " + hex(part)};
    case 0x70:
      // FTC660..FTC663: FT-1500A, FT-2000+/64, S2500 and their kin.
      if (part >= 0x660 && part <= 0x663) {
        char name[32];
        std::snprintf(name, sizeof name, "Phytium FTC%llx", part);
        return {"Phytium", name};
      }
      return {"Phytium", "Phytium CPU part " + hex(part)};
    case 0x41:
      return {"Arm", "Arm " + arm_core_name(part)};
    default:
      return {"implementer " + hex(implementer),
              "ARM implementer " + hex(implementer) + " part " + hex(part)};
  }
}

std::map<int, CpuModel> parse_cpuinfo(const std::string& text) {
  std::map<int, CpuModel> models;
  CpuModel last;  // some kernels name the CPU once, not in every block
  Block block;
  auto flush = [&] {
    if (!block.empty()) last = block.model();
    if (block.processor >= 0) models[block.processor] = block.empty() ? last : block.model();
    block = Block{};
  };
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (trim(line).empty()) {
      flush();
      continue;
    }
    read_line(block, line);
  }
  flush();
  for (auto& [cpu, model] : models)
    if (model.name.empty()) model = last;
  return models;
}

}  // namespace duet::deviceplugin
