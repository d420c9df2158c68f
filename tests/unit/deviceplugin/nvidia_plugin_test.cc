// The nvidia plugin without NVML: /dev/nvidiaN and /proc/driver/nvidia/gpus/*/information.
#include "deviceplugin/nvidia/nvidia_plugin.h"

#include <dlfcn.h>
#include <gmock/gmock.h>

#include "deviceplugin/nvidia/procfs_gpus.h"
#include "support/fake_tree.h"

namespace duet::deviceplugin {
namespace {

using testing::HasSubstr;

const std::string kUuid0 = "GPU-e7072a4b-8f5e-4c2d-9a1b-0c3d5e7f9a01";
const std::string kUuid1 = "GPU-1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9";

NvidiaOptions without_nvml() {
  NvidiaOptions o;
  o.nvml_libraries = {"/nonexistent/libnvidia-ml.so.1"};
  return o;
}

class NvidiaProcfsTest : public testing::Test {
 protected:
  NvidiaProcfsTest() {
    tree_.add_nvidia_control();
    tree_.add_nvidia_gpu({0, kUuid0, "NVIDIA H100 80GB HBM3", "0000:00:06.0", 0, {}});
    tree_.add_nvidia_gpu({1, kUuid1, "NVIDIA H100 80GB HBM3", "0000:00:07.0", 1, {}});
  }

  test::FakeTree tree_;
};

TEST(ProcfsGpus, ParsesTheDriverInformationFile) {
  auto gpu = parse_gpu_information(
      "Model: \t\t NVIDIA H100 80GB HBM3\nIRQ:   \t\t 38\nGPU UUID: \t GPU-e707\n"
      "Bus Location: \t 0000:00:06.0\nDevice Minor: \t 3\n",
      "0000:00:06.0");
  EXPECT_EQ(gpu.model, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(gpu.uuid, "GPU-e707");
  EXPECT_EQ(gpu.pci_bus_id, "0000:00:06.0");
  EXPECT_EQ(gpu.minor, 3);
}

TEST_F(NvidiaProcfsTest, DiscoversGpusFromProcfsAndSaysWhyOnce) {
  NvidiaPlugin plugin(tree_.paths(), without_nvml());
  testing::internal::CaptureStderr();
  auto devices = plugin.discover();
  plugin.check_health();
  plugin.check_health();
  std::string log = testing::internal::GetCapturedStderr();

  ASSERT_EQ(devices.size(), 2u);
  const auto& d = devices[1];
  EXPECT_EQ(d.kind, "nvidia");
  EXPECT_EQ(d.id, kUuid1);
  EXPECT_EQ(d.uuid, kUuid1);
  EXPECT_EQ(d.index, 1);
  EXPECT_EQ(d.model, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(d.pci_bus_id, "0000:00:07.0");
  EXPECT_EQ(d.numa_node, 1);
  EXPECT_EQ(d.memory_bytes, 0u);  // procfs does not say
  EXPECT_TRUE(d.health.ok()) << d.health.reason;
  EXPECT_EQ(d.device_nodes, std::vector<std::string>{tree_.path("dev/nvidia1")});

  EXPECT_EQ(plugin.source().name, "procfs");
  EXPECT_THAT(plugin.source().detail, HasSubstr("/nonexistent/libnvidia-ml.so.1"));
  EXPECT_THAT(log, HasSubstr("level=warn component=deviceplugin event=vendor_library_unavailable "
                             "library=/nonexistent/libnvidia-ml.so.1 error=\"/nonexistent/"
                             "libnvidia-ml.so.1: cannot open shared object file: No such file or "
                             "directory\" fallback=" +
                             tree_.path("proc/driver/nvidia")));
  EXPECT_EQ(log.find("vendor_library_unavailable"), log.rfind("vendor_library_unavailable"));
}

// The default library name, as shipped: on a host without NVML (like CI) the fallback logs
// exactly this line.
TEST_F(NvidiaProcfsTest, DefaultLibraryNameIsNamedInTheLogLine) {
  if (void* real = ::dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL)) {
    ::dlclose(real);
    GTEST_SKIP() << "this host has NVML";
  }
  NvidiaPlugin plugin(tree_.paths(), NvidiaOptions{});
  testing::internal::CaptureStderr();
  plugin.discover();
  std::string log = testing::internal::GetCapturedStderr();
  EXPECT_THAT(log, HasSubstr("event=vendor_library_unavailable library=libnvidia-ml.so.1 "
                             "error=\"libnvidia-ml.so.1: cannot open shared object file"));
  EXPECT_THAT(log, HasSubstr("fallback=" + tree_.path("proc/driver/nvidia")));
}

TEST_F(NvidiaProcfsTest, AllocationNamesGpusByUuid) {
  NvidiaPlugin plugin(tree_.paths(), without_nvml());
  plugin.discover();
  auto result = plugin.allocate(1, {kUuid1});
  ASSERT_TRUE(result) << result.reason;
  const auto& a = *result.allocation;
  EXPECT_EQ(a.device_ids, std::vector<std::string>{kUuid1});
  EXPECT_EQ(a.env.at("CUDA_VISIBLE_DEVICES"), kUuid1);
  EXPECT_EQ(a.env.at("NVIDIA_VISIBLE_DEVICES"), kUuid1);
  EXPECT_EQ(a.device_nodes,
            (std::vector<std::string>{tree_.path("dev/nvidia-uvm"), tree_.path("dev/nvidia1"),
                                      tree_.path("dev/nvidiactl")}));
  EXPECT_EQ(a.numa_node, 1);

  auto both = plugin.allocate(2, {kUuid0, kUuid1});
  ASSERT_TRUE(both);
  EXPECT_EQ(both.allocation->env.at("CUDA_VISIBLE_DEVICES"), kUuid0 + "," + kUuid1);
  EXPECT_EQ(both.allocation->numa_node, -1);
  EXPECT_EQ(plugin.allocate(3, {kUuid0, kUuid1}).reason,
            "insufficient nvidia devices: need 3, free 2");
}

TEST_F(NvidiaProcfsTest, HealthFollowsNodesAndTheDriverListing) {
  NvidiaPlugin plugin(tree_.paths(), without_nvml());
  plugin.discover();
  tree_.remove("dev/nvidia0");
  auto changed = plugin.check_health();
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].id, kUuid0);
  EXPECT_THAT(changed[0].health.reason, HasSubstr("nvidia0 is missing"));
  tree_.write("dev/nvidia0");
  EXPECT_TRUE(plugin.check_health().at(0).health.ok());

