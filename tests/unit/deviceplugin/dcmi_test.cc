// The ascend plugin on top of DCMI: a fake libdcmi.so loaded through dlopen.
#include <gmock/gmock.h>

#include "deviceplugin/ascend/ascend_plugin.h"
#include "fake_libraries.h"
#include "support/fake_tree.h"

namespace duet::deviceplugin {
namespace {

using testing::HasSubstr;

class DcmiTest : public testing::Test {
 protected:
  DcmiTest() {
    tree_.add_ascend(8);
    dcmi_.call("fake_dcmi_configure", 8, "910B3");
    // Logical ids differ from physical ones, as inside a container or after a renumbering.
    for (int phys = 0; phys < 8; ++phys) dcmi_.call("fake_dcmi_set_logical", phys, 7 - phys);
    options_.dcmi_libraries = {"/nonexistent/libdcmi.so", FAKE_DCMI_PATH};
  }

  test::FakeTree tree_;
  test::FakeVendorLibrary dcmi_{FAKE_DCMI_PATH};
  AscendOptions options_;
};

TEST_F(DcmiTest, DescribesChipsFromDcmi) {
  AscendPlugin plugin(tree_.paths(), options_);
  tree_.write("sys/bus/pci/devices/0000:c3:00.0/numa_node", "1\n");
  auto devices = plugin.discover();
  EXPECT_EQ(plugin.source().name, "dcmi");
  EXPECT_EQ(plugin.source().detail, FAKE_DCMI_PATH);
  ASSERT_EQ(devices.size(), 8u);
  const auto& d = devices[2];
  EXPECT_EQ(d.id, "2");
  EXPECT_EQ(d.logical_id, 5);
  EXPECT_EQ(d.model, "Ascend910B3");
  EXPECT_EQ(d.memory_bytes, 64ull << 30);
  EXPECT_EQ(d.pci_bus_id, "0000:c3:00.0");
  EXPECT_EQ(d.numa_node, 1);
  EXPECT_TRUE(d.health.ok());
}

TEST_F(DcmiTest, EnvCarriesLogicalAndPhysicalIds) {
  AscendPlugin plugin(tree_.paths(), options_);
  plugin.discover();
  auto result = plugin.allocate(2, {"0", "1", "2", "3", "4", "5", "6", "7"});
  ASSERT_TRUE(result) << result.reason;
  EXPECT_EQ(result.allocation->device_ids, (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(result.allocation->env.at("ASCEND_VISIBLE_DEVICES"), "0,1");
  EXPECT_EQ(result.allocation->env.at("ASCEND_RT_VISIBLE_DEVICES"), "7,6");
  // DCMI says 910: three is not a valid size.
  EXPECT_THAT(plugin.allocate(3, {"0", "1", "2", "3"}).reason, HasSubstr("1, 2, 4 or 8"));
}

TEST_F(DcmiTest, HealthFollowsDcmi) {
  AscendPlugin plugin(tree_.paths(), options_);
  plugin.discover();
  dcmi_.call("fake_dcmi_set_health", 5, 3u);
  auto changed = plugin.check_health();
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].id, "5");
  EXPECT_FALSE(changed[0].health.ok());
  EXPECT_THAT(changed[0].health.reason, HasSubstr("critical alarm"));

  dcmi_.call("fake_dcmi_set_health", 5, 1u);  // a minor alarm: usable, but worth showing
  changed = plugin.check_health();
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_TRUE(changed[0].health.ok());
  EXPECT_THAT(changed[0].health.reason, HasSubstr("minor alarm"));

  dcmi_.call("fake_dcmi_set_health", 5, 0u);
  changed = plugin.check_health();
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].health, DeviceHealth::healthy());
}

TEST_F(DcmiTest, ANodeDcmiDoesNotReportIsUnhealthy) {
  tree_.write("dev/davinci9");
  AscendPlugin plugin(tree_.paths(), options_);
  auto devices = plugin.discover();
  ASSERT_EQ(devices.size(), 9u);
  EXPECT_EQ(devices[8].id, "9");
  EXPECT_EQ(devices[8].health, DeviceHealth::unhealthy("not reported by DCMI"));
}

TEST_F(DcmiTest, AFailingInitFallsBackToDevfs) {
  dcmi_.call("fake_dcmi_set_init_result", -8005);
  AscendPlugin plugin(tree_.paths(), options_);
  testing::internal::CaptureStderr();
  auto devices = plugin.discover();
  std::string log = testing::internal::GetCapturedStderr();
  EXPECT_EQ(devices.size(), 8u);
  EXPECT_EQ(plugin.source().name, "devfs");
  EXPECT_THAT(plugin.source().detail, HasSubstr("dcmi_init returned -8005"));
  EXPECT_THAT(log, HasSubstr("event=vendor_library_unavailable"));
  EXPECT_THAT(log, HasSubstr("dcmi_init returned -8005"));
}

}  // namespace
}  // namespace duet::deviceplugin
