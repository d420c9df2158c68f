#pragma once
// Names a CPU from /proc/cpuinfo: x86 by its `model name`, ARM by implementer and part
// (HiSilicon Kunpeng 920, Phytium FTC66x, Arm Neoverse...), since ARM kernels print no name.

#include <map>
#include <string>

namespace duet::deviceplugin {

struct CpuModel {
  std::string vendor;  // "GenuineIntel", "HiSilicon", "Phytium", "Arm"
  std::string name;    // "Intel(R) Xeon(R) Platinum 8480+", "HiSilicon Kunpeng 920"
};

// The model of every processor listed in a /proc/cpuinfo text, by processor number.
std::map<int, CpuModel> parse_cpuinfo(const std::string& text);

// The name of an ARM core from its MIDR implementer and part numbers.
CpuModel arm_cpu_model(long long implementer, long long part);

}  // namespace duet::deviceplugin