  tree_.remove("proc/driver/nvidia/gpus/0000:00:07.0");
  changed = plugin.check_health();
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_THAT(changed[0].health.reason, HasSubstr("no longer listed"));

  tree_.remove("dev/nvidiactl");
  changed = plugin.check_health();
  ASSERT_EQ(changed.size(), 1u);  // the vanished GPU keeps its first reason
  EXPECT_THAT(plugin.devices()[0].health.reason, HasSubstr("nvidiactl is missing"));
}

TEST_F(NvidiaProcfsTest, ANodeWithoutDriverInformationIsKnownByItsMinor) {
  tree_.write("dev/nvidia5");
  NvidiaPlugin plugin(tree_.paths(), without_nvml());
  auto devices = plugin.discover();
  ASSERT_EQ(devices.size(), 3u);
  EXPECT_EQ(devices[2].id, "nvidia5");
  EXPECT_EQ(devices[2].model, "NVIDIA GPU");
  auto result = plugin.allocate(1, {"nvidia5"});
  ASSERT_TRUE(result);
  EXPECT_EQ(result.allocation->env.at("CUDA_VISIBLE_DEVICES"), "5");
}

TEST(NvidiaPlugin, PrefersGpusBehindOneSwitchThenOneHostBridge) {
  test::FakeTree tree;
  tree.add_nvidia_control();
  tree.add_nvidia_gpu({0, "GPU-0", "m", "0000:18:00.0", 0, {"0000:00:01.0", "0000:17:00.0"}});
  tree.add_nvidia_gpu({1, "GPU-1", "m", "0000:38:00.0", 0, {"0000:00:02.0"}});
  tree.add_nvidia_gpu({2, "GPU-2", "m", "0000:19:00.0", 0, {"0000:00:01.0", "0000:17:00.0"}});
  tree.add_nvidia_gpu({3, "GPU-3", "m", "0000:98:00.0", 1, {"0000:80:01.0"}, "pci0000:80"});
  NvidiaPlugin plugin(tree.paths(), without_nvml());
  plugin.discover();
  std::set<std::string> all = {"GPU-0", "GPU-1", "GPU-2", "GPU-3"};
  EXPECT_EQ(plugin.allocate(2, all).allocation->device_ids,
            (std::vector<std::string>{"GPU-0", "GPU-2"}));
  EXPECT_EQ(plugin.allocate(2, {"GPU-1", "GPU-2", "GPU-3"}).allocation->device_ids,
            (std::vector<std::string>{"GPU-1", "GPU-2"}));
  EXPECT_EQ(plugin.devices()[0].attributes.at("peers"), "1:PHB 2:PXB 3:SYS");  // from sysfs
  // A single GPU comes from the NUMA node with the fewest free, leaving node 0's three together.
  EXPECT_EQ(plugin.allocate(1, all).allocation->device_ids, std::vector<std::string>{"GPU-3"});
}

}  // namespace
}  // namespace duet::deviceplugin
