// The nvidia plugin on top of NVML: a fake libnvidia-ml loaded through dlopen.
#include <gmock/gmock.h>

#include "deviceplugin/nvidia/nvidia_plugin.h"
#include "fake_libraries.h"
#include "support/fake_tree.h"

namespace duet::deviceplugin {
namespace {

using testing::HasSubstr;

std::string uuid(int i) { return "GPU-fake-" + std::to_string(i); }

class NvmlTest : public testing::Test {
 protected:
  NvmlTest() {
    nvml_.call("fake_nvml_configure", 4);
    tree_.add_nvidia_control();
    for (int i = 0; i < 4; ++i) tree_.write("dev/nvidia" + std::to_string(i));
    options_.nvml_libraries = {FAKE_NVML_PATH};
  }

  std::set<std::string> all() const { return {uuid(0), uuid(1), uuid(2), uuid(3)}; }

  test::FakeTree tree_;
  test::FakeVendorLibrary nvml_{FAKE_NVML_PATH};
  NvidiaOptions options_;
};

TEST_F(NvmlTest, DescribesGpusFromNvml) {
  NvidiaPlugin plugin(tree_.paths(), options_);
  auto devices = plugin.discover();
  EXPECT_EQ(plugin.source().name, "nvml");
  EXPECT_EQ(plugin.source().detail, FAKE_NVML_PATH);
  ASSERT_EQ(devices.size(), 4u);
  const auto& d = devices[1];
  EXPECT_EQ(d.id, uuid(1));
  EXPECT_EQ(d.index, 1);
  EXPECT_EQ(d.model, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(d.memory_bytes, 80ull << 30);
  EXPECT_EQ(d.pci_bus_id, "0000:19:00.0");  // NVML's 8-digit domain, normalized
  EXPECT_EQ(d.attributes.at("utilization"), "42%");
  EXPECT_TRUE(d.health.ok()) << d.health.reason;
  EXPECT_EQ(nvml_.call<int>("fake_nvml_registered"), 4);
  plugin.check_health();
  EXPECT_EQ(nvml_.call<int>("fake_nvml_registered"), 4);  // once per GPU
}

TEST_F(NvmlTest, ACriticalXidMarksTheGpuAndApplicationXidsAreIgnored) {
  NvidiaPlugin plugin(tree_.paths(), options_);
  plugin.discover();
  nvml_.call("fake_nvml_push_xid", 2, 13ull);  // the application's fault, not the GPU's
  nvml_.call("fake_nvml_push_xid", 1, 79ull);  // fallen off the bus
  testing::internal::CaptureStderr();
  auto changed = plugin.check_health();
  std::string log = testing::internal::GetCapturedStderr();
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].id, uuid(1));
  EXPECT_FALSE(changed[0].health.ok());
  EXPECT_THAT(changed[0].health.reason, HasSubstr("XID 79"));
  EXPECT_THAT(log, HasSubstr("event=gpu_xid uuid=GPU-fake-2 xid=13 ignored=true"));
  EXPECT_THAT(log, HasSubstr("event=gpu_xid uuid=GPU-fake-1 xid=79 ignored=false"));
  EXPECT_TRUE(plugin.check_health().empty());  // sticky, reported once
  EXPECT_FALSE(plugin.devices()[1].health.ok());

  auto result = plugin.allocate(4, all());
  EXPECT_EQ(result.reason, "insufficient nvidia devices: need 4, free 3");
}

TEST_F(NvmlTest, AGpuResetClearsItsXid) {
  NvidiaPlugin plugin(tree_.paths(), options_);
  plugin.discover();
  nvml_.call("fake_nvml_push_xid", 0, 48ull);
  plugin.check_health();
  nvml_.call("fake_nvml_set_lost", 0, 1);
  auto changed = plugin.check_health();
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_THAT(changed[0].health.reason, HasSubstr("GPU is lost"));
  nvml_.call("fake_nvml_set_lost", 0, 0);
  changed = plugin.check_health();
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_TRUE(changed[0].health.ok()) << changed[0].health.reason;
}

TEST_F(NvmlTest, AnXidOnAnUnknownGpuMarksThemAll) {
  NvidiaPlugin plugin(tree_.paths(), options_);
  plugin.discover();
  nvml_.call("fake_nvml_push_xid", -1, 79ull);
  EXPECT_EQ(plugin.check_health().size(), 4u);
  for (const auto& d : plugin.devices()) EXPECT_THAT(d.health.reason, HasSubstr("unidentified"));
}

TEST_F(NvmlTest, ConfigurableIgnoredXids) {
  options_.ignored_xids = {79};
  NvidiaPlugin plugin(tree_.paths(), options_);
  plugin.discover();
  nvml_.call("fake_nvml_push_xid", 1, 79ull);
  EXPECT_TRUE(plugin.check_health().empty());
}

TEST_F(NvmlTest, NvLinkBeatsASharedPcieSwitch) {
  // PCIe pairs 0-1 and 2-3 (fake topology); NVLink joins 0 and 3.
  nvml_.call("fake_nvml_set_nvlink_group", 0, 7);
  nvml_.call("fake_nvml_set_nvlink_group", 3, 7);
  NvidiaPlugin plugin(tree_.paths(), options_);
  plugin.discover();
  EXPECT_EQ(plugin.devices()[0].attributes.at("nvlinks"), "4");
  // Each GPU's links in nvidia-smi topo -m words, by index: 0-1 share a switch, 0-3 NVLink.
  EXPECT_EQ(plugin.devices()[0].attributes.at("peers"), "1:PIX 2:SYS 3:NV");
  EXPECT_EQ(plugin.devices()[2].attributes.at("peers"), "0:SYS 1:SYS 3:PIX");
  EXPECT_EQ(plugin.allocate(2, all()).allocation->device_ids,
            (std::vector<std::string>{uuid(0), uuid(3)}));
  EXPECT_EQ(plugin.allocate(2, {uuid(1), uuid(2), uuid(3)}).allocation->device_ids,
            (std::vector<std::string>{uuid(2), uuid(3)}));
  auto a = plugin.allocate(2, all());
  EXPECT_EQ(a.allocation->env.at("CUDA_VISIBLE_DEVICES"), uuid(0) + "," + uuid(3));
}

TEST_F(NvmlTest, AFailingInitFallsBackToProcfs) {
  nvml_.call("fake_nvml_set_init_result", 9);
  NvidiaPlugin plugin(tree_.paths(), options_);
  testing::internal::CaptureStderr();
  auto devices = plugin.discover();
  std::string log = testing::internal::GetCapturedStderr();
  EXPECT_EQ(plugin.source().name, "procfs");
  EXPECT_THAT(plugin.source().detail, HasSubstr("nvmlInit_v2: Driver Not Loaded"));
  EXPECT_THAT(log, HasSubstr("nvmlInit_v2: Driver Not Loaded"));
  // Nodes without /proc information still show up, known by minor number.
  EXPECT_EQ(devices.size(), 4u);
}

}  // namespace
}  // namespace duet::deviceplugin
