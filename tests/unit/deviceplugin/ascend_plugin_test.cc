#include "deviceplugin/ascend/ascend_plugin.h"

#include <gmock/gmock.h>

#include "support/fake_tree.h"

namespace duet::deviceplugin {
namespace {

using testing::HasSubstr;

std::set<std::string> ids(std::initializer_list<int> list) {
  std::set<std::string> out;
  for (int i : list) out.insert(std::to_string(i));
  return out;
}

const std::set<std::string> kAll = ids({0, 1, 2, 3, 4, 5, 6, 7});

AscendOptions without_dcmi(std::string chip = "") {
  AscendOptions o;
  o.dcmi_libraries = {"/nonexistent/libdcmi.so"};
  o.chip_hint = std::move(chip);
  return o;
}

class AscendPluginTest : public testing::Test {
 protected:
  AscendPluginTest() { tree_.add_ascend(8); }

  test::FakeTree tree_;
};

TEST_F(AscendPluginTest, DiscoversDavinciNodesFromDevfsWhenDcmiIsMissing) {
  AscendPlugin plugin(tree_.paths(), without_dcmi());
  testing::internal::CaptureStderr();
  auto devices = plugin.discover();
  plugin.check_health();
  std::string log = testing::internal::GetCapturedStderr();

  ASSERT_EQ(devices.size(), 8u);
  for (int i = 0; i < 8; ++i) {
    const auto& d = devices[i];
    EXPECT_EQ(d.kind, "ascend");
    EXPECT_EQ(d.id, std::to_string(i));
    EXPECT_EQ(d.index, i);
    EXPECT_EQ(d.logical_id, i);
    EXPECT_EQ(d.model, "Ascend NPU");
    EXPECT_TRUE(d.health.ok()) << d.health.reason;
    EXPECT_EQ(d.device_nodes,
              std::vector<std::string>{tree_.path("dev/davinci" + std::to_string(i))});
  }
  EXPECT_EQ(plugin.source().name, "devfs");
  EXPECT_THAT(plugin.source().detail, HasSubstr("/nonexistent/libdcmi.so"));
  // One clear line, once, loud because NPUs are present.
  EXPECT_THAT(log, HasSubstr("level=warn component=deviceplugin event=vendor_library_unavailable "
                             "library=/nonexistent/libdcmi.so error="));
  EXPECT_THAT(log, HasSubstr("fallback=" + tree_.path("dev")));
  EXPECT_EQ(log.find("vendor_library_unavailable"), log.rfind("vendor_library_unavailable"));
}

TEST_F(AscendPluginTest, ANodeThatDisappearsTurnsUnhealthyAndRecovers) {
  AscendPlugin plugin(tree_.paths(), without_dcmi());
  plugin.discover();
  tree_.remove("dev/davinci3");
  auto changed = plugin.check_health();
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].id, "3");
  EXPECT_FALSE(changed[0].health.ok());
  EXPECT_THAT(changed[0].health.reason, HasSubstr("davinci3 is missing"));
  EXPECT_TRUE(plugin.check_health().empty());  // reported once
  EXPECT_EQ(plugin.devices().size(), 8u);      // still listed

  tree_.write("dev/davinci3");
  changed = plugin.check_health();
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_TRUE(changed[0].health.ok());
}

TEST_F(AscendPluginTest, AMissingControlNodeMakesEveryDeviceUnhealthy) {
  AscendPlugin plugin(tree_.paths(), without_dcmi());
  plugin.discover();
  tree_.remove("dev/davinci_manager");
  auto changed = plugin.check_health();
  ASSERT_EQ(changed.size(), 8u);
  for (const auto& d : changed) {
    EXPECT_FALSE(d.health.ok());
    EXPECT_THAT(d.health.reason,
                HasSubstr("control node " + tree_.path("dev/davinci_manager") + " is missing"));
  }
  auto refused = plugin.allocate(1, kAll);
  EXPECT_FALSE(refused);
  EXPECT_EQ(refused.reason, "insufficient ascend devices: need 1, free 0");

  tree_.write("dev/davinci_manager");
  EXPECT_EQ(plugin.check_health().size(), 8u);
  for (const auto& d : plugin.devices()) EXPECT_TRUE(d.health.ok());
}

