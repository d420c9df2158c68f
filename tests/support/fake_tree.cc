#include "support/fake_tree.h"

#include <fstream>
#include <stdexcept>

#include "deviceplugin/host_files.h"

namespace duet::test {

namespace fs = std::filesystem;

FakeTree::FakeTree() {
  for (const char* d : {"dev", "sys", "proc"}) fs::create_directories(dir_.path() / d);
}

deviceplugin::HostPaths FakeTree::paths() const {
  return {dir_.path() / "dev", dir_.path() / "sys", dir_.path() / "proc"};
}

void FakeTree::write(const std::string& rel, const std::string& content) {
  auto p = dir_.path() / rel;
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

void FakeTree::remove(const std::string& rel) { fs::remove_all(dir_.path() / rel); }

void FakeTree::add_ascend(int count, bool control) {
  for (int i = 0; i < count; ++i) write("dev/davinci" + std::to_string(i));
  if (control)
    for (const char* node : {"davinci_manager", "devmm_svm", "hisi_hdc"})
      write(std::string("dev/") + node);
}

void FakeTree::add_nvidia_gpu(const FakeGpu& gpu) {
  write("dev/nvidia" + std::to_string(gpu.minor));
  write("proc/driver/nvidia/gpus/" + gpu.bus_id + "/information",
        "Model: \t\t " + gpu.model + "\nIRQ:   \t\t 38\nGPU UUID: \t " + gpu.uuid +
            "\nVideo BIOS: \t 96.00.99.00.01\nBus Type: \t PCIe\nDMA Size: \t 52 bits\n"
            "DMA Mask: \t 0xfffffffffffff\nBus Location: \t " +
            gpu.bus_id + "\nDevice Minor: \t " + std::to_string(gpu.minor) +
            "\nGPU Excluded:\t No\n");
  // sysfs: the real device folder under devices/pci0000:00/<bridges>/<bus>, linked from
  // bus/pci/devices/<bus> the way the kernel does.
  std::string rel = "sys/devices/" + gpu.host_bridge;
  for (const auto& b : gpu.bridges) rel += "/" + b;
  rel += "/" + gpu.bus_id;
  write(rel + "/numa_node", std::to_string(gpu.numa_node) + "\n");
  fs::create_directories(dir_.path() / "sys/bus/pci/devices");
  fs::path target = "../../.." / fs::path(rel).lexically_relative("sys");
  fs::create_symlink(target, dir_.path() / "sys/bus/pci/devices" / gpu.bus_id);
}

void FakeTree::add_nvidia_control() {
  write("dev/nvidiactl");
  write("dev/nvidia-uvm");
}

void FakeTree::add_cambricon(int count, bool control) {
  for (int i = 0; i < count; ++i) write("dev/cambricon_dev" + std::to_string(i));
  if (control) write("dev/cambricon_ctl");
}

void FakeTree::add_cpus(const FakeCpus& c) {
  int total = c.nodes * c.cpus_per_node;
  write("sys/devices/system/cpu/online", "0-" + std::to_string(total - 1) + "\n");
  for (int n = 0; n < c.nodes; ++n) {
    int first = n * c.cpus_per_node;
    write("sys/devices/system/node/node" + std::to_string(n) + "/cpulist",
          std::to_string(first) + "-" + std::to_string(first + c.cpus_per_node - 1) + "\n");
  }
  for (int cpu = 0; cpu < total; ++cpu) {
    int core = cpu - cpu % c.threads_per_core;
    std::vector<int> siblings;
    for (int t = 0; t < c.threads_per_core; ++t) siblings.push_back(core + t);
    write("sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/thread_siblings_list",
          deviceplugin::format_cpu_list(siblings) + "\n");
  }
  write("proc/cpuinfo", c.cpuinfo);
}

namespace {

std::string arm_cpuinfo(int cpus, const char* implementer, const char* part) {
  std::string text;
  for (int i = 0; i < cpus; ++i)
    text += "processor\t: " + std::to_string(i) +
            "\nBogoMIPS\t: 200.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32\n"
            "CPU implementer\t: " +
            implementer +
            "\nCPU architecture: 8\nCPU variant\t: 0x1\n"
            "CPU part\t: " +
            part + "\nCPU revision\t: 0\n\n";
  return text;
}

}  // namespace

std::string FakeTree::kunpeng_cpuinfo(int cpus) { return arm_cpuinfo(cpus, "0x48", "0xd01"); }

std::string FakeTree::phytium_cpuinfo(int cpus) { return arm_cpuinfo(cpus, "0x70", "0x662"); }

std::string FakeTree::x86_cpuinfo(int cpus) {
  std::string text;
  for (int i = 0; i < cpus; ++i)
    text += "processor\t: " + std::to_string(i) +
            "\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 143\n"
            "model name\t: Intel(R) Xeon(R) Platinum 8480+\nstepping\t: 8\n"
            "physical id\t: " +
            std::to_string(i / (cpus / 2 > 0 ? cpus / 2 : 1)) +
            "\nflags\t\t: fpu vme de pse tsc msr\n\n";
  return text;
}

}  // namespace duet::test
