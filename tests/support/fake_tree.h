#pragma once
// A fake host for the device plugins: dev/, sys/ and proc/ folders in a temporary directory,
// with helpers that lay down what a driver would (davinci nodes, /proc/driver/nvidia, cpus).

#include <filesystem>
#include <string>
#include <vector>

#include "deviceplugin/paths.h"
#include "support/temp_dir.h"

namespace duet::test {

struct FakeGpu {
  int minor = 0;
  std::string uuid;
  std::string model = "NVIDIA H100 80GB HBM3";
  std::string bus_id;                // "0000:00:06.0"
  int numa_node = -1;                // written to sysfs when >= 0
  std::vector<std::string> bridges;  // PCI bridges above it, below the host bridge
  std::string host_bridge = "pci0000:00";
};

struct FakeCpus {
  int nodes = 1;
  int cpus_per_node = 4;
  int threads_per_core = 1;  // SMT siblings are consecutive cpus
  std::string cpuinfo;
};

class FakeTree {
 public:
  FakeTree();

  deviceplugin::HostPaths paths() const;
  const std::filesystem::path& root() const { return dir_.path(); }

  // `rel` is relative to the root, e.g. "dev/davinci0". Parents are created.
  void write(const std::string& rel, const std::string& content = "");
  void remove(const std::string& rel);
  std::string path(const std::string& rel) const { return (dir_.path() / rel).string(); }

  // /dev/davinci0..count-1, and davinci_manager, devmm_svm, hisi_hdc when `control`.
  void add_ascend(int count, bool control = true);
  // /dev/nvidiaN, /proc/driver/nvidia/gpus/<bus>/information, sysfs numa_node and PCI link.
  void add_nvidia_gpu(const FakeGpu& gpu);
  // /dev/nvidiactl and /dev/nvidia-uvm.
  void add_nvidia_control();
  // /dev/cambricon_dev0..count-1 and /dev/cambricon_ctl when `control`.
  void add_cambricon(int count, bool control = true);
  // cpu/online, node*/cpulist, thread_siblings_list and /proc/cpuinfo.
  void add_cpus(const FakeCpus& cpus);

  // /proc/cpuinfo of a 2-socket Kunpeng 920 (implementer 0x48, part 0xd01).
  static std::string kunpeng_cpuinfo(int cpus);
  static std::string phytium_cpuinfo(int cpus);
  static std::string x86_cpuinfo(int cpus);

 private:
  TempDir dir_;
};

}  // namespace duet::test