TEST_F(AscendPluginTest, AllocationGivesEnvAndDeviceNodes) {
  AscendPlugin plugin(tree_.paths(), without_dcmi("910B"));
  plugin.discover();
  auto result = plugin.allocate(2, ids({2, 3, 4, 5, 6, 7}));
  ASSERT_TRUE(result) << result.reason;
  const auto& a = *result.allocation;
  EXPECT_EQ(a.device_ids, (std::vector<std::string>{"2", "3"}));  // the ring with 2 free
  EXPECT_EQ(a.env.at("ASCEND_RT_VISIBLE_DEVICES"), "2,3");
  EXPECT_EQ(a.env.at("ASCEND_VISIBLE_DEVICES"), "2,3");
  EXPECT_EQ(a.env.size(), 2u);
  std::vector<std::string> nodes = {tree_.path("dev/davinci2"), tree_.path("dev/davinci3"),
                                    tree_.path("dev/davinci_manager"), tree_.path("dev/devmm_svm"),
                                    tree_.path("dev/hisi_hdc")};
  std::sort(nodes.begin(), nodes.end());
  EXPECT_EQ(a.device_nodes, nodes);
  EXPECT_TRUE(a.cpus.empty());
}

TEST_F(AscendPluginTest, The910RulesApplyOnlyToA910) {
  AscendPlugin ascend910(tree_.paths(), without_dcmi("910B"));
  ascend910.discover();
  auto refused = ascend910.allocate(3, kAll);
  EXPECT_FALSE(refused);
  EXPECT_THAT(refused.reason, HasSubstr("1, 2, 4 or 8"));

  AscendPlugin unknown(tree_.paths(), without_dcmi());
  unknown.discover();
  auto three = unknown.allocate(3, kAll);
  ASSERT_TRUE(three) << three.reason;
  EXPECT_EQ(three.allocation->device_ids, (std::vector<std::string>{"0", "1", "2"}));
}

TEST_F(AscendPluginTest, SkipsUnhealthyAndTakenDevices) {
  AscendPlugin plugin(tree_.paths(), without_dcmi("910"));
  plugin.discover();
  tree_.remove("dev/davinci0");
  plugin.check_health();
  // Ring 0 has 1, 2, 3 healthy and free: a single goes there, not to the whole ring 1.
  auto one = plugin.allocate(1, kAll);
  ASSERT_TRUE(one) << one.reason;
  EXPECT_EQ(one.allocation->device_ids, std::vector<std::string>{"1"});
  auto none = plugin.allocate(2, {});
  EXPECT_EQ(none.reason, "insufficient ascend devices: need 2, free 0");
  auto zero = plugin.allocate(0, {});
  ASSERT_TRUE(zero);
  EXPECT_TRUE(zero.allocation->device_ids.empty());
  EXPECT_TRUE(zero.allocation->env.empty());
}

TEST(AscendPlugin, NoDavinciNodesIsZeroDevicesNotAnError) {
  test::FakeTree tree;
  AscendPlugin plugin(tree.paths(), without_dcmi());
  testing::internal::CaptureStderr();
  EXPECT_TRUE(plugin.discover().empty());
  std::string log = testing::internal::GetCapturedStderr();
  // Quiet on a host without NPUs: info, not warn.
  EXPECT_THAT(log, HasSubstr("level=info component=deviceplugin event=vendor_library_unavailable"));
  EXPECT_EQ(plugin.allocate(1, {}).reason, "insufficient ascend devices: need 1, free 0");
}

}  // namespace
}  // namespace duet::deviceplugin
